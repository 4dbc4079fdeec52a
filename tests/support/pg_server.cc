#include "support/pg_server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace schemagate::testing {

namespace fs = std::filesystem;

namespace {

std::string FindBinDir() {
  std::vector<fs::path> candidates;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    if (fs::exists(e.path() / "bin" / "initdb")) candidates.push_back(e.path() / "bin");
  }
  if (candidates.empty()) {
    throw std::runtime_error("no PostgreSQL server under /usr/lib/postgresql; run scripts/install-deps.sh");
  }
  std::sort(candidates.begin(), candidates.end(), [](const fs::path& a, const fs::path& b) {
    return std::stoi(a.parent_path().filename().string()) < std::stoi(b.parent_path().filename().string());
  });
  return candidates.back().string();
}


std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}


// A CA and a server certificate for 127.0.0.1 and localhost, signed by it,
// in `dir`, made with the openssl command line.
void MakeTlsFiles(const std::string& dir) {
  fs::create_directories(dir);
  WriteFile(dir + "/server.ext", "subjectAltName = IP:127.0.0.1, DNS:localhost\n");
  const std::vector<std::vector<std::string>> steps = {
      {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=schemagate test CA",
       "-keyout", dir + "/ca.key", "-out", dir + "/ca.crt"},
      {"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", dir + "/server.key",
       "-out", dir + "/server.csr"},
      {"openssl", "x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.crt", "-CAkey", dir + "/ca.key",
       "-CAcreateserial", "-days", "2", "-extfile", dir + "/server.ext", "-out", dir + "/server.crt"},
  };
  for (const auto& argv : steps) {
    RunResult r = RunProcess(argv);
    if (r.exit_code != 0) throw std::runtime_error("openssl failed: " + r.err);
  }
  fs::permissions(dir + "/server.key", fs::perms::owner_read | fs::perms::owner_write);
}

}  // namespace

PgServer& PgServer::Shared() {
  // Destroyed at exit, which stops the server.
  static PgServer server;
  return server;
}

RunResult PgServer::AsOwner(std::vector<std::string> argv) const {
  if (geteuid() == 0) argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  RunOptions o;
  o.timeout = std::chrono::seconds(120);
  return RunProcess(argv, o);
}

PgServer::PgServer(Options options) : dir_(std::make_unique<TempDir>()) {
  bin_dir_ = FindBinDir();
  data_dir_ = dir_->path() + "/data";
  if (options.tls) {
    MakeTlsFiles(dir_->path() + "/tls");
    extra_options_ = " -c ssl=on -c ssl_cert_file=" + dir_->path() + "/tls/server.crt -c ssl_key_file=" +
                     dir_->path() + "/tls/server.key -c log_connections=on";
  }
  if (geteuid() == 0) {
    RunResult chown = RunProcess({"chown", "-R", "postgres", dir_->path()});
    if (chown.exit_code != 0) throw std::runtime_error("chown postgres failed: " + chown.err);
  }
  RunResult init = AsOwner({bin_dir_ + "/initdb", "-D", data_dir_, "-U", "postgres", "-A", "trust", "--no-sync",
                            "-E", "UTF8", "--locale=C"});
  if (init.exit_code != 0) throw std::runtime_error("initdb failed: " + init.out + init.err);
  // The password role must really authenticate; everyone else is trusted.
  WriteFile(data_dir_ + "/pg_hba.conf",
            std::string("local all all trust\n") + "host all " + kPasswordRole + " 127.0.0.1/32 scram-sha-256\n" +
                "host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n");
  if (geteuid() == 0) RunProcess({"chown", "postgres", data_dir_ + "/pg_hba.conf"});
  Start();
  Query(Url("postgres"), std::string("CREATE ROLE ") + kPasswordRole + " LOGIN PASSWORD '" + kPassword + "'");
}

PgServer::~PgServer() {
  try {
    Stop();
  } catch (...) {
  }
}

void PgServer::Start() {
  if (port_ == 0) port_ = FreeTcpPort();
  RunResult start = AsOwner({bin_dir_ + "/pg_ctl", "-D", data_dir_, "-l", dir_->path() + "/server.log", "-w", "-t",
                             "60", "-o",
                             "-p " + std::to_string(port_) + " -k " + dir_->path() +
                                 " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                                 "-c full_page_writes=off -c max_connections=200" + extra_options_,
                             "start"});
  if (start.exit_code != 0) {
    throw std::runtime_error("pg_ctl start failed: " + start.out + start.err + ReadFile(dir_->path() + "/server.log"));
  }
  running_ = true;
}

void PgServer::Stop() {
  if (!running_) return;
  AsOwner({bin_dir_ + "/pg_ctl", "-D", data_dir_, "-m", "immediate", "-w", "stop"});
  running_ = false;
}

void PgServer::Restart() {
  Stop();
  Start();
}

std::string PgServer::Url(const std::string& db, const std::string& user, const std::string& password) const {
  const std::string pw = password.empty() && user == "postgres" ? kPlantedPassword : password;
  return "postgresql://" + user + (pw.empty() ? "" : ":" + pw) + "@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

std::string PgServer::CreateDatabase(const std::string& name_hint) {
  std::string name = name_hint + "_" + std::to_string(getpid()) + "_" + std::to_string(++next_db_);
  Query(Url("postgres"), "CREATE DATABASE " + name);
  return Url(name);
}

RunResult PgServer::Psql(const std::string& url, const std::vector<std::string>& args) const {
  std::vector<std::string> argv{"psql", "-X", "-q", "-d", url};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions o;
  o.timeout = std::chrono::seconds(120);
  return RunProcess(argv, o);
}

std::string PgServer::Query(const std::string& url, const std::string& sql) const {
  RunResult r = Psql(url, {"-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql});
  if (r.exit_code != 0) throw std::runtime_error("psql failed: " + r.err + "\nSQL: " + sql);
  return Trim(r.out);
}

}  // namespace schemagate::testing
