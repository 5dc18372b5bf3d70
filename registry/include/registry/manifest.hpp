// The JSON file shipped beside every plugin library, read without loading
// any plugin code:
//   {"name": "bert", "version": "1.0.0", "abi": 2,
//    "model_types": ["bert"], "library": "libbert.so",
//    "tasks": [{"task": "masked-lm", "hf_class": "BertForMaskedLM"}, ...]}
// The build writes it from the library itself (describe_plugin_library), so
// it cannot drift from what the plugin registers. "tasks" is optional:
// manifests written before it existed still load.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace exporters::registry {

class ManifestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One task as the manifest lists it (TaskSpec::task and TaskSpec::hf_class).
struct ManifestTask {
  std::string task;      // "masked-lm"
  std::string hf_class;  // "BertForMaskedLM"
  bool operator==(const ManifestTask&) const = default;
};

struct PluginManifest {
  std::string name;
  std::string version;
  int abi = 0;
  std::vector<std::string> model_types;
  std::string library;                   // as written, relative to the manifest
  std::optional<std::vector<ManifestTask>> tasks;  // absent in manifests without "tasks"
  std::filesystem::path manifest_path;
  std::filesystem::path library_path;    // resolved next to the manifest
};

// Throws ManifestError with a reason (without the file name; callers add it).
PluginManifest parse_manifest(const std::string& text, const std::filesystem::path& manifest_path);
PluginManifest read_manifest(const std::filesystem::path& manifest_path);

// The manifest as JSON text (name, version, abi, model_types, library and,
// when known, tasks), one field per line, ending in a newline.
std::string manifest_to_json(const PluginManifest& manifest);
// Writes manifest_to_json to `out` through a temporary sibling; throws
// ManifestError naming the file.
void write_manifest(const PluginManifest& manifest, const std::filesystem::path& out);

}  // namespace exporters::registry
