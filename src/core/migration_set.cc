#include "core/migration_set.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace schemagate {

namespace fs = std::filesystem;

Result<std::vector<MigrationFile>> LoadMigrationFiles(const std::string& versions_dir, bool split) {
  std::error_code ec;
  if (!fs::is_directory(versions_dir, ec)) {
    return Status::Usage("migrations directory '" + versions_dir +
                         "' does not exist; run 'schemagate init' or set script_location in "
                         "schemagate.yaml");
  }
  fs::path root = fs::canonical(versions_dir, ec);
  if (ec) return Status::Runtime("cannot read '" + versions_dir + "': " + ec.message());

  std::vector<fs::path> paths;
  for (fs::directory_iterator it(versions_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() != ".sql") continue;
    paths.push_back(p);
  }
  if (ec) return Status::Runtime("cannot list '" + versions_dir + "': " + ec.message());
  std::sort(paths.begin(), paths.end());

  std::vector<MigrationFile> files;
  files.reserve(paths.size());
  for (const fs::path& p : paths) {
    const std::string shown = p.string();
    fs::path real = p;
    if (fs::is_symlink(p, ec)) {  // resolving costs a syscall per path part: only for links
      real = fs::canonical(p, ec);
      if (ec) return Status::Validation(shown + ": cannot resolve: " + ec.message());
    }
    // Inside the directory is fine (ConfigMap mounts link into ..data/).
    const std::string real_str = real.string(), root_str = root.string() + "/";
    if (real != p && real_str.compare(0, root_str.size(), root_str) != 0) {
      return Status::Validation(shown + ": is a link to '" + real.string() +
                                "', outside the migrations directory; copy the file in instead");
    }
    if (!fs::is_regular_file(real, ec)) {
      return Status::Validation(shown + ": not a regular file");
    }
    std::ifstream in(real, std::ios::binary);
    if (!in) return Status::Validation(shown + ": cannot open for reading");
    std::ostringstream text;
    text << in.rdbuf();
    auto file = ParseMigrationFile(shown, text.str(), split);
    if (!file.ok()) return file.status();
    files.push_back(std::move(file.value()));
  }
  return files;
}

Result<MigrationSet> MigrationSet::Load(const std::string& script_location, bool split) {
  auto files = LoadMigrationFiles((fs::path(script_location) / "versions").string(), split);
  if (!files.ok()) return files.status();
  auto set = FromFiles(std::move(files.value()));
  if (set.ok()) set->split_ = split;
  return set;
}

Status MigrationSet::SplitAll() {
  if (split_) return Status::Ok();
  for (MigrationFile& f : files_) SG_RETURN_IF_ERROR(SplitSections(&f));
  split_ = true;
  return Status::Ok();
}

Result<MigrationSet> MigrationSet::FromFiles(std::vector<MigrationFile> files) {
  MigrationSet set;
  std::vector<Revision> revisions;
  revisions.reserve(files.size());
  for (const MigrationFile& f : files) revisions.push_back(f.revision);
  auto graph = RevisionGraph::Build(std::move(revisions));
  if (!graph.ok()) return graph.status();
  set.graph_ = std::move(graph.value());
  set.files_ = std::move(files);
  set.split_ = std::all_of(set.files_.begin(), set.files_.end(), [](const MigrationFile& f) { return f.split; });
  for (size_t i = 0; i < set.files_.size(); ++i) set.index_[set.files_[i].revision.id] = i;
  return set;
}

const MigrationFile* MigrationSet::Find(const std::string& id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &files_[it->second];
}

Status MigrationSet::CheckChecksums(const std::vector<std::string>& current_heads,
                                    const std::map<std::string, std::string>& recorded) const {
  if (recorded.empty()) return Status::Ok();
  RevisionSet applied = graph_.Ancestors(current_heads, true);
  std::vector<std::string> drifted;
  std::string first_detail;
  for (const std::string& id : applied) {
    auto it = recorded.find(id);
    if (it == recorded.end() || it->second.empty()) continue;
    const MigrationFile* file = Find(id);
    if (file == nullptr || file->checksum == it->second) continue;
    drifted.push_back(id);
    if (first_detail.empty()) {
      first_detail = file->revision.path + " (applied sha256 " + it->second.substr(0, 12) +
                     ", file now " + file->checksum.substr(0, 12) + ")";
    }
  }
  if (drifted.empty()) return Status::Ok();
  std::string list;
  for (const std::string& id : drifted) list += (list.empty() ? "" : ", ") + id;
  return Status::Validation(
      "checksum drift: applied revision(s) " + list +
      " changed since they ran: " + first_detail +
      ". Applied migrations must not be edited; restore the file and add a new revision "
      "(or, if the edit is cosmetic and intended, re-record it with 'schemagate stamp "
      "--purge' to the current heads)");
}

}  // namespace schemagate
