// BERT built from a checkpoint (config.json + model.safetensors) for every
// class the plugin serves, following transformers 4.36 modeling_bert.py.
#pragma once

#include <exporters/plugin.hpp>

namespace exporters::plugins::bert {

// The graph of req.task.hf_class: the task's outputs, raw (logits before
// the host's heads), in TaskSpec order.
ir::Graph build_bert(const BuildRequest& req);

// Registers build_bert for every BERT class (call after the tasks).
void add_bert_builders(PluginRegistrar* r);

}  // namespace exporters::plugins::bert
