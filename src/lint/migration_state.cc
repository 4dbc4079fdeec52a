#include "lint/migration_state.h"

#include <cctype>

namespace schemagate {

const lint::ColumnType* LintHistory::Schema::Find(const std::string& table_key,
                                                   const std::string& column) const {
  auto t = tables.find(table_key);
  if (t == tables.end()) return nullptr;
  auto c = t->second.find(column);
  return c == t->second.end() ? nullptr : &c->second;
}

LintHistory::LintHistory() : schema_(std::make_unique<Schema>()) {}
LintHistory::~LintHistory() = default;
LintHistory::LintHistory(LintHistory&&) noexcept = default;
LintHistory& LintHistory::operator=(LintHistory&&) noexcept = default;

namespace lint {
namespace {

// 0, '0', '0s', '0ms' turn lock_timeout off.
bool IsNonZero(const std::string& value) {
  size_t i = 0;
  while (i < value.size() && std::isspace(static_cast<unsigned char>(value[i]))) ++i;
  bool digits = false;
  bool non_zero = false;
  for (; i < value.size() && (std::isdigit(static_cast<unsigned char>(value[i])) || value[i] == '.'); ++i) {
    digits = digits || std::isdigit(static_cast<unsigned char>(value[i]));
    non_zero = non_zero || (std::isdigit(static_cast<unsigned char>(value[i])) && value[i] != '0');
  }
  return !digits || non_zero;  // not a number: the server would refuse it anyway
}

bool IsTrue(const std::string& v) {
  std::string l;
  for (char c : v) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return l == "true" || l == "t" || l == "on" || l == "yes" || l == "1";
}

// An unqualified index lives in its table's schema.
std::string IndexKey(const Name& index, const Name& table) {
  Name n = index;
  if (n.schema.empty()) n.schema = table.schema;
  return n.key();
}

}  // namespace

bool MigrationState::IndexOnNewTable(const Name& index) const {
  auto table = TableOfIndex(index);
  return table && IsNew(*table);
}

std::optional<Name> MigrationState::TableOfIndex(const Name& index) const {
  auto it = schema_->indexes.find(index.key());
  if (it == schema_->indexes.end()) return std::nullopt;
  return it->second;
}

std::optional<Name> MigrationState::ForeignKeyTarget(const Name& table, const std::string& constraint) const {
  auto t = schema_->foreign_keys.find(table.key());
  if (t == schema_->foreign_keys.end()) return std::nullopt;
  auto c = t->second.find(constraint);
  if (c == t->second.end()) return std::nullopt;
  return c->second;
}

std::vector<Name> MigrationState::ReferencedBy(const Name& table) const {
  std::vector<Name> out;
  auto t = schema_->foreign_keys.find(table.key());
  if (t == schema_->foreign_keys.end()) return out;
  for (const auto& [constraint, referenced] : t->second) out.push_back(referenced);
  return out;
}

const ColumnType* MigrationState::ColumnTypeOf(const Name& table, const std::string& column) const {
  return schema_->Find(table.key(), column);
}

// PostgreSQL's name for an unnamed foreign key: table_column_fkey.
void MigrationState::RecordForeignKeys(const Name& table, const PgQuery__Node* const* constraints, size_t n,
                                       const std::string& column) {
  for (size_t i = 0; i < n; ++i) {
    const PgQuery__Node* node = constraints[i];
    if (node == nullptr || node->node_case != PG_QUERY__NODE__NODE_CONSTRAINT) continue;
    const PgQuery__Constraint* c = node->constraint;
    if (c->contype != PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN || c->pktable == nullptr) continue;
    std::string name = IsSet(c->conname) ? c->conname : "";
    if (name.empty()) {
      name = table.name;
      if (!column.empty()) name += "_" + column;
      for (size_t k = 0; k < c->n_fk_attrs; ++k) name += "_" + StringOf(c->fk_attrs[k]);
      name += "_fkey";
    }
    schema_->foreign_keys[table.key()][name] = NameOf(c->pktable);
  }
}

void MigrationState::RenameTable(const Name& from, const Name& to) {
  if (new_tables_.erase(from.key())) new_tables_.insert(to.key());
  auto move_key = [&](auto& map) {
    auto it = map.find(from.key());
    if (it == map.end()) return;
    auto moved = std::move(it->second);
    map.erase(it);
    map[to.key()] = std::move(moved);
  };
  move_key(schema_->tables);
  move_key(schema_->foreign_keys);
  for (auto& [index, table] : schema_->indexes) {
    if (table.key() == from.key()) table = to;
  }
  for (auto& [owner, keys] : schema_->foreign_keys) {
    for (auto& [constraint, referenced] : keys) {
      if (referenced.key() == from.key()) referenced = to;
    }
  }
}

void MigrationState::DropTable(const Name& table) {
  new_tables_.erase(table.key());
  schema_->tables.erase(table.key());
  schema_->foreign_keys.erase(table.key());
  for (auto it = schema_->indexes.begin(); it != schema_->indexes.end();) {
    it = it->second.key() == table.key() ? schema_->indexes.erase(it) : std::next(it);
  }
}

void MigrationState::Apply(const PgQuery__Node* st, bool in_transaction) {
  auto columns = [&](const Name& table) { return &schema_->tables[table.key()]; };
  switch (st->node_case) {
    case PG_QUERY__NODE__NODE_CREATE_STMT: {
      const PgQuery__CreateStmt* create = st->create_stmt;
      const Name table = NameOf(create->relation);
      new_tables_.insert(table.key());
      auto* cols = columns(table);
      cols->clear();
      schema_->foreign_keys.erase(table.key());
      RecordForeignKeys(table, create->constraints, create->n_constraints, "");
      for (size_t i = 0; i < create->n_table_elts; ++i) {
        const PgQuery__Node* e = create->table_elts[i];
        if (e->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF && IsSet(e->column_def->colname)) {
          (*cols)[e->column_def->colname] = TypeOf(e->column_def->type_name);
          RecordForeignKeys(table, e->column_def->constraints, e->column_def->n_constraints, e->column_def->colname);
        } else {
          RecordForeignKeys(table, &create->table_elts[i], 1, "");
        }
      }
      break;
    }
    case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
      if (st->create_table_as_stmt->into && st->create_table_as_stmt->into->rel) {
        new_tables_.insert(NameOf(st->create_table_as_stmt->into->rel).key());
      }
      break;
    case PG_QUERY__NODE__NODE_INDEX_STMT:
      if (IsSet(st->index_stmt->idxname)) {
        const Name table = NameOf(st->index_stmt->relation);
        schema_->indexes[IndexKey(Name{"", st->index_stmt->idxname}, table)] = table;
      }
      break;
    case PG_QUERY__NODE__NODE_DROP_STMT:
      for (size_t i = 0; i < st->drop_stmt->n_objects; ++i) {
        const PgQuery__Node* o = st->drop_stmt->objects[i];
        if (o->node_case != PG_QUERY__NODE__NODE_LIST) continue;
        const Name name = NameOfList(o->list->items, o->list->n_items);
        if (st->drop_stmt->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE) {
          DropTable(name);
        } else if (st->drop_stmt->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX) {
          schema_->indexes.erase(name.key());
        }
      }
      break;
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT: {
      const Name table = NameOf(st->alter_table_stmt->relation);
      auto* cols = columns(table);
      for (size_t i = 0; i < st->alter_table_stmt->n_cmds; ++i) {
        const PgQuery__AlterTableCmd* cmd = st->alter_table_stmt->cmds[i]->alter_table_cmd;
        if (cmd == nullptr) continue;
        const PgQuery__Node* def = cmd->def;
        const bool column_def = def != nullptr && def->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF;
        if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraint && def &&
            def->node_case == PG_QUERY__NODE__NODE_CONSTRAINT && def->constraint->skip_validation &&
            IsSet(def->constraint->conname) && in_transaction) {
          not_valid_added_.insert(table.key() + "\n" + def->constraint->conname);
        }
        if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraint) RecordForeignKeys(table, &cmd->def, 1, "");
        if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_DropConstraint && IsSet(cmd->name)) {
          auto fks = schema_->foreign_keys.find(table.key());
          if (fks != schema_->foreign_keys.end()) fks->second.erase(cmd->name);
        }
        if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn && column_def && IsSet(def->column_def->colname)) {
          (*cols)[def->column_def->colname] = TypeOf(def->column_def->type_name);
          RecordForeignKeys(table, def->column_def->constraints, def->column_def->n_constraints,
                            def->column_def->colname);
        } else if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_AlterColumnType && IsSet(cmd->name) && column_def) {
          (*cols)[cmd->name] = TypeOf(def->column_def->type_name);
        } else if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_DropColumn && IsSet(cmd->name)) {
          cols->erase(cmd->name);
        }
      }
      break;
    }
    case PG_QUERY__NODE__NODE_RENAME_STMT: {
      const PgQuery__RenameStmt* r = st->rename_stmt;
      if (r->relation == nullptr || r->newname == nullptr) break;
      const Name table = NameOf(r->relation);
      if (r->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE) {
        RenameTable(table, Name{table.schema, r->newname});
      } else if (r->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX) {
        auto it = schema_->indexes.find(table.key());
        if (it != schema_->indexes.end()) {
          Name on = it->second;
          schema_->indexes.erase(it);
          schema_->indexes[Name{table.schema, r->newname}.key()] = on;
        }
      } else if (r->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABCONSTRAINT && r->subname) {
        auto fks = schema_->foreign_keys.find(table.key());
        if (fks != schema_->foreign_keys.end()) {
          auto it = fks->second.find(r->subname);
          if (it != fks->second.end()) {
            Name referenced = it->second;
            fks->second.erase(it);
            fks->second[r->newname] = referenced;
          }
        }
      } else if (r->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN && r->subname) {
        auto* cols = columns(table);
        auto it = cols->find(r->subname);
        if (it != cols->end()) {
          ColumnType type = it->second;
          cols->erase(it);
          (*cols)[r->newname] = type;
        }
      }
      break;
    }
    default:
      break;
  }
  ApplyLockTimeout(st, in_transaction);
}

void MigrationState::SetTimeout(bool local, bool on, bool in_transaction) {
  if (local) {
    if (in_transaction) local_timeout_ = on;  // outside a transaction SET LOCAL does nothing
  } else {
    session_timeout_ = on;
    local_timeout_.reset();
  }
}

void MigrationState::ApplyLockTimeout(const PgQuery__Node* st, bool in_transaction) {
  if (st->node_case == PG_QUERY__NODE__NODE_VARIABLE_SET_STMT) {
    const PgQuery__VariableSetStmt* v = st->variable_set_stmt;
    const bool all = v->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET_ALL;
    if (!all && (v->name == nullptr || std::string(v->name) != "lock_timeout")) return;
    switch (v->kind) {
      case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE: {
        auto value = v->n_args > 0 ? ConstantText(v->args[0]) : std::nullopt;
        SetTimeout(v->is_local, !value || IsNonZero(*value), in_transaction);
        break;
      }
      case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT:
      case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET:
      case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET_ALL:
        SetTimeout(v->is_local, configured_, in_transaction);
        break;
      default:
        break;
    }
    return;
  }
  // set_config('lock_timeout', value, is_local) anywhere in a query.
  WalkExpression(st, [&](const PgQuery__Node* n) {
    if (n->node_case != PG_QUERY__NODE__NODE_FUNC_CALL) return;
    const PgQuery__FuncCall* call = n->func_call;
    if (FunctionName(call) != "set_config" || call->n_args != 3) return;
    auto name = ConstantText(call->args[0]);
    if (!name || *name != "lock_timeout") return;
    auto value = ConstantText(call->args[1]);
    auto local = ConstantText(call->args[2]);
    SetTimeout(local && IsTrue(*local), !value || IsNonZero(*value), in_transaction);
  });
}

}  // namespace lint
}  // namespace schemagate
