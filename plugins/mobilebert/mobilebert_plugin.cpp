#include <exporters/plugin.hpp>

#include "family.hpp"

// MobileBERT (model_type "mobilebert"). Its "NoNorm" layers are only an
// elementwise affine map, so nothing re-centres activations between the
// bottleneck blocks and fp16 rounding compounds over the (many, in the real
// model 24) layers: float16 tolerance 2e-2 of the output's max magnitude.
// MobileBERT runs without an attention mask (--no-attention-mask).
namespace {
void register_mobilebert(exporters::PluginRegistrar* r) {
  exporters::plugins::TextFamily f{"MobileBert", "MobileBERT", true, true, 128, 2e-2};
  f.attention_mask_optional = true;
  exporters::plugins::add_encoder_tasks(r, f, true);
}
}  // namespace

EXPORTERS_PLUGIN("mobilebert", "1.0.0", ({"mobilebert", nullptr}), register_mobilebert)
