// CheckAhead: whether a database with revisions this release does not know
// is at or past what a run wants (design.md §4, releases behind the database).
#include <gtest/gtest.h>

#include "core/planner.h"

namespace schemagate {
namespace {

using V = std::vector<std::string>;

Revision Rev(std::string id, V down = {}, V deps = {}) {
  Revision r;
  r.id = id;
  r.down_revisions = std::move(down);
  r.depends_on = std::move(deps);
  r.path = id + ".sql";
  return r;
}

// The bundled tree: 0001 -> ... -> 0005.
RevisionGraph Release() {
  return RevisionGraph::Build({Rev("0001"), Rev("0002", {"0001"}), Rev("0003", {"0002"}), Rev("0004", {"0003"}),
                               Rev("0005", {"0004"})})
      .value();
}

// a -> {b1 -> b2, c1}; b2 also depends_on c1 (so c1 stays a script head).
RevisionGraph WithDependency() {
  return RevisionGraph::Build({Rev("a"), Rev("b1", {"a"}), Rev("b2", {"b1"}, {"c1"}), Rev("c1", {"a"})}).value();
}

TEST(CheckAhead, DecidesFromTheFilesAndTheLog) {
  const RevisionGraph release = Release();
  const RevisionGraph dep = WithDependency();
  struct Case {
    const char* name;
    const RevisionGraph* g;
    V db_heads;
    V wanted;
    LoggedParents log;
    bool at_or_past;
    bool ahead;
    V not_descending;
    V missing;
    V known_heads;
  };
  const std::vector<Case> cases = {
      {"at the release's head", &release, {"0005"}, {"0005"}, {}, true, false, {}, {}, {"0005"}},
      {"behind the release's head", &release, {"0003"}, {"0005"}, {}, false, false, {}, {"0005"}, {"0003"}},
      {"one revision ahead", &release, {"0006"}, {"0005"}, {{"0006", {"0005"}}}, true, true, {}, {}, {"0005"}},
      {"two revisions ahead", &release, {"0007"}, {"0005"},
       {{"0007", {"0006"}}, {"0006", {"0005"}}}, true, true, {}, {}, {"0005"}},
      {"ahead, an older target", &release, {"0006"}, {"0003"}, {{"0006", {"0005"}}}, true, true, {}, {}, {"0005"}},
      {"divergent branch from 0004", &release, {"0006x"}, {"0005"}, {{"0006x", {"0004"}}}, false, false, {},
       {"0005"}, {"0004"}},
      {"divergent branch, target below the fork", &release, {"0006x"}, {"0003"}, {{"0006x", {"0004"}}}, true, true,
       {}, {}, {"0004"}},
      {"no log rows (adopted from Alembic)", &release, {"feedbeef"}, {"0001"}, {}, false, false, {"feedbeef"},
       {"0001"}, {}},
      {"logged chain ends at a base of its own", &release, {"0007"}, {"0005"},
       {{"0007", {"0006"}}, {"0006", {}}}, false, false, {"0007"}, {"0005"}, {}},
      {"merge of a known and an unlogged parent", &release, {"m"}, {"0005"}, {{"m", {"0005", "0006b"}}}, true,
       true, {}, {}, {"0005"}},
      {"a known head beside an unknown base", &release, {"0005", "0006y"}, {"0005"}, {{"0006y", {}}}, false,
       false, {"0006y"}, {}, {"0005"}},
      {"a cycle in the log", &release, {"x"}, {"0005"}, {{"x", {"y"}}, {"y", {"x"}}}, false, false, {"x"},
       {"0005"}, {}},
      {"depends_on counts as ancestry", &dep, {"d"}, {"b2", "c1"}, {{"d", {"b2"}}}, true, true, {}, {}, {"b2"}},
      {"the other head of a branched tree is missing", &dep, {"c2"}, {"b2", "c1"}, {{"c2", {"c1"}}}, false, false,
       {}, {"b2"}, {"c1"}},
  };
  for (const Case& c : cases) {
    AheadCheck check = CheckAhead(*c.g, c.db_heads, c.wanted, c.log);
    EXPECT_EQ(check.at_or_past, c.at_or_past) << c.name;
    EXPECT_EQ(check.ahead(), c.ahead) << c.name;
    EXPECT_EQ(check.not_descending, c.not_descending) << c.name;
    EXPECT_EQ(check.missing, c.missing) << c.name;
    EXPECT_EQ(check.known_heads, c.known_heads) << c.name;
  }
}

TEST(CheckAhead, ARefusalKeepsTheUnknownRevisionMessageAndSaysWhy) {
  const RevisionGraph g = Release();
  AheadCheck divergent = CheckAhead(g, {"0006x"}, {"0005"}, {{"0006x", {"0004"}}});
  Status s = RefuseUnknownHeads(divergent);
  EXPECT_EQ(s.code(), Code::kValidation);
  EXPECT_EQ(s.message(),
            "the database is at revision 0006x, which no migration file here defines, and schemagate_log "
            "shows 0006x descending from 0004, not from 0005 (a divergent branch): is this the right "
            "migrations directory, or were files removed? (to reset the version table to a known revision "
            "without running anything: 'schemagate stamp REV --purge')");

  AheadCheck adopted = CheckAhead(g, {"feedbeef"}, {"0005"}, {});
  EXPECT_EQ(WhyNotAhead(adopted), "schemagate_log does not show feedbeef descending from any revision defined here");
  // The clause comes on top of CheckHeadsKnown's message.
  const std::string plain = CheckHeadsKnown(g, {"feedbeef"}).message();
  const std::string refused = RefuseUnknownHeads(adopted).message();
  EXPECT_EQ(refused.substr(0, refused.find(", and ")), plain.substr(0, plain.find(':')));
  EXPECT_NE(refused.find("is this the right migrations directory"), std::string::npos);
}

}  // namespace
}  // namespace schemagate
