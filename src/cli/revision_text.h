// Revisions as Alembic 1.8 prints them: the one-line forms of heads,
// branches, history and current, and the verbose entry of show, history -v,
// heads -v, branches -v and current -v. What schemagate's files add to
// Alembic's (checksum, sections) follows the entry's docstring part.
#ifndef SCHEMAGATE_CLI_REVISION_TEXT_H_
#define SCHEMAGATE_CLI_REVISION_TEXT_H_

#include <map>
#include <string>
#include <vector>

#include "core/migration_set.h"

namespace schemagate::cli {

class RevisionText {
 public:
  // Borrows `set`, which must outlive this. Works out every revision's
  // branch labels once (Alembic's propagation, see Labels).
  explicit RevisionText(const MigrationSet& set);

  // What a one-line form shows besides the id (Alembic's cmd_format):
  //   parents  "a, b -> " before the id, "<base> (dep) -> " with depends_on
  //   labels   " (label)" after it
  //   heads    " (head)", or " (effective head)" for a head that other
  //            revisions depend on
  //   current  " (current)"
  //   tree     " (branchpoint)", " (mergepoint)"
  //   doc      ", message"
  struct Shown {
    bool parents = false;
    bool labels = false;
    bool heads = true;
    bool current = false;
    bool tree = true;
    bool doc = false;
  };
  std::string Line(const std::string& id, const Shown& shown) const;

  // The verbose entry (Rev, Parent or Merges, Also depends on, Branches
  // into, Branch names, Path, then the docstring part indented), ending in
  // a newline; commands print a blank line after each.
  std::string Entry(const std::string& id, bool current) const;

  // The branch labels Alembic shows for `id`: those of every revision it
  // descends from through down_revision, and a label also reaches up from
  // its branch's tip through revisions that neither merge nor lead anywhere
  // else (not even by depends_on). Sorted.
  const std::vector<std::string>& Labels(const std::string& id) const;

  bool IsHead(const std::string& id) const;  // no down_revision child
  // A head that other revisions depend on (Alembic's "effective head").
  bool IsEffectiveHead(const std::string& id) const;

 private:
  const MigrationSet& set_;
  std::map<std::string, std::vector<std::string>> labels_;
  std::map<std::string, std::vector<std::string>> dependents_;
};

}  // namespace schemagate::cli

#endif  // SCHEMAGATE_CLI_REVISION_TEXT_H_
