// The command-line entry point: parses flags, dispatches to a command,
// turns its Status into the documented exit code (design.md §6).
#ifndef SCHEMAGATE_CLI_APP_H_
#define SCHEMAGATE_CLI_APP_H_

namespace schemagate::cli {

struct KubeHooks;

// `kube` is null in the runner binary: invocations that need the Kubernetes
// client are handed to schemagate-operator then.
int Main(int argc, char** argv, const KubeHooks* kube = nullptr);

}  // namespace schemagate::cli

#endif  // SCHEMAGATE_CLI_APP_H_
