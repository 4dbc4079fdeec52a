// Checks for locks held while PostgreSQL reads or builds something.
#include "lint/checks.h"
#include "lint/rule_ids.h"

namespace schemagate::lint {
namespace {

const char* ConstraintKind(PgQuery__ConstrType type) {
  switch (type) {
    case PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN: return "FOREIGN KEY";
    case PG_QUERY__CONSTR_TYPE__CONSTR_CHECK: return "CHECK";
    case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE: return "UNIQUE";
    case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY: return "PRIMARY KEY";
    case PG_QUERY__CONSTR_TYPE__CONSTR_EXCLUSION: return "EXCLUDE";
    default: return "";
  }
}

std::string Named(const PgQuery__Constraint* con) {
  return IsSet(con->conname) ? QuoteIdent(con->conname) + " " : "";
}

}  // namespace

const PgQuery__AlterTableStmt* ExistingAlteredTable(const StatementContext& c) {
  if (c.node->node_case != PG_QUERY__NODE__NODE_ALTER_TABLE_STMT) return nullptr;
  const PgQuery__AlterTableStmt* alter = c.node->alter_table_stmt;
  if (alter->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE || c.state.IsNew(NameOf(alter->relation))) {
    return nullptr;
  }
  return alter;
}

std::vector<const PgQuery__AlterTableCmd*> Commands(const PgQuery__AlterTableStmt* alter) {
  std::vector<const PgQuery__AlterTableCmd*> out;
  if (alter == nullptr) return out;
  for (size_t i = 0; i < alter->n_cmds; ++i) {
    if (alter->cmds[i]->node_case == PG_QUERY__NODE__NODE_ALTER_TABLE_CMD) out.push_back(alter->cmds[i]->alter_table_cmd);
  }
  return out;
}

const PgQuery__ColumnDef* ColumnDefOf(const PgQuery__AlterTableCmd* cmd) {
  if (cmd->def == nullptr || cmd->def->node_case != PG_QUERY__NODE__NODE_COLUMN_DEF) return nullptr;
  return cmd->def->column_def;
}

const PgQuery__Constraint* ColumnConstraint(const PgQuery__ColumnDef* column, PgQuery__ConstrType type) {
  if (column == nullptr) return nullptr;
  for (size_t i = 0; i < column->n_constraints; ++i) {
    const PgQuery__Node* n = column->constraints[i];
    if (n->node_case == PG_QUERY__NODE__NODE_CONSTRAINT && n->constraint->contype == type) return n->constraint;
  }
  return nullptr;
}

void CheckIndexNotConcurrent(const StatementContext& c, Hits* hits) {
  if (c.node->node_case == PG_QUERY__NODE__NODE_INDEX_STMT) {
    const PgQuery__IndexStmt* index = c.node->index_stmt;
    const Name table = NameOf(index->relation);
    // ON ONLY builds nothing: it is the first step of indexing a partitioned table.
    if (index->concurrent || !index->relation->inh || c.state.IsNew(table)) return;
    std::string what = index->unique ? "CREATE UNIQUE INDEX" : "CREATE INDEX";
    if (IsSet(index->idxname)) what += " " + QuoteIdent(index->idxname);
    hits->push_back({kIndexNotConcurrent, what + " on existing table " + table.display() + " without CONCURRENTLY"});
  }
  if (c.node->node_case == PG_QUERY__NODE__NODE_DROP_STMT &&
      c.node->drop_stmt->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX && !c.node->drop_stmt->concurrent) {
    std::vector<Name> existing;
    for (size_t i = 0; i < c.node->drop_stmt->n_objects; ++i) {
      const PgQuery__Node* o = c.node->drop_stmt->objects[i];
      if (o->node_case != PG_QUERY__NODE__NODE_LIST) continue;
      const Name index = NameOfList(o->list->items, o->list->n_items);
      if (!c.state.IndexOnNewTable(index)) existing.push_back(index);
    }
    if (!existing.empty()) hits->push_back({kIndexNotConcurrent, "DROP INDEX " + Displays(existing) + " without CONCURRENTLY"});
  }
}

void CheckReindexNotConcurrent(const StatementContext& c, Hits* hits) {
  if (c.node->node_case != PG_QUERY__NODE__NODE_REINDEX_STMT) return;
  const PgQuery__ReindexStmt* r = c.node->reindex_stmt;
  if (OptionOn(r->params, r->n_params, "concurrently")) return;
  switch (r->kind) {
    case PG_QUERY__REINDEX_OBJECT_TYPE__REINDEX_OBJECT_INDEX: {
      const Name index = NameOf(r->relation);
      if (!c.state.IndexOnNewTable(index)) hits->push_back({kReindexNotConcurrent, "REINDEX INDEX " + index.display() + " without CONCURRENTLY"});
      break;
    }
    case PG_QUERY__REINDEX_OBJECT_TYPE__REINDEX_OBJECT_TABLE: {
      const Name table = NameOf(r->relation);
      if (!c.state.IsNew(table)) hits->push_back({kReindexNotConcurrent, "REINDEX TABLE " + table.display() + " without CONCURRENTLY"});
      break;
    }
    default:
      hits->push_back({kReindexNotConcurrent, std::string("REINDEX ") +
                                                  (r->kind == PG_QUERY__REINDEX_OBJECT_TYPE__REINDEX_OBJECT_SCHEMA ? "SCHEMA" : "DATABASE") +
                                                  " rebuilds every index of every table in it without CONCURRENTLY"});
  }
}

namespace {

// A constraint an ALTER TABLE adds: by ADD CONSTRAINT (column null), or
// with a column by ADD COLUMN.
struct AddedConstraint {
  const PgQuery__Constraint* constraint;
  const PgQuery__ColumnDef* column;
};

std::vector<AddedConstraint> AddedConstraints(const PgQuery__AlterTableStmt* alter) {
  std::vector<AddedConstraint> out;
  for (const PgQuery__AlterTableCmd* cmd : Commands(alter)) {
    if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraint && cmd->def &&
        cmd->def->node_case == PG_QUERY__NODE__NODE_CONSTRAINT) {
      out.push_back({cmd->def->constraint, nullptr});
    }
    const PgQuery__ColumnDef* column = ColumnDefOf(cmd);
    if (cmd->subtype != PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn || column == nullptr) continue;
    for (size_t i = 0; i < column->n_constraints; ++i) {
      if (column->constraints[i]->node_case == PG_QUERY__NODE__NODE_CONSTRAINT) {
        out.push_back({column->constraints[i]->constraint, column});
      }
    }
  }
  return out;
}

}  // namespace

void CheckConstraintWithoutNotValid(const StatementContext& c, Hits* hits) {
  const PgQuery__AlterTableStmt* alter = ExistingAlteredTable(c);
  if (alter == nullptr) return;
  const std::string table = NameOf(alter->relation).display();
  for (const auto& [con, column] : AddedConstraints(alter)) {
    if (con->contype != PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN && con->contype != PG_QUERY__CONSTR_TYPE__CONSTR_CHECK) {
      continue;
    }
    if (column == nullptr && !con->skip_validation) {
      hits->push_back({kConstraintWithoutNotValid, "ADD CONSTRAINT " + Named(con) + ConstraintKind(con->contype) +
                                                       " on existing table " + table + " without NOT VALID",
                       con->location});
    } else if (column != nullptr) {
      // A column constraint cannot be NOT VALID: the column comes first, the constraint after.
      hits->push_back({kConstraintWithoutNotValid,
                       "ADD COLUMN " + QuoteIdent(column->colname) + " with " +
                           (con->contype == PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN ? "REFERENCES" : "CHECK") +
                           " on existing table " + table + " validates every row",
                       con->location});
    }
  }
}

// VALIDATE in the transaction that added the constraint NOT VALID: the scan
// runs under the lock the ADD took, held until commit.
void CheckValidateInTheSameTransaction(const StatementContext& c, Hits* hits) {
  const PgQuery__AlterTableStmt* alter = ExistingAlteredTable(c);
  if (alter == nullptr) return;
  const Name table = NameOf(alter->relation);
  for (const PgQuery__AlterTableCmd* cmd : Commands(alter)) {
    if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_ValidateConstraint && IsSet(cmd->name) &&
        c.state.AddedNotValidInThisTransaction(table, cmd->name)) {
      hits->push_back({kConstraintWithoutNotValid,
                       "VALIDATE CONSTRAINT " + QuoteIdent(cmd->name) + " on existing table " + table.display() +
                           " in the transaction that added it NOT VALID: the scan runs under the ADD's lock "
                           "(ACCESS EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE for a foreign key) until commit"});
    }
  }
}

void CheckUniqueWithoutUsingIndex(const StatementContext& c, Hits* hits) {
  const PgQuery__AlterTableStmt* alter = ExistingAlteredTable(c);
  if (alter == nullptr) return;
  const std::string table = NameOf(alter->relation).display();
  for (const auto& [con, column] : AddedConstraints(alter)) {
    const bool builds_index = con->contype == PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE ||
                              con->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY ||
                              (con->contype == PG_QUERY__CONSTR_TYPE__CONSTR_EXCLUSION && column == nullptr);
    if (!builds_index) continue;
    if (column == nullptr && !IsSet(con->indexname)) {
      hits->push_back({kUniqueWithoutUsingIndex, "ADD CONSTRAINT " + Named(con) + ConstraintKind(con->contype) +
                                                     " on existing table " + table + " without USING INDEX",
                       con->location});
    } else if (column != nullptr) {
      hits->push_back({kUniqueWithoutUsingIndex, "ADD COLUMN " + QuoteIdent(column->colname) + " " +
                                                     ConstraintKind(con->contype) + " on existing table " + table +
                                                     " builds its index under the table lock",
                       con->location});
    }
  }
}

void CheckSetNotNull(const StatementContext& c, Hits* hits) {
  const PgQuery__AlterTableStmt* alter = ExistingAlteredTable(c);
  for (const PgQuery__AlterTableCmd* cmd : Commands(alter)) {
    if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_SetNotNull && cmd->name) {
      hits->push_back({kSetNotNull, "ALTER COLUMN " + QuoteIdent(cmd->name) + " SET NOT NULL on existing table " +
                                        NameOf(alter->relation).display() +
                                        " scans every row under an ACCESS EXCLUSIVE lock"});
    }
  }
}

void CheckDomainConstraint(const StatementContext& c, Hits* hits) {
  if (c.node->node_case == PG_QUERY__NODE__NODE_CREATE_DOMAIN_STMT) {
    const PgQuery__CreateDomainStmt* d = c.node->create_domain_stmt;
    for (size_t i = 0; i < d->n_constraints; ++i) {
      const PgQuery__Node* n = d->constraints[i];
      if (n->node_case == PG_QUERY__NODE__NODE_CONSTRAINT && n->constraint->contype == PG_QUERY__CONSTR_TYPE__CONSTR_CHECK) {
        hits->push_back({kDomainConstraint, "CREATE DOMAIN " + NameOfList(d->domainname, d->n_domainname).display() +
                                                " with a CHECK constraint",
                         n->constraint->location});
      }
    }
  }
  if (c.node->node_case == PG_QUERY__NODE__NODE_ALTER_DOMAIN_STMT) {
    const PgQuery__AlterDomainStmt* d = c.node->alter_domain_stmt;
    // subtype 'C' is ADD CONSTRAINT.
    if (d->subtype && std::string(d->subtype) == "C" && d->def && d->def->node_case == PG_QUERY__NODE__NODE_CONSTRAINT &&
        !d->def->constraint->skip_validation) {
      hits->push_back({kDomainConstraint, "ALTER DOMAIN " + NameOfList(d->type_name, d->n_type_name).display() +
                                              " ADD CONSTRAINT without NOT VALID checks every column of the domain"});
    }
  }
}

void CheckDetachPartitionNotConcurrent(const StatementContext& c, Hits* hits) {
  if (c.node->node_case != PG_QUERY__NODE__NODE_ALTER_TABLE_STMT) return;
  const PgQuery__AlterTableStmt* alter = c.node->alter_table_stmt;
  if (c.state.IsNew(NameOf(alter->relation))) return;
  for (const PgQuery__AlterTableCmd* cmd : Commands(alter)) {
    if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_DetachPartition && cmd->def &&
        cmd->def->node_case == PG_QUERY__NODE__NODE_PARTITION_CMD && !cmd->def->partition_cmd->concurrent) {
      hits->push_back({kDetachPartitionNotConcurrent, "DETACH PARTITION " + NameOf(cmd->def->partition_cmd->name).display() +
                                                          " from " + NameOf(alter->relation).display() +
                                                          " without CONCURRENTLY"});
    }
  }
}

void CheckExplicitLock(const StatementContext& c, Hits* hits) {
  if (c.node->node_case != PG_QUERY__NODE__NODE_LOCK_STMT) return;
  std::vector<std::string> existing;
  std::string mode;
  for (const TableLock& l : c.locks.locks) {
    if (l.existing) {
      existing.push_back(l.relation);
      mode = l.mode;
    }
  }
  if (existing.empty()) return;
  std::string names;
  for (const std::string& n : existing) names += (names.empty() ? "" : ", ") + n;
  hits->push_back({kExplicitLock, "LOCK TABLE " + names + " IN " + mode + " MODE holds it until the migration's transaction ends"});
}

void CheckMissingLockTimeout(const StatementContext& c, Hits* hits) {
  if (c.state.LockTimeoutSet()) return;
  // LOCK ... NOWAIT fails at once instead of queueing.
  if (c.node->node_case == PG_QUERY__NODE__NODE_LOCK_STMT && c.node->lock_stmt->nowait) return;
  const std::vector<std::string> relations = c.locks.AccessExclusiveOnExisting();
  if (relations.empty()) return;
  if (relations.size() == 1) {
    hits->push_back({kMissingLockTimeout, c.locks.command + " " + relations[0] +
                                              " takes an ACCESS EXCLUSIVE lock and no lock_timeout is set"});
    return;
  }
  // DROP INDEX locks the index and its table; a foreign key's drop, the referenced table too.
  std::string on;
  for (const std::string& relation : relations) on += (on.empty() ? "" : ", ") + relation;
  hits->push_back({kMissingLockTimeout, c.locks.command + " takes ACCESS EXCLUSIVE locks on " + on +
                                            " and no lock_timeout is set"});
}

}  // namespace schemagate::lint
