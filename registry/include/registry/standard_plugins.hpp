// The model families this project ships plugins for. The host knows their
// names so that a missing plugin is an error that names it, instead of a
// generic export that fails later for lack of --shape. tests/plugins checks
// this table against the manifests the build writes from the plugins.
#pragma once

#include <string>
#include <vector>

namespace exporters::registry {

struct StandardPlugin {
  std::string name;                      // plugin name, also lib<name>.so and <name>.json
  std::vector<std::string> model_types;  // config.json model_type values it serves
};

const std::vector<StandardPlugin>& standard_plugins();

// The standard plugin serving `model_type`, or nullptr.
const StandardPlugin* standard_plugin_for(const std::string& model_type);

}  // namespace exporters::registry
