#include <exporters/plugin.hpp>

#include "distilbert_builder.hpp"
#include "family.hpp"

// DistilBERT (model_type "distilbert"): no token_type_ids, no pooler, no
// next-sentence head. Float16 tolerance 1e-2: six post-LN layers, shallower
// than BERT-base, same reasoning as the BERT plugin.
namespace {
void register_distilbert(exporters::PluginRegistrar* r) {
  exporters::plugins::TextFamily f{"DistilBert", "DistilBERT", false, false, 128, 1e-2};
  exporters::plugins::add_encoder_tasks(r, f, false);
  exporters::plugins::distilbert::add_distilbert_builders(r);  // export from config.json + model.safetensors
}
}  // namespace

EXPORTERS_PLUGIN("distilbert", "1.0.0", ({"distilbert", nullptr}), register_distilbert)
