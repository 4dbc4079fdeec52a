// A small streaming JSON writer for `--output json` and `--report`.
// Produces compact, valid JSON (RFC 8259): no whitespace between tokens;
// in strings the quote, the backslash and control characters are escaped
// (\n, \t, ..., other controls as a u00XX escape), well-formed UTF-8 passes
// through unchanged and each ill-formed byte sequence becomes one U+FFFD, so
// the output always parses.
// The caller keeps the structure balanced (Key only inside an object, one
// value after each Key, every Begin with its End); the writer does not check.
#ifndef SCHEMAGATE_CORE_JSON_WRITER_H_
#define SCHEMAGATE_CORE_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace schemagate {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // Inside an object: the next value's key.
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  JsonWriter& StringArray(const std::vector<std::string>& values);

  // Shorthands for Key(k).Value(v).
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, int value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, bool value) { return Key(key).Bool(value); }
  JsonWriter& Field(std::string_view key, const std::vector<std::string>& values) {
    return Key(key).StringArray(values);
  }

  const std::string& str() const { return out_; }

 private:
  void Separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

// Appends `value` as a JSON string literal (with quotes) to `out`.
void AppendJsonString(std::string& out, std::string_view value);

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_JSON_WRITER_H_
