#include "operator/migration.h"

#include <ctime>

#include "core/checksum.h"
#include "core/encoding.h"

namespace schemagate::op {

using kube::GetField;
using kube::GetInt;
using kube::GetString;

std::string NowRfc3339() { return NowUtc(); }

Termination ReadTermination(const Json& pod, const char* statuses) {
  Termination t;
  const Json* list = GetField(pod, {"status", statuses});
  if (list == nullptr || !list->is_array() || list->size() == 0) return t;
  const Json* term = GetField(list->as_array().at(0), {"state", "terminated"});
  if (term == nullptr) return t;
  t.found = true;
  t.exit_code = static_cast<int>(GetInt(*term, {"exitCode"}, -1));
  t.raw = GetString(*term, {"message"});
  try {
    if (!t.raw.empty()) t.report = Json::parse(t.raw);
  } catch (const std::exception&) {
  }
  return t;
}

Result<MigrationSpec> ParseMigrationSpec(const Json& m, const std::string& default_image) {
  MigrationSpec s;
  const Json* spec = GetField(m, {"spec"});
  if (spec == nullptr || !spec->is_object()) return Status::Validation("spec is missing");
  s.secret_name = GetString(*spec, {"database", "urlFrom", "secretKeyRef", "name"});
  s.secret_key = GetString(*spec, {"database", "urlFrom", "secretKeyRef", "key"});
  if (s.secret_name.empty() || s.secret_key.empty()) {
    return Status::Validation(
        "spec.database.urlFrom.secretKeyRef needs name and key: the database URL must come from a Secret");
  }
  if (const Json* refs = GetField(*spec, {"source", "configMapRefs"}); refs && refs->is_array()) {
    for (const Json& r : refs->as_array()) {
      std::string name = GetString(r, {"name"});
      if (name.empty()) return Status::Validation("spec.source.configMapRefs[]: every entry needs a name");
      s.config_maps.push_back(name);
    }
  }
  std::string target = GetString(*spec, {"targetRevision"});
  if (!target.empty()) s.target = target;
  if (s.target.find_first_of(" :") != std::string::npos) {
    return Status::Validation("spec.targetRevision '" + s.target + "' is not a revision target");
  }
  s.environment = GetString(*spec, {"environment"});
  std::string policy = GetString(*spec, {"downgradePolicy"});
  if (!policy.empty() && policy != "Forbid" && policy != "Allow") {
    return Status::Validation("spec.downgradePolicy must be Forbid or Allow, not '" + policy + "'");
  }
  s.allow_downgrade = policy == "Allow";
  // The image that runs: runner.image, else source.image (an image with the
  // runner and migrations at /migrations), else the operator's default.
  s.image = GetString(*spec, {"runner", "image"});
  if (s.image.empty()) s.image = GetString(*spec, {"source", "image"});
  if (s.image.empty()) s.image = default_image;
  if (!GetString(*spec, {"source", "image"}).empty() && !s.config_maps.empty()) {
    return Status::Validation("spec.source: set image or configMapRefs, not both");
  }
  s.image_pull_policy = GetString(*spec, {"runner", "imagePullPolicy"});
  s.service_account = GetString(*spec, {"runner", "serviceAccountName"});
  if (const Json* r = GetField(*spec, {"runner", "resources"})) s.resources = *r;
  if (const Json* r = GetField(*spec, {"runner", "nodeSelector"})) s.node_selector = *r;
  if (const Json* r = GetField(*spec, {"runner", "tolerations"})) s.tolerations = *r;
  if (const Json* r = GetField(*spec, {"runner", "env"})) s.extra_env = *r;
  s.active_deadline_seconds = GetInt(*spec, {"runner", "activeDeadlineSeconds"}, 600);
  s.ttl_seconds_after_finished = GetInt(*spec, {"runner", "ttlSecondsAfterFinished"}, 3600);
  s.lock_timeout_seconds = GetInt(*spec, {"lock", "timeoutSeconds"}, 300);
  s.statement_timeout = GetString(*spec, {"statementTimeout"});
  s.lock_timeout = GetString(*spec, {"lockTimeout"});
  s.backoff_limit = static_cast<int>(GetInt(*spec, {"backoff", "limit"}, 5));
  s.initial_delay = std::chrono::seconds(GetInt(*spec, {"backoff", "initialDelaySeconds"}, 10));
  s.max_delay = std::chrono::seconds(GetInt(*spec, {"backoff", "maxDelaySeconds"}, 300));
  if (s.backoff_limit < 0 || s.initial_delay.count() < 0 || s.max_delay.count() < 0) {
    return Status::Validation("spec.backoff values must not be negative");
  }
  const Json* suspend = GetField(*spec, {"suspend"});
  s.suspend = suspend && suspend->is_boolean() && suspend->as_bool();
  return s;
}

std::string JobOutcome(const Json& job) {
  if (const Json* conds = GetField(job, {"status", "conditions"}); conds && conds->is_array()) {
    for (const Json& c : conds->as_array()) {
      if (GetString(c, {"status"}) != "True") continue;
      std::string t = GetString(c, {"type"});
      if (t == "Complete" || t == "Failed") return t;
    }
  }
  return "";
}

std::string JobNameFor(const Json& m, int attempt, const std::string& source_hash) {
  std::string name = GetString(m, {"metadata", "name"});
  std::string seed = GetString(m, {"metadata", "uid"}) + "/" + std::to_string(GetInt(m, {"metadata", "generation"})) +
                     "/" + std::to_string(attempt);
  // Image sources keep the names they always had.
  if (!source_hash.empty()) seed += "/" + source_hash;
  // Job names are DNS labels (63) and the pods add a suffix: keep room.
  if (name.size() > 43) name = name.substr(0, 43);
  return name + "-" + Sha256Hex(seed).substr(0, 8);
}

namespace {

Json Str(const std::string& s) { return Json::string(s); }

Json EnvValue(const std::string& name, const std::string& value) {
  Json e = Json::object();
  e["name"] = Str(name);
  e["value"] = Str(value);
  return e;
}

}  // namespace

Json BuildRunnerJob(const Json& m, const MigrationSpec& s, const std::string& job_name) {
  const std::string name = GetString(m, {"metadata", "name"});
  const std::string ns = GetString(m, {"metadata", "namespace"});
  Json labels = Json::object();
  labels["app.kubernetes.io/managed-by"] = Str("schemagate");
  labels["schemagate.io/migration"] = Str(name);
  labels["schemagate.io/generation"] = Str(std::to_string(GetInt(m, {"metadata", "generation"})));

  Json owner = Json::object();
  owner["apiVersion"] = Str("schemagate.io/v1alpha1");
  owner["kind"] = Str("Migration");
  owner["name"] = Str(name);
  owner["uid"] = Str(GetString(m, {"metadata", "uid"}));
  owner["controller"] = Json::boolean(true);
  owner["blockOwnerDeletion"] = Json::boolean(true);

  std::vector<Json> env;
  Json url = Json::object();
  url["name"] = Str("DATABASE_URL");
  url["valueFrom"]["secretKeyRef"]["name"] = Str(s.secret_name);
  url["valueFrom"]["secretKeyRef"]["key"] = Str(s.secret_key);
  env.push_back(url);
  Json pod_name = Json::object();
  pod_name["name"] = Str("POD_NAME");
  pod_name["valueFrom"]["fieldRef"]["fieldPath"] = Str("metadata.name");
  env.push_back(pod_name);
  if (!s.environment.empty()) env.push_back(EnvValue("ENVIRONMENT", s.environment));
  if (!s.allow_downgrade) env.push_back(EnvValue("SCHEMAGATE_FORBID_DOWNGRADE", "true"));
  if (s.extra_env.is_array()) {
    for (const Json& e : s.extra_env.as_array()) env.push_back(e);
  }

  std::vector<Json> args{Str("upgrade"), Str(s.target), Str("--report"), Str("/dev/termination-log"),
                         Str("--log-format"), Str("json"), Str("--lock-timeout"),
                         Str(std::to_string(s.lock_timeout_seconds) + "s"), Str("--script-location"),
                         Str(s.config_maps.empty() ? "/migrations" : "/migrations-src")};
  // A target below the database: Alembic's upgrade does nothing, while the
  // Migration's downgradePolicy decides (run it as a downgrade, or stall).
  // Forbid travels as an environment variable, not a flag: a runner image
  // older than it does not know it and refuses such a target anyway, where
  // an unknown flag would fail every run.
  if (s.allow_downgrade) args.push_back(Str("--allow-downgrade"));
  if (!s.statement_timeout.empty()) {
    args.push_back(Str("--statement-timeout"));
    args.push_back(Str(s.statement_timeout));
  }
  if (!s.lock_timeout.empty()) {
    args.push_back(Str("--db-lock-timeout"));
    args.push_back(Str(s.lock_timeout));
  }
  auto container = [&](const std::string& cname, std::vector<Json> cargs) {
    Json c = Json::object();
    c["name"] = Str(cname);
    c["image"] = Str(s.image);
    if (!s.image_pull_policy.empty()) c["imagePullPolicy"] = Str(s.image_pull_policy);
    c["args"] = Json::array(cargs);
    c["env"] = Json::array(env);
    c["terminationMessagePath"] = Str("/dev/termination-log");
    c["terminationMessagePolicy"] = Str("File");
    if (!s.resources.is_null()) c["resources"] = s.resources;
    Json sc = Json::object();
    sc["runAsNonRoot"] = Json::boolean(true);
    sc["readOnlyRootFilesystem"] = Json::boolean(true);
    sc["allowPrivilegeEscalation"] = Json::boolean(false);
    sc["capabilities"]["drop"] = Json::array({Str("ALL")});
    c["securityContext"] = sc;
    return c;
  };
  Json init = container("migrate", args);
  Json report = container("report", {Str("current"), Str("--report"), Str("/dev/termination-log"),
                                     Str("--log-format"), Str("json"), Str("--script-location"),
                                     Str(s.config_maps.empty() ? "/migrations" : "/migrations-src")});

  Json pod_spec = Json::object();
  pod_spec["restartPolicy"] = Str("Never");
  pod_spec["automountServiceAccountToken"] = Json::boolean(false);
  if (!s.service_account.empty()) pod_spec["serviceAccountName"] = Str(s.service_account);
  if (!s.node_selector.is_null()) pod_spec["nodeSelector"] = s.node_selector;
  if (!s.tolerations.is_null()) pod_spec["tolerations"] = s.tolerations;
  pod_spec["initContainers"] = Json::array({init});
  pod_spec["containers"] = Json::array({report});
  pod_spec["securityContext"]["seccompProfile"]["type"] = Str("RuntimeDefault");
  if (!s.config_maps.empty()) {
    std::vector<Json> sources;
    for (const std::string& cm : s.config_maps) {
      Json src = Json::object();
      src["configMap"]["name"] = Str(cm);
      sources.push_back(src);
    }
    Json vol = Json::object();
    vol["name"] = Str("migrations");
    vol["projected"]["sources"] = Json::array(sources);
    pod_spec["volumes"] = Json::array({vol});
    Json mount = Json::object();
    mount["name"] = Str("migrations");
    mount["mountPath"] = Str("/migrations-src/versions");
    pod_spec["initContainers"][0]["volumeMounts"] = Json::array({mount});
    pod_spec["containers"][0]["volumeMounts"] = Json::array({mount});
  }

  Json job = Json::object();
  job["apiVersion"] = Str("batch/v1");
  job["kind"] = Str("Job");
  job["metadata"]["name"] = Str(job_name);
  job["metadata"]["namespace"] = Str(ns);
  job["metadata"]["labels"] = labels;
  job["metadata"]["ownerReferences"] = Json::array({owner});
  job["spec"]["backoffLimit"] = Json::number(0);  // retries are the operator's, with backoff
  job["spec"]["activeDeadlineSeconds"] = Json::number(s.active_deadline_seconds);
  job["spec"]["ttlSecondsAfterFinished"] = Json::number(s.ttl_seconds_after_finished);
  job["spec"]["template"]["metadata"]["labels"] = labels;
  job["spec"]["template"]["spec"] = pod_spec;
  return job;
}

bool SetCondition(Json& status, const std::string& type, const std::string& value, const std::string& reason,
                  const std::string& message, int64_t generation, const std::string& now) {
  if (!status.has_field("conditions") || !status.at("conditions").is_array()) {
    status["conditions"] = Json::array();
  }
  Json& conditions = status["conditions"];
  for (size_t i = 0; i < conditions.size(); ++i) {
    Json& c = conditions[i];
    if (GetString(c, {"type"}) != type) continue;
    bool changed = GetString(c, {"status"}) != value || GetString(c, {"reason"}) != reason ||
                   GetString(c, {"message"}) != message || GetInt(c, {"observedGeneration"}) != generation;
    if (GetString(c, {"status"}) != value) c["lastTransitionTime"] = Json::string(now);
    c["status"] = Json::string(value);
    c["reason"] = Json::string(reason);
    c["message"] = Json::string(message);
    c["observedGeneration"] = Json::number(generation);
    return changed;
  }
  Json c = Json::object();
  c["type"] = Json::string(type);
  c["status"] = Json::string(value);
  c["reason"] = Json::string(reason);
  c["message"] = Json::string(message);
  c["observedGeneration"] = Json::number(generation);
  c["lastTransitionTime"] = Json::string(now);
  conditions[conditions.size()] = c;
  return true;
}

namespace {

std::string ConditionField(const Json& status, const std::string& type, const char* field) {
  const Json* conditions = GetField(status, {"conditions"});
  if (conditions == nullptr || !conditions->is_array()) return "";
  for (const Json& c : conditions->as_array()) {
    if (GetString(c, {"type"}) == type) return GetString(c, {field});
  }
  return "";
}

}  // namespace

std::string ConditionStatus(const Json& status, const std::string& type) {
  return ConditionField(status, type, "status");
}

std::string ConditionReason(const Json& status, const std::string& type) {
  return ConditionField(status, type, "reason");
}

}  // namespace schemagate::op
