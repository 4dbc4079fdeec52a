#include "lint/pg_parser.h"

#include <dlfcn.h>
#include <pg_query.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <vector>

namespace schemagate::lint {
namespace {

// The soname of the libpg_query whose headers we compile against: a
// different version has a different protobuf schema, so no fallback.
constexpr const char* kLibrary = "libpg_query.so.1504.0";

struct Api {
  decltype(&pg_query_parse_protobuf) parse = nullptr;
  decltype(&pg_query_free_protobuf_parse_result) free_parse = nullptr;
  decltype(&pg_query__parse_result__unpack) unpack = nullptr;
  std::string error;  // why it could not be loaded
};

const Api& LoadApi() {
  static Api api;
  static std::once_flag once;
  std::call_once(once, [] {
    void* handle = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      api.error = std::string("cannot load PostgreSQL's parser (") + (why ? why : kLibrary) +
                  "); install the Debian package libpg-query1504.0 (libpg_query 15-4.0.0), "
                  "which 'schemagate lint' and 'schemagate check' need";
      return;
    }
    api.parse = reinterpret_cast<decltype(api.parse)>(dlsym(handle, "pg_query_parse_protobuf"));
    api.free_parse = reinterpret_cast<decltype(api.free_parse)>(
        dlsym(handle, "pg_query_free_protobuf_parse_result"));
    api.unpack = reinterpret_cast<decltype(api.unpack)>(dlsym(handle, "pg_query__parse_result__unpack"));
    if (!api.parse || !api.free_parse || !api.unpack) {
      api.error = std::string(kLibrary) + " lacks the functions schemagate calls; install libpg-query1504.0 15-4.0.0";
      return;
    }
    // The parser keeps a memory context per thread; give the main thread's
    // back at exit, so leak checkers see a clean process.
    if (auto exit_fn = reinterpret_cast<void (*)()>(dlsym(handle, "pg_query_exit"))) std::atexit(exit_fn);
  });
  return api;
}

// PostgreSQL reports an error position in characters (1-based); the tree's
// locations are bytes.
int CharacterToByteOffset(const std::string& text, int character) {
  int seen = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (seen == character) return static_cast<int>(i);
      ++seen;
    }
  }
  return static_cast<int>(text.size());
}

}  // namespace

class TreeArena {
 public:
  static void* Alloc(void* self, size_t size) { return static_cast<TreeArena*>(self)->Take(size); }
  static void Free(void*, void*) {}  // everything goes with the arena

  void* Take(size_t size) {
    size = (size + 15) & ~static_cast<size_t>(15);
    if (size > kBlock / 4) {
      blocks_.emplace_back(new unsigned char[size]);
      return blocks_.back().get();
    }
    if (blocks_.empty() || used_ + size > kBlock) {
      blocks_.emplace_back(new unsigned char[kBlock]);
      current_ = blocks_.back().get();
      used_ = 0;
    }
    void* out = current_ + used_;
    used_ += size;
    return out;
  }

 private:
  static constexpr size_t kBlock = 64 * 1024;
  std::vector<std::unique_ptr<unsigned char[]>> blocks_;
  unsigned char* current_ = nullptr;
  size_t used_ = 0;
};

void TreeArenaDeleter::operator()(TreeArena* arena) const { delete arena; }


Result<ParsedSql> ParseSql(const std::string& sql) {
  const Api& api = LoadApi();
  if (!api.error.empty()) return Status::Runtime(api.error);
  PgQueryProtobufParseResult raw = api.parse(sql.c_str());
  ParsedSql out;
  if (raw.error != nullptr) {
    out.error = raw.error->message != nullptr ? raw.error->message : "syntax error";
    if (raw.error->cursorpos > 0) out.error_offset = CharacterToByteOffset(sql, raw.error->cursorpos - 1);
  } else {
    out.arena.reset(new TreeArena);
    ProtobufCAllocator allocator{&TreeArena::Alloc, &TreeArena::Free, out.arena.get()};
    out.tree = api.unpack(&allocator, raw.parse_tree.len, reinterpret_cast<const uint8_t*>(raw.parse_tree.data));
    if (out.tree == nullptr) out.error = "PostgreSQL's parser returned a tree it cannot read back";
  }
  api.free_parse(raw);
  return out;
}

}  // namespace schemagate::lint
