#include "cli/app.h"

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "cli/context.h"
#include "core/encoding.h"
#include "core/json_writer.h"
#include "core/redact.h"

namespace schemagate::cli {
namespace {

constexpr size_t kReportLimit = 4096;  // /dev/termination-log holds 4 KiB

// Options every command takes. Those that take a value are listed in
// kValueOptions so the command word can be found before parsing.
void DefineCommon(po::options_description& d) {
  d.add_options()
      ("help,h", "show this help")
      ("config,c", po::value<std::string>(), "config file (default: ./schemagate.yaml if present)")
      ("url", po::value<std::string>(), "database URL (overrides DATABASE_URL and the config)")
      ("env,e", po::value<std::string>(), "environment (overrides ENVIRONMENT and the config)")
      ("script-location", po::value<std::string>(), "migrations directory (holds versions/)")
      ("output,o", po::value<std::string>()->default_value("text"), "results format: text or json")
      ("log-format", po::value<std::string>()->default_value("auto"),
       "stderr format: auto (JSON unless a terminal), text or json")
      ("quiet,q", "no progress lines, only results and errors")
      ("report", po::value<std::string>(), "write the JSON outcome to this file (max 4 KiB)")
      ("connect-timeout", po::value<std::string>(), "keep retrying the connection this long (default 30s)")
      ("lock-timeout", po::value<std::string>(), "wait this long for the migration lock (default 5m)")
      ("statement-timeout", po::value<std::string>(), "PostgreSQL statement_timeout for migration SQL")
      ("db-lock-timeout", po::value<std::string>(), "PostgreSQL lock_timeout for migration SQL");
}

const std::set<std::string> kValueOptions = {
    "-c", "--config", "--url", "-e", "--env", "--script-location", "-o", "--output", "--log-format",
    "--report", "--connect-timeout", "--lock-timeout", "--statement-timeout", "--db-lock-timeout",
    "-n", "--namespace", "--kubeconfig", "--context", "--dev-url", "--schema-location"};

std::string GeneralHelp(const std::vector<Command>& commands) {
  std::ostringstream out;
  out << "schemagate " SCHEMAGATE_VERSION
         " - database migrations for PostgreSQL, the Alembic workflow in one binary\n\n"
         "Usage: schemagate [options] <command> [arguments]\n\nCommands:\n";
  for (const Command& c : commands) {
    out << "  " << c.name << std::string(c.name.size() < 12 ? 12 - c.name.size() : 1, ' ')
        << c.summary << "\n";
  }
  po::options_description common("Options for every command");
  DefineCommon(common);
  out << "\n" << common << "\n"
      << "Exit codes: 0 ok, 1 SQL/runtime error, 2 usage/config error, 3 lock wait timed out,\n"
         "            4 validation failed, 5 not at target.\n"
         "Run 'schemagate <command> --help' for a command's arguments.\n";
  return out.str();
}

// "-1" (as in `downgrade -1`) is a relative target, not an option: hand it
// to the positional arguments before the option parser sees a dash.
std::vector<po::option> RelativeTargetAsPositional(std::vector<std::string>& args) {
  std::vector<po::option> out;
  const std::string& a = args.front();
  if (a.size() > 1 && a[0] == '-' &&
      std::all_of(a.begin() + 1, a.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    po::option opt;
    opt.value.push_back(a);
    opt.original_tokens.push_back(a);
    out.push_back(opt);
    args.erase(args.begin());
  }
  return out;
}

std::optional<std::string> Opt(const po::variables_map& vm, const char* name) {
  if (vm.count(name) == 0) return std::nullopt;
  return vm[name].as<std::string>();
}

void WriteReport(const std::string& path, const std::string& command, const Status& status,
                 const Report& report, const Output& out) {
  std::string message = status.message();
  std::string json;
  std::vector<std::string> applied = report.applied;
  size_t message_limit = 1024;  // characters
  for (int attempt = 0; attempt < 8; ++attempt) {
    JsonWriter w;
    w.BeginObject()
        .Field("command", command)
        .Field("status", status.ok() ? "succeeded" : "failed")
        .Field("exit_code", status.exit_code());
    if (report.have_heads) {
      w.Field("from_heads", report.from_heads).Field("to_heads", report.to_heads);
    }
    WriteRunFields(w, report);
    w.Field("applied", applied);
    if (applied.size() != report.applied.size()) {
      w.Field("applied_count", static_cast<int64_t>(report.applied.size()));
    }
    if (!status.ok()) {
      const ErrorLocation& loc = status.location();
      w.Key("error").BeginObject().Field("code", CodeName(status.code())).Field("message", message);
      if (!loc.revision.empty()) w.Field("revision", loc.revision);
      if (!loc.file.empty()) w.Field("file", loc.file).Field("line", loc.line);
      if (!loc.sqlstate.empty()) w.Field("sqlState", loc.sqlstate);
      w.EndObject();
    }
    w.EndObject();
    json = w.str();
    if (json.size() <= kReportLimit) break;
    // Too long: keep the newest applied revisions and shorten the message.
    if (applied.size() > 8) applied.erase(applied.begin(), applied.end() - 8);
    // Cut between characters (the operator copies it into status, and a
    // broken UTF-8 sequence would make the API server refuse that write).
    message = TruncateUtf8(message, message_limit);
    message_limit = std::max<size_t>(message_limit / 4, 64);
  }
  std::ofstream f(path, std::ios::trunc);
  f << json;
  if (!f) out.Warn("could not write the report to " + path);
}

// Replaces this process with schemagate-operator, installed next to this
// binary, running the same command line. Returns only on failure.
Status ExecOperatorBinary(const std::string& command, char** argv) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  std::string dir = ".";
  if (n > 0) {
    std::string path(self, static_cast<size_t>(n));
    dir = path.substr(0, path.rfind('/'));
  }
  const std::string target = dir + "/schemagate-operator";
  std::vector<char*> args{const_cast<char*>(target.c_str())};
  for (char** a = argv + 1; *a != nullptr; ++a) args.push_back(*a);
  args.push_back(nullptr);
  std::cout.flush();
  execv(target.c_str(), args.data());
  return Status::Runtime("'schemagate " + command + "' needs the Kubernetes client, which ships as " + target +
                         " beside this binary, and it cannot be run: " + std::strerror(errno) +
                         ". Install schemagate-operator from the same build (the image has both)");
}

// The first placeholder of a usage line ("downgrade TARGET [--sql]" ->
// "TARGET", "stamp REV... [--purge]" -> "REV..."), or "".
std::string PositionalPlaceholder(const std::string& usage) {
  std::istringstream words(usage);
  std::string word;
  words >> word;  // the command
  while (words >> word) {
    std::string letters = word.substr(0, word.find("..."));
    if (!letters.empty() && std::all_of(letters.begin(), letters.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
      return word;
    }
  }
  return "";
}

}  // namespace

int Main(int argc, char** argv, const KubeHooks* kube) {
  std::vector<Command> commands = ScriptCommands();
  for (Command& c : DatabaseCommands()) commands.push_back(std::move(c));
  for (Command& c : SchemaCommands()) commands.push_back(std::move(c));
  for (Command& c : LintCommands()) commands.push_back(std::move(c));
  for (Command& c : OperatorCommands()) commands.push_back(std::move(c));

  std::vector<std::string> args(argv + 1, argv + argc);
  // Find the command word: the first argument that is neither an option nor
  // an option's value.
  size_t command_index = args.size();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--version" || a == "-V") {
      std::cout << "schemagate " SCHEMAGATE_VERSION " (libpq " << LibpqVersion() << ")\n";
      return 0;
    }
    if (!a.empty() && a[0] == '-') {
      if (kValueOptions.count(a)) ++i;
      continue;
    }
    command_index = i;
    break;
  }
  if (command_index == args.size()) {
    bool help = false;
    for (const std::string& a : args) help = help || a == "-h" || a == "--help";
    std::cout << GeneralHelp(commands);
    if (help) return 0;
    std::cerr << "error: no command given\n";
    return 2;
  }
  std::string name = args[command_index];
  if (name == "revision") name = "create";
  if (name == "help") {
    std::cout << GeneralHelp(commands);
    return 0;
  }
  const Command* command = nullptr;
  for (const Command& c : commands) {
    if (c.name == name) command = &c;
  }
  if (command == nullptr) {
    std::cerr << "error: unknown command '" << name << "'; run 'schemagate --help' for the list\n";
    return 2;
  }
  args.erase(args.begin() + static_cast<long>(command_index));

  po::options_description visible("Options");
  po::positional_options_description positional;
  command->define(visible, positional);
  po::options_description common("Common options");
  DefineCommon(common);
  po::options_description all;
  all.add(visible).add(common);
  po::variables_map vm;
  auto usage_error = [&](const po::error& e) {
    std::cerr << "error: schemagate " << name << ": " << e.what() << "\nusage: schemagate "
              << command->usage << " (see 'schemagate " << name << " --help')\n";
    return 2;
  };
  try {
    po::store(po::command_line_parser(args)
                      .options(all)
                      .positional(positional)
                      .extra_style_parser(RelativeTargetAsPositional)
                      .run(), vm);
  } catch (const po::error& e) {
    return usage_error(e);
  }
  // Help comes before the check for required arguments (notify), so
  // `downgrade --help` needs no target.
  if (vm.count("help")) {
    std::cout << "usage: schemagate " << command->usage << "\n\n"
              << command->summary << "\n\n" << visible << "\n" << common;
    return 0;
  }
  try {
    po::notify(vm);
  } catch (const po::required_option& e) {
    // A missing positional argument is named as the usage line names it
    // (TARGET, REV...), not by the option boost keeps it under (--target).
    // Every command takes at most one positional name (target, rev, revisions).
    const bool is_positional = positional.max_total_count() > 0 &&
                               e.get_option_name() == "--" + positional.name_for_position(0);
    const std::string missing = PositionalPlaceholder(command->usage);
    if (!is_positional || missing.empty()) return usage_error(e);
    std::cerr << "error: schemagate " << name << ": " << missing << " is missing\nusage: schemagate "
              << command->usage << " (see 'schemagate " << name << " --help')\n";
    return 2;
  } catch (const po::error& e) {
    return usage_error(e);
  }

  const std::string output = vm["output"].as<std::string>();
  const std::string log_format = vm["log-format"].as<std::string>();
  if (output != "text" && output != "json") {
    std::cerr << "error: --output must be 'text' or 'json', not '" << output << "'\n";
    return 2;
  }
  if (log_format != "auto" && log_format != "text" && log_format != "json") {
    std::cerr << "error: --log-format must be 'auto', 'text' or 'json', not '" << log_format << "'\n";
    return 2;
  }
  Output out(output == "json" ? Format::kJson : Format::kText, log_format, vm.count("quiet") > 0);

  Flags flags;
  flags.config_path = Opt(vm, "config");
  flags.url = Opt(vm, "url");
  flags.environment = Opt(vm, "env");
  flags.script_location = Opt(vm, "script-location");
  flags.schema_location = Opt(vm, "schema-location");
  flags.dev_url = Opt(vm, "dev-url");
  flags.connect_timeout = Opt(vm, "connect-timeout");
  flags.lock_wait_timeout = Opt(vm, "lock-timeout");
  flags.statement_timeout = Opt(vm, "statement-timeout");
  flags.lock_timeout = Opt(vm, "db-lock-timeout");

  Context ctx(flags, out, kube);
  ctx.report().command = name;
  Status status;
  try {
    const bool hand_over = command->needs_kube && command->needs_kube(vm) && kube == nullptr;
    status = hand_over ? ExecOperatorBinary(name, argv) : command->run(ctx, vm);
  } catch (const std::exception& e) {
    // Every expected failure is a Status; this is a bug, but still no stack trace.
    std::string msg = e.what();
    if (flags.url) msg = RedactSecret(msg, PasswordOf(*flags.url));
    status = Status::Runtime(std::string("internal error: ") + msg);
  }
  if (!status.ok()) out.Error(status);
  if (auto path = Opt(vm, "report")) WriteReport(*path, name, status, ctx.report(), out);
  return status.exit_code();
}

}  // namespace schemagate::cli
