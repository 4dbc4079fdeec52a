#include "core/planner.h"

#include <gtest/gtest.h>

#include <algorithm>

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
    Direction direction;
    V current;
    std::string target;
    V expected;
  };
  const Direction up = Direction::kUpgrade, down = Direction::kDowngrade;
  const std::vector<Case> cases = {
      {"head", &lin, up, {}, "head", {"0004"}},
      {"heads", &br, up, {}, "heads", {"b2", "c1"}},
      {"base", &lin, down, {"0002"}, "base", {}},
      {"base in an upgrade", &lin, up, {"0002"}, "base", {}},
      {"label@head", &br, up, {}, "bee@head", {"b2"}},
      {"rev@head", &br, up, {}, "c1@head", {"c1"}},
      {"label", &br, up, {}, "bee", {"b1"}},
      {"+N from base", &lin, up, {}, "+2", {"0002"}},
      {"+N", &lin, up, {"0001"}, "+2", {"0003"}},
      {"-N", &lin, down, {"0004"}, "-2", {"0002"}},
      {"-N to base", &lin, down, {"0002"}, "-2", {}},
      {"rev+N", &lin, up, {}, "0001+3", {"0004"}},
      {"rev-N", &lin, up, {}, "0004-1", {"0003"}},
      {"rev-N to base", &lin, up, {}, "0002-2", {}},
      {"base+N", &lin, up, {}, "base+2", {"0002"}},
      {"base+N in a downgrade", &lin, down, {"0004"}, "base+1", {"0001"}},
      {"head-N", &lin, up, {}, "head-1", {"0003"}},
      {"head-N in a downgrade", &lin, down, {"0004"}, "head-3", {"0001"}},
      {"exact id", &lin, up, {}, "0003", {"0003"}},
      {"label@base", &br, up, {"b2"}, "bee@base", {}},
      {"label@heads", &br, up, {}, "bee@heads", {"b2"}},
      {"rev@heads takes every head above", &br, up, {}, "a@heads", {"b2", "c1"}},
      {"label@+N from base", &br, up, {}, "bee@+2", {"b1"}},
      {"label@+N from the database", &br, up, {"b1"}, "bee@+1", {"b2"}},
      {"label@+N from another branch's head", &br, up, {"c1"}, "bee@+1", {"b1"}},
      {"label@-N", &br, down, {"b2", "c1"}, "bee@-1", {"b1"}},
      {"label@head-N", &br, up, {}, "bee@head-1", {"b1"}},
      {"label@base+N", &br, up, {}, "bee@base+1", {"a"}},
      {"label@REV", &br, up, {}, "bee@b2", {"b2"}},
      {"REV@REV (a revision naming its branch)", &br, up, {}, "b1@b2", {"b2"}},
      {"label@REV+N", &br, up, {}, "bee@a+1", {"b1"}},
      {"label@REV-N", &br, down, {"b2"}, "bee@b2-1", {"b1"}},
  };
  for (const Case& c : cases) {
    auto r = ResolveTarget(*c.g, c.current, c.target, c.direction);
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
    Direction direction;
    V current;
    std::string target;
    V expected;
  };
  const Direction up = Direction::kUpgrade, down = Direction::kDowngrade;
  const std::vector<Case> cases = {
      {"several heads", &br, up, {}, "head", {"'head' is ambiguous", "b2, c1", "merge"}},
      {"several heads under head-N", &br, up, {}, "head-1", {"'head' is ambiguous"}},
      {"fork on +N", &br, up, {"a"}, "+1", {"ambiguous", "b1, c1"}},
      {"fork on base+N", &br, up, {}, "base+2", {"ambiguous", "a branches into b1, c1"}},
      {"relative with two current heads", &br, up, {"b1", "c1"}, "+1", {"2 heads", "REV+1"}},
      {"too far up", &lin, up, {"0003"}, "+5", {"no revision above 0004"}},
      {"too far down", &lin, down, {"0001"}, "-3", {"below base"}},
      {"-N in an upgrade", &lin, up, {"0003"}, "-2", {"upgrade only goes up", "'schemagate downgrade -2'"}},
      {"+N in a downgrade", &lin, down, {"0001"}, "+1", {"downgrade only goes down", "'schemagate upgrade +1'"}},
      {"downgrade -1 with several heads (refused, deliberately)", &br, down, {"b2", "c1"}, "-1", {"2 heads", "REV-1"}},
      {"unknown", &lin, up, {}, "0009", {"no revision '0009'"}},
      {"bad number", &lin, up, {}, "0001+x", {"expected a number"}},
      {"label with several heads", &br, up, {}, "a@head", {"ambiguous", "b2, c1"}},
      {"unknown branch", &br, up, {}, "zzz@head", {"no branch 'zzz'"}},
      {"revision off the branch", &br, up, {}, "bee@c1", {"c1 is not on branch bee"}},
      {"label@-N in an upgrade", &br, up, {"b2"}, "bee@-1", {"upgrade only goes up"}},
      {"label@+N past the branch's head", &br, up, {"b2"}, "bee@+1", {"no revision above b2 on branch bee"}},
      {"label@-N with nothing applied on it", &br, down, {"c1"}, "bee@-1", {"nothing on branch bee is applied"}},
      {"empty branch", &br, up, {}, "@head", {"expected BRANCH@WHAT"}},
      {"two @", &br, up, {}, "a@b@head", {"expected BRANCH@WHAT"}},
  };
  for (const Case& c : cases) {
    auto r = ResolveTarget(*c.g, c.current, c.target, c.direction);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), Code::kValidation) << c.name;
    for (const std::string& e : c.expected) {
      EXPECT_NE(r.status().message().find(e), std::string::npos) << c.name << ": " << r.status().message();
    }
  }
}

// Two lines from one base and a second base, as in Alembic's documentation
// on branches:
//
//   0a00 <- 5b01 [shop] <- 5b02
//        <- 6c01 [net]  <- 6c02
//   7d01 [other] <- 7d02
//
// Every row was run through Alembic 1.8.1 as well (the same graph, the same
// version table before, the same command), and gives what it gives: the
// revisions run (here as a set: the order among independent branches is
// the planner's) and the version table after, or a refusal.
RevisionGraph TwoBases() {
  return RevisionGraph::Build({Rev("0a00"), Rev("5b01", {"0a00"}, {}, {"shop"}), Rev("5b02", {"5b01"}),
                               Rev("6c01", {"0a00"}, {}, {"net"}), Rev("6c02", {"6c01"}),
                               Rev("7d01", {}, {}, {"other"}), Rev("7d02", {"7d01"})})
      .value();
}

TEST(Planner, EveryFormAgainstAlembicOnTwoBases) {
  const RevisionGraph g = TwoBases();
  struct Case {
    Direction direction;
    V current;
    std::string target;
    V steps;       // sorted
    V to_heads;    // sorted
    std::string error;  // non-empty: refused, message contains it
  };
  const Direction up = Direction::kUpgrade, down = Direction::kDowngrade;
  const V all = {"5b02", "6c02", "7d02"};
  const std::vector<Case> cases = {
      {up, {}, "shop@head", {"0a00", "5b01", "5b02"}, {"5b02"}, ""},
      {up, {}, "shop@heads", {"0a00", "5b01", "5b02"}, {"5b02"}, ""},
      {up, {}, "shop@base", {}, {}, ""},
      {up, {}, "shop@+1", {"0a00"}, {"0a00"}, ""},
      {up, {}, "shop@+2", {"0a00", "5b01"}, {"5b01"}, ""},
      {up, {}, "shop@head-1", {"0a00", "5b01"}, {"5b01"}, ""},
      {up, {}, "shop@base+1", {"0a00"}, {"0a00"}, ""},
      {up, {}, "shop@5b02", {"0a00", "5b01", "5b02"}, {"5b02"}, ""},
      {up, {}, "5b01@5b02", {"0a00", "5b01", "5b02"}, {"5b02"}, ""},
      {up, {}, "shop@5b01+1", {"0a00", "5b01", "5b02"}, {"5b02"}, ""},
      {up, {}, "0a00@shop", {"0a00", "5b01"}, {"5b01"}, ""},
      {up, {}, "0a00@heads", {"0a00", "5b01", "5b02", "6c01", "6c02"}, {"5b02", "6c02"}, ""},
      {up, {}, "other@+1", {"7d01"}, {"7d01"}, ""},
      {up, {}, "sho", {"0a00", "5b01"}, {"5b01"}, ""},  // a prefix of a label
      {up, {}, "shop@5b0", {}, {}, "ambiguous"},        // both 5b01 and 5b02 are on shop
      {up, {}, "5b01@6c02", {}, {}, "not on branch"},
      {up, {}, "net@shop", {}, {}, "not on branch"},
      {up, {}, "7d", {}, {}, "ambiguous"},
      {up, {}, "0a00@head", {}, {}, "ambiguous"},
      {up, {}, "base+1", {}, {}, "ambiguous"},
      {up, {}, "+1", {}, {}, "ambiguous"},
      {up, {"6c02"}, "shop@+1", {"5b01"}, {"5b01", "6c02"}, ""},
      {up, {"6c02"}, "shop@+2", {"5b01", "5b02"}, {"5b02", "6c02"}, ""},
      {up, {"7d02"}, "shop@+1", {"0a00"}, {"0a00", "7d02"}, ""},
      {up, {"5b01"}, "net@+1", {"6c01"}, {"5b01", "6c01"}, ""},
      {up, {"5b01"}, "shop@+2", {}, {}, "no revision above 5b02 on branch shop"},
      {up, {"5b01"}, "shop@head-1", {}, {"5b01"}, ""},
      {up, {"6c02"}, "shop@0a00", {}, {"6c02"}, ""},  // applied: nothing to do
      {up, all, "5b01", {}, all, ""},
      {up, all, "base", {}, all, ""},
      {up, all, "+1", {}, {}, "3 heads"},
      {down, all, "shop@base", {"0a00", "5b01", "5b02", "6c01", "6c02"}, {"7d02"}, ""},
      {down, all, "shop@-1", {"5b02"}, {"5b01", "6c02", "7d02"}, ""},
      {down, all, "shop@-2", {"5b01", "5b02"}, {"6c02", "7d02"}, ""},
      {down, all, "shop@head-1", {"5b02"}, {"5b01", "6c02", "7d02"}, ""},
      {down, all, "shop@base+1", {"5b01", "5b02"}, {"6c02", "7d02"}, ""},
      {down, all, "shop@5b01", {"5b02"}, {"5b01", "6c02", "7d02"}, ""},
      {down, all, "shop@0a00", {"5b01", "5b02"}, {"6c02", "7d02"}, ""},
      {down, all, "5b01@0a00", {"5b01", "5b02"}, {"6c02", "7d02"}, ""},
      {down, all, "net@0a00", {"6c01", "6c02"}, {"5b02", "7d02"}, ""},
      {down, all, "0a00", {"5b01", "5b02", "6c01", "6c02"}, {"0a00", "7d02"}, ""},
      {down, all, "other@base", {"7d01", "7d02"}, {"5b02", "6c02"}, ""},
      {down, all, "7d01@base", {"7d01", "7d02"}, {"5b02", "6c02"}, ""},
      {down, all, "0a00@base", {"0a00", "5b01", "5b02", "6c01", "6c02"}, {"7d02"}, ""},
      {down, all, "shop@5b02", {}, all, ""},
      {down, all, "5b01@5b01", {"5b02"}, {"5b01", "6c02", "7d02"}, ""},
      {down, all, "shop@5b02-1", {"5b02"}, {"5b01", "6c02", "7d02"}, ""},
      {down, all, "5b01-1", {"5b01", "5b02", "6c01", "6c02"}, {"0a00", "7d02"}, ""},
      {down, all, "7d02-1", {"7d02"}, {"5b02", "6c02", "7d01"}, ""},
      {down, all, "base", {"0a00", "5b01", "5b02", "6c01", "6c02", "7d01", "7d02"}, {}, ""},
      {down, all, "shop@head", {}, {}, "ambiguous"},  // as Alembic: the branch does not pick the head
      {down, all, "shop@+1", {}, {}, "downgrade only goes down"},
      {down, all, "base+1", {}, {}, "ambiguous"},
      {down, {"5b02", "6c01"}, "net@-1", {"6c01"}, {"5b02"}, ""},
      {down, {"5b02", "6c01"}, "net@base", {"0a00", "5b01", "5b02", "6c01"}, {}, ""},
      {down, {"5b02", "6c01"}, "other@base", {}, {"5b02", "6c01"}, ""},
      {down, {"5b02", "6c01"}, "other@-1", {}, {}, "nothing on branch other is applied"},
  };
  for (const Case& c : cases) {
    const std::string name = std::string(DirectionName(c.direction)) + " " + c.target + " from " +
                             (c.current.empty() ? "base" : c.current[0] + (c.current.size() > 1 ? ",..." : ""));
    auto plan = c.direction == up ? PlanUpgrade(g, c.current, c.target) : PlanDowngrade(g, c.current, c.target);
    if (!c.error.empty()) {
      ASSERT_FALSE(plan.ok()) << name;
      EXPECT_EQ(plan.status().code(), Code::kValidation) << name;
      EXPECT_NE(plan.status().message().find(c.error), std::string::npos) << name << ": " << plan.status().message();
      continue;
    }
    ASSERT_TRUE(plan.ok()) << name << ": " << plan.status().message();
    V steps = Revisions(*plan);
    std::sort(steps.begin(), steps.end());
    V heads = plan->to_heads;
    std::sort(heads.begin(), heads.end());
    EXPECT_EQ(steps, c.steps) << name;
    EXPECT_EQ(heads, c.to_heads) << name;
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

// Alembic's rule, checked against Alembic 1.8.1: a downgrade reverts the
// target's descendants; a revision that only depends on the target stays
// (the target does too), and goes when the dependency itself is reverted.
TEST(Planner, DowngradeKeepsWhatOnlyDependsOnTheTarget) {
  // a (base), a2 (parent a), b (base, depends_on a).
  auto g = RevisionGraph::Build({Rev("a"), Rev("a2", {"a"}), Rev("b", {}, {"a"})}).value();
  struct Case {
    V current;
    std::string target;
    V steps;  // in the order they run
    V to_heads;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{"a2", "b"}, "a", {"a2"}, {"b"}, ""},
      {{"a2", "b"}, "a2-1", {"a2"}, {"b"}, ""},
      {{"a2", "b"}, "base", {"b", "a2", "a"}, {}, ""},
      {{"a2", "b"}, "b-1", {"b", "a2", "a"}, {}, ""},  // b is a base: below it is base
      {{"a2", "b"}, "b", {}, {"a2", "b"}, ""},
      {{"b"}, "-1", {"b"}, {"a"}, ""},
      {{"b"}, "base", {"b", "a"}, {}, ""},
      {{"b"}, "a", {}, {}, "applied only because b depends on it"},
      {{"b"}, "a2", {}, {}, "a2 is not applied"},
  };
  for (const Case& c : cases) {
    auto plan = PlanDowngrade(g, c.current, c.target);
    const std::string name = c.target + " from " + c.current[0];
    if (!c.error.empty()) {
      ASSERT_FALSE(plan.ok()) << name;
      EXPECT_NE(plan.status().message().find(c.error), std::string::npos) << name << ": " << plan.status().message();
      continue;
    }
    ASSERT_TRUE(plan.ok()) << name << ": " << plan.status().message();
    EXPECT_EQ(Revisions(*plan), c.steps) << name;
    EXPECT_EQ(plan->to_heads, c.to_heads) << name;
  }
  // With a base below a: reverting that base takes a, a2 and b.
  auto below = RevisionGraph::Build({Rev("x"), Rev("a", {"x"}), Rev("a2", {"a"}), Rev("b", {}, {"a"})}).value();
  auto plan = PlanDowngrade(below, {"a2", "b"}, "x");
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(Revisions(*plan), (V{"b", "a2", "a"}));
  EXPECT_EQ(plan->to_heads, V{"x"});
}

// Stamp takes the absolute forms Alembic's stamp takes (checked against it).
TEST(Planner, StampTakesBranchFormsAndRefusesSteps) {
  const RevisionGraph g = TwoBases();
  const V all = {"5b02", "6c02", "7d02"};
  EXPECT_EQ(*PlanStamp(g, all, {"shop@base"}, false), (V{"6c02", "7d02"}));
  EXPECT_EQ(*PlanStamp(g, all, {"other@base"}, false), (V{"5b02", "6c02"}));
  EXPECT_EQ(*PlanStamp(g, all, {"shop@5b01"}, false), (V{"5b01", "6c02", "7d02"}));
  EXPECT_EQ(*PlanStamp(g, {"5b01", "7d01"}, {"shop@head"}, false), (V{"5b02", "7d01"}));
  EXPECT_EQ(*PlanStamp(g, {"5b01", "7d01"}, {"shop@heads"}, false), (V{"5b02", "7d01"}));
  EXPECT_EQ(*PlanStamp(g, {"5b01", "7d01"}, {"5b01@5b02"}, false), (V{"5b02", "7d01"}));
  EXPECT_EQ(*PlanStamp(g, {"5b01", "7d01"}, {"sho"}, false), (V{"5b01", "7d01"}));
  EXPECT_EQ(*PlanStamp(g, {"5b01", "7d01"}, {"heads"}, false), all);
  for (const char* refused : {"-1", "+1", "shop@-1", "shop@+1", "head-1", "shop@base+1", "5b01+1"}) {
    auto r = PlanStamp(g, all, {refused}, false);
    ASSERT_FALSE(r.ok()) << refused;
    EXPECT_NE(r.status().message().find("not steps"), std::string::npos) << r.status().message();
  }
  EXPECT_NE(PlanStamp(g, all, {"shop@6c01"}, false).status().message().find("not on branch shop"), std::string::npos);
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
