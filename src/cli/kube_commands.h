// The Kubernetes commands for schemagate-operator (see KubeHooks).
#ifndef SCHEMAGATE_CLI_KUBE_COMMANDS_H_
#define SCHEMAGATE_CLI_KUBE_COMMANDS_H_

#include "cli/context.h"

namespace schemagate::cli {

const KubeHooks& KubeCommandHooks();

}  // namespace schemagate::cli

#endif  // SCHEMAGATE_CLI_KUBE_COMMANDS_H_
