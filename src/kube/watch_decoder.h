// Watch streams are newline-delimited JSON, and a chunk may end anywhere —
// in the middle of a line or of a UTF-8 sequence. This reassembles lines.
#ifndef SCHEMAGATE_KUBE_WATCH_DECODER_H_
#define SCHEMAGATE_KUBE_WATCH_DECODER_H_

#include <functional>
#include <string>
#include <string_view>

namespace schemagate::kube {

class LineDecoder {
 public:
  // Calls `on_line` for each complete, non-empty line in `chunk` (plus what
  // earlier chunks left over). A partial last line waits for the next chunk.
  void Feed(std::string_view chunk, const std::function<void(std::string_view)>& on_line);
  // Bytes held back waiting for their newline.
  size_t pending() const { return partial_.size(); }

 private:
  std::string partial_;
};

}  // namespace schemagate::kube

#endif  // SCHEMAGATE_KUBE_WATCH_DECODER_H_
