// `lint`: the rules of lint/lint.h over the migration files; no database.
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/context.h"
#include "core/json_writer.h"
#include "core/planner.h"
#include "lint/lint.h"

namespace schemagate::cli {
namespace {

// Production is where a long lock hurts, and its sections are the ones
// written with CONCURRENTLY; the config file's default environment is
// usually development, so lint does not use it (nor ENVIRONMENT).
constexpr const char* kLintEnvironment = "production";

std::string RulesText() {
  std::string out;
  for (const LintRule& r : LintRules()) {
    out += std::string(r.id) + " (" + LintSeverityName(r.severity) + "): " + r.summary +
           "\n    why: " + r.why + "\n    safe alternative: " + r.fix + "\n" +
           (*r.squawk ? std::string("    squawk: ") + r.squawk + "\n" : "");
  }
  return out;
}

std::string RulesJson() {
  JsonWriter w;
  w.BeginArray();
  for (const LintRule& r : LintRules()) {
    w.BeginObject()
        .Field("rule", r.id)
        .Field("severity", LintSeverityName(r.severity))
        .Field("summary", r.summary)
        .Field("why", r.why)
        .Field("fix", r.fix)
        .Field("squawk", r.squawk)
        .EndObject();
  }
  w.EndArray();
  return w.str();
}

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) return Status::Runtime("cannot read " + path);
  return text.str();
}

// The shared settings, for the linted environment instead of the
// configured one. Lint never connects, so an unset url_env is no error
// (ResolveSettings leaves it in url_error).
Result<Settings> LintSettings(const po::variables_map& vm, const std::string& environment) {
  Flags flags;
  auto opt = [&](const char* name) -> std::optional<std::string> {
    if (vm.count(name) == 0) return std::nullopt;
    return vm[name].as<std::string>();
  };
  flags.config_path = opt("config");
  flags.script_location = opt("script-location");
  flags.lock_timeout = opt("db-lock-timeout");
  flags.environment = environment;
  auto settings = ResolveSettings(flags, ProcessEnvironment());
  if (!settings.ok() || !vm.count("env")) return settings;
  // A misspelt --env would select the wrong sections without a word, also
  // when DATABASE_URL is set (which lets the runner take any environment).
  const std::vector<std::string>& known = settings->environments;
  if (!known.empty() && std::find(known.begin(), known.end(), environment) == known.end()) {
    std::string names;
    for (const std::string& name : known) names += (names.empty() ? "" : ", ") + name;
    return Status::Usage("--env " + environment + ": not an environment of " + settings->config_path +
                         " (known: " + names + ")");
  }
  return settings;
}

Status RunLint(Context& ctx, const po::variables_map& vm) {
  const std::string format =
      vm.count("format") ? vm["format"].as<std::string>() : (ctx.out().json() ? "json" : "text");
  if (format != "text" && format != "json" && format != "github") {
    return Status::Usage("--format must be 'text', 'json' or 'github', not '" + format + "'");
  }
  if (vm.count("list-rules")) {
    ctx.out().Print(format == "json" ? RulesJson() : RulesText());
    return Status::Ok();
  }

  const std::string environment = vm.count("env") ? vm["env"].as<std::string>() : kLintEnvironment;
  auto settings = LintSettings(vm, environment);
  if (!settings.ok()) return settings.status();
  auto set = MigrationSet::Load(settings->script_location, /*split=*/true);
  if (!set.ok()) return set.status();
  const RevisionGraph& graph = set->graph();

  std::set<std::string> wanted;
  if (vm.count("revisions")) {
    for (const std::string& spec : vm["revisions"].as<std::vector<std::string>>()) {
      auto ids = ResolveTarget(graph, {}, spec, Direction::kUpgrade);
      if (!ids.ok()) return ids.status();
      if (ids->empty()) return Status::Validation("'" + spec + "' names no revision to lint");
      wanted.insert(ids->begin(), ids->end());
    }
  }

  LintOptions options;
  options.environment = environment;
  options.lock_timeout_configured = settings->lock_timeout && settings->lock_timeout->count() > 0;
  LintReport report;
  report.environment = environment;
  // Every revision goes through the history in order, so that a type change
  // knows the column's type; only the wanted ones are reported.
  LintHistory history;
  for (const std::string& id : graph.TopologicalOrder()) {
    const MigrationFile& file = *set->Find(id);
    auto content = ReadText(file.revision.path);
    if (!content.ok()) return content.status();
    auto result = LintMigration(file, *content, options, &history);
    if (!result.ok()) return result.status();
    if (!wanted.empty() && wanted.count(id) == 0) continue;
    report.revisions.push_back(id);
    for (LintFinding& f : result->findings) report.findings.push_back(std::move(f));
    for (LintStatement& s : result->statements) report.statements.push_back(std::move(s));
  }

  if (format == "json") {
    ctx.out().Print(RenderLintJson(report));
  } else if (!report.findings.empty()) {
    ctx.out().Print(format == "github" ? RenderLintGithub(report) : RenderLintText(report));
  }
  const std::string summary = std::to_string(report.errors()) + " error(s), " +
                              std::to_string(report.warnings()) + " warning(s) in " +
                              std::to_string(report.revisions.size()) +
                              " migration(s) (upgrade sections for " + environment + ")";
  if (report.errors() > 0) return Status::Validation("lint: " + summary);
  ctx.out().Info("lint: " + summary,
                 {{"errors", "0"}, {"warnings", std::to_string(report.warnings())}});
  return Status::Ok();
}

}  // namespace

Status CheckMigrationsSyntax(const Output& out, const MigrationSet& set) {
  int refused = 0;
  for (const MigrationFile& file : set.files()) {
    auto content = ReadText(file.revision.path);
    if (!content.ok()) return content.status();
    auto problems = CheckMigrationSyntax(file, *content);
    if (!problems.ok()) {
      out.Warn("SQL syntax not checked: " + problems.status().message());
      return Status::Ok();
    }
    for (const LintFinding& f : *problems) {
      const std::string line = f.file + ":" + std::to_string(f.line) + ":" + std::to_string(f.column) + ": " + f.message;
      if (f.severity == LintSeverity::kError) {
        out.Error(Status::Validation(line));
        ++refused;
      } else {
        out.Warn(line, {{"rule", f.rule}});
      }
    }
  }
  if (refused > 0) {
    return Status::Validation(std::to_string(refused) +
                              " statement(s) PostgreSQL's parser refuses (each above with its file, line and "
                              "column); nothing ran: fix the SQL and check again");
  }
  out.Info("SQL: every statement of " + std::to_string(set.files().size()) +
           " migration(s) parses (PostgreSQL 15's parser)");
  return Status::Ok();
}

std::vector<Command> LintCommands() {
  std::vector<Command> c;
  c.push_back(
      {"lint", "lint [REV...] [--format text|json|github] [--env NAME] [--list-rules]",
       "find dangerous changes in upgrade SQL before it runs (what runs in production, or --env)",
       [](po::options_description& d, po::positional_options_description& p) {
         d.add_options()(
             "revisions", po::value<std::vector<std::string>>(),
             "revisions to lint (default: all), in revision order. Only upgrade sections are "
             "checked (downgrades undo; dropping is their job), those that run in 'production' "
             "unless --env NAME is given (the config file's environment and ENVIRONMENT are not "
             "used)")("format", po::value<std::string>(),
                      "text (default; json with --output json), json, or github (GitHub Actions "
                      "annotations). Exit 4 when any error-severity finding remains")(
             "list-rules", "print the rules: id, severity, why and the safe alternative");
         p.add("revisions", -1);
       },
       RunLint});
  return c;
}

}  // namespace schemagate::cli
