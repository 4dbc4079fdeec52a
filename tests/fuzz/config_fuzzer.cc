// schemagate.yaml: ParseConfigFile on arbitrary text. Every failure is a
// kUsage Status; a success holds only values the checks accept.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/config.h"
#include "core/duration.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace schemagate;
  const std::string text(reinterpret_cast<const char*>(data), size);

  Result<ConfigFile> config = ParseConfigFile("schemagate.yaml", text);
  if (!config.ok()) {
    FUZZ_CHECK(config.status().code() == Code::kUsage);
    FUZZ_CHECK(config.status().message().rfind("schemagate.yaml", 0) == 0);
    return 0;
  }
  FUZZ_CHECK(config->log_table != config->version_table);
  for (const auto* d : {&config->lock_wait_timeout, &config->connect_timeout,
                        &config->statement_timeout, &config->lock_timeout}) {
    if (d->has_value()) FUZZ_CHECK(ParseDuration(**d).ok());
  }
  for (const auto& [name, env] : config->environments) {
    FUZZ_CHECK(!name.empty());
    FUZZ_CHECK(env.url.empty() || env.url_env.empty());
  }
  return 0;
}
