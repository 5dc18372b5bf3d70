#include "cli/export_common.hpp"
#include "registry/standard_plugins.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "core/export/export_pipeline.hpp"
#include "core/io/hf_cache.hpp"
#include "core/frontend/trace_archive.hpp"

namespace exporters::cli {

void add_common_export_options(CLI::App* cmd, ExportCommandOptions& options) {
  cmd->add_option("MODEL", options.model_dir,
                  "Hugging Face model folder (config.json with model.safetensors and/or model.pt), a bare .pt, or "
                  "a Hub id (org/name) in the local Hugging Face cache")
      ->required();
  cmd->add_option("-o,--output", options.output, "Output path")->required();
  add_task_options(cmd, options);
  cmd->add_flag("--no-validate", options.no_validate,
                "Skip the numerical check of the written file against the original model");
  cmd->add_flag("--overwrite", options.overwrite, "Replace an existing output");
  cmd->add_flag("--no-keep-invalid", options.no_keep_invalid,
                "Remove an export that fails validation instead of keeping it as NAME.invalid.EXT");
  cmd->add_flag("--profile", options.profile, "Print the time of each phase");
}

void add_task_options(CLI::App* cmd, ExportCommandOptions& options) {
  cmd->add_option("--revision", options.revision,
                  "MODEL is a Hub id: the branch, tag or commit to use from the local Hugging Face cache "
                  "(default main)");
  cmd->add_option("--task", options.task, "HF class or task to export (default: config.json's architectures)");
  cmd->add_option("--source", options.source,
                  "What the graph is made from: 'native' (the plugin's graph builder on model.safetensors, no "
                  "LibTorch) or 'trace' (model.pt); default: native when the plugin builds the class and the "
                  "folder has a checkpoint")
      ->check(CLI::IsMember({"native", "trace"}));
  cmd->add_option("--shape", options.shapes, "Fix an input's shape, NAME=d0,d1,... (repeatable)")
      ->type_name("NAME=DIMS")
      ->allow_extra_args(false);  // one value per --shape, repeat the flag for more
  cmd->add_option("--sequence-length", options.sequence_length,
                  "Sequence length of text inputs (default: the plugin's)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batch-size", options.batch_size, "Batch size (default 1)")->check(CLI::PositiveNumber);
  cmd->add_option("--inputs", options.inputs,
                  "Validation inputs as .safetensors (input.<name> tensors; default: the model's example "
                  "inputs or generated ones)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--validation-image", options.validation_images,
                  "Vision models: a PNG to validate with, one per batch item in order (repeat the option); "
                  "default: the model folder's example_image_<i>.png. Preprocessed as preprocessor_config.json "
                  "says; --inputs takes priority")
      ->type_name("PNG")
      ->allow_extra_args(false)
      ->check(CLI::ExistingFile);
  cmd->add_option("--validation-audio", options.validation_audio,
                  "Audio models: a 16 kHz mono 16-bit PCM WAV to validate with, one per batch item in order (repeat "
                  "the option); default: the model folder's example_audio_<i>.wav. Preprocessed by the plugin's "
                  "feature extractor; --inputs takes priority")
      ->type_name("WAV")
      ->allow_extra_args(false)
      ->check(CLI::ExistingFile);
  cmd->add_option("--atol", options.atol,
                  "Allowed error, scaled by max(1, |output|) (default 1e-4 for float32, 1e-2 relative for float16)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--runtime", options.runtime,
                  "What runs the written file for validation: our reference 'interpreter' (default) or, for "
                  ".tflite files, 'litert', the real TFLite runtime under Node.js (tools/litert)")
      ->check(CLI::IsMember({"interpreter", "litert"}));
  cmd->add_option("--dump-validation", options.dump_dir,
                  "Write expected.safetensors and actual.safetensors of the validation run to this folder");
  cmd->add_flag("--no-attention-mask", options.no_attention_mask,
                "Export without the attention_mask input (fed as all ones; MobileBERT)");
  cmd->add_flag("--no-upsample", options.no_upsample,
                "Semantic segmentation: keep the logits at the model's resolution");
  cmd->add_flag("--no-argmax", options.no_argmax,
                "Semantic segmentation: return class scores instead of class indices");
  cmd->add_option("--image-input", options.image_input,
                  "Vision models in Core ML: 'image' (an image input with the preprocessing folded in, default) "
                  "or 'tensor' (a float tensor input)")
      ->check(CLI::IsMember({"image", "tensor"}));
  cmd->add_flag("--fold-normalization", options.fold_normalization,
                "Image tensor inputs (TFLite, or --image-input tensor) take pixel values 0..255 and the model "
                "applies the preprocessor's rescaling and normalisation");
}

namespace {

// The HF class a TorchScript archive was traced from, when config.json has
// no `architectures`: the class of the trace's root object, from the first
// bytes of its data.pkl (never the weights). A wrapper module's own class
// name, which matches no HF task, rather than a submodule's. "" when the
// pickle does not say.
std::string traced_hf_class(const std::filesystem::path& model_pt) {
  if (model_pt.empty()) return {};  // a checkpoint folder without a trace
  auto cls = frontend::traced_root_class(model_pt);
  return cls ? cls->name : std::string();
}

// The plugin serving config.json's model_type, and the task it asks for,
// resolved against the model folder. `plugin` keeps the plugin loaded for as
// long as the choice (or the ExportOptions it moves into) lives, whatever
// happens to the registry.
struct PluginChoice {
  registry::PluginHandle plugin;
  std::string plugin_name;
  std::optional<TaskSpec> task;
  const GraphBuilder* builder = nullptr;  // the plugin's graph builder for the task's class
};

PluginChoice choose_plugin(registry::PluginRegistry& registry, const exporting::ModelSource& source,
                           const std::string& requested_task) {
  PluginChoice choice;
  if (source.model_type.empty()) {
    if (!requested_task.empty())
      throw CommandError(fmt::format("--task {}: {} has no config.json with a model_type to pick a plugin by",
                                     requested_task, source.dir.string()));
    return choice;
  }
  const registry::PluginRecord* plugin = registry.find_by_model_type(source.model_type);
  if (!plugin) {
    const std::string config = (source.dir / "config.json").string();
    for (const auto& record : registry.plugins()) {
      const auto& types = record.manifest.model_types;
      if (record.state == registry::PluginState::Broken &&
          std::find(types.begin(), types.end(), source.model_type) != types.end())
        throw CommandError(fmt::format("{}: model_type '{}' is served by plugin {}, which is broken: {}", config,
                                       source.model_type, record.file.string(), record.error));
    }
    if (const registry::StandardPlugin* standard = registry::standard_plugin_for(source.model_type)) {
      std::vector<std::string> dirs;
      for (const auto& entry : registry.search_path()) dirs.push_back(entry.dir.string());
      throw CommandError(fmt::format(
          "{}: no installed plugin serves model_type '{}'; it needs the standard plugin '{}' (lib{}.so with its "
          "manifest {}.json), which is not on the plugin search path ({}); see `exporters plugins list`",
          config, source.model_type, standard->name, standard->name, standard->name,
          dirs.empty() ? "no existing folders" : fmt::format("{}", fmt::join(dirs, ", "))));
    }
    if (!requested_task.empty())
      throw CommandError(fmt::format("--task {}: no plugin serves model_type '{}' (see `exporters plugins list`)",
                                     requested_task, source.model_type));
    return choice;  // generic export: inputs from --shape
  }
  choice.plugin_name = plugin->display_name();
  choice.plugin = plugin->code;
  std::string wanted = requested_task.empty() ? source.hf_class : requested_task;
  if (wanted.empty()) wanted = traced_hf_class(source.model_pt);  // config.json without architectures
  std::vector<std::string> known;
  const TaskSpec* registered = nullptr;
  for (const auto& task : plugin->tasks) {
    if (task.hf_class == wanted || task.task == wanted) {
      registered = &task;
      break;
    }
    known.push_back(task.hf_class);
  }
  if (!registered && !requested_task.empty())
    throw CommandError(fmt::format("--task {}: plugin {} serves {}", requested_task, choice.plugin_name,
                                   fmt::join(known, ", ")));
  if (!registered) return choice;
  choice.task = exporting::resolve_task(*registered, *choice.plugin, source);
  // A preprocessor type the serving plugin does not know: name the plugins that do.
  const auto [type, key] = exporting::preprocessor_type(*choice.task, source);
  if (!type.empty() && !choice.plugin->preprocessor(type) && exporting::has_media_input(*choice.task)) {
    std::vector<std::string> others = registry.plugins_with_preprocessor(type);
    throw CommandError(fmt::format(
        "{}: {} '{}' is not supported by plugin {} (serving model_type '{}'); {}",
        (source.dir / "preprocessor_config.json").string(), key, type, choice.plugin_name, source.model_type,
        others.empty() ? std::string("no installed plugin registers a preprocessor for it")
                       : fmt::format("plugin{} {} register{} one", others.size() > 1 ? "s" : "",
                                     fmt::join(others, ", "), others.size() > 1 ? "" : "s")));
  }
  if (auto b = choice.plugin->graph_builders.find(choice.task->hf_class); b != choice.plugin->graph_builders.end())
    choice.builder = &b->second;
  return choice;
}

}  // namespace

int run_export_command(const ExportCommandOptions& options, const GlobalOptions& global) {
  exporting::ExportOptions eo;
  try {
    eo.model = io::resolve_model_argument(
        options.model_dir, options.revision.empty() ? std::nullopt : std::optional<std::string>(options.revision));
  } catch (const std::runtime_error& e) {
    // A path that is not there (and no Hub id) is bad usage; a Hub id missing from the cache is not.
    if (!io::looks_like_hub_id(options.model_dir)) throw CommandError(e.what(), kExitUsage);
    throw;
  }
  eo.output = options.output;
  for (const auto& text : options.shapes) {
    auto [name, shape] = exporting::parse_shape_option(text);
    if (!eo.shapes.shapes.emplace(name, shape).second)
      throw CommandError(fmt::format("--shape {}: given twice", name), kExitUsage);
  }
  if (options.sequence_length > 0) eo.shapes.sequence_length = options.sequence_length;
  if (options.batch_size > 0) eo.shapes.batch_size = options.batch_size;
  eo.target.quantize = options.quantize;
  eo.target.os_target = options.os_target;
  eo.target.overwrite = options.overwrite;
  if (!options.author.empty()) eo.target.metadata["author"] = options.author;
  if (!options.license.empty()) eo.target.metadata["license"] = options.license;
  if (!options.model_version.empty()) eo.target.metadata["version"] = options.model_version;
  if (!options.description.empty()) eo.target.metadata["description"] = options.description;
  eo.validate = !options.no_validate;
  eo.keep_invalid = !options.no_keep_invalid;
  if (!options.inputs.empty()) eo.validation.inputs = options.inputs;
  if (!options.dump_dir.empty()) eo.validation.dump_dir = options.dump_dir;
  for (const auto& image : options.validation_images) eo.validation.images.emplace_back(image);
  for (const auto& audio : options.validation_audio) eo.validation.audio.emplace_back(audio);
  if (options.no_validate && !options.validation_images.empty())
    throw CommandError("--validation-image: nothing to validate with --no-validate", kExitUsage);
  if (options.no_validate && !options.validation_audio.empty())
    throw CommandError("--validation-audio: nothing to validate with --no-validate", kExitUsage);
  if (!options.validation_images.empty() && !options.validation_audio.empty())
    throw CommandError("--validation-image and --validation-audio: a model takes one kind of media", kExitUsage);
  if (options.atol > 0) eo.validation.atol = options.atol;
  eo.validation.runtime = options.runtime;
  if (options.runtime == "litert" && options.target_format != "tflite")
    throw CommandError("--runtime litert: only .tflite files run in LiteRT", kExitUsage);
  eo.heads.attention_mask = !options.no_attention_mask;
  eo.heads.upsample = !options.no_upsample;
  eo.heads.argmax = !options.no_argmax;
  eo.heads.image_input = options.image_input;
  eo.heads.fold_normalization = options.fold_normalization;
  eo.progress = [](const std::string& message) { fmt::print(stderr, "exporters: {}\n", message); };

  const auto& target = exporting::find_target(options.target_format);
  auto source = exporting::open_model_source(eo.model);
  PluginChoice plugin;
  {
    // The registry only finds the plugin: plugin code is reached through the
    // handle in eo.plugin, which keeps its module loaded until eo is gone.
    auto registry = open_registry(global);
    plugin = choose_plugin(*registry, source, options.task);
  }
  eo.plugin = plugin.plugin;
  eo.task = plugin.task;
  eo.source = {options.source, plugin.builder, plugin.plugin_name};
  const bool native =
      exporting::choose_source(eo.source, source, eo.task ? &*eo.task : nullptr) == exporting::SourceKind::Native;
  eo.target.metadata["co.huggingface.exporters.name"] = source.dir.filename().string();
  if (!source.hf_class.empty()) eo.target.metadata["co.huggingface.exporters.architecture"] = source.hf_class;
  if (plugin.task) eo.target.metadata["co.huggingface.exporters.task"] = plugin.task->task;
  eo.target.metadata["co.huggingface.exporters.framework"] = "pytorch";
  eo.target.metadata["co.huggingface.exporters.precision"] = options.quantize;
  if (source.config.contains("transformers_version") && source.config["transformers_version"].is_string())
    eo.target.metadata["transformers_version"] = source.config["transformers_version"].get<std::string>();
  fmt::print(stderr, "exporters: {} ({}) with {}{}\n",
             native ? source.checkpoint->string() + " (native, no trace)" : source.model_pt.string(),
             !source.hf_class.empty() ? source.hf_class
             : plugin.task            ? plugin.task->hf_class + (native ? " from --task" : " from the trace")
             : source.model_type.empty() ? "no config.json" : "no architectures in config.json",
             plugin.plugin_name.empty() ? "no plugin (generic TorchScript export)" : "plugin " + plugin.plugin_name,
             plugin.task ? fmt::format(", task {} ({})", plugin.task->task, plugin.task->hf_class)
                         : std::string(plugin.plugin_name.empty() ? "" : ", no task for this class: inputs from --shape"));

  if (options.validate_only) {
    exporting::ExportResult result = exporting::validate_existing(eo, target);
    fmt::print("validation reference: {}\n{}", result.validation_reference, result.report->to_string());
    return result.report->pass() ? 0 : kExitFailure;
  }
  exporting::ExportResult result = exporting::export_model(eo, target);

  fmt::print("wrote {} ({} ops", result.written.empty() ? options.output + " (removed)" : result.written.string(),
             result.op_count);
  for (size_t i = 0; i < result.plan.names.size(); ++i)
    fmt::print("{} {}: {}", i ? "," : "; inputs", result.plan.names[i], result.plan.types[i].to_string());
  fmt::print(")\n");
  if (options.profile) {
    for (const auto& phase : result.phases) fmt::print("  {:<16} {:8.3f} s\n", phase.phase, phase.seconds);
    // The op mix shows whether fusions kept layer norm, GELU and attention compact.
    std::vector<std::pair<std::string, size_t>> ops(result.op_histogram.begin(), result.op_histogram.end());
    std::stable_sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    fmt::print("  ops:");
    for (const auto& [op, count] : ops)
      if (op != "constant") fmt::print(" {} {}", op, count);
    fmt::print("\n");
  }
  if (result.report) {
    fmt::print("validation reference: {}\n{}", result.validation_reference, result.report->to_string());
    if (!result.report->pass()) {
      // Never under the output's name: kept beside it, or removed.
      std::fflush(stdout);  // the report first, then the one error line
      if (result.written.empty())
        fmt::print(stderr, "exporters: error: {}: validation failed; the export was removed (--no-keep-invalid)\n",
                   options.output);
      else
        fmt::print(stderr, "exporters: error: {}: validation failed; the export was kept as {} "
                   "(--no-keep-invalid removes it)\n", options.output, result.written.string());
      return kExitFailure;
    }
  }
  return 0;
}

}  // namespace exporters::cli
