// Temporary directories and small file helpers for tests.
#ifndef SCHEMAGATE_TESTS_SUPPORT_TEMP_DIR_H_
#define SCHEMAGATE_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>

namespace schemagate::testing {

// A fresh directory under the system temp dir, removed on destruction unless
// SCHEMAGATE_KEEP_TMP is set (to look at what a failing test left).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& content);
// The file's content, or "" when it cannot be read.
std::string ReadFile(const std::string& path);

}  // namespace schemagate::testing

#endif  // SCHEMAGATE_TESTS_SUPPORT_TEMP_DIR_H_
