// DistilBERT built from a checkpoint (config.json +
// model.safetensors) for every class the plugin serves, following
// transformers 4.36 modeling_distilbert.py.
#pragma once

#include <exporters/plugin.hpp>

namespace exporters::plugins::distilbert {

// The graph of req.task.hf_class: the task's outputs, raw (logits before
// the host's heads), in TaskSpec order.
ir::Graph build_distilbert(const BuildRequest& req);

// Registers build_distilbert for every DistilBERT class (call after the tasks).
void add_distilbert_builders(PluginRegistrar* r);

}  // namespace exporters::plugins::distilbert
