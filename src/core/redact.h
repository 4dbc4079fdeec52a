// Keeping passwords out of logs, errors, reports and status.
#ifndef SCHEMAGATE_CORE_REDACT_H_
#define SCHEMAGATE_CORE_REDACT_H_

#include <string>
#include <string_view>

namespace schemagate {

// Replaces the password of a PostgreSQL connection string with "***":
// URLs (postgresql://user:secret@host/db, postgres://..., multi-host
// h1:5432,h2), the `password=` / `sslpassword=` query parameters, and
// key=value form (password=secret, password='s e c', password='it\'s').
// Errs towards hiding more: a password pasted into a URL without
// percent-encoding its '@' or '/' is hidden whole, and a value that is itself
// a connection string (dbname='postgresql://...') is redacted too.
// Everything else is kept as written.
std::string RedactUrl(std::string_view url);

// Replaces every occurrence of `secret` in `text` with "***" (no-op for an
// empty secret). For messages that may echo a password back (libpq errors).
std::string RedactSecret(std::string_view text, std::string_view secret);

// The password inside a connection string as libpq would send it
// (percent-decoded, unquoted, unescaped; the last one given wins), or ""
// when there is none (sslpassword and a password inside a nested dbname do
// not count). Feed it to RedactSecret for libpq's messages.
std::string PasswordOf(std::string_view url);

// Where a connection string points, for "cannot connect to ..." messages:
// "db.example:6432/app", "localhost:5432/app" (no host given; the port
// defaults to 5432), "h1:5432,h2:5433/app" (several hosts),
// "[::1]:5432/app", or "unix socket /run/postgresql/.s.PGSQL.5432 db app"
// (host=/path). The database part is left out when none is given, and so
// is the user name. Never contains the password.
std::string DescribeTarget(std::string_view url);

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_REDACT_H_
