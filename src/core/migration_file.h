// Migration files: `migrations/versions/<rev>_<slug>.sql` (design.md §2).
//
//   -- revision: 0003
//   -- down_revision: 0002          (empty: a base; comma list: a merge)
//   -- branch_labels: ...           (optional)
//   -- depends_on: ...              (optional)
//   -- create_date: 2024-01-01T00:00:00
//   -- message: Add updated_at triggers
//
//   -- migrate:upgrade [transaction:false] [env:NAME | env:!NAME]
//   ...SQL...
//   -- migrate:downgrade
//   ...SQL...
#ifndef SCHEMAGATE_CORE_MIGRATION_FILE_H_
#define SCHEMAGATE_CORE_MIGRATION_FILE_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/sql_lexer.h"
#include "core/status.h"

namespace schemagate {

enum class Direction { kUpgrade, kDowngrade };
const char* DirectionName(Direction direction);  // "upgrade" / "downgrade"

// The graph-relevant part of a migration: what Alembic keeps in a script's
// module-level identifiers.
struct Revision {
  std::string id;
  std::vector<std::string> down_revisions;  // versioned parents; >1 = merge
  std::vector<std::string> branch_labels;
  std::vector<std::string> depends_on;      // ids, id prefixes or labels, unresolved
  std::string create_date;
  std::string message;
  std::string path;                         // the file it came from, for messages
};

struct Section {
  Direction direction = Direction::kUpgrade;
  bool transactional = true;  // false: `transaction:false`
  std::string env;            // "" = every environment
  bool env_negated = false;   // `env:!NAME`: every environment but NAME
  int line = 0;               // line of the `-- migrate:` marker
  std::vector<SqlStatement> statements;  // filled by SplitSections
  std::string body;           // the SQL text until SplitSections runs
  int body_line = 0;          // line of the body's first character

  // True when this section runs in `environment`.
  bool AppliesTo(std::string_view environment) const;
};

struct MigrationFile {
  Revision revision;
  std::vector<Section> sections;
  std::string checksum;  // hex SHA-256 of the sections (header excluded)
  bool split = false;    // statements split and checked (SplitSections)

  // The sections of `direction` that run in `environment`, in file order.
  std::vector<const Section*> SectionsFor(Direction direction,
                                          std::string_view environment) const;
  bool HasDirection(Direction direction) const;
};

// Validates a revision id: 1..32 characters, none of `@ - + :`, whitespace,
// quotes, backslash or comma. Returns "" when valid, else why not.
std::string InvalidRevisionIdReason(std::string_view id);

// Parses one file. `path` is used only in messages ("path:line: ...").
// Every error is kValidation and names the file and line. With `split`
// false only the header, the section markers and the checksum are read —
// all the no-op `upgrade head` of a pod start needs; SplitSections does the
// rest (statement splitting and the checks on each statement) later.
Result<MigrationFile> ParseMigrationFile(const std::string& path, std::string_view content, bool split = true);

// Splits and checks the sections' statements once; a no-op when done.
Status SplitSections(MigrationFile* file);

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_MIGRATION_FILE_H_
