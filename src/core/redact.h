// Keeping passwords out of logs, errors, reports and status.
#ifndef SCHEMAGATE_CORE_REDACT_H_
#define SCHEMAGATE_CORE_REDACT_H_

#include <string>
#include <string_view>

namespace schemagate {

// Replaces the password of a PostgreSQL connection string with "***":
// URLs (postgresql://user:secret@host/db, postgres://...), the `password=`
// query parameter, and key=value form (password=secret, password='s e c').
std::string RedactUrl(std::string_view url);

// Replaces every occurrence of `secret` in `text` with "***" (no-op for an
// empty secret). For messages that may echo a password back (libpq errors).
std::string RedactSecret(std::string_view text, std::string_view secret);

// The password inside a connection string, or "" when there is none.
std::string PasswordOf(std::string_view url);

// "host:port/db" (or the socket path) for "could not connect to ..." messages;
// never contains the password.
std::string DescribeTarget(std::string_view url);

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_REDACT_H_
