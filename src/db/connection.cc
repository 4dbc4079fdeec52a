#include <libpq-fe.h>

#include <algorithm>
#include <random>
#include <thread>

#include "core/duration.h"
#include "core/encoding.h"
#include "core/redact.h"
#include "db/pq.h"

namespace schemagate {

std::string LibpqVersion() {
  const int v = PQlibVersion();  // 150018 for 15.18
  return std::to_string(v / 10000) + "." + std::to_string(v % 100);
}

}  // namespace schemagate

namespace schemagate::db {
namespace {

bool IsUrl(const std::string& s) {
  return s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0;
}

bool HasParam(const std::string& conninfo, const std::string& key) {
  // Good enough for "key=" in both URL query strings and keyword form.
  size_t pos = 0;
  while ((pos = conninfo.find(key + "=", pos)) != std::string::npos) {
    if (pos == 0 || std::string("?& ").find(conninfo[pos - 1]) != std::string::npos) return true;
    pos += key.size();
  }
  return false;
}

// Errors that retrying cannot fix.
bool IsPermanent(const std::string& message) {
  static const char* kPermanent[] = {"password authentication failed",
                                     "authentication failed",
                                     "does not exist",
                                     "no pg_hba.conf entry",
                                     "invalid connection option",
                                     "invalid URI",
                                     "invalid sslmode",
                                     "missing \"=\"",
                                     "permission denied",
                                     "no password supplied",
                                     "certificate",
                                     "does not support SSL"};
  for (const char* p : kPermanent) {
    if (message.find(p) != std::string::npos) return true;
  }
  return false;
}

std::string FirstLine(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string BuildConninfo(const DatabaseOptions& options, const std::string& application_name,
                          bool session_timeouts) {
  std::vector<std::pair<std::string, std::string>> params;
  const std::string& base = options.url;
  auto add = [&](const std::string& key, const std::string& value) {
    if (!HasParam(base, key)) params.emplace_back(key, value);
  };
  add("application_name", application_name.substr(0, 63));
  add("keepalives", "1");
  add("keepalives_idle", "30");
  add("keepalives_interval", "10");
  add("keepalives_count", "3");
  // libpq's own connect_timeout bounds one attempt; OpenConnection retries.
  add("connect_timeout", "10");
  std::string opts = "-c client_min_messages=warning";
  if (session_timeouts) {
    if (options.statement_timeout) {
      opts += " -c statement_timeout=" + std::to_string(options.statement_timeout->count());
    }
    if (options.lock_timeout) {
      opts += " -c lock_timeout=" + std::to_string(options.lock_timeout->count());
    }
  }
  add("options", opts);

  std::string out = base;
  if (IsUrl(base)) {
    char sep = base.find('?') == std::string::npos ? '?' : '&';
    for (const auto& [k, v] : params) {
      out += sep + k + "=" + PercentEncode(v);
      sep = '&';
    }
  } else {
    for (const auto& [k, v] : params) {
      if (!out.empty()) out += ' ';
      out += k + "=" + QuoteConninfoValue(v);
    }
  }
  return out;
}

Result<std::unique_ptr<pqxx::connection>> OpenConnection(const std::string& conninfo,
                                                         const DatabaseOptions& options) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + options.connect_timeout;
  std::mt19937 rng(std::random_device{}());
  auto delay = std::chrono::milliseconds(100);
  int attempts = 0;
  std::string last_error;
  const std::string password = PasswordOf(options.url);
  const std::string where = options.url.empty() ? "the libpq default server (PGHOST/PGPORT/PGDATABASE)"
                                                : DescribeTarget(options.url);
  while (true) {
    ++attempts;
    try {
      return std::make_unique<pqxx::connection>(conninfo);
    } catch (const std::exception& e) {
      last_error = RedactSecret(FirstLine(e.what()), password);
    }
    if (IsPermanent(last_error)) {
      return Status::Runtime("cannot connect to " + where + ": " + last_error);
    }
    auto now = Clock::now();
    if (now >= deadline) break;
    if (options.stop_retrying && options.stop_retrying()) {
      return Status::Runtime("cannot connect to " + where + " (stopped retrying): " + last_error);
    }
    std::uniform_int_distribution<int> jitter(0, static_cast<int>(delay.count() / 2));
    auto sleep = delay + std::chrono::milliseconds(jitter(rng));
    sleep = std::min<std::chrono::milliseconds>(
        sleep, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
    std::this_thread::sleep_for(sleep);
    delay = std::min(delay * 2, std::chrono::milliseconds(2000));
  }
  return Status::Runtime("cannot connect to " + where + " after " +
                         FormatDuration(options.connect_timeout) + " (" + std::to_string(attempts) +
                         " attempts; raise --connect-timeout if the database starts slowly): " +
                         last_error);
}

namespace {

template <typename E>
bool Is(const std::exception& e) {
  return dynamic_cast<const E*>(&e) != nullptr;
}

// libpqxx 6.4 throws some of its specific exception classes without the
// SQLSTATE the server sent (insufficient_privilege among them): each of these
// stands for exactly one code. Most specific classes first.
std::string SqlstateOfClass(const std::exception& e) {
  if (Is<pqxx::insufficient_privilege>(e)) return "42501";
  if (Is<pqxx::undefined_table>(e)) return "42P01";
  if (Is<pqxx::undefined_column>(e)) return "42703";
  if (Is<pqxx::undefined_function>(e)) return "42883";
  if (Is<pqxx::syntax_error>(e)) return "42601";
  if (Is<pqxx::unique_violation>(e)) return "23505";
  if (Is<pqxx::foreign_key_violation>(e)) return "23503";
  if (Is<pqxx::not_null_violation>(e)) return "23502";
  if (Is<pqxx::check_violation>(e)) return "23514";
  if (Is<pqxx::deadlock_detected>(e)) return "40P01";
  if (Is<pqxx::serialization_failure>(e)) return "40001";
  if (Is<pqxx::too_many_connections>(e)) return "53300";
  if (Is<pqxx::disk_full>(e)) return "53100";
  if (Is<pqxx::out_of_memory>(e)) return "53200";
  return "";
}

}  // namespace

std::string SqlstateOf(const pqxx::sql_error& e) {
  std::string code = e.sqlstate();
  return code.empty() ? SqlstateOfClass(e) : code;
}

Status StatusFromException(const std::exception& e, const std::string& context,
                           const DatabaseOptions& options) {
  const std::string password = PasswordOf(options.url);
  std::string message = RedactSecret(FirstLine(e.what()), password);
  if (auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    ErrorLocation loc;
    loc.sqlstate = SqlstateOf(*sql);
    Status s = Status::Runtime(context + ": " + message +
                               (loc.sqlstate.empty() ? "" : " (SQLSTATE " + loc.sqlstate + ")"));
    s.set_location(loc);
    return s;
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return Status::Runtime(context + ": lost the connection to the database: " + message);
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return Status::Runtime(context +
                           ": the connection broke during COMMIT; the outcome is unknown. Run "
                           "'schemagate current' to see what was recorded: " +
                           message);
  }
  return Status::Runtime(context + ": " + message);
}

std::string QuoteConninfoValue(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string QualifiedName(const std::string& schema, const std::string& table) {
  auto quote = [](const std::string& name) {
    std::string out = "\"";
    for (char c : name) {
      if (c == '"') out += '"';
      out += c;
    }
    return out + "\"";
  };
  return quote(schema) + "." + quote(table);
}

std::string TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace schemagate::db
