#include "core/planner.h"

#include <algorithm>
#include <cctype>
#include <climits>

namespace schemagate {
namespace {

std::string Join(const std::vector<std::string>& v, const std::string& empty = "base") {
  if (v.empty()) return empty;
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// True when `a` is a proper ancestor of `b`. Only nodes at or after `a` in
// topological order can lead back to it, which keeps the search short.
bool IsAncestor(const RevisionGraph& g, const std::string& a, const std::string& b) {
  if (a == b) return false;
  const size_t floor = g.TopoIndex(a);
  if (floor == static_cast<size_t>(-1) || g.TopoIndex(b) < floor) return false;
  std::vector<std::string> stack{b};
  RevisionSet seen{b};
  while (!stack.empty()) {
    std::string cur = stack.back();
    stack.pop_back();
    for (const std::string& p : g.Parents(cur)) {
      if (p == a) return true;
      if (g.TopoIndex(p) > floor && seen.insert(p).second) stack.push_back(p);
    }
  }
  return false;
}

void SortTopo(const RevisionGraph& g, Heads& heads) {
  std::sort(heads.begin(), heads.end(),
            [&g](const std::string& x, const std::string& y) { return g.TopoIndex(x) < g.TopoIndex(y); });
}

// One step along down_revision edges, up (children) or down (parents).
// `from` empty means base (going up: the bases).
Result<std::string> StepOnce(const RevisionGraph& g, const std::string& from, bool up, const std::string& spec) {
  std::vector<std::string> next = up ? (from.empty() ? g.Bases() : g.Children(from)) : g.DownRevisions(from);
  if (next.empty()) {
    if (!up) return std::string();  // below a base is base
    return Status::Validation("target " + spec + ": there is no revision above " + (from.empty() ? "base" : from));
  }
  if (next.size() > 1) {
    return Status::Validation("target " + spec + " is ambiguous: " + (from.empty() ? std::string("base") : from) +
                              (up ? " branches into " : " merges ") + Join(next) +
                              "; name the branch (e.g. " + next[0] + (up ? "" : "-N") + ")");
  }
  return next[0];
}

Result<Heads> Walk(const RevisionGraph& g, std::string from, int steps, bool up, const std::string& spec) {
  for (int i = 0; i < steps; ++i) {
    if (!up && from.empty()) {
      return Status::Validation("target " + spec + " goes below base");
    }
    auto next = StepOnce(g, from, up, spec);
    if (!next.ok()) return next.status();
    from = *next;
  }
  if (from.empty()) return Heads{};
  return Heads{from};
}

}  // namespace

std::vector<VersionWrite> VersionWrites(const Heads& before, const Heads& after) {
  std::vector<std::string> removed, added;
  for (const std::string& b : before) {
    if (std::find(after.begin(), after.end(), b) == after.end()) removed.push_back(b);
  }
  for (const std::string& a : after) {
    if (std::find(before.begin(), before.end(), a) == before.end()) added.push_back(a);
  }
  std::vector<VersionWrite> out;
  const size_t updates = std::min(removed.size(), added.size());
  // Surplus removed rows are deleted first, then pairs are updated.
  for (size_t i = 0; i + updates < removed.size(); ++i) {
    out.push_back({VersionWrite::Kind::kDelete, removed[i], ""});
  }
  const size_t first_update = removed.size() - updates;
  for (size_t i = 0; i < updates; ++i) {
    out.push_back({VersionWrite::Kind::kUpdate, removed[first_update + i], added[i]});
  }
  for (size_t i = updates; i < added.size(); ++i) {
    out.push_back({VersionWrite::Kind::kInsert, "", added[i]});
  }
  return out;
}

namespace {

// `clause` (", and ...") says what else is known about the unknown heads.
Status UnknownHeadsError(const Heads& unknown, const std::string& clause) {
  return Status::Validation("the database is at revision " + Join(unknown) +
                            ", which no migration file here defines" + clause +
                            ": is this the right migrations "
                            "directory, or were files removed? (to reset the version table to a known "
                            "revision without running anything: 'schemagate stamp REV --purge')");
}

}  // namespace

Status CheckHeadsKnown(const RevisionGraph& graph, const Heads& current_heads) {
  std::vector<std::string> unknown;
  for (const std::string& h : current_heads) {
    if (!graph.Contains(h)) unknown.push_back(h);
  }
  if (unknown.empty()) return Status::Ok();
  return UnknownHeadsError(unknown, "");
}

Result<Heads> ResolveTarget(const RevisionGraph& g, const Heads& current, std::string_view target,
                            Direction direction) {
  const std::string spec(target);
  if (spec.empty()) return Status::Validation("empty target");
  if (spec == "base") return Heads{};
  if (spec == "heads") return g.Heads();
  if (spec == "head") {
    Heads heads = g.Heads();
    if (heads.size() > 1) {
      return Status::Validation("'head' is ambiguous: the migrations have " + std::to_string(heads.size()) +
                                " heads (" + Join(heads) + "); use 'heads', a LABEL@head or REV, or merge them with 'schemagate merge'");
    }
    return heads;
  }
  size_t at = spec.find('@');
  if (at != std::string::npos) {
    const std::string branch = spec.substr(0, at), what = spec.substr(at + 1);
    if (what != "head") {
      return Status::Validation("target " + spec + ": only BRANCH@head is supported after '@'");
    }
    auto root = g.Resolve(branch);
    if (!root.ok()) return root.status().Prefixed("target " + spec);
    // Heads reachable from the branch's revision through down_revision edges.
    RevisionSet reach;
    std::vector<std::string> stack{*root};
    while (!stack.empty()) {
      std::string cur = stack.back();
      stack.pop_back();
      if (!reach.insert(cur).second) continue;
      for (const std::string& c : g.Children(cur)) stack.push_back(c);
    }
    Heads heads;
    for (const std::string& h : g.Heads()) {
      if (reach.count(h)) heads.push_back(h);
    }
    if (heads.size() != 1) {
      return Status::Validation("target " + spec + " is ambiguous: branch " + branch + " has heads " + Join(heads));
    }
    return heads;
  }
  // Relative forms: +N, -N, REV+N, REV-N.
  size_t sign = spec.find_first_of("+-");
  if (sign != std::string::npos && AllDigits(spec.substr(sign + 1))) {
    const bool up = spec[sign] == '+';
    // Saturating: a walk ends at a head or below base long before INT_MAX
    // steps, so any larger count fails the same way (std::stoi would throw).
    int steps = 0;
    for (char c : spec.substr(sign + 1)) {
      steps = steps > (INT_MAX - 9) / 10 ? INT_MAX : steps * 10 + (c - '0');
    }
    std::string from;
    if (sign == 0) {
      if (current.size() > 1) {
        return Status::Validation("target " + spec + " is relative to the current revision, but the database has " +
                                  std::to_string(current.size()) + " heads (" + Join(current) +
                                  "); use REV" + spec + " instead");
      }
      if (current.empty() && !up) {
        return Status::Validation("target " + spec + ": the database is at base; there is nothing to go down from");
      }
      if (!current.empty()) from = current[0];
    } else {
      auto rev = g.Resolve(spec.substr(0, sign));
      if (!rev.ok()) return rev.status().Prefixed("target " + spec);
      from = *rev;
    }
    return Walk(g, from, steps, up, spec);
  }
  if (sign != std::string::npos) {
    return Status::Validation("target '" + spec + "': expected a number after '" + spec[sign] + "'");
  }
  (void)direction;
  auto id = g.Resolve(spec);
  if (!id.ok()) return id.status();
  return Heads{*id};
}

Result<Plan> PlanUpgrade(const RevisionGraph& g, const Heads& current, std::string_view target) {
  auto dest = ResolveTarget(g, current, target, Direction::kUpgrade);
  if (!dest.ok()) return dest.status();
  Plan plan;
  plan.from_heads = current;
  SortTopo(g, plan.from_heads);
  if (dest->empty()) {
    return Status::Validation("'upgrade base' does nothing; to remove every migration use 'downgrade base'");
  }
  RevisionSet applied = g.Ancestors(current, true);
  RevisionSet wanted = g.Ancestors(*dest, true);
  std::vector<std::string> todo;
  for (const std::string& id : wanted) {
    if (!applied.count(id)) todo.push_back(id);
  }
  SortTopo(g, todo);
  Heads heads = plan.from_heads;
  for (const std::string& r : todo) {
    Step step;
    step.revision = r;
    step.direction = Direction::kUpgrade;
    step.heads_before = heads;
    Heads next;
    for (const std::string& h : heads) {
      if (!IsAncestor(g, h, r)) next.push_back(h);
    }
    next.push_back(r);
    SortTopo(g, next);
    heads = next;
    step.heads_after = heads;
    plan.steps.push_back(std::move(step));
  }
  plan.to_heads = heads;
  return plan;
}

Result<Plan> PlanDowngrade(const RevisionGraph& g, const Heads& current, std::string_view target) {
  auto dest = ResolveTarget(g, current, target, Direction::kDowngrade);
  if (!dest.ok()) return dest.status();
  Plan plan;
  plan.from_heads = current;
  SortTopo(g, plan.from_heads);
  RevisionSet applied = g.Ancestors(current, true);
  RevisionSet remove;
  if (dest->empty()) {
    remove = applied;
  } else {
    for (const std::string& d : *dest) {
      if (!applied.count(d)) {
        return Status::Validation("cannot downgrade to " + std::string(target) + ": revision " + d +
                                  " is not applied (the database is at " + Join(current) + "); use upgrade to go up");
      }
    }
    for (const std::string& id : g.Descendants(*dest, false)) {
      if (applied.count(id)) remove.insert(id);
    }
  }
  std::vector<std::string> order(remove.begin(), remove.end());
  SortTopo(g, order);
  std::reverse(order.begin(), order.end());
  Heads heads = plan.from_heads;
  RevisionSet still = applied;
  for (const std::string& r : order) {
    Step step;
    step.revision = r;
    step.direction = Direction::kDowngrade;
    step.heads_before = heads;
    still.erase(r);
    Heads next;
    for (const std::string& h : heads) {
      if (h != r) next.push_back(h);
    }
    for (const std::string& p : g.Parents(r)) {
      if (!still.count(p) || std::find(next.begin(), next.end(), p) != next.end()) continue;
      bool covered = std::any_of(next.begin(), next.end(), [&](const std::string& h) { return IsAncestor(g, p, h); });
      if (!covered) next.push_back(p);
    }
    SortTopo(g, next);
    heads = next;
    step.heads_after = heads;
    plan.steps.push_back(std::move(step));
  }
  plan.to_heads = heads;
  return plan;
}

Result<Heads> PlanStamp(const RevisionGraph& g, const Heads& current, const std::vector<std::string>& targets,
                        bool purge) {
  Heads heads = purge ? Heads{} : current;
  for (const std::string& spec : targets) {
    if (spec == "base") {
      heads.clear();
      continue;
    }
    auto ids = ResolveTarget(g, heads, spec, Direction::kUpgrade);
    if (!ids.ok()) return ids.status();
    for (const std::string& t : *ids) {
      Heads next;
      for (const std::string& h : heads) {
        if (h != t && !IsAncestor(g, h, t) && !IsAncestor(g, t, h)) next.push_back(h);
      }
      next.push_back(t);
      heads = next;
    }
  }
  SortTopo(g, heads);
  return heads;
}

Result<Plan> PlanOffline(const RevisionGraph& g, Direction direction, std::string_view range) {
  std::string spec(range);
  size_t colon = spec.find(':');
  std::string from = "base", to = spec;
  if (colon != std::string::npos) {
    from = spec.substr(0, colon);
    to = spec.substr(colon + 1);
    if (from.empty()) from = "base";
  } else if (direction == Direction::kDowngrade) {
    return Status::Usage("downgrade --sql needs a range FROM:TO, e.g. 'head:base' or '0005:0002' "
                         "(offline, schemagate cannot read where the database is)");
  }
  auto start = ResolveTarget(g, {}, from, direction);
  if (!start.ok()) return start.status();
  // The heads of the starting point: everything below `from` is applied.
  Heads from_heads = g.HeadsOf(g.Ancestors(*start, true));
  return direction == Direction::kUpgrade ? PlanUpgrade(g, from_heads, to) : PlanDowngrade(g, from_heads, to);
}

AheadCheck CheckAhead(const RevisionGraph& g, const Heads& db_heads, const Heads& wanted,
                      const LoggedParents& log) {
  AheadCheck check;
  RevisionSet known, first_known;
  for (const std::string& h : db_heads) {
    if (g.Contains(h)) {
      known.insert(h);
    } else {
      check.unknown.push_back(h);
    }
  }
  std::sort(check.unknown.begin(), check.unknown.end());
  // Each unknown head's ancestry through the log, up to the first revisions
  // the files define (their own ancestry then comes from the files).
  for (const std::string& head : check.unknown) {
    bool reaches_known = false;
    std::vector<std::string> stack{head};
    RevisionSet seen{head};
    while (!stack.empty()) {
      const std::string cur = stack.back();
      stack.pop_back();
      if (g.Contains(cur)) {
        reaches_known = true;
        first_known.insert(cur);
        continue;
      }
      auto it = log.find(cur);
      if (it == log.end()) continue;  // no row: nothing known about its parents
      for (const std::string& p : it->second) {
        if (seen.insert(p).second) stack.push_back(p);
      }
    }
    if (!reaches_known) check.not_descending.push_back(head);
  }
  known.insert(first_known.begin(), first_known.end());
  const RevisionSet applied = g.Ancestors(std::vector<std::string>(known.begin(), known.end()), true);
  for (const std::string& w : wanted) {
    if (!applied.count(w)) check.missing.push_back(w);
  }
  SortTopo(g, check.missing);
  check.descends_from = g.HeadsOf(first_known);
  check.known_heads = g.HeadsOf(applied);
  check.at_or_past = check.missing.empty() && check.not_descending.empty();
  return check;
}

std::string WhyNotAhead(const AheadCheck& check) {
  if (!check.not_descending.empty()) {
    return "schemagate_log does not show " + Join(check.not_descending) +
           " descending from any revision defined here";
  }
  if (check.missing.empty()) return "";
  return "schemagate_log shows " + Join(check.unknown) + " descending from " + Join(check.descends_from) +
         ", not from " + Join(check.missing) + " (a divergent branch)";
}

Status RefuseUnknownHeads(const AheadCheck& check) {
  const std::string why = WhyNotAhead(check);
  return UnknownHeadsError(check.unknown, why.empty() ? "" : ", and " + why);
}

bool IsAtHeads(const RevisionGraph& g, const Heads& current) {
  RevisionSet applied = g.Ancestors(current, true);
  for (const std::string& h : g.Heads()) {
    if (!applied.count(h)) return false;
  }
  return true;
}

}  // namespace schemagate
