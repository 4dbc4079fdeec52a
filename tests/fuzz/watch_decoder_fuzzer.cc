// Watch streams: the bytes of one response, fed to LineDecoder whole and in
// chunks cut at arbitrary places (as the network delivers them); both must
// give the same lines. Each line then goes through ParseWatchEvent and the
// reads the informer makes of an event.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "kube/client.h"
#include "kube/watch_decoder.h"

namespace schemagate::kube {
namespace {

std::vector<std::string> Decode(std::string_view stream, size_t chunk_seed, size_t* pending) {
  LineDecoder decoder;
  std::vector<std::string> lines;
  auto collect = [&lines](std::string_view line) { lines.emplace_back(line); };
  if (chunk_seed == 0) {
    decoder.Feed(stream, collect);
  } else {
    // Chunk sizes 1..13, varying with the input so every cut position occurs.
    size_t pos = 0;
    for (size_t k = 0; pos < stream.size(); ++k) {
      const size_t n = 1 + (k * 7 + chunk_seed) % 13;
      decoder.Feed(stream.substr(pos, n), collect);
      pos += n;
    }
  }
  *pending = decoder.pending();
  return lines;
}

}  // namespace
}  // namespace schemagate::kube

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace schemagate::kube;
  const std::string_view stream(reinterpret_cast<const char*>(data), size);

  size_t pending_whole = 0, pending_chunked = 0;
  const std::vector<std::string> lines = Decode(stream, 0, &pending_whole);
  const std::vector<std::string> chunked = Decode(stream, size | 1, &pending_chunked);
  FUZZ_CHECK(lines == chunked);
  FUZZ_CHECK(pending_whole == pending_chunked);

  for (const std::string& line : lines) {
    FUZZ_CHECK(!line.empty() && line.find('\n') == std::string::npos);
    WatchEvent event;
    std::string error;
    if (!ParseWatchEvent(line, &event, &error)) {
      FUZZ_CHECK(!error.empty());
      continue;
    }
    FUZZ_CHECK(!event.type.empty());
    (void)GetInt(event.object, {"code"});
    (void)GetString(event.object, {"metadata", "resourceVersion"});
    (void)GetString(event.object, {"metadata", "namespace"});
    (void)GetString(event.object, {"metadata", "name"});
  }
  return 0;
}
