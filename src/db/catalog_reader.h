// Reading a database's schema into a Catalog (schema/catalog.h), and running
// SQL scripts against scratch databases. libpqxx stays in the .cc.
#ifndef SCHEMAGATE_DB_CATALOG_READER_H_
#define SCHEMAGATE_DB_CATALOG_READER_H_

#include <chrono>
#include <string>
#include <vector>

#include "core/status.h"
#include "schema/catalog.h"

namespace schemagate {

struct CatalogReadOptions {
  // Tables that are never part of the schema, qualified as
  // "public.alembic_version" (a part may be double-quoted; an unqualified
  // name means public). schemagate's own tables belong here: the version
  // table and schemagate_log. Their columns, constraints, indexes, triggers
  // and owned sequences are left out with them.
  std::vector<std::string> exclude_tables;
  // How long to keep retrying a server that is not up yet.
  std::chrono::milliseconds connect_timeout{10000};
};

// Connects to `url` (a libpq URL or keyword string) and reads every user
// object: all schemas but pg_catalog, information_schema, pg_toast* and
// pg_temp*, and never an object that belongs to an extension (pg_depend
// deptype 'e'); extensions installed in pg_catalog (plpgsql) are not
// listed. Reads in one read-only REPEATABLE READ transaction, so the
// catalog is one consistent snapshot, with an empty search_path, so every
// name inside a definition is schema-qualified. Fills `depends_on` from
// pg_depend (only between objects of the returned catalog).
//
// Errors are Status::Runtime naming the target (never the password), with
// the SQLSTATE when the server answered.
Result<Catalog> ReadCatalog(const std::string& url, const CatalogReadOptions& options);

// Runs `sql` on `url` statement by statement (split by the PostgreSQL
// lexer), for applying a declared schema or generated SQL to a scratch
// database. Consecutive statements run in one transaction; a statement that
// cannot run in a transaction (CREATE INDEX CONCURRENTLY, ...) runs on its
// own between them. psql meta-commands and COPY FROM STDIN are refused.
//
// On failure nothing of the failing transaction stays, and the Status
// (kRuntime; kValidation for SQL that cannot be split or run at all) reads
// "<source>:<line>: <server message> (SQLSTATE xxxxx)", with location()
// holding file = `source`, the line, the SQLSTATE and the statement.
Status ExecuteSqlScript(const std::string& url, const std::string& source, const std::string& sql);

}  // namespace schemagate

#endif  // SCHEMAGATE_DB_CATALOG_READER_H_
