#include <exporters/plugin.hpp>

#include "bert_builder.hpp"
#include "family.hpp"

// BERT (model_type "bert"). Float16 tolerance 1e-2 of each output's max
// magnitude: a post-LN encoder whose layer norms re-centre activations every
// block, so fp16 rounding (2^-11 relative per op) does not compound much.
namespace {
void register_bert(exporters::PluginRegistrar* r) {
  exporters::plugins::TextFamily f{"Bert", "BERT", true, true, 128, 1e-2};
  exporters::plugins::add_encoder_tasks(r, f, true);
  exporters::plugins::bert::add_bert_builders(r);  // export from config.json + model.safetensors
}
}  // namespace

EXPORTERS_PLUGIN("bert", "1.0.0", ({"bert", nullptr}), register_bert)
