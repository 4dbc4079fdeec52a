#include "cli/output.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "core/json_writer.h"

namespace schemagate::cli {
namespace {

std::shared_ptr<spdlog::logger> StderrLogger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_logger_mt("schemagate");
    l->set_pattern("%v");
    l->set_level(spdlog::level::info);
    return l;
  }();
  return logger;
}

std::string NowUtc() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];  // wide enough for any int the compiler can imagine here
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

Output::Output(Format results, const std::string& log_format, bool quiet)
    : results_(results), quiet_(quiet) {
  const bool tty = isatty(STDERR_FILENO) == 1;
  log_json_ = log_format == "json" || (log_format == "auto" && !tty);
  color_ = tty && !log_json_;
}

void Output::Log(const char* level, const std::string& message, const Fields& fields) const {
  if (log_json_) {
    JsonWriter w;
    w.BeginObject().Field("time", NowUtc()).Field("level", level).Field("msg", message);
    for (const auto& [k, v] : fields) w.Field(k, v);
    w.EndObject();
    StderrLogger()->info(w.str());
    return;
  }
  std::string line;
  if (std::string(level) != "info") {
    line = color_ ? (std::string(level) == "error" ? "\033[31m" : "\033[33m") + std::string(level) +
                        ":\033[0m "
                  : std::string(level) + ": ";
  }
  StderrLogger()->info(line + message);
}

void Output::Info(const std::string& message, const Fields& fields) const {
  if (!quiet_) Log("info", message, fields);
}

void Output::Warn(const std::string& message, const Fields& fields) const {
  Log("warning", message, fields);
}

void Output::Error(const Status& status) const {
  Fields fields{{"exit_code", std::to_string(status.exit_code())}, {"code", CodeName(status.code())}};
  const ErrorLocation& loc = status.location();
  if (!loc.revision.empty()) fields.emplace_back("revision", loc.revision);
  if (!loc.file.empty()) fields.emplace_back("file", loc.file + ":" + std::to_string(loc.line));
  if (!loc.sqlstate.empty()) fields.emplace_back("sqlstate", loc.sqlstate);
  Log("error", status.message(), fields);
}

void Output::Print(const std::string& text) const {
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (text.empty() || text.back() != '\n') std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace schemagate::cli
