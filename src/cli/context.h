// What every command shares: resolved settings, the loaded migrations, the
// database connection (opened on first use), output and the run report.
#ifndef SCHEMAGATE_CLI_CONTEXT_H_
#define SCHEMAGATE_CLI_CONTEXT_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "cli/output.h"
#include "core/config.h"
#include "core/migration_set.h"
#include "db/database.h"

namespace schemagate {
class JsonWriter;
}  // namespace schemagate

namespace schemagate::cli {

// The outcome of a run, for `--report FILE` (the controller points it at
// /dev/termination-log, which holds 4 KiB).
struct Report {
  std::string command;
  Heads from_heads;
  Heads to_heads;
  std::vector<std::string> applied;
  bool have_heads = false;
  // upgrade/downgrade: the resolved target revisions, once resolved (also
  // when the run then fails).
  bool have_target = false;
  Heads target_heads;
  // The planned steps not applied yet (from the plan made under the lock
  // once there is one): 0 after success or when ahead; unset before a plan.
  std::optional<int64_t> pending;
  // The database is past this release (a newer one ran): nothing was done.
  bool ahead = false;
  Heads release_heads;  // the heads of this release's files, when ahead
};

namespace po = boost::program_options;

class Context;

// The commands that talk to the Kubernetes API. Only the schemagate-operator
// binary links them (with cpprestsdk): the runner starts on every pod start
// and every shared library costs it relocations and page faults. The runner
// hands such invocations to schemagate-operator (see app.cc).
struct KubeHooks {
  std::function<Status(Context&, const po::variables_map&)> run_operator;
  // `wait --migration NAME`: the gate through the API instead of the database.
  std::function<Status(Context&, const po::variables_map&, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds interval)>
      wait_for_migration;
};

class Context {
 public:
  Context(Flags flags, Output& out, const KubeHooks* kube = nullptr)
      : flags_(std::move(flags)), out_(out), kube_(kube) {}

  Output& out() { return out_; }
  Report& report() { return report_; }

  Result<const Settings*> settings();
  // Loads <script_location>/versions and builds the graph (once). With
  // `split` false statements are not split yet — enough for the no-op pod
  // start; a later call with `split` true finishes the job.
  Result<const MigrationSet*> migrations(bool split = true);
  // Starts loading the migrations on another thread, so that reading the
  // files overlaps with connecting (the server forks and initialises a
  // backend meanwhile); migrations() collects the result. Call database()
  // next, then migrations(): a load error then stops connection retries.
  void PrefetchMigrations(bool split);
  // Connects to the target database (once).
  Result<Database*> database();
  // The name this process shows in pg_stat_activity and records in the log:
  // POD_NAME, else HOSTNAME, else gethostname().
  static std::string ClientName();
  // The Kubernetes commands; app.cc hands invocations that need them to
  // schemagate-operator when this binary has none, so never null there.
  const KubeHooks& kube() const { return *kube_; }

 private:
  Flags flags_;
  Output& out_;
  const KubeHooks* kube_;
  Report report_;
  std::optional<Settings> settings_;
  std::optional<MigrationSet> set_;
  std::atomic<bool> prefetch_failed_{false};     // outlives the thread below
  std::future<Result<MigrationSet>> prefetch_;  // its destructor waits for the thread
  std::unique_ptr<Database> db_;
};

struct Command {
  std::string name;
  std::string usage;    // "upgrade [TARGET] [--sql] ..."
  std::string summary;  // one line for `schemagate --help`
  // Adds the command's own options and positional arguments.
  std::function<void(po::options_description&, po::positional_options_description&)> define;
  std::function<Status(Context&, const po::variables_map&)> run;
  // True when this invocation needs the Kubernetes client (KubeHooks).
  std::function<bool(const po::variables_map&)> needs_kube = nullptr;
};

std::vector<Command> ScriptCommands();    // init, create, merge, history, heads, branches, show
std::vector<Command> DatabaseCommands();  // upgrade, downgrade, current, pending, stamp, check, wait
std::vector<Command> OperatorCommands();  // operator
std::vector<Command> LintCommands();      // lint

std::vector<Command> SchemaCommands();    // verify

// `check` (not `check --head`) and `check --schema`: every statement of every migration through
// PostgreSQL's parser before anything else. kValidation naming the first
// refused statement's file, line and column (each is logged); syntax of a
// later PostgreSQL is a warning; a parser that cannot be loaded is a warning
// too (the check is then skipped, said so), never a reason to fail `check`.
Status CheckMigrationsSyntax(const Output& out, const MigrationSet& set);

// A database with heads no file here defines, read against this release's
// heads (`current`, `pending`, `check`, `verify --url`; `upgrade` and `wait`
// do the same for their targets): nullopt when every head is known (the log
// is not read); a check with ahead() when schemagate_log shows those heads
// descending from this release's (a newer release ran: a rollback, an old
// pod); else the refusal saying why not (kValidation).
Result<std::optional<AheadCheck>> CheckNewerRelease(Database& db, const RevisionGraph& graph,
                                                    const DatabaseState& state);

// "Database ahead at 0006, applied by a newer release; this release's head
// 0005 is applied" (`target` as given: head, heads or a revision).
std::string AheadLine(const Heads& db_heads, const std::string& target, const Heads& wanted);

// Writes a new revision file from script.sql.tmpl (create, merge,
// autogenerate); `upgrades` / `downgrades` fill ${upgrades} / ${downgrades}.
Status WriteRevision(Context& ctx, const MigrationSet& set, Revision r, const std::string& upgrades,
                     const std::string& downgrades);

// `create --autogenerate`: the SQL from the migrations at r.down_revisions to
// the declared schema and back, found on scratch databases.
struct GeneratedRevision {
  bool has_changes = false;
  std::string upgrade;    // section bodies, comments included
  std::string downgrade;
};
Result<GeneratedRevision> Autogenerate(Context& ctx, const MigrationSet& set, const Revision& r);

// `check --schema`: exit 4 when the migrations at head and the declared schema differ.
Status CheckSchema(Context& ctx);


// Helpers shared by the command files.
std::string JoinHeads(const Heads& heads, const std::string& empty = "base");
std::string JsonHeads(const Heads& heads);
// The report's target_heads, pending, ahead and release_heads (each only
// when set), for --report and upgrade/downgrade --output json.
void WriteRunFields(JsonWriter& w, const Report& report);

}  // namespace schemagate::cli

#endif  // SCHEMAGATE_CLI_CONTEXT_H_
