#include "core/revision_graph.h"

#include <gtest/gtest.h>

namespace schemagate {
namespace {

Revision Rev(std::string id, std::vector<std::string> down = {}, std::vector<std::string> deps = {},
             std::vector<std::string> labels = {}) {
  Revision r;
  r.id = id;
  r.down_revisions = std::move(down);
  r.depends_on = std::move(deps);
  r.branch_labels = std::move(labels);
  r.path = "versions/" + id + ".sql";
  return r;
}

using V = std::vector<std::string>;

TEST(RevisionGraph, LinearChain) {
  auto g = RevisionGraph::Build({Rev("0003", {"0002"}), Rev("0001"), Rev("0002", {"0001"})});
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->TopologicalOrder(), (V{"0001", "0002", "0003"}));
  EXPECT_EQ(g->Heads(), V{"0003"});
  EXPECT_EQ(g->Bases(), V{"0001"});
  EXPECT_TRUE(g->BranchPoints().empty());
  EXPECT_EQ(g->Ancestors({"0002"}), (RevisionSet{"0001", "0002"}));
  EXPECT_EQ(g->Descendants({"0002"}, false), RevisionSet{"0003"});
}

TEST(RevisionGraph, TwoBranchesAndAMerge) {
  auto g = RevisionGraph::Build({Rev("a"), Rev("b1", {"a"}), Rev("c1", {"a"}), Rev("m", {"b1", "c1"})});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->BranchPoints(), V{"a"});
  EXPECT_EQ(g->MergePoints(), V{"m"});
  EXPECT_EQ(g->Heads(), V{"m"});
  EXPECT_EQ(g->Children("a"), (V{"b1", "c1"}));
  EXPECT_EQ(g->HeadsOf({"a", "b1", "c1"}), (V{"b1", "c1"}));
  EXPECT_EQ(g->HeadsOf({"a", "b1", "c1", "m"}), V{"m"});
}

TEST(RevisionGraph, DependsOnAddsAncestryButNotHeadship) {
  auto g = RevisionGraph::Build({Rev("a1"), Rev("b1", {}, {"a1"})});
  ASSERT_TRUE(g.ok());
  // As in Alembic, a depends_on target is still a head of the script...
  EXPECT_EQ(g->Heads(), (V{"a1", "b1"}));
  // ...but the version table keeps only b1 once both are applied.
  EXPECT_EQ(g->HeadsOf({"a1", "b1"}), V{"b1"});
  EXPECT_EQ(g->Ancestors({"b1"}), (RevisionSet{"a1", "b1"}));
  EXPECT_EQ(g->Dependencies("b1"), V{"a1"});
}

TEST(RevisionGraph, DependsOnResolvesLabelsAndPrefixes) {
  auto g = RevisionGraph::Build({Rev("ae1011"), Rev("ae2022", {"ae1011"}, {}, {"shop"}), Rev("b1", {}, {"shop"}),
                                 Rev("c1", {}, {"ae10"})});
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->Dependencies("b1"), V{"ae2022"});
  EXPECT_EQ(g->Dependencies("c1"), V{"ae1011"});
}

// Alembic's rule, each row checked against Alembic 1.8.1 (`upgrade REF`):
// an exact id or label first, else a unique prefix among the ids and labels
// longer than 3 characters; a short id matches only in full.
TEST(RevisionGraph, ResolvesIdsLabelsAndUniquePrefixesAsAlembic) {
  auto g = RevisionGraph::Build({Rev("ae1027a6acf"), Rev("ae10bb", {"ae1027a6acf"}),
                                 Rev("27c6a30d7c24", {}, {}, {"shoppingcart"}), Rev("abc"), Rev("abcd1234", {"abc"}),
                                 Rev("f00")});
  ASSERT_TRUE(g.ok());
  struct Case {
    std::string ref;
    std::string expected;  // empty: refused
    std::string error;     // a substring of the refusal
  };
  const std::vector<Case> cases = {
      {"ae10bb", "ae10bb", ""},
      {"shoppingcart", "27c6a30d7c24", ""},
      {"ae102", "ae1027a6acf", ""},
      {"27c", "27c6a30d7c24", ""},                // three characters are enough
      {"2", "27c6a30d7c24", ""},                  // and so is one, when unique
      {"abc", "abc", ""},                         // an exact id of three characters
      {"ab", "abcd1234", ""},                     // ...which never matches by prefix
      {"shop", "27c6a30d7c24", ""},               // a prefix of a label
      {"s", "27c6a30d7c24", ""},
      {"f00", "f00", ""},
      {"ae1", "", "ambiguous: it matches ae1027a6acf, ae10bb"},
      {"ae10", "", "ambiguous"},
      {"a", "", "it matches abcd1234, ae1027a6acf, ae10bb"},
      {"f0", "", "no revision 'f0'"},             // f00 is too short to match by prefix
      {"ffff", "", "no revision 'ffff'"},
      {"", "", "empty revision reference"},
  };
  for (const Case& c : cases) {
    auto r = g->Resolve(c.ref);
    if (c.expected.empty()) {
      ASSERT_FALSE(r.ok()) << c.ref << " -> " << *r;
      EXPECT_NE(r.status().message().find(c.error), std::string::npos) << c.ref << ": " << r.status().message();
    } else {
      ASSERT_TRUE(r.ok()) << c.ref << ": " << r.status().message();
      EXPECT_EQ(*r, c.expected) << c.ref;
    }
  }
  // A filter narrows the prefix matches (a branch-qualified target).
  auto on_ae = g->Resolve("a", [](const std::string& id) { return id.rfind("ae", 0) == 0 && id != "ae10bb"; });
  ASSERT_TRUE(on_ae.ok()) << on_ae.status().message();
  EXPECT_EQ(*on_ae, "ae1027a6acf");
}

TEST(RevisionGraph, LineIsAncestorsAndDescendantsAlongDownRevision) {
  auto g = RevisionGraph::Build({Rev("a"), Rev("b1", {"a"}), Rev("b2", {"b1"}), Rev("c1", {"a"}), Rev("x", {}, {"b1"})});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->Line("b1"), (RevisionSet{"a", "b1", "b2"}));
  EXPECT_EQ(g->Line("a"), (RevisionSet{"a", "b1", "b2", "c1"}));
  EXPECT_EQ(g->Line("x"), RevisionSet{"x"});  // depends_on is no line
  EXPECT_TRUE(g->Line("nope").empty());
}

TEST(RevisionGraph, BranchLabelsApplyToDescendants) {
  auto g = RevisionGraph::Build({Rev("a", {}, {}, {"core"}), Rev("b", {"a"}), Rev("x")});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->BranchLabelsOf("b"), V{"core"});
  EXPECT_TRUE(g->BranchLabelsOf("x").empty());
}

struct ErrorCase {
  const char* name;
  std::vector<Revision> revisions;
  std::vector<std::string> expected;  // substrings of the message
};

TEST(RevisionGraph, RejectsBrokenTreesNamingTheFiles) {
  const std::vector<ErrorCase> cases = {
      {"duplicate id", {Rev("a"), Rev("a")}, {"duplicate revision id a", "versions/a.sql"}},
      {"missing parent", {Rev("a"), Rev("b", {"zz"})}, {"versions/b.sql", "down_revision zz names no revision"}},
      {"Alembic's None for a base", {Rev("a", {"None"})}, {"versions/a.sql", "leave it empty: '-- down_revision:'"}},
      {"missing dependency", {Rev("a"), Rev("b", {}, {"nope"})}, {"versions/b.sql: depends_on", "nope"}},
      {"duplicate label", {Rev("a", {}, {}, {"x"}), Rev("b", {}, {}, {"x"})}, {"branch label 'x' is used twice"}},
      {"label equals id", {Rev("a"), Rev("b", {}, {}, {"a"})}, {"also a revision id"}},
      {"cycle through down_revision", {Rev("a", {"c"}), Rev("b", {"a"}), Rev("c", {"b"})}, {"revision cycle:", "a", "b", "c"}},
      {"cycle through depends_on", {Rev("a", {}, {"b"}), Rev("b", {"a"})}, {"revision cycle:"}},
      {"self parent", {Rev("a", {"a"})}, {"its own down_revision"}},
  };
  for (const ErrorCase& c : cases) {
    auto g = RevisionGraph::Build(c.revisions);
    ASSERT_FALSE(g.ok()) << c.name;
    EXPECT_EQ(g.status().code(), Code::kValidation) << c.name;
    for (const std::string& e : c.expected) {
      EXPECT_NE(g.status().message().find(e), std::string::npos) << c.name << ": " << g.status().message();
    }
  }
}

TEST(RevisionGraph, TenThousandNodeChainBuildsWithoutDeepRecursion) {
  std::vector<Revision> revs;
  for (int i = 0; i < 10000; ++i) {
    revs.push_back(Rev("r" + std::to_string(i), i == 0 ? V{} : V{"r" + std::to_string(i - 1)}));
  }
  auto g = RevisionGraph::Build(std::move(revs));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->Heads(), V{"r9999"});
  EXPECT_EQ(g->Ancestors({"r9999"}).size(), 10000u);
  EXPECT_EQ(g->HeadsOf(g->Ancestors({"r5000"})), V{"r5000"});
}

}  // namespace
}  // namespace schemagate
