// What the CLI says: human lines and logs on stderr, results on stdout.
//
// Results (`current`, `history`, ...) go to stdout as text or, with
// `--output json`, as one JSON document. Progress and errors go to stderr
// through spdlog: plain lines on a terminal, JSON lines otherwise (or as
// `--log-format` says), so init-container logs are machine-readable.
#ifndef SCHEMAGATE_CLI_OUTPUT_H_
#define SCHEMAGATE_CLI_OUTPUT_H_

#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace schemagate::cli {

enum class Format { kText, kJson };

using Fields = std::vector<std::pair<std::string, std::string>>;

class Output {
 public:
  // `log_format`: "auto" (JSON unless stderr is a terminal), "text", "json".
  Output(Format results, const std::string& log_format, bool quiet);

  bool json() const { return results_ == Format::kJson; }

  // One event on stderr. In text mode only `message` is shown; in JSON mode
  // the fields are keys of the line too.
  void Info(const std::string& message, const Fields& fields = {}) const;
  void Warn(const std::string& message, const Fields& fields = {}) const;
  void Error(const Status& status) const;

  // A result on stdout (a line of text or a JSON document).
  void Print(const std::string& text) const;

 private:
  void Log(const char* level, const std::string& message, const Fields& fields) const;
  Format results_;
  bool log_json_;
  bool quiet_;
  bool color_;
};

}  // namespace schemagate::cli

#endif  // SCHEMAGATE_CLI_OUTPUT_H_
