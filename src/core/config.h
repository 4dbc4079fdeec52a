// schemagate.yaml (the seed's alembic.ini + env.py) and how it combines with
// environment variables and flags. Precedence: flags > environment variables
// > file > defaults (design.md §3).
#ifndef SCHEMAGATE_CORE_CONFIG_H_
#define SCHEMAGATE_CORE_CONFIG_H_

#include <functional>
#include <map>
#include <optional>
#include <string>

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

// Parses YAML text. kUsage on malformed YAML, unknown keys, wrong types, or
// invalid table names, naming `path` and the line.
Result<ConfigFile> ParseConfigFile(const std::string& path, const std::string& text);

// What the command line said; unset means "not given".
struct Flags {
  std::optional<std::string> config_path;  // -c
  std::optional<std::string> url;          // --url
  std::optional<std::string> environment;  // --env
  std::optional<std::string> script_location;
  std::optional<std::string> lock_wait_timeout;  // --lock-timeout
  std::optional<std::string> connect_timeout;    // --connect-timeout
  std::optional<std::string> statement_timeout;  // --statement-timeout
  std::optional<std::string> lock_timeout;       // --db-lock-timeout
};

// Everything a command needs, resolved.
struct Settings {
  std::string config_path;       // the file used, "" if none
  std::string script_location;   // the migrations directory (holds versions/)
  std::string version_table;
  std::string version_table_schema;
  std::string log_table;
  std::string environment;
  std::string url;               // "" means libpq defaults (PG* variables, ~/.pgpass)
  std::string url_source;        // where the URL came from, for messages
  Millis lock_wait_timeout{std::chrono::minutes(5)};
  Millis connect_timeout{std::chrono::seconds(30)};
  std::optional<Millis> statement_timeout;
  std::optional<Millis> lock_timeout;
};

using GetEnv = std::function<std::optional<std::string>(const std::string&)>;
GetEnv ProcessEnvironment();

// Reads the config file (flags.config_path, else ./schemagate.yaml if it
// exists, else defaults; an explicit -c that does not exist is kUsage) and
// applies environment variables (ENVIRONMENT, DATABASE_URL, the environment's
// url_env) and flags. A relative script_location is taken relative to the
// config file's directory. An `environment` that the file does not list is
// accepted only when a URL comes from elsewhere (--url, DATABASE_URL).
Result<Settings> ResolveSettings(const Flags& flags, const GetEnv& getenv);

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_CONFIG_H_
