#include "registry/plugin_registry.hpp"

#include <algorithm>
#include <cstddef>
#include <set>
#include <system_error>

#include <dlfcn.h>

#include <boost/dll/shared_library.hpp>
#include <fmt/format.h>

namespace exporters::registry {

namespace fs = std::filesystem;

struct LoadedLibrary {
  boost::dll::shared_library library;
};

namespace {

// Folders below a search path entry that are still scanned: entry/<family>/...
constexpr int kMaxScanDepth = 2;

// The smallest descriptor this host can use: everything up to and
// including register_plugin. Newer, longer descriptors are accepted.
constexpr size_t kMinDescriptorSize =
    offsetof(exporters_plugin_descriptor, register_plugin) + sizeof(void (*)(PluginRegistrar*));

bool has_extension(const fs::path& path, const char* ext) { return path.extension() == ext; }

// Records what one plugin registers; validates as it goes so a bad plugin
// fails during registration instead of later in the pipeline.
class RecordingRegistrar final : public PluginRegistrar {
 public:
  void add_task(const TaskSpec& spec) override {
    if (spec.hf_class.empty()) throw std::invalid_argument("add_task: TaskSpec.hf_class is empty");
    for (const auto& t : tasks) {
      if (t.hf_class == spec.hf_class)
        throw std::invalid_argument(fmt::format("add_task: \"{}\" registered twice", spec.hf_class));
    }
    tasks.push_back(spec);
  }
  void add_op_converter(const std::string& op_kind, frontend::OpConverter converter) override {
    if (op_kind.empty()) throw std::invalid_argument("add_op_converter: empty op kind");
    if (!converter)
      throw std::invalid_argument(fmt::format("add_op_converter: empty converter for \"{}\"", op_kind));
    op_converters[op_kind] = std::move(converter);
  }
  void add_graph_builder(const std::string& hf_class, GraphBuilder builder) override {
    if (hf_class.empty()) throw std::invalid_argument("add_graph_builder: empty HF class");
    if (!builder) throw std::invalid_argument(fmt::format("add_graph_builder: empty builder for \"{}\"", hf_class));
    if (!graph_builders.emplace(hf_class, std::move(builder)).second)
      throw std::invalid_argument(fmt::format("add_graph_builder: \"{}\" registered twice", hf_class));
  }

  std::vector<TaskSpec> tasks;
  std::map<std::string, frontend::OpConverter> op_converters;
  std::map<std::string, GraphBuilder> graph_builders;
};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string quoted_list(const std::vector<std::string>& items) {
  std::vector<std::string> q;
  for (const auto& item : items) q.push_back("\"" + item + "\"");
  return "[" + join(q) + "]";
}

}  // namespace

const char* to_string(PluginState state) {
  switch (state) {
    case PluginState::Discovered: return "discovered";
    case PluginState::Loaded: return "loaded";
    case PluginState::Broken: return "broken";
  }
  return "?";
}

std::string PluginRecord::display_name() const {
  return manifest.name.empty() ? file.filename().string() : manifest.name;
}

PluginRegistry::PluginRegistry(std::vector<SearchPathEntry> search_path,
                               std::function<void(const std::string&)> warning_sink)
    : search_path_(std::move(search_path)), sink_(std::move(warning_sink)) {
  for (size_t i = 0; i < search_path_.size(); ++i) scan(i, search_path_[i]);
  resolve_overrides();
}

PluginRegistry::~PluginRegistry() {
  // Converters hold plugin code; drop them before any library is unloaded.
  for (auto& record : plugins_) {
    record.op_converters.clear();
    record.graph_builders.clear();
    record.tasks.clear();
  }
}

void PluginRegistry::warn(const std::string& message) {
  warnings_.push_back(message);
  if (sink_) sink_(message);
}

void PluginRegistry::mark_broken(PluginRecord& record, const std::string& reason) {
  record.state = PluginState::Broken;
  record.error = reason;
  record.tasks.clear();
  record.op_converters.clear();
  record.graph_builders.clear();
  record.library.reset();
}

void PluginRegistry::scan(size_t index, const SearchPathEntry& entry) {
  std::vector<fs::path> manifests;
  std::vector<fs::path> libraries;
  std::error_code ec;
  fs::recursive_directory_iterator it(entry.dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    warn(fmt::format("cannot read plugin folder {}: {}", entry.dir.string(), ec.message()));
    return;
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const fs::path& path = it->path();
    std::string name = path.filename().string();
    std::error_code type_ec;
    if (it->is_directory(type_ec)) {
      // Meson keeps object files in "<target>.p" folders; hidden folders are not ours.
      if (it.depth() >= kMaxScanDepth || name.starts_with(".") || name.ends_with(".p"))
        it.disable_recursion_pending();
      continue;
    }
    if (has_extension(path, ".json")) manifests.push_back(path);
    else if (has_extension(path, ".so")) libraries.push_back(path);
  }
  std::sort(manifests.begin(), manifests.end());
  std::sort(libraries.begin(), libraries.end());

  std::set<fs::path> claimed_libraries;
  std::set<fs::path> folders_with_bad_manifest;
  for (const auto& manifest_path : manifests) {
    PluginRecord record;
    record.file = manifest_path;
    record.search_index = index;
    record.origin = entry.origin;
    try {
      record.manifest = read_manifest(manifest_path);
    } catch (const ManifestError& e) {
      folders_with_bad_manifest.insert(manifest_path.parent_path());
      mark_broken(record, e.what());
      warn(fmt::format("skipping plugin manifest {}: {}", manifest_path.string(), e.what()));
      plugins_.push_back(std::move(record));
      continue;
    }
    claimed_libraries.insert(record.manifest.library_path.lexically_normal());
    std::error_code exists_ec;
    if (record.manifest.abi != EXPORTERS_PLUGIN_ABI_VERSION) {
      mark_broken(record, fmt::format("manifest declares plugin ABI {}, but this exporters supports ABI {}",
                                      record.manifest.abi, EXPORTERS_PLUGIN_ABI_VERSION));
    } else if (!fs::is_regular_file(record.manifest.library_path, exists_ec)) {
      mark_broken(record, fmt::format("library \"{}\" named by the manifest does not exist",
                                      record.manifest.library));
    }
    if (record.state == PluginState::Broken)
      warn(fmt::format("skipping plugin manifest {}: {}", manifest_path.string(), record.error));
    plugins_.push_back(std::move(record));
  }

  for (const auto& library : libraries) {
    if (claimed_libraries.count(library.lexically_normal())) continue;
    // The broken manifest beside it was already reported; one warning per plugin.
    if (folders_with_bad_manifest.count(library.parent_path())) continue;
    PluginRecord record;
    record.file = library;
    record.search_index = index;
    record.origin = entry.origin;
    mark_broken(record, "no manifest names this library (a plugin needs a .json manifest beside its .so)");
    warn(fmt::format("skipping plugin {}: {}", library.string(), record.error));
    plugins_.push_back(std::move(record));
  }
}

void PluginRegistry::resolve_overrides() {
  for (size_t i = 0; i < plugins_.size(); ++i) {
    PluginRecord& record = plugins_[i];
    if (record.state == PluginState::Broken) continue;
    std::set<std::string> seen;
    for (const auto& model_type : record.manifest.model_types) {
      if (!seen.insert(model_type).second) continue;
      auto& claimants = claims_[model_type];
      if (!claimants.empty()) {
        const PluginRecord& winner = plugins_[claimants.front()];
        record.overridden_model_types.push_back(model_type);
        warn(fmt::format("model type \"{}\": plugin {} overrides {} (earlier on the search path wins)",
                         model_type, winner.file.string(), record.file.string()));
      }
      claimants.push_back(i);
    }
  }
}

namespace {

// A plugin library opened, checked and registered, not yet tied to a manifest.
struct OpenedPlugin {
  // Declared first so it is destroyed last: the registrar's converters run plugin code.
  std::shared_ptr<LoadedLibrary> library;
  std::string name;
  std::string version;
  std::vector<std::string> model_types;
  const exporters_plugin_descriptor* descriptor = nullptr;
  RecordingRegistrar registrar;
};

// Loads `library_path` and checks its descriptor. Returns the reason it is
// broken, or an empty string.
std::string open_plugin(const fs::path& library_path, OpenedPlugin& out) {
  // RTLD_NOW: an unresolved symbol is a broken plugin now, not a crash mid-export.
  auto loaded = std::make_shared<LoadedLibrary>();
  boost::dll::fs::error_code ec;
  ::dlerror();
  loaded->library.load(boost::dll::fs::path(library_path.string()),
                       boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec || !loaded->library.is_loaded()) {
    const char* detail = ::dlerror();
    return fmt::format("not a loadable shared library ({})", detail ? detail : ec.message());
  }
  if (!loaded->library.has(EXPORTERS_PLUGIN_ENTRY_SYMBOL))
    return fmt::format("the library does not export the entry symbol \"{}\"", EXPORTERS_PLUGIN_ENTRY_SYMBOL);
  auto& entry = loaded->library.get<const exporters_plugin_descriptor*()>(EXPORTERS_PLUGIN_ENTRY_SYMBOL);
  const exporters_plugin_descriptor* descriptor = entry();
  if (descriptor == nullptr) return "the entry symbol returned no descriptor";

  // The ABI version and the size come first; nothing else is read before they check out.
  if (descriptor->abi_version != EXPORTERS_PLUGIN_ABI_VERSION)
    return fmt::format("built for plugin ABI {}, but this exporters supports ABI {}", descriptor->abi_version,
                       EXPORTERS_PLUGIN_ABI_VERSION);
  if (descriptor->descriptor_size < kMinDescriptorSize)
    return fmt::format("descriptor is {} bytes, smaller than the {} bytes plugin ABI {} requires",
                       descriptor->descriptor_size, kMinDescriptorSize, EXPORTERS_PLUGIN_ABI_VERSION);
  out.name = descriptor->name ? descriptor->name : "";
  out.version = descriptor->version ? descriptor->version : "";
  if (descriptor->model_types) {
    for (const char* const* t = descriptor->model_types; *t; ++t) out.model_types.emplace_back(*t);
  }
  out.descriptor = descriptor;
  out.library = std::move(loaded);
  return {};
}

// Runs the plugin's register function. Returns the reason it failed, or "".
std::string register_opened(OpenedPlugin& plugin) {
  if (plugin.descriptor->register_plugin == nullptr) return "the descriptor has no register function";
  try {
    plugin.descriptor->register_plugin(&plugin.registrar);
  } catch (const std::exception& e) {
    return fmt::format("registration threw: {}", e.what());
  } catch (...) {
    return "registration threw an exception that is not a std::exception";
  }
  return {};
}

std::vector<ManifestTask> manifest_tasks(const std::vector<TaskSpec>& tasks) {
  std::vector<ManifestTask> out;
  for (const auto& t : tasks) out.push_back({t.task, t.hf_class});
  return out;
}

std::string tasks_list(const std::vector<ManifestTask>& tasks) {
  std::vector<std::string> items;
  for (const auto& t : tasks) items.push_back(t.task + " (" + t.hf_class + ")");
  return items.empty() ? "none" : join(items);
}

}  // namespace

bool PluginRegistry::load(size_t index) {
  PluginRecord& record = plugins_.at(index);
  if (record.state != PluginState::Discovered) return record.state == PluginState::Loaded;
  const fs::path& library_path = record.manifest.library_path;
  auto fail = [&](const std::string& reason) {
    mark_broken(record, reason);
    warn(fmt::format("skipping plugin {}: {}", library_path.string(), reason));
    return false;
  };

  OpenedPlugin plugin;
  if (std::string reason = open_plugin(library_path, plugin); !reason.empty()) return fail(reason);
  if (plugin.name != record.manifest.name)
    return fail(fmt::format("manifest {} says name \"{}\" but the library says \"{}\"",
                            record.file.string(), record.manifest.name, plugin.name));
  if (plugin.version != record.manifest.version)
    return fail(fmt::format("manifest {} says version \"{}\" but the library says \"{}\"",
                            record.file.string(), record.manifest.version, plugin.version));
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  };
  if (sorted(plugin.model_types) != sorted(record.manifest.model_types))
    return fail(fmt::format("manifest {} says model types {} but the library says {}",
                            record.file.string(), quoted_list(record.manifest.model_types),
                            quoted_list(plugin.model_types)));
  if (std::string reason = register_opened(plugin); !reason.empty()) return fail(reason);
  if (record.manifest.tasks && *record.manifest.tasks != manifest_tasks(plugin.registrar.tasks))
    return fail(fmt::format("manifest {} lists tasks {} but the library registers {} (regenerate it with "
                            "`exporters plugins manifest`)",
                            record.file.string(), tasks_list(*record.manifest.tasks),
                            tasks_list(manifest_tasks(plugin.registrar.tasks))));
  record.tasks = std::move(plugin.registrar.tasks);
  record.op_converters = std::move(plugin.registrar.op_converters);
  record.graph_builders = std::move(plugin.registrar.graph_builders);
  record.library = std::move(plugin.library);
  record.state = PluginState::Loaded;
  return true;
}

PluginManifest describe_plugin_library(const fs::path& library_path) {
  std::error_code ec;
  if (!fs::is_regular_file(library_path, ec))
    throw RegistryError(fmt::format("{}: no such plugin library", library_path.string()));
  PluginManifest manifest;
  {
    OpenedPlugin plugin;
    std::string reason = open_plugin(library_path, plugin);
    if (reason.empty()) reason = register_opened(plugin);
    if (!reason.empty()) throw RegistryError(fmt::format("{}: {}", library_path.string(), reason));
    if (plugin.name.empty()) throw RegistryError(fmt::format("{}: the descriptor has no name", library_path.string()));
    if (plugin.version.empty())
      throw RegistryError(fmt::format("{}: the descriptor has no version", library_path.string()));
    if (plugin.model_types.empty())
      throw RegistryError(fmt::format("{}: the descriptor lists no model types", library_path.string()));
    manifest.name = plugin.name;
    manifest.version = plugin.version;
    manifest.model_types = plugin.model_types;
    manifest.tasks = manifest_tasks(plugin.registrar.tasks);
  }
  manifest.abi = EXPORTERS_PLUGIN_ABI_VERSION;
  manifest.library = library_path.filename().string();
  manifest.library_path = library_path;
  return manifest;
}

void PluginRegistry::load_all() {
  for (size_t i = 0; i < plugins_.size(); ++i) load(i);
}

const PluginRecord* PluginRegistry::find_by_model_type(const std::string& model_type) {
  auto it = claims_.find(model_type);
  if (it == claims_.end()) return nullptr;
  const PluginRecord* broken_first = nullptr;
  for (size_t index : it->second) {
    if (load(index)) {
      const PluginRecord& record = plugins_[index];
      if (broken_first && &record != broken_first) {
        warn(fmt::format("model type \"{}\": using plugin {} because {} is broken", model_type,
                         record.file.string(), broken_first->file.string()));
      }
      return &record;
    }
    if (!broken_first) broken_first = &plugins_[index];
  }
  return nullptr;
}

std::vector<std::string> PluginRegistry::model_types() const {
  std::vector<std::string> types;
  for (const auto& [type, claimants] : claims_) types.push_back(type);
  return types;
}

namespace {
[[noreturn]] void throw_unserved(const std::string& model_type,
                                 const std::vector<SearchPathEntry>& path) {
  std::vector<std::string> dirs;
  for (const auto& entry : path) dirs.push_back(entry.dir.string());
  throw RegistryError(fmt::format("no working plugin serves model type \"{}\" (searched: {})",
                                  model_type, dirs.empty() ? "no existing folders" : join(dirs)));
}
}  // namespace

const std::vector<TaskSpec>& PluginRegistry::tasks(const std::string& model_type) {
  const PluginRecord* record = find_by_model_type(model_type);
  if (!record) throw_unserved(model_type, search_path_);
  return record->tasks;
}

const std::map<std::string, frontend::OpConverter>& PluginRegistry::op_converters(
    const std::string& model_type) {
  const PluginRecord* record = find_by_model_type(model_type);
  if (!record) throw_unserved(model_type, search_path_);
  return record->op_converters;
}

}  // namespace exporters::registry
