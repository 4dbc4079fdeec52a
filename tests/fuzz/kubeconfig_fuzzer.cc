// kubeconfig documents: ParseKubeconfig with the current context and with a
// context named on the command line. Files a document names are read
// relative to the working directory (scripts/fuzz.sh runs in a scratch one).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "kube/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace schemagate;
  const std::string text(reinterpret_cast<const char*>(data), size);

  for (const char* context : {"", "dev"}) {
    Result<kube::ClusterConfig> config = kube::ParseKubeconfig(text, context, "", "kubeconfig");
    if (!config.ok()) {
      FUZZ_CHECK(config.status().code() == Code::kUsage);
      FUZZ_CHECK(config.status().message().rfind("kubeconfig", 0) == 0);
      continue;
    }
    FUZZ_CHECK(!config->server.empty() && config->server.back() != '/');
  }
  return 0;
}
