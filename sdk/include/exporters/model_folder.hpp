// What a plugin sees of a model folder: config.json and
// preprocessor_config.json as read-only JSON views whose typed getters throw
// ConfigError naming the file and key, and the folder itself for tokenizer,
// vocabulary or pooling files. No JSON library type crosses the plugin
// boundary: JsonView is an opaque handle implemented in libexporters-sdk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace exporters {

// A bad or unsupported value in a model's JSON file; the message names the
// file and the key: "config.json: 'hidden_act' = "swish2": not one of ...".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class JsonView {
 public:
  // An empty object; `file` names it in messages.
  explicit JsonView(std::string file = "(none)");
  // Parses `text`; throws ConfigError naming `file` when it is not JSON.
  static JsonView parse(const std::string& text, std::string file);
  // Reads and parses a file; throws ConfigError naming it.
  static JsonView read_file(const std::filesystem::path& file);

  // Where this view sits, for messages: "…/config.json" or
  // "…/config.json: 'vision_config'".
  std::string where() const;
  const std::string& file() const { return file_; }

  bool is_object() const;
  bool empty() const;                          // not an object, or an object without keys
  bool has(const std::string& key) const;      // present and not null
  std::vector<std::string> keys() const;       // sorted

  // Required forms throw ConfigError when the key is missing or mistyped;
  // the fallback forms return `fallback` when it is absent or null and
  // throw when it is present with another type. Integral floats (224.0)
  // are accepted as integers.
  int64_t integer(const std::string& key) const;
  int64_t integer(const std::string& key, int64_t fallback) const;
  double number(const std::string& key) const;
  double number(const std::string& key, double fallback) const;
  bool boolean(const std::string& key) const;
  bool boolean(const std::string& key, bool fallback) const;
  std::string string(const std::string& key) const;
  std::string string(const std::string& key, std::string fallback) const;
  std::vector<int64_t> integers(const std::string& key) const;
  std::vector<int64_t> integers(const std::string& key, std::vector<int64_t> fallback) const;
  std::vector<double> numbers(const std::string& key) const;
  std::vector<double> numbers(const std::string& key, std::vector<double> fallback) const;
  std::vector<std::string> strings(const std::string& key) const;
  std::vector<std::string> strings(const std::string& key, std::vector<std::string> fallback) const;
  // A nested object (throws when missing or not an object).
  JsonView object(const std::string& key) const;
  // An object of strings (id2label, label2id): key/value pairs as written,
  // in key order. Empty when absent.
  std::vector<std::pair<std::string, std::string>> string_map(const std::string& key) const;
  // The member as JSON text ("null" when absent), for values of any type.
  std::string text(const std::string& key) const;
  std::string dump() const;                    // the whole view as compact JSON

  // The one error for a value the caller cannot handle:
  //   <file>: 'key' = <value as JSON>: <why>
  [[noreturn]] void reject(const std::string& key, const std::string& why) const;

 private:
  struct Node;
  JsonView(std::shared_ptr<const Node> root, const void* at, std::string file, std::string path);
  std::shared_ptr<const Node> root_;  // keeps the parsed document alive
  const void* at_ = nullptr;          // the JSON value this view looks at
  std::string file_;
  std::string path_;                  // "vision_config" for nested views, "" at the top
};

// The model folder a task is resolved against and a graph is built from.
struct ModelFolder {
  std::filesystem::path dir;
  JsonView config{"config.json"};                    // config.json, or an empty object
  JsonView preprocessor{"preprocessor_config.json"}; // preprocessor_config.json, or an empty object
  std::string model_type;                            // config's model_type, "" when unknown
  std::string hf_class;                              // the HF class being exported

  bool has_file(const std::string& name) const;      // a regular file `name` inside `dir`
  // Reads dir/name as JSON (throws ConfigError naming it).
  JsonView json_file(const std::string& name) const;
};

}  // namespace exporters
