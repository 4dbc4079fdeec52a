// A private PostgreSQL server for tests: initdb + pg_ctl in a temporary
// directory, on a free port of 127.0.0.1. Never mocked.
#ifndef SCHEMAGATE_TESTS_SUPPORT_PG_SERVER_H_
#define SCHEMAGATE_TESTS_SUPPORT_PG_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "support/process.h"
#include "support/temp_dir.h"

namespace schemagate::testing {

class PgServer {
 public:
  // One server per test binary, started on first use and stopped at exit.
  static PgServer& Shared();

  struct Options {
    // TLS on (ssl=on) with a server certificate for 127.0.0.1 signed by a
    // CA of its own (ca_file()); connections are logged with their TLS state.
    bool tls = false;
  };
  PgServer() : PgServer(Options{}) {}
  explicit PgServer(Options options);  // starts the server; throws on failure
  ~PgServer();  // stops it and removes its directory
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // A new empty database; returns its superuser URL.
  std::string CreateDatabase(const std::string& name_hint);
  // A URL for `db`. The superuser's URL carries kPlantedPassword (trust
  // authentication ignores it), so every test drives a secret through the
  // product; tests/security/secrets_grep.sh then finds none in any output.
  std::string Url(const std::string& db, const std::string& user = "postgres",
                  const std::string& password = "") const;

  // psql -XAt -v ON_ERROR_STOP=1 -c SQL; throws with psql's stderr on error.
  std::string Query(const std::string& url, const std::string& sql) const;
  // psql with any arguments (e.g. -f FILE) against `url`.
  RunResult Psql(const std::string& url, const std::vector<std::string>& args) const;

  void Stop();
  void Start();
  void Restart();

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  const std::string& bin_dir() const { return bin_dir_; }
  // The CA certificate that signed the server's (Options::tls), PEM.
  std::string ca_file() const { return dir_->path() + "/tls/ca.crt"; }
  std::string log_file() const { return dir_->path() + "/server.log"; }

  // The role that must log in with a password.
  static constexpr const char* kPasswordRole = "sg_password";
  // Every planted secret starts with "sg-planted-": that prefix is what the
  // grep over all outputs looks for.
  static constexpr const char* kPassword = "sg-planted-role-pw-77e1";
  static constexpr const char* kPlantedPassword = "sg-planted-url-pw-5f2c";

 private:
  RunResult AsOwner(std::vector<std::string> argv) const;
  std::unique_ptr<TempDir> dir_;
  std::string bin_dir_;
  std::string data_dir_;
  std::string extra_options_;  // more postgres -c settings (TLS)
  int port_ = 0;
  int next_db_ = 0;
  bool running_ = false;
};

}  // namespace schemagate::testing

#endif  // SCHEMAGATE_TESTS_SUPPORT_PG_SERVER_H_
