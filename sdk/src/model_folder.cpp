// JsonView over nlohmann::json, kept out of the public header so plugins
// never depend on the JSON library's layout.
#include "exporters/model_folder.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace exporters {

namespace fs = std::filesystem;
using nlohmann::json;

struct JsonView::Node {
  json value;
};

namespace {

const json& value_at(const void* at) { return *static_cast<const json*>(at); }

std::string short_dump(const json& v) {
  std::string text = v.dump();
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

}  // namespace

JsonView::JsonView(std::string file) : file_(std::move(file)) {
  auto node = std::make_shared<Node>();
  node->value = json::object();
  at_ = &node->value;
  root_ = std::move(node);
}

JsonView::JsonView(std::shared_ptr<const Node> root, const void* at, std::string file, std::string path)
    : root_(std::move(root)), at_(at), file_(std::move(file)), path_(std::move(path)) {}

JsonView JsonView::parse(const std::string& text, std::string file) {
  auto node = std::make_shared<Node>();
  try {
    node->value = json::parse(text);
  } catch (const json::exception& e) {
    throw ConfigError(fmt::format("{}: not valid JSON ({})", file, e.what()));
  }
  const void* at = &node->value;
  return JsonView(std::move(node), at, std::move(file), "");
}

JsonView JsonView::read_file(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) throw ConfigError(fmt::format("{}: file not found", file.string()));
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot be read", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), file.string());
}

std::string JsonView::where() const { return path_.empty() ? file_ : fmt::format("{}: '{}'", file_, path_); }

bool JsonView::is_object() const { return value_at(at_).is_object(); }
bool JsonView::empty() const { return !is_object() || value_at(at_).empty(); }

namespace {

const json* member(const json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

bool JsonView::has(const std::string& key) const { return member(value_at(at_), key) != nullptr; }

std::vector<std::string> JsonView::keys() const {
  std::vector<std::string> out;
  if (is_object())
    for (const auto& item : value_at(at_).items()) out.push_back(item.key());
  return out;  // nlohmann::json objects iterate in key order
}

namespace {

// Typed reads shared by the required and fallback forms.
struct Reader {
  const JsonView& view;
  const std::string& key;
  [[noreturn]] void wrong(const json& v, const char* expected) const {
    std::string where = view.where();
    throw ConfigError(fmt::format("{}: '{}' must be {}, got {}", where, key, expected, short_dump(v)));
  }
  int64_t integer(const json& v) const {
    if (v.is_number_integer()) {
      if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) wrong(v, "a 64-bit integer");
      return v.get<int64_t>();
    }
    if (v.is_number_float()) {
      double d = v.get<double>();
      if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.2e18) return static_cast<int64_t>(d);
    }
    wrong(v, "an integer");
  }
  double number(const json& v) const {
    if (!v.is_number()) wrong(v, "a number");
    return v.get<double>();
  }
  bool boolean(const json& v) const {
    if (!v.is_boolean()) wrong(v, "true or false");
    return v.get<bool>();
  }
  std::string string(const json& v) const {
    if (!v.is_string()) wrong(v, "a string");
    return v.get<std::string>();
  }
  template <class T, class F>
  std::vector<T> list(const json& v, F one, const char* expected) const {
    if (!v.is_array()) wrong(v, expected);
    std::vector<T> out;
    for (const auto& item : v) out.push_back((this->*one)(item));
    return out;
  }
};

}  // namespace

#define EXPORTERS_JSON_GETTERS(TYPE, NAME, READ)                                                   \
  TYPE JsonView::NAME(const std::string& key) const {                                              \
    const json* v = member(value_at(at_), key);                                                    \
    if (!v) throw ConfigError(fmt::format("{}: '{}' is missing", where(), key));                   \
    Reader r{*this, key};                                                                          \
    return READ;                                                                                   \
  }                                                                                                \
  TYPE JsonView::NAME(const std::string& key, TYPE fallback) const {                               \
    const json* v = member(value_at(at_), key);                                                    \
    if (!v) return fallback;                                                                       \
    Reader r{*this, key};                                                                          \
    return READ;                                                                                   \
  }

EXPORTERS_JSON_GETTERS(int64_t, integer, r.integer(*v))
EXPORTERS_JSON_GETTERS(double, number, r.number(*v))
EXPORTERS_JSON_GETTERS(bool, boolean, r.boolean(*v))
EXPORTERS_JSON_GETTERS(std::string, string, r.string(*v))
EXPORTERS_JSON_GETTERS(std::vector<int64_t>, integers, r.list<int64_t>(*v, &Reader::integer, "a list of integers"))
EXPORTERS_JSON_GETTERS(std::vector<double>, numbers, r.list<double>(*v, &Reader::number, "a list of numbers"))
EXPORTERS_JSON_GETTERS(std::vector<std::string>, strings,
                       r.list<std::string>(*v, &Reader::string, "a list of strings"))
#undef EXPORTERS_JSON_GETTERS

JsonView JsonView::object(const std::string& key) const {
  const json* v = member(value_at(at_), key);
  if (!v) throw ConfigError(fmt::format("{}: '{}' is missing", where(), key));
  if (!v->is_object()) Reader{*this, key}.wrong(*v, "an object");
  return JsonView(root_, v, file_, path_.empty() ? key : path_ + "." + key);
}

std::vector<std::pair<std::string, std::string>> JsonView::string_map(const std::string& key) const {
  std::vector<std::pair<std::string, std::string>> out;
  const json* v = member(value_at(at_), key);
  if (!v) return out;
  Reader r{*this, key};
  if (!v->is_object()) r.wrong(*v, "an object of strings");
  for (const auto& item : v->items()) {
    if (item.value().is_string()) out.emplace_back(item.key(), item.value().get<std::string>());
    else if (item.value().is_number_integer()) out.emplace_back(item.key(), std::to_string(item.value().get<int64_t>()));
    else r.wrong(item.value(), "an object of strings");
  }
  return out;
}

std::string JsonView::text(const std::string& key) const {
  const auto* v = member(value_at(at_), key);
  return v ? v->dump() : "null";
}

std::string JsonView::dump() const { return value_at(at_).dump(); }

void JsonView::reject(const std::string& key, const std::string& why) const {
  throw ConfigError(fmt::format("{}: '{}' = {}: {}", where(), key, short_dump(
      member(value_at(at_), key) ? *member(value_at(at_), key) : nlohmann::json(nullptr)), why));
}

bool ModelFolder::has_file(const std::string& name) const {
  std::error_code ec;
  return fs::is_regular_file(dir / name, ec);
}

JsonView ModelFolder::json_file(const std::string& name) const { return JsonView::read_file(dir / name); }

}  // namespace exporters
