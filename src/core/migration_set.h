// A loaded migrations directory: every file parsed, and the graph over them.
#ifndef SCHEMAGATE_CORE_MIGRATION_SET_H_
#define SCHEMAGATE_CORE_MIGRATION_SET_H_

#include <map>
#include <string>
#include <vector>

#include "core/migration_file.h"
#include "core/revision_graph.h"
#include "core/status.h"

namespace schemagate {

// Reads every `*.sql` file directly under `versions_dir` (sorted by name) and
// parses it. A symlink that resolves outside the directory, an unreadable
// file or a parse error fails with kValidation naming the file. A missing
// directory is kUsage (a configuration problem).
Result<std::vector<MigrationFile>> LoadMigrationFiles(const std::string& versions_dir, bool split = true);

class MigrationSet {
 public:
  // Loads `<script_location>/versions` and builds the graph. With `split`
  // false statements are split later, by SplitAll (see ParseMigrationFile).
  static Result<MigrationSet> Load(const std::string& script_location, bool split = true);
  // Splits and checks every file's statements (once).
  Status SplitAll();
  bool split() const { return split_; }
  static Result<MigrationSet> FromFiles(std::vector<MigrationFile> files);

  const RevisionGraph& graph() const { return graph_; }
  const std::vector<MigrationFile>& files() const { return files_; }
  // The file of revision `id`; nullptr when absent.
  const MigrationFile* Find(const std::string& id) const;

  // Refuses checksum drift: for every revision applied under `current_heads`
  // whose recorded checksum (from schemagate_log; "" = unknown, skipped)
  // differs from its file's, kValidation naming the revision and file.
  Status CheckChecksums(const std::vector<std::string>& current_heads,
                        const std::map<std::string, std::string>& recorded) const;

 private:
  std::vector<MigrationFile> files_;
  std::map<std::string, size_t, std::less<>> index_;
  RevisionGraph graph_;
  bool split_ = true;
};

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_MIGRATION_SET_H_
