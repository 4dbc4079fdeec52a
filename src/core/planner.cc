#include "core/planner.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <functional>

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

namespace {

// A target spec split as Alembic reads it: `[BRANCH@]SYMBOL`, where SYMBOL
// is `head`, `heads`, `base` or a revision reference, or `[BRANCH@][SYMBOL]+N`
// / `-N` (no SYMBOL: relative to the database's heads).
struct Target {
  std::string spec;
  std::string branch;  // before '@'; empty when there is none
  std::string symbol;
  bool relative = false;
  int steps = 0;  // signed; relative targets only
};

Result<Target> ParseTarget(std::string_view text) {
  Target t;
  t.spec = std::string(text);
  if (text.empty()) return Status::Validation("empty target");
  std::string rest = t.spec;
  const size_t at = rest.find('@');
  if (at != std::string::npos) {
    t.branch = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (t.branch.empty() || rest.empty() || rest.find('@') != std::string::npos) {
      return Status::Validation("target " + t.spec +
                                ": expected BRANCH@WHAT, e.g. shop@head, shop@heads, shop@base, shop@-1, "
                                "shop@head-1, shop@base+1 or shop@REV");
    }
  }
  const size_t sign = rest.find_last_of("+-");
  if (sign != std::string::npos && AllDigits(rest.substr(sign + 1))) {
    // Saturating: a walk ends at a head or below base long before INT_MAX
    // steps, so any larger count fails the same way (std::stoi would throw).
    int steps = 0;
    for (char c : rest.substr(sign + 1)) {
      steps = steps > (INT_MAX - 9) / 10 ? INT_MAX : steps * 10 + (c - '0');
    }
    t.relative = true;
    t.symbol = rest.substr(0, sign);
    t.steps = rest[sign] == '-' ? -steps : steps;
    return t;
  }
  t.symbol = rest;  // ids have no '+' or '-'; a label may, and is looked up as it is
  return t;
}

// The revision BRANCH names (Alembic's _resolve_branch): a label, an id or a
// unique prefix. Empty when the target names no branch.
Result<std::string> BranchRevision(const RevisionGraph& g, const Target& t) {
  if (t.branch.empty()) return std::string();
  auto id = g.Resolve(t.branch);
  if (!id.ok()) return id.status().Prefixed("target " + t.spec + ": no branch '" + t.branch + "'");
  return id;
}

Heads Filter(const Heads& ids, const RevisionSet& keep) {
  Heads out;
  for (const std::string& id : ids) {
    if (keep.count(id)) out.push_back(id);
  }
  return out;
}

// Script heads on the branch's line (every script head without a branch).
Heads BranchHeads(const RevisionGraph& g, const std::string& branch_id) {
  return branch_id.empty() ? g.Heads() : Filter(g.Heads(), g.Line(branch_id));
}

// `heads` without a branch: the revisions nothing builds on, through
// down_revision or depends_on (Alembic's "real" heads).
Heads AllHeads(const RevisionGraph& g) {
  const auto& all = g.TopologicalOrder();
  return g.HeadsOf(RevisionSet(all.begin(), all.end()));
}

// `head` / `BRANCH@head`: the one head of the branch (of the tree without one).
Result<Heads> OneHead(const RevisionGraph& g, const Target& t, const std::string& branch_id) {
  Heads heads = BranchHeads(g, branch_id);
  if (heads.size() <= 1) return heads;
  if (branch_id.empty()) {
    return Status::Validation("'head' is ambiguous: the migrations have " + std::to_string(heads.size()) +
                              " heads (" + Join(heads) +
                              "); use 'heads', a LABEL@head or REV, or merge them with 'schemagate merge'");
  }
  return Status::Validation("target " + t.spec + " is ambiguous: branch " + t.branch + " has heads " + Join(heads));
}

// A revision reference, on the branch's line when there is a branch (a
// prefix then only matches revisions on it, as in Alembic).
Result<std::string> Ident(const RevisionGraph& g, const Target& t, const std::string& symbol,
                          const std::string& branch_id) {
  RevisionSet line;
  std::function<bool(const std::string&)> keep;
  if (!branch_id.empty()) {
    line = g.Line(branch_id);
    keep = [&line](const std::string& id) { return line.count(id) > 0; };
  }
  auto id = g.Resolve(symbol, keep);
  if (!id.ok()) {
    const size_t sign = symbol.find_last_of("+-");
    if (!t.relative && sign != std::string::npos) {
      return Status::Validation("target '" + t.spec + "': expected a number after '" + symbol[sign] + "'");
    }
    if (!branch_id.empty()) return id.status().Prefixed("target " + t.spec + ", on branch " + t.branch);
    return id.status();
  }
  if (!branch_id.empty() && !line.count(*id)) {
    return Status::Validation("target " + t.spec + ": revision " + *id + " is not on branch " + t.branch +
                              " (neither an ancestor nor a descendant of " + branch_id + ")");
  }
  return id;
}

// Alembic's get_revisions: `heads`, `head`, `base` or a revision, each
// optionally on a branch. Empty for base.
Result<Heads> Absolute(const RevisionGraph& g, const Target& t, const std::string& symbol,
                       const std::string& branch_id) {
  if (symbol == "base") return Heads{};
  if (symbol == "heads") return branch_id.empty() ? AllHeads(g) : BranchHeads(g, branch_id);
  if (symbol == "head") return OneHead(g, t, branch_id);
  auto id = Ident(g, t, symbol, branch_id);
  if (!id.ok()) return id.status();
  return Heads{*id};
}

// Alembic's get_revision: as Absolute, but one revision at most; "" is base.
Result<std::string> Single(const RevisionGraph& g, const Target& t, const std::string& symbol,
                           const std::string& branch_id) {
  auto ids = Absolute(g, t, symbol, branch_id);
  if (!ids.ok()) return ids.status();
  if (ids->size() > 1) {
    return Status::Validation("target " + t.spec + ": '" + symbol + "' names " + std::to_string(ids->size()) +
                              " revisions (" + Join(*ids) + ") where one is needed; name one of them");
  }
  return ids->empty() ? std::string() : ids->front();
}

// Walks `steps` along down_revision edges from `from` ("" is base): up
// through children (only those on the branch's line when there is a branch),
// down through parents, where a base steps to base. A fork on the way is an
// error naming the ways.
Result<std::string> Walk(const RevisionGraph& g, const Target& t, std::string from, int steps,
                         const std::string& branch_id) {
  const bool up = steps > 0;
  RevisionSet line;
  if (up && !branch_id.empty()) line = g.Line(branch_id);
  for (int i = 0; i < (up ? steps : -steps); ++i) {
    std::vector<std::string> next;
    if (up) {
      next = from.empty() ? g.Bases() : g.Children(from);
      if (!branch_id.empty()) next = Filter(next, line);
      if (next.empty()) {
        return Status::Validation("target " + t.spec + ": there is no revision above " +
                                  (from.empty() ? std::string("base") : from) +
                                  (branch_id.empty() ? "" : " on branch " + t.branch));
      }
    } else {
      if (from.empty()) return Status::Validation("target " + t.spec + " goes below base");
      next = g.DownRevisions(from);
      if (next.empty()) {
        from.clear();
        continue;
      }
    }
    if (next.size() > 1) {
      return Status::Validation("target " + t.spec + " is ambiguous: " + (from.empty() ? std::string("base") : from) +
                                (up ? " branches into " : " merges ") + Join(next) + "; name the branch (e.g. " +
                                (up ? next[0] + "@+N" : next[0] + "-N") + ")");
    }
    from = next[0];
  }
  return from;
}

Heads AsHeads(const std::string& id) { return id.empty() ? Heads{} : Heads{id}; }

Status SeveralCurrentHeads(const Target& t, const Heads& current) {
  return Status::Validation("target " + t.spec + " is relative to the current revision, but the database has " +
                            std::to_string(current.size()) + " heads (" + Join(current) + "); use REV" +
                            (t.steps > 0 ? "+" : "-") + std::to_string(t.steps > 0 ? t.steps : -t.steps) +
                            " or LABEL@" + (t.steps > 0 ? "+" : "-") +
                            std::to_string(t.steps > 0 ? t.steps : -t.steps) + " instead");
}

// Alembic's _parse_upgrade_target.
Result<Heads> ResolveUpgrade(const RevisionGraph& g, const Heads& current, const Target& t) {
  auto branch = BranchRevision(g, t);
  if (!branch.ok()) return branch.status();
  const std::string& branch_id = *branch;
  if (!t.relative) return Absolute(g, t, t.symbol, branch_id);
  if (t.steps > 0) {
    std::string from;
    if (t.symbol.empty()) {
      Heads start = current;
      if (!branch_id.empty()) {
        const RevisionSet line = g.Line(branch_id);
        start = Filter(current, line);
        if (start.empty()) {
          // No database head on the branch: start from the tips of its
          // applied revisions (below a branch point), else from base.
          RevisionSet active;
          for (const std::string& id : g.Ancestors(current, true)) {
            if (line.count(id)) active.insert(id);
          }
          RevisionSet below;
          for (const std::string& id : active) {
            for (const std::string& p : g.Parents(id)) below.insert(p);
          }
          for (const std::string& id : active) {
            if (!below.count(id)) start.push_back(id);
          }
        }
      }
      if (start.size() > 1) return SeveralCurrentHeads(t, start);
      if (!start.empty()) from = start[0];
    } else {
      // SYMBOL+N: the walk starts at SYMBOL; the branch only chooses the way.
      auto s = Single(g, t, t.symbol, "");
      if (!s.ok()) return s.status();
      from = *s;
    }
    auto to = Walk(g, t, from, t.steps, branch_id);
    if (!to.ok()) return to.status();
    return AsHeads(*to);
  }
  if (t.symbol.empty()) {
    return Status::Validation("target " + t.spec + " counts down from the current revision, and upgrade only goes up; "
                              "run 'schemagate downgrade " + t.spec + "'");
  }
  auto from = Single(g, t, t.symbol, branch_id);
  if (!from.ok()) return from.status();
  auto to = Walk(g, t, *from, t.steps, "");
  if (!to.ok()) return to.status();
  return AsHeads(*to);
}

// What a downgrade goes down to: `target` (empty: base) and the branch that
// narrows what is reverted when the target has several children.
struct DownTarget {
  Heads target;
  std::string branch_id;
  std::string branch;  // as written
};

// Alembic's _parse_downgrade_target.
Result<DownTarget> ResolveDowngrade(const RevisionGraph& g, const Heads& current, const Target& t) {
  auto branch = BranchRevision(g, t);
  if (!branch.ok()) return branch.status();
  DownTarget d;
  d.branch_id = *branch;
  d.branch = t.branch;
  if (!t.relative) {
    // As Alembic: the revision is looked up on its own; the branch only
    // narrows which of its children are reverted.
    auto s = Single(g, t, t.symbol, "");
    if (!s.ok()) return s.status();
    d.target = AsHeads(*s);
    return d;
  }
  if (t.steps >= 0) {
    if (t.symbol.empty()) {
      return Status::Validation("target " + t.spec + " counts up from the current revision, and downgrade only goes "
                                "down; run 'schemagate upgrade " + t.spec + "'");
    }
    auto from = Single(g, t, t.symbol, "");
    if (!from.ok()) return from.status();
    auto to = Walk(g, t, *from, t.steps, d.branch_id);
    if (!to.ok()) return to.status();
    d.target = AsHeads(*to);
    return d;
  }
  std::string from;
  if (t.symbol.empty()) {
    if (!d.branch_id.empty()) {
      const RevisionSet line = g.Line(d.branch_id);
      Heads on = Filter(current, line);
      if (on.empty()) {
        // Heads the branch shares with others through depends_on: the tips
        // (along down_revision) of everything applied, on the branch.
        const RevisionSet applied = g.Ancestors(current, true);
        for (const std::string& id : applied) {
          bool tip = true;
          for (const std::string& c : g.Children(id)) tip = tip && !applied.count(c);
          if (tip && line.count(id)) on.push_back(id);
        }
      }
      if (on.empty()) {
        return Status::Validation("target " + t.spec + ": nothing on branch " + t.branch +
                                  " is applied (the database is at " + Join(current) + ")");
      }
      if (on.size() > 1) return SeveralCurrentHeads(t, on);
      from = on[0];
    } else {
      if (current.empty()) {
        return Status::Validation("target " + t.spec + ": the database is at base; there is nothing to go down from");
      }
      // Alembic picks one of several heads by row order and warns that it
      // will stop; schemagate refuses.
      if (current.size() > 1) return SeveralCurrentHeads(t, current);
      from = current[0];
      d.branch_id = from;  // as Alembic: the revert stays on that head's line
      d.branch = from;
    }
  } else {
    auto s = Single(g, t, t.symbol, d.branch_id);
    if (!s.ok()) return s.status();
    from = *s;
  }
  auto to = Walk(g, t, from, t.steps, "");
  if (!to.ok()) return to.status();
  d.target = AsHeads(*to);
  return d;
}

RevisionSet VersionedAncestors(const RevisionGraph& g, const std::string& id) {
  RevisionSet out{id};
  std::vector<std::string> stack{id};
  while (!stack.empty()) {
    std::string cur = stack.back();
    stack.pop_back();
    for (const std::string& p : g.DownRevisions(cur)) {
      if (out.insert(p).second) stack.push_back(p);
    }
  }
  return out;
}

}  // namespace

bool TargetCountsFromDatabase(std::string_view target) {
  auto t = ParseTarget(target);
  return t.ok() && t->relative && t->symbol.empty();
}

Result<Heads> ResolveTarget(const RevisionGraph& g, const Heads& current, std::string_view target,
                            Direction direction) {
  auto t = ParseTarget(target);
  if (!t.ok()) return t.status();
  if (direction == Direction::kUpgrade) return ResolveUpgrade(g, current, *t);
  auto d = ResolveDowngrade(g, current, *t);
  if (!d.ok()) return d.status();
  return d->target;
}

Result<Plan> PlanUpgrade(const RevisionGraph& g, const Heads& current, std::string_view target) {
  auto dest = ResolveTarget(g, current, target, Direction::kUpgrade);
  if (!dest.ok()) return dest.status();
  Plan plan;
  plan.from_heads = current;
  SortTopo(g, plan.from_heads);
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
  auto t = ParseTarget(target);
  if (!t.ok()) return t.status();
  auto dest = ResolveDowngrade(g, current, *t);
  if (!dest.ok()) return dest.status();
  Plan plan;
  plan.from_heads = current;
  SortTopo(g, plan.from_heads);
  RevisionSet applied = g.Ancestors(current, true);
  // Alembic's rule: revert the target's children along down_revision (every
  // base for `base`) and whatever descends from them, depends_on included;
  // a revision that only depends on the target stays, as the target does.
  std::vector<std::string> roots = dest->target.empty() ? g.Bases() : g.Children(dest->target[0]);
  if (!dest->branch_id.empty() && roots.size() > 1) {
    const RevisionSet on_branch = VersionedAncestors(g, dest->branch_id);
    roots = Filter(roots, on_branch);
    if (roots.empty()) {
      return Status::Validation("cannot downgrade to " + t->spec + ": no child of " + Join(dest->target) +
                                " leads to branch " + dest->branch);
    }
  }
  RevisionSet remove;
  for (const std::string& id : g.Descendants(roots, true)) {
    if (applied.count(id)) remove.insert(id);
  }
  if (!dest->target.empty() && remove.empty() &&
      std::find(current.begin(), current.end(), dest->target[0]) == current.end()) {
    const std::string& d = dest->target[0];
    if (!applied.count(d)) {
      return Status::Validation("cannot downgrade to " + t->spec + ": revision " + d +
                                " is not applied (the database is at " + Join(current) + "); use upgrade to go up");
    }
    return Status::Validation("cannot downgrade to " + t->spec + ": revision " + d +
                              " is applied only because " + Join(current) +
                              " depends on it, and nothing above it is applied; name a revision the database "
                              "descends from");
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
    auto t = ParseTarget(spec);
    if (!t.ok()) return t.status();
    if (t->relative) {
      return Status::Validation("stamp " + spec +
                                ": stamp takes revisions, heads, base or BRANCH@..., not steps (as Alembic); "
                                "name the revision ('schemagate history' lists them)");
    }
    auto branch = BranchRevision(g, *t);
    if (!branch.ok()) return branch.status();
    auto ids = Absolute(g, *t, t->symbol, *branch);
    if (!ids.ok()) return ids.status();
    if (ids->empty()) {
      // base clears the table; BRANCH@base only the heads on the branch's
      // line (depends_on included), as Alembic.
      Heads next;
      if (!branch->empty()) {
        for (const std::string& h : heads) {
          const bool related = g.Ancestors({h}, true).count(*branch) || g.Descendants({h}, true).count(*branch);
          if (!related) next.push_back(h);
        }
      }
      heads = next;
      continue;
    }
    for (const std::string& id : *ids) {
      Heads next;
      for (const std::string& h : heads) {
        if (h != id && !IsAncestor(g, h, id) && !IsAncestor(g, id, h)) next.push_back(h);
      }
      next.push_back(id);
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
