#include <exporters/plugin.hpp>

#include "family.hpp"

// MobileViT (model_type "mobilevit"). Trained on BGR input (the image
// processor flips the channel order), so the Core ML image input is BGR (do_flip_channel_order in its preprocessor_config.json) and no
// mean/std normalisation applies (pixels scaled to [0, 1]). Float16
// tolerance 2e-2: batch-normed convolutions around small transformers, with
// SiLU activations unbounded above. Int8 tolerance 0.2: LiteRT's hybrid
// kernels quantize every activation row to int8 as well as the weights, and
// through MobileViT's conv/transformer stages that gives 0.12 of the output's
// scale on the fixtures (0.08 with weights alone).
namespace {
using namespace exporters::plugins;
void register_mobilevit(exporters::PluginRegistrar* r) {
  add_vision_tasks(r, "MobileViT", "MobileViT",
                   {out("last_hidden_state", "Feature map of the last stage [batch, channels, h, w]"),
                    pooler_output()},
                   2e-2, 0.2);
  add_vision_task(r, segmentation_task("MobileViT", "MobileViT (DeepLabV3 head)", 2e-2), 0.2);
}
}  // namespace

EXPORTERS_PLUGIN("mobilevit", "1.0.0", ({"mobilevit", nullptr}), register_mobilevit)
