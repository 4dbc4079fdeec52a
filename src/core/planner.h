// Turning a target into the ordered steps that reach it (design.md §4, §5).
//
// The "heads" of a database are the rows of alembic_version: the applied
// revisions that no other applied revision descends from. Every plan carries
// the head set before and after each step, so the db layer and the offline
// renderer write the version table exactly as Alembic would.
#ifndef SCHEMAGATE_CORE_PLANNER_H_
#define SCHEMAGATE_CORE_PLANNER_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/migration_file.h"
#include "core/revision_graph.h"
#include "core/status.h"

namespace schemagate {

using Heads = std::vector<std::string>;

struct Step {
  std::string revision;
  Direction direction = Direction::kUpgrade;
  Heads heads_before;
  Heads heads_after;
};

struct Plan {
  Heads from_heads;
  Heads to_heads;
  std::vector<Step> steps;  // empty: nothing to do
};

// One write to alembic_version. Alembic's shapes: INSERT for a new branch,
// UPDATE for a step, DELETE + UPDATE on a merge, UPDATE + INSERT on an
// unmerge, DELETE when a branch goes back to base.
struct VersionWrite {
  enum class Kind { kInsert, kUpdate, kDelete };
  Kind kind;
  std::string from;  // kUpdate, kDelete: the row to change or remove
  std::string to;    // kInsert, kUpdate: the new value
};

// The writes that turn head set `before` into `after`: DELETEs first, then
// UPDATEs, then INSERTs.
std::vector<VersionWrite> VersionWrites(const Heads& before, const Heads& after);

// Checks that every current head is a known revision. kValidation naming the
// unknown ones ("the database is at revision X, which no migration file defines").
Status CheckHeadsKnown(const RevisionGraph& graph, const Heads& current_heads);

// Target specs (design.md §4), read as Alembic 1.8 reads them:
//   head, heads, base   the single script head (kValidation naming them if
//                       several), every head, nothing applied
//   REV                 an id, a branch label, or a unique prefix of an id
//                       or label (names of 3 characters or fewer match only
//                       in full)
//   +N / -N             N steps up / down from the database's single head
//   REV+N / REV-N       N steps up / down from REV; REV may be head or base
//                       (head-1, base+2)
//   B@head, B@heads,    on branch B (a label, an id or a prefix: a revision
//   B@base, B@REV,      "on" B is an ancestor or descendant of it along
//   B@+N, B@-N,         down_revision): its head, its heads, base, REV (which
//   B@head-N, B@base+N  must be on it; a prefix only matches on it), steps
//                       from the database's head on B, walks that keep to B
// A walk that would have to choose between two branches is an error that
// names them. Upgrades take no -N and downgrades no +N (as Alembic); stamp
// takes no relative form at all. In a downgrade, B@X looks X up on its own,
// and B only chooses which of X's children are reverted (Alembic's meaning).

// True for +N, -N, B@+N and B@-N: targets that count from the database's
// heads, so those must be revisions the files define.
bool TargetCountsFromDatabase(std::string_view target);

// The revisions that must be applied to reach `target` from `current_heads`,
// parents before children. A target already reached, or below the database,
// or base, plans no steps (Alembic does nothing then).
Result<Plan> PlanUpgrade(const RevisionGraph& graph, const Heads& current_heads,
                         std::string_view target);

// The revisions that must be unapplied to go down to `target`, children
// before parents, as Alembic chooses them: the target's children along
// down_revision (for base: every base), narrowed to branch B's way for
// B@..., and every applied revision descending from those, depends_on
// included. A revision that merely depends on the target stays. kValidation
// when nothing would be reverted and the target is not a database head (not
// applied, or applied only as a dependency).
Result<Plan> PlanDowngrade(const RevisionGraph& graph, const Heads& current_heads,
                           std::string_view target);

// The head set after stamping `targets` over `current_heads` (empty when
// `purge`): each target replaces the heads it is an ancestor or descendant
// of; `base` clears everything, `B@base` the heads on B's line. Absolute
// targets only (kValidation for +N, -N, REV+N, ...). Runs nothing.
Result<Heads> PlanStamp(const RevisionGraph& graph, const Heads& current_heads,
                        const std::vector<std::string>& targets, bool purge);

// For `--sql` (offline): `range` is "FROM:TO" or just "TO" (FROM defaults to
// base for upgrade; a downgrade needs both). FROM may be "base".
Result<Plan> PlanOffline(const RevisionGraph& graph, Direction direction,
                         std::string_view range);

// Resolves a target spec to a set of revision ids (empty for `base`), using
// `current_heads` for relative forms, as `upgrade` (kUpgrade) or `downgrade`
// (kDowngrade: one revision at most, the one to go down to) reads it.
// Exposed for `history -r`, `wait`, `show`, `merge`, tests.
Result<Heads> ResolveTarget(const RevisionGraph& graph, const Heads& current_heads,
                            std::string_view target, Direction direction);

// True when every script head is applied (in the ancestry of current_heads).
bool IsAtHeads(const RevisionGraph& graph, const Heads& current_heads);

// Releases behind the database (design.md §4): a rollback, or an old pod of
// a rolling update, runs files that end before the database's heads.

// Parents of revisions as schemagate_log records them: for the latest
// succeeded upgrade of each revision, the heads its step replaced
// (from_heads minus to_heads). Empty for a new base, and for a branch started
// below a head (the version table never held its parent then).
using LoggedParents = std::map<std::string, std::vector<std::string>>;

// Where a database whose heads may include revisions no file here defines
// stands against the revisions a run wants.
struct AheadCheck {
  // Every wanted revision is applied (an ancestor of the database's heads:
  // through the files' graph, depends_on included, and, for revisions the
  // files do not define, through `log`), and every unknown head descends
  // through `log` from a revision the files define.
  bool at_or_past = false;
  Heads unknown;         // database heads no file defines, sorted
  Heads not_descending;  // unknown heads whose logged ancestry reaches no known revision, sorted
  Heads missing;         // wanted revisions that are not applied, topological order
  Heads descends_from;   // the known revisions the unknown heads' logged ancestry reaches first
  Heads known_heads;     // the heads of the applied known revisions (for CheckChecksums)
  // At or past, with heads this release does not know: a newer release ran.
  bool ahead() const { return at_or_past && !unknown.empty(); }
};

// Pure: `wanted` are resolved target revisions (all defined in `graph`);
// `log` is read only when some head is unknown (the no-op pod start at a
// known head never needs it). With every head known, at_or_past is true
// exactly when every wanted revision is applied.
AheadCheck CheckAhead(const RevisionGraph& graph, const Heads& db_heads, const Heads& wanted,
                      const LoggedParents& log);

// Why a database with unknown heads is not at or past (`check.at_or_past`
// false), as a clause: "schemagate_log shows 0006x descending from 0004, not
// from 0005 (a divergent branch)".
std::string WhyNotAhead(const AheadCheck& check);

// CheckHeadsKnown's refusal for such a database, with WhyNotAhead's clause
// added. kValidation.
Status RefuseUnknownHeads(const AheadCheck& check);

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_PLANNER_H_
