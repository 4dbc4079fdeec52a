#include "operator/reconciler.h"

#include <cctype>
#include <ctime>

#include "core/encoding.h"
#include "operator/source.h"

namespace schemagate::op {

using kube::GetField;
using kube::GetInt;
using kube::GetString;

namespace {

const char* kMigrations = "migrations";

std::string MigrationPath(const std::string& ns, const std::string& name) {
  return kube::ResourcePath("schemagate.io", "v1alpha1", kMigrations, ns, name);
}

std::string JoinArray(const Json* arr) {
  std::string out;
  if (arr == nullptr || !arr->is_array()) return out;
  for (const Json& v : arr->as_array()) {
    if (v.is_string()) out += (out.empty() ? "" : ",") + v.as_string();
  }
  return out;
}

std::string Rfc3339After(std::chrono::milliseconds d) {
  return FormatUtc(std::time(nullptr) + static_cast<std::time_t>((d.count() + 999) / 1000));
}

// Seconds from now until an RFC 3339 UTC time (negative when past).
int64_t SecondsUntil(const std::string& when) {
  std::tm tm{};
  if (strptime(when.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) return 0;
  return static_cast<int64_t>(timegm(&tm) - std::time(nullptr));
}

}  // namespace

Reconciler::Reconciler(kube::Client& client, Informer& migrations, Informer& jobs, Informer& config_maps,
                       WaitingLine& waiting, ReconcilerOptions options, RunObserver observer)
    : client_(client), migrations_(migrations), jobs_(jobs), config_maps_(config_maps), waiting_(waiting),
      options_(std::move(options)), observer_(std::move(observer)) {}

bool Reconciler::OtherRunGoing(const std::string& ns, const std::string& name, const std::string& job_name) {
  return jobs_.Count([&](const Json& j) {
           return JobOutcome(j).empty() && GetString(j, {"metadata", "namespace"}) == ns &&
                  GetString(j, {"metadata", "labels", "schemagate.io/migration"}) == name &&
                  GetString(j, {"metadata", "name"}) != job_name;
         }) > 0;
}

std::optional<std::string> Reconciler::ConfigMapHash(const std::string& ns, const std::string& name,
                                                     std::string* error) {
  if (auto cached = config_maps_.Get(ns, name)) return GetString(*cached, {kContentHashField});
  kube::ApiResponse r = client_.Get(kube::ResourcePath("", "v1", "configmaps", ns, name));
  if (r.ok()) return ConfigMapContentHash(r.body);
  if (r.status != 404) *error = "could not read ConfigMap " + ns + "/" + name + ": " + r.Describe();
  return std::nullopt;
}

double Reconciler::RunSeconds(const std::string& key, const std::string& job_name, const Json& job) {
  {
    std::lock_guard<std::mutex> l(started_mu_);
    auto it = started_.find(key);
    if (it != started_.end() && it->second.job_name == job_name) {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.at).count();
    }
  }
  const std::string created = GetString(job, {"metadata", "creationTimestamp"});
  return created.empty() ? 0 : static_cast<double>(-SecondsUntil(created));
}

int Reconciler::ActiveRuns() {
  int n = jobs_.Count([](const Json& j) { return JobOutcome(j).empty(); });
  // Jobs created moments ago that the Job watch has not delivered yet.
  std::lock_guard<std::mutex> l(started_mu_);
  for (const auto& [key, run] : started_) {
    const std::string ns = key.substr(0, key.find('/'));
    if (NotYetDelivered(ns, run) && !jobs_.Get(ns, run.job_name)) ++n;
  }
  return n;
}

bool Reconciler::NotYetDelivered(const std::string& ns, const Started& run) const {
  if (std::chrono::steady_clock::now() - run.at >= kJobCacheLag) return false;
  // Seen deleted after we created it: gone (deleted by hand), not late.
  auto deleted = jobs_.DeletedAt(ns, run.job_name);
  return !deleted || *deleted < run.at;
}

void Reconciler::Event(const Json& m, const std::string& type, const std::string& reason, const std::string& message,
                       const std::string& job_name) {
  const std::string ns = GetString(m, {"metadata", "namespace"});
  const std::string now = NowRfc3339();
  Json e = Json::object();
  if (job_name.empty()) {
    e["metadata"]["generateName"] = Json::string(GetString(m, {"metadata", "name"}) + ".");
  } else {
    // One name per run and reason: telling it again (a pass repeated after a
    // lost status write, or an operator restarted mid-run) is a 409, not a
    // second Event.
    std::string lower = reason;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    e["metadata"]["name"] = Json::string(job_name + "." + lower);
  }
  e["metadata"]["namespace"] = Json::string(ns);
  e["involvedObject"]["apiVersion"] = Json::string("schemagate.io/v1alpha1");
  e["involvedObject"]["kind"] = Json::string("Migration");
  e["involvedObject"]["name"] = Json::string(GetString(m, {"metadata", "name"}));
  e["involvedObject"]["namespace"] = Json::string(ns);
  e["involvedObject"]["uid"] = Json::string(GetString(m, {"metadata", "uid"}));
  e["reason"] = Json::string(reason);
  e["message"] = Json::string(TruncateUtf8(message, kMessageLimit));
  e["type"] = Json::string(type);
  e["firstTimestamp"] = Json::string(now);
  e["lastTimestamp"] = Json::string(now);
  e["count"] = Json::number(1);
  e["source"]["component"] = Json::string("schemagate-operator");
  // Best effort: the log line below is the second channel.
  const kube::ApiResponse r = client_.Create(kube::ResourcePath("", "v1", "events", ns), e);
  if (r.status == 409) return;  // told already
  if (options_.log) {
    options_.log(type == "Warning" ? "warning" : "info",
                 "migration=" + ns + "/" + GetString(m, {"metadata", "name"}) + " reason=" + reason + " " + message);
  }
}

ReconcileResult Reconciler::Reconcile(const std::string& key) {
  const size_t slash = key.find('/');
  const std::string ns = key.substr(0, slash), name = key.substr(slash + 1);
  auto m = migrations_.Get(ns, name);
  if (!m) {
    waiting_.Leave(key);
    {
      std::lock_guard<std::mutex> l(started_mu_);
      started_.erase(key);
    }
    std::lock_guard<std::mutex> l(written_mu_);
    written_.erase(key);
    return {false, {}, "success"};  // deleted: its Jobs go with it (ownerReferences)
  }
  {
    std::lock_guard<std::mutex> l(written_mu_);
    auto w = written_.find(key);
    if (w != written_.end()) {
      if (w->second.replaced_rv == GetString(*m, {"metadata", "resourceVersion"})) m = w->second.object;
      else written_.erase(w);  // the cache caught up (or someone else wrote)
    }
  }
  if (GetField(*m, {"metadata", "deletionTimestamp"}) != nullptr) {
    waiting_.Leave(key);  // being deleted: a run slot is not for it
    return {false, {}, "success"};
  }
  Json status = GetField(*m, {"status"}) ? *GetField(*m, {"status"}) : Json::object();
  if (!status.is_object()) status = Json::object();
  const std::string before = status.serialize();
  bool changed = false;
  ReconcileResult result = Step(*m, status, &changed);
  if (result.waiting_for_slot) waiting_.Join(key);
  else waiting_.Leave(key);
  if (status.serialize() == before) return result;

  Json body = *m;
  body["status"] = status;
  kube::ApiResponse r = client_.Replace(MigrationPath(ns, name) + "/status", body);
  if (r.status == 409) {
    // Someone wrote in between: the watch brings the newer object into the
    // cache; redo the pass from it shortly.
    return {true, std::chrono::milliseconds(200), "conflict"};
  }
  if (!r.ok()) return {true, std::chrono::seconds(2), "error"};
  {
    std::lock_guard<std::mutex> l(written_mu_);
    written_[key] = {GetString(*m, {"metadata", "resourceVersion"}), r.body};
  }
  return result;
}

ReconcileResult Reconciler::Step(const Json& m, Json& status, bool* changed) {
  const std::string ns = GetString(m, {"metadata", "namespace"});
  const std::string name = GetString(m, {"metadata", "name"});
  const int64_t gen = GetInt(m, {"metadata", "generation"}, 1);
  const std::string now = NowRfc3339();
  auto set = [&](const char* type, const char* value, const char* why, const std::string& msg) {
    *changed |= SetCondition(status, type, value, why, TruncateUtf8(msg, kMessageLimit), gen, now);
  };

  const std::string key = ns + "/" + name;
  // Whether the status already tells readers (kstatus, Flux, Argo CD) that
  // this generation is in progress, e.g. while it waited for a run slot.
  const bool progress_shown = GetInt(status, {"observedGeneration"}, 0) == gen &&
                              ConditionStatus(status, "Reconciling") == "True";
  auto spec = ParseMigrationSpec(m, options_.default_image);
  if (!spec.ok()) {
    status["observedGeneration"] = Json::number(gen);
    set("Stalled", "True", reason::kInvalidSpec, spec.status().message());
    set("Ready", "False", reason::kInvalidSpec, spec.status().message());
    set("Reconciling", "False", reason::kInvalidSpec, "waiting for the spec to be fixed");
    return {false, {}, "success"};
  }
  // ConfigMap sources: their content is part of what a run is for.
  std::string lookup_error;
  const SourceState source = ResolveSource(spec->config_maps, [&](const std::string& cm) {
    return ConfigMapHash(ns, cm, &lookup_error);
  });
  if (!lookup_error.empty()) {
    if (options_.log) options_.log("warning", "migration=" + ns + "/" + name + " " + lookup_error);
    return {true, std::chrono::seconds(2), "error"};
  }
  if (!source.missing.empty()) {
    // Waiting on something outside: the ConfigMap watch wakes this
    // Migration when it appears. No Job: it could only fail.
    const std::string msg = "ConfigMap " + ns + "/" + source.missing + " (spec.source.configMapRefs[" +
                            std::to_string(source.missing_index) +
                            "]) does not exist: create it or correct the name; the run starts when it exists";
    status["observedGeneration"] = Json::number(gen);
    kube::EraseField(status, "nextRetryTime");
    set("Ready", "False", reason::kSourceNotFound, msg);
    set("Reconciling", "False", reason::kSourceNotFound, "waiting for ConfigMap " + source.missing);
    set("Stalled", "True", reason::kSourceNotFound, msg);
    return {false, {}, "success"};
  }
  // A new generation, new ConfigMap content, or a source found again starts
  // over: no failures, no schedule, not stalled, target not yet resolved.
  const bool new_generation = GetInt(status, {"observedGeneration"}, 0) != gen;
  const bool new_source = GetString(status, {"observedSourceHash"}) != source.hash ||
                          ConditionReason(status, "Stalled") == reason::kSourceNotFound;
  if (new_generation || new_source) {
    status["observedGeneration"] = Json::number(gen);
    status["failures"] = Json::number(0);
    kube::EraseField(status, "nextRetryTime");
    kube::EraseField(status, "targetRevision");
    if (source.hash.empty()) kube::EraseField(status, "observedSourceHash");
    else status["observedSourceHash"] = Json::string(source.hash);
    set("Stalled", "False", reason::kRunStarted, new_generation ? "new generation" : "new ConfigMap content");
    if (!new_generation) {
      // Same generation, so Ready's observedGeneration alone would still
      // claim this content is applied.
      set("Ready", "False", reason::kRunStarted, "the ConfigMap content changed: a run will apply it");
    }
  }
  const Json* ready = nullptr;
  if (const Json* conds = GetField(status, {"conditions"}); conds && conds->is_array()) {
    for (const Json& c : conds->as_array()) {
      if (GetString(c, {"type"}) == "Ready") ready = &c;
    }
  }
  const bool done_for_gen = ready && GetString(*ready, {"status"}) == "True" &&
                            GetInt(*ready, {"observedGeneration"}) == gen && !status.has_field("activeRun");
  if (ConditionStatus(status, "Stalled") == "True") return {false, {}, "success"};

  const int attempt = static_cast<int>(GetInt(status, {"failures"}, 0));
  const std::string job_name = JobNameFor(m, attempt, source.hash);
  auto job = jobs_.Get(ns, job_name);
  // The status of a run in progress: its Job and start, Reconciling, not Ready.
  auto show_run = [&](const std::string& start_time, const char* why, const std::string& msg) {
    Json run = Json::object();
    run["jobName"] = Json::string(job_name);
    run["startTime"] = Json::string(start_time);
    status["activeRun"] = run;
    set("Reconciling", "True", why, msg);
    set("Ready", "False", why, "migration run in progress");
  };

  if (!job) {
    {
      // Created by this process a moment ago: the Job watch has not
      // delivered it yet. Neither "vanished" nor a reason to create again.
      std::lock_guard<std::mutex> l(started_mu_);
      auto it = started_.find(key);
      if (it != started_.end() && it->second.job_name == job_name && NotYetDelivered(ns, it->second)) {
        return {true, std::chrono::milliseconds(500), "success"};
      }
    }
    if (done_for_gen) return {false, {}, "success"};
    if (spec->suspend) {
      set("Ready", "False", reason::kSuspended, "spec.suspend is true: no new runs");
      set("Reconciling", "False", reason::kSuspended, "suspended");
      return {false, {}, "success"};
    }
    if (status.has_field("activeRun") &&
        GetString(status, {"activeRun", "jobName"}) == job_name) {
      // Our Job vanished before we saw it finish (deleted by hand): run again.
      kube::EraseField(status, "activeRun");
    }
    const std::string next = GetString(status, {"nextRetryTime"});
    if (!next.empty()) {
      int64_t wait = SecondsUntil(next);
      if (wait > 0) return {true, std::chrono::seconds(wait), "success"};
      kube::EraseField(status, "nextRetryTime");  // due: no longer scheduled
    }
    // One run per Migration: a run for an older generation or ConfigMap
    // content finishes first (its Job's end wakes this Migration).
    if (OtherRunGoing(ns, name, job_name)) {
      set("Reconciling", "True", reason::kRunning, "waiting for the previous run to finish before starting " + job_name);
      return {true, std::chrono::seconds(30), "success"};
    }
    std::lock_guard<std::mutex> l(create_mu_);
    // Slots go to the longest waiters first: one that came later waits
    // while they are still on their way to the slot they were woken for.
    const int free_slots = options_.max_concurrent_runs - ActiveRuns();
    if (free_slots <= 0 || !waiting_.MayStart(key, static_cast<size_t>(free_slots))) {
      // Constant text: a waiter's status is written once, not per pass.
      set("Reconciling", "True", reason::kWaitingForSlot,
          "waiting for one of the " + std::to_string(options_.max_concurrent_runs) +
              " run slots (--max-concurrent-runs); they go to the Migrations waiting longest first");
      // Woken from the WaitingLine when a run ends; the poll is the fallback.
      return {true, kSlotPoll, "success", true};
    }
    Json body = BuildRunnerJob(m, *spec, job_name);
    kube::ApiResponse r = client_.Create(kube::ResourcePath("batch", "v1", "jobs", ns), body);
    if (!r.ok() && r.status != 409) {
      set("Reconciling", "True", reason::kRunStarted, "could not create Job " + job_name + ": " + r.Describe());
      return {true, std::chrono::seconds(5), "error"};
    }
    {
      std::lock_guard<std::mutex> l(started_mu_);
      started_[key] = {job_name, std::chrono::steady_clock::now(), false};
    }
    // A run superseded by this one (older generation or ConfigMap content)
    // is no longer the active one.
    if (status.has_field("activeRun") && GetString(status, {"activeRun", "jobName"}) != job_name) {
      kube::EraseField(status, "activeRun");
    }
    // A status that already shows this generation in progress is left as
    // is: most runs end before anyone reads it, and the end writes it anyway.
    if (!progress_shown) {
      show_run(now, reason::kRunStarted, "running schemagate upgrade " + spec->target + " in Job " + job_name);
    }
    if (options_.log) {
      options_.log("info", "migration=" + key + " started Job " + job_name + " to upgrade to " + spec->target);
    }
    return {true, options_.run_started_event_after, "success"};
  }

  const std::string outcome = JobOutcome(*job);
  const double run_seconds = RunSeconds(key, job_name, *job);
  if (outcome.empty()) {
    // Running. Short runs are told by their outcome alone; one still going
    // after run_started_event_after gets its RunStarted Event and its
    // activeRun. A status that does not show the run in progress at all (its
    // write as the Job started was lost) gets activeRun at once.
    const auto left = options_.run_started_event_after - std::chrono::milliseconds(static_cast<int64_t>(run_seconds * 1000));
    const bool announce_due = left.count() <= 0;
    if (!status.has_field("activeRun") && (announce_due || !progress_shown)) {
      show_run(GetString(*job, {"metadata", "creationTimestamp"}), reason::kRunning,
               "Job " + job_name + " is running schemagate upgrade " + spec->target);
    }
    if (!announce_due) return {true, left, "success"};
    bool announce = false;
    {
      std::lock_guard<std::mutex> l(started_mu_);
      Started& s = started_[key];
      if (s.job_name != job_name) s = {job_name, std::chrono::steady_clock::now(), false};
      announce = !s.announced;
      s.announced = true;
    }
    if (announce) {
      Event(m, "Normal", "RunStarted",
            "Job " + job_name + " is running schemagate upgrade " + spec->target + " (started " +
                GetString(*job, {"metadata", "creationTimestamp"}) + ")",
            job_name);
    }
    return {false, {}, "success"};
  }

  // Each Job's outcome is recorded once: afterwards the status is Ready for
  // this generation, or the failure count names the next attempt's Job, or
  // the Migration is Stalled. Later passes (our own status write coming back
  // through the watch) must not even read the pod again.
  if (done_for_gen) return {false, {}, "success"};
  {
    std::lock_guard<std::mutex> l(started_mu_);
    started_.erase(key);
  }
  const double seconds = run_seconds;
  // The pod's termination messages carry both reports.
  Termination init, main;
  kube::ApiResponse pods = client_.Get(kube::ResourcePath("", "v1", "pods", ns) +
                                       "?labelSelector=" + kube::UrlEncode("job-name=" + job_name));
  if (!pods.ok()) {
    // Without the reports the outcome is unknown: try again, change nothing.
    return {true, std::chrono::seconds(1), "error"};
  }
  if (const Json* items = GetField(pods.body, {"items"}); items && items->is_array() && items->size() > 0) {
    const Json& pod = items->as_array().at(items->size() - 1);
    init = ReadTermination(pod, "initContainerStatuses");
    main = ReadTermination(pod, "containerStatuses");
  }

  if (outcome == "Complete" && !init.found && !main.found) {
    // The Job is done but its pod has not reported yet: look again soon.
    return {true, std::chrono::seconds(1), "error"};
  }
  kube::EraseField(status, "activeRun");
  // What the runner resolved and how far it got, success or not: the
  // target as revisions, and the revisions between the database and it.
  std::string target = JoinArray(GetField(init.report, {"target_heads"}));
  if (target.empty() && outcome == "Complete") target = JoinArray(GetField(init.report, {"to_heads"}));
  if (!target.empty()) status["targetRevision"] = Json::string(target);
  const Json* pending = GetField(init.report, {"pending"});
  int pending_count = -1;  // unknown: the run stopped before it planned
  if (pending != nullptr && pending->is_integer()) pending_count = pending->as_integer();
  else if (outcome == "Complete") pending_count = 0;
  if (pending_count >= 0) status["pendingRevisions"] = Json::number(pending_count);
  else kube::EraseField(status, "pendingRevisions");
  if (observer_.pending && pending_count >= 0) observer_.pending(ns, name, pending_count);
  if (outcome == "Complete") {
    std::string current = JoinArray(GetField(main.report, {"to_heads"}));
    if (current.empty()) current = JoinArray(GetField(init.report, {"to_heads"}));
    status["currentRevision"] = Json::string(current);
    const Json* applied = GetField(init.report, {"applied"});
    if (applied && applied->is_array() && applied->size() > 0) {
      const Json& last = applied->as_array().at(applied->size() - 1);
      if (last.is_string()) status["lastAppliedRevision"] = Json::string(last.as_string());
      status["lastAppliedTime"] = Json::string(now);
    }
    status["failures"] = Json::number(0);
    kube::EraseField(status, "nextRetryTime");
    kube::EraseField(status, "lastError");
    const Json* ahead = GetField(init.report, {"ahead"});
    if (ahead != nullptr && ahead->is_boolean() && ahead->as_bool()) {
      // An older release (a rollback, an old ReplicaSet's Migration): its
      // files end below the database, whose log shows them applied.
      const std::string release = JoinArray(GetField(init.report, {"release_heads"}));
      const std::string msg = "database at " + current + ", ahead of these migrations: their head " +
                              (release.empty() ? target : release) +
                              " is applied (a rollback or an older release); nothing to run";
      set("Ready", "True", reason::kDatabaseAhead, msg);
      set("Reconciling", "False", reason::kDatabaseAhead, "run finished");
      set("Stalled", "False", reason::kDatabaseAhead, "");
      Event(m, "Normal", reason::kDatabaseAhead, msg + " (Job " + job_name + ")", job_name);
    } else {
      set("Ready", "True", reason::kSucceeded, "database at " + current);
      set("Reconciling", "False", reason::kSucceeded, "run finished");
      set("Stalled", "False", reason::kSucceeded, "");
      Event(m, "Normal", "RevisionApplied", "Database at " + current + " (Job " + job_name + ")", job_name);
    }
    if (observer_.run_finished) observer_.run_finished("succeeded", seconds);
    return {false, {}, "success"};
  }

  // Failed.
  Json last_error = Json::object();
  std::string message = GetString(init.report, {"error", "message"});
  if (message.empty()) {
    message = init.found ? "the runner exited with code " + std::to_string(init.exit_code) +
                               (init.raw.empty() ? "" : ": " + init.raw)
                         : "the runner Job failed before the runner reported (image, scheduling or deadline)";
  }
  last_error["revision"] = Json::string(GetString(init.report, {"error", "revision"}));
  last_error["sqlState"] = Json::string(GetString(init.report, {"error", "sqlState"}));
  last_error["message"] = Json::string(TruncateUtf8(message, kMessageLimit));
  last_error["time"] = Json::string(now);
  status["lastError"] = last_error;
  const bool permanent = init.exit_code == 2 || init.exit_code == 4;
  if (permanent) {
    kube::EraseField(status, "nextRetryTime");  // no retry: waiting for a fix
    set("Stalled", "True", reason::kValidationFailed, message);
    set("Ready", "False", reason::kValidationFailed, message);
    set("Reconciling", "False", reason::kValidationFailed,
        spec->config_maps.empty() ? "waiting for the spec or the migrations to be fixed"
                                  : "waiting for the spec or the ConfigMaps' migrations to be fixed");
    Event(m, "Warning", "RunFailed", message, job_name);
    if (observer_.run_finished) observer_.run_finished("failed", seconds);
    return {false, {}, "success"};
  }
  const int failures = attempt + 1;
  status["failures"] = Json::number(failures);
  if (observer_.run_finished) observer_.run_finished("failed", seconds);
  if (failures >= spec->backoff_limit) {
    kube::EraseField(status, "nextRetryTime");  // no retry: waiting for a fix
    set("Stalled", "True", reason::kBackoffLimitExceeded,
        std::to_string(failures) + " failed runs (backoff.limit " + std::to_string(spec->backoff_limit) + "): " +
            message);
    set("Ready", "False", reason::kBackoffLimitExceeded, message);
    set("Reconciling", "False", reason::kBackoffLimitExceeded,
        spec->config_maps.empty() ? "waiting for a spec change"
                                  : "waiting for a spec change or new ConfigMap content");
    Event(m, "Warning", "BackoffLimitExceeded", std::to_string(failures) + " failed runs: " + message, job_name);
    return {false, {}, "success"};
  }
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(spec->initial_delay);
  for (int i = 1; i < failures; ++i) delay = std::min(delay * 2, std::chrono::duration_cast<std::chrono::milliseconds>(spec->max_delay));
  status["nextRetryTime"] = Json::string(Rfc3339After(delay));
  set("Ready", "False", reason::kRunFailed, message);
  set("Reconciling", "True", reason::kRetryScheduled, "retry " + std::to_string(failures + 1) + " after " +
                                                         std::to_string(delay.count() / 1000) + "s");
  Event(m, "Warning", "RunFailed", message, job_name);
  return {true, delay, "success"};
}

}  // namespace schemagate::op
