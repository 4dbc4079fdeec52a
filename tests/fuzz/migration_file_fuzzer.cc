// Migration files: ParseMigrationFile with split=true, and with split=false
// followed by SplitSections (the pod-start path). Both must agree.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/migration_file.h"
#include "fuzz_check.h"

namespace schemagate {
namespace {

bool SameStatements(const MigrationFile& a, const MigrationFile& b) {
  if (a.sections.size() != b.sections.size()) return false;
  for (size_t i = 0; i < a.sections.size(); ++i) {
    const Section& x = a.sections[i];
    const Section& y = b.sections[i];
    if (x.direction != y.direction || x.transactional != y.transactional || x.env != y.env ||
        x.env_negated != y.env_negated || x.line != y.line ||
        x.statements.size() != y.statements.size()) {
      return false;
    }
    for (size_t k = 0; k < x.statements.size(); ++k) {
      if (x.statements[k].text != y.statements[k].text ||
          x.statements[k].line != y.statements[k].line) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace
}  // namespace schemagate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace schemagate;
  const std::string_view content(reinterpret_cast<const char*>(data), size);

  Result<MigrationFile> eager = ParseMigrationFile("fuzz.sql", content, /*split=*/true);
  Result<MigrationFile> lazy = ParseMigrationFile("fuzz.sql", content, /*split=*/false);
  if (eager.ok()) FUZZ_CHECK(lazy.ok());
  if (!lazy.ok()) {
    FUZZ_CHECK(lazy.status().code() == Code::kValidation);
    FUZZ_CHECK(!eager.ok() && eager.status().message() == lazy.status().message());
    return 0;
  }
  FUZZ_CHECK(InvalidRevisionIdReason(lazy->revision.id).empty());

  MigrationFile file = std::move(lazy.value());
  const Status split = SplitSections(&file);
  FUZZ_CHECK(split.ok() == eager.ok());
  if (!split.ok()) {
    FUZZ_CHECK(split.code() == Code::kValidation);
    FUZZ_CHECK(split.message() == eager.status().message());
    return 0;
  }
  FUZZ_CHECK(file.split && SplitSections(&file).ok());  // the second call is a no-op
  FUZZ_CHECK(file.checksum == eager->checksum);
  FUZZ_CHECK(SameStatements(file, *eager));

  for (const Section& section : file.sections) {
    FUZZ_CHECK(section.body.empty());  // split sections keep statements only
    for (const SqlStatement& statement : section.statements) {
      FUZZ_CHECK(!statement.text.empty());
      FUZZ_CHECK(statement.line > section.line);  // a body starts below its marker
    }
    FUZZ_CHECK(
        !file.SectionsFor(section.direction, section.env_negated ? "" : section.env).empty());
  }
  return 0;
}
