// Reading the small JSON files of a model directory (config.json,
// preprocessor_config.json, fixture.json) with errors that name the file and
// the key: "…/config.json: 'hidden_size' must be an integer, got string".
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace exporters::io {

// JSON documents the project reads are a few levels deep; deeper nesting is
// refused while parsing because nlohmann's dump() and comparisons recurse
// once per level (a 200000-deep array exhausts the stack).
constexpr int kMaxJsonDepth = 256;
// json::parse with that limit; throws nlohmann::json::exception (parse_error,
// or out_of_range for the depth and for numbers out of range).
nlohmann::json parse_json(std::string_view text);

// Parses a whole file. Throws std::runtime_error naming the file when it is
// missing, unreadable or not valid JSON (with the parser's position).
nlohmann::json read_json_file(const std::filesystem::path& path);
// Same, and the top level must be an object.
nlohmann::json read_json_object_file(const std::filesystem::path& path);

// Where a JSON value sits, for messages: file plus a path such as
// "inputs[2].shape". Cheap to copy; `at` builds the path of a child.
class JsonLocation {
 public:
  explicit JsonLocation(std::filesystem::path file, std::string where = {})
      : file_(std::move(file)), where_(std::move(where)) {}
  JsonLocation at(const std::string& key) const;
  JsonLocation at(size_t index) const;
  // "<file>: 'inputs[2].shape'" or just "<file>" at the top level.
  std::string describe() const;
  const std::filesystem::path& file() const { return file_; }
  const std::string& where() const { return where_; }

 private:
  std::filesystem::path file_;
  std::string where_;
};

// Typed access to `object[key]`. The required forms throw std::runtime_error
// naming the file and key when the key is missing or has another type; the
// optional forms return nullopt when the key is absent or null and throw on
// a wrong type. `object` itself must be a JSON object (else throws).
const nlohmann::json& json_required(const nlohmann::json& object, const std::string& key,
                                    const JsonLocation& loc);
std::string json_string(const nlohmann::json& object, const std::string& key,
                        const JsonLocation& loc);
int64_t json_int(const nlohmann::json& object, const std::string& key, const JsonLocation& loc);
double json_number(const nlohmann::json& object, const std::string& key, const JsonLocation& loc);
bool json_bool(const nlohmann::json& object, const std::string& key, const JsonLocation& loc);
std::vector<int64_t> json_int_list(const nlohmann::json& object, const std::string& key,
                                   const JsonLocation& loc);
std::vector<double> json_number_list(const nlohmann::json& object, const std::string& key,
                                     const JsonLocation& loc);
std::vector<std::string> json_string_list(const nlohmann::json& object, const std::string& key,
                                          const JsonLocation& loc);
const nlohmann::json& json_array(const nlohmann::json& object, const std::string& key,
                                 const JsonLocation& loc);
const nlohmann::json& json_object(const nlohmann::json& object, const std::string& key,
                                  const JsonLocation& loc);

std::optional<std::string> json_optional_string(const nlohmann::json& object,
                                                const std::string& key, const JsonLocation& loc);
std::optional<int64_t> json_optional_int(const nlohmann::json& object, const std::string& key,
                                         const JsonLocation& loc);
std::optional<double> json_optional_number(const nlohmann::json& object, const std::string& key,
                                           const JsonLocation& loc);
std::optional<bool> json_optional_bool(const nlohmann::json& object, const std::string& key,
                                       const JsonLocation& loc);

}  // namespace exporters::io
