// Checks for changes the app version that is still running cannot live with.
#include "lint/checks.h"
#include "lint/rule_ids.h"

namespace schemagate::lint {

void CheckNotNullWithoutDefault(const StatementContext& c, Hits* hits) {
  const PgQuery__AlterTableStmt* alter = ExistingAlteredTable(c);
  for (const PgQuery__AlterTableCmd* cmd : Commands(alter)) {
    if (cmd->subtype != PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn) continue;
    const PgQuery__ColumnDef* column = ColumnDefOf(cmd);
    if (column == nullptr) continue;
    const bool not_null = column->is_not_null || ColumnConstraint(column, PG_QUERY__CONSTR_TYPE__CONSTR_NOTNULL) ||
                          ColumnConstraint(column, PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY);
    // A value for every row: a default, an identity or generated column, a serial.
    const std::string type = TypeOf(column->type_name).name;
    const bool filled = ColumnConstraint(column, PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT) ||
                        ColumnConstraint(column, PG_QUERY__CONSTR_TYPE__CONSTR_IDENTITY) ||
                        ColumnConstraint(column, PG_QUERY__CONSTR_TYPE__CONSTR_GENERATED) ||
                        type == "serial" || type == "bigserial" || type == "smallserial";
    if (not_null && !filled) {
      hits->push_back({kNotNullWithoutDefault, "ADD COLUMN " + QuoteIdent(column->colname) +
                                                   " NOT NULL without a DEFAULT on existing table " +
                                                   NameOf(alter->relation).display(),
                       column->location});
    }
  }
}

void CheckDropTable(const StatementContext& c, Hits* hits) {
  if (c.node->node_case != PG_QUERY__NODE__NODE_DROP_STMT ||
      c.node->drop_stmt->remove_type != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE) {
    return;
  }
  for (size_t i = 0; i < c.node->drop_stmt->n_objects; ++i) {
    const PgQuery__Node* o = c.node->drop_stmt->objects[i];
    if (o->node_case != PG_QUERY__NODE__NODE_LIST) continue;
    const Name table = NameOfList(o->list->items, o->list->n_items);
    if (!c.state.IsNew(table)) hits->push_back({kDropTable, "DROP TABLE " + table.display()});
  }
}

void CheckDropColumn(const StatementContext& c, Hits* hits) {
  const PgQuery__AlterTableStmt* alter = ExistingAlteredTable(c);
  for (const PgQuery__AlterTableCmd* cmd : Commands(alter)) {
    if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_DropColumn && cmd->name) {
      hits->push_back({kDropColumn, "DROP COLUMN " + QuoteIdent(cmd->name) + " of existing table " +
                                        NameOf(alter->relation).display()});
    }
  }
}

void CheckRenameTable(const StatementContext& c, Hits* hits) {
  if (c.node->node_case != PG_QUERY__NODE__NODE_RENAME_STMT) return;
  const PgQuery__RenameStmt* r = c.node->rename_stmt;
  if (r->rename_type != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE || r->relation == nullptr || r->newname == nullptr) return;
  const Name table = NameOf(r->relation);
  if (c.state.IsNew(table)) return;
  hits->push_back({kRenameTable, "RENAME existing table " + table.display() + " TO " + QuoteIdent(r->newname)});
}

void CheckRenameColumn(const StatementContext& c, Hits* hits) {
  if (c.node->node_case != PG_QUERY__NODE__NODE_RENAME_STMT) return;
  const PgQuery__RenameStmt* r = c.node->rename_stmt;
  if (r->rename_type != PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN || r->relation == nullptr || r->subname == nullptr ||
      r->newname == nullptr || r->relation_type != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE) {
    return;
  }
  const Name table = NameOf(r->relation);
  if (c.state.IsNew(table)) return;
  hits->push_back({kRenameColumn, "RENAME COLUMN " + QuoteIdent(r->subname) + " TO " + QuoteIdent(r->newname) +
                                      " on existing table " + table.display()});
}

void CheckDropNotNull(const StatementContext& c, Hits* hits) {
  const PgQuery__AlterTableStmt* alter = ExistingAlteredTable(c);
  for (const PgQuery__AlterTableCmd* cmd : Commands(alter)) {
    if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_DropNotNull && cmd->name) {
      hits->push_back({kDropNotNull, "ALTER COLUMN " + QuoteIdent(cmd->name) + " DROP NOT NULL on existing table " +
                                         NameOf(alter->relation).display()});
    }
  }
}

void CheckEnumValuePosition(const StatementContext& c, Hits* hits) {
  if (c.node->node_case != PG_QUERY__NODE__NODE_ALTER_ENUM_STMT) return;
  const PgQuery__AlterEnumStmt* e = c.node->alter_enum_stmt;
  if (IsSet(e->old_val)) return;  // RENAME VALUE
  if (IsSet(e->new_val_neighbor)) return;
  hits->push_back({kEnumValuePosition, "ALTER TYPE " + NameOfList(e->type_name, e->n_type_name).display() +
                                           " ADD VALUE '" + (e->new_val ? e->new_val : "") +
                                           "' without BEFORE or AFTER puts it last"});
}

}  // namespace schemagate::lint
