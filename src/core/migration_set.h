// Loading a whole `versions/` directory.
#ifndef SCHEMAGATE_CORE_MIGRATION_SET_H_
#define SCHEMAGATE_CORE_MIGRATION_SET_H_

#include <map>
#include <string>
#include <vector>

#include "core/migration_file.h"
#include "core/status.h"

namespace schemagate {

// Reads every `*.sql` file directly under `versions_dir` (sorted by name) and
// parses it. Symlinks that resolve outside the directory, unreadable files and
// parse errors fail with kValidation naming the file. A missing directory is
// kUsage (a configuration problem).
Result<std::vector<MigrationFile>> LoadMigrationFiles(const std::string& versions_dir);

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_MIGRATION_SET_H_
