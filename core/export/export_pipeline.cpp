#include "core/export/export_pipeline.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include <stdexcept>

#include "core/frontend/trace_frontend.hpp"
#include "core/io/safetensors.hpp"
#include "core/passes/passes.hpp"
#include "core/runtime/interpreter.hpp"
#include "core/validate/litert_runner.hpp"

namespace fs = std::filesystem;

namespace exporters::exporting {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void say(const Progress& progress, const std::string& message) {
  if (progress) progress(message);
}

bool uses_float16(const ir::Graph& graph) {
  for (const auto& node : graph.nodes())
    for (const ir::Value* v : node->outputs)
      if (v->type.dtype == ir::DType::F16) return true;
  return false;
}

// The original's raw outputs (before the task's heads) on the plan's inputs:
// LibTorch running the trace, the builder's graph in the interpreter, or
// outputs stored with the inputs.
using RawOutputs = std::function<std::vector<ir::Tensor>(const std::vector<ir::Tensor>& plan_inputs)>;

RawOutputs torch_outputs(const fs::path& model_pt, const std::vector<std::string>& trace_inputs, const InputPlan& plan) {
  return [=](const std::vector<ir::Tensor>& inputs) {
    // LibTorch takes the inputs in forward()'s order.
    std::vector<ir::Tensor> torch_inputs;
    for (const auto& name : trace_inputs) {
      auto it = std::find(plan.names.begin(), plan.names.end(), name);
      if (it == plan.names.end())
        throw std::runtime_error(fmt::format("validation: the export has no input '{}' that the original takes", name));
      const ir::Tensor& t = inputs[static_cast<size_t>(it - plan.names.begin())];
      torch_inputs.push_back(ir::is_float(t.dtype()) ? t.cast(ir::DType::F32) : t.cast(ir::DType::I64));
    }
    return frontend::trace_frontend().run_torchscript(model_pt, torch_inputs);
  };
}

// Runs the original (see RawOutputs) and the exported graph with the
// interpreter on the same inputs, and compares output by output.
validate::ValidationReport compare_with_original(const RawOutputs& original,
                                                 const InputPlan& plan, const std::vector<ir::Tensor>& inputs,
                                                 const ir::Graph& exported, const fs::path& exported_file,
                                                 const ValidationSettings& settings, bool float16,
                                                 const TaskContext* task, const AppliedTask* applied,
                                                 const std::map<std::string, PreprocessedBatch>& media) {
  std::vector<ir::Tensor> expected = original(inputs);
  // The task's heads run on LibTorch's raw outputs through the reference
  // interpreter, so the export is still compared with the original model.
  std::vector<std::string> expected_names = exported.output_names();
  const std::vector<ir::Tensor> raw = expected;
  std::map<std::string, ir::Tensor> model_inputs;
  for (size_t i = 0; i < plan.names.size(); ++i) model_inputs.emplace(plan.names[i], inputs[i]);
  if (applied) {
    const auto by_name = reference_heads(*task, *applied, raw, model_inputs);
    expected.clear();
    expected_names = applied->outputs;
    for (const auto& name : expected_names) expected.push_back(by_name.at(name));
  }

  // The exported file may store inputs in other dtypes (Core ML: int32).
  std::vector<ir::Tensor> export_inputs;
  for (const ir::Value* in : exported.inputs()) {
    auto it = std::find(plan.names.begin(), plan.names.end(), in->name);
    if (it == plan.names.end())
      throw std::runtime_error(fmt::format("validation: the export's input '{}' is not an input of the original",
                                           in->name));
    const ir::Tensor& given = inputs[static_cast<size_t>(it - plan.names.begin())];
    auto from_media = media.find(in->name);
    const ir::Tensor t = !applied                   ? given
                         : from_media != media.end() ? export_media_input(*applied, in->name, from_media->second)
                                                     : export_input(*applied, in->name, given);
    if (t.shape() != in->type.shape)
      throw std::runtime_error(fmt::format("validation: input '{}' is [{}] in the export, [{}] here", in->name,
                                           ir::shape_to_string(in->type.shape), ir::shape_to_string(t.shape())));
    export_inputs.push_back(t.dtype() == in->type.dtype ? t : t.cast(in->type.dtype));
  }
  std::vector<ir::Tensor> actual;
  if (settings.runtime == "litert") {
    if (exported_file.extension() != ".tflite")
      throw std::runtime_error(fmt::format("--runtime litert: {} is not a .tflite file", exported_file.string()));
    std::vector<std::string> names;
    for (const ir::Value* in : exported.inputs()) names.push_back(in->name);
    actual = validate::run_litert(exported_file, names, export_inputs, exported.output_names());
  } else {
    actual = runtime::run(exported, export_inputs);
  }
  if (applied) {
    // Match outputs by name: a Core ML classifier returns classLabel (the
    // index of the most probable class) and probabilities in place of the
    // probabilities output.
    std::vector<ir::Tensor> ordered;
    for (const auto& name : exported.output_names()) {
      std::string wanted = name;
      if (applied->classifier_output && (name == "probabilities" || name == "classLabel"))
        wanted = *applied->classifier_output;
      auto e = std::find(expected_names.begin(), expected_names.end(), wanted);
      if (e == expected_names.end())
        throw std::runtime_error(fmt::format("validation: the export's output '{}' is not one of the task's ({})",
                                             name, fmt::join(expected_names, ", ")));
      ir::Tensor t = expected[static_cast<size_t>(e - expected_names.begin())];
      if (name == "classLabel" && applied->classifier_output) {
        const ir::Tensor probs = t.cast(ir::DType::F32);
        const float* p = probs.data_as<float>();
        int32_t best = static_cast<int32_t>(std::max_element(p, p + probs.numel()) - p);
        t = ir::Tensor::copy_of(ir::DType::I32, {}, &best);
      }
      ordered.push_back(t);
    }
    expected = std::move(ordered);
  }

  validate::Tolerance tolerance;
  tolerance.abs_tol = settings.atol.value_or(float16 ? settings.float16_tolerance : 1e-4);
  if (expected.size() != actual.size())
    throw std::runtime_error(fmt::format("validation: the original returns {} outputs, the export {}",
                                         expected.size(), actual.size()));
  auto report = validate::compare_outputs(exported.output_names(), expected, actual, tolerance);
  if (applied && float16) {
    // Class maps (argmax) in float16 / int8: a pixel whose two best classes
    // are within the precision's tolerance may flip. Such near ties pass; any
    // other differing pixel still fails. The scores are the same heads run
    // with --no-argmax on the original's outputs.
    std::optional<std::map<std::string, ir::Tensor>> scores;
    for (size_t i = 0; i < report.outputs.size(); ++i) {
      auto& o = report.outputs[i];
      if (o.pass || !o.exact_dtype || !o.shape_ok || !task->options.argmax) continue;
      if (!scores) {
        HeadOptions no_argmax = task->options;
        no_argmax.argmax = false;
        const TaskContext scores_ctx{task->task, task->plugin, task->model, no_argmax, task->preprocessor};
        scores = reference_heads(scores_ctx, *applied, raw, model_inputs);
      }
      auto s = scores->find(o.name);
      if (s == scores->end()) continue;
      if (class_mismatches_beyond_ties(s->second, actual[i], tolerance.abs_tol) == 0) o.pass = o.near_ties = true;
    }
  }
  if (settings.dump_dir) {
    fs::create_directories(*settings.dump_dir);
    std::map<std::string, ir::Tensor> e, a;
    for (size_t i = 0; i < expected.size(); ++i) {
      e["output." + exported.output_names()[i]] = expected[i];
      a["output." + exported.output_names()[i]] = actual[i];
    }
    for (size_t i = 0; i < plan.names.size(); ++i) e["input." + plan.names[i]] = inputs[i];
    io::write_safetensors(*settings.dump_dir / "expected.safetensors", e);
    io::write_safetensors(*settings.dump_dir / "actual.safetensors", a);
  }
  return report;
}

}  // namespace

ModelFolder model_folder(const ModelSource& source, const std::string& hf_class) {
  ModelFolder m;
  m.dir = source.dir;
  m.config = JsonView::parse(source.config.dump(), (source.dir / "config.json").string());
  m.preprocessor = JsonView::parse(source.preprocessor.dump(), (source.dir / "preprocessor_config.json").string());
  m.model_type = source.model_type;
  m.hf_class = hf_class;
  return m;
}

TaskSpec resolve_task(const TaskSpec& registered, const registry::PluginCode& plugin, const ModelSource& source) {
  TaskSpec task = registered;
  auto it = plugin.resolvers.find(registered.hf_class);
  if (it == plugin.resolvers.end()) return task;
  const ModelFolder folder = model_folder(source, registered.hf_class);
  it->second(task, folder);
  if (task.hf_class != registered.hf_class)
    throw std::runtime_error(fmt::format("plugin {}: the resolver of {} changed its class to {}", plugin.plugin_name,
                                         registered.hf_class, task.hf_class));
  return task;
}

std::pair<std::string, std::string> preprocessor_type(const TaskSpec& task, const ModelSource& source) {
  if (!task.preprocessor.empty()) return {task.preprocessor, "the task's preprocessor"};
  for (const char* key : {"image_processor_type", "feature_extractor_type"}) {
    auto it = source.preprocessor.find(key);
    if (it != source.preprocessor.end() && it->is_string()) return {it->get<std::string>(), key};
  }
  return {};
}

bool has_media_input(const TaskSpec& task) {
  return std::any_of(task.inputs.begin(), task.inputs.end(), [](const InputSpec& in) { return !is_token_input(in.name); });
}

std::map<std::string, size_t> op_histogram(const ir::Graph& graph) {
  std::map<std::string, size_t> histogram;
  for (const auto& node : graph.nodes()) ++histogram[node->op];
  return histogram;
}

namespace {

// The front half shared by export and validation of an existing file: the
// model translated for the plan, with the task's heads applied.
struct PreparedModel {
  ModelSource source;
  std::vector<std::string> trace_inputs;  // forward()'s inputs; the task's for a native graph
  frontend::TorchScriptModel model;
  TargetOptions target_options;
  ModelFolder folder;
  const Preprocessor* preprocessor = nullptr;  // owned by options.plugin
  bool has_task = false;                       // the plugin's task applies (task_context)
  SourceKind kind = SourceKind::Trace;
  std::shared_ptr<WeightSource> weights;       // the native source's mapped checkpoint
};

// Built where it is used: it refers to `options` and `p`.
TaskContext task_context(const ExportOptions& options, const PreparedModel& p) {
  return TaskContext{*options.task, *options.plugin, p.folder, options.heads, p.preprocessor};
}

void translate_trace(const ExportOptions& options, PreparedModel& p, ExportResult& result);

PreparedModel prepare(const ExportOptions& options, const Target& target, ExportResult& result) {
  PreparedModel p{open_model_source(options.model), {}, {}, options.target, {}, nullptr, false, SourceKind::Trace, {}};
  if (options.task && options.plugin) {
    p.folder = model_folder(p.source, options.task->hf_class);
    const auto type = preprocessor_type(*options.task, p.source);
    if (!type.first.empty()) p.preprocessor = options.plugin->preprocessor(type.first);
    if (!type.first.empty() && !p.preprocessor && has_media_input(*options.task))
      throw std::runtime_error(fmt::format("{}: {} '{}' is not supported by plugin {}",
                                           (p.source.dir / "preprocessor_config.json").string(), type.second,
                                           type.first, options.plugin->plugin_name));
  }
  const auto& modes = target.quantize_modes;
  if (std::find(modes.begin(), modes.end(), options.target.quantize) == modes.end())
    throw std::runtime_error(fmt::format("--quantize {}: not supported for {} (choose one of: {})",
                                         options.target.quantize, target.name, fmt::join(modes, ", ")));
  const TaskSpec* task = options.task ? &*options.task : nullptr;
  p.kind = result.source = choose_source(options.source, p.source, task);
  if (p.kind == SourceKind::Native) {
    say(options.progress, fmt::format("building {} from {} (plugin {}'s graph builder, no trace)",
                                      options.task->hf_class, p.source.checkpoint->string(), options.source.plugin_name));
    p.trace_inputs = native_input_names(*options.task);
    result.plan = plan_inputs(p.trace_inputs, options.shapes, task, p.source);
    NativeModel native = build_native(options.source, p.source, *options.task, result.plan);
    p.weights = native.weights;
    p.model.graph = std::move(native.graph);
    p.model.load_seconds = native.load_seconds;
  } else {
    translate_trace(options, p, result);
  }
  ir::Graph& graph = p.model.graph;
  if (options.task && options.task->outputs.size() == graph.outputs().size()) {
    for (size_t i = 0; i < graph.outputs().size(); ++i) graph.set_output_name(i, options.task->outputs[i].name);
  }
  if (options.task && options.plugin && !options.task->outputs.empty()) {
    p.has_task = true;
    result.applied = apply_task(graph, task_context(options, p), target.name, p.target_options);
  } else if (!options.heads.attention_mask) {
    throw std::runtime_error("--no-attention-mask: needs a plugin task that allows it");
  }
  return p;
}

void translate_trace(const ExportOptions& options, PreparedModel& p, ExportResult& result) {
  say(options.progress, fmt::format("loading {}", p.source.model_pt.string()));
  // "load" includes loading the LibTorch module on first use.
  const auto load_start = Clock::now();
  std::unique_ptr<frontend::TraceArchive> archive = frontend::open_trace(p.source.model_pt);
  const double load_seconds = seconds_since(load_start);
  p.trace_inputs = archive->input_names();
  result.plan = plan_inputs(p.trace_inputs, options.shapes, options.task ? &*options.task : nullptr, p.source);
  frontend::TorchScriptOptions fopts;
  for (size_t i = 0; i < result.plan.names.size(); ++i) {
    fopts.input_shapes[result.plan.names[i]] = result.plan.types[i].shape;
    fopts.input_dtypes[result.plan.names[i]] = result.plan.types[i].dtype;
  }
  if (options.plugin) fopts.extra_converters = options.plugin->op_converters;
  p.model = archive->translate(fopts);
  p.model.load_seconds = load_seconds;
}

// What validation runs on: --inputs; else, for a model whose preprocessor
// feeds one of its inputs, --validation-image / --validation-audio or the
// folder's example_image_<i>.png / example_audio_<i>.wav (one per batch
// item) through that preprocessor; else reference.safetensors when it fits
// the plan; else generated values.
struct ValidationInputs {
  std::vector<ir::Tensor> tensors;                  // the plan's inputs, for the original
  std::map<std::string, PreprocessedBatch> media;   // inputs made from media files
  std::string description;
};

ValidationInputs validation_inputs(const ValidationSettings& settings, const InputPlan& plan, const PreparedModel& p) {
  const ModelSource& source = p.source;
  ValidationInputs v;
  const bool given_images = !settings.images.empty(), given_audio = !settings.audio.empty();
  if (settings.inputs) {
    v.tensors = inputs_from_file(plan, *settings.inputs);
    v.description = fmt::format("{} (--inputs){}", settings.inputs->string(),
                                given_images ? "; --validation-image not used" : given_audio ? "; --validation-audio not used" : "");
    return v;
  }
  const Preprocessor* pre = p.preprocessor;
  std::optional<size_t> media_index;
  if (pre)
    for (size_t i = 0; i < plan.names.size(); ++i)
      if (plan.names[i] == pre->input) media_index = i;
  const std::string media = media_index ? pre->media : "";
  if (given_images && media != "image")
    throw std::runtime_error("--validation-image: the model has no image input (no image preprocessor feeds one)");
  if (given_audio && media != "audio")
    throw std::runtime_error("--validation-audio: the model has no audio input (no audio preprocessor feeds one)");
  const std::string option = media == "audio" ? "--validation-audio" : "--validation-image";
  const bool explicit_files = given_images || given_audio;
  std::vector<fs::path> files = given_images ? settings.images : settings.audio;
  std::string note;
  if (media_index) {
    const int64_t batch = plan.types[*media_index].shape[0];
    if (explicit_files && static_cast<int64_t>(files.size()) != batch)
      throw std::runtime_error(fmt::format("{}: {} {}{} given, the batch size is {} (one per batch item)", option,
                                           files.size(), media == "audio" ? "recording" : "image",
                                           files.size() == 1 ? "" : "s", batch));
    if (!explicit_files) {
      const char* pattern = media == "audio" ? "example_audio_{}.wav" : "example_image_{}.png";
      int64_t found = 0;
      for (int64_t b = 0; b < batch; ++b) {
        fs::path file = source.dir / fmt::format(fmt::runtime(pattern), b);
        if (!fs::is_regular_file(file)) break;
        files.push_back(file);
        ++found;
      }
      if (found > 0 && found < batch) {
        note = fmt::format(" (the model folder has example {} for {} of {} batch items)",
                           media == "audio" ? "recordings" : "images", found, batch);
        files.clear();
      }
    }
  }
  if (!files.empty()) {
    const std::string& name = plan.names[*media_index];
    try {
      PreprocessedBatch batch = pre->load(p.folder, files);
      std::vector<std::string> shown;
      for (const auto& f : files) shown.push_back(explicit_files ? f.string() : f.filename().string());
      if (batch.model_value.shape() != plan.types[*media_index].shape)
        throw std::runtime_error(fmt::format("{} makes '{}' [{}] from the {}, the export takes [{}]",
                                             batch.description.substr(0, batch.description.find(':')), name,
                                             ir::shape_to_string(batch.model_value.shape()),
                                             media == "audio" ? "recordings" : "images",
                                             ir::shape_to_string(plan.types[*media_index].shape)));
      // Other inputs as without media files.
      if (plan.names.size() > 1) v.tensors = example_inputs(plan, source);
      else v.tensors.resize(1);
      v.tensors[*media_index] = plan.types[*media_index].dtype == batch.model_value.dtype()
                                    ? batch.model_value
                                    : batch.model_value.cast(plan.types[*media_index].dtype);
      v.description = fmt::format("{} from {}{} through {}", name, fmt::join(shown, ", "),
                                  explicit_files ? " (" + option + ")" : "", batch.description);
      v.media.emplace(name, std::move(batch));
      return v;
    } catch (const std::exception& e) {
      if (explicit_files) throw std::runtime_error(fmt::format("{}: {}", option, e.what()));
      note = fmt::format(" (example {} not used: {})", media == "audio" ? "recordings" : "images", e.what());
    }
  }
  if (auto stored = reference_inputs(plan, source)) {
    v.tensors = std::move(*stored);
    v.description = source.reference->filename().string() + note;
    return v;
  }
  v.tensors = generated_inputs(plan, source);
  v.description = "generated values" + note;
  return v;
}

// Native exports are also held to outputs stored beside their inputs: the
// --inputs file's `output.<name>` tensors and the folder's
// reference.safetensors (when its inputs fit the plan); each comparison is
// added to the report as "<output> vs <file>".
void compare_with_stored_outputs(const ExportOptions& options, const PreparedModel& p, const ir::Graph& exported,
                                 const fs::path& file_written, const TaskContext* task, ValidationSettings settings,
                                 bool float16, ExportResult& result) {
  const AppliedTask* applied = result.applied ? &*result.applied : nullptr;
  if (!options.task || (applied && applied->ones_input)) return;  // stored outputs used the real inputs
  settings.dump_dir.reset();
  std::vector<fs::path> files;
  if (options.validation.inputs) files.push_back(*options.validation.inputs);
  std::error_code ec;
  if (p.source.reference && !(options.validation.inputs && fs::equivalent(*options.validation.inputs, *p.source.reference, ec)))
    files.push_back(*p.source.reference);
  for (const auto& file : files) {
    const auto stored = io::read_safetensors(file);
    std::vector<ir::Tensor> raw;
    for (const auto& output : options.task->outputs) {
      auto it = stored.find("output." + output.name);
      if (it == stored.end()) break;
      raw.push_back(it->second.dtype() == ir::DType::F32 ? it->second : it->second.cast(ir::DType::F32));
    }
    if (raw.size() != options.task->outputs.size()) continue;  // inputs only
    std::vector<ir::Tensor> inputs;
    try {
      inputs = inputs_from_file(result.plan, file);
    } catch (const std::exception& e) {
      say(options.progress, fmt::format("{}: outputs not compared, its inputs do not fit the export ({})",
                                        file.filename().string(), e.what()));
      continue;
    }
    auto report = compare_with_original([&](const std::vector<ir::Tensor>&) { return raw; }, result.plan, inputs,
                                        exported, file_written, settings, float16, task, applied, {});
    for (auto& o : report.outputs) {
      o.name += " vs " + file.filename().string();
      result.report->outputs.push_back(o);
    }
    result.validation_reference += "; " + file.filename().string() + " outputs";
  }
}

// Reads the written file back and compares it with the original on the plan's inputs.
void validate_written(const ExportOptions& options, const Target& target, const PreparedModel& p,
                      const fs::path& file, ExportResult& result) {
  auto start = Clock::now();
  // The reference: LibTorch running the trace when the folder has one, else
  // the builder's graph (rebuilt, before passes and backend) in the interpreter.
  RawOutputs original;
  if (!p.source.model_pt.empty()) {
    const std::vector<std::string> forward_inputs =
        p.kind == SourceKind::Trace ? p.trace_inputs : frontend::open_trace(p.source.model_pt)->input_names();
    original = torch_outputs(p.source.model_pt, forward_inputs, result.plan);
    result.validation_reference = "LibTorch running " + p.source.model_pt.filename().string();
  } else {
    auto reference = std::make_shared<ir::Graph>(
        rebuild_native(options.source, p.source, *options.task, result.plan, *p.weights));
    original = [reference](const std::vector<ir::Tensor>& in) { return runtime::run(*reference, in); };
    result.validation_reference = "the graph builder's graph in the reference interpreter";
  }
  say(options.progress, fmt::format("validating {} against {}", options.output.string(), result.validation_reference));
  ir::Graph exported = target.read(file);
  ir::verify(exported);
  ValidationInputs chosen = validation_inputs(options.validation, result.plan, p);
  std::vector<ir::Tensor>& inputs = chosen.tensors;
  const AppliedTask* applied = result.applied ? &*result.applied : nullptr;
  result.validation_inputs = chosen.description;
  for (const auto& [name, batch] : chosen.media)
    result.validation_inputs += "; " + describe_media_feed(applied, name, batch);
  say(options.progress, "validation inputs: " + result.validation_inputs);
  if (applied && applied->ones_input) {
    // The export feeds this input as all ones; so does the original here.
    for (size_t i = 0; i < result.plan.names.size(); ++i)
      if (result.plan.names[i] == *applied->ones_input) {
        ir::Tensor ones = ir::Tensor::zeros(ir::DType::F32, inputs[i].shape());
        std::fill_n(ones.mutable_as<float>(), ones.numel(), 1.f);
        inputs[i] = ones.cast(inputs[i].dtype());
      }
  }
  ValidationSettings settings = options.validation;
  // Reduced-precision exports are held to the plugin's tolerance for that
  // precision, relative to each output's scale.
  const bool int8 = options.target.quantize == "dynamic-int8";
  if (!settings.atol) {
    if (options.task) settings.float16_tolerance = int8 ? options.task->int8_tolerance : options.task->float16_tolerance;
    else if (int8) settings.float16_tolerance = TaskSpec{}.int8_tolerance;
  }
  bool float16 = int8 || options.target.quantize == "float16" || uses_float16(exported);
  std::optional<TaskContext> task;
  if (p.has_task) task.emplace(task_context(options, p));
  result.report = compare_with_original(original, result.plan, inputs, exported, file, settings, float16,
                                        task ? &*task : nullptr, applied, chosen.media);
  if (p.kind == SourceKind::Native)
    compare_with_stored_outputs(options, p, exported, file, task ? &*task : nullptr, settings, float16, result);
  result.phases.push_back({"validate", seconds_since(start)});
}

}  // namespace

ExportResult export_model(const ExportOptions& options, const Target& target) {
  ExportResult result;
  // Written beside the output and validated there; it takes the output's
  // name only when complete and valid. Staged first, so an existing output
  // or an unwritable folder stops the export before its work.
  io::StagedOutput staged(options.output, target.kind, options.target.overwrite);
  auto start = Clock::now();
  PreparedModel p = prepare(options, target, result);
  ir::Graph& graph = p.model.graph;
  // "load" is LibTorch reading model.pt; "translate" the rest of the front
  // half (freeze, inline, translation, task heads).
  const double front = seconds_since(start);
  result.phases.push_back({"load", p.model.load_seconds});
  result.phases.push_back({"translate", front - p.model.load_seconds});

  start = Clock::now();
  say(options.progress, "optimizing");
  passes::run_default_pipeline(graph);
  ir::verify(graph);
  result.phases.push_back({"passes", seconds_since(start)});
  result.op_histogram = op_histogram(graph);
  result.op_count = graph.nodes().size();

  start = Clock::now();
  say(options.progress, fmt::format("writing {}", options.output.string()));
  try {
    target.write(graph, p.target_options, staged);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    if (what.find(options.output.string()) != std::string::npos) throw;
    throw std::runtime_error(fmt::format("{}: not written: {}", options.output.string(), what));
  }
  result.phases.push_back({"serialize", seconds_since(start)});

  if (!options.validate) {
    staged.commit();
    result.written = staged.output();
    return result;
  }
  // A failed export is kept under a name that says so, or removed.
  auto set_aside = [&] {
    if (!options.keep_invalid) return staged.discard();
    result.written = io::invalid_output_path(staged.output());
    staged.commit_to(result.written);
  };
  try {
    validate_written(options, target, p, staged.path(), result);
  } catch (const std::exception& e) {
    set_aside();
    throw std::runtime_error(fmt::format("{} ({})", e.what(),
                                         result.written.empty() ? std::string("the export was removed")
                                                                : "the export was kept as " + result.written.string()));
  }
  if (result.report->pass()) {
    staged.commit();
    result.written = staged.output();
  } else {
    set_aside();
  }
  return result;
}

ExportResult validate_existing(const ExportOptions& options, const Target& target) {
  ExportResult result;
  PreparedModel p = prepare(options, target, result);
  validate_written(options, target, p, options.output, result);
  result.written = options.output;
  return result;
}

}  // namespace exporters::exporting
