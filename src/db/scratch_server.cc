#include "db/scratch_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <libpq-fe.h>

#include "core/redact.h"
#include "db/pq.h"

namespace schemagate {
namespace {

namespace fs = std::filesystem;

// `conninfo` (URL or key=value) with its dbname replaced by `dbname`, as
// key=value text. Everything else the user gave (host, port, sslmode,
// password, ...) is kept.
Result<std::string> WithDatabase(const std::string& conninfo, const std::string& dbname) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (opts == nullptr) {
    std::string why = err != nullptr ? err : "out of memory";
    PQfreemem(err);
    return Status::Usage("--dev-url " + RedactUrl(conninfo) + " is not a valid connection string: " + why);
  }
  std::string out;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::strcmp(o->keyword, "dbname") == 0) continue;
    out += std::string(o->keyword) + "=" + db::QuoteConninfoValue(o->val) + " ";
  }
  PQconninfoFree(opts);
  return out + "dbname=" + db::QuoteConninfoValue(dbname);
}

// Runs one statement outside a transaction on a fresh connection (CREATE and
// DROP DATABASE cannot run in one).
Status ExecuteOnce(const std::string& conninfo, const std::string& sql, const std::string& what,
                   std::chrono::milliseconds connect_timeout = std::chrono::seconds(10)) {
  DatabaseOptions options;
  options.url = conninfo;
  options.connect_timeout = connect_timeout;
  auto conn = db::OpenConnection(db::BuildConninfo(options, "schemagate-scratch", false), options);
  if (!conn.ok()) return conn.status();
  try {
    pqxx::nontransaction tx(**conn);
    tx.exec(sql);
    return Status::Ok();
  } catch (const std::exception& e) {
    return db::StatusFromException(e, what, options);
  }
}

// --- the private server --------------------------------------------------

// The newest PostgreSQL server binaries: $SCHEMAGATE_PG_BINDIR, initdb on
// PATH, then Debian's /usr/lib/postgresql/<version>/bin, then the source
// build's default /usr/local/pgsql/bin.
std::string FindServerBinaries(std::string* looked) {
  auto has = [](const fs::path& dir) {
    return access((dir / "initdb").c_str(), X_OK) == 0 && access((dir / "postgres").c_str(), X_OK) == 0;
  };
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("SCHEMAGATE_PG_BINDIR"); env != nullptr && *env != '\0') {
    candidates.emplace_back(env);
  }
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::stringstream ss(path);
    std::string dir;
    while (std::getline(ss, dir, ':')) {
      if (!dir.empty()) candidates.emplace_back(dir);
    }
  }
  std::vector<std::pair<int, fs::path>> debian;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    int version = std::atoi(entry.path().filename().c_str());
    if (version > 0) debian.emplace_back(version, entry.path() / "bin");
  }
  std::sort(debian.rbegin(), debian.rend());
  for (const auto& d : debian) candidates.push_back(d.second);
  candidates.emplace_back("/usr/local/pgsql/bin");
  for (const fs::path& dir : candidates) {
    if (has(dir)) return dir.string();
  }
  *looked = "$SCHEMAGATE_PG_BINDIR, PATH, /usr/lib/postgresql/*/bin, /usr/local/pgsql/bin";
  return "";
}

struct Owner {
  bool switch_user = false;  // running as root: initdb and postgres refuse root
  uid_t uid = 0;
  gid_t gid = 0;
};

Result<Owner> ServerOwner() {
  Owner owner;
  if (geteuid() != 0) return owner;
  struct passwd* pw = getpwnam("postgres");
  if (pw == nullptr) {
    return Status::Runtime(
        "cannot start a private PostgreSQL as root: PostgreSQL refuses to run as root and there is no "
        "'postgres' user to run it as; run as another user or pass --dev-url");
  }
  owner.switch_user = true;
  owner.uid = pw->pw_uid;
  owner.gid = pw->pw_gid;
  return owner;
}

// fork + exec `argv` as `owner`, stdout and stderr to `log_path`. With
// `die_with_parent` the child gets SIGQUIT (PostgreSQL's immediate shutdown)
// if this process dies first.
Result<pid_t> Spawn(const std::vector<std::string>& argv, const Owner& owner, const std::string& log_path,
                    bool die_with_parent) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return Status::Runtime(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    setpgid(0, 0);  // Ctrl-C reaches us, not the server: we stop it in order
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    if (owner.switch_user) {
      if (setgroups(0, nullptr) != 0 || setgid(owner.gid) != 0 || setuid(owner.uid) != 0) _exit(126);
    }
    // After setuid: a credential change clears the parent-death signal.
    if (die_with_parent) {
      prctl(PR_SET_PDEATHSIG, SIGQUIT);
      if (getppid() != parent) _exit(1);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

std::string Tail(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  std::string line;
  while (std::getline(in, line)) all.push_back(line);
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += "\n  " + all[i];
  return out;
}

// Everything this process must undo, reachable from the signal thread: the
// private server and its directory, or the databases made on a --dev-url
// server.
struct Scratch {
  std::mutex mu;
  pid_t postmaster = 0;
  std::string dir;
  std::string dev_admin;                  // --dev-url
  std::vector<std::string> dev_databases;  // created there, to drop

  // Idempotent.
  void Cleanup() {
    std::lock_guard<std::mutex> lock(mu);
    CleanupLocked();
  }

  // With `mu` held.
  void CleanupLocked() {
    for (const std::string& name : dev_databases) {
      // Best effort: whatever is left behind is named sg_scratch_*.
      ExecuteOnce(dev_admin, "DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)", "dropping " + name);
    }
    dev_databases.clear();
    if (postmaster > 0) {
      kill(postmaster, SIGQUIT);  // immediate shutdown: nothing here is worth keeping
      int status = 0;
      for (int i = 0; i < 200; ++i) {
        if (waitpid(postmaster, &status, WNOHANG) != 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
        if (i == 120) kill(postmaster, SIGKILL);
      }
      postmaster = 0;
    }
    if (!dir.empty()) {
      std::error_code ec;
      fs::remove_all(dir, ec);
      dir.clear();
    }
  }
};

Scratch& TheScratch() {
  static Scratch* scratch = new Scratch();  // never destroyed: the signal thread may use it
  return *scratch;
}

// SIGINT, SIGTERM and SIGHUP are taken by a thread that cleans up and then
// re-raises the signal with its default action, so Ctrl-C leaves nothing
// running and the exit status still says "killed by SIGINT". The thread keeps
// the lock until the process is gone: a main thread that notices the server
// vanish (and would exit 1 with "the server exited") blocks on it instead of
// racing the re-raised signal to the exit status.
void InstallSignalCleanup() {
  static std::once_flag once;
  std::call_once(once, [] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set] {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) return;
      Scratch& scratch = TheScratch();
      std::lock_guard<std::mutex> held_until_exit(scratch.mu);
      scratch.CleanupLocked();
      signal(sig, SIG_DFL);
      pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
      raise(sig);
      for (;;) pause();  // the default action ends the process; never unlock
    }).detach();
  });
}

Result<std::string> StartPrivateServer(const ScratchServer::Log& log, std::string* description) {
  std::string looked;
  const std::string bin = FindServerBinaries(&looked);
  if (bin.empty()) {
    return Status::Runtime(
        "no PostgreSQL server binaries (initdb, postgres) found to start a private scratch server (looked in " +
        looked + "); install the server package (Debian: postgresql) or pass --dev-url URL of a server where "
        "schemagate may create scratch databases");
  }
  auto owner = ServerOwner();
  if (!owner.ok()) return owner.status();

  // Blocked before any thread exists that could take the signals instead.
  InstallSignalCleanup();
  std::string tmpl = (fs::temp_directory_path() / "schemagate-scratch.XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    return Status::Runtime("cannot create a temporary directory for the scratch server: " +
                           std::string(std::strerror(errno)));
  }
  Scratch& server = TheScratch();
  {
    std::lock_guard<std::mutex> lock(server.mu);
    server.dir = tmpl;
  }
  const std::string dir = tmpl;
  if (owner->switch_user && chown(dir.c_str(), owner->uid, owner->gid) != 0) {
    return Status::Runtime("cannot hand " + dir + " to the postgres user: " + std::strerror(errno));
  }
  const std::string data = dir + "/data";
  const std::string log_path = dir + "/server.log";
  if (log) log("Starting a private PostgreSQL for scratch databases (" + bin + ")");

  auto initdb = Spawn({bin + "/initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8",
                       "--locale=C", "--no-instructions"},
                      *owner, log_path, true);
  if (!initdb.ok()) return initdb.status();
  int status = 0;
  waitpid(*initdb, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::Runtime("initdb failed for the private scratch server:" + Tail(log_path, 15));
  }
  auto postmaster = Spawn({bin + "/postgres", "-D", data, "-k", dir, "-p", "5432", "-c", "listen_addresses=",
                           "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off",
                           "-c", "max_connections=20", "-c", "shared_buffers=16MB"},
                          *owner, log_path, true);
  if (!postmaster.ok()) return postmaster.status();
  {
    std::lock_guard<std::mutex> lock(server.mu);
    server.postmaster = *postmaster;
  }
  const std::string conninfo = "host=" + db::QuoteConninfoValue(dir) + " port=5432 user=postgres dbname=postgres";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (PQping(conninfo.c_str()) != PQPING_OK) {
    if (waitpid(*postmaster, &status, WNOHANG) == *postmaster) {
      std::lock_guard<std::mutex> lock(server.mu);
      server.postmaster = 0;
      return Status::Runtime("the private scratch server exited while starting:" + Tail(log_path, 15));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Runtime("the private scratch server did not accept connections within 60 s:" +
                             Tail(log_path, 15));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  *description = "a private PostgreSQL in " + dir;
  return conninfo;
}

}  // namespace

struct ScratchServer::Impl {
  std::string admin_conninfo;  // the server's maintenance database
  std::string description;
  bool private_server = false;
  int next = 0;
};

ScratchServer::ScratchServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ScratchServer::~ScratchServer() { TheScratch().Cleanup(); }

Result<std::unique_ptr<ScratchServer>> ScratchServer::Open(const std::optional<std::string>& dev_url,
                                                           std::chrono::milliseconds connect_timeout,
                                                           const Log& log) {
  auto impl = std::make_unique<Impl>();
  if (dev_url) {
    impl->admin_conninfo = *dev_url;
    impl->description = "the --dev-url server " + DescribeTarget(*dev_url);
    Status ok = ExecuteOnce(*dev_url, "SELECT 1", "checking the --dev-url server", connect_timeout);
    if (!ok.ok()) return ok.Prefixed("--dev-url");
    InstallSignalCleanup();
    Scratch& scratch = TheScratch();
    std::lock_guard<std::mutex> lock(scratch.mu);
    scratch.dev_admin = *dev_url;
  } else {
    auto conninfo = StartPrivateServer(log, &impl->description);
    if (!conninfo.ok()) {
      TheScratch().Cleanup();
      return conninfo.status();
    }
    impl->admin_conninfo = *conninfo;
    impl->private_server = true;
  }
  return std::unique_ptr<ScratchServer>(new ScratchServer(std::move(impl)));
}

Result<std::string> ScratchServer::CreateDatabase(const std::string& purpose) {
  std::string name = "sg_scratch_" + std::to_string(getpid()) + "_" + std::to_string(impl_->next++) + "_";
  for (char c : purpose) {
    if (name.size() >= 60) break;
    name += (std::isalnum(static_cast<unsigned char>(c)) != 0) ? static_cast<char>(std::tolower(c)) : '_';
  }
  if (!impl_->private_server) {
    // Recorded first: a Ctrl-C between CREATE and the record would leave it.
    Scratch& scratch = TheScratch();
    std::lock_guard<std::mutex> lock(scratch.mu);
    scratch.dev_databases.push_back(name);
  }
  Status s = ExecuteOnce(impl_->admin_conninfo, "CREATE DATABASE \"" + name + "\" TEMPLATE template0",
                         "creating scratch database " + name + " on " + impl_->description);
  if (!s.ok()) {
    if (s.location().sqlstate == "42501") {
      return Status::Runtime(s.message() +
                             " (the --dev-url role needs CREATEDB: scratch databases are created and dropped there)");
    }
    return s;
  }
  return WithDatabase(impl_->admin_conninfo, name);
}

std::string ScratchServer::description() const { return impl_->description; }

}  // namespace schemagate
