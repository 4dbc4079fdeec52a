#include "lint/locks.h"

#include "lint/tree.h"

namespace schemagate::lint {
namespace {

constexpr const char* kShareUpdateExclusive = "SHARE UPDATE EXCLUSIVE";
constexpr const char* kShare = "SHARE";
constexpr const char* kShareRowExclusive = "SHARE ROW EXCLUSIVE";
constexpr const char* kExclusive = "EXCLUSIVE";
constexpr const char* kRowExclusive = "ROW EXCLUSIVE";

// LOCK's modes by PostgreSQL's LOCKMODE number.
const char* LockModeName(int mode) {
  static const char* const names[] = {"",
                                      "ACCESS SHARE",
                                      "ROW SHARE",
                                      kRowExclusive,
                                      kShareUpdateExclusive,
                                      kShare,
                                      kShareRowExclusive,
                                      kExclusive,
                                      kAccessExclusive};
  return mode >= 1 && mode <= 8 ? names[mode] : kAccessExclusive;
}

int Strength(const std::string& mode) {
  static const char* const order[] = {"ACCESS SHARE", "ROW SHARE", kRowExclusive, kShareUpdateExclusive,
                                      kShare, kShareRowExclusive, kExclusive, kAccessExclusive};
  for (int i = 0; i < 8; ++i) {
    if (mode == order[i]) return i;
  }
  return 8;
}

class Collector {
 public:
  explicit Collector(const MigrationState& state) : state_(state) {}
  void Table(const Name& name, const char* mode) {
    for (TableLock& l : out_.locks) {
      if (l.relation == name.display()) {
        if (Strength(mode) > Strength(l.mode)) l.mode = mode;
        return;
      }
    }
    out_.locks.push_back({name.display(), mode, !state_.IsNew(name)});
  }
  // An index, and its table (when a migration linted so far created the
  // index, so the table is known) in `table_mode` unless that is null.
  void Index(const Name& index, const char* index_mode, const char* table_mode) {
    out_.locks.push_back({index.display(), index_mode, !state_.IndexOnNewTable(index)});
    if (table_mode == nullptr) return;
    if (auto table = state_.TableOfIndex(index)) Table(*table, table_mode);
  }
  // Something that is no single relation ("indexes of users").
  void Described(const std::string& what, const char* mode, bool existing) {
    out_.locks.push_back({what, mode, existing});
  }
  StatementLocks& result() { return out_; }
  const MigrationState& state() const { return state_; }

 private:
  const MigrationState& state_;
  StatementLocks out_;
};

bool IsForeignKey(const PgQuery__Node* node) {
  return node != nullptr && node->node_case == PG_QUERY__NODE__NODE_CONSTRAINT &&
         node->constraint->contype == PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN;
}

// The tables a column's or table's REFERENCES clauses name.
void ReferencedTables(PgQuery__Node* const* constraints, size_t n, Collector* out) {
  for (size_t i = 0; i < n; ++i) {
    if (IsForeignKey(constraints[i]) && constraints[i]->constraint->pktable) {
      out->Table(NameOf(constraints[i]->constraint->pktable), kShareRowExclusive);
    }
  }
}

void AlterTable(const PgQuery__AlterTableStmt* alter, Collector* out) {
  const Name table = NameOf(alter->relation);
  for (size_t i = 0; i < alter->n_cmds; ++i) {
    const PgQuery__AlterTableCmd* cmd = alter->cmds[i]->alter_table_cmd;
    if (cmd == nullptr) continue;
    out->Table(table, AlterTableLockMode(cmd));
    if (IsForeignKey(cmd->def)) ReferencedTables(&cmd->def, 1, out);
    if (cmd->def && cmd->def->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF) {
      ReferencedTables(cmd->def->column_def->constraints, cmd->def->column_def->n_constraints, out);
    }
    if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_AttachPartition && cmd->def &&
        cmd->def->node_case == PG_QUERY__NODE__NODE_PARTITION_CMD) {
      // The partition being attached is scanned for its bound under this lock.
      out->Table(NameOf(cmd->def->partition_cmd->name), kAccessExclusive);
    }
    if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_DetachPartition && cmd->def &&
        cmd->def->node_case == PG_QUERY__NODE__NODE_PARTITION_CMD) {
      // The partition leaving is locked as its parent is.
      out->Table(NameOf(cmd->def->partition_cmd->name), AlterTableLockMode(cmd));
    }
    if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_DropConstraint && IsSet(cmd->name)) {
      // Dropping a foreign key drops its triggers on the referenced table too.
      if (auto referenced = out->state().ForeignKeyTarget(table, cmd->name)) {
        out->Table(*referenced, kAccessExclusive);
      }
    }
  }
}

}  // namespace

std::vector<std::string> StatementLocks::AccessExclusiveOnExisting() const {
  std::vector<std::string> out;
  for (const TableLock& l : locks) {
    if (l.existing && l.mode == kAccessExclusive) out.push_back(l.relation);
  }
  return out;
}

const char* AlterTableLockMode(const PgQuery__AlterTableCmd* cmd) {
  switch (cmd->subtype) {
    case PG_QUERY__ALTER_TABLE_TYPE__AT_EnableTrig:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_EnableAlwaysTrig:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_EnableReplicaTrig:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_EnableTrigAll:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_EnableTrigUser:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DisableTrig:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DisableTrigAll:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DisableTrigUser:
      return kShareRowExclusive;
    case PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraint:
      return IsForeignKey(cmd->def) ? kShareRowExclusive : kAccessExclusive;
    case PG_QUERY__ALTER_TABLE_TYPE__AT_ValidateConstraint:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_SetStatistics:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_ClusterOn:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DropCluster:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_SetOptions:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_ResetOptions:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_SetRelOptions:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_ResetRelOptions:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_AttachPartition:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DetachPartitionFinalize:
      return kShareUpdateExclusive;
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DetachPartition:
      return cmd->def && cmd->def->node_case == PG_QUERY__NODE__NODE_PARTITION_CMD &&
                     cmd->def->partition_cmd->concurrent
                 ? kShareUpdateExclusive
                 : kAccessExclusive;
    default:
      return kAccessExclusive;
  }
}

StatementLocks LocksOf(const PgQuery__Node* st, const MigrationState& state) {
  Collector out(state);
  std::string& command = out.result().command;
  switch (st->node_case) {
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT: {
      const PgQuery__AlterTableStmt* alter = st->alter_table_stmt;
      command = alter->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX ? "ALTER INDEX" : "ALTER TABLE";
      if (alter->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX) {
        for (size_t i = 0; i < alter->n_cmds; ++i) {
          const PgQuery__AlterTableCmd* cmd = alter->cmds[i]->alter_table_cmd;
          if (cmd) out.Index(NameOf(alter->relation), AlterTableLockMode(cmd), nullptr);
        }
      } else {
        AlterTable(alter, &out);
      }
      break;
    }
    case PG_QUERY__NODE__NODE_CREATE_STMT: {
      const PgQuery__CreateStmt* create = st->create_stmt;
      command = "CREATE TABLE";
      ReferencedTables(create->constraints, create->n_constraints, &out);
      for (size_t i = 0; i < create->n_table_elts; ++i) {
        const PgQuery__Node* e = create->table_elts[i];
        if (e->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF) {
          ReferencedTables(e->column_def->constraints, e->column_def->n_constraints, &out);
        } else if (IsForeignKey(e)) {
          ReferencedTables(&create->table_elts[i], 1, &out);
        }
      }
      // PARTITION OF locks the parent (its partition descriptor changes).
      if (create->partbound != nullptr) {
        for (size_t i = 0; i < create->n_inh_relations; ++i) {
          if (create->inh_relations[i]->node_case == PG_QUERY__NODE__NODE_RANGE_VAR) {
            out.Table(NameOf(create->inh_relations[i]->range_var), kAccessExclusive);
          }
        }
      }
      break;
    }
    case PG_QUERY__NODE__NODE_INDEX_STMT:
      command = st->index_stmt->concurrent ? "CREATE INDEX CONCURRENTLY" : "CREATE INDEX";
      out.Table(NameOf(st->index_stmt->relation), st->index_stmt->concurrent ? kShareUpdateExclusive : kShare);
      break;
    case PG_QUERY__NODE__NODE_DROP_STMT: {
      const PgQuery__DropStmt* drop = st->drop_stmt;
      for (size_t i = 0; i < drop->n_objects; ++i) {
        const PgQuery__Node* o = drop->objects[i];
        if (o->node_case != PG_QUERY__NODE__NODE_LIST) continue;
        const Name name = NameOfList(o->list->items, o->list->n_items);
        switch (drop->remove_type) {
          case PG_QUERY__OBJECT_TYPE__OBJECT_TABLE:
          case PG_QUERY__OBJECT_TYPE__OBJECT_VIEW:
          case PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW:
          case PG_QUERY__OBJECT_TYPE__OBJECT_SEQUENCE:
            command = "DROP";
            out.Table(name, kAccessExclusive);
            // Its foreign keys' triggers on the tables they reference go with it.
            for (const Name& referenced : state.ReferencedBy(name)) out.Table(referenced, kAccessExclusive);
            break;
          case PG_QUERY__OBJECT_TYPE__OBJECT_INDEX: {
            command = drop->concurrent ? "DROP INDEX CONCURRENTLY" : "DROP INDEX";
            const char* mode = drop->concurrent ? kShareUpdateExclusive : kAccessExclusive;
            out.Index(name, mode, mode);
            break;
          }
          case PG_QUERY__OBJECT_TYPE__OBJECT_TRIGGER:
          case PG_QUERY__OBJECT_TYPE__OBJECT_RULE:
          case PG_QUERY__OBJECT_TYPE__OBJECT_POLICY:
            // [schema,] table, name
            command = "DROP";
            if (o->list->n_items >= 2) out.Table(NameOfList(o->list->items, o->list->n_items - 1), kAccessExclusive);
            break;
          default:
            break;
        }
      }
      break;
    }
    case PG_QUERY__NODE__NODE_RENAME_STMT: {
      const PgQuery__RenameStmt* r = st->rename_stmt;
      if (r->relation == nullptr) break;
      command = "ALTER ... RENAME";
      if (r->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX) {
        out.Index(NameOf(r->relation), kShareUpdateExclusive, nullptr);
      } else {
        out.Table(NameOf(r->relation), kAccessExclusive);
      }
      break;
    }
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
      command = "TRUNCATE";
      for (size_t i = 0; i < st->truncate_stmt->n_relations; ++i) {
        out.Table(NameOf(st->truncate_stmt->relations[i]->range_var), kAccessExclusive);
      }
      break;
    case PG_QUERY__NODE__NODE_LOCK_STMT:
      command = "LOCK";
      for (size_t i = 0; i < st->lock_stmt->n_relations; ++i) {
        out.Table(NameOf(st->lock_stmt->relations[i]->range_var), LockModeName(st->lock_stmt->mode));
      }
      break;
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
      command = "UPDATE";
      out.Table(NameOf(st->update_stmt->relation), kRowExclusive);
      break;
    case PG_QUERY__NODE__NODE_DELETE_STMT:
      command = "DELETE";
      out.Table(NameOf(st->delete_stmt->relation), kRowExclusive);
      break;
    case PG_QUERY__NODE__NODE_INSERT_STMT:
      command = "INSERT";
      out.Table(NameOf(st->insert_stmt->relation), kRowExclusive);
      break;
    case PG_QUERY__NODE__NODE_CLUSTER_STMT:
      command = "CLUSTER";
      if (st->cluster_stmt->relation) out.Table(NameOf(st->cluster_stmt->relation), kAccessExclusive);
      break;
    case PG_QUERY__NODE__NODE_VACUUM_STMT: {
      const PgQuery__VacuumStmt* v = st->vacuum_stmt;
      const bool full = OptionOn(v->options, v->n_options, "full");
      command = v->is_vacuumcmd ? (full ? "VACUUM FULL" : "VACUUM") : "ANALYZE";
      for (size_t i = 0; i < v->n_rels; ++i) {
        if (v->rels[i]->node_case == PG_QUERY__NODE__NODE_VACUUM_RELATION && v->rels[i]->vacuum_relation->relation) {
          out.Table(NameOf(v->rels[i]->vacuum_relation->relation), full ? kAccessExclusive : kShareUpdateExclusive);
        }
      }
      break;
    }
    case PG_QUERY__NODE__NODE_REINDEX_STMT: {
      const PgQuery__ReindexStmt* r = st->reindex_stmt;
      const bool concurrent = OptionOn(r->params, r->n_params, "concurrently");
      command = concurrent ? "REINDEX CONCURRENTLY" : "REINDEX";
      if (r->relation == nullptr) break;
      if (r->kind == PG_QUERY__REINDEX_OBJECT_TYPE__REINDEX_OBJECT_INDEX) {
        // Writes to the table wait; so do queries that would use the index.
        out.Index(NameOf(r->relation), concurrent ? kShareUpdateExclusive : kAccessExclusive,
                  concurrent ? kShareUpdateExclusive : kShare);
      } else {
        const Name table = NameOf(r->relation);
        out.Table(table, concurrent ? kShareUpdateExclusive : kShare);
        // Each index is rebuilt under its own ACCESS EXCLUSIVE lock: queries that would use it wait.
        if (!concurrent) out.Described("indexes of " + table.display(), kAccessExclusive, !state.IsNew(table));
      }
      break;
    }
    case PG_QUERY__NODE__NODE_CREATE_TRIG_STMT:
      command = "CREATE TRIGGER";
      out.Table(NameOf(st->create_trig_stmt->relation), kShareRowExclusive);
      break;
    case PG_QUERY__NODE__NODE_REFRESH_MAT_VIEW_STMT:
      command = "REFRESH MATERIALIZED VIEW";
      out.Table(NameOf(st->refresh_mat_view_stmt->relation),
                st->refresh_mat_view_stmt->concurrent ? kExclusive : kAccessExclusive);
      break;
    default:
      break;
  }
  return std::move(out.result());
}

}  // namespace schemagate::lint
