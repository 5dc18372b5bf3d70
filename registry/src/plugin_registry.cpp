#include "registry/plugin_registry.hpp"

#include <algorithm>
#include <cstddef>
#include <set>
#include <system_error>
#include <type_traits>

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
    offsetof(exporters_plugin_descriptor, build_abi) + sizeof(const exporters_build_abi*);

const exporters_build_abi kHostBuildAbi = EXPORTERS_BUILD_ABI_INITIALIZER;

bool has_extension(const fs::path& path, const char* ext) { return path.extension() == ext; }

// Records what one plugin registers; validates as it goes so a bad plugin
// fails during registration instead of later in the pipeline. Plugin code
// goes straight into `code`, the object that will also hold the library.
class RecordingRegistrar final : public PluginRegistrar {
 public:
  RecordingRegistrar() : code(std::make_shared<PluginCode>()) {}

  void add_task(const TaskSpec& spec) override {
    if (spec.hf_class.empty()) throw std::invalid_argument("add_task: TaskSpec.hf_class is empty");
    for (const auto& t : tasks) {
      if (t.hf_class == spec.hf_class)
        throw std::invalid_argument(fmt::format("add_task: \"{}\" registered twice", spec.hf_class));
    }
    tasks.push_back(spec);
  }
  void add_task_resolver(const std::string& hf_class, TaskResolver resolver) override {
    add_unique(code->resolvers, "add_task_resolver", hf_class, std::move(resolver));
  }
  void add_op_converter(const std::string& op_kind, frontend::OpConverter converter) override {
    if (op_kind.empty()) throw std::invalid_argument("add_op_converter: empty op kind");
    if (!converter)
      throw std::invalid_argument(fmt::format("add_op_converter: empty converter for \"{}\"", op_kind));
    code->op_converters[op_kind] = std::move(converter);
  }
  void add_head(const std::string& name, Head head) override {
    add_unique(code->heads, "add_head", name, std::move(head));
  }
  void add_preprocessor(const std::string& type, Preprocessor preprocessor) override {
    if (!preprocessor.declare || !preprocessor.load)
      throw std::invalid_argument(fmt::format("add_preprocessor: \"{}\" needs both declare and load", type));
    if (preprocessor.media != "image" && preprocessor.media != "audio")
      throw std::invalid_argument(fmt::format("add_preprocessor: \"{}\": media \"{}\" is not image or audio", type,
                                              preprocessor.media));
    add_unique(code->preprocessors, "add_preprocessor", type, std::move(preprocessor));
  }
  void add_graph_builder(const std::string& hf_class, GraphBuilder builder) override {
    add_unique(code->graph_builders, "add_graph_builder", hf_class, std::move(builder));
  }

  // After registration: every name a task uses is registered.
  void check_complete() const {
    for (const auto& t : tasks)
      for (const auto& o : t.outputs)
        if (!o.head.empty() && !code->heads.count(o.head))
          throw std::invalid_argument(fmt::format("task \"{}\" output \"{}\" names head \"{}\", which the plugin does "
                                                  "not register (add_head)", t.hf_class, o.name, o.head));
    auto has_task = [&](const std::string& hf_class) {
      return std::any_of(tasks.begin(), tasks.end(), [&](const TaskSpec& t) { return t.hf_class == hf_class; });
    };
    for (const auto& [hf_class, _] : code->resolvers)
      if (!has_task(hf_class))
        throw std::invalid_argument(fmt::format("add_task_resolver: no task \"{}\" is registered", hf_class));
  }

  std::vector<TaskSpec> tasks;
  std::shared_ptr<PluginCode> code;

 private:
  template <typename T>
  static void add_unique(std::map<std::string, T>& map, const char* what, const std::string& key, T value) {
    if (key.empty()) throw std::invalid_argument(fmt::format("{}: empty name", what));
    if constexpr (std::is_constructible_v<bool, const T&>)
      if (!value) throw std::invalid_argument(fmt::format("{}: empty function for \"{}\"", what, key));
    if (!map.emplace(key, std::move(value)).second)
      throw std::invalid_argument(fmt::format("{}: \"{}\" registered twice", what, key));
  }
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
  // A handle still held elsewhere keeps its library loaded (PluginCode).
  for (auto& record : plugins_) record.code.reset();
}

std::string describe_build_abi(const exporters_build_abi& abi) {
  return fmt::format("{} {} (release {}, _GLIBCXX_USE_CXX11_ABI={}), SDK {}", abi.cxx_library ? abi.cxx_library : "?",
                     abi.cxx_library_date, abi.cxx_library_release, abi.cxx11_abi,
                     abi.sdk_version ? abi.sdk_version : "?");
}

std::string build_abi_mismatch(const exporters_build_abi* plugin) {
  if (plugin == nullptr) return "the descriptor does not record the C++ library ABI it was built with";
  auto same = [](const char* a, const char* b) { return a && b && std::string(a) == b; };
  const exporters_build_abi& h = kHostBuildAbi;
  if (same(plugin->cxx_library, h.cxx_library) && plugin->cxx_library_date == h.cxx_library_date &&
      plugin->cxx_library_release == h.cxx_library_release && plugin->cxx11_abi == h.cxx11_abi &&
      same(plugin->sdk_version, h.sdk_version))
    return {};
  return fmt::format("built with {}, but this exporters uses {}; rebuild the plugin against this SDK with the same "
                     "compiler settings", describe_build_abi(*plugin), describe_build_abi(h));
}

void PluginRegistry::warn(const std::string& message) {
  warnings_.push_back(message);
  if (sink_) sink_(message);
}

void PluginRegistry::mark_broken(PluginRecord& record, const std::string& reason) {
  record.state = PluginState::Broken;
  record.error = reason;
  record.tasks.clear();
  record.code.reset();
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
  // Declared first so it is destroyed last: the registrar holds plugin code
  // until it is moved into a PluginCode that owns the library too.
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
  // Strings and std::functions cross the boundary: the C++ library must match.
  if (std::string reason = build_abi_mismatch(descriptor->build_abi); !reason.empty()) return reason;
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
    plugin.registrar.check_complete();
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
  plugin.registrar.code->plugin_name = plugin.name;
  plugin.registrar.code->library = std::move(plugin.library);
  record.code = std::move(plugin.registrar.code);
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
  return record->code->op_converters;
}

std::vector<std::string> PluginRegistry::plugins_with_preprocessor(const std::string& type) {
  load_all();
  std::vector<std::string> names;
  for (const auto& record : plugins_)
    if (record.state == PluginState::Loaded && record.code->preprocessors.count(type))
      names.push_back(record.display_name());
  return names;
}

}  // namespace exporters::registry
