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
};

struct ExportOptions {
  std::filesystem::path model;
  std::filesystem::path output;
  ShapeRequest shapes;
  TargetOptions target;
  bool validate = true;
  ValidationSettings validation;
  const TaskSpec* task = nullptr;                             // from the plugin serving the model
  std::map<std::string, frontend::OpConverter> quirks;        // plugin op converters
  HeadOptions heads;                                          // applied when `task` declares outputs
  SourceRequest source;                                       // --source and the plugin's graph builder
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
};

ExportResult export_model(const ExportOptions& options, const Target& target);

// Validates an already written file (options.output) made with the same
// options (plugin task, heads, shapes): the original is translated again to
// learn what the heads and inputs look like, then compared as after an export.
ExportResult validate_existing(const ExportOptions& options, const Target& target);

std::map<std::string, size_t> op_histogram(const ir::Graph& graph);

}  // namespace exporters::exporting
