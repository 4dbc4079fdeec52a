// schemagate.yaml (the seed's alembic.ini + env.py) and how it combines with
// environment variables and flags. Precedence: flags > environment variables
// > file > defaults (design.md §3).
#ifndef SCHEMAGATE_CORE_CONFIG_H_
#define SCHEMAGATE_CORE_CONFIG_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/duration.h"
#include "core/status.h"

namespace schemagate {

inline constexpr const char* kDefaultConfigFile = "schemagate.yaml";

struct EnvironmentConfig {
  std::string url;      // a literal URL (development only, by convention)
  std::string url_env;  // or the name of a variable that holds it
};

// The file's content. Every field has its default when the file is absent.
struct ConfigFile {
  std::string path;  // "" when no file was read
  std::string script_location = "migrations";  // relative to the file's directory
  std::string schema_location = "schema";      // the declared schema; relative to the file's directory
  std::optional<std::string> dev_url;          // a server for scratch databases
  std::string version_table = "alembic_version";
  std::string version_table_schema = "public";
  std::string log_table = "schemagate_log";
  std::string environment = "development";
  std::map<std::string, EnvironmentConfig> environments;
  std::optional<std::string> lock_wait_timeout;  // advisory-lock wait (--lock-timeout)
  std::optional<std::string> connect_timeout;
  std::optional<std::string> statement_timeout;  // PostgreSQL statement_timeout for migrations
  std::optional<std::string> lock_timeout;       // PostgreSQL lock_timeout for migrations
};

// Parses YAML text; empty text (or only comments) gives the defaults. Every
// error is kUsage and starts with "<path>:<line>: ": malformed YAML (the
// parser's message), unknown keys at the top level or inside an environment
// ("unknown key 'scrip_location' (known: ...); did you mean
// 'script_location'?"), duplicate keys, a list or mapping or nothing where a
// single value belongs, a table or schema name that is not an identifier
// ([A-Za-z_][A-Za-z0-9_$]*, at most 63 bytes), log_table equal to
// version_table, an environment with both url and url_env, a url_env that is
// not a variable name, and durations that ParseDuration rejects (or, for
// statement_timeout and lock_timeout, above PostgreSQL's limit of 2^31-1 ms).
Result<ConfigFile> ParseConfigFile(const std::string& path, const std::string& text);

// What the command line said; unset means "not given".
struct Flags {
  std::optional<std::string> config_path;  // -c
  std::optional<std::string> url;          // --url
  std::optional<std::string> environment;  // --env
  std::optional<std::string> script_location;
  std::optional<std::string> schema_location;  // --schema-location
  std::optional<std::string> dev_url;          // --dev-url
  std::optional<std::string> lock_wait_timeout;  // --lock-timeout
  std::optional<std::string> connect_timeout;    // --connect-timeout
  std::optional<std::string> statement_timeout;  // --statement-timeout
  std::optional<std::string> lock_timeout;       // --db-lock-timeout
};

// Everything a command needs, resolved.
struct Settings {
  std::string config_path;       // the file used, "" if none
  std::string script_location;   // the migrations directory (holds versions/)
  std::string schema_location;   // the declared schema: *.sql files applied in name order
  // Where scratch databases are made (--dev-url, SCHEMAGATE_DEV_URL, the
  // file's dev_url); unset: a private server is started when needed.
  std::optional<std::string> dev_url;
  std::string version_table;
  std::string version_table_schema;
  std::string log_table;
  std::string environment;
  std::string url;               // "" means libpq defaults (PG* variables, ~/.pgpass)
  // Where the URL came from, for messages: "--url", "DATABASE_URL",
  // "schemagate.yaml environments.development.url",
  // "STAGING_DATABASE_URL (environments.staging.url_env)" or
  // "libpq defaults (PGHOST, PGDATABASE, ...)".
  std::string url_source;
  // Not ok when the environment's url_env variable is unset or empty: the
  // commands that connect fail with it; the others do not need a URL.
  Status url_error;
  std::vector<std::string> environments;  // the names the file lists under `environments`
  Millis lock_wait_timeout{std::chrono::minutes(5)};
  Millis connect_timeout{std::chrono::seconds(30)};
  std::optional<Millis> statement_timeout;
  std::optional<Millis> lock_timeout;
};

// Looks up an environment variable; nullopt when it is not set.
using GetEnv = std::function<std::optional<std::string>(const std::string&)>;
// The real process environment (std::getenv).
GetEnv ProcessEnvironment();

// Reads the config file (flags.config_path, else ./schemagate.yaml if it
// exists, else defaults; an explicit -c that does not exist is kUsage) with
// std::ifstream and applies environment variables and flags. Precedence,
// highest first:
//   environment: --env, ENVIRONMENT, the file's `environment`, "development"
//   url:         --url, DATABASE_URL, the environment's url or the variable
//                its url_env names, else "" (libpq defaults)
//   durations:   the flag, the file, the defaults above
//   dev_url:     --dev-url, SCHEMAGATE_DEV_URL, the file's dev_url, else unset
//   schema_location: --schema-location (as given), the file's (relative to
//                the file's directory), "schema"
// An empty environment variable counts as unset; an empty --url, --env, -c
// or --script-location is kUsage. A url_env whose variable is unset or empty
// leaves url empty and url_error a kUsage naming the variable to set (only
// commands that connect need a URL). An environment that the file does
// not list (when it lists any) is kUsage naming the known ones, unless the
// URL comes from --url or DATABASE_URL. Duration errors name the flag or the
// file and line. A relative script_location from the file is taken relative
// to the file's directory; one from the flag, as given.
Result<Settings> ResolveSettings(const Flags& flags, const GetEnv& getenv);

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_CONFIG_H_
