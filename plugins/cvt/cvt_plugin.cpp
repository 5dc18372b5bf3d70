#include <exporters/plugin.hpp>

#include "family.hpp"

// CvT (model_type "cvt"). Its feature extractor returns the last stage's
// feature map and the class token. Float16 tolerance 2e-2: convolutional
// token embeddings with batch norm in the projections feed attention without
// a re-normalisation in between, so fp16 rounding compounds more than in ViT.
namespace {
using namespace exporters::plugins;
void register_cvt(exporters::PluginRegistrar* r) {
  add_vision_tasks(r, "Cvt", "CvT",
                   {out("last_hidden_state", "Feature map of the last stage [batch, channels, h, w]"),
                    out("cls_token_value", "Class token of the last stage")},
                   2e-2);
}
}  // namespace

EXPORTERS_PLUGIN("cvt", "1.0.0", ({"cvt", nullptr}), register_cvt)
