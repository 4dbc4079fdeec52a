// The lint report as text, JSON and GitHub workflow commands.
#include <algorithm>

#include "core/json_writer.h"
#include "lint/lint.h"

namespace schemagate {

int LintReport::errors() const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(), [](const LintFinding& f) {
    return f.severity == LintSeverity::kError;
  }));
}

int LintReport::warnings() const { return static_cast<int>(findings.size()) - errors(); }

std::string RenderLintFindingText(const LintFinding& f) {
  return f.file + ":" + std::to_string(f.line) + ":" + std::to_string(f.column) + ": " + LintSeverityName(f.severity) +
         ": [" + f.rule + "] " + f.message + "\n    why: " + f.why + "\n    safe alternative: " + f.fix + "\n";
}

std::string RenderLintText(const LintReport& report) {
  std::string out;
  for (const LintFinding& f : report.findings) out += RenderLintFindingText(f);
  return out;
}

std::string RenderLintJson(const LintReport& report) {
  JsonWriter w;
  w.BeginObject()
      .Field("environment", report.environment)
      .Field("revisions", report.revisions)
      .Field("errors", report.errors())
      .Field("warnings", report.warnings())
      .Key("findings")
      .BeginArray();
  for (const LintFinding& f : report.findings) {
    w.BeginObject()
        .Field("file", f.file)
        .Field("line", f.line)
        .Field("column", f.column)
        .Field("revision", f.revision)
        .Field("rule", f.rule)
        .Field("severity", LintSeverityName(f.severity))
        .Field("message", f.message)
        .Field("why", f.why)
        .Field("fix", f.fix)
        .EndObject();
  }
  w.EndArray().Key("statements").BeginArray();
  for (const LintStatement& s : report.statements) {
    w.BeginObject()
        .Field("file", s.file)
        .Field("line", s.line)
        .Field("column", s.column)
        .Field("revision", s.revision)
        .Field("command", s.command)
        .Key("locks")
        .BeginArray();
    for (const TableLock& l : s.locks) {
      w.BeginObject().Field("relation", l.relation).Field("mode", l.mode).Field("existing", l.existing).EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndArray().EndObject();
  return w.str();
}

std::string GithubEscapeData(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '%') {
      out += "%25";
    } else if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else {
      out += c;
    }
  }
  return out;
}

std::string GithubEscapeProperty(std::string_view text) {
  std::string out;
  for (char c : GithubEscapeData(text)) {
    if (c == ':') {
      out += "%3A";
    } else if (c == ',') {
      out += "%2C";
    } else {
      out += c;
    }
  }
  return out;
}

std::string RenderLintGithub(const LintReport& report) {
  std::string out;
  for (const LintFinding& f : report.findings) {
    out += std::string("::") + LintSeverityName(f.severity) + " file=" + GithubEscapeProperty(f.file) +
           ",line=" + std::to_string(f.line) + ",col=" + std::to_string(f.column) +
           ",title=" + GithubEscapeProperty(f.rule) +
           "::" + GithubEscapeData(f.message + "\nwhy: " + f.why + "\nsafe alternative: " + f.fix) + "\n";
  }
  return out;
}

}  // namespace schemagate
