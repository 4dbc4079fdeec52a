#include "core/migration_set.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace schemagate {

namespace fs = std::filesystem;

namespace {

// Reads a whole file opened relative to `dir_fd` into `buffer` (reused
// across files, it only grows) and returns a view of its bytes. A pod start
// reads every file, so there is no stat: the entry's type came from the
// directory listing. Reads until end of file, never trusting a short read
// (network file systems return them), so a file is never cut short.
// O_NONBLOCK keeps a FIFO swapped in after the listing from blocking us.
Result<std::string_view> ReadFileAt(int dir_fd, const std::string& name, const std::string& shown,
                                    std::vector<char>* buffer) {
  int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) return Status::Validation(shown + ": cannot open for reading: " + std::strerror(errno));
  if (buffer->size() < 16384) buffer->resize(16384);
  size_t got = 0;
  while (true) {
    if (got == buffer->size()) buffer->resize(buffer->size() * 2);
    ssize_t n = ::read(fd, buffer->data() + got, buffer->size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::Validation(shown + ": cannot read: " + std::strerror(err));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  return std::string_view(buffer->data(), got);
}

}  // namespace

Result<std::vector<MigrationFile>> LoadMigrationFiles(const std::string& versions_dir, bool split) {
  std::error_code ec;
  if (!fs::is_directory(versions_dir, ec)) {
    return Status::Usage("migrations directory '" + versions_dir +
                         "' does not exist; run 'schemagate init' or set script_location in "
                         "schemagate.yaml");
  }
  fs::path root = fs::canonical(versions_dir, ec);
  if (ec) return Status::Runtime("cannot read '" + versions_dir + "': " + ec.message());
  const std::string root_prefix = root.string() + "/";

  struct Entry {
    std::string name;
    fs::file_type type;
  };
  std::vector<Entry> entries;
  for (fs::directory_iterator it(versions_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".sql") != 0) continue;
    // The type comes from the directory listing itself: no stat per file.
    std::error_code type_ec;
    fs::file_type type = it->is_symlink(type_ec)        ? fs::file_type::symlink
                         : it->is_regular_file(type_ec) ? fs::file_type::regular
                                                        : fs::file_type::unknown;
    entries.push_back({std::move(name), type_ec ? fs::file_type::unknown : type});
  }
  if (ec) return Status::Runtime("cannot list '" + versions_dir + "': " + ec.message());
  // Names, not paths: path comparison walks components and costs 10x more.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });

  int dir_fd = ::open(versions_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return Status::Runtime("cannot open '" + versions_dir + "': " + std::strerror(errno));
  struct DirCloser {
    int fd;
    ~DirCloser() { ::close(fd); }
  } dir_closer{dir_fd};

  const std::string dir = (fs::path(versions_dir) / "").string();
  std::vector<MigrationFile> files;
  files.reserve(entries.size());
  std::vector<char> buffer;
  for (const Entry& e : entries) {
    const std::string shown = dir + e.name;
    int at_fd = dir_fd;
    std::string open_name = e.name;
    if (e.type == fs::file_type::symlink) {
      // Inside the directory is fine (ConfigMap mounts link into ..data/).
      fs::path real = fs::canonical(shown, ec);
      if (ec) return Status::Validation(shown + ": cannot resolve the link: " + ec.message());
      open_name = real.string();
      if (open_name.compare(0, root_prefix.size(), root_prefix) != 0) {
        return Status::Validation(shown + ": is a link to '" + open_name +
                                  "', outside the migrations directory; copy the file in instead");
      }
      if (!fs::is_regular_file(real, ec)) {
        return Status::Validation(shown + ": links to something that is not a regular file");
      }
      at_fd = AT_FDCWD;
    } else if (e.type != fs::file_type::regular) {
      return Status::Validation(shown + ": not a regular file");
    }
    auto content = ReadFileAt(at_fd, open_name, shown, &buffer);
    if (!content.ok()) return content.status();
    auto file = ParseMigrationFile(shown, *content, split);
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
