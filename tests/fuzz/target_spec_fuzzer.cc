// Target specs (`upgrade head`, `+2`, `billing@head`, `ab12cd-1`, `A:B`, ...)
// against a small fixed graph with every shape the planner handles:
//
//   0001 <- 0002 <- ab12cd [billing] <- m3rg (merge)
//               \<- ab12ef           <-/
//   x001 [audit] <- x002 (depends_on 0002)
//
// "ab12" is an ambiguous prefix; "head" is ambiguous (two heads).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/planner.h"
#include "core/revision_graph.h"
#include "fuzz_check.h"

namespace schemagate {
namespace {

Revision Rev(std::string id, std::vector<std::string> down, std::vector<std::string> labels = {},
             std::vector<std::string> depends_on = {}) {
  Revision r;
  r.path = "versions/" + id + ".sql";
  r.id = std::move(id);
  r.down_revisions = std::move(down);
  r.branch_labels = std::move(labels);
  r.depends_on = std::move(depends_on);
  return r;
}

const RevisionGraph& Graph() {
  static const RevisionGraph* graph = [] {
    auto g = RevisionGraph::Build({
        Rev("0001", {}),
        Rev("0002", {"0001"}),
        Rev("ab12cd", {"0002"}, {"billing"}),
        Rev("ab12ef", {"0002"}),
        Rev("m3rg", {"ab12cd", "ab12ef"}),
        Rev("x001", {}, {"audit"}),
        Rev("x002", {"x001"}, {}, {"0002"}),
    });
    FUZZ_CHECK(g.ok());
    return new RevisionGraph(std::move(g.value()));
  }();
  return *graph;
}

void CheckHeads(const RevisionGraph& g, const Heads& heads) {
  for (const std::string& h : heads) FUZZ_CHECK(g.Contains(h));
}

void CheckPlan(const RevisionGraph& g, const Plan& plan) {
  Heads heads = plan.from_heads;
  for (const Step& step : plan.steps) {
    FUZZ_CHECK(g.Contains(step.revision));
    FUZZ_CHECK(step.heads_before == heads);
    CheckHeads(g, step.heads_after);
    (void)VersionWrites(step.heads_before, step.heads_after);
    heads = step.heads_after;
  }
  FUZZ_CHECK(plan.to_heads == heads);
}

}  // namespace
}  // namespace schemagate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace schemagate;
  const RevisionGraph& g = Graph();
  const std::string target(reinterpret_cast<const char*>(data), size);

  // Database states: base, one head, a branch each side, every head.
  const std::vector<Heads> states = {{}, {"0002"}, {"ab12cd", "x001"}, {"m3rg", "x002"}};
  for (const Heads& current : states) {
    for (Direction d : {Direction::kUpgrade, Direction::kDowngrade}) {
      Result<Heads> resolved = ResolveTarget(g, current, target, d);
      if (resolved.ok()) {
        CheckHeads(g, *resolved);
      } else {
        FUZZ_CHECK(resolved.status().code() == Code::kValidation);
      }
    }
    Result<Plan> up = PlanUpgrade(g, current, target);
    if (up.ok()) CheckPlan(g, *up);
    Result<Plan> down = PlanDowngrade(g, current, target);
    if (down.ok()) CheckPlan(g, *down);
    Result<Heads> stamped = PlanStamp(g, current, {target}, /*purge=*/false);
    if (stamped.ok()) CheckHeads(g, *stamped);
  }
  for (Direction d : {Direction::kUpgrade, Direction::kDowngrade}) {
    Result<Plan> offline = PlanOffline(g, d, target);  // "FROM:TO" or "TO"
    if (offline.ok()) CheckPlan(g, *offline);
  }
  Result<std::string> id = g.Resolve(target);
  if (id.ok()) FUZZ_CHECK(g.Contains(*id));
  return 0;
}
