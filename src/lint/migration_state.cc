#include "lint/migration_state.h"

#include <cctype>

namespace schemagate {

const lint::ColumnType* LintHistory::Columns::Find(const std::string& table_key,
                                                   const std::string& column) const {
  auto t = tables.find(table_key);
  if (t == tables.end()) return nullptr;
  auto c = t->second.find(column);
  return c == t->second.end() ? nullptr : &c->second;
}

LintHistory::LintHistory() : columns_(std::make_unique<Columns>()) {}
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
  auto it = index_table_.find(index.key());
  if (it == index_table_.end()) return std::nullopt;
  return it->second;
}

const ColumnType* MigrationState::ColumnTypeOf(const Name& table, const std::string& column) const {
  return columns_ == nullptr ? nullptr : columns_->Find(table.key(), column);
}

void MigrationState::Apply(const PgQuery__Node* st, bool in_transaction) {
  auto columns = [&](const Name& table) -> std::map<std::string, ColumnType>* {
    return columns_ == nullptr ? nullptr : &columns_->tables[table.key()];
  };
  switch (st->node_case) {
    case PG_QUERY__NODE__NODE_CREATE_STMT: {
      const Name table = NameOf(st->create_stmt->relation);
      new_tables_.insert(table.key());
      if (auto* cols = columns(table)) {
        cols->clear();
        for (size_t i = 0; i < st->create_stmt->n_table_elts; ++i) {
          const PgQuery__Node* e = st->create_stmt->table_elts[i];
          if (e->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF && e->column_def->colname) {
            (*cols)[e->column_def->colname] = TypeOf(e->column_def->type_name);
          }
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
        index_table_[IndexKey(Name{"", st->index_stmt->idxname}, table)] = table;
      }
      break;
    case PG_QUERY__NODE__NODE_DROP_STMT:
      for (size_t i = 0; i < st->drop_stmt->n_objects; ++i) {
        const PgQuery__Node* o = st->drop_stmt->objects[i];
        if (o->node_case != PG_QUERY__NODE__NODE_LIST) continue;
        const Name name = NameOfList(o->list->items, o->list->n_items);
        if (st->drop_stmt->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE) {
          new_tables_.erase(name.key());
          if (columns_) columns_->tables.erase(name.key());
        } else if (st->drop_stmt->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX) {
          index_table_.erase(name.key());
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
        if (cols == nullptr) continue;
        if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn && column_def && IsSet(def->column_def->colname)) {
          (*cols)[def->column_def->colname] = TypeOf(def->column_def->type_name);
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
        const Name renamed{table.schema, r->newname};
        if (new_tables_.erase(table.key())) new_tables_.insert(renamed.key());
        if (columns_) {
          auto it = columns_->tables.find(table.key());
          if (it != columns_->tables.end()) {
            auto moved = std::move(it->second);
            columns_->tables.erase(it);
            columns_->tables[renamed.key()] = std::move(moved);
          }
        }
      } else if (r->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN && r->subname && columns_) {
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
