#include "kube/watch_decoder.h"

namespace schemagate::kube {

void LineDecoder::Feed(std::string_view chunk, const std::function<void(std::string_view)>& on_line) {
  size_t start = 0;
  while (start < chunk.size()) {
    size_t nl = chunk.find('\n', start);
    if (nl == std::string_view::npos) {
      partial_.append(chunk.substr(start));
      return;
    }
    std::string_view piece = chunk.substr(start, nl - start);
    start = nl + 1;
    if (!partial_.empty()) {
      partial_.append(piece);
      std::string line;
      line.swap(partial_);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) on_line(line);
    } else {
      if (!piece.empty() && piece.back() == '\r') piece.remove_suffix(1);
      if (!piece.empty()) on_line(piece);
    }
  }
}

}  // namespace schemagate::kube
