#include "lint/tree.h"

#include <cctype>
#include <map>

namespace schemagate::lint {
namespace {

bool NeedsQuotes(const std::string& ident) {
  if (ident.empty() || std::isdigit(static_cast<unsigned char>(ident[0]))) return true;
  for (char c : ident) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$')) return true;
  }
  // Reserved words would need quotes too; the names lint prints are read by
  // people, and `"user"` against `user` is no confusion worth a keyword table.
  return false;
}

// The canonical names of the type spellings the grammar does not already
// turn into pg_catalog names (`int4` and `integer` both end as int4).
const std::map<std::string, std::string>& TypeAliases() {
  static const std::map<std::string, std::string> aliases = {
      {"int", "int4"},          {"integer", "int4"},       {"smallint", "int2"},
      {"bigint", "int8"},       {"decimal", "numeric"},    {"character varying", "varchar"},
      {"character", "bpchar"},  {"float", "float8"},       {"double precision", "float8"},
      {"real", "float4"},       {"boolean", "bool"},       {"serial4", "serial"},
      {"serial8", "bigserial"}, {"serial2", "smallserial"}};
  return aliases;
}

}  // namespace

std::string QuoteIdent(const std::string& ident) {
  if (!NeedsQuotes(ident)) return ident;
  std::string out = "\"";
  for (char c : ident) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

std::string Name::display() const {
  return (schema.empty() ? "" : QuoteIdent(schema) + ".") + QuoteIdent(name);
}

Name NameOf(const PgQuery__RangeVar* relation) {
  Name n;
  if (relation == nullptr) return n;
  if (relation->schemaname != nullptr) n.schema = relation->schemaname;
  if (relation->relname != nullptr) n.name = relation->relname;
  return n;
}

Name NameOfList(PgQuery__Node* const* items, size_t n) {
  Name name;
  if (n == 0) return name;
  name.name = StringOf(items[n - 1]);
  if (n >= 2) name.schema = StringOf(items[n - 2]);
  return name;
}

std::string Displays(const std::vector<Name>& names) {
  std::string out;
  for (const Name& n : names) out += (out.empty() ? "" : ", ") + n.display();
  return out;
}

std::string StringOf(const PgQuery__Node* node) {
  if (node == nullptr || node->node_case != PG_QUERY__NODE__NODE_STRING || node->string->sval == nullptr) {
    return "";
  }
  return node->string->sval;
}

std::string ColumnType::display() const {
  // The names people write, not the catalog's.
  static const std::map<std::string, std::string> sql_names = {
      {"int4", "integer"}, {"int8", "bigint"},  {"int2", "smallint"}, {"bpchar", "char"},
      {"float8", "double precision"}, {"float4", "real"}, {"bool", "boolean"}};
  auto sql = sql_names.find(name);
  std::string out = sql == sql_names.end() ? name : sql->second;
  if (!modifiers.empty()) {
    out += "(";
    for (size_t i = 0; i < modifiers.size(); ++i) out += (i ? "," : "") + std::to_string(modifiers[i]);
    out += ")";
  }
  return out + (array ? "[]" : "");
}

ColumnType TypeOf(const PgQuery__TypeName* type) {
  ColumnType t;
  if (type == nullptr || type->n_names == 0) return t;
  t.name = StringOf(type->names[type->n_names - 1]);
  auto alias = TypeAliases().find(t.name);
  if (alias != TypeAliases().end()) t.name = alias->second;
  for (size_t i = 0; i < type->n_typmods; ++i) {
    const PgQuery__Node* m = type->typmods[i];
    if (m->node_case == PG_QUERY__NODE__NODE_A_CONST && m->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
      t.modifiers.push_back(m->a_const->ival->ival);
    }
  }
  t.array = type->n_array_bounds > 0;
  return t;
}

void WalkExpression(const PgQuery__Node* node, const std::function<void(const PgQuery__Node*)>& visit) {
  if (node == nullptr) return;
  visit(node);
  auto all = [&](PgQuery__Node* const* items, size_t n) {
    for (size_t i = 0; i < n; ++i) WalkExpression(items[i], visit);
  };
  switch (node->node_case) {
    case PG_QUERY__NODE__NODE_FUNC_CALL:
      all(node->func_call->args, node->func_call->n_args);
      break;
    case PG_QUERY__NODE__NODE_A_EXPR:
      WalkExpression(node->a_expr->lexpr, visit);
      WalkExpression(node->a_expr->rexpr, visit);
      break;
    case PG_QUERY__NODE__NODE_TYPE_CAST:
      WalkExpression(node->type_cast->arg, visit);
      break;
    case PG_QUERY__NODE__NODE_BOOL_EXPR:
      all(node->bool_expr->args, node->bool_expr->n_args);
      break;
    case PG_QUERY__NODE__NODE_COALESCE_EXPR:
      all(node->coalesce_expr->args, node->coalesce_expr->n_args);
      break;
    case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
      all(node->min_max_expr->args, node->min_max_expr->n_args);
      break;
    case PG_QUERY__NODE__NODE_CASE_EXPR:
      WalkExpression(node->case_expr->arg, visit);
      all(node->case_expr->args, node->case_expr->n_args);
      WalkExpression(node->case_expr->defresult, visit);
      break;
    case PG_QUERY__NODE__NODE_CASE_WHEN:
      WalkExpression(node->case_when->expr, visit);
      WalkExpression(node->case_when->result, visit);
      break;
    case PG_QUERY__NODE__NODE_NULL_TEST:
      WalkExpression(node->null_test->arg, visit);
      break;
    case PG_QUERY__NODE__NODE_BOOLEAN_TEST:
      WalkExpression(node->boolean_test->arg, visit);
      break;
    case PG_QUERY__NODE__NODE_A_ARRAY_EXPR:
      all(node->a_array_expr->elements, node->a_array_expr->n_elements);
      break;
    case PG_QUERY__NODE__NODE_ROW_EXPR:
      all(node->row_expr->args, node->row_expr->n_args);
      break;
    case PG_QUERY__NODE__NODE_COLLATE_CLAUSE:
      WalkExpression(node->collate_clause->arg, visit);
      break;
    case PG_QUERY__NODE__NODE_NAMED_ARG_EXPR:
      WalkExpression(node->named_arg_expr->arg, visit);
      break;
    case PG_QUERY__NODE__NODE_A_INDIRECTION:
      WalkExpression(node->a_indirection->arg, visit);
      break;
    case PG_QUERY__NODE__NODE_SUB_LINK:
      WalkExpression(node->sub_link->testexpr, visit);
      WalkExpression(node->sub_link->subselect, visit);
      break;
    case PG_QUERY__NODE__NODE_SELECT_STMT: {
      const PgQuery__SelectStmt* s = node->select_stmt;
      all(s->target_list, s->n_target_list);
      all(s->from_clause, s->n_from_clause);
      WalkExpression(s->where_clause, visit);
      all(s->values_lists, s->n_values_lists);
      break;
    }
    case PG_QUERY__NODE__NODE_RES_TARGET:
      WalkExpression(node->res_target->val, visit);
      break;
    case PG_QUERY__NODE__NODE_RANGE_FUNCTION:
      all(node->range_function->functions, node->range_function->n_functions);
      break;
    case PG_QUERY__NODE__NODE_LIST:
      all(node->list->items, node->list->n_items);
      break;
    default:
      break;
  }
}

std::string FunctionName(const PgQuery__FuncCall* call) {
  if (call == nullptr || call->n_funcname == 0) return "";
  return StringOf(call->funcname[call->n_funcname - 1]);
}

std::optional<std::string> ConstantText(const PgQuery__Node* node) {
  if (node == nullptr) return std::nullopt;
  if (node->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) return ConstantText(node->type_cast->arg);
  if (node->node_case == PG_QUERY__NODE__NODE_STRING) return StringOf(node);
  if (node->node_case != PG_QUERY__NODE__NODE_A_CONST) return std::nullopt;
  const PgQuery__AConst* c = node->a_const;
  switch (c->val_case) {
    case PG_QUERY__A__CONST__VAL_IVAL:
      return std::to_string(c->ival->ival);
    case PG_QUERY__A__CONST__VAL_FVAL:
      return std::string(c->fval->fval ? c->fval->fval : "");
    case PG_QUERY__A__CONST__VAL_BOOLVAL:
      return std::string(c->boolval->boolval ? "true" : "false");
    case PG_QUERY__A__CONST__VAL_SVAL:
      return std::string(c->sval->sval ? c->sval->sval : "");
    default:
      return std::nullopt;
  }
}

bool OptionOn(PgQuery__Node* const* options, size_t n, const char* name) {
  bool on = false;
  for (size_t i = 0; i < n; ++i) {
    const PgQuery__Node* o = options[i];
    if (o->node_case == PG_QUERY__NODE__NODE_DEF_ELEM && o->def_elem->defname &&
        std::string(o->def_elem->defname) == name) {
      auto value = ConstantText(o->def_elem->arg);
      on = !value || (*value != "false" && *value != "off" && *value != "0");
    }
  }
  return on;
}

}  // namespace schemagate::lint
