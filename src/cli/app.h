// The command-line entry point: parses flags, dispatches to a command,
// turns its Status into the documented exit code (design.md §6).
#ifndef SCHEMAGATE_CLI_APP_H_
#define SCHEMAGATE_CLI_APP_H_

namespace schemagate::cli {

int Main(int argc, char** argv);

}  // namespace schemagate::cli

#endif  // SCHEMAGATE_CLI_APP_H_
