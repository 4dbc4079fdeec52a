#include "db/catalog_reader.h"

#include <set>

#include "core/encoding.h"
#include "core/redact.h"
#include "core/sql_lexer.h"
#include "db/pq.h"

namespace schemagate {
namespace {

// Schemas that hold no user objects.
constexpr const char* kUserSchema =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' "
    "AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

std::string NotExtensionMember(const std::string& catalog, const std::string& oid) {
  return "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend x WHERE x.classid = 'pg_catalog." +
         catalog + "'::pg_catalog.regclass AND x.objid = " + oid + " AND x.deptype = 'e')";
}

// Plain tables in user schemas; partitions and partitioned tables are not
// represented (catalog.h).
std::string TablesQuery() {
  return std::string(
             "SELECT c.oid, c.reltype, n.nspname, c.relname, c.relpersistence FROM "
             "pg_catalog.pg_class c "
             "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
             "WHERE c.relkind = 'r' AND NOT c.relispartition AND ") +
         kUserSchema + " AND " + NotExtensionMember("pg_class", "c.oid");
}

std::string TableOids() { return "(SELECT t.oid FROM (" + TablesQuery() + ") AS t)"; }

std::string Text(const pqxx::field& f) {
  return f.is_null() ? std::string() : std::string(f.c_str());
}

std::string Qualified(const std::string& schema, const std::string& name) {
  return QuoteIdentifier(schema) + "." + QuoteIdentifier(name);
}

class Reader {
 public:
  Reader(pqxx::transaction_base& tx, const CatalogReadOptions& options) : tx_(tx) {
    for (const std::string& t : options.exclude_tables) {
      std::vector<std::string> parts = SplitQualifiedName(t);
      if (parts.size() == 1) {
        parts.insert(parts.begin(), "public");
      }
      if (parts.size() == 2) {
        excluded_.insert(Qualified(parts[0], parts[1]));
      }
    }
  }

  Catalog Read() {
    ReadSchemas();
    ReadExtensions();
    ReadEnums();
    ReadTables();
    ReadColumns();
    ReadSequences();
    ReadConstraints();
    ReadIndexes();
    ReadFunctions();
    ReadTriggers();
    ReadDependencies();
    ReadComments();
    return std::move(catalog_);
  }

 private:
  // pg_depend's (class, objid, objsubid) -> catalog key.
  static std::string Ref(const std::string& cls, const std::string& oid,
                         const std::string& sub = "0") {
    return cls + ":" + oid + ":" + sub;
  }

  void Add(CatalogObject o, const std::string& ref) {
    const std::string key = CatalogKey(o.kind, o.name);
    refs_[ref] = key;
    objects_[ref] = key;
    catalog_.Add(std::move(o));
  }

  static void SetIf(CatalogObject* o, const std::string& attr, const std::string& value) {
    if (!value.empty()) {
      o->attributes[attr] = value;
    }
  }

  void ReadSchemas() {
    for (const auto& row :
         tx_.exec(std::string("SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace n WHERE ") +
                  kUserSchema + " AND n.nspname <> 'public' AND " +
                  NotExtensionMember("pg_namespace", "n.oid"))) {
      CatalogObject o{"schema", QuoteIdentifier(Text(row[1])), {}};
      Add(std::move(o), Ref("pg_namespace", Text(row[0])));
    }
  }

  void ReadExtensions() {
    for (const auto& row :
         tx_.exec("SELECT e.oid, e.extname, n.nspname FROM pg_catalog.pg_extension e "
                  "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
                  "WHERE n.nspname <> 'pg_catalog'")) {
      CatalogObject o{"extension", QuoteIdentifier(Text(row[1])), {{"schema", Text(row[2])}}};
      Add(std::move(o), Ref("pg_extension", Text(row[0])));
    }
  }

  void ReadEnums() {
    std::map<std::string, std::string> labels;  // type oid -> 'a', 'b'
    for (const auto& row : tx_.exec("SELECT enumtypid, enumlabel FROM pg_catalog.pg_enum "
                                    "ORDER BY enumtypid, enumsortorder")) {
      std::string& l = labels[Text(row[0])];
      l += (l.empty() ? "" : ", ") + QuoteLiteral(Text(row[1]));
    }
    for (const auto& row :
         tx_.exec(std::string("SELECT t.oid, t.typarray, n.nspname, t.typname FROM "
                              "pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = "
                              "t.typnamespace WHERE t.typtype = 'e' AND ") +
                  kUserSchema + " AND " + NotExtensionMember("pg_type", "t.oid"))) {
      CatalogObject o{
          "enum", Qualified(Text(row[2]), Text(row[3])), {{"labels", labels[Text(row[0])]}}};
      refs_[Ref("pg_type", Text(row[1]))] = CatalogKey(o.kind, o.name);  // its array type
      Add(std::move(o), Ref("pg_type", Text(row[0])));
    }
  }

  void ReadTables() {
    for (const auto& row : tx_.exec(TablesQuery())) {
      const std::string name = Qualified(Text(row[2]), Text(row[3]));
      if (excluded_.count(name)) {
        continue;
      }
      CatalogObject o{"table", name, {}};
      if (Text(row[4]) == "u") {
        o.attributes["unlogged"] = "true";
      }
      tables_[Text(row[0])] = name;
      refs_[Ref("pg_type", Text(row[1]))] = CatalogKey("table", name);  // its row type
      Add(std::move(o), Ref("pg_class", Text(row[0])));
    }
  }

  void ReadColumns() {
    const std::string sql =
        "SELECT a.attrelid, a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
        "a.attnotnull, a.attidentity, a.attgenerated, pg_catalog.pg_get_expr(d.adbin, d.adrelid), "
        "d.oid, "
        "CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN CASE WHEN "
        "cn.nspname = "
        "'pg_catalog' THEN pg_catalog.quote_ident(co.collname) ELSE "
        "pg_catalog.quote_ident(cn.nspname) || '.' "
        "|| pg_catalog.quote_ident(co.collname) END END "
        "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
        "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation "
        "LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace "
        "WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attrelid IN " +
        TableOids();
    for (const auto& row : tx_.exec(sql)) {
      auto table = tables_.find(Text(row[0]));
      if (table == tables_.end()) {
        continue;
      }
      CatalogObject o{"column", table->second + "." + QuoteIdentifier(Text(row[2])), {}};
      o.position = row[1].as<int>();
      o.attributes["type"] = Text(row[3]);
      o.attributes["nullable"] = Text(row[4]) == "t" ? "false" : "true";
      const std::string identity = Text(row[5]);
      if (identity == "a") {
        o.attributes["identity"] = "always";
      }
      if (identity == "d") {
        o.attributes["identity"] = "by default";
      }
      SetIf(&o, Text(row[6]) == "s" ? "generated" : "default", Text(row[7]));
      SetIf(&o, "collation", Text(row[9]));
      if (!row[8].is_null()) {
        refs_[Ref("pg_attrdef", Text(row[8]))] = CatalogKey(o.kind, o.name);
      }
      Add(std::move(o), Ref("pg_class", Text(row[0]), Text(row[1])));
    }
  }

  void ReadSequences() {
    const std::string sql =
        std::string(
            "SELECT c.oid, n.nspname, c.relname, pg_catalog.format_type(s.seqtypid, NULL), "
            "s.seqstart, "
            "s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle, o.refobjid, o.refobjsubid "
            "FROM pg_catalog.pg_sequence s "
            "JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_catalog.pg_depend o ON o.classid = "
            "'pg_catalog.pg_class'::pg_catalog.regclass AND "
            "o.objid = c.oid AND o.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND "
            "o.refobjsubid > 0 "
            "AND o.deptype = 'a' WHERE ") +
        kUserSchema + " AND " + NotExtensionMember("pg_class", "c.oid") +
        // An identity column's sequence is part of the column.
        " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend i WHERE i.classid = "
        "'pg_catalog.pg_class'::pg_catalog.regclass AND i.objid = c.oid AND i.deptype = 'i')";
    for (const auto& row : tx_.exec(sql)) {
      CatalogObject o{"sequence", Qualified(Text(row[1]), Text(row[2])), {}};
      if (!row[10].is_null()) {
        // Owned by a column: only when that column is part of the catalog
        // (a sequence of an excluded table is excluded with it).
        auto owner = refs_.find(Ref("pg_class", Text(row[10]), Text(row[11])));
        if (owner == refs_.end()) {
          continue;
        }
        o.attributes["owned_by"] = owner->second.substr(std::string("column ").size());
      }
      o.attributes["type"] = Text(row[3]);
      o.attributes["start"] = Text(row[4]);
      o.attributes["increment"] = Text(row[5]);
      o.attributes["min"] = Text(row[6]);
      o.attributes["max"] = Text(row[7]);
      o.attributes["cache"] = Text(row[8]);
      o.attributes["cycle"] = Text(row[9]) == "t" ? "true" : "false";
      Add(std::move(o), Ref("pg_class", Text(row[0])));
    }
  }

  void ReadConstraints() {
    static const std::map<std::string, std::string> kTypes = {{"p", "primary key"},
                                                              {"u", "unique"},
                                                              {"c", "check"},
                                                              {"f", "foreign key"},
                                                              {"x", "exclusion"}};
    const std::string sql =
        "SELECT co.oid, co.conrelid, co.conname, co.contype, "
        "pg_catalog.pg_get_constraintdef(co.oid), "
        "co.conindid FROM pg_catalog.pg_constraint co "
        "WHERE co.contype IN ('p', 'u', 'c', 'f', 'x') AND co.conrelid IN " +
        TableOids();
    for (const auto& row : tx_.exec(sql)) {
      auto table = tables_.find(Text(row[1]));
      if (table == tables_.end()) {
        continue;
      }
      const std::string type = kTypes.at(Text(row[3]));
      CatalogObject o{"constraint",
                      table->second + "." + QuoteIdentifier(Text(row[2])),
                      {{"type", type}, {"definition", Text(row[4])}}};
      // The index behind a key is the constraint: foreign keys that depend
      // on the index depend on the constraint.
      if (type != "check" && type != "foreign key" && Text(row[5]) != "0") {
        refs_[Ref("pg_class", Text(row[5]))] = CatalogKey(o.kind, o.name);
      }
      Add(std::move(o), Ref("pg_constraint", Text(row[0])));
    }
  }

  void ReadIndexes() {
    const std::string sql =
        "SELECT i.indexrelid, n.nspname, ic.relname, i.indrelid, "
        "pg_catalog.pg_get_indexdef(i.indexrelid) "
        "FROM pg_catalog.pg_index i "
        "JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace "
        "WHERE i.indrelid IN " +
        TableOids() +
        " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid "
        "AND "
        "k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))";
    for (const auto& row : tx_.exec(sql)) {
      auto table = tables_.find(Text(row[3]));
      if (table == tables_.end()) {
        continue;
      }
      CatalogObject o{"index",
                      Qualified(Text(row[1]), Text(row[2])),
                      {{"table", table->second}, {"definition", Text(row[4])}}};
      Add(std::move(o), Ref("pg_class", Text(row[0])));
    }
  }

  void ReadFunctions() {
    const std::string sql =
        std::string(
            "SELECT p.oid, n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes), "
            "p.prokind, "
            "pg_catalog.pg_get_functiondef(p.oid), pg_catalog.pg_get_function_result(p.oid), "
            "pg_catalog.pg_get_function_arguments(p.oid) FROM pg_catalog.pg_proc p JOIN "
            "pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
            "WHERE p.prokind IN ('f', 'p', 'w') AND ") +
        kUserSchema + " AND " + NotExtensionMember("pg_proc", "p.oid");
    for (const auto& row : tx_.exec(sql)) {
      CatalogObject o{
          "function", Qualified(Text(row[1]), Text(row[2])) + "(" + Text(row[3]) + ")", {}};
      o.attributes["kind"] = Text(row[4]) == "p" ? "procedure" : "function";
      std::string definition = Text(row[5]);
      while (!definition.empty() && (definition.back() == '\n' || definition.back() == ' ')) {
        definition.pop_back();
      }
      o.attributes["definition"] = definition;
      SetIf(&o, "returns", Text(row[6]));
      SetIf(&o, "arguments", Text(row[7]));
      Add(std::move(o), Ref("pg_proc", Text(row[0])));
    }
  }

  void ReadTriggers() {
    const std::string sql =
        "SELECT tg.oid, tg.tgrelid, tg.tgname, pg_catalog.pg_get_triggerdef(tg.oid) "
        "FROM pg_catalog.pg_trigger tg "
        "WHERE NOT tg.tgisinternal AND tg.tgrelid IN " +
        TableOids();
    for (const auto& row : tx_.exec(sql)) {
      auto table = tables_.find(Text(row[1]));
      if (table == tables_.end()) {
        continue;
      }
      CatalogObject o{"trigger",
                      table->second + "." + QuoteIdentifier(Text(row[2])),
                      {{"definition", Text(row[3])}}};
      Add(std::move(o), Ref("pg_trigger", Text(row[0])));
    }
  }

  void ReadDependencies() {
    // Only user objects have oids from FirstNormalObjectId (16384) on.
    for (const auto& row :
         tx_.exec("SELECT classid::pg_catalog.regclass::text, objid, objsubid, "
                  "refclassid::pg_catalog.regclass::text, refobjid, refobjsubid "
                  "FROM pg_catalog.pg_depend WHERE objid >= 16384 AND refobjid >= 16384 "
                  "AND deptype IN ('n', 'a')")) {
      auto from = refs_.find(Ref(Text(row[0]), Text(row[1]), Text(row[2])));
      if (from == refs_.end()) {
        continue;
      }
      auto to = refs_.find(Ref(Text(row[3]), Text(row[4]), Text(row[5])));
      if (to == refs_.end() && Text(row[5]) != "0") {
        to = refs_.find(Ref(Text(row[3]), Text(row[4])));  // a column of a table
      }
      if (to == refs_.end() || to->second == from->second) {
        continue;
      }
      auto it = catalog_.objects.find(from->second);
      if (it != catalog_.objects.end()) {
        it->second.depends_on.insert(to->second);
      }
    }
  }

  // All comments in one query: obj_description() per row is a SQL function
  // call each, about ten times the cost of reading the row itself.
  void ReadComments() {
    for (const auto& row :
         tx_.exec("SELECT classoid::pg_catalog.regclass::text, objoid, objsubid, description "
                  "FROM pg_catalog.pg_description WHERE objoid >= 16384")) {
      auto target = objects_.find(Ref(Text(row[0]), Text(row[1]), Text(row[2])));
      if (target == objects_.end()) {
        continue;
      }
      auto it = catalog_.objects.find(target->second);
      // An extension's comment comes from its control file, not the schema.
      if (it == catalog_.objects.end() || it->second.kind == "extension") {
        continue;
      }
      SetIf(&it->second, "comment", Text(row[3]));
    }
  }

  pqxx::transaction_base& tx_;
  Catalog catalog_;
  std::set<std::string> excluded_;
  std::map<std::string, std::string> tables_;   // table oid -> name
  std::map<std::string, std::string> refs_;     // also aliases: row types, key indexes, defaults
  std::map<std::string, std::string> objects_;  // each object's own (class, oid, subid) only
};

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

DatabaseOptions OptionsFor(const std::string& url, std::chrono::milliseconds connect_timeout) {
  DatabaseOptions options;
  options.url = url;
  options.connect_timeout = connect_timeout;
  return options;
}

Status StatementError(const std::string& source, const SqlStatement& st, const std::string& what,
                      const std::string& sqlstate, const std::string& url) {
  ErrorLocation loc;
  loc.file = source;
  loc.line = st.line;
  loc.sqlstate = sqlstate;
  loc.statement = TruncateUtf8(st.text, 500);
  Status s = Status::Runtime(source + ":" + std::to_string(st.line) + ": " +
                             RedactSecret(Trimmed(what), PasswordOf(url)) +
                             (sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")"));
  s.set_location(loc);
  return s;
}

template <typename Tx>
Status Run(Tx& tx, const std::string& source, const SqlStatement& st, const std::string& url) {
  try {
    tx.exec(st.text);
  } catch (const pqxx::sql_error& e) {
    return StatementError(source, st, e.what(), db::SqlstateOf(e), url);
  } catch (const std::exception& e) {
    return StatementError(source, st, e.what(), "", url);
  }
  return Status::Ok();
}

}  // namespace

Result<Catalog> ReadCatalog(const std::string& url, const CatalogReadOptions& options) {
  const DatabaseOptions db_options = OptionsFor(url, options.connect_timeout);
  auto conn = db::OpenConnection(db::BuildConninfo(db_options, "schemagate", false), db_options);
  if (!conn.ok()) {
    return conn.status();
  }
  const std::string context = "reading the schema of " + DescribeTarget(url);
  try {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(**conn);
    // Definitions come out fully qualified, the same whatever the caller's
    // search_path, so catalogs of different databases compare.
    tx.exec("SET LOCAL search_path = ''");
    Catalog catalog = Reader(tx, options).Read();
    tx.commit();
    return catalog;
  } catch (const std::exception& e) {
    return db::StatusFromException(e, context, db_options);
  }
}

Status ExecuteSqlScript(const std::string& url, const std::string& source, const std::string& sql) {
  auto split = SplitStatements(sql, 1);
  if (!split.ok()) {
    return split.status().Prefixed(source);
  }
  const std::vector<SqlStatement>& statements = *split;
  for (const SqlStatement& st : statements) {
    const std::string why = UnsupportedStatementReason(st);
    if (!why.empty()) {
      ErrorLocation loc;
      loc.file = source;
      loc.line = st.line;
      loc.statement = TruncateUtf8(st.text, 500);
      return Status::Validation(source + ":" + std::to_string(st.line) + ": " + why)
          .set_location(loc);
    }
  }
  if (statements.empty()) {
    return Status::Ok();
  }
  const DatabaseOptions db_options = OptionsFor(url, std::chrono::milliseconds(10000));
  auto conn = db::OpenConnection(db::BuildConninfo(db_options, "schemagate", false), db_options);
  if (!conn.ok()) {
    return conn.status();
  }
  size_t i = 0;
  while (i < statements.size()) {
    if (!NonTransactionalReason(statements[i]).empty()) {
      try {
        pqxx::nontransaction tx(**conn);
        SG_RETURN_IF_ERROR(Run(tx, source, statements[i], url));
      } catch (const std::exception& e) {
        return StatementError(source, statements[i], e.what(), "", url);
      }
      ++i;
      continue;
    }
    const size_t first = i;
    try {
      pqxx::work tx(**conn);
      for (; i < statements.size() && NonTransactionalReason(statements[i]).empty(); ++i) {
        SG_RETURN_IF_ERROR(Run(tx, source, statements[i], url));
      }
      tx.commit();
    } catch (const pqxx::sql_error& e) {
      // COMMIT itself failed (a deferred constraint): blame the block.
      return StatementError(source, statements[first], std::string("at COMMIT: ") + e.what(),
                            db::SqlstateOf(e), url);
    } catch (const std::exception& e) {
      return StatementError(source, statements[first], e.what(), "", url);
    }
  }
  return Status::Ok();
}

}  // namespace schemagate
