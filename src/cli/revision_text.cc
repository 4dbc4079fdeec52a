#include "cli/revision_text.h"

#include <algorithm>
#include <set>
#include <sstream>

namespace schemagate::cli {
namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

RevisionText::RevisionText(const MigrationSet& set) : set_(set) {
  const RevisionGraph& g = set.graph();
  const auto& topo = g.TopologicalOrder();
  for (const std::string& id : topo) {
    for (const std::string& dep : g.Dependencies(id)) dependents_[dep].push_back(id);
  }
  // Alembic's RevisionMap._add_branches: a revision's labels go to every
  // descendant through down_revision, then up from the last of them it
  // visits, as long as a revision neither merges nor has more than one
  // child or dependent. Its visiting order is a set's; here the children
  // are taken in order, which is the same whenever the labelled branch does
  // not split.
  std::map<std::string, std::set<std::string>> labels;
  auto fanout = [&](const std::string& id) {
    auto it = dependents_.find(id);
    return g.Children(id).size() + (it == dependents_.end() ? 0 : it->second.size());
  };
  for (const std::string& id : topo) {
    if (g.Find(id)->branch_labels.empty()) continue;
    std::set<std::string>& own = labels[id];
    own.insert(g.Find(id)->branch_labels.begin(), g.Find(id)->branch_labels.end());
    const std::set<std::string> spread = own;
    std::vector<std::string> stack{id};
    std::set<std::string> seen;
    std::string last = id;
    while (!stack.empty()) {
      std::string cur = stack.back();
      stack.pop_back();
      if (!seen.insert(cur).second) continue;
      for (const std::string& child : g.Children(cur)) stack.push_back(child);
      labels[cur].insert(spread.begin(), spread.end());
      last = cur;
    }
    std::string cur = last;
    while (fanout(cur) <= 1 && g.DownRevisions(cur).size() <= 1) {
      labels[cur].insert(spread.begin(), spread.end());
      if (g.DownRevisions(cur).empty()) break;
      cur = g.DownRevisions(cur)[0];
    }
  }
  for (const std::string& id : topo) {
    auto it = labels.find(id);
    labels_[id] = it == labels.end() ? std::vector<std::string>{}
                                     : std::vector<std::string>(it->second.begin(), it->second.end());
  }
}

const std::vector<std::string>& RevisionText::Labels(const std::string& id) const {
  static const std::vector<std::string> kNone;
  auto it = labels_.find(id);
  return it == labels_.end() ? kNone : it->second;
}

bool RevisionText::IsHead(const std::string& id) const { return set_.graph().Children(id).empty(); }

bool RevisionText::IsEffectiveHead(const std::string& id) const {
  return IsHead(id) && dependents_.count(id) > 0;
}

std::string RevisionText::Line(const std::string& id, const Shown& shown) const {
  const RevisionGraph& g = set_.graph();
  const Revision& r = *g.Find(id);
  std::string text = id;
  if (shown.parents) {
    const std::string parents = r.down_revisions.empty() ? "<base>" : Join(r.down_revisions);
    text = parents + (r.depends_on.empty() ? "" : " (" + Join(r.depends_on) + ")") + " -> " + text;
  }
  if (shown.labels && !Labels(id).empty()) text += " (" + Join(Labels(id)) + ")";
  if (shown.heads && IsHead(id)) text += IsEffectiveHead(id) ? " (effective head)" : " (head)";
  if (shown.current) text += " (current)";
  if (shown.tree) {
    if (g.Children(id).size() > 1) text += " (branchpoint)";
    if (r.down_revisions.size() > 1) text += " (mergepoint)";
  }
  if (shown.doc) text += ", " + r.message;
  return text;
}

std::string RevisionText::Entry(const std::string& id, bool current) const {
  const RevisionGraph& g = set_.graph();
  const MigrationFile& f = *set_.Find(id);
  const Revision& r = f.revision;
  const bool merge = r.down_revisions.size() > 1;
  const auto children = g.Children(id);
  std::ostringstream out;
  out << "Rev: " << id << (IsHead(id) ? " (head)" : "") << (children.size() > 1 ? " (branchpoint)" : "")
      << (merge ? " (mergepoint)" : "") << (current ? " (current)" : "") << "\n";
  out << (merge ? "Merges: " : "Parent: ")
      << (r.down_revisions.empty() ? "<base>" : Join(r.down_revisions)) << "\n";
  if (!r.depends_on.empty()) out << "Also depends on: " << Join(r.depends_on) << "\n";
  if (children.size() > 1) out << "Branches into: " << Join(children) << "\n";
  if (!Labels(id).empty()) out << "Branch names: " << Join(Labels(id)) << "\n";
  out << "Path: " << r.path << "\n\n";
  // Alembic indents the script's docstring, blank lines included; the
  // default template's docstring is message, blank, id, parents, date.
  out << "    " << r.message << "\n    \n";
  out << "    Revision ID: " << r.id << "\n";
  out << "    Revises: " << Join(r.down_revisions) << "\n";
  out << "    Create Date: " << r.create_date << "\n";
  out << "    Checksum: sha256:" << f.checksum << "\n";
  for (const Section& s : f.sections) {
    out << "    Section " << DirectionName(s.direction) << " (line " << s.line << ")";
    if (!s.transactional) out << " transaction:false";
    if (!s.env.empty()) out << " env:" << (s.env_negated ? "!" : "") << s.env;
    out << ": " << s.statements.size() << " statement(s)\n";
  }
  return out.str();
}

}  // namespace schemagate::cli
