// Internal to src/db: the libpqxx seam. Nothing outside src/db includes this.
#ifndef SCHEMAGATE_DB_PQ_H_
#define SCHEMAGATE_DB_PQ_H_

#include <chrono>
#include <exception>
#include <memory>
#include <string>

#include <pqxx/pqxx>

#include "core/status.h"
#include "db/database.h"

namespace schemagate::db {

// libpq connection string for `options.url` with what schemagate adds:
// application_name, TCP keepalives, client_min_messages=warning and the
// migration session timeouts. Parameters the user set themselves win.
std::string BuildConninfo(const DatabaseOptions& options, const std::string& application_name,
                          bool session_timeouts);

// Connects, retrying transient failures (refused, unreachable, server
// starting up, name not resolvable yet) with exponential backoff and jitter
// until `timeout`. Authentication and "does not exist" errors fail at once.
Result<std::unique_ptr<pqxx::connection>> OpenConnection(const std::string& conninfo,
                                                         const DatabaseOptions& options);

// Turns a libpqxx exception into a Status: sql_error keeps its SQLSTATE,
// broken_connection says the connection was lost. Passwords are redacted.
Status StatusFromException(const std::exception& e, const std::string& context,
                           const DatabaseOptions& options);

// The SQLSTATE of a server error: the one libpqxx kept, else the one its
// exception class stands for (libpqxx 6.4 drops it for some classes, e.g.
// insufficient_privilege). "" when unknown.
std::string SqlstateOf(const pqxx::sql_error& e);

// 'value' for a key=value connection string, with ' and \ escaped.
std::string QuoteConninfoValue(const std::string& value);

// "schema"."table" for SQL text (names are validated at config load).
std::string QualifiedName(const std::string& schema, const std::string& table);

// A text[] literal for exec_params: {"a","b"}.
std::string TextArray(const std::vector<std::string>& values);

}  // namespace schemagate::db

#endif  // SCHEMAGATE_DB_PQ_H_
