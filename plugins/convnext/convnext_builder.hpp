// ConvNeXT built from a checkpoint (config.json +
// model.safetensors) for every class the plugin serves, following
// transformers 4.36 modeling_convnext.py.
#pragma once

#include <exporters/plugin.hpp>

namespace exporters::plugins::convnext {

// The graph of req.task.hf_class: the task's outputs, raw (logits before
// the host's heads), in TaskSpec order.
ir::Graph build_convnext(const BuildRequest& req);

// Registers build_convnext for every ConvNeXT class (call after the tasks).
void add_convnext_builders(PluginRegistrar* r);

}  // namespace exporters::plugins::convnext
