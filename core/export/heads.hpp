// Applies a resolved task to a freshly built graph: the plugin's heads
// (exporters/heads.hpp, called through a HeadContext), its preprocessor's
// input declaration (exporters/preprocessing.hpp), the attention mask fed as
// ones, labels and descriptions for the written file. The same heads run
// on the reference side of validation: a small graph whose inputs are the
// original's raw outputs (and the model inputs a head reads) goes through
// the reference interpreter, so the export is still compared with the
// original model and not with itself.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/export/target.hpp"
#include "exporters/ir/graph.hpp"
#include "exporters/plugin.hpp"
#include "registry/plugin_code.hpp"

namespace exporters::exporting {

// What the heads and the preprocessor are applied with.
struct TaskContext {
  const TaskSpec& task;                  // resolved
  const registry::PluginCode& plugin;    // its heads
  const ModelFolder& model;
  const HeadOptions& options;
  const Preprocessor* preprocessor = nullptr;  // for the media input, when the model has one
};

// What apply_task did, so validation can do the same on the reference side.
struct AppliedTask {
  std::vector<std::string> raw_outputs;  // the model's outputs, named as the task says
  std::vector<std::string> outputs;      // the export's outputs after the heads
  std::array<int64_t, 2> image_hw{0, 0};
  std::map<std::string, InputDeclaration> inputs;  // preprocessed inputs and how the file takes them
  std::optional<std::string> ones_input;           // model input fed as all ones (--no-attention-mask)
  std::optional<std::string> classifier_output;    // Core ML classifier over this output
};

// Applies `ctx` to `graph` (outputs in the task's order) for `target_name`
// ("coreml" | "coreml-legacy" | "tflite"), and fills target options with
// descriptions, labels, image inputs and the classifier. Throws
// std::runtime_error naming the option or output on a mismatch.
AppliedTask apply_task(ir::Graph& graph, const TaskContext& ctx, const std::string& target_name,
                       TargetOptions& target);

// The heads applied to the original's raw outputs (in the task's order) in
// the reference interpreter. `model_inputs` are the original's inputs by
// name (for heads that read one, like mean pooling). Returns the outputs by
// name. `options` may differ from the export's (--no-argmax for the near-tie rule).
std::map<std::string, ir::Tensor> reference_heads(const TaskContext& ctx, const AppliedTask& applied,
                                                  const std::vector<ir::Tensor>& raw,
                                                  const std::map<std::string, ir::Tensor>& model_inputs);

// float16 class maps: how many entries of `actual` (class ids, [B, ...])
// differ from the reference's class by more than a near tie, i.e. where the
// reference's score (`scores`, [B, C, ...]) of the export's class is below
// its best score by more than `tolerance` * max(1, max|score|). -1 when the
// shapes do not fit that pattern.
int64_t class_mismatches_beyond_ties(const ir::Tensor& scores, const ir::Tensor& actual, double tolerance);

// The export's input for `name` given the original's input value (pixel
// space and NHWC where the export takes those).
ir::Tensor export_input(const AppliedTask& applied, const std::string& name, const ir::Tensor& trace_value);
// The export's input for `name` when validation starts from media files:
// an input taking pixels gets `batch.pixels`, any other the model value
// (NHWC where the export takes that).
ir::Tensor export_media_input(const AppliedTask& applied, const std::string& name, const PreprocessedBatch& batch);
// "the export's input 'pixel_values' gets the processed 64x64 uint8 image (BGR channel order)" and the like.
std::string describe_media_feed(const AppliedTask* applied, const std::string& name, const PreprocessedBatch& batch);

}  // namespace exporters::exporting
