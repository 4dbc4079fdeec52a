// Checks for column types and names that age badly.
#include <cctype>

#include "lint/checks.h"
#include "lint/rule_ids.h"

namespace schemagate::lint {
namespace {

struct NewColumn {
  const PgQuery__ColumnDef* def;
  Name table;
};

// The columns a statement adds: CREATE TABLE's and ALTER TABLE's ADD
// COLUMNs, on new and existing tables alike.
std::vector<NewColumn> NewColumns(const StatementContext& c) {
  std::vector<NewColumn> out;
  if (c.node->node_case == PG_QUERY__NODE__NODE_CREATE_STMT) {
    const PgQuery__CreateStmt* create = c.node->create_stmt;
    for (size_t i = 0; i < create->n_table_elts; ++i) {
      if (create->table_elts[i]->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF) {
        out.push_back({create->table_elts[i]->column_def, NameOf(create->relation)});
      }
    }
  }
  if (c.node->node_case == PG_QUERY__NODE__NODE_ALTER_TABLE_STMT) {
    for (const PgQuery__AlterTableCmd* cmd : Commands(c.node->alter_table_stmt)) {
      const PgQuery__ColumnDef* def = ColumnDefOf(cmd);
      if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn && def) {
        out.push_back({def, NameOf(c.node->alter_table_stmt->relation)});
      }
    }
  }
  return out;
}

void CheckColumnTypes(const StatementContext& c, const char* rule, bool (*matches)(const ColumnType&), Hits* hits) {
  for (const NewColumn& column : NewColumns(c)) {
    const ColumnType type = TypeOf(column.def->type_name);
    if (matches(type)) {
      hits->push_back({rule, "column " + QuoteIdent(column.def->colname ? column.def->colname : "") + " of table " +
                                 column.table.display() + " is " + type.display(),
                       column.def->location});
    }
  }
}

}  // namespace

void CheckTimestampWithoutTimeZone(const StatementContext& c, Hits* hits) {
  CheckColumnTypes(c, kTimestampWithoutTimeZone, [](const ColumnType& t) { return t.name == "timestamp"; }, hits);
}

void CheckCharType(const StatementContext& c, Hits* hits) {
  CheckColumnTypes(c, kCharType, [](const ColumnType& t) { return t.name == "bpchar"; }, hits);
}

void CheckSerialType(const StatementContext& c, Hits* hits) {
  CheckColumnTypes(c, kSerialType, [](const ColumnType& t) {
    return t.name == "serial" || t.name == "bigserial" || t.name == "smallserial";
  }, hits);
}

void CheckPreferBigint(const StatementContext& c, Hits* hits) {
  CheckColumnTypes(c, kPreferBigint, [](const ColumnType& t) {
    return t.name == "int4" || t.name == "int2" || t.name == "serial" || t.name == "smallserial";
  }, hits);
}

// The scanner cuts long names before the tree is built, so they are found in
// the text: every quoted or unquoted identifier, outside strings and comments.
void CheckIdentifierTooLong(const StatementContext& c, Hits* hits) {
  constexpr size_t kMaxBytes = 63;  // NAMEDATALEN - 1
  const std::string& t = c.text;
  auto ident_char = [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '$' || (ch & 0x80);
  };
  for (size_t i = 0; i < t.size();) {
    const char ch = t[i];
    if (ch == '\'' || (ch == '$' && (i == 0 || !ident_char(t[i - 1])))) {
      // A string, or a dollar-quoted body: skip to its end.
      if (ch == '\'') {
        size_t end = i + 1;
        while (end < t.size() && !(t[end] == '\'' && (end + 1 >= t.size() || t[end + 1] != '\''))) {
          end += t[end] == '\'' ? 2 : 1;
        }
        i = end + 1;
        continue;
      }
      const size_t tag_end = t.find('$', i + 1);
      if (tag_end == std::string::npos) break;
      const std::string tag = t.substr(i, tag_end - i + 1);
      const size_t close = t.find(tag, tag_end + 1);
      i = close == std::string::npos ? t.size() : close + tag.size();
      continue;
    }
    if (ch == '-' && i + 1 < t.size() && t[i + 1] == '-') {
      const size_t eol = t.find('\n', i);
      i = eol == std::string::npos ? t.size() : eol;
      continue;
    }
    if (ch == '/' && i + 1 < t.size() && t[i + 1] == '*') {
      const size_t close = t.find("*/", i + 2);
      i = close == std::string::npos ? t.size() : close + 2;
      continue;
    }
    std::string name;
    const size_t start = i;
    if (ch == '"') {
      for (++i; i < t.size(); ++i) {
        if (t[i] == '"') {
          if (i + 1 < t.size() && t[i + 1] == '"') {
            name += '"';
            ++i;
            continue;
          }
          ++i;
          break;
        }
        name += t[i];
      }
    } else if (ident_char(ch) && !std::isdigit(static_cast<unsigned char>(ch))) {
      while (i < t.size() && ident_char(t[i])) name += t[i++];
    } else {
      ++i;
      continue;
    }
    if (name.size() > kMaxBytes) {
      hits->push_back({kIdentifierTooLong, "name " + QuoteIdent(name) + " is " + std::to_string(name.size()) +
                                               " bytes; PostgreSQL keeps the first 63",
                       static_cast<int>(start)});
    }
  }
}

}  // namespace schemagate::lint
