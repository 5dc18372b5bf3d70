#include <exporters/plugin.hpp>

#include "vit_builder.hpp"
#include "family.hpp"

// ViT (model_type "vit"). Float16 tolerance 1e-2: pre-LN transformer over
// patches, layer norms bound the activations.
namespace {
using namespace exporters::plugins;
void register_vit(exporters::PluginRegistrar* r) {
  add_vision_tasks(r, "ViT", "ViT", {last_hidden_state(), pooler_output()}, 1e-2);
  exporters::plugins::vit::add_vit_builders(r);  // export from config.json + model.safetensors
}
}  // namespace

EXPORTERS_PLUGIN("vit", "1.0.0", ({"vit", nullptr}), register_vit)
