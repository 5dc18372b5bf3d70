// The whole export: model dir -> frontend -> passes -> backend file -> read
// the written file back -> run it next to LibTorch running the original.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/export/heads.hpp"
#include "core/export/input_plan.hpp"
#include "core/export/model_source.hpp"
#include "core/export/native_source.hpp"
#include "core/export/target.hpp"
#include "core/validate/compare.hpp"
#include "exporters/frontend/converter.hpp"
#include "exporters/plugin.hpp"
#include "registry/plugin_code.hpp"

namespace exporters::exporting {

using Progress = std::function<void(const std::string&)>;

struct PhaseTime {
  std::string phase;  // load, translate, passes, serialize, validate
  double seconds = 0;
};

struct ValidationSettings {
  std::optional<std::filesystem::path> inputs;    // --inputs X.safetensors
  std::optional<std::filesystem::path> dump_dir;  // writes expected.safetensors / actual.safetensors
  std::optional<double> atol;                     // overrides the precision's default
  double float16_tolerance = 1e-2;                // float16 / dynamic-int8 exports: relative to each output's max magnitude
  std::string runtime = "interpreter";            // or "litert": run .tflite files with the real TFLite runtime
  // --validation-image, one PNG per batch item: overrides the model folder's
  // example_image_<i>.png; `inputs` has priority over both.
  std::vector<std::filesystem::path> images;
  // --validation-audio, one WAV per batch item (example_audio_<i>.wav).
  std::vector<std::filesystem::path> audio;
};

struct ExportOptions {
  // The plugin serving the model (null: generic export). First member, so
  // destroyed last: it keeps the plugin's module loaded while anything here
  // (or anything made from it during the export) can still call its code.
  registry::PluginHandle plugin;
  std::filesystem::path model;
  std::filesystem::path output;
  ShapeRequest shapes;
  TargetOptions target;
  bool validate = true;
  bool keep_invalid = true;  // an export failing validation is kept as X.invalid.ext (else removed)
  ValidationSettings validation;
  std::optional<TaskSpec> task;   // the plugin's task, resolved against the model (resolve_task)
  HeadOptions heads;              // applied when `task` declares outputs
  SourceRequest source;           // --source and the plugin's graph builder
  Progress progress;
};

struct ExportResult {
  InputPlan plan;
  std::vector<PhaseTime> phases;
  size_t op_count = 0;
  std::map<std::string, size_t> op_histogram;
  std::optional<validate::ValidationReport> report;
  std::string validation_inputs;       // what validation ran on, for the log
  SourceKind source = SourceKind::Trace;  // what the graph was made from
  std::string validation_reference;    // what the written file was compared with
  std::optional<AppliedTask> applied;  // heads and input changes made for the task
  // Where the export is: the output, its invalid_output_path() when
  // validation failed, or empty when a failed export was removed.
  std::filesystem::path written;
};

ExportResult export_model(const ExportOptions& options, const Target& target);

// The plugin's view of a model folder (config.json, preprocessor_config.json).
ModelFolder model_folder(const ModelSource& source, const std::string& hf_class);
// `registered` resolved against the model folder by the plugin's resolver
// for its class (a copy of it when there is none). Throws the resolver's
// error, which names the file and key.
TaskSpec resolve_task(const TaskSpec& registered, const registry::PluginCode& plugin, const ModelSource& source);
// The preprocessor type preprocessor_config.json names for `task`
// (task.preprocessor first), and the key it is under; empty when none.
std::pair<std::string, std::string> preprocessor_type(const TaskSpec& task, const ModelSource& source);
// True when the task takes an input that is not text (an image, a waveform).
bool has_media_input(const TaskSpec& task);

// Validates an already written file (options.output) made with the same
// options (plugin task, heads, shapes): the original is translated again to
// learn what the heads and inputs look like, then compared as after an export.
ExportResult validate_existing(const ExportOptions& options, const Target& target);

std::map<std::string, size_t> op_histogram(const ir::Graph& graph);

}  // namespace exporters::exporting
