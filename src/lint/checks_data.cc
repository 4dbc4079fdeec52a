// Checks for statements that change or remove data, and for statements
// that fight how the runner runs a migration.
#include <set>

#include "lint/checks.h"
#include "lint/rule_ids.h"

namespace schemagate::lint {

void CheckUnboundedDataChange(const StatementContext& c, Hits* hits) {
  switch (c.node->node_case) {
    case PG_QUERY__NODE__NODE_UPDATE_STMT: {
      const Name table = NameOf(c.node->update_stmt->relation);
      if (c.node->update_stmt->where_clause == nullptr && !c.state.IsNew(table)) {
        hits->push_back({kUnboundedDataChange, "UPDATE " + table.display() + " without WHERE changes every row of an existing table"});
      }
      break;
    }
    case PG_QUERY__NODE__NODE_DELETE_STMT: {
      const Name table = NameOf(c.node->delete_stmt->relation);
      if (c.node->delete_stmt->where_clause == nullptr && !c.state.IsNew(table)) {
        hits->push_back({kUnboundedDataChange, "DELETE FROM " + table.display() + " without WHERE removes every row of an existing table"});
      }
      break;
    }
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT: {
      std::vector<Name> existing;
      for (size_t i = 0; i < c.node->truncate_stmt->n_relations; ++i) {
        const Name table = NameOf(c.node->truncate_stmt->relations[i]->range_var);
        if (!c.state.IsNew(table)) existing.push_back(table);
      }
      if (!existing.empty()) hits->push_back({kUnboundedDataChange, "TRUNCATE " + Displays(existing) + " removes every row"});
      break;
    }
    default:
      break;
  }
}

void CheckTruncateCascade(const StatementContext& c, Hits* hits) {
  if (c.node->node_case == PG_QUERY__NODE__NODE_TRUNCATE_STMT &&
      c.node->truncate_stmt->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE) {
    std::vector<Name> tables;
    for (size_t i = 0; i < c.node->truncate_stmt->n_relations; ++i) {
      tables.push_back(NameOf(c.node->truncate_stmt->relations[i]->range_var));
    }
    hits->push_back({kTruncateCascade, "TRUNCATE " + Displays(tables) + " CASCADE also empties every table that references them"});
  }
}

void CheckDropDatabase(const StatementContext& c, Hits* hits) {
  if (c.node->node_case == PG_QUERY__NODE__NODE_DROPDB_STMT) {
    hits->push_back({kDropDatabase, std::string("DROP DATABASE ") + QuoteIdent(c.node->dropdb_stmt->dbname ? c.node->dropdb_stmt->dbname : "")});
  }
}

void CheckDuplicateColumnAssignment(const StatementContext& c, Hits* hits) {
  if (c.node->node_case != PG_QUERY__NODE__NODE_UPDATE_STMT) return;
  const PgQuery__UpdateStmt* u = c.node->update_stmt;
  std::set<std::string> seen;
  for (size_t i = 0; i < u->n_target_list; ++i) {
    const PgQuery__Node* t = u->target_list[i];
    if (t->node_case != PG_QUERY__NODE__NODE_RES_TARGET || t->res_target->name == nullptr) continue;
    // SET a.b = ... and SET a[1] = ... assign parts; only whole columns clash.
    if (t->res_target->n_indirection > 0) continue;
    if (!seen.insert(t->res_target->name).second) {
      hits->push_back({kDuplicateColumnAssignment, "UPDATE " + NameOf(u->relation).display() + " sets column " +
                                                       QuoteIdent(t->res_target->name) + " more than once",
                       t->res_target->location});
    }
  }
}

void CheckTransactionControl(const StatementContext& c, Hits* hits) {
  if (c.node->node_case != PG_QUERY__NODE__NODE_TRANSACTION_STMT) return;
  static const char* const names[] = {"",        "BEGIN",   "START TRANSACTION", "COMMIT",  "ROLLBACK",
                                      "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "PREPARE TRANSACTION",
                                      "COMMIT PREPARED", "ROLLBACK PREPARED"};
  const int kind = c.node->transaction_stmt->kind;
  const std::string what = kind >= 1 && kind <= 10 ? names[kind] : "a transaction statement";
  hits->push_back({kTransactionControl, what + (c.transactional
                                                    ? " inside a migration that schemagate runs in its own transaction"
                                                    : " in a transaction:false section, where each statement commits on its own")});
}

void CheckNotRerunnable(const StatementContext& c, Hits* hits) {
  if (c.transactional) return;  // a failed transaction leaves nothing to trip over
  switch (c.node->node_case) {
    case PG_QUERY__NODE__NODE_INDEX_STMT:
      if (!c.node->index_stmt->if_not_exists) {
        hits->push_back({kNotRerunnable, std::string("CREATE INDEX") + (c.node->index_stmt->concurrent ? " CONCURRENTLY" : "") +
                                             " without IF NOT EXISTS: a rerun after a failure stops here"});
      }
      break;
    case PG_QUERY__NODE__NODE_CREATE_STMT:
      if (!c.node->create_stmt->if_not_exists) {
        hits->push_back({kNotRerunnable, "CREATE TABLE " + NameOf(c.node->create_stmt->relation).display() +
                                             " without IF NOT EXISTS: a rerun after a failure stops here"});
      }
      break;
    case PG_QUERY__NODE__NODE_DROP_STMT:
      if (!c.node->drop_stmt->missing_ok) {
        hits->push_back({kNotRerunnable, "DROP without IF EXISTS: a rerun after a failure stops here"});
      }
      break;
    case PG_QUERY__NODE__NODE_DROPDB_STMT:
      if (!c.node->dropdb_stmt->missing_ok) {
        hits->push_back({kNotRerunnable, "DROP DATABASE without IF EXISTS: a rerun after a failure stops here"});
      }
      break;
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
      for (const PgQuery__AlterTableCmd* cmd : Commands(c.node->alter_table_stmt)) {
        if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_DetachPartition) {
          // Interrupted, it leaves the partition pending detach; running it again fails.
          hits->push_back({kNotRerunnable, "DETACH PARTITION ... CONCURRENTLY: if it is interrupted the partition "
                                           "stays pending detach and a rerun fails; finish it with ALTER TABLE ... "
                                           "DETACH PARTITION ... FINALIZE"});
          continue;
        }
        const bool add = cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn;
        const bool drop = cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_DropColumn ||
                          cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_DropConstraint;
        if ((add || drop) && !cmd->missing_ok) {
          hits->push_back({kNotRerunnable, std::string(add ? "ADD COLUMN without IF NOT EXISTS" : "DROP without IF EXISTS") +
                                               ": a rerun after a failure stops here"});
        }
      }
      break;
    default:
      break;
  }
}

}  // namespace schemagate::lint
