// The JSON file shipped beside every plugin library, read without loading
// any plugin code:
//   {"name": "bert", "version": "1.0.0", "abi": 1,
//    "model_types": ["bert"], "library": "libbert.so"}
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace exporters::registry {

class ManifestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PluginManifest {
  std::string name;
  std::string version;
  int abi = 0;
  std::vector<std::string> model_types;
  std::string library;                   // as written, relative to the manifest
  std::filesystem::path manifest_path;
  std::filesystem::path library_path;    // resolved next to the manifest
};

// Throws ManifestError with a reason (without the file name; callers add it).
PluginManifest parse_manifest(const std::string& text, const std::filesystem::path& manifest_path);
PluginManifest read_manifest(const std::filesystem::path& manifest_path);

}  // namespace exporters::registry
