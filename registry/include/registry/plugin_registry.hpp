// Discovers plugins through their manifests, loads them on demand with
// Boost.DLL and keeps what they registered. The registry owns the loaded
// libraries: converters and task specs it hands out stay valid only while
// the registry lives.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "exporters/frontend/converter.hpp"
#include "exporters/plugin.hpp"
#include "registry/manifest.hpp"
#include "registry/search_path.hpp"

namespace exporters::registry {

class RegistryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class PluginState {
  Discovered,  // manifest read, library not loaded yet
  Loaded,      // library loaded and registered
  Broken,      // skipped; `error` says why
};

struct LoadedLibrary;  // the Boost.DLL handle, kept opaque

struct PluginRecord {
  // Declared first so it is destroyed last: converters below run plugin code.
  std::shared_ptr<LoadedLibrary> library;

  PluginManifest manifest;          // name/model_types empty if the manifest is unreadable
  std::filesystem::path file;       // the manifest, or the stray library for "missing manifest"
  size_t search_index = 0;          // position of its folder on the search path
  std::string origin;               // origin of that folder
  PluginState state = PluginState::Discovered;
  std::string error;                // reason when Broken
  std::vector<std::string> overridden_model_types;  // claimed, but served by an earlier plugin

  std::vector<TaskSpec> tasks;
  std::map<std::string, frontend::OpConverter> op_converters;
  std::map<std::string, GraphBuilder> graph_builders;  // by HF class

  std::string display_name() const;  // manifest name, or the file name
  bool fully_overridden() const {
    return !manifest.model_types.empty() &&
           overridden_model_types.size() == manifest.model_types.size();
  }
};

class PluginRegistry {
 public:
  // Scans every search path entry for manifests (and stray *.so files
  // without one) without loading plugin code. `warning_sink`, if set, sees
  // each warning as it happens; all of them are also kept in warnings().
  explicit PluginRegistry(std::vector<SearchPathEntry> search_path,
                          std::function<void(const std::string&)> warning_sink = {});
  ~PluginRegistry();
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  const std::vector<SearchPathEntry>& search_path() const { return search_path_; }
  const std::vector<PluginRecord>& plugins() const { return plugins_; }

  // Loads one plugin (no-op if already loaded or broken). Returns true if loaded.
  bool load(size_t index);
  void load_all();

  // The plugin serving `model_type`: the earliest one on the search path
  // that loads; a broken one is skipped in favour of the next. nullptr if none.
  const PluginRecord* find_by_model_type(const std::string& model_type);
  // Model types served, sorted, from manifests (no loading).
  std::vector<std::string> model_types() const;

  // Tasks / converters of the plugin serving `model_type` (loads it);
  // throw RegistryError if no working plugin serves it.
  const std::vector<TaskSpec>& tasks(const std::string& model_type);
  const std::map<std::string, frontend::OpConverter>& op_converters(const std::string& model_type);

  // Warnings so far (broken plugins, overrides), one sentence each, in order.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  void scan(size_t index, const SearchPathEntry& entry);
  void resolve_overrides();
  void mark_broken(PluginRecord& record, const std::string& reason);
  void warn(const std::string& message);

  std::vector<SearchPathEntry> search_path_;
  std::vector<PluginRecord> plugins_;
  // model_type -> plugin indices claiming it, in priority order
  std::map<std::string, std::vector<size_t>> claims_;
  std::vector<std::string> warnings_;
  std::function<void(const std::string&)> sink_;
};

const char* to_string(PluginState state);

// Loads the plugin library at `library_path` (no manifest needed), registers
// it and returns the manifest that describes it, tasks included; `library`
// is the file name, so the manifest belongs beside the library. Runs plugin
// code: this is what the build (and `exporters plugins manifest`) uses to
// write manifests. Throws RegistryError naming the file and the reason.
PluginManifest describe_plugin_library(const std::filesystem::path& library_path);

}  // namespace exporters::registry
