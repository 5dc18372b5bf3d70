#include <exporters/plugin.hpp>

#include "convnext_builder.hpp"
#include "family.hpp"

// ConvNeXT (model_type "convnext"). Float16 tolerance 1e-2: depthwise
// convolutions with layer norm per block and layer scale keep magnitudes
// small.
namespace {
using namespace exporters::plugins;
void register_convnext(exporters::PluginRegistrar* r) {
  add_vision_tasks(r, "ConvNext", "ConvNeXT",
                   {out("last_hidden_state", "Feature map of the last stage [batch, channels, h, w]"),
                    pooler_output()},
                   1e-2);
  exporters::plugins::convnext::add_convnext_builders(r);  // export from config.json + model.safetensors
}
}  // namespace

EXPORTERS_PLUGIN("convnext", "1.0.0", ({"convnext", nullptr}), register_convnext)
