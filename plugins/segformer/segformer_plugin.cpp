#include <exporters/plugin.hpp>

#include "family.hpp"

// SegFormer (model_type "segformer"). Float16 tolerance 1e-2: hierarchical
// transformer with layer norm after every stage; the segmentation head is a
// light MLP.
namespace {
using namespace exporters::plugins;
void register_segformer(exporters::PluginRegistrar* r) {
  add_vision_tasks(r, "Segformer", "SegFormer",
                   {out("last_hidden_state", "Feature map of the last stage [batch, channels, h, w]")}, 1e-2);
  add_vision_task(r, segmentation_task("Segformer", "SegFormer", 1e-2));
}
}  // namespace

EXPORTERS_PLUGIN("segformer", "1.0.0", ({"segformer", nullptr}), register_segformer)
