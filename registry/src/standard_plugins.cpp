#include "registry/standard_plugins.hpp"

namespace exporters::registry {

const std::vector<StandardPlugin>& standard_plugins() {
  static const std::vector<StandardPlugin> plugins = {
      {"bert", {"bert"}},           {"distilbert", {"distilbert"}}, {"mobilebert", {"mobilebert"}},
      {"gpt2", {"gpt2"}},           {"vit", {"vit"}},               {"convnext", {"convnext"}},
      {"cvt", {"cvt"}},             {"mobilevit", {"mobilevit"}},   {"segformer", {"segformer"}},
  };
  return plugins;
}

const StandardPlugin* standard_plugin_for(const std::string& model_type) {
  for (const auto& plugin : standard_plugins())
    for (const auto& type : plugin.model_types)
      if (type == model_type) return &plugin;
  return nullptr;
}

}  // namespace exporters::registry
