// Plugin code run first in a forked child, so a plugin that crashes (or
// hangs) while loading or registering is reported with its signal instead of
// taking `plugins verify` or the manifest step down with it.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "registry/plugin_registry.hpp"

namespace exporters::registry {

// `work` runs in a child; what it returns comes back through a pipe. An
// exception in `work` comes back as `failure` with its message; a child that
// dies by a signal, exits early or runs past `timeout` gives a `failure` that
// says so ("crashed with SIGSEGV (Segmentation fault)").
struct ChildResult {
  std::optional<std::string> value;
  std::string failure;  // set when value is empty
};
ChildResult run_in_child(const std::function<std::string()>& work,
                         std::chrono::seconds timeout = std::chrono::seconds(60));

// PluginRegistry::load_all, each plugin tried in a child first: one that
// crashes there is marked broken with the signal; the others load here.
void load_all_isolated(PluginRegistry& registry);

// describe_plugin_library run in a child; throws RegistryError naming the
// library and how it failed or crashed.
PluginManifest describe_plugin_library_isolated(const std::filesystem::path& library_path);

}  // namespace exporters::registry
