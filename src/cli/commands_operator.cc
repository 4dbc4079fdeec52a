// `schemagate operator`: its options and help. The controller itself lives
// in kube_commands.cc, linked only into schemagate-operator.
#include "cli/context.h"

namespace schemagate::cli {

std::vector<Command> OperatorCommands() {
  std::vector<Command> c;
  c.push_back({"operator", "operator [--namespace NS] [--kubeconfig FILE] [--leader-elect=false]",
               "run the controller for Migration resources",
               [](po::options_description& d, po::positional_options_description&) {
                 d.add_options()("namespace,n", po::value<std::string>(), "watch one namespace (default: all)")
                     ("kubeconfig", po::value<std::string>(), "kubeconfig file (default: in-cluster, KUBECONFIG)")
                     ("context", po::value<std::string>(), "kubeconfig context")
                     ("leader-elect", po::value<bool>()->default_value(true), "elect a leader through a Lease")
                     ("leader-elect-namespace", po::value<std::string>(), "namespace of the Lease")
                     ("metrics-addr", po::value<std::string>()->default_value(":8080"),
                      "Prometheus /metrics on HOST:PORT or :PORT (all interfaces); port 0 picks a free port, "
                      "logged at start; 'off' turns it off")
                     ("health-addr", po::value<std::string>()->default_value(":8081"),
                      "/healthz and /readyz on HOST:PORT or :PORT; port 0 picks a free port; 'off' turns it off")
                     ("max-concurrent-runs", po::value<int>()->default_value(4), "runner Jobs at once")
                     ("run-started-event-after", po::value<std::string>()->default_value("10s"),
                      "a run still going after this long gets a RunStarted Event and its activeRun")
                     ("runner-image", po::value<std::string>()->default_value("schemagate:latest"),
                      "runner image when a Migration names none");
               },
               [](Context& ctx, const po::variables_map& vm) { return ctx.kube().run_operator(ctx, vm); },
               [](const po::variables_map&) { return true; }});
  return c;
}

}  // namespace schemagate::cli
