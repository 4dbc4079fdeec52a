// Shared fixture for tests that run the real schemagate binary against a
// real PostgreSQL: a fresh database per test and helpers to run and query.
#ifndef SCHEMAGATE_TESTS_INTEGRATION_RUNNER_FIXTURE_H_
#define SCHEMAGATE_TESTS_INTEGRATION_RUNNER_FIXTURE_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/pg_server.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace schemagate::testing {

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override;

  // Runs `schemagate ARGS --url <this test's database>` in `cwd_` (the source
  // tree by default, so ./schemagate.yaml and the bundled migrations apply).
  RunResult Sg(std::vector<std::string> args, const std::map<std::string, std::string>& env = {});
  // The same without adding --url.
  RunResult SgRaw(std::vector<std::string> args, const std::map<std::string, std::string>& env = {});
  // psql -At against this test's database; fails the test on error.
  std::string Q(const std::string& sql);

  // A copy of the bundled migrations in a temp dir, with its own
  // schemagate.yaml; tests add or edit files there. Returns the directory
  // that holds versions/.
  std::string CopyBundledMigrations();
  void WriteMigration(const std::string& name, const std::string& content);

  // A stable description of the user schema (tables, columns, indexes,
  // constraints, triggers, functions), read from the catalog, excluding
  // schemagate's own tables.
  std::string CatalogSnapshot(const std::string& url = "");

  std::string url_;
  std::string cwd_;
  std::unique_ptr<TempDir> tmp_;
  std::string script_location_;  // set by CopyBundledMigrations
};

}  // namespace schemagate::testing

#endif  // SCHEMAGATE_TESTS_INTEGRATION_RUNNER_FIXTURE_H_
