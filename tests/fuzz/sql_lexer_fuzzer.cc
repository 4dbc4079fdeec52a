// The SQL splitter and the per-statement checks that SplitSections runs.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/sql_lexer.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace schemagate;
  const std::string_view sql(reinterpret_cast<const char*>(data), size);
  constexpr int kFirstLine = 7;  // as for a body that starts below a header

  Result<std::vector<SqlStatement>> statements = SplitStatements(sql, kFirstLine);
  if (!statements.ok()) {
    FUZZ_CHECK(statements.status().code() == Code::kValidation);
    FUZZ_CHECK(statements.status().message().rfind("line ", 0) == 0);
    return 0;
  }
  int previous_line = kFirstLine;
  for (const SqlStatement& statement : *statements) {
    FUZZ_CHECK(!statement.text.empty());
    FUZZ_CHECK(statement.line >= previous_line);
    FUZZ_CHECK(sql.find(statement.text) != std::string_view::npos);  // a slice of the input
    previous_line = statement.line;
    (void)UnsupportedStatementReason(statement);
    (void)NonTransactionalReason(statement);
  }
  return 0;
}
