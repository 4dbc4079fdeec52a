// Checks for statements that copy a whole table into a new file.
#include <set>

#include "lint/checks.h"
#include "lint/rule_ids.h"

namespace schemagate::lint {
namespace {

// Functions whose result differs per row: as a new column's default, each
// row gets its own value, so the table is rewritten.
const std::set<std::string>& VolatileFunctions() {
  static const std::set<std::string> names = {
      "random",        "random_normal",      "gen_random_uuid", "gen_random_bytes", "uuid_generate_v1",
      "uuid_generate_v1mc", "uuid_generate_v4", "uuidv4",       "uuidv7",           "clock_timestamp",
      "timeofday",     "nextval",            "setval",          "txid_current",     "pg_current_xact_id"};
  return names;
}

// Functions PostgreSQL marks STABLE or IMMUTABLE that defaults commonly
// use: evaluated once for the ADD COLUMN, so no rewrite.
const std::set<std::string>& NonVolatileFunctions() {
  static const std::set<std::string> names = {
      "now", "transaction_timestamp", "statement_timestamp", "current_setting", "lower", "upper",
      "btrim", "ltrim", "rtrim", "concat", "concat_ws", "length", "char_length", "abs", "round",
      "floor", "ceil", "ceiling", "date_trunc", "timezone", "make_date", "make_time", "make_timestamp",
      "make_timestamptz", "make_interval", "to_char", "to_date", "to_timestamp", "to_number",
      "jsonb_build_object", "json_build_object", "jsonb_build_array", "json_build_array", "to_jsonb",
      "to_json", "md5", "left", "right", "substr", "substring", "replace", "format", "array_fill",
      "int4range", "int8range", "tstzrange", "daterange", "numrange", "tsrange", "point", "inet",
      "jsonb_object", "array_to_string", "string_to_array", "encode", "decode", "sha256"};
  return names;
}

// Why a default rewrites the table: "" when it does not.
std::string RewritingDefault(const PgQuery__Node* expr) {
  std::string why;
  WalkExpression(expr, [&](const PgQuery__Node* n) {
    if (!why.empty() || n->node_case != PG_QUERY__NODE__NODE_FUNC_CALL) return;
    const std::string f = FunctionName(n->func_call);
    if (VolatileFunctions().count(f)) {
      why = "a volatile DEFAULT " + f + "()";
    } else if (!NonVolatileFunctions().count(f)) {
      why = "DEFAULT " + f + "(), which rewrites the table unless " + f + " is STABLE or IMMUTABLE";
    }
  });
  return why;
}

bool IsSerial(const ColumnType& t) {
  return t.name == "serial" || t.name == "bigserial" || t.name == "smallserial";
}

// Why adding `column` to a table with rows rewrites it; "" when it does not.
std::string RewritingColumn(const PgQuery__ColumnDef* column) {
  if (IsSerial(TypeOf(column->type_name))) return "a " + TypeOf(column->type_name).name + " column (a nextval() default per row)";
  if (ColumnConstraint(column, PG_QUERY__CONSTR_TYPE__CONSTR_IDENTITY)) return "an identity column (a value per row)";
  if (ColumnConstraint(column, PG_QUERY__CONSTR_TYPE__CONSTR_GENERATED)) return "a stored generated column (computed for every row)";
  if (const PgQuery__Constraint* d = ColumnConstraint(column, PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT)) {
    return RewritingDefault(d->raw_expr);
  }
  return "";
}

bool Widens(const std::vector<int>& from, const std::vector<int>& to) {
  if (to.empty()) return true;  // no limit any more
  if (from.empty()) return false;
  return to[0] >= from[0];
}

}  // namespace

// True when PostgreSQL changes only the catalog (no rewrite, no scan):
// binary-coercible types whose new modifier admits every old value.
bool TypeChangeIsCatalogOnly(const ColumnType& from, const ColumnType& to) {
  if (from.array != to.array) return false;
  const bool stringy_from = from.name == "varchar" || from.name == "text";
  if (stringy_from && to.name == "text") return true;
  if (from.name == "text" && to.name == "varchar") return to.modifiers.empty();
  if (from.name == "cidr" && to.name == "inet") return true;
  if (from.name != to.name) return false;
  if (from.name == "varchar" || from.name == "varbit") return Widens(from.modifiers, to.modifiers);
  if (from.name == "numeric") {
    if (to.modifiers.empty()) return true;
    if (from.modifiers.empty()) return false;
    const int from_scale = from.modifiers.size() > 1 ? from.modifiers[1] : 0;
    const int to_scale = to.modifiers.size() > 1 ? to.modifiers[1] : 0;
    return from_scale == to_scale && to.modifiers[0] >= from.modifiers[0];
  }
  if (from.name == "timestamp" || from.name == "timestamptz" || from.name == "time" ||
      from.name == "timetz" || from.name == "interval") {
    return Widens(from.modifiers, to.modifiers);
  }
  return from.modifiers == to.modifiers;
}

void CheckTableRewrite(const StatementContext& c, Hits* hits) {
  const PgQuery__AlterTableStmt* alter = ExistingAlteredTable(c);
  if (alter == nullptr) return;
  const std::string table = NameOf(alter->relation).display();
  for (const PgQuery__AlterTableCmd* cmd : Commands(alter)) {
    switch (cmd->subtype) {
      case PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn: {
        const PgQuery__ColumnDef* column = ColumnDefOf(cmd);
        if (column == nullptr) break;
        const std::string why = RewritingColumn(column);
        if (!why.empty()) {
          hits->push_back({kTableRewrite, "ADD COLUMN " + QuoteIdent(column->colname) + " with " + why +
                                              " rewrites existing table " + table,
                           column->location});
        }
        break;
      }
      case PG_QUERY__ALTER_TABLE_TYPE__AT_SetLogged:
      case PG_QUERY__ALTER_TABLE_TYPE__AT_SetUnLogged:
        hits->push_back({kTableRewrite, std::string("SET ") +
                                            (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_SetLogged ? "LOGGED" : "UNLOGGED") +
                                            " rewrites existing table " + table});
        break;
      case PG_QUERY__ALTER_TABLE_TYPE__AT_SetAccessMethod:
        hits->push_back({kTableRewrite, "SET ACCESS METHOD rewrites existing table " + table});
        break;
      case PG_QUERY__ALTER_TABLE_TYPE__AT_SetTableSpace:
        hits->push_back({kTableRewrite, "SET TABLESPACE copies every file of existing table " + table});
        break;
      default:
        break;
    }
  }
}

void CheckColumnTypeChange(const StatementContext& c, Hits* hits) {
  const PgQuery__AlterTableStmt* alter = ExistingAlteredTable(c);
  if (alter == nullptr) return;
  const Name table = NameOf(alter->relation);
  for (const PgQuery__AlterTableCmd* cmd : Commands(alter)) {
    if (cmd->subtype != PG_QUERY__ALTER_TABLE_TYPE__AT_AlterColumnType || cmd->name == nullptr) continue;
    const PgQuery__ColumnDef* def = ColumnDefOf(cmd);
    if (def == nullptr) continue;
    const ColumnType to = TypeOf(def->type_name);
    const bool has_using = def->raw_default != nullptr;
    const ColumnType* from = c.state.ColumnTypeOf(table, cmd->name);
    std::string message = "ALTER COLUMN " + QuoteIdent(cmd->name) + " TYPE " + to.display() + " on existing table " +
                          table.display();
    if (from == nullptr) {
      hits->push_back({kColumnTypeChange, message + " (its current type is unknown to lint: no linted migration "
                                                    "created it; lint-ignore a change you know is binary-coercible)"});
    } else if (has_using || !TypeChangeIsCatalogOnly(*from, to)) {
      std::string note = from->name == "timestamp" && to.name == "timestamptz"
                             ? " (no rewrite only where the session TimeZone is UTC)"
                             : "";
      hits->push_back({kColumnTypeChange, message + " rewrites it: " + from->display() + " to " + to.display() +
                                              (has_using ? " with USING" : "") + " is not binary-coercible" + note});
    }
  }
}

void CheckRewriteMaintenance(const StatementContext& c, Hits* hits) {
  if (c.node->node_case == PG_QUERY__NODE__NODE_CLUSTER_STMT) {
    const PgQuery__ClusterStmt* cl = c.node->cluster_stmt;
    if (cl->relation == nullptr) {
      hits->push_back({kRewriteMaintenance, "CLUSTER rewrites every clustered table of the database"});
    } else if (!c.state.IsNew(NameOf(cl->relation))) {
      hits->push_back({kRewriteMaintenance, "CLUSTER rewrites existing table " + NameOf(cl->relation).display()});
    }
  }
  if (c.node->node_case == PG_QUERY__NODE__NODE_VACUUM_STMT &&
      OptionOn(c.node->vacuum_stmt->options, c.node->vacuum_stmt->n_options, "full")) {
    const PgQuery__VacuumStmt* v = c.node->vacuum_stmt;
    if (v->n_rels == 0) {
      hits->push_back({kRewriteMaintenance, "VACUUM FULL rewrites every table of the database"});
      return;
    }
    for (const TableLock& l : c.locks.locks) {
      if (l.existing) hits->push_back({kRewriteMaintenance, "VACUUM FULL rewrites existing table " + l.relation});
    }
  }
}

}  // namespace schemagate::lint
