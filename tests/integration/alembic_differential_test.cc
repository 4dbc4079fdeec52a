// The differential suite, tests/differential/alembic_differential.py:
// schemagate and Alembic 1.8 (Debian's python3-alembic, driven in-process
// through its command-line code) on the same revision graphs, on this test
// binary's PostgreSQL. The script runs and compares every case and keeps
// the lists of known and deliberate differences; this test runs it.
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>

#include "support/pg_server.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace schemagate::testing {
namespace {

TEST(AlembicDifferentialTest, EveryCaseAgreesWithAlembicOrIsAListedDifference) {
  const std::string url = PgServer::Shared().CreateDatabase("differential");
  TempDir work;
  RunOptions opts;
  opts.timeout = std::chrono::minutes(10);
  RunResult r = RunProcess({"/usr/bin/python3", SourceDir() + "/tests/differential/alembic_differential.py",
                            "--schemagate", SchemagateBinary(), "--url", url, "--work", work.path()},
                           opts);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // The last line: "N cases (...) in S s (...): N agree, ...".
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"((\d+) cases \(.*\n?$)"))) << r.out << r.err;
  EXPECT_GE(std::stoi(m[1].str()), 200) << m[0];
  std::printf("%s", m[0].str().c_str());
}

}  // namespace
}  // namespace schemagate::testing
