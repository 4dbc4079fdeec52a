#include "core/planner.h"

#include <gtest/gtest.h>

namespace schemagate {
namespace {

using V = std::vector<std::string>;

Revision Rev(std::string id, V down = {}, V deps = {}, V labels = {}) {
  Revision r;
  r.id = id;
  r.down_revisions = std::move(down);
  r.depends_on = std::move(deps);
  r.branch_labels = std::move(labels);
  r.path = id + ".sql";
  return r;
}

RevisionGraph Linear() {
  return RevisionGraph::Build({Rev("0001"), Rev("0002", {"0001"}), Rev("0003", {"0002"}), Rev("0004", {"0003"})})
      .value();
}

// base -> a -> {b1 -> b2 (label "bee"), c1}
RevisionGraph Branched() {
  return RevisionGraph::Build({Rev("a"), Rev("b1", {"a"}, {}, {"bee"}), Rev("b2", {"b1"}), Rev("c1", {"a"})}).value();
}

V Revisions(const Plan& p) {
  V out;
  for (const Step& s : p.steps) out.push_back(s.revision);
  return out;
}

TEST(Planner, UpgradeLinearFromBaseAndFromTheMiddle) {
  RevisionGraph g = Linear();
  auto all = PlanUpgrade(g, {}, "head");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Revisions(*all), (V{"0001", "0002", "0003", "0004"}));
  EXPECT_EQ(all->steps[0].heads_before, V{});
  EXPECT_EQ(all->steps[0].heads_after, V{"0001"});
  EXPECT_EQ(all->steps[1].heads_before, V{"0001"});
  EXPECT_EQ(all->to_heads, V{"0004"});
  auto rest = PlanUpgrade(g, {"0002"}, "0004");
  EXPECT_EQ(Revisions(*rest), (V{"0003", "0004"}));
  auto none = PlanUpgrade(g, {"0004"}, "head");
  EXPECT_TRUE(none->steps.empty());
  auto below = PlanUpgrade(g, {"0004"}, "0002");
  EXPECT_TRUE(below->steps.empty());
}

TEST(Planner, EveryTargetForm) {
  RevisionGraph lin = Linear();
  RevisionGraph br = Branched();
  struct Case {
    const char* name;
    const RevisionGraph* g;
    V current;
    std::string target;
    V expected;
  };
  const std::vector<Case> cases = {
      {"head", &lin, {}, "head", {"0004"}},
      {"heads", &br, {}, "heads", {"b2", "c1"}},
      {"base", &lin, {"0002"}, "base", {}},
      {"label@head", &br, {}, "bee@head", {"b2"}},
      {"rev@head", &br, {}, "c1@head", {"c1"}},
      {"label", &br, {}, "bee", {"b1"}},
      {"+N from base", &lin, {}, "+2", {"0002"}},
      {"+N", &lin, {"0001"}, "+2", {"0003"}},
      {"-N", &lin, {"0004"}, "-2", {"0002"}},
      {"-N to base", &lin, {"0002"}, "-2", {}},
      {"rev+N", &lin, {}, "0001+3", {"0004"}},
      {"rev-N", &lin, {}, "0004-1", {"0003"}},
      {"prefix", &lin, {}, "0003", {"0003"}},
  };
  for (const Case& c : cases) {
    auto r = ResolveTarget(*c.g, c.current, c.target, Direction::kUpgrade);
    ASSERT_TRUE(r.ok()) << c.name << ": " << r.status().message();
    EXPECT_EQ(*r, c.expected) << c.name;
  }
}

TEST(Planner, TargetErrorsNameWhatIsAmbiguous) {
  RevisionGraph br = Branched();
  RevisionGraph lin = Linear();
  struct Case {
    const char* name;
    const RevisionGraph* g;
    V current;
    std::string target;
    V expected;
  };
  const std::vector<Case> cases = {
      {"several heads", &br, {}, "head", {"'head' is ambiguous", "b2, c1", "merge"}},
      {"fork on +N", &br, {"a"}, "+1", {"ambiguous", "b1, c1"}},
      {"relative with two current heads", &br, {"b1", "c1"}, "+1", {"2 heads", "REV+1"}},
      {"too far up", &lin, {"0003"}, "+5", {"no revision above 0004"}},
      {"too far down", &lin, {"0001"}, "-3", {"below base"}},
      {"unknown", &lin, {}, "0009", {"no revision '0009'"}},
      {"bad number", &lin, {}, "0001+x", {"expected a number"}},
      {"label with several heads", &br, {}, "a@head", {"ambiguous", "b2, c1"}},
  };
  for (const Case& c : cases) {
    auto r = ResolveTarget(*c.g, c.current, c.target, Direction::kUpgrade);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), Code::kValidation) << c.name;
    for (const std::string& e : c.expected) {
      EXPECT_NE(r.status().message().find(e), std::string::npos) << c.name << ": " << r.status().message();
    }
  }
}

TEST(Planner, UpgradeBranchesInsertsThenMergeDeletesAndUpdates) {
  auto g = RevisionGraph::Build({Rev("a"), Rev("b", {"a"}), Rev("c", {"a"}), Rev("m", {"b", "c"})}).value();
  auto plan = PlanUpgrade(g, {"b"}, "m");
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(Revisions(*plan), (V{"c", "m"}));
  // c is a new branch next to b: INSERT.
  auto first = VersionWrites(plan->steps[0].heads_before, plan->steps[0].heads_after);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].kind, VersionWrite::Kind::kInsert);
  EXPECT_EQ(first[0].to, "c");
  // m merges b and c: DELETE one, UPDATE the other.
  auto merge = VersionWrites(plan->steps[1].heads_before, plan->steps[1].heads_after);
  ASSERT_EQ(merge.size(), 2u);
  EXPECT_EQ(merge[0].kind, VersionWrite::Kind::kDelete);
  EXPECT_EQ(merge[1].kind, VersionWrite::Kind::kUpdate);
  EXPECT_EQ(merge[1].to, "m");
  EXPECT_EQ(plan->to_heads, V{"m"});
}

TEST(Planner, DowngradeUnmergesAndDeletesBackToBase) {
  auto g = RevisionGraph::Build({Rev("a"), Rev("b", {"a"}), Rev("c", {"a"}), Rev("m", {"b", "c"})}).value();
  auto unmerge = PlanDowngrade(g, {"m"}, "b");
  ASSERT_TRUE(unmerge.ok()) << unmerge.status().message();
  EXPECT_EQ(Revisions(*unmerge), V{"m"});
  EXPECT_EQ(unmerge->to_heads, (V{"b", "c"}));
  auto writes = VersionWrites({"m"}, {"b", "c"});
  ASSERT_EQ(writes.size(), 2u);
  EXPECT_EQ(writes[0].kind, VersionWrite::Kind::kUpdate);
  EXPECT_EQ(writes[1].kind, VersionWrite::Kind::kInsert);

  auto base = PlanDowngrade(g, {"m"}, "base");
  ASSERT_TRUE(base.ok());
  EXPECT_EQ(Revisions(*base).front(), "m");
  EXPECT_EQ(Revisions(*base).back(), "a");
  EXPECT_TRUE(base->to_heads.empty());
  auto last = VersionWrites(base->steps.back().heads_before, base->steps.back().heads_after);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].kind, VersionWrite::Kind::kDelete);
}

TEST(Planner, DowngradeOneBranchLeavesTheOther) {
  RevisionGraph g = Branched();
  auto plan = PlanDowngrade(g, {"b2", "c1"}, "b1");
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Revisions(*plan), V{"b2"});
  EXPECT_EQ(plan->to_heads, (V{"b1", "c1"}));
  auto above = PlanDowngrade(g, {"b1"}, "b2");
  ASSERT_FALSE(above.ok());
  EXPECT_NE(above.status().message().find("not applied"), std::string::npos);
}

TEST(Planner, DependsOnAcrossBranches) {
  // b1 depends on a1 from another branch: applying b1 brings a1 along, and
  // the version table then holds only b1 (Alembic's behaviour).
  auto g = RevisionGraph::Build({Rev("a1"), Rev("a2", {"a1"}), Rev("b1", {}, {"a1"})}).value();
  auto plan = PlanUpgrade(g, {}, "b1");
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Revisions(*plan), (V{"a1", "b1"}));
  EXPECT_EQ(plan->to_heads, V{"b1"});
  // Downgrading a1 must first take b1 away.
  auto down = PlanDowngrade(g, {"a2", "b1"}, "base");
  ASSERT_TRUE(down.ok());
  auto order = Revisions(*down);
  EXPECT_LT(std::find(order.begin(), order.end(), "b1"), std::find(order.begin(), order.end(), "a1"));
}

TEST(Planner, StampReplacesRelatedHeadsOnly) {
  RevisionGraph g = Branched();
  EXPECT_EQ(*PlanStamp(g, {"b2", "c1"}, {"b1"}, false), (V{"b1", "c1"}));
  EXPECT_EQ(*PlanStamp(g, {"b1", "c1"}, {"b2"}, false), (V{"b2", "c1"}));
  EXPECT_EQ(*PlanStamp(g, {"b2", "c1"}, {"base"}, false), V{});
  EXPECT_EQ(*PlanStamp(g, {"b2"}, {"heads"}, false), (V{"b2", "c1"}));
  EXPECT_EQ(*PlanStamp(g, {"zzz"}, {"a"}, true), V{"a"});
  auto m = RevisionGraph::Build({Rev("a"), Rev("b", {"a"}), Rev("c", {"a"}), Rev("m", {"b", "c"})}).value();
  EXPECT_EQ(*PlanStamp(m, {"b", "c"}, {"m"}, false), V{"m"});
}

TEST(Planner, OfflineRanges) {
  RevisionGraph g = Linear();
  auto up = PlanOffline(g, Direction::kUpgrade, "0002:0004");
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(Revisions(*up), (V{"0003", "0004"}));
  auto from_base = PlanOffline(g, Direction::kUpgrade, "head");
  EXPECT_EQ(Revisions(*from_base).size(), 4u);
  auto down = PlanOffline(g, Direction::kDowngrade, "head:0002");
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(Revisions(*down), (V{"0004", "0003"}));
  EXPECT_EQ(PlanOffline(g, Direction::kDowngrade, "0002").status().code(), Code::kUsage);
}

TEST(Planner, HeadsKnownAndAtHeads) {
  RevisionGraph g = Branched();
  EXPECT_TRUE(CheckHeadsKnown(g, {"b2"}).ok());
  Status unknown = CheckHeadsKnown(g, {"b2", "feed"});
  EXPECT_EQ(unknown.code(), Code::kValidation);
  EXPECT_NE(unknown.message().find("feed"), std::string::npos);
  EXPECT_FALSE(IsAtHeads(g, {"b2"}));
  EXPECT_TRUE(IsAtHeads(g, {"b2", "c1"}));
}

TEST(Planner, ThousandStepPlanFromBase) {
  std::vector<Revision> revs;
  for (int i = 0; i < 1000; ++i) revs.push_back(Rev("r" + std::to_string(i), i ? V{"r" + std::to_string(i - 1)} : V{}));
  auto g = RevisionGraph::Build(std::move(revs)).value();
  auto plan = PlanUpgrade(g, {}, "head");
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->steps.size(), 1000u);
  EXPECT_EQ(plan->steps[500].heads_before, V{"r499"});
  auto down = PlanDowngrade(g, {"r999"}, "base");
  EXPECT_EQ(down->steps.size(), 1000u);
}

}  // namespace
}  // namespace schemagate
