#include "core/export/export_pipeline.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include <stdexcept>

#include "core/export/image_processor.hpp"
#include "core/frontend/torchscript/torchscript_frontend.hpp"
#include "core/io/png.hpp"
#include "core/io/safetensors.hpp"
#include "core/passes/passes.hpp"
#include "core/runtime/interpreter.hpp"
#include "core/validate/litert_runner.hpp"
#include "core/validate/torch_runner.hpp"

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
    return validate::run_torchscript(model_pt, torch_inputs);
  };
}

// Runs the original (see RawOutputs) and the exported graph with the
// interpreter on the same inputs, and compares output by output.
validate::ValidationReport compare_with_original(const RawOutputs& original,
                                                 const InputPlan& plan, const std::vector<ir::Tensor>& inputs,
                                                 const ir::Graph& exported, const fs::path& exported_file,
                                                 const ValidationSettings& settings, bool float16,
                                                 const AppliedTask* applied,
                                                 const std::map<std::string, std::vector<ProcessedImage>>& images) {
  std::vector<ir::Tensor> expected = original(inputs);
  // The task's heads run on LibTorch's raw outputs through the reference
  // interpreter, so the export is still compared with the original model.
  std::vector<std::string> expected_names = exported.output_names();
  const std::vector<ir::Tensor> raw = expected;
  if (applied) {
    expected = reference_heads(*applied, expected);
    expected_names.clear();
    for (const auto& o : applied->outputs) expected_names.push_back(o.name);
  }

  // The exported file may store inputs in other dtypes (Core ML: int32).
  std::vector<ir::Tensor> export_inputs;
  for (const ir::Value* in : exported.inputs()) {
    auto it = std::find(plan.names.begin(), plan.names.end(), in->name);
    if (it == plan.names.end())
      throw std::runtime_error(fmt::format("validation: the export's input '{}' is not an input of the original",
                                           in->name));
    const ir::Tensor& given = inputs[static_cast<size_t>(it - plan.names.begin())];
    auto from_images = images.find(in->name);
    const ir::Tensor t = !applied                     ? given
                         : from_images != images.end() ? export_image_input(*applied, in->name, from_images->second, given)
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
    // are within the precision's tolerance may flip. Such near ties pass; any other
    // differing pixel still fails.
    for (size_t i = 0; i < report.outputs.size(); ++i) {
      auto& o = report.outputs[i];
      if (o.pass || !o.exact_dtype || !o.shape_ok) continue;
      for (size_t k = 0; k < applied->outputs.size(); ++k) {
        if (applied->outputs[k].name != o.name) continue;
        int64_t bad = class_mismatches_beyond_ties(*applied, o.name, raw.at(k), actual[i], tolerance.abs_tol);
        if (bad == 0) o.pass = o.near_ties = true;
      }
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
  SourceKind kind = SourceKind::Trace;
  std::shared_ptr<WeightSource> weights;  // the native source's mapped checkpoint
};

void translate_trace(const ExportOptions& options, PreparedModel& p, ExportResult& result);

PreparedModel prepare(const ExportOptions& options, const Target& target, ExportResult& result) {
  PreparedModel p{open_model_source(options.model), {}, {}, options.target};
  const auto& modes = target.quantize_modes;
  if (std::find(modes.begin(), modes.end(), options.target.quantize) == modes.end())
    throw std::runtime_error(fmt::format("--quantize {}: not supported for {} (choose one of: {})",
                                         options.target.quantize, target.name, fmt::join(modes, ", ")));
  p.kind = result.source = choose_source(options.source, p.source, options.task);
  if (p.kind == SourceKind::Native) {
    say(options.progress, fmt::format("building {} from {} (plugin {}'s graph builder, no trace)",
                                      options.task->hf_class, p.source.checkpoint->string(), options.source.plugin_name));
    p.trace_inputs = native_input_names(*options.task);
    result.plan = plan_inputs(p.trace_inputs, options.shapes, options.task, p.source);
    NativeModel native = build_native(options.source, p.source, *options.task, result.plan);
    p.weights = native.weights;
    p.model.graph = std::move(native.graph);
    p.model.load_seconds = native.load_seconds;
  } else {
    translate_trace(options, p, result);
  }
  ir::Graph& graph = p.model.graph;
  if (options.task && options.task->output_names.size() == graph.outputs().size()) {
    for (size_t i = 0; i < graph.outputs().size(); ++i) graph.set_output_name(i, options.task->output_names[i]);
  }
  if (options.task && !options.task->outputs.empty()) {
    result.applied = apply_task(graph, *options.task, p.source, options.heads, target.name, p.target_options);
  } else if (!options.heads.attention_mask) {
    throw std::runtime_error("--no-attention-mask: needs a plugin task that allows it");
  }
  return p;
}

void translate_trace(const ExportOptions& options, PreparedModel& p, ExportResult& result) {
  say(options.progress, fmt::format("loading {}", p.source.model_pt.string()));
  frontend::TorchScriptArchive archive(p.source.model_pt);
  p.trace_inputs = archive.input_names();
  result.plan = plan_inputs(p.trace_inputs, options.shapes, options.task, p.source);
  frontend::TorchScriptOptions fopts;
  for (size_t i = 0; i < result.plan.names.size(); ++i) {
    fopts.input_shapes[result.plan.names[i]] = result.plan.types[i].shape;
    fopts.input_dtypes[result.plan.names[i]] = result.plan.types[i].dtype;
  }
  fopts.extra_converters = options.quirks;
  p.model = archive.translate(fopts);
}

// What validation runs on: --inputs; else, for a model with an image input,
// --validation-image or the folder's example_image_<i>.png (one per batch
// item) through the HF image processor; else reference.safetensors when it
// fits the plan; else generated values.
struct ValidationInputs {
  std::vector<ir::Tensor> tensors;                                // the plan's inputs, for LibTorch
  std::map<std::string, std::vector<ProcessedImage>> images;      // image inputs made from images
  std::string description;
};

ValidationInputs validation_inputs(const ValidationSettings& settings, const InputPlan& plan,
                                   const ModelSource& source) {
  ValidationInputs v;
  if (settings.inputs) {
    v.tensors = inputs_from_file(plan, *settings.inputs);
    v.description = fmt::format("{} (--inputs){}", settings.inputs->string(),
                                settings.images.empty() ? "" : "; --validation-image not used");
    return v;
  }
  std::optional<size_t> image_index;
  for (size_t i = 0; i < plan.names.size() && !image_index; ++i) {
    const auto& t = plan.types[i];
    if (t.rank() == 4 && ir::is_float(t.dtype) && t.shape[1] == 3 && !is_token_input(plan.names[i])) image_index = i;
  }
  const bool explicit_images = !settings.images.empty();
  if (explicit_images && !image_index)
    throw std::runtime_error("--validation-image: the model has no image input (a float [B, 3, H, W] input)");
  std::vector<fs::path> files = settings.images;
  std::string note;
  if (image_index) {
    const int64_t batch = plan.types[*image_index].shape[0];
    if (explicit_images && static_cast<int64_t>(files.size()) != batch)
      throw std::runtime_error(fmt::format("--validation-image: {} image{} given, the batch size is {} (one per batch item)",
                                           files.size(), files.size() == 1 ? "" : "s", batch));
    if (!explicit_images) {
      int64_t found = 0;
      for (int64_t b = 0; b < batch; ++b) {
        fs::path png = source.dir / fmt::format("example_image_{}.png", b);
        if (!fs::is_regular_file(png)) break;
        files.push_back(png);
        ++found;
      }
      if (found > 0 && found < batch) {
        note = fmt::format(" (the model folder has example images for {} of {} batch items)", found, batch);
        files.clear();
      }
    }
  }
  if (!files.empty()) {
    const std::string& name = plan.names[*image_index];
    try {
      const fs::path config = source.dir / "preprocessor_config.json";
      if (!fs::is_regular_file(config))
        throw std::runtime_error(fmt::format("{}: not found (it says how to preprocess the images)", config.string()));
      const ImageProcessor processor(source.preprocessor, config);
      std::vector<ProcessedImage> processed;
      std::vector<std::string> shown;
      for (const auto& f : files) {
        processed.push_back(processor.process(io::read_png_rgb(f)));
        shown.push_back(explicit_images ? f.string() : f.filename().string());
      }
      ir::Tensor pixels = pixel_values_tensor(processed);
      if (pixels.shape() != plan.types[*image_index].shape)
        throw std::runtime_error(fmt::format("{} makes '{}' [{}] from the images, the export takes [{}]",
                                             processor.type(), name, ir::shape_to_string(pixels.shape()),
                                             ir::shape_to_string(plan.types[*image_index].shape)));
      // Other inputs (none for the vision families) as without images.
      if (plan.names.size() > 1) v.tensors = example_inputs(plan, source);
      else v.tensors.resize(1);
      v.tensors[*image_index] = plan.types[*image_index].dtype == ir::DType::F32
                                    ? pixels
                                    : pixels.cast(plan.types[*image_index].dtype);
      v.description = fmt::format("{} from {}{} through {}", name, fmt::join(shown, ", "),
                                  explicit_images ? " (--validation-image)" : "", processor.describe());
      v.images[name] = std::move(processed);
      return v;
    } catch (const std::exception& e) {
      if (explicit_images) throw std::runtime_error(fmt::format("--validation-image: {}", e.what()));
      note = fmt::format(" (example images not used: {})", e.what());
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
                                 ValidationSettings settings, bool float16, ExportResult& result) {
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
    for (const auto& name : options.task->output_names) {
      auto it = stored.find("output." + name);
      if (it == stored.end()) break;
      raw.push_back(it->second.dtype() == ir::DType::F32 ? it->second : it->second.cast(ir::DType::F32));
    }
    if (raw.size() != options.task->output_names.size()) continue;  // inputs only
    std::vector<ir::Tensor> inputs;
    try {
      inputs = inputs_from_file(result.plan, file);
    } catch (const std::exception& e) {
      say(options.progress, fmt::format("{}: outputs not compared, its inputs do not fit the export ({})",
                                        file.filename().string(), e.what()));
      continue;
    }
    auto report = compare_with_original([&](const std::vector<ir::Tensor>&) { return raw; }, result.plan, inputs,
                                        exported, options.output, settings, float16, applied, {});
    for (auto& o : report.outputs) {
      o.name += " vs " + file.filename().string();
      result.report->outputs.push_back(o);
    }
    result.validation_reference += "; " + file.filename().string() + " outputs";
  }
}

// Reads the written file back and compares it with the original on the plan's inputs.
void validate_written(const ExportOptions& options, const Target& target, const PreparedModel& p,
                      ExportResult& result) {
  auto start = Clock::now();
  // The reference: LibTorch running the trace when the folder has one, else
  // the builder's graph (rebuilt, before passes and backend) in the interpreter.
  RawOutputs original;
  if (!p.source.model_pt.empty()) {
    const std::vector<std::string> forward_inputs =
        p.kind == SourceKind::Trace ? p.trace_inputs : frontend::torchscript_input_names(p.source.model_pt);
    original = torch_outputs(p.source.model_pt, forward_inputs, result.plan);
    result.validation_reference = "LibTorch running " + p.source.model_pt.filename().string();
  } else {
    auto reference = std::make_shared<ir::Graph>(
        rebuild_native(options.source, p.source, *options.task, result.plan, *p.weights));
    original = [reference](const std::vector<ir::Tensor>& in) { return runtime::run(*reference, in); };
    result.validation_reference = "the graph builder's graph in the reference interpreter";
  }
  say(options.progress, fmt::format("validating {} against {}", options.output.string(), result.validation_reference));
  ir::Graph exported = target.read(options.output);
  ir::verify(exported);
  ValidationInputs chosen = validation_inputs(options.validation, result.plan, p.source);
  std::vector<ir::Tensor>& inputs = chosen.tensors;
  const AppliedTask* applied = result.applied ? &*result.applied : nullptr;
  result.validation_inputs = chosen.description;
  for (const auto& [name, images] : chosen.images)
    result.validation_inputs += "; " + describe_image_feed(applied, name, images);
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
  result.report = compare_with_original(original, result.plan, inputs, exported, options.output, settings, float16,
                                        applied, chosen.images);
  if (p.kind == SourceKind::Native) compare_with_stored_outputs(options, p, exported, settings, float16, result);
  result.phases.push_back({"validate", seconds_since(start)});
}

}  // namespace

ExportResult export_model(const ExportOptions& options, const Target& target) {
  ExportResult result;
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
  target.write(graph, p.target_options, options.output);
  result.phases.push_back({"serialize", seconds_since(start)});

  if (options.validate) validate_written(options, target, p, result);
  return result;
}

ExportResult validate_existing(const ExportOptions& options, const Target& target) {
  ExportResult result;
  PreparedModel p = prepare(options, target, result);
  validate_written(options, target, p, result);
  return result;
}

}  // namespace exporters::exporting
