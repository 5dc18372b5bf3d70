#include "json_config.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace exporters::io {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

[[noreturn]] void fail(const fs::path& path, const std::string& problem) {
  throw std::runtime_error(fmt::format("{}: {}", path.string(), problem));
}

[[noreturn]] void wrong_type(const JsonLocation& loc, const char* expected, const json& got) {
  throw std::runtime_error(fmt::format("{} must be {}, got {}", loc.describe(), expected,
                                       got.type_name()));
}

const json* find_key(const json& object, const std::string& key, const JsonLocation& loc) {
  if (!object.is_object()) wrong_type(loc, "an object", object);
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

int64_t as_int(const json& v, const JsonLocation& loc) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      throw std::runtime_error(fmt::format("{} is too large for a 64-bit integer: {}",
                                           loc.describe(), v.dump()));
    return v.get<int64_t>();
  }
  // Some configs write integral values as floats (e.g. 224.0).
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.2e18)
      return static_cast<int64_t>(d);
  }
  wrong_type(loc, "an integer", v);
}

double as_number(const json& v, const JsonLocation& loc) {
  if (!v.is_number()) wrong_type(loc, "a number", v);
  return v.get<double>();
}

}  // namespace

json parse_json(std::string_view text) {
  const json::parser_callback_t limit_depth = [](int depth, json::parse_event_t event, json&) {
    if (depth >= kMaxJsonDepth && (event == json::parse_event_t::object_start || event == json::parse_event_t::array_start))
      throw json::out_of_range::create(410, fmt::format("nesting deeper than {} levels", kMaxJsonDepth), nullptr);
    return true;
  };
  return json::parse(text.begin(), text.end(), limit_depth);
}

json read_json_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path, "file not found");
  if (fs::is_directory(path, ec)) fail(path, "is a directory, expected a JSON file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) fail(path, "read error");
  try {
    return parse_json(text.str());
  } catch (const json::exception& e) {
    fail(path, fmt::format("not valid JSON: {}", e.what()));
  }
}

json read_json_object_file(const fs::path& path) {
  json j = read_json_file(path);
  if (!j.is_object())
    fail(path, fmt::format("the top level must be a JSON object, got {}", j.type_name()));
  return j;
}

JsonLocation JsonLocation::at(const std::string& key) const {
  return JsonLocation(file_, where_.empty() ? key : where_ + "." + key);
}

JsonLocation JsonLocation::at(size_t index) const {
  return JsonLocation(file_, fmt::format("{}[{}]", where_, index));
}

std::string JsonLocation::describe() const {
  if (where_.empty()) return fmt::format("{}: the top level", file_.string());
  return fmt::format("{}: '{}'", file_.string(), where_);
}

const json& json_required(const json& object, const std::string& key, const JsonLocation& loc) {
  const json* v = find_key(object, key, loc);
  if (v == nullptr)
    throw std::runtime_error(fmt::format("{}: missing key '{}'", loc.file().string(),
                                         loc.at(key).where()));
  return *v;
}

std::string json_string(const json& object, const std::string& key, const JsonLocation& loc) {
  const json& v = json_required(object, key, loc);
  if (!v.is_string()) wrong_type(loc.at(key), "a string", v);
  return v.get<std::string>();
}

int64_t json_int(const json& object, const std::string& key, const JsonLocation& loc) {
  return as_int(json_required(object, key, loc), loc.at(key));
}

double json_number(const json& object, const std::string& key, const JsonLocation& loc) {
  return as_number(json_required(object, key, loc), loc.at(key));
}

bool json_bool(const json& object, const std::string& key, const JsonLocation& loc) {
  const json& v = json_required(object, key, loc);
  if (!v.is_boolean()) wrong_type(loc.at(key), "a boolean", v);
  return v.get<bool>();
}

const json& json_array(const json& object, const std::string& key, const JsonLocation& loc) {
  const json& v = json_required(object, key, loc);
  if (!v.is_array()) wrong_type(loc.at(key), "an array", v);
  return v;
}

const json& json_object(const json& object, const std::string& key, const JsonLocation& loc) {
  const json& v = json_required(object, key, loc);
  if (!v.is_object()) wrong_type(loc.at(key), "an object", v);
  return v;
}

std::vector<int64_t> json_int_list(const json& object, const std::string& key,
                                   const JsonLocation& loc) {
  const json& arr = json_array(object, key, loc);
  std::vector<int64_t> out;
  for (size_t i = 0; i < arr.size(); ++i) out.push_back(as_int(arr[i], loc.at(key).at(i)));
  return out;
}

std::vector<double> json_number_list(const json& object, const std::string& key,
                                     const JsonLocation& loc) {
  const json& arr = json_array(object, key, loc);
  std::vector<double> out;
  for (size_t i = 0; i < arr.size(); ++i) out.push_back(as_number(arr[i], loc.at(key).at(i)));
  return out;
}

std::vector<std::string> json_string_list(const json& object, const std::string& key,
                                          const JsonLocation& loc) {
  const json& arr = json_array(object, key, loc);
  std::vector<std::string> out;
  for (size_t i = 0; i < arr.size(); ++i) {
    if (!arr[i].is_string()) wrong_type(loc.at(key).at(i), "a string", arr[i]);
    out.push_back(arr[i].get<std::string>());
  }
  return out;
}

std::optional<std::string> json_optional_string(const json& object, const std::string& key,
                                                const JsonLocation& loc) {
  const json* v = find_key(object, key, loc);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) wrong_type(loc.at(key), "a string", *v);
  return v->get<std::string>();
}

std::optional<int64_t> json_optional_int(const json& object, const std::string& key,
                                         const JsonLocation& loc) {
  const json* v = find_key(object, key, loc);
  if (v == nullptr || v->is_null()) return std::nullopt;
  return as_int(*v, loc.at(key));
}

std::optional<double> json_optional_number(const json& object, const std::string& key,
                                           const JsonLocation& loc) {
  const json* v = find_key(object, key, loc);
  if (v == nullptr || v->is_null()) return std::nullopt;
  return as_number(*v, loc.at(key));
}

std::optional<bool> json_optional_bool(const json& object, const std::string& key,
                                       const JsonLocation& loc) {
  const json* v = find_key(object, key, loc);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_boolean()) wrong_type(loc.at(key), "a boolean", *v);
  return v->get<bool>();
}

}  // namespace exporters::io
