// GenerateMigrationSql: the statements that turn one catalog into another,
// in dependency order, with rename hints and data-loss warnings. The order
// and the choices are described in catalog.h.
#include "schema/catalog.h"

#include <algorithm>
#include <utility>

#include "schema/internal.h"

namespace schemagate {
namespace {

using schema_internal::Attr;
using schema_internal::JoinLabels;
using schema_internal::LastPart;
using schema_internal::NameEnd;
using schema_internal::ParseLabels;
using schema_internal::SplitLast;
using schema_internal::TableName;
using schema_internal::Unquote;

// True when `a` appears in `b` in the same order (b only adds labels).
bool IsOrderedSubset(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  size_t j = 0;
  for (const std::string& label : b) {
    if (j < a.size() && a[j] == label) {
      ++j;
    }
  }
  return j == a.size();
}

std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  return s;
}

// Puts `objects` in an order where each comes after the objects of the same
// list it depends on; ties (and cycles) keep key order.
std::vector<const CatalogObject*> DependencyOrder(std::vector<const CatalogObject*> objects) {
  std::set<std::string> in_list;
  for (const CatalogObject* o : objects) {
    in_list.insert(CatalogKey(o->kind, o->name));
  }
  std::set<std::string> done;
  std::vector<const CatalogObject*> out;
  std::vector<bool> emitted(objects.size(), false);
  while (out.size() < objects.size()) {
    bool progress = false;
    for (size_t i = 0; i < objects.size(); ++i) {
      if (emitted[i]) {
        continue;
      }
      const std::string key = CatalogKey(objects[i]->kind, objects[i]->name);
      bool ready = true;
      for (const std::string& dep : objects[i]->depends_on) {
        if (dep != key && in_list.count(dep) && !done.count(dep)) {
          ready = false;
        }
      }
      if (!ready) {
        continue;
      }
      emitted[i] = true;
      done.insert(key);
      out.push_back(objects[i]);
      progress = true;
    }
    if (!progress) {
      for (size_t i = 0; i < objects.size(); ++i) {
        if (emitted[i]) {
          continue;
        }
        emitted[i] = true;
        done.insert(CatalogKey(objects[i]->kind, objects[i]->name));
        out.push_back(objects[i]);
        break;
      }
    }
  }
  return out;
}

class Generator {
 public:
  Generator(const Catalog& current, const Catalog& desired) : cur_(current), des_(desired) {}

  GeneratedSql Run() {
    for (const auto& [key, o] : cur_.objects) {
      if (o.kind == "table" && !des_.objects.count(key)) {
        removed_tables_.insert(o.name);
      }
    }
    for (const auto& [key, o] : des_.objects) {
      if (o.kind == "table" && !cur_.objects.count(key)) {
        added_tables_.insert(o.name);
      }
    }
    FindRecreated();
    DropTriggers();
    ReleaseSequenceOwnership();
    DropConstraints(/*foreign_keys=*/true);
    DropTables();
    DropConstraints(/*foreign_keys=*/false);
    DropIndexes();
    DropDefaultsEarly();
    DropColumns();
    DropRecreatedFunctions();
    CreateSchemas();
    CreateExtensions();
    CreateEnums();
    CreateSequences();
    CreateFunctions(/*early=*/true);
    CreateTables();
    AlterColumns();
    CreateFunctions(/*early=*/false);
    SetSequenceOwnership();
    CreateConstraints({"primary key", "unique"});
    CreateConstraints({"check", "exclusion"});
    CreateIndexes();
    CreateConstraints({"foreign key"});
    CreateTriggers();
    SetComments();
    DropRemoved();
    return std::move(out_);
  }

 private:
  const CatalogObject* Cur(const std::string& key) const {
    auto it = cur_.objects.find(key);
    return it == cur_.objects.end() ? nullptr : &it->second;
  }
  const CatalogObject* Des(const std::string& key) const {
    auto it = des_.objects.find(key);
    return it == des_.objects.end() ? nullptr : &it->second;
  }
  static std::string Key(const CatalogObject& o) { return CatalogKey(o.kind, o.name); }

  static std::vector<const CatalogObject*> OfKind(const Catalog& c, const std::string& kind) {
    std::vector<const CatalogObject*> out;
    for (const auto& [key, o] : c.objects) {
      if (o.kind == kind) {
        out.push_back(&o);
      }
    }
    return out;
  }

  // Gone together with its table: DROP TABLE takes it along.
  bool TableGone(const CatalogObject& o) const {
    const std::string table = TableName(o);
    return !table.empty() && removed_tables_.count(table);
  }

  // A current column that the migration drops (alone or with its table).
  bool ColumnGone(const std::string& column_name) const {
    const std::string key = CatalogKey("column", column_name);
    if (!Cur(key)) {
      return false;
    }
    if (removed_tables_.count(SplitLast(column_name).first)) {
      return true;
    }
    return !Des(key) || recreated_.count(key);
  }

  void Emit(std::string sql, const std::vector<std::string>& notes = {},
            const std::vector<std::string>& warnings = {}) {
    std::string text;
    for (const std::string& w : warnings) {
      text += "-- WARNING: " + OneLine(w) + "\n";
      out_.warnings.push_back(OneLine(w));
    }
    for (const std::string& n : notes) {
      text += "-- " + OneLine(n) + "\n";
    }
    while (!sql.empty() && (sql.back() == '\n' || sql.back() == ' ')) {
      sql.pop_back();
    }
    if (sql.empty() || sql.back() != ';') {
      sql += ';';
    }
    out_.statements.push_back(text + sql);
  }

  bool IsEnumType(const std::string& type, const Catalog& catalog) const {
    std::string base = type;
    while (base.size() > 2 && base.compare(base.size() - 2, 2, "[]") == 0) {
      base.resize(base.size() - 2);
    }
    return catalog.objects.count(CatalogKey("enum", base)) > 0;
  }

  // A new label of `e` that the desired catalog already uses in something
  // this migration creates or changes (PostgreSQL rejects that before the
  // ADD VALUE commits).
  bool NewLabelUsed(const CatalogObject& e, const std::vector<std::string>& old_labels) const {
    std::set<std::string> old(old_labels.begin(), old_labels.end());
    std::vector<std::string> needles;
    for (const std::string& label : ParseLabels(Attr(e, "labels"))) {
      if (!old.count(label)) {
        needles.push_back(QuoteLiteral(label) + "::" + e.name);
      }
    }
    for (const auto& [key, o] : des_.objects) {
      const CatalogObject* before = Cur(key);
      for (const char* attr : {"default", "definition", "generated"}) {
        const std::string value = Attr(o, attr);
        if (value.empty() || (before && Attr(*before, attr) == value)) {
          continue;
        }
        for (const std::string& needle : needles) {
          if (value.find(needle) != std::string::npos) {
            return true;
          }
        }
      }
    }
    return false;
  }

  // Objects that must be dropped and created again, and what that drags
  // along: what uses them in the current database must go first.
  void FindRecreated() {
    for (const auto& [key, d] : des_.objects) {
      const CatalogObject* c = Cur(key);
      if (!c) {
        continue;
      }
      const std::string& kind = d.kind;
      bool recreate = false;
      if (kind == "constraint") {
        recreate =
            Attr(*c, "definition") != Attr(d, "definition") || Attr(*c, "type") != Attr(d, "type");
      } else if (kind == "index") {
        recreate = Attr(*c, "definition") != Attr(d, "definition") ||
                   Attr(*c, "table") != Attr(d, "table");
      } else if (kind == "trigger") {
        recreate = Attr(*c, "definition") != Attr(d, "definition");
      } else if (kind == "function") {
        recreate = Attr(*c, "kind") != Attr(d, "kind") ||
                   Attr(*c, "returns") != Attr(d, "returns") ||
                   Attr(*c, "arguments") != Attr(d, "arguments");
      } else if (kind == "column") {
        const std::string gen = Attr(d, "generated");
        recreate = !gen.empty() && gen != Attr(*c, "generated");
      } else if (kind == "enum") {
        const std::vector<std::string> before = ParseLabels(Attr(*c, "labels"));
        const std::vector<std::string> after = ParseLabels(Attr(d, "labels"));
        if (!IsOrderedSubset(before, after)) {
          enum_lossy_.insert(key);
          recreate = true;
        } else if (before != after && NewLabelUsed(d, before)) {
          recreate = true;
        }
      }
      if (recreate) {
        recreated_.insert(key);
      }
    }

    // Dependents, from pg_depend where the catalogs carry it and from the
    // definitions' text where they do not (hand-built catalogs).
    std::vector<std::string> work(recreated_.begin(), recreated_.end());
    for (const auto& [key, c] : cur_.objects) {
      if ((c.kind == "constraint" || c.kind == "index") && !Des(key) && !TableGone(c)) {
        work.push_back(key);
      }
    }
    while (!work.empty()) {
      const std::string key = work.back();
      work.pop_back();
      const CatalogObject* gone = Cur(key);
      if (!gone) {
        continue;
      }
      for (const auto& [dep_key, dep] : cur_.objects) {
        if (dep_key == key || !Des(dep_key) || TableGone(dep) || !Uses(dep, *gone)) {
          continue;
        }
        if (dep.kind == "column") {
          if (gone->kind == "enum") {
            enum_columns_[key].insert(dep_key);
          } else if (gone->kind == "function" && !Attr(dep, "default").empty()) {
            default_reset_.insert(dep_key);
          }
          continue;
        }
        // Triggers, constraints and indexes cannot outlive what they use;
        // functions are bound to an enum through their signature and to a
        // function through a BEGIN ATOMIC body.
        const bool drags =
            dep.kind == "trigger" || dep.kind == "constraint" || dep.kind == "index" ||
            (dep.kind == "function" && (gone->kind == "enum" || gone->kind == "function"));
        if (drags && recreated_.insert(dep_key).second) {
          work.push_back(dep_key);
        }
      }
    }
    // Columns typed with a recreated enum, also when no pg_depend was read.
    for (const std::string& key : recreated_) {
      const CatalogObject* e = Cur(key);
      if (!e || e->kind != "enum") {
        continue;
      }
      for (const CatalogObject* col : OfKind(cur_, "column")) {
        std::string base = Attr(*col, "type");
        while (base.size() > 2 && base.compare(base.size() - 2, 2, "[]") == 0) {
          base.resize(base.size() - 2);
        }
        if (base == e->name && Des(Key(*col)) && !TableGone(*col)) {
          enum_columns_[key].insert(Key(*col));
        }
      }
    }
  }

  // Whether `dep` (a current object) uses `used`: from pg_depend, or, for
  // catalogs built without it, from the definitions' text.
  bool Uses(const CatalogObject& dep, const CatalogObject& used) const {
    if (!dep.depends_on.empty()) {
      return dep.depends_on.count(Key(used)) > 0;
    }
    const std::string def = Attr(dep, "definition");
    const bool key =
        (used.kind == "constraint" && Attr(used, "type") != "check" &&
         Attr(used, "type") != "foreign key") ||
        (used.kind == "index" && Attr(used, "definition").rfind("CREATE UNIQUE", 0) == 0);
    if (dep.kind == "constraint" && Attr(dep, "type") == "foreign key" && key) {
      const std::string referenced = TableName(used);
      return !referenced.empty() && def.find("REFERENCES " + referenced + "(") != std::string::npos;
    }
    if (dep.kind == "trigger" && used.kind == "function") {
      const std::string fn = used.name.substr(0, NameEnd(used.name));
      return def.find("EXECUTE FUNCTION " + fn + "(") != std::string::npos ||
             def.find("EXECUTE PROCEDURE " + fn + "(") != std::string::npos;
    }
    return false;
  }

  // --- Drops that must happen before anything is created or changed ---

  void DropTriggers() {
    for (const CatalogObject* t : OfKind(cur_, "trigger")) {
      if (TableGone(*t) || (Des(Key(*t)) && !recreated_.count(Key(*t)))) {
        continue;
      }
      Emit("DROP TRIGGER " + LastPart(t->name) + " ON " + TableName(*t));
    }
  }

  // A kept sequence whose owning column goes (or changes) must be released
  // first, or dropping the column drops the sequence.
  void ReleaseSequenceOwnership() {
    for (const CatalogObject* s : OfKind(cur_, "sequence")) {
      const CatalogObject* d = Des(Key(*s));
      const std::string owner = Attr(*s, "owned_by");
      if (!d || owner.empty() || Attr(*d, "owned_by") == owner) {
        continue;
      }
      Emit("ALTER SEQUENCE " + s->name + " OWNED BY NONE");
    }
  }

  void DropConstraints(bool foreign_keys) {
    for (const CatalogObject* c : OfKind(cur_, "constraint")) {
      if ((Attr(*c, "type") == "foreign key") != foreign_keys) {
        continue;
      }
      if (TableGone(*c) || (Des(Key(*c)) && !recreated_.count(Key(*c)))) {
        continue;
      }
      Emit("ALTER TABLE " + TableName(*c) + " DROP CONSTRAINT " + LastPart(c->name));
    }
  }

  std::string RenameHint(const std::vector<std::string>& candidates,
                         const std::string& rename_prefix, const std::string& what) const {
    if (candidates.empty()) {
      return what + ": its data is lost";
    }
    std::string list;
    for (const std::string& c : candidates) {
      list += (list.empty() ? "" : ", ") + c;
    }
    const std::string target = candidates.size() == 1 ? LastPart(candidates[0]) : "<new name>";
    return what + " while " + (candidates.size() == 1 ? list + " is" : "one of " + list + " is") +
           " added: if this is a rename, write " + rename_prefix + target +
           " instead; as generated, its data is lost";
  }

  void DropTables() {
    if (removed_tables_.empty()) {
      return;
    }
    // A function whose signature uses a table's row type blocks DROP TABLE.
    for (const CatalogObject* f : OfKind(cur_, "function")) {
      if (Des(Key(*f))) {
        continue;
      }
      for (const std::string& dep : f->depends_on) {
        if (dep.rfind("table ", 0) == 0 && removed_tables_.count(dep.substr(6))) {
          Emit("DROP " + FunctionWord(*f) + " " + f->name);
          dropped_functions_.insert(Key(*f));
          break;
        }
      }
    }
    std::vector<std::string> warnings;
    std::vector<std::string> added(added_tables_.begin(), added_tables_.end());
    std::string list;
    for (const std::string& t : removed_tables_) {
      warnings.push_back(
          RenameHint(added, "ALTER TABLE " + t + " RENAME TO ", "table " + t + " is dropped"));
      list += (list.empty() ? "" : ", ") + t;
    }
    // One statement: PostgreSQL then orders the foreign keys among them.
    Emit("DROP TABLE " + list, {}, warnings);
  }

  void DropIndexes() {
    for (const CatalogObject* i : OfKind(cur_, "index")) {
      if (TableGone(*i) || (Des(Key(*i)) && !recreated_.count(Key(*i)))) {
        continue;
      }
      Emit("DROP INDEX " + i->name);
    }
  }

  // Defaults that use a function about to be dropped and created.
  void DropDefaultsEarly() {
    for (const std::string& key : default_reset_) {
      const CatalogObject* c = Cur(key);
      if (!c || Attr(*c, "default").empty() || default_dropped_.count(key)) {
        continue;
      }
      Emit("ALTER TABLE " + TableName(*c) + " ALTER COLUMN " + LastPart(c->name) + " DROP DEFAULT");
      default_dropped_.insert(key);
    }
  }

  void DropColumns() {
    // Generated columns first: they may use the other columns dropped here.
    std::vector<const CatalogObject*> columns = OfKind(cur_, "column");
    std::stable_partition(columns.begin(), columns.end(),
                          [](const CatalogObject* c) { return !Attr(*c, "generated").empty(); });
    for (const CatalogObject* c : columns) {
      if (TableGone(*c)) {
        continue;
      }
      const std::string key = Key(*c);
      const std::string table = TableName(*c);
      const std::string column = LastPart(c->name);
      if (recreated_.count(key)) {
        Emit("ALTER TABLE " + table + " DROP COLUMN " + column,
             {"generated column " + c->name +
              ": PostgreSQL 15 cannot change a generation expression, so the column is dropped and "
              "added "
              "again (its values are recomputed)"});
        continue;
      }
      if (Des(key)) {
        continue;
      }
      std::vector<std::string> added;
      for (const CatalogObject* d : OfKind(des_, "column")) {
        if (TableName(*d) == table && !Cur(Key(*d))) {
          added.push_back(d->name);
        }
      }
      Emit("ALTER TABLE " + table + " DROP COLUMN " + column, {},
           {RenameHint(added, "ALTER TABLE " + table + " RENAME COLUMN " + column + " TO ",
                       "column " + c->name + " is dropped")});
    }
  }

  static std::string FunctionWord(const CatalogObject& f) {
    return Attr(f, "kind") == "procedure" ? "PROCEDURE" : "FUNCTION";
  }

  void DropRecreatedFunctions() {
    std::vector<const CatalogObject*> fns;
    for (const CatalogObject* f : OfKind(cur_, "function")) {
      if (recreated_.count(Key(*f))) {
        fns.push_back(f);
      }
    }
    fns = DependencyOrder(fns);
    std::reverse(fns.begin(), fns.end());
    for (const CatalogObject* f : fns) {
      Emit("DROP " + FunctionWord(*f) + " " + f->name,
           {f->name +
            " changes its kind, result or argument names or defaults, which CREATE OR REPLACE "
            "cannot do: it is dropped and created"});
    }
  }

  // --- Creation ---

  void CreateSchemas() {
    for (const CatalogObject* s : OfKind(des_, "schema")) {
      if (!Cur(Key(*s))) {
        Emit("CREATE SCHEMA " + s->name);
      }
    }
  }

  void CreateExtensions() {
    std::vector<const CatalogObject*> added;
    for (const CatalogObject* e : OfKind(des_, "extension")) {
      const CatalogObject* c = Cur(Key(*e));
      if (!c) {
        added.push_back(e);
      } else if (Attr(*c, "schema") != Attr(*e, "schema") && !Attr(*e, "schema").empty()) {
        Emit("ALTER EXTENSION " + e->name + " SET SCHEMA " + QuoteIdentifier(Attr(*e, "schema")));
      }
    }
    for (const CatalogObject* e : DependencyOrder(added)) {
      const std::string schema = Attr(*e, "schema");
      Emit("CREATE EXTENSION IF NOT EXISTS " + e->name +
           (schema.empty() ? "" : " WITH SCHEMA " + QuoteIdentifier(schema)));
    }
  }

  void CreateEnums() {
    for (const CatalogObject* e : OfKind(des_, "enum")) {
      const std::string key = Key(*e);
      const CatalogObject* c = Cur(key);
      const std::vector<std::string> after = ParseLabels(Attr(*e, "labels"));
      if (!c) {
        Emit("CREATE TYPE " + e->name + " AS ENUM (" + JoinLabels(after) + ")");
        continue;
      }
      const std::vector<std::string> before = ParseLabels(Attr(*c, "labels"));
      if (recreated_.count(key)) {
        RecreateEnum(*e, before, after);
        continue;
      }
      std::set<std::string> old(before.begin(), before.end());
      for (size_t i = 0; i < after.size(); ++i) {
        if (old.count(after[i])) {
          continue;
        }
        std::string where;
        if (i > 0) {
          where = " AFTER " + QuoteLiteral(after[i - 1]);
        } else if (!before.empty()) {
          where = " BEFORE " + QuoteLiteral(before.front());
        }
        Emit("ALTER TYPE " + e->name + " ADD VALUE " + QuoteLiteral(after[i]) + where);
      }
    }
  }

  void RecreateEnum(const CatalogObject& e, const std::vector<std::string>& before,
                    const std::vector<std::string>& after) {
    const std::string key = Key(e);
    const std::string schema = SplitLast(e.name).first;
    const std::string old_ident = QuoteIdentifier(Unquote(LastPart(e.name)) + "__old");
    const std::string old_name = schema.empty() ? old_ident : schema + "." + old_ident;
    std::vector<std::string> warnings;
    std::vector<std::string> notes;
    if (enum_lossy_.count(key)) {
      warnings.push_back(
          "enum " + e.name + " loses or reorders labels (" + JoinLabels(before) + " -> " +
          JoinLabels(after) +
          "): it is recreated and its columns are converted through text, which fails if "
          "a row holds a label that is gone");
    } else {
      notes.push_back(
          "enum " + e.name +
          " is recreated instead of ALTER TYPE ... ADD VALUE: this migration already uses a new "
          "label, which PostgreSQL allows only after the ADD VALUE commits");
    }
    Emit("ALTER TYPE " + e.name + " RENAME TO " + old_ident, notes, warnings);
    Emit("CREATE TYPE " + e.name + " AS ENUM (" + JoinLabels(after) + ")");
    for (const std::string& col_key : enum_columns_[key]) {
      const CatalogObject* c = Cur(col_key);
      const CatalogObject* d = Des(col_key);
      if (!c || !d || recreated_.count(col_key)) {
        continue;
      }
      const std::string prefix =
          "ALTER TABLE " + TableName(*c) + " ALTER COLUMN " + LastPart(c->name);
      if (!Attr(*c, "default").empty() && !default_dropped_.count(col_key)) {
        Emit(prefix + " DROP DEFAULT");
        default_dropped_.insert(col_key);
      }
      default_reset_.insert(col_key);
      const std::string type = Attr(*c, "type");
      // A column that changes type anyway is converted once, in AlterColumns.
      if (Attr(*d, "type") != type) {
        continue;
      }
      const bool array = type.size() > 2 && type.compare(type.size() - 2, 2, "[]") == 0;
      Emit(prefix + " TYPE " + type + " USING " + LastPart(c->name) +
           (array ? "::text[]::" : "::text::") + type);
    }
    dropped_types_.push_back(old_name);
  }

  static std::string SequenceOptions(const CatalogObject& s, const CatalogObject* before) {
    std::string out;
    auto changed = [&](const char* attr) {
      return !before || Attr(*before, attr) != Attr(s, attr);
    };
    if (changed("type") && !Attr(s, "type").empty()) {
      out += " AS " + Attr(s, "type");
    }
    if (changed("start") && !Attr(s, "start").empty()) {
      out += " START WITH " + Attr(s, "start");
    }
    if (changed("increment") && !Attr(s, "increment").empty()) {
      out += " INCREMENT BY " + Attr(s, "increment");
    }
    if (changed("min") && !Attr(s, "min").empty()) {
      out += " MINVALUE " + Attr(s, "min");
    }
    if (changed("max") && !Attr(s, "max").empty()) {
      out += " MAXVALUE " + Attr(s, "max");
    }
    if (changed("cache") && !Attr(s, "cache").empty()) {
      out += " CACHE " + Attr(s, "cache");
    }
    if (changed("cycle")) {
      out += Attr(s, "cycle") == "true" ? " CYCLE" : " NO CYCLE";
    }
    return out;
  }

  void CreateSequences() {
    for (const CatalogObject* s : OfKind(des_, "sequence")) {
      const CatalogObject* c = Cur(Key(*s));
      if (!c) {
        Emit("CREATE SEQUENCE " + s->name + SequenceOptions(*s, nullptr));
        continue;
      }
      const std::string options = SequenceOptions(*s, c);
      if (!options.empty()) {
        Emit("ALTER SEQUENCE " + s->name + options);
      }
    }
  }

  // Functions that a default, check or index uses must exist before the
  // table; others (SQL bodies and signatures may name tables) come after.
  bool IsEarlyFunction(const CatalogObject& f) const {
    const std::string key = Key(f);
    for (const std::string& dep : f.depends_on) {
      const CatalogObject* o = Des(dep);
      if (o && (o->kind == "table" || o->kind == "column")) {
        return false;
      }
    }
    for (const auto& [k, o] : des_.objects) {
      if ((o.kind == "column" || o.kind == "constraint" || o.kind == "index") &&
          o.depends_on.count(key)) {
        return true;
      }
    }
    return false;
  }

  void CreateFunctions(bool early) {
    std::vector<const CatalogObject*> fns;
    for (const CatalogObject* f : OfKind(des_, "function")) {
      if (IsEarlyFunction(*f) != early) {
        continue;
      }
      const CatalogObject* c = Cur(Key(*f));
      if (!c || recreated_.count(Key(*f)) || Attr(*c, "definition") != Attr(*f, "definition")) {
        fns.push_back(f);
      }
    }
    for (const CatalogObject* f : DependencyOrder(fns)) {
      Emit(Attr(*f, "definition"));
    }
  }

  static std::string ColumnDefinition(const CatalogObject& col) {
    std::string s = LastPart(col.name) + " " + Attr(col, "type");
    if (!Attr(col, "collation").empty()) {
      s += " COLLATE " + Attr(col, "collation");
    }
    if (!Attr(col, "generated").empty()) {
      s += " GENERATED ALWAYS AS (" + Attr(col, "generated") + ") STORED";
    } else if (!Attr(col, "default").empty()) {
      s += " DEFAULT " + Attr(col, "default");
    }
    const std::string identity = Attr(col, "identity");
    if (!identity.empty()) {
      s += identity == "always" ? " GENERATED ALWAYS AS IDENTITY"
                                : " GENERATED BY DEFAULT AS IDENTITY";
    }
    if (Attr(col, "nullable") == "false") {
      s += " NOT NULL";
    }
    return s;
  }

  std::vector<const CatalogObject*> ColumnsOf(const Catalog& c, const std::string& table) const {
    std::vector<const CatalogObject*> cols;
    for (const CatalogObject* col : OfKind(c, "column")) {
      if (TableName(*col) == table) {
        cols.push_back(col);
      }
    }
    std::stable_sort(cols.begin(), cols.end(), [](const CatalogObject* a, const CatalogObject* b) {
      return a->position < b->position;
    });
    return cols;
  }

  void CreateTables() {
    for (const CatalogObject* t : OfKind(des_, "table")) {
      const CatalogObject* c = Cur(Key(*t));
      const bool unlogged = Attr(*t, "unlogged") == "true";
      if (c) {
        if ((Attr(*c, "unlogged") == "true") != unlogged) {
          Emit("ALTER TABLE " + t->name + (unlogged ? " SET UNLOGGED" : " SET LOGGED"));
        }
        continue;
      }
      std::string sql =
          std::string(unlogged ? "CREATE UNLOGGED TABLE " : "CREATE TABLE ") + t->name + " (";
      const std::vector<const CatalogObject*> cols = ColumnsOf(des_, t->name);
      for (size_t i = 0; i < cols.size(); ++i) {
        sql += (i ? ",\n    " : "\n    ") + ColumnDefinition(*cols[i]);
      }
      sql += cols.empty() ? ")" : "\n)";
      Emit(sql);
    }
  }

  void AlterColumns() {
    for (const CatalogObject* t : OfKind(des_, "table")) {
      if (!Cur(Key(*t))) {
        continue;
      }
      for (const CatalogObject* d : ColumnsOf(des_, t->name)) {
        const std::string key = Key(*d);
        const CatalogObject* c = Cur(key);
        if (!c || recreated_.count(key)) {
          std::vector<std::string> notes;
          if (Attr(*d, "nullable") == "false" && Attr(*d, "default").empty() &&
              Attr(*d, "identity").empty() && Attr(*d, "generated").empty()) {
            notes.push_back("NOT NULL without a default fails if " + t->name +
                            " has rows: add a default or backfill first");
          }
          Emit("ALTER TABLE " + t->name + " ADD COLUMN " + ColumnDefinition(*d), notes);
          continue;
        }
        AlterColumn(*c, *d);
      }
    }
  }

  void AlterColumn(const CatalogObject& c, const CatalogObject& d) {
    const std::string key = Key(d);
    const std::string column = LastPart(d.name);
    const std::string prefix = "ALTER TABLE " + TableName(d) + " ALTER COLUMN " + column;
    const std::string old_identity = Attr(c, "identity");
    const std::string new_identity = Attr(d, "identity");
    const std::string old_default = Attr(c, "default");
    const std::string new_default = Attr(d, "default");
    const std::string old_type = Attr(c, "type");
    const std::string new_type = Attr(d, "type");
    const bool type_changed = old_type != new_type;
    const bool collation_changed = Attr(c, "collation") != Attr(d, "collation");

    if (!old_identity.empty() && new_identity.empty()) {
      Emit(prefix + " DROP IDENTITY");
    }
    if (!Attr(c, "generated").empty() && Attr(d, "generated").empty()) {
      Emit(prefix + " DROP EXPRESSION");
    }
    bool reset = default_reset_.count(key) > 0;
    if (type_changed && !old_default.empty() && !default_dropped_.count(key)) {
      // The old default may not convert to the new type: drop it and set
      // the new one after the conversion.
      Emit(prefix + " DROP DEFAULT");
      default_dropped_.insert(key);
      reset = true;
    }
    if (type_changed || collation_changed) {
      const std::string collation =
          Attr(d, "collation").empty() ? "" : " COLLATE " + Attr(d, "collation");
      const std::string reset_collation = collation.empty() && collation_changed && !type_changed
                                              ? " COLLATE \"default\""
                                              : collation;
      if (type_changed) {
        const bool via_text = IsEnumType(old_type, cur_);
        const bool array =
            old_type.size() > 2 && old_type.compare(old_type.size() - 2, 2, "[]") == 0;
        const std::string cast = via_text ? (array ? "::text[]::" : "::text::") : "::";
        Emit(prefix + " TYPE " + new_type + reset_collation + " USING " + column + cast + new_type,
             {},
             {"column " + d.name + " changes type from " + old_type + " to " + new_type +
              ": existing values are converted with USING " + column + cast + new_type +
              ", which fails or loses information when they do not fit"});
      } else {
        Emit(prefix + " TYPE " + new_type + reset_collation);
      }
    }
    if (new_default != old_default || reset) {
      if (!new_default.empty()) {
        Emit(prefix + " SET DEFAULT " + new_default);
      } else if (!old_default.empty() && !default_dropped_.count(key)) {
        Emit(prefix + " DROP DEFAULT");
      }
    }
    const bool not_null = Attr(d, "nullable") == "false";
    if ((Attr(c, "nullable") == "false") != not_null) {
      Emit(prefix + (not_null ? " SET NOT NULL" : " DROP NOT NULL"));
    }
    if (!new_identity.empty() && new_identity != old_identity) {
      const std::string how = new_identity == "always" ? "ALWAYS" : "BY DEFAULT";
      Emit(old_identity.empty() ? prefix + " ADD GENERATED " + how + " AS IDENTITY"
                                : prefix + " SET GENERATED " + how);
    }
  }

  void SetSequenceOwnership() {
    for (const CatalogObject* s : OfKind(des_, "sequence")) {
      const std::string owner = Attr(*s, "owned_by");
      const CatalogObject* c = Cur(Key(*s));
      if (owner.empty() || (c && Attr(*c, "owned_by") == owner)) {
        continue;
      }
      Emit("ALTER SEQUENCE " + s->name + " OWNED BY " + owner);
    }
  }

  bool IsNew(const CatalogObject& o) const { return !Cur(Key(o)) || recreated_.count(Key(o)); }

  void CreateConstraints(const std::set<std::string>& types) {
    for (const CatalogObject* c : OfKind(des_, "constraint")) {
      if (!types.count(Attr(*c, "type")) || !IsNew(*c)) {
        continue;
      }
      Emit("ALTER TABLE " + TableName(*c) + " ADD CONSTRAINT " + LastPart(c->name) + " " +
           Attr(*c, "definition"));
    }
  }

  void CreateIndexes() {
    for (const CatalogObject* i : OfKind(des_, "index")) {
      if (IsNew(*i)) {
        Emit(Attr(*i, "definition"));
      }
    }
  }

  void CreateTriggers() {
    for (const CatalogObject* t : OfKind(des_, "trigger")) {
      if (IsNew(*t)) {
        Emit(Attr(*t, "definition"));
      }
    }
  }

  static std::string CommentTarget(const CatalogObject& o) {
    if (o.kind == "schema") {
      return "SCHEMA " + o.name;
    }
    if (o.kind == "extension") {
      return "EXTENSION " + o.name;
    }
    if (o.kind == "enum") {
      return "TYPE " + o.name;
    }
    if (o.kind == "sequence") {
      return "SEQUENCE " + o.name;
    }
    if (o.kind == "table") {
      return "TABLE " + o.name;
    }
    if (o.kind == "column") {
      return "COLUMN " + o.name;
    }
    if (o.kind == "index") {
      return "INDEX " + o.name;
    }
    if (o.kind == "function") {
      return FunctionWord(o) + " " + o.name;
    }
    if (o.kind == "constraint") {
      return "CONSTRAINT " + LastPart(o.name) + " ON " + TableName(o);
    }
    if (o.kind == "trigger") {
      return "TRIGGER " + LastPart(o.name) + " ON " + TableName(o);
    }
    return "";
  }

  void SetComments() {
    for (const auto& [key, d] : des_.objects) {
      const CatalogObject* c = Cur(key);
      const std::string after = Attr(d, "comment");
      const std::string before = c && !recreated_.count(key) ? Attr(*c, "comment") : "";
      const std::string target = CommentTarget(d);
      if (after == before || target.empty()) {
        continue;
      }
      Emit("COMMENT ON " + target + " IS " + (after.empty() ? "NULL" : QuoteLiteral(after)));
    }
  }

  // --- Drops of shared objects that nothing uses any more ---

  void DropRemoved() {
    std::vector<const CatalogObject*> fns;
    for (const CatalogObject* f : OfKind(cur_, "function")) {
      if (!Des(Key(*f)) && !dropped_functions_.count(Key(*f))) {
        fns.push_back(f);
      }
    }
    fns = DependencyOrder(fns);
    std::reverse(fns.begin(), fns.end());
    for (const CatalogObject* f : fns) {
      Emit("DROP " + FunctionWord(*f) + " " + f->name);
    }

    for (const CatalogObject* s : OfKind(cur_, "sequence")) {
      if (Des(Key(*s))) {
        continue;
      }
      const std::string owner = Attr(*s, "owned_by");
      if (!owner.empty() && ColumnGone(owner)) {
        continue;  // went with its column
      }
      Emit("DROP SEQUENCE " + s->name);
    }
    for (const std::string& old : dropped_types_) {
      Emit("DROP TYPE " + old);
    }
    for (const CatalogObject* e : OfKind(cur_, "enum")) {
      if (!Des(Key(*e))) {
        Emit("DROP TYPE " + e->name);
      }
    }
    std::vector<const CatalogObject*> exts;
    for (const CatalogObject* e : OfKind(cur_, "extension")) {
      if (!Des(Key(*e))) {
        exts.push_back(e);
      }
    }
    exts = DependencyOrder(exts);
    std::reverse(exts.begin(), exts.end());
    for (const CatalogObject* e : exts) {
      Emit("DROP EXTENSION " + e->name);
    }
    for (const CatalogObject* s : OfKind(cur_, "schema")) {
      if (!Des(Key(*s))) {
        Emit("DROP SCHEMA " + s->name);
      }
    }
  }

  const Catalog& cur_;
  const Catalog& des_;
  GeneratedSql out_;
  std::set<std::string> removed_tables_;  // names
  std::set<std::string> added_tables_;    // names
  std::set<std::string> recreated_;       // keys: dropped (if present) and created again
  std::set<std::string> enum_lossy_;      // keys of enums that lose or reorder labels
  std::map<std::string, std::set<std::string>> enum_columns_;  // enum key -> column keys
  std::set<std::string> default_reset_;      // column keys whose default must be set again
  std::set<std::string> default_dropped_;    // column keys whose default was dropped already
  std::vector<std::string> dropped_types_;   // renamed-away enums to drop at the end
  std::set<std::string> dropped_functions_;  // removed functions dropped early
};

}  // namespace

GeneratedSql GenerateMigrationSql(const Catalog& current, const Catalog& desired) {
  return Generator(current, desired).Run();
}

}  // namespace schemagate
