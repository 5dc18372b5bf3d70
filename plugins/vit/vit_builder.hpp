// ViT built from a checkpoint (config.json +
// model.safetensors) for every class the plugin serves, following
// transformers 4.36 modeling_vit.py.
#pragma once

#include <exporters/plugin.hpp>

namespace exporters::plugins::vit {

// The graph of req.task.hf_class: the task's outputs, raw (logits before
// the host's heads), in TaskSpec order.
ir::Graph build_vit(const BuildRequest& req);

// Registers build_vit for every ViT class (call after the tasks).
void add_vit_builders(PluginRegistrar* r);

}  // namespace exporters::plugins::vit
