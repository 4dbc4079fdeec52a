// Lint over arbitrary migration files: PostgreSQL's parser accepts far more
// shapes of statement than any test writes, and every rule walks its trees.
// Nothing may crash; every finding names a known rule, a line of the file
// and a column; the JSON renders.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "lint/lint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace schemagate;
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  // Lines as the statement splitter counts them: LF, CRLF or a lone CR.
  int lines = 1;
  for (size_t i = 0; i < content.size(); ++i) {
    if (content[i] == '\n' || (content[i] == '\r' && (i + 1 == content.size() || content[i + 1] != '\n'))) ++lines;
  }

  auto file = ParseMigrationFile("fuzz.sql", content, /*split=*/true);
  if (!file.ok()) return 0;
  LintHistory history;
  for (const char* environment : {"production", "development"}) {
    LintOptions options;
    options.environment = environment;
    auto result = LintMigration(*file, content, options, &history);
    FUZZ_CHECK(result.ok());  // the parser is installed where the fuzzer runs
    LintReport report;
    for (const LintFinding& f : result->findings) {
      FUZZ_CHECK(FindLintRule(f.rule) != nullptr);
      FUZZ_CHECK(f.line >= 1 && f.line <= lines + 1);
      FUZZ_CHECK(f.column >= 1);
      FUZZ_CHECK(!f.message.empty());
      report.findings.push_back(f);
    }
    for (const LintStatement& s : result->statements) {
      FUZZ_CHECK(!s.command.empty() && !s.locks.empty());
      report.statements.push_back(s);
    }
    FUZZ_CHECK(!RenderLintJson(report).empty());
  }
  auto syntax = CheckMigrationSyntax(*file, content);
  FUZZ_CHECK(syntax.ok());
  return 0;
}
