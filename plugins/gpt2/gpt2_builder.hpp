// GPT-2 / DistilGPT2 built from a checkpoint (config.json +
// model.safetensors) for every class the plugin serves, following
// transformers 4.36 modeling_gpt2.py.
#pragma once

#include <exporters/plugin.hpp>

namespace exporters::plugins::gpt2 {

// The graph of req.task.hf_class: the task's outputs, raw (logits before
// the host's heads), in TaskSpec order.
ir::Graph build_gpt2(const BuildRequest& req);

// Registers build_gpt2 for every GPT-2 class (call after the tasks).
void add_gpt2_builders(PluginRegistrar* r);

}  // namespace exporters::plugins::gpt2
