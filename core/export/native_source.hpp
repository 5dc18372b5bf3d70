// The native source: a plugin's graph builder run on the folder's
// safetensors checkpoint (no trace, no LibTorch), and the choice between it
// and the TorchScript trace.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/export/input_plan.hpp"
#include "core/export/model_source.hpp"
#include "exporters/graph_builder.hpp"
#include "exporters/plugin.hpp"

namespace exporters::exporting {

enum class SourceKind { Trace, Native };

// What `--source` asked for ("native", "trace" or "" for the default) and
// what the plugin offers for the task's class.
struct SourceRequest {
  std::string requested;
  const GraphBuilder* builder = nullptr;  // the plugin's builder for the class, if any
  std::string plugin_name;
};

// Native when the folder has a checkpoint and the plugin a builder for the
// class (the default even when model.pt is there too), else the trace.
// Throws naming the option, plugin and class when the asked-for source
// cannot be used (no builder: suggests a trace; no checkpoint; no model.pt).
SourceKind choose_source(const SourceRequest& request, const ModelSource& source, const TaskSpec* task);

// The task's inputs in the plugin's order: what a native graph takes.
std::vector<std::string> native_input_names(const TaskSpec& task);

struct NativeModel {
  std::shared_ptr<WeightSource> weights;
  ir::Graph graph;
  double load_seconds = 0;   // mapping and indexing the checkpoint
  double build_seconds = 0;  // the builder
};

// Maps the checkpoint and runs the builder for `plan`. Checks that the graph
// takes exactly the plan's inputs and returns the task's outputs; errors name
// the plugin and class.
NativeModel build_native(const SourceRequest& request, const ModelSource& source, const TaskSpec& task,
                         const InputPlan& plan);
// The builder's graph again over already mapped weights (the validation
// reference: the same graph before passes, heads and backend).
ir::Graph rebuild_native(const SourceRequest& request, const ModelSource& source, const TaskSpec& task,
                         const InputPlan& plan, const WeightSource& weights);

}  // namespace exporters::exporting
