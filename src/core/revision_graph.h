// The revision graph with Alembic's rules (design.md §4).
//
// Nodes are revisions; `down_revisions` are versioned parent edges (a tuple
// makes a merge), `depends_on` adds ancestry edges that do not count for the
// script's heads. Branch labels are unique across the tree.
//
// Thread-compatible: immutable after Build().
#ifndef SCHEMAGATE_CORE_REVISION_GRAPH_H_
#define SCHEMAGATE_CORE_REVISION_GRAPH_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/migration_file.h"
#include "core/status.h"

namespace schemagate {

using RevisionSet = std::set<std::string>;

class RevisionGraph {
 public:
  RevisionGraph() = default;

  // Builds the graph. Fails with kValidation naming the file(s) on: duplicate
  // revision ids, a down_revision or depends_on that names no revision,
  // duplicate branch labels, a label equal to a revision id, and cycles
  // (through down_revision or depends_on; the message lists the cycle).
  static Result<RevisionGraph> Build(std::vector<Revision> revisions);

  size_t size() const { return nodes_.size(); }
  bool empty() const { return nodes_.empty(); }
  bool Contains(std::string_view id) const;
  // The revision with exactly this id; nullptr when absent.
  const Revision* Find(std::string_view id) const;

  // Resolves one revision reference as Alembic does: an exact id, a branch
  // label (the revision that carries it), or else a prefix of exactly one
  // name among the ids and labels longer than 3 characters (so `ae1` finds
  // `ae1027a6acf`, while an id of 3 characters or fewer matches only in
  // full). With `keep`, only names whose revision it accepts count as prefix
  // matches (a branch-qualified target looks only along its branch).
  // kValidation on unknown or ambiguous (the message lists the matches).
  Result<std::string> Resolve(std::string_view ref,
                              const std::function<bool(const std::string&)>& keep = nullptr) const;

  // Script heads: revisions that are nobody's down_revision (a revision that
  // is only a depends_on target is still a head, as in Alembic). In
  // topological order.
  std::vector<std::string> Heads() const;
  // Revisions with no down_revision, in topological order.
  std::vector<std::string> Bases() const;
  // Revisions that are the down_revision of more than one revision.
  std::vector<std::string> BranchPoints() const;
  // Revisions whose down_revision lists more than one parent.
  std::vector<std::string> MergePoints() const;

  // Parents through down_revision and resolved depends_on.
  std::vector<std::string> Parents(std::string_view id) const;
  // Versioned parents only (down_revision).
  const std::vector<std::string>& DownRevisions(std::string_view id) const;
  // Resolved depends_on targets (ids).
  const std::vector<std::string>& Dependencies(std::string_view id) const;
  // Revisions that list `id` as down_revision (not depends_on), sorted.
  std::vector<std::string> Children(std::string_view id) const;
  // The labels that apply to `id`: its own and those inherited from ancestors
  // along down_revision (Alembic propagates labels up to the next branch point).
  std::vector<std::string> BranchLabelsOf(std::string_view id) const;

  // The revisions on `id`'s line: itself, its ancestors and its descendants
  // through down_revision only. Alembic's "shares lineage", which decides
  // whether a revision is on a branch (`LABEL@REV`, `LABEL@head`).
  RevisionSet Line(std::string_view id) const;

  // All ancestors of `ids` through both edge kinds; `ids` included when
  // `inclusive`.
  RevisionSet Ancestors(const std::vector<std::string>& ids, bool inclusive = true) const;
  // All descendants of `ids` through both edge kinds.
  RevisionSet Descendants(const std::vector<std::string>& ids, bool inclusive = true) const;

  // Every revision, parents before children; ties broken by id so the order
  // is deterministic.
  const std::vector<std::string>& TopologicalOrder() const { return topo_; }
  // Position of `id` in TopologicalOrder().
  size_t TopoIndex(std::string_view id) const;

  // Reduces a set of applied revisions to its heads: the members that are not
  // an ancestor (through either edge kind) of another member. This is exactly
  // the content Alembic keeps in alembic_version. Topological order.
  std::vector<std::string> HeadsOf(const RevisionSet& applied) const;

 private:
  // Everything reachable from `ids` through parents (`up`) or children.
  RevisionSet Reachable(const std::vector<std::string>& ids, bool inclusive, bool up) const;

  struct Node {
    Revision revision;
    std::vector<std::string> dependencies;  // resolved depends_on
    std::vector<std::string> children;      // down_revision edges reversed
    std::vector<std::string> dependents;    // depends_on edges reversed
  };
  std::map<std::string, Node, std::less<>> nodes_;
  std::map<std::string, std::string, std::less<>> labels_;  // label -> id
  std::vector<std::string> topo_;
  std::map<std::string, size_t, std::less<>> topo_index_;
};

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_REVISION_GRAPH_H_
