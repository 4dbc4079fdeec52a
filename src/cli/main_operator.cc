// schemagate-operator: the same command line with the Kubernetes commands
// linked in. `schemagate operator` and `schemagate wait --migration` run it.
#include "cli/app.h"
#include "cli/kube_commands.h"

int main(int argc, char** argv) {
  return schemagate::cli::Main(argc, argv, &schemagate::cli::KubeCommandHooks());
}
