// A database schema as data: read from a catalog (db/catalog_reader.h),
// compared, and turned into the SQL that makes one schema into another.
//
// Pure C++: no libpqxx. Everything here is deterministic: the same catalogs
// always give the same differences and the same SQL, byte for byte.
//
// What a Catalog holds, per kind (the attributes that are compared):
//
//   schema      "app"                       comment. `public` is never listed
//                                           (every database has it).
//   extension   "\"uuid-ossp\""             schema. The version is not compared:
//                                           it depends on the server's packages,
//                                           not on the schema.
//   enum        "public.mood"               labels (in order, as SQL literals:
//                                           "'happy', 'sad'"), comment
//   sequence    "public.orders_id_seq"      type, start, increment, min, max,
//                                           cache, cycle, owned_by (the column
//                                           of a serial: "public.orders.id"),
//                                           comment. Sequences behind identity
//                                           columns belong to the column. The
//                                           current value is data: ignored.
//   table       "public.users"              unlogged ("true" or absent), comment
//   column      "public.users.email"        type (format_type), default
//                                           (pg_get_expr), nullable ("true" /
//                                           "false"), identity ("always" /
//                                           "by default"), generated (the STORED
//                                           expression), collation (only when not
//                                           the type's default), comment.
//                                           Columns are matched by name; their
//                                           position is an ordering hint only.
//   constraint  "public.users.users_pkey"   type ("primary key", "unique",
//                                           "check", "foreign key", "exclusion"),
//                                           definition (pg_get_constraintdef,
//                                           with ON DELETE/ON UPDATE,
//                                           DEFERRABLE, NOT VALID), comment
//   index       "public.ix_users_phone"     table, definition (pg_get_indexdef:
//                                           unique, partial, expression),
//                                           comment. Indexes that back a primary
//                                           key, unique or exclusion constraint
//                                           belong to the constraint.
//   function    "public.f(integer, text)"   kind ("function", "procedure"),
//                                           arguments (names and defaults),
//                                           returns, definition
//                                           (pg_get_functiondef), comment. The
//                                           name is the call signature, so
//                                           overloads are separate objects.
//   trigger     "public.users.trg_x"        definition (pg_get_triggerdef),
//                                           comment
//
// Names are schema-qualified; each part is double-quoted only where
// PostgreSQL would need it (QuoteIdentifier). Expressions are read with an
// empty search_path, so everything in them is qualified too and the SQL made
// from them runs under any search_path.
//
// Not represented (so neither compared nor generated): views, materialized
// views, domains, composite and range types, partitioned tables and
// inheritance, foreign tables, row-level security and policies, grants and
// owners, trigger enable/disable state, statistics objects, event triggers,
// aggregates, extension versions and extension comments (the extension's
// control file sets those), and every object that belongs to an extension.
#ifndef SCHEMAGATE_SCHEMA_CATALOG_H_
#define SCHEMAGATE_SCHEMA_CATALOG_H_

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace schemagate {

// One database object, as read from the catalog, with the attributes that
// are compared. An absent attribute and an empty one mean the same.
struct CatalogObject {
  std::string kind;  // "schema", "extension", "enum", "sequence", "table", "column",
                     // "constraint", "index", "function", "trigger"
  std::string name;  // qualified, quoted only where needed: "public.users.email"
  std::map<std::string, std::string> attributes;  // see the table above

  // Ordering hints for GenerateMigrationSql; never compared.
  int position = 0;                       // a column's number in its table
  std::set<std::string> depends_on = {};  // keys of objects in the same catalog this
                                          // one uses (pg_depend): a default's function,
                                          // an FK's referenced key, a trigger's function
};

struct Catalog {
  std::map<std::string, CatalogObject> objects;  // key: kind + " " + name (deterministic order)

  // Adds or replaces `object` under its key.
  void Add(CatalogObject object);
  const CatalogObject* Find(const std::string& kind, const std::string& name) const;
};

// "kind name", the key of Catalog::objects.
std::string CatalogKey(const std::string& kind, const std::string& name);

struct CatalogDifference {
  std::string kind, name;
  std::string attribute;      // "" when the whole object was added or removed
  std::string before, after;  // before == "" and attribute == "": added (after is a short
                              // summary: a column's type, an index's definition, ...);
                              // after == "" and attribute == "": removed
};

// Every difference between two catalogs, in key order, then attribute order.
// Objects are matched by kind and name; attributes are compared as text.
// `position` and `depends_on` are ignored.
std::vector<CatalogDifference> DiffCatalogs(const Catalog& before, const Catalog& after);

// One line per difference, for people:
//   "column public.users.phone: type character varying(20) -> text"
//   "index public.ix_users_phone: removed"
//   "column public.users.phone: added (character varying(20))"
// Long or multi-line values (function bodies) are shown around their first
// difference, with whitespace runs collapsed; an empty value is "(none)".
std::string FormatDifference(const CatalogDifference& d);

struct GeneratedSql {
  // Each a complete SQL statement ending with ';', possibly preceded by
  // `-- ` comment lines (warnings and notes).
  std::vector<std::string> statements;
  // Ambiguities and data loss, one line each (without the "-- WARNING: "
  // prefix they carry in `statements`): a table or column dropped (its data
  // is lost; when another one is added alongside, it may have been meant as
  // a rename), a column type change, an enum that loses or reorders values.
  std::vector<std::string> warnings;
};

// The SQL that turns a database whose catalog is `current` into one whose
// catalog is `desired`. The downgrade of an autogenerated migration is
// GenerateMigrationSql(desired, current).
//
// Order: drops that would block later steps first (triggers, ownership of
// kept sequences, foreign keys, tables, other constraints, indexes,
// columns, functions that must be dropped and created), then schemas,
// extensions, enums, sequences, functions that defaults/checks/indexes use,
// tables, columns, other functions, sequence ownership, primary and unique
// constraints, checks, indexes, foreign keys, triggers, comments; last the
// drops of functions, sequences, enums, extensions and schemas that are
// gone (nothing left uses them by then).
//
// Choices:
// - Dropping a table drops its columns, constraints, indexes, triggers and
//   owned sequences: no separate statements for those. Tables go in one
//   DROP TABLE (foreign keys among them need no order); a removed function
//   whose signature uses a removed table's row type is dropped first.
// - A removed and an added table (or column in one table) are written as
//   drop-and-add with a warning that suggests ALTER TABLE ... RENAME.
// - A changed constraint, index or trigger is dropped and added; so are the
//   foreign keys that use a key being dropped, and the triggers, checks and
//   indexes that use a function being dropped.
// - A changed function is CREATE OR REPLACE when its kind, return type and
//   argument names and defaults stay; otherwise it is dropped and created.
// - A column type change is ALTER COLUMN ... TYPE t USING col::t (through
//   text from an enum).
// - Enum labels added with the old ones kept in order become ALTER TYPE ...
//   ADD VALUE; labels removed or reordered, or new labels that the same
//   migration already uses (PostgreSQL refuses a new label before it is
//   committed), recreate the type (rename, create, convert columns through
//   text, drop the old one).
// - A changed generation expression drops and adds the column (PostgreSQL
//   15 cannot alter it), with the indexes and constraints that use it.
// - A function used by a default, check or index is created before the
//   tables (unless it uses a table itself); other functions after them, as
//   their bodies and signatures may name tables.
// - Identifiers are quoted only where needed.
//
// Dependencies come from `depends_on` where the catalog has it (ReadCatalog
// fills it); for hand-built catalogs, foreign keys and triggers are matched
// to keys and functions by their definitions' text. Objects that are not
// represented (views, domains, ...) are invisible here: SQL generated for a
// database that has them may fail where they use a changed object.
GeneratedSql GenerateMigrationSql(const Catalog& current, const Catalog& desired);

// `name` as PostgreSQL's quote_ident would write it: bare when it is
// [a-z_][a-z0-9_$]* and not a keyword that needs quoting, else "double
// quoted" with inner quotes doubled.
std::string QuoteIdentifier(std::string_view name);

// A standard SQL string literal: 'it''s'.
std::string QuoteLiteral(std::string_view value);

// Splits a qualified name into its parts, unquoting each:
// `public."My Table".id` -> {"public", "My Table", "id"}. A function's
// argument list (from the first '(' outside quotes) is not part of it.
std::vector<std::string> SplitQualifiedName(std::string_view name);

}  // namespace schemagate

#endif  // SCHEMAGATE_SCHEMA_CATALOG_H_
