// PostgreSQL's parser (libpg_query) is opened with dlopen by the commands
// that parse SQL (src/lint/pg_parser.cc), never at start-up: the pod start,
// a no-op `upgrade head` run by every pod's init container, must neither
// load nor initialise it. These tests watch the dynamic loader
// (LD_DEBUG=libs names every library it searches for and initialises).
#include <regex>
#include <string>
#include <vector>

#include "integration/runner_fixture.h"
#include "support/expect.h"

namespace schemagate::testing {
namespace {

// Any libpg_query soname: the test must not pass because the version moved.
constexpr const char* kParser = "libpg_query";

class ParserLoadingTest : public RunnerTest {
 protected:
  // ARGS against this test's database, the loader reporting on stderr.
  RunResult Traced(std::vector<std::string> args) {
    return Sg(std::move(args), {{"LD_DEBUG", "libs"}});
  }
};

TEST_F(ParserLoadingTest, PodStartCommandsNeverLoadTheParser) {
  struct Case {
    const char* what;
    std::vector<std::string> args;
  };
  const std::vector<Case> cases{
      {"upgrade head on a fresh database (applies every migration)", {"upgrade", "head"}},
      {"upgrade head at head (the pod start)", {"upgrade", "head"}},
      {"current", {"current"}},
      {"wait, the read-only gate", {"wait", "--timeout", "30s"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    RunResult r = Traced(c.args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_CONTAINS(r.err, "calling init: ");  // LD_DEBUG did report
    EXPECT_NOT_CONTAINS(r.err, kParser);
  }
  // The first run did the real work: the bundled migrations are applied.
  EXPECT_EQ(Q("SELECT version_num FROM alembic_version"), "0005");
  EXPECT_EQ(
      Q("SELECT count(*) FROM schemagate_log WHERE operation = 'upgrade' AND status = 'succeeded'"),
      "5");
}

// The other side, so the test above can fail: lint parses every upgrade
// statement with PostgreSQL's parser, which the loader then finds and
// initialises.
TEST_F(ParserLoadingTest, LintLoadsAndInitialisesTheParser) {
  RunResult r = SgRaw({"lint", "--log-format", "text"}, {{"LD_DEBUG", "libs"}});
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 4)
      << "lint did not finish: " << r.exit_code << "\n"
      << r.err;
  EXPECT_CONTAINS(r.err, "lint: ");
  EXPECT_CONTAINS(r.err, std::string("find library=") + kParser);
  // Initialised, not only searched for: its constructors ran.
  EXPECT_TRUE(std::regex_search(r.err, std::regex(std::string("calling init: \\S*") + kParser)))
      << r.err;
}

}  // namespace
}  // namespace schemagate::testing
