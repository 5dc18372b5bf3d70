#include "registry/manifest.hpp"

#include <cstdint>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace exporters::registry {

namespace {

using nlohmann::json;

// A manifest is two levels deep; deeper nesting is refused while parsing
// (nlohmann's dump and comparisons recurse once per level).
constexpr int kMaxDepth = 64;

const json& require(const json& doc, const char* key, json::value_t type, const char* type_name) {
  auto it = doc.find(key);
  if (it == doc.end()) throw ManifestError(fmt::format("manifest has no \"{}\" field", key));
  bool ok = it->type() == type ||
            (type == json::value_t::number_integer && it->type() == json::value_t::number_unsigned);
  if (!ok) throw ManifestError(fmt::format("manifest field \"{}\" must be {}", key, type_name));
  return *it;
}

std::string require_string(const json& doc, const char* key) {
  std::string value = require(doc, key, json::value_t::string, "a string").get<std::string>();
  if (value.empty()) throw ManifestError(fmt::format("manifest field \"{}\" is empty", key));
  return value;
}

}  // namespace

PluginManifest parse_manifest(const std::string& text, const std::filesystem::path& manifest_path) {
  json doc;
  try {
    doc = json::parse(text, [](int depth, json::parse_event_t event, json&) {
      if (depth >= kMaxDepth && (event == json::parse_event_t::object_start || event == json::parse_event_t::array_start))
        throw json::out_of_range::create(410, fmt::format("nesting deeper than {} levels", kMaxDepth), nullptr);
      return true;
    });
  } catch (const json::exception& e) {
    // parse_error, or out_of_range for a number such as 1e400; nlohmann's
    // message starts with "[json.exception.parse_error.101] parse error at ..."
    std::string what = e.what();
    auto pos = what.find("] ");
    throw ManifestError("manifest is not valid JSON: " +
                        (pos == std::string::npos ? what : what.substr(pos + 2)));
  }
  if (!doc.is_object()) throw ManifestError("manifest must be a JSON object");

  PluginManifest manifest;
  manifest.manifest_path = manifest_path;
  manifest.name = require_string(doc, "name");
  manifest.version = require_string(doc, "version");
  const json& abi = require(doc, "abi", json::value_t::number_integer, "an integer");
  // get<int>() would silently wrap a larger number into some other version.
  if (abi.is_number_unsigned() ? abi.get<uint64_t>() > INT32_MAX
                               : abi.get<int64_t>() < INT32_MIN || abi.get<int64_t>() > INT32_MAX)
    throw ManifestError(fmt::format("manifest field \"abi\" is out of range: {}", abi.dump()));
  manifest.abi = abi.get<int>();
  const json& types = require(doc, "model_types", json::value_t::array, "an array of strings");
  if (types.empty()) throw ManifestError("manifest field \"model_types\" is empty");
  for (const auto& t : types) {
    if (!t.is_string() || t.get<std::string>().empty())
      throw ManifestError("manifest field \"model_types\" must hold non-empty strings");
    manifest.model_types.push_back(t.get<std::string>());
  }
  manifest.library = require_string(doc, "library");
  std::filesystem::path library(manifest.library);
  if (library.is_absolute() || library.has_parent_path()) {
    throw ManifestError(fmt::format(
        "manifest field \"library\" must be a file name beside the manifest, not \"{}\"",
        manifest.library));
  }
  manifest.library_path = manifest_path.parent_path() / library;
  if (auto it = doc.find("tasks"); it != doc.end()) {
    if (!it->is_array()) throw ManifestError("manifest field \"tasks\" must be an array of objects");
    std::vector<ManifestTask> tasks;
    for (const auto& t : *it) {
      auto text = [&](const char* key) {
        auto f = t.is_object() ? t.find(key) : t.end();
        if (f == t.end() || !f->is_string() || f->get<std::string>().empty())
          throw ManifestError(fmt::format(
              "manifest field \"tasks\" must hold objects with non-empty \"task\" and \"hf_class\" strings"));
        return f->get<std::string>();
      };
      tasks.push_back({text("task"), text("hf_class")});
    }
    manifest.tasks = std::move(tasks);
  }
  return manifest;
}

PluginManifest read_manifest(const std::filesystem::path& manifest_path) {
  std::ifstream in(manifest_path, std::ios::binary);
  if (!in) throw ManifestError("cannot read manifest");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_manifest(buffer.str(), manifest_path);
}

std::string manifest_to_json(const PluginManifest& manifest) {
  // Written by hand so the fields keep the documented order (nlohmann sorts keys).
  auto str = [](const std::string& v) { return json(v).dump(); };
  std::string out = "{\n";
  out += fmt::format("  \"name\": {},\n", str(manifest.name));
  out += fmt::format("  \"version\": {},\n", str(manifest.version));
  out += fmt::format("  \"abi\": {},\n", manifest.abi);
  out += fmt::format("  \"model_types\": {},\n", json(manifest.model_types).dump());
  out += fmt::format("  \"library\": {}", str(manifest.library));
  if (manifest.tasks) {
    out += ",\n  \"tasks\": [";
    for (size_t i = 0; i < manifest.tasks->size(); ++i) {
      const ManifestTask& t = (*manifest.tasks)[i];
      out += fmt::format("{}\n    {{\"task\": {}, \"hf_class\": {}}}", i ? "," : "", str(t.task), str(t.hf_class));
    }
    out += manifest.tasks->empty() ? "]" : "\n  ]";
  }
  return out + "\n}\n";
}

void write_manifest(const PluginManifest& manifest, const std::filesystem::path& out) {
  std::filesystem::path tmp = out;
  tmp += ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw ManifestError(fmt::format("{}: cannot open for writing", tmp.string()));
    f << manifest_to_json(manifest);
    if (!f.flush()) throw ManifestError(fmt::format("{}: write failed", tmp.string()));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, out, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw ManifestError(fmt::format("{}: cannot move the written manifest into place", out.string()));
  }
}

}  // namespace exporters::registry
