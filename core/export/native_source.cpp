#include "core/export/native_source.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <stdexcept>

#include "core/io/checkpoint.hpp"

namespace fs = std::filesystem;

namespace exporters::exporting {

namespace {

std::string class_of(const TaskSpec* task, const ModelSource& source) {
  return task ? task->hf_class : source.hf_class.empty() ? std::string("(no class)") : source.hf_class;
}

ModelFolder model_folder(const ModelSource& source, const TaskSpec& task) {
  ModelFolder folder;
  folder.dir = source.dir;
  if (fs::is_regular_file(source.dir / "config.json")) folder.config = JsonView::read_file(source.dir / "config.json");
  if (fs::is_regular_file(source.dir / "preprocessor_config.json"))
    folder.preprocessor = JsonView::read_file(source.dir / "preprocessor_config.json");
  folder.model_type = source.model_type;
  folder.hf_class = task.hf_class;
  return folder;
}

}  // namespace

SourceKind choose_source(const SourceRequest& request, const ModelSource& source, const TaskSpec* task) {
  const std::string cls = class_of(task, source);
  const bool trace = !source.model_pt.empty();
  if (request.requested == "trace") {
    if (!trace)
      throw std::runtime_error(fmt::format("--source trace: {} has no model.pt (trace the model with "
                                           "torch.jit.trace(..., torchscript=True) and save it there)",
                                           source.dir.string()));
    return SourceKind::Trace;
  }
  const bool usable = source.checkpoint && task && request.builder;
  if (request.requested == "native" || !trace) {
    const std::string why = request.requested == "native" ? "--source native: " : "";
    if (!source.checkpoint)
      throw std::runtime_error(fmt::format("{}{}: no model.safetensors (or model.safetensors.index.json)", why,
                                           source.dir.string()));
    if (!task && source.hf_class.empty())
      throw std::runtime_error(fmt::format("{}{}: config.json has no 'architectures' naming the class to build: pass "
                                           "--task (e.g. --task BertForMaskedLM), or trace the model to model.pt",
                                           why, source.dir.string()));
    if (!task)
      throw std::runtime_error(fmt::format("{}{}: building a graph from the checkpoint needs a plugin task for "
                                           "{}; with no such task, trace the model to model.pt",
                                           why, source.dir.string(), cls));
    if (!usable)
      throw std::runtime_error(fmt::format(
          "{}plugin {} has no graph builder for {}: export it from a trace instead (save "
          "torch.jit.trace(model, ..., torchscript=True) as {}/model.pt)",
          why, request.plugin_name.empty() ? "(none)" : request.plugin_name, cls, source.dir.string()));
    return SourceKind::Native;
  }
  return usable ? SourceKind::Native : SourceKind::Trace;
}

std::vector<std::string> native_input_names(const TaskSpec& task) {
  std::vector<std::string> names;
  for (const auto& in : task.inputs) names.push_back(in.name);
  return names;
}

ir::Graph rebuild_native(const SourceRequest& request, const ModelSource& source, const TaskSpec& task,
                         const InputPlan& plan, const WeightSource& weights) {
  const ModelFolder folder = model_folder(source, task);
  BuildRequest req{folder, task, {}, weights};
  for (size_t i = 0; i < plan.names.size(); ++i) req.inputs.emplace_back(plan.names[i], plan.types[i]);
  ir::Graph graph;
  try {
    graph = (*request.builder)(req);
  } catch (const ConfigError&) {
    throw;  // already names the file and key
  } catch (const WeightError&) {
    throw;  // already names the checkpoint and tensor
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("plugin {}, graph builder for {}: {}", request.plugin_name, task.hf_class,
                                         e.what()));
  }
  std::vector<std::string> inputs;
  for (const ir::Value* v : graph.inputs()) inputs.push_back(v->name);
  if (inputs != plan.names)
    throw std::runtime_error(fmt::format("plugin {}, graph builder for {}: the graph takes inputs ({}), the export "
                                         "asked for ({})",
                                         request.plugin_name, task.hf_class, fmt::join(inputs, ", "),
                                         fmt::join(plan.names, ", ")));
  std::vector<std::string> wanted;
  for (const auto& o : task.outputs) wanted.push_back(o.name);
  if (graph.output_names() != wanted)
    throw std::runtime_error(fmt::format("plugin {}, graph builder for {}: the graph returns ({}), the task says ({})",
                                         request.plugin_name, task.hf_class, fmt::join(graph.output_names(), ", "),
                                         fmt::join(wanted, ", ")));
  ir::verify(graph);
  return graph;
}

NativeModel build_native(const SourceRequest& request, const ModelSource& source, const TaskSpec& task,
                         const InputPlan& plan) {
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  NativeModel m;
  m.weights = io::open_safetensors_checkpoint(*source.checkpoint);
  m.load_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  start = Clock::now();
  m.graph = rebuild_native(request, source, task, plan, *m.weights);
  m.build_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return m;
}

}  // namespace exporters::exporting
