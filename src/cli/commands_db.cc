// Commands that read or change the database: upgrade, downgrade, current,
// pending, stamp, check, wait. (`upgrade --sql` / `downgrade --sql` render
// the plan offline and never connect.)
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "cli/context.h"
#include "cli/revision_text.h"
#include "core/duration.h"
#include "core/json_writer.h"
#include "core/offline_sql.h"

namespace schemagate::cli {
namespace {

struct Loaded {
  const Settings* settings;
  const MigrationSet* set;
};

Result<Loaded> Load(Context& ctx, bool split = true) {
  auto s = ctx.settings();
  if (!s.ok()) return s.status();
  auto set = ctx.migrations(split);
  if (!set.ok()) return set.status();
  return Loaded{*s, *set};
}

// Files, graph, connection and the database's state, for read-only commands.
struct LoadedState {
  Loaded loaded;
  Database* db;
  DatabaseState state;
};

// The files are read on another thread while this one connects and reads
// the state (neither needs them); a file's error still comes first.
Result<LoadedState> LoadState(Context& ctx, bool split = true) {
  ctx.PrefetchMigrations(split);
  auto db = ctx.database();
  Result<DatabaseState> state = db.ok() ? (*db)->ReadState() : Result<DatabaseState>(db.status());
  auto loaded = Load(ctx, split);
  if (!loaded.ok()) return loaded.status();
  if (!state.ok()) return state.status();
  return LoadedState{*loaded, *db, std::move(state.value())};
}

Status RenderOffline(Context& ctx, const Loaded& l, Direction direction, const std::string& range,
                     bool single_transaction) {
  auto plan = PlanOffline(l.set->graph(), direction, range);
  if (!plan.ok()) return plan.status();
  OfflineOptions o;
  o.version_table = l.settings->version_table;
  o.version_table_schema = l.settings->version_table_schema;
  o.environment = l.settings->environment;
  o.single_transaction = single_transaction;
  auto sql = RenderOfflineSql(*plan, *l.set, o);
  if (!sql.ok()) return sql.status();
  ctx.out().Print(*sql);
  return Status::Ok();
}

// upgrade/downgrade --output json: the outcome, with the report's target,
// pending count and, when the database is past this release, its heads.
void PrintRunJson(Context& ctx, const Report& report, const RunOutcome& outcome) {
  JsonWriter w;
  w.BeginObject().Field("from_heads", outcome.from_heads).Field("to_heads", outcome.to_heads);
  WriteRunFields(w, report);
  w.Key("applied").BeginArray();
  for (const AppliedStep& s : outcome.steps) {
    w.BeginObject()
        .Field("revision", s.revision)
        .Field("direction", DirectionName(s.direction))
        .Field("message", s.message)
        .Field("duration_ms", s.duration_ms)
        .Field("statements", s.statements)
        .EndObject();
  }
  w.EndArray().Field("adopted", outcome.adopted).EndObject();
  ctx.out().Print(w.str());
}

// The revisions `target` names for an upgrade of a database whose heads the
// files may not define. A relative target (+N, -N) counts from those heads,
// so it needs them known.
Result<Heads> WantedRevisions(const RevisionGraph& graph, const Heads& heads, const std::string& target) {
  if (TargetCountsFromDatabase(target)) SG_RETURN_IF_ERROR(CheckHeadsKnown(graph, heads));
  return ResolveTarget(graph, heads, target, Direction::kUpgrade);
}

// schemagate_log's record of each revision's parents, read only when some
// head of the database is one no file defines: the pod start at a known head
// never pays for it. Empty when every head is known or there is no log.
Result<LoggedParents> LogForUnknownHeads(Database& db, const RevisionGraph& graph, const DatabaseState& state) {
  if (!state.log_table_exists || CheckHeadsKnown(graph, state.heads).ok()) return LoggedParents{};
  return db.ReadLoggedParents();
}

// Releases behind the database (a rollback, an old pod of a rolling update):
// OK when a database with heads the files do not define is past `wanted`
// according to schemagate_log, with the release's applied files unchanged;
// else the refusal.
Status CheckPastTarget(const MigrationSet& set, const DatabaseState& state, const LoggedParents& log,
                       const Heads& wanted) {
  AheadCheck check = CheckAhead(set.graph(), state.heads, wanted, log);
  if (!check.at_or_past) return RefuseUnknownHeads(check);
  return set.CheckChecksums(check.known_heads, state.checksums);
}

}  // namespace

std::string AheadLine(const Heads& db_heads, const std::string& target, const Heads& wanted) {
  const bool several = wanted.size() > 1;
  std::string what;
  if (target == "head" || target == "heads") {
    what = std::string("this release's head") + (several ? "s " : " ") + JoinHeads(wanted);
  } else {
    what = "target " + target + (wanted == Heads{target} ? "" : " (" + JoinHeads(wanted) + ")");
  }
  return "Database ahead at " + JoinHeads(db_heads) + ", applied by a newer release; " + what +
         (several ? " are" : " is") + " applied";
}

Result<std::optional<AheadCheck>> CheckNewerRelease(Database& db, const RevisionGraph& graph,
                                                    const DatabaseState& state) {
  if (CheckHeadsKnown(graph, state.heads).ok()) return std::optional<AheadCheck>();
  auto log = LogForUnknownHeads(db, graph, state);
  if (!log.ok()) return log.status();
  AheadCheck check = CheckAhead(graph, state.heads, graph.Heads(), *log);
  if (!check.at_or_past) return RefuseUnknownHeads(check);
  return std::optional<AheadCheck>(std::move(check));
}

namespace {

// --forbid-downgrade, or SCHEMAGATE_FORBID_DOWNGRADE=true (how the operator
// says downgradePolicy: Forbid, which older runners ignore safely).
bool ForbidDowngrade(const po::variables_map& vm) {
  if (vm.count("forbid-downgrade")) return true;
  const char* env = std::getenv("SCHEMAGATE_FORBID_DOWNGRADE");
  return env != nullptr && (std::string(env) == "true" || std::string(env) == "1");
}

// upgrade and downgrade: plan early (validation errors before any lock),
// skip the lock entirely when there is nothing to do (every pod start), else
// run under the lock with a plan recomputed from the heads read there.
Status RunMigrations(Context& ctx, const po::variables_map& vm, Direction direction) {
  // `direction` may turn into a downgrade below (upgrade --allow-downgrade).
  const std::string target = vm.count("target") ? vm["target"].as<std::string>() : "head";
  const bool single = vm.count("single-transaction") > 0;
  if (vm.count("sql")) {
    auto full = Load(ctx);
    if (!full.ok()) return full.status();
    return RenderOffline(ctx, *full, direction, target, single);
  }
  if (target.find(':') != std::string::npos) {
    return Status::Usage("a range like '" + target + "' is for --sql (offline) only; online runs start from the database's current revision");
  }
  // Statements are split only when something will run: the no-op upgrade of
  // every pod start reads headers and checksums, nothing more.
  auto ls = LoadState(ctx, false);
  if (!ls.ok()) return ls.status();
  const Loaded& l = ls->loaded;
  Database* db = ls->db;
  DatabaseState* state = &ls->state;

  const RevisionGraph& graph = l.set->graph();
  auto plan_for = [&graph, &target, &direction](const Heads& current) {
    return direction == Direction::kUpgrade ? PlanUpgrade(graph, current, target)
                                            : PlanDowngrade(graph, current, target);
  };
  Report& report = ctx.report();
  auto resolve_target = [&](const Heads& current) {
    auto resolved = direction == Direction::kUpgrade ? WantedRevisions(graph, current, target)
                                                     : ResolveTarget(graph, current, target, direction);
    if (resolved.ok()) {
      report.have_target = true;
      report.target_heads = resolved.value();
    }
    return resolved;
  };
  // An upgrade may find the database past this release; the log is read
  // only then, never on the pod start at a known head.
  Heads wanted;
  auto past_target = [&](const DatabaseState& now, const LoggedParents& log) {
    auto resolved = resolve_target(now.heads);
    if (!resolved.ok()) return resolved.status();
    wanted = resolved.value();
    return CheckPastTarget(*l.set, now, log, wanted);
  };
  auto finish_ahead = [&](const Heads& heads) {
    report.have_heads = true;
    report.from_heads = report.to_heads = heads;
    report.pending = 0;
    report.ahead = true;
    report.release_heads = graph.Heads();
    ctx.out().Info(AheadLine(heads, target, wanted) + ": nothing to upgrade",
                   {{"event", "ahead"}, {"heads", JoinHeads(heads)}, {"release_heads", JoinHeads(graph.Heads())}});
    if (ctx.out().json()) PrintRunJson(ctx, report, RunOutcome{heads, heads, {}, false, true});
    return Status::Ok();
  };

  Status known = CheckHeadsKnown(graph, state->heads);
  if (!known.ok()) {
    if (direction != Direction::kUpgrade) return known;
    auto log = LogForUnknownHeads(*db, graph, *state);
    if (!log.ok()) return log.status();
    SG_RETURN_IF_ERROR(past_target(*state, *log));
    return finish_ahead(state->heads);
  }
  (void)resolve_target(state->heads);  // for the report; planning says why when it fails
  SG_RETURN_IF_ERROR(l.set->CheckChecksums(state->heads, state->checksums));
  auto plan = plan_for(state->heads);
  if (!plan.ok()) return plan.status();
  // An upgrade to a target below the database (or to base) does nothing and
  // succeeds, as in Alembic. The operator says what its downgradePolicy
  // wants instead: --allow-downgrade turns the run into a downgrade,
  // --forbid-downgrade refuses it (the Migration stalls).
  std::string past_line;
  if (direction == Direction::kUpgrade && plan->steps.empty()) {
    auto down = PlanDowngrade(graph, state->heads, target);
    if (down.ok() && !down->steps.empty()) {
      if (vm.count("allow-downgrade")) {
        direction = Direction::kDowngrade;
        plan = std::move(down);
      } else if (ForbidDowngrade(vm)) {
        return Status::Validation("target " + target + " is below the current revision " +
                                  JoinHeads(state->heads) + ": reaching it would mean reverting " +
                                  std::to_string(down->steps.size()) +
                                  " migration(s), and downgrades are forbidden (set downgradePolicy: Allow on "
                                  "the Migration, or run 'schemagate downgrade " + target + "')");
      } else {
        past_line = "Database at " + JoinHeads(state->heads) + " is already past target " + target +
                    (report.have_target && !report.target_heads.empty() && report.target_heads != Heads{target}
                         ? " (" + JoinHeads(report.target_heads) + ")"
                         : "") +
                    ": nothing to upgrade ('schemagate downgrade " + target + "' would revert " +
                    std::to_string(down->steps.size()) + " migration(s))";
      }
    }
  }

  report.have_heads = true;
  report.from_heads = state->heads;
  report.to_heads = state->heads;
  report.pending = static_cast<int64_t>(plan->steps.size());

  RunOutcome outcome;
  outcome.from_heads = state->heads;
  outcome.to_heads = state->heads;
  const bool ready = state->version_table_exists && state->log_table_exists;
  if (!plan->steps.empty() || !ready) {
    // Every file must split and pass its checks before anything runs.
    auto full = ctx.migrations(true);
    if (!full.ok()) return full.status();
    RunOptions run;
    run.environment = l.settings->environment;
    run.single_transaction = single;
    run.direction = direction;
    Output& out = ctx.out();
    run.on_step_done = [&out, &report, &graph](const AppliedStep& done, const Step& step) {
      // Alembic's line (the revision's parents, not the heads before it),
      // and how long it took.
      out.Info("Running " + StepText(*graph.Find(done.revision), done.direction) +
                   (done.message.empty() ? "" : ", " + done.message) + " (" +
                   std::to_string(done.duration_ms) + " ms)",
               {{"event", "revision_applied"},
                {"direction", DirectionName(done.direction)},
                {"revision", done.revision},
                {"duration_ms", std::to_string(done.duration_ms)},
                {"statements", std::to_string(done.statements)}});
      report.applied.push_back(done.revision);
      report.to_heads = step.heads_after;
      if (report.pending && *report.pending > 0) --*report.pending;
    };
    // The plan made under the lock is the one that runs.
    run.on_plan = [&](const Plan& locked) {
      report.pending = static_cast<int64_t>(locked.steps.size());
      (void)resolve_target(locked.from_heads);
    };
    if (direction == Direction::kUpgrade) run.past_target = past_target;
    run.on_lock_wait = [&out](const std::string& holder, std::chrono::milliseconds waited) {
      out.Info("Waiting for the migration lock (" + FormatDuration(waited) + " so far), held by " + holder,
               {{"event", "lock_wait"}, {"holder", holder}});
    };
    auto result = db->Run(*l.set, plan_for, run);
    if (!result.ok()) return result.status();
    outcome = std::move(result.value());
    if (outcome.ahead) return finish_ahead(outcome.from_heads);  // a newer release ran meanwhile
    if (outcome.adopted) {
      ctx.out().Info("Adopted the Alembic-managed database at " + JoinHeads(outcome.from_heads) +
                         ": created " + l.settings->log_table + " and recorded its history",
                     {{"event", "adopted"}});
    }
    report.from_heads = outcome.from_heads;
    report.to_heads = outcome.to_heads;
  }
  report.pending = 0;
  if (outcome.steps.empty() && !past_line.empty() && outcome.to_heads == state->heads) {
    ctx.out().Info(past_line, {{"event", "past_target"}, {"heads", JoinHeads(outcome.to_heads)}});
  } else if (outcome.steps.empty()) {
    ctx.out().Info("Already at " + JoinHeads(outcome.to_heads) + "; nothing to " +
                       DirectionName(direction),
                   {{"event", "up_to_date"}, {"heads", JoinHeads(outcome.to_heads)}});
  }
  if (ctx.out().json()) PrintRunJson(ctx, report, outcome);
  return Status::Ok();
}

Status RunUpgrade(Context& ctx, const po::variables_map& vm) {
  return RunMigrations(ctx, vm, Direction::kUpgrade);
}

Status RunDowngrade(Context& ctx, const po::variables_map& vm) {
  return RunMigrations(ctx, vm, Direction::kDowngrade);
}

Status RunCurrent(Context& ctx, const po::variables_map& vm) {
  auto ls = LoadState(ctx);
  if (!ls.ok()) return ls.status();
  const Loaded* loaded = &ls->loaded;
  const DatabaseState* state = &ls->state;
  const RevisionGraph& g = loaded->set->graph();
  const Heads& heads = state->heads;
  auto script_heads = g.Heads();
  ctx.report().have_heads = true;
  ctx.report().from_heads = heads;
  ctx.report().to_heads = heads;
  // Heads no file defines: a newer release's (a rollback), or a wrong directory.
  auto newer = CheckNewerRelease(*ls->db, g, *state);
  const bool ahead = newer.ok() && newer->has_value();
  if (ctx.out().json()) {
    JsonWriter w;
    w.BeginObject()
        .Field("current", heads)
        .Field("heads", script_heads)
        .Field("at_head", ahead || IsAtHeads(g, heads))
        .Field("ahead", ahead)
        .Field("version_table_exists", state->version_table_exists)
        .EndObject();
    ctx.out().Print(w.str());
  } else {
    if (vm.count("verbose")) ctx.out().Info("Current revision(s) for " + ls->db->target() + ":");
    // "a1b2 (head)", "(effective head)", "(mergepoint)"..., as Alembic.
    // Alembic lists the heads of everything applied, read through
    // depends_on too: a revision kept only because another depends on it
    // shows beside the rows, as "(effective head)" when it is one.
    const RevisionText shown(*loaded->set);
    std::string text;
    Heads known;
    for (const std::string& h : heads) {
      if (loaded->set->Find(h) == nullptr) {
        text += h + (ahead ? " (applied by a newer release: no migration file here defines it)\n"
                           : " (unknown: no migration file defines it)\n");
      } else {
        known.push_back(h);
      }
    }
    const RevisionSet applied = g.Ancestors(known, true);
    for (const std::string& id : g.TopologicalOrder()) {
      if (!applied.count(id)) continue;
      const auto children = g.Children(id);
      if (std::any_of(children.begin(), children.end(), [&](const std::string& c) { return applied.count(c) > 0; })) {
        continue;
      }
      text += vm.count("verbose") ? shown.Entry(id, false) + "\n" : shown.Line(id, RevisionText::Shown{}) + "\n";
    }
    if (!text.empty()) ctx.out().Print(text);
    if (heads.empty()) ctx.out().Info("No revision applied (the database is at base)");
  }
  if (ahead) {
    ctx.out().Info(AheadLine(heads, "head", script_heads), {{"event", "ahead"}});
  } else if (!newer.ok()) {
    ctx.out().Warn(newer.status().message());
  }
  return Status::Ok();
}

Status RunPending(Context& ctx, const po::variables_map&) {
  auto ls = LoadState(ctx);
  if (!ls.ok()) return ls.status();
  const Loaded* loaded = &ls->loaded;
  const DatabaseState* state = &ls->state;
  const RevisionGraph& g = loaded->set->graph();
  auto newer = CheckNewerRelease(*ls->db, g, *state);
  if (!newer.ok()) return newer.status();
  const bool ahead = newer->has_value();
  // Past this release's heads, nothing of it is pending.
  auto plan = ahead ? Result<Plan>(Plan{}) : PlanUpgrade(g, state->heads, "heads");
  if (!plan.ok()) return plan.status();
  if (ctx.out().json()) {
    JsonWriter w;
    w.BeginObject().Field("current", state->heads).Field("ahead", ahead).Key("pending").BeginArray();
    for (const Step& s : plan->steps) {
      const Revision& r = loaded->set->Find(s.revision)->revision;
      w.BeginObject().Field("revision", r.id).Field("down_revisions", r.down_revisions)
          .Field("message", r.message).Field("path", r.path).EndObject();
    }
    w.EndArray().EndObject();
    ctx.out().Print(w.str());
    return Status::Ok();
  }
  std::string text;
  for (const Step& s : plan->steps) {
    const Revision& r = loaded->set->Find(s.revision)->revision;
    text += (r.down_revisions.empty() ? std::string("<base>") : JoinHeads(r.down_revisions)) + " -> " +
            r.id + ", " + r.message + "\n";
  }
  if (!text.empty()) ctx.out().Print(text);
  if (ahead) {
    ctx.out().Info("No pending migrations (" + AheadLine(state->heads, "head", g.Heads()) + ")",
                   {{"event", "ahead"}});
  } else {
    ctx.out().Info(plan->steps.empty() ? "No pending migrations: the database is at " + JoinHeads(state->heads)
                                       : std::to_string(plan->steps.size()) + " pending migration(s)");
  }
  return Status::Ok();
}

Status RunStamp(Context& ctx, const po::variables_map& vm) {
  auto loaded = Load(ctx);
  if (!loaded.ok()) return loaded.status();
  const RevisionGraph& g = loaded->set->graph();
  auto targets = vm["revisions"].as<std::vector<std::string>>();
  const bool purge = vm.count("purge") > 0;
  // Resolve early so a typo fails before the lock.
  auto check = PlanStamp(g, {}, targets, true);
  if (!check.ok()) return check.status();
  auto db = ctx.database();
  if (!db.ok()) return db.status();
  auto outcome = (*db)->Stamp(*loaded->set,
                              [&](const Heads& current) { return PlanStamp(g, current, targets, purge); },
                              purge);
  if (!outcome.ok()) return outcome.status();
  ctx.report().have_heads = true;
  ctx.report().from_heads = outcome->from_heads;
  ctx.report().to_heads = outcome->to_heads;
  ctx.out().Info("Stamped " + JoinHeads(outcome->from_heads) + " -> " + JoinHeads(outcome->to_heads) +
                     " (no migration ran)",
                 {{"event", "stamped"}});
  if (ctx.out().json()) {
    JsonWriter w;
    w.BeginObject().Field("from_heads", outcome->from_heads).Field("to_heads", outcome->to_heads).EndObject();
    ctx.out().Print(w.str());
  }
  return Status::Ok();
}

Status RunCheck(Context& ctx, const po::variables_map& vm) {
  if (vm.count("schema")) {
    if (vm.count("head")) return Status::Usage("check: --schema and --head are separate checks; run them one at a time");
    return CheckSchema(ctx);
  }
  auto s = ctx.settings();
  if (!s.ok()) return s.status();
  const Settings& st = **s;
  Output& out = ctx.out();
  out.Info("Configuration: " + (st.config_path.empty() ? std::string("defaults (no schemagate.yaml)") : st.config_path) +
           ", environment " + st.environment + ", database from " + st.url_source);
  auto set = ctx.migrations();
  if (!set.ok()) return set.status();
  const RevisionGraph& g = (*set)->graph();
  out.Info("Migrations: " + std::to_string(g.size()) + " revision(s) in " + st.script_location +
           "/versions, head(s): " + JoinHeads(g.Heads(), "none"));
  // The full check reads every statement; `check --head`, a gate, stays as cheap as the no-op upgrade.
  if (!vm.count("head")) SG_RETURN_IF_ERROR(CheckMigrationsSyntax(out, **set));
  auto db = ctx.database();
  if (!db.ok()) return db.status();
  auto state = (*db)->ReadState();
  if (!state.ok()) return state.status();
  out.Info("Database: connected to " + (*db)->target() + ", current: " + JoinHeads(state->heads));
  auto transport = (*db)->ReadTransport();
  if (!transport.ok()) return transport.status();
  out.Info("Connection: " + transport->description +
           (transport->local_socket || transport->verified
                ? ""
                : "; in production use sslmode=verify-full with sslrootcert= naming the server's CA"));
  auto newer = CheckNewerRelease(**db, g, *state);
  if (!newer.ok()) return newer.status();
  const bool ahead = newer->has_value();
  // Ahead: this release's own applied files must still match (as `upgrade` checks).
  SG_RETURN_IF_ERROR((*set)->CheckChecksums(ahead ? (*newer)->known_heads : state->heads, state->checksums));
  auto plan = ahead ? Result<Plan>(Plan{}) : PlanUpgrade(g, state->heads, "heads");
  if (!plan.ok()) return plan.status();
  const bool at_head = plan->steps.empty();
  if (out.json()) {
    JsonWriter w;
    w.BeginObject()
        .Field("config", st.config_path)
        .Field("environment", st.environment)
        .Field("revisions", static_cast<int64_t>(g.size()))
        .Field("heads", g.Heads())
        .Field("current", state->heads)
        .Field("pending", static_cast<int64_t>(plan->steps.size()))
        .Field("connection", transport->description)
        .Field("connection_verified", transport->verified)
        .Field("at_head", at_head)
        .Field("ahead", ahead)
        .EndObject();
    out.Print(w.str());
  } else if (ahead) {
    out.Print("OK: " + AheadLine(state->heads, "head", g.Heads()));
  } else {
    out.Print(at_head ? "OK: at head (" + JoinHeads(state->heads) + ")"
                      : "OK: " + std::to_string(plan->steps.size()) + " pending migration(s) from " +
                            JoinHeads(state->heads) + " to " + JoinHeads(g.Heads()));
  }
  if (vm.count("head") && !at_head) {
    std::vector<std::string> pending;
    for (const Step& step : plan->steps) pending.push_back(step.revision);
    return Status::NotAtTarget("the database is at " + JoinHeads(state->heads) + ", not at head " +
                               JoinHeads(g.Heads()) + "; pending: " + JoinHeads(pending) +
                               ". Run 'schemagate upgrade head'");
  }
  return Status::Ok();
}

// The app-pod gate: polls the version table (read-only) until the database
// reaches the target or is past it (schemagate_log, read only when a head is
// unknown, shows a newer release's revisions descending from it), or the
// timeout passes.
Status RunWait(Context& ctx, const po::variables_map& vm) {
  auto timeout = ParseDuration(vm["timeout"].as<std::string>());
  if (!timeout.ok()) return timeout.status().Prefixed("--timeout");
  auto interval = ParseDuration(vm["interval"].as<std::string>());
  if (!interval.ok()) return interval.status().Prefixed("--interval");
  if (vm.count("migration")) return ctx.kube().wait_for_migration(ctx, vm, *timeout, *interval);
  auto loaded = Load(ctx, false);
  if (!loaded.ok()) return loaded.status();
  const RevisionGraph& g = loaded->set->graph();
  const std::string target = vm["target"].as<std::string>();
  auto wanted = ResolveTarget(g, {}, target, Direction::kUpgrade);
  if (!wanted.ok()) return wanted.status();

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + *timeout;
  std::string last = "not connected yet";
  auto next_report = Clock::now();
  while (true) {
    auto db = ctx.database();
    if (db.ok()) {
      auto state = (*db)->ReadState();
      // Heads no file defines: the log says whether a newer release moved
      // the database past the target (then this gate is open) or not.
      Result<LoggedParents> log = state.ok() ? LogForUnknownHeads(**db, g, *state) : LoggedParents{};
      if (!state.ok()) {
        last = state.status().message();
      } else if (!log.ok()) {
        last = log.status().message();
      } else {
        const AheadCheck check = CheckAhead(g, state->heads, *wanted, *log);
        if (check.ahead()) {
          ctx.out().Info(AheadLine(state->heads, target, *wanted) + ": target " + target + " reached",
                         {{"event", "ahead"}, {"heads", JoinHeads(state->heads)}});
          return Status::Ok();
        }
        if (check.at_or_past) {
          ctx.out().Info("Database is at " + JoinHeads(state->heads) + " (target " + target + " reached)");
          return Status::Ok();
        }
        last = "at " + JoinHeads(state->heads) +
               (check.unknown.empty() ? ", waiting for "
                                      : ", which no migration file here defines, and " + WhyNotAhead(check) +
                                            "; waiting for ") +
               JoinHeads(*wanted);
      }
    } else {
      last = db.status().message();
      if (db.status().code() != Code::kRuntime) return db.status();
    }
    auto now = Clock::now();
    if (now >= deadline) {
      return Status::NotAtTarget("timed out after " + FormatDuration(*timeout) + " waiting for " + target +
                                 ": " + last);
    }
    if (now >= next_report) {
      ctx.out().Info("Waiting: " + last, {{"event", "waiting"}});
      next_report = now + std::chrono::seconds(10);
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(*interval, deadline - now));
  }
}

void DefineRun(po::options_description& d, po::positional_options_description& p, bool upgrade) {
  d.add_options()("target", upgrade ? po::value<std::string>()->default_value("head")
                                    : po::value<std::string>()->required(),
                  upgrade ? "target revision (head, heads, REV, +N, REV+N, LABEL@head, LABEL@+N, ...)"
                          : "target revision (base, REV, -N, REV-N, LABEL@base, LABEL@-N, ...)")
      ("sql", "print the SQL instead of running it (offline; TARGET may be FROM:TO)")
      ("single-transaction", "run every migration in one transaction");
  if (upgrade) {
    d.add_options()("allow-downgrade", "if TARGET is below the current revision, downgrade to it")
        ("forbid-downgrade", "if TARGET is below the current revision, fail (exit 4) instead of doing nothing "
                             "(also SCHEMAGATE_FORBID_DOWNGRADE=true)");
  }
  p.add("target", 1);
}

}  // namespace

std::vector<Command> DatabaseCommands() {
  std::vector<Command> c;
  c.push_back({"upgrade", "upgrade [TARGET] [--sql] [--single-transaction]",
               "apply migrations up to TARGET (default head)",
               [](po::options_description& d, po::positional_options_description& p) { DefineRun(d, p, true); },
               RunUpgrade});
  c.push_back({"downgrade", "downgrade TARGET [--sql] [--single-transaction]",
               "revert migrations down to TARGET",
               [](po::options_description& d, po::positional_options_description& p) { DefineRun(d, p, false); },
               RunDowngrade});
  c.push_back({"current", "current [-v]", "show the database's current revision(s)",
               [](po::options_description& d, po::positional_options_description&) {
                 d.add_options()("verbose,v", "full details");
               },
               RunCurrent});
  c.push_back({"pending", "pending", "list the migrations not yet applied",
               [](po::options_description&, po::positional_options_description&) {}, RunPending});
  c.push_back({"stamp", "stamp REV... [--purge]", "set the current revision(s) without running migrations",
               [](po::options_description& d, po::positional_options_description& p) {
                 d.add_options()("revisions", po::value<std::vector<std::string>>()->required(), "revisions")
                     ("purge", "replace whatever the version table holds, even unknown revisions");
                 p.add("revisions", -1);
               },
               RunStamp});
  c.push_back({"check", "check [--head] | check --schema [--dev-url URL]",
               "check configuration, migrations and the database connection; --schema: the migrations at "
               "head against the declared schema",
               [](po::options_description& d, po::positional_options_description&) {
                 d.add_options()("head", "exit 5 unless the database is at head")
                     ("schema", "compare the migrations at head with the declared schema on scratch databases "
                                "(exit 4 on any difference); never connects to the target database")
                     ("schema-location", po::value<std::string>(), "declared schema directory (default: schema_location, 'schema')")
                     ("dev-url", po::value<std::string>(), "server for scratch databases (default: a private one)");
               },
               RunCheck});
  c.push_back({"wait", "wait [--target heads] [--timeout 5m] | wait --migration NAME [-n NS]",
               "wait (read-only) until the database reaches the target; for app-pod init containers",
               [](po::options_description& d, po::positional_options_description&) {
                 d.add_options()("target", po::value<std::string>()->default_value("heads"), "revision to wait for")
                     ("timeout", po::value<std::string>()->default_value("5m"), "give up after this long (exit 5)")
                     ("interval", po::value<std::string>()->default_value("2s"), "poll interval")
                     ("migration", po::value<std::string>(), "wait for this Migration's status instead (needs get on migrations)")
                     ("namespace,n", po::value<std::string>(), "namespace of --migration")
                     ("kubeconfig", po::value<std::string>(), "kubeconfig for --migration (default: in-cluster)");
               },
               RunWait, [](const po::variables_map& vm) { return vm.count("migration") > 0; }});
  return c;
}

}  // namespace schemagate::cli
