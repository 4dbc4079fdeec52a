// Commands that work on the migration files alone: init, create, merge,
// history, heads, branches, show. (`history -i` also reads the database.)
#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "cli/context.h"
#include "cli/revision_text.h"
#include "core/encoding.h"
#include "core/json_writer.h"
#include "core/template.h"

namespace schemagate::cli {
namespace {

namespace fs = std::filesystem;

// The template `init` writes; migrations/script.sql.tmpl is kept identical.
constexpr const char* kDefaultTemplate =
    R"(-- revision: ${revision}
-- down_revision: ${down_revision}
-- branch_labels: ${branch_labels}
-- depends_on: ${depends_on}
-- create_date: ${create_date}
-- message: ${message}

-- migrate:upgrade
-- Statements run in one transaction with the version-table update.
-- For CREATE INDEX CONCURRENTLY and the like, open a section with
-- '-- migrate:upgrade transaction:false'; add 'env:production' or
-- 'env:!production' to run a section only in (or outside) an environment.
${upgrades}

-- migrate:downgrade
-- Undo everything above, in reverse order.
${downgrades}
)";

constexpr const char* kDefaultConfig =
    R"(# schemagate configuration. Precedence: flags > environment variables > this file.
script_location: {dir}
version_table: alembic_version
version_table_schema: public
environment: development
environments:
  development:
    url: postgresql://postgres:postgres@localhost:5432/app_db
  staging:
    url_env: STAGING_DATABASE_URL
  production:
    url_env: DATABASE_URL
)";

std::string Join(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

void RevisionJson(JsonWriter& w, const RevisionText& text, const RevisionGraph& g, const MigrationFile& f) {
  const Revision& r = f.revision;
  auto heads = g.Heads();
  w.BeginObject()
      .Field("revision", r.id)
      .Field("down_revisions", r.down_revisions)
      .Field("branch_labels", text.Labels(r.id))
      .Field("depends_on", r.depends_on)
      .Field("message", r.message)
      .Field("create_date", r.create_date)
      .Field("path", r.path)
      .Field("checksum", f.checksum)
      .Field("is_head", std::find(heads.begin(), heads.end(), r.id) != heads.end())
      .Field("is_branch_point", g.Children(r.id).size() > 1)
      .Field("is_merge_point", r.down_revisions.size() > 1)
      .EndObject();
}

// The next id: zero-padded number after the largest when every id is numeric,
// otherwise 12 random hex characters (Alembic's style).
std::string NextRevisionId(const MigrationSet& set) {
  bool numeric = !set.files().empty();
  unsigned long long max = 0;
  size_t width = 4;
  for (const MigrationFile& f : set.files()) {
    const std::string& id = f.revision.id;
    if (id.empty() || id.size() > 18 || !std::all_of(id.begin(), id.end(), ::isdigit)) {
      numeric = false;
      break;
    }
    max = std::max(max, std::stoull(id));
    width = std::max(width, id.size());
  }
  if (set.files().empty()) return "0001";
  if (numeric) {
    std::string n = std::to_string(max + 1);
    return std::string(width > n.size() ? width - n.size() : 0, '0') + n;
  }
  std::random_device rd;
  std::mt19937_64 rng(rd());
  static const char* kHex = "0123456789abcdef";
  while (true) {
    std::string id;
    for (int i = 0; i < 12; ++i) id += kHex[rng() % 16];
    if (set.Find(id) == nullptr) return id;
  }
}

Result<std::string> ReadTemplate(const std::string& script_location) {
  fs::path p = fs::path(script_location) / "script.sql.tmpl";
  std::ifstream in(p);
  if (!in) return std::string(kDefaultTemplate);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

// Writes a new revision file; shared by create, merge and autogenerate.
Status WriteRevision(Context& ctx, const MigrationSet& set, Revision r, const std::string& upgrades,
                     const std::string& downgrades) {
  auto settings = ctx.settings();
  const std::string location = (*settings)->script_location;
  if (r.id.empty()) r.id = NextRevisionId(set);
  std::string why = InvalidRevisionIdReason(r.id);
  if (!why.empty()) return Status::Usage("--rev-id: " + why);
  if (set.Find(r.id) != nullptr) {
    return Status::Usage("revision " + r.id + " already exists (" + set.Find(r.id)->revision.path + ")");
  }
  for (const std::string& label : r.branch_labels) {
    if (set.graph().Resolve(label).ok()) {
      return Status::Usage("branch label '" + label + "' is already used in the tree");
    }
  }
  // Validate the graph the new revision would make before writing anything.
  std::vector<Revision> revisions;
  for (const MigrationFile& f : set.files()) revisions.push_back(f.revision);
  revisions.push_back(r);
  auto check = RevisionGraph::Build(revisions);
  if (!check.ok()) return check.status();

  auto tmpl = ReadTemplate(location);
  if (!tmpl.ok()) return tmpl.status();
  if (!(upgrades.empty() && downgrades.empty()) &&
      (tmpl->find("${upgrades}") == std::string::npos || tmpl->find("${downgrades}") == std::string::npos)) {
    return Status::Usage(location + "/script.sql.tmpl has no ${upgrades} and ${downgrades} placeholders: add "
                         "them on their own lines after the '-- migrate:upgrade' and '-- migrate:downgrade' "
                         "markers, where the generated SQL goes");
  }
  auto text = RenderTemplate(*tmpl, {{"revision", r.id},
                                     {"down_revision", Join(r.down_revisions)},
                                     {"branch_labels", Join(r.branch_labels)},
                                     {"depends_on", Join(r.depends_on)},
                                     {"create_date", NowUtc().substr(0, 19)},
                                     {"message", r.message},
                                     {"upgrades", upgrades},
                                     {"downgrades", downgrades}});
  if (!text.ok()) return text.status().Prefixed(location + "/script.sql.tmpl");
  // The rendered file must parse: a broken template is caught here, not at deploy.
  std::string slug = Slugify(r.message);
  fs::path path = fs::path(location) / "versions" / (r.id + (slug.empty() ? "" : "_" + slug) + ".sql");
  auto parsed = ParseMigrationFile(path.string(), *text);
  if (!parsed.ok()) {
    return parsed.status().Prefixed("the template renders a file that does not parse");
  }
  if (fs::exists(path)) return Status::Usage(path.string() + " already exists");
  std::ofstream out(path);
  out << *text;
  out.close();
  if (!out) return Status::Runtime("cannot write " + path.string());
  if (ctx.out().json()) {
    JsonWriter w;
    w.BeginObject().Field("revision", r.id).Field("path", path.string())
        .Field("down_revisions", r.down_revisions).EndObject();
    ctx.out().Print(w.str());
  } else {
    ctx.out().Print("Generating " + path.string() + " ... done");
  }
  return Status::Ok();
}

namespace {

Status RunInit(Context& ctx, const po::variables_map& vm) {
  const std::string dir = vm["directory"].as<std::string>();
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    return Status::Usage("directory '" + dir + "' already exists and is not empty");
  }
  fs::create_directories(fs::path(dir) / "versions", ec);
  if (ec) return Status::Runtime("cannot create " + dir + "/versions: " + ec.message());
  {
    std::ofstream t(fs::path(dir) / "script.sql.tmpl");
    t << kDefaultTemplate;
  }
  std::string config_note;
  if (!fs::exists(kDefaultConfigFile)) {
    std::string cfg = kDefaultConfig;
    cfg.replace(cfg.find("{dir}"), 5, dir);
    std::ofstream c(kDefaultConfigFile);
    c << cfg;
    config_note = ", " + std::string(kDefaultConfigFile);
  } else {
    config_note = " (kept the existing " + std::string(kDefaultConfigFile) +
                  ": check that script_location is '" + dir + "')";
  }
  ctx.out().Print("Created " + dir + "/versions, " + dir + "/script.sql.tmpl" + config_note);
  return Status::Ok();
}

Status RunCreate(Context& ctx, const po::variables_map& vm) {
  auto set = ctx.migrations();
  if (!set.ok()) return set.status();
  const RevisionGraph& g = (*set)->graph();
  Revision r;
  if (vm.count("message")) r.message = vm["message"].as<std::string>();
  if (r.message.empty()) return Status::Usage("create needs a message: schemagate create \"Add phone to users\"");
  if (vm.count("rev-id")) r.id = vm["rev-id"].as<std::string>();
  if (vm.count("branch-label")) r.branch_labels = vm["branch-label"].as<std::vector<std::string>>();
  if (vm.count("depends-on")) {
    for (const std::string& d : vm["depends-on"].as<std::vector<std::string>>()) {
      auto id = g.Resolve(d);
      if (!id.ok()) return id.status().Prefixed("--depends-on");
      r.depends_on.push_back(*id);
    }
  }
  std::string head = vm.count("head") ? vm["head"].as<std::string>() : "head";
  if (head != "base") {
    if (g.empty()) {
      if (vm.count("head")) return Status::Validation("--head " + head + ": there are no revisions yet");
    } else {
      auto parents = ResolveTarget(g, {}, head, Direction::kUpgrade);
      if (!parents.ok()) {
        return Status(parents.status().code(),
                      parents.status().message() +
                          (vm.count("head") ? "" : "; pass --head REV (or --head base for a new branch), or merge the heads first with 'schemagate merge'"));
      }
      if (parents->size() != 1) {
        return Status::Validation("--head " + head + " names " + std::to_string(parents->size()) +
                                  " revisions (" + Join(*parents) + "); name one, or merge them first");
      }
      r.down_revisions = *parents;
    }
  }
  if (vm.count("autogenerate")) {
    auto generated = Autogenerate(ctx, **set, r);
    if (!generated.ok()) return generated.status();
    if (!generated->has_changes) {
      ctx.out().Print("No changes in schema detected: the migrations at " + JoinHeads(r.down_revisions) +
                      " already match the declared schema; no revision written");
      return Status::Ok();
    }
    return WriteRevision(ctx, **set, r, generated->upgrade, generated->downgrade);
  }
  return WriteRevision(ctx, **set, r, "", "");
}

Status RunMerge(Context& ctx, const po::variables_map& vm) {
  auto set = ctx.migrations();
  if (!set.ok()) return set.status();
  const RevisionGraph& g = (*set)->graph();
  std::vector<std::string> specs = vm.count("revisions") ? vm["revisions"].as<std::vector<std::string>>()
                                                          : std::vector<std::string>{"heads"};
  Revision r;
  for (const std::string& spec : specs) {
    auto ids = ResolveTarget(g, {}, spec, Direction::kUpgrade);
    if (!ids.ok()) return ids.status();
    for (const std::string& id : *ids) {
      if (std::find(r.down_revisions.begin(), r.down_revisions.end(), id) == r.down_revisions.end()) {
        r.down_revisions.push_back(id);
      }
    }
  }
  if (r.down_revisions.size() < 2) {
    return Status::Validation("nothing to merge: " + Join(specs) + " resolves to " +
                              (r.down_revisions.empty() ? std::string("no revision") : r.down_revisions[0]) +
                              "; a merge needs two or more heads");
  }
  r.message = vm.count("message") ? vm["message"].as<std::string>() : "Merge " + Join(r.down_revisions, " and ");
  if (vm.count("rev-id")) r.id = vm["rev-id"].as<std::string>();
  if (vm.count("branch-label")) r.branch_labels = vm["branch-label"].as<std::vector<std::string>>();
  return WriteRevision(ctx, **set, r, "", "");
}

// Revisions between the two ends of `-r A:B` (inclusive), newest first.
Result<std::vector<std::string>> HistoryRange(Context& ctx, const RevisionGraph& g,
                                              const std::string& range, Heads* current) {
  std::string lower, upper;
  size_t colon = range.find(':');
  if (colon == std::string::npos) {
    return Status::Usage("-r takes a range LOWER:UPPER (e.g. 0002:head, base:current, :0004), not '" + range + "'");
  }
  lower = range.substr(0, colon);
  upper = range.substr(colon + 1);
  auto ends = [&](const std::string& spec, bool is_upper) -> Result<Heads> {
    if (spec.empty()) return is_upper ? g.Heads() : Heads{};
    if (spec == "current") {
      if (current->empty()) {
        auto db = ctx.database();
        if (!db.ok()) return db.status();
        auto state = (*db)->ReadState();
        if (!state.ok()) return state.status();
        *current = state->heads;
      }
      return *current;
    }
    return ResolveTarget(g, *current, spec, is_upper ? Direction::kUpgrade : Direction::kDowngrade);
  };
  auto lo = ends(lower, false);
  if (!lo.ok()) return lo.status();
  auto hi = ends(upper, true);
  if (!hi.ok()) return hi.status();
  // As Alembic's walk: the upper end's ancestors through both edge kinds,
  // the lower end's descendants through down_revision only (a revision
  // that merely depends on the lower end is not above it).
  RevisionSet below_upper = g.Ancestors(*hi, true);
  // Alembic's refusal when the lower end is not below the upper one, not an
  // empty list that reads as "no revisions".
  for (const std::string& id : *lo) {
    if (below_upper.count(id) > 0) continue;
    const std::string shown_lower = lower.empty() ? "base" : lower == "current" ? JoinHeads(*lo) : lower;
    const std::string shown_upper = upper.empty() ? "heads" : upper == "current" ? JoinHeads(*hi) : upper;
    return Status::Validation("Requested range " + shown_lower + ":" + shown_upper +
                              " does not refer to ancestor/descendant revisions along the same branch: " + id +
                              " is not an ancestor of " + JoinHeads(*hi) + " (history -r takes LOWER:UPPER)");
  }
  RevisionSet above_lower;
  if (lo->empty()) {
    above_lower = below_upper;
  } else {
    std::vector<std::string> stack = *lo;
    while (!stack.empty()) {
      std::string id = stack.back();
      stack.pop_back();
      if (!above_lower.insert(id).second) continue;
      for (const std::string& child : g.Children(id)) stack.push_back(child);
    }
  }
  std::vector<std::string> out;
  const auto& topo = g.TopologicalOrder();
  for (auto it = topo.rbegin(); it != topo.rend(); ++it) {
    if (below_upper.count(*it) && above_lower.count(*it)) out.push_back(*it);
  }
  return out;
}

Status RunHistory(Context& ctx, const po::variables_map& vm) {
  // -v counts each section's statements, so it splits them.
  auto set = ctx.migrations(/*split=*/vm.count("verbose") > 0);
  if (!set.ok()) return set.status();
  const RevisionGraph& g = (*set)->graph();
  Heads current;
  RevisionSet current_set;
  if (vm.count("indicate-current")) {
    auto db = ctx.database();
    if (!db.ok()) return db.status();
    auto state = (*db)->ReadState();
    if (!state.ok()) return state.status();
    current = state->heads;
    current_set.insert(current.begin(), current.end());
  }
  std::vector<std::string> ids;
  if (vm.count("rev-range")) {
    auto r = HistoryRange(ctx, g, vm["rev-range"].as<std::string>(), &current);
    if (!r.ok()) return r.status();
    ids = std::move(r.value());
  } else {
    const auto& topo = g.TopologicalOrder();
    ids.assign(topo.rbegin(), topo.rend());
  }
  const bool verbose = vm.count("verbose") > 0;
  const RevisionText shown(**set);
  if (ctx.out().json()) {
    JsonWriter w;
    w.BeginObject().Key("revisions").BeginArray();
    for (const std::string& id : ids) RevisionJson(w, shown, g, *(*set)->Find(id));
    w.EndArray().Field("current", current).EndObject();
    ctx.out().Print(w.str());
    return Status::Ok();
  }
  // "a (dep) -> b (label) (head) (current) (mergepoint), message", as Alembic.
  RevisionText::Shown line;
  line.parents = line.labels = line.doc = true;
  std::string text;
  for (const std::string& id : ids) {
    const bool is_current = current_set.count(id) > 0;
    line.current = is_current;
    text += verbose ? shown.Entry(id, is_current) + "\n" : shown.Line(id, line) + "\n";
  }
  if (!text.empty()) ctx.out().Print(text);
  return Status::Ok();
}

Status PrintRevisions(Context& ctx, const std::vector<std::string>& ids, bool verbose,
                      const std::string& json_key) {
  auto set = ctx.migrations(/*split=*/false);
  const RevisionGraph& g = (*set)->graph();
  const RevisionText shown(**set);
  if (ctx.out().json()) {
    JsonWriter w;
    w.BeginObject().Key(json_key).BeginArray();
    for (const std::string& id : ids) RevisionJson(w, shown, g, *(*set)->Find(id));
    w.EndArray().EndObject();
    ctx.out().Print(w.str());
    return Status::Ok();
  }
  // "a1b2 (label) (head)" or "(effective head)", as Alembic's heads.
  RevisionText::Shown line;
  line.labels = true;
  line.tree = false;
  std::string text;
  for (const std::string& id : ids) text += verbose ? shown.Entry(id, false) + "\n" : shown.Line(id, line) + "\n";
  if (!text.empty()) ctx.out().Print(text);
  return Status::Ok();
}

Status RunHeads(Context& ctx, const po::variables_map& vm) {
  auto set = ctx.migrations(/*split=*/vm.count("verbose") > 0);
  if (!set.ok()) return set.status();
  return PrintRevisions(ctx, (*set)->graph().Heads(), vm.count("verbose") > 0, "heads");
}

Status RunBranches(Context& ctx, const po::variables_map& vm) {
  auto set = ctx.migrations(/*split=*/vm.count("verbose") > 0);
  if (!set.ok()) return set.status();
  const RevisionGraph& g = (*set)->graph();
  auto points = g.BranchPoints();
  if (ctx.out().json()) {
    JsonWriter w;
    w.BeginObject().Key("branchpoints").BeginArray();
    for (const std::string& id : points) {
      w.BeginObject().Field("revision", id).Field("children", g.Children(id)).EndObject();
    }
    w.EndArray().EndObject();
    ctx.out().Print(w.str());
    return Status::Ok();
  }
  // Alembic's layout: the branch point, its children indented by the
  // width of its id, a blank line; -v gives the point's full entry and each
  // child's message.
  const bool verbose = vm.count("verbose") > 0;
  const RevisionText shown(**set);
  RevisionText::Shown line;
  line.labels = true;
  RevisionText::Shown child_line = line;
  child_line.doc = verbose;
  std::string text;
  for (auto it = points.rbegin(); it != points.rend(); ++it) {
    text += (verbose ? shown.Entry(*it, false) : shown.Line(*it, line)) + "\n";
    for (const std::string& child : g.Children(*it)) {
      text += std::string(it->size(), ' ') + " -> " + shown.Line(child, child_line) + "\n";
    }
    text += "\n";
  }
  if (!text.empty()) ctx.out().Print(text);
  return Status::Ok();
}

Status RunShow(Context& ctx, const po::variables_map& vm) {
  auto set = ctx.migrations();
  if (!set.ok()) return set.status();
  const RevisionGraph& g = (*set)->graph();
  auto ids = ResolveTarget(g, {}, vm["rev"].as<std::string>(), Direction::kUpgrade);
  if (!ids.ok()) return ids.status();
  if (ids->empty()) return Status::Validation("'base' is not a revision");
  const RevisionText shown(**set);
  if (ctx.out().json()) {
    JsonWriter w;
    w.BeginArray();
    for (const std::string& id : *ids) RevisionJson(w, shown, g, *(*set)->Find(id));
    w.EndArray();
    ctx.out().Print(w.str());
    return Status::Ok();
  }
  std::string text;
  for (const std::string& id : *ids) text += shown.Entry(id, false) + "\n";
  ctx.out().Print(text);
  return Status::Ok();
}

}  // namespace

std::vector<Command> ScriptCommands() {
  std::vector<Command> c;
  c.push_back({"init", "init [DIRECTORY]", "create a migrations directory, its template and schemagate.yaml",
               [](po::options_description& d, po::positional_options_description& p) {
                 d.add_options()("directory", po::value<std::string>()->default_value("migrations"),
                                 "directory to create");
                 p.add("directory", 1);
               },
               RunInit});
  c.push_back({"create", "create MESSAGE [--head REV] [--branch-label L] [--depends-on REV] [--rev-id ID] [--autogenerate [--dev-url URL]]",
               "write a new revision file from script.sql.tmpl (alias: revision)",
               [](po::options_description& d, po::positional_options_description& p) {
                 d.add_options()("message,m", po::value<std::string>(), "what the revision does")
                     ("head", po::value<std::string>(), "parent revision (default: the head; 'base' starts a new branch)")
                     ("branch-label", po::value<std::vector<std::string>>(), "label for a new branch")
                     ("depends-on", po::value<std::vector<std::string>>(), "revision this one depends on")
                     ("rev-id", po::value<std::string>(), "revision id (default: next number or 12 hex)")
                     ("autogenerate", "write the SQL that turns the migrations at the parent revision into the "
                                      "declared schema (schema_location), and its reverse, found on scratch databases")
                     ("schema-location", po::value<std::string>(), "declared schema directory (default: schema_location, 'schema')")
                     ("dev-url", po::value<std::string>(), "server for scratch databases (default: a private one started from the PostgreSQL binaries here)");
                 p.add("message", 1);
               },
               RunCreate});
  c.push_back({"merge", "merge [REV...] [-m MESSAGE]", "write a revision that merges heads (default: all heads)",
               [](po::options_description& d, po::positional_options_description& p) {
                 d.add_options()("revisions", po::value<std::vector<std::string>>(), "revisions to merge")
                     ("message,m", po::value<std::string>(), "message")
                     ("branch-label", po::value<std::vector<std::string>>(), "label")
                     ("rev-id", po::value<std::string>(), "revision id");
                 p.add("revisions", -1);
               },
               RunMerge});
  c.push_back({"history", "history [-r LOWER:UPPER] [-v] [-i]", "list revisions, newest first",
               [](po::options_description& d, po::positional_options_description&) {
                 d.add_options()("rev-range,r", po::value<std::string>(), "range, e.g. 0002:head, base:current")
                     ("verbose,v", "full details")
                     ("indicate-current,i", "mark the database's current revision(s)");
               },
               RunHistory});
  c.push_back({"heads", "heads [-v]", "show the heads of the revision tree",
               [](po::options_description& d, po::positional_options_description&) {
                 d.add_options()("verbose,v", "full details");
               },
               RunHeads});
  c.push_back({"branches", "branches", "show branch points and where they lead",
               [](po::options_description& d, po::positional_options_description&) {
                 d.add_options()("verbose,v", "full details");
               },
               RunBranches});
  c.push_back({"show", "show REV", "show one revision",
               [](po::options_description& d, po::positional_options_description& p) {
                 d.add_options()("rev", po::value<std::string>()->required(), "revision");
                 p.add("rev", 1);
               },
               RunShow});
  return c;
}

}  // namespace schemagate::cli
