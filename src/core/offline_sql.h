// `upgrade --sql` / `downgrade --sql`: the plan as a SQL script for a DBA to
// review and run with psql, with the same transaction structure and
// version-table writes as an online run.
#ifndef SCHEMAGATE_CORE_OFFLINE_SQL_H_
#define SCHEMAGATE_CORE_OFFLINE_SQL_H_

#include <string>

#include "core/migration_set.h"
#include "core/planner.h"
#include "core/status.h"

namespace schemagate {

struct OfflineOptions {
  std::string version_table = "alembic_version";
  std::string version_table_schema = "public";
  std::string environment;
  bool single_transaction = false;  // one BEGIN/COMMIT around everything
};

// kValidation when --single-transaction meets a transaction:false section.
Result<std::string> RenderOfflineSql(const Plan& plan, const MigrationSet& set,
                                     const OfflineOptions& options);

// One step as Alembic logs it, online and in the script's comments:
// "upgrade a, b -> c" (the revision's down_revisions; a base's are empty:
// "upgrade  -> a") or "downgrade c -> a, b".
std::string StepText(const Revision& r, Direction direction);

// "name" when it is a plain lower-case identifier, else "\"na\"\"me\"".
std::string QuoteIdent(const std::string& name);
// 'text' with quotes doubled.
std::string QuoteLiteral(const std::string& text);

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_OFFLINE_SQL_H_
