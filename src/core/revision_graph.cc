#include "core/revision_graph.h"

#include <algorithm>
#include <queue>

namespace schemagate {
namespace {

const std::vector<std::string> kEmpty;

std::string Join(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

Result<RevisionGraph> RevisionGraph::Build(std::vector<Revision> revisions) {
  RevisionGraph g;
  for (Revision& r : revisions) {
    auto it = g.nodes_.find(r.id);
    if (it != g.nodes_.end()) {
      return Status::Validation("duplicate revision id " + r.id + ": " + it->second.revision.path + " and " +
                                r.path);
    }
    std::string id = r.id;
    g.nodes_[id].revision = std::move(r);
  }
  for (auto& [id, node] : g.nodes_) {
    for (const std::string& label : node.revision.branch_labels) {
      if (g.nodes_.count(label)) {
        return Status::Validation(node.revision.path + ": branch label '" + label +
                                  "' is also a revision id; labels and ids must differ");
      }
      auto [where, inserted] = g.labels_.emplace(label, id);
      if (!inserted) {
        return Status::Validation("branch label '" + label + "' is used twice: " +
                                  g.nodes_[where->second].revision.path + " and " + node.revision.path);
      }
    }
  }
  for (auto& [id, node] : g.nodes_) {
    std::vector<std::string> seen;
    for (const std::string& down : node.revision.down_revisions) {
      if (!g.nodes_.count(down)) {
        // Alembic writes a base as `down_revision = None`; here a base leaves it empty.
        const bool none = down == "None" || down == "none" || down == "null" || down == "NULL";
        return Status::Validation(node.revision.path + ": down_revision " + down +
                                  " names no revision in this directory (" +
                                  (none ? "for a first revision leave it empty: '-- down_revision:'"
                                        : "missing file, or a typo?") +
                                  ")");
      }
      if (down == id) return Status::Validation(node.revision.path + ": revision " + id + " is its own down_revision");
      if (std::find(seen.begin(), seen.end(), down) != seen.end()) {
        return Status::Validation(node.revision.path + ": down_revision lists " + down + " twice");
      }
      seen.push_back(down);
    }
    for (const std::string& dep : node.revision.depends_on) {
      auto resolved = g.Resolve(dep);
      if (!resolved.ok()) return resolved.status().Prefixed(node.revision.path + ": depends_on");
      if (*resolved == id) return Status::Validation(node.revision.path + ": revision " + id + " depends on itself");
      if (std::find(node.dependencies.begin(), node.dependencies.end(), *resolved) == node.dependencies.end()) {
        node.dependencies.push_back(*resolved);
      }
    }
  }
  for (auto& [id, node] : g.nodes_) {
    for (const std::string& down : node.revision.down_revisions) g.nodes_[down].children.push_back(id);
    for (const std::string& dep : node.dependencies) g.nodes_[dep].dependents.push_back(id);
  }

  // Kahn's algorithm; the ready set is ordered by id for a deterministic order.
  std::map<std::string, size_t, std::less<>> indegree;
  std::priority_queue<std::string, std::vector<std::string>, std::greater<>> ready;
  for (auto& [id, node] : g.nodes_) {
    size_t d = node.revision.down_revisions.size();
    for (const std::string& dep : node.dependencies) {
      if (std::find(node.revision.down_revisions.begin(), node.revision.down_revisions.end(), dep) ==
          node.revision.down_revisions.end()) {
        ++d;
      }
    }
    indegree[id] = d;
    if (d == 0) ready.push(id);
  }
  while (!ready.empty()) {
    std::string id = ready.top();
    ready.pop();
    g.topo_index_[id] = g.topo_.size();
    g.topo_.push_back(id);
    const Node& node = g.nodes_[id];
    std::vector<std::string> next = node.children;
    for (const std::string& d : node.dependents) {
      if (std::find(next.begin(), next.end(), d) == next.end()) next.push_back(d);
    }
    for (const std::string& child : next) {
      if (--indegree[child] == 0) ready.push(child);
    }
  }
  if (g.topo_.size() != g.nodes_.size()) {
    // Walk parents from an unsorted node until a node repeats: that is a cycle.
    std::string start;
    for (const auto& [id, d] : indegree) {
      if (!g.topo_index_.count(id)) {
        start = id;
        break;
      }
    }
    std::vector<std::string> path;
    std::map<std::string, size_t> position;
    std::string cur = start;
    while (!position.count(cur)) {
      position[cur] = path.size();
      path.push_back(cur);
      std::string next;
      for (const std::string& p : g.Parents(cur)) {
        if (!g.topo_index_.count(p)) {
          next = p;
          break;
        }
      }
      cur = next;
    }
    std::vector<std::string> cycle(path.begin() + static_cast<long>(position[cur]), path.end());
    std::reverse(cycle.begin(), cycle.end());
    cycle.push_back(cycle.front());
    std::string files;
    for (size_t i = 0; i + 1 < cycle.size(); ++i) files += (files.empty() ? "" : ", ") + g.nodes_[cycle[i]].revision.path;
    return Status::Validation("revision cycle: " + Join(cycle, " -> ") + " (through down_revision/depends_on in " +
                              files + ")");
  }
  return g;
}

bool RevisionGraph::Contains(std::string_view id) const { return nodes_.find(id) != nodes_.end(); }

const Revision* RevisionGraph::Find(std::string_view id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second.revision;
}

Result<std::string> RevisionGraph::Resolve(std::string_view ref,
                                           const std::function<bool(const std::string&)>& keep) const {
  if (nodes_.find(ref) != nodes_.end()) return std::string(ref);
  auto label = labels_.find(ref);
  if (label != labels_.end()) return label->second;
  if (ref.empty()) return Status::Validation("empty revision reference");
  // Alembic's partial lookup runs over the keys of its revision map, which
  // hold the labels beside the ids; names of 3 characters or fewer never
  // match by prefix.
  std::vector<std::string> names;
  std::vector<std::string> revisions;
  auto consider = [&](const std::string& name, const std::string& id) {
    if (name.size() <= 3 || name.compare(0, ref.size(), ref) != 0) return;
    if (keep && !keep(id)) return;
    names.push_back(name);
    revisions.push_back(id);
  };
  for (auto it = nodes_.lower_bound(ref); it != nodes_.end() && it->first.compare(0, ref.size(), ref) == 0; ++it) {
    consider(it->first, it->first);
  }
  for (auto it = labels_.lower_bound(ref); it != labels_.end() && it->first.compare(0, ref.size(), ref) == 0; ++it) {
    consider(it->first, it->second);
  }
  if (names.size() == 1) return revisions[0];
  if (names.size() > 1) {
    std::sort(names.begin(), names.end());
    return Status::Validation("revision prefix '" + std::string(ref) + "' is ambiguous: it matches " +
                              Join(names));
  }
  return Status::Validation("no revision '" + std::string(ref) + "' among " + std::to_string(nodes_.size()) +
                            " revisions (not an id, a unique prefix of an id or label, or a branch label)");
}

RevisionSet RevisionGraph::Line(std::string_view id) const {
  RevisionSet out;
  if (!Contains(id)) return out;
  for (bool up : {true, false}) {
    std::vector<std::string> stack{std::string(id)};
    while (!stack.empty()) {
      std::string cur = stack.back();
      stack.pop_back();
      if (!out.insert(cur).second && cur != id) continue;
      const Node& n = nodes_.find(cur)->second;
      for (const std::string& next : up ? n.revision.down_revisions : n.children) {
        if (!out.count(next)) stack.push_back(next);
      }
    }
  }
  return out;
}

std::vector<std::string> RevisionGraph::Heads() const {
  std::vector<std::string> out;
  for (const std::string& id : topo_) {
    if (nodes_.find(id)->second.children.empty()) out.push_back(id);
  }
  return out;
}

std::vector<std::string> RevisionGraph::Bases() const {
  std::vector<std::string> out;
  for (const std::string& id : topo_) {
    if (nodes_.find(id)->second.revision.down_revisions.empty()) out.push_back(id);
  }
  return out;
}

std::vector<std::string> RevisionGraph::BranchPoints() const {
  std::vector<std::string> out;
  for (const std::string& id : topo_) {
    if (nodes_.find(id)->second.children.size() > 1) out.push_back(id);
  }
  return out;
}

std::vector<std::string> RevisionGraph::MergePoints() const {
  std::vector<std::string> out;
  for (const std::string& id : topo_) {
    if (nodes_.find(id)->second.revision.down_revisions.size() > 1) out.push_back(id);
  }
  return out;
}

std::vector<std::string> RevisionGraph::Parents(std::string_view id) const {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return {};
  std::vector<std::string> out = it->second.revision.down_revisions;
  for (const std::string& d : it->second.dependencies) {
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
  }
  return out;
}

const std::vector<std::string>& RevisionGraph::DownRevisions(std::string_view id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? kEmpty : it->second.revision.down_revisions;
}

const std::vector<std::string>& RevisionGraph::Dependencies(std::string_view id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? kEmpty : it->second.dependencies;
}

std::vector<std::string> RevisionGraph::Children(std::string_view id) const {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return {};
  std::vector<std::string> out = it->second.children;
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> RevisionGraph::BranchLabelsOf(std::string_view id) const {
  // A label names the branch from its revision on: it applies to the
  // revision that carries it and to every descendant through down_revision.
  std::vector<std::string> out;
  RevisionSet ancestors;
  std::vector<std::string> stack{std::string(id)};
  while (!stack.empty()) {
    std::string cur = stack.back();
    stack.pop_back();
    if (!ancestors.insert(cur).second) continue;
    for (const std::string& p : DownRevisions(cur)) stack.push_back(p);
  }
  for (const std::string& a : ancestors) {
    for (const std::string& l : nodes_.find(a)->second.revision.branch_labels) out.push_back(l);
  }
  std::sort(out.begin(), out.end());
  return out;
}

RevisionSet RevisionGraph::Reachable(const std::vector<std::string>& ids, bool inclusive, bool up) const {
  RevisionSet out;
  std::vector<std::string> stack;
  for (const std::string& id : ids) {
    if (!Contains(id)) continue;
    if (!inclusive || out.insert(id).second) stack.push_back(id);
  }
  while (!stack.empty()) {
    std::string cur = stack.back();
    stack.pop_back();
    const Node& n = nodes_.find(cur)->second;
    const std::vector<std::string>* lists[2] = {up ? &n.revision.down_revisions : &n.children,
                                                up ? &n.dependencies : &n.dependents};
    for (const auto* list : lists) {
      for (const std::string& next : *list) {
        if (out.insert(next).second) stack.push_back(next);
      }
    }
  }
  return out;
}

RevisionSet RevisionGraph::Ancestors(const std::vector<std::string>& ids, bool inclusive) const {
  return Reachable(ids, inclusive, true);
}

RevisionSet RevisionGraph::Descendants(const std::vector<std::string>& ids, bool inclusive) const {
  return Reachable(ids, inclusive, false);
}

size_t RevisionGraph::TopoIndex(std::string_view id) const {
  auto it = topo_index_.find(id);
  return it == topo_index_.end() ? static_cast<size_t>(-1) : it->second;
}

std::vector<std::string> RevisionGraph::HeadsOf(const RevisionSet& applied) const {
  // Everything reachable through at least one parent edge from a member is
  // covered by that member; the members left uncovered are the heads.
  RevisionSet covered;
  std::vector<std::string> stack;
  for (const std::string& id : applied) {
    for (const std::string& p : Parents(id)) {
      if (covered.insert(p).second) stack.push_back(p);
    }
  }
  while (!stack.empty()) {
    std::string cur = stack.back();
    stack.pop_back();
    for (const std::string& p : Parents(cur)) {
      if (covered.insert(p).second) stack.push_back(p);
    }
  }
  std::vector<std::string> out;
  for (const std::string& id : applied) {
    if (!covered.count(id)) out.push_back(id);
  }
  std::sort(out.begin(), out.end(),
            [this](const std::string& a, const std::string& b) { return TopoIndex(a) < TopoIndex(b); });
  return out;
}

}  // namespace schemagate
