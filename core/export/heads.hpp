// What the host adds around a traced model for the task a plugin declares
// (exporters/plugin.hpp TaskSpec::outputs): output heads (softmax,
// classifier, segmentation upsample + argmax), input changes (attention
// mask fed as ones, image preprocessing, NHWC image tensors for TFLite),
// labels and descriptions for the written file. The same head code builds
// the reference side of validation: the heads run through the reference
// interpreter on LibTorch's raw outputs, so the export is still compared
// with the original model and not with itself.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/export/model_source.hpp"
#include "core/export/target.hpp"
#include "exporters/ir/graph.hpp"
#include "exporters/plugin.hpp"

namespace exporters::exporting {

// Command-line choices about heads and inputs (defaults: everything on).
struct HeadOptions {
  bool attention_mask = true;          // false: --no-attention-mask (only where the task allows it)
  bool upsample = true;                // false: --no-upsample (segmentation)
  bool argmax = true;                  // false: --no-argmax (segmentation)
  std::string image_input = "image";   // "image" | "tensor" (Core ML)
  bool fold_normalization = false;     // TFLite: the model takes pixel values 0..255 and normalises itself
};

// preprocessor_config.json's normalisation: x = (pixel * rescale - mean[c]) / std[c].
struct ImageNormalization {
  double rescale = 1.0 / 255.0;
  std::array<double, 3> mean{0, 0, 0};
  std::array<double, 3> std{1, 1, 1};
};
ImageNormalization image_normalization(const nlohmann::json& preprocessor);
// Image height and width from preprocessor_config.json (crop_size before
// size; {"height","width"}, {"shortest_edge"} or a bare int); nullopt when absent.
std::optional<std::array<int64_t, 2>> image_size(const nlohmann::json& preprocessor);
// config.json's id2label in class order, duplicates made unique ("x", "x_1").
std::vector<std::string> class_labels(const nlohmann::json& config);

// What apply_task did, so validation can do the same on the reference side.
struct AppliedTask {
  struct Output {
    std::string name;             // output name after the head
    OutputHead head = OutputHead::None;
    ir::TensorType raw_type;      // the trace's output before the head
  };
  std::vector<Output> outputs;
  bool upsample = true, argmax = true;
  std::array<int64_t, 2> image_hw{0, 0};
  // Inputs the export takes in another form than the trace:
  struct ImageInput {
    bool pixels = false;          // takes pixel values 0..255 (normalisation inside the file)
    bool nhwc = false;            // [B, H, W, C] instead of [B, C, H, W]
    ImageNormalization norm;
  };
  std::map<std::string, ImageInput> image_inputs;
  std::optional<std::string> ones_input;  // trace input fed as all ones (--no-attention-mask)
  std::optional<std::string> classifier_output;  // Core ML classifier over this output
};

// Applies `task` to a freshly translated graph (outputs already named) for
// `target_name` ("coreml" | "tflite"), and fills target options with
// descriptions, labels, image inputs and the classifier. Throws
// std::runtime_error naming the option or output on a mismatch.
AppliedTask apply_task(ir::Graph& graph, const TaskSpec& task, const ModelSource& source, const HeadOptions& options,
                       const std::string& target_name, TargetOptions& target);

// The heads applied to LibTorch's raw outputs (reference interpreter), in
// the export's output order.
std::vector<ir::Tensor> reference_heads(const AppliedTask& applied, const std::vector<ir::Tensor>& raw);

// float16 class maps: how many pixels of `actual` (the export's argmax of
// output `name`) differ from the reference's class by more than a near tie,
// i.e. where the reference's score of the export's class is below its best
// score by more than `tolerance` * max(1, max|score|). `raw` is LibTorch's
// output before the head. -1 when `name` is not a segmentation class map.
int64_t class_mismatches_beyond_ties(const AppliedTask& applied, const std::string& name, const ir::Tensor& raw,
                                     const ir::Tensor& actual, double tolerance);

// The export's input for `name` given the trace's input value (pixel space
// and NHWC where the export takes those).
ir::Tensor export_input(const AppliedTask& applied, const std::string& name, const ir::Tensor& trace_value);

struct ProcessedImage;
// The export's input for image input `name` when validation starts from
// images: an input taking pixels 0..255 (a Core ML image input, or
// --fold-normalization) gets the processed uint8 images themselves in the
// model's channel order, any other the processor's `pixel_values` (NHWC
// where the export takes that).
ir::Tensor export_image_input(const AppliedTask& applied, const std::string& name,
                              const std::vector<ProcessedImage>& images, const ir::Tensor& pixel_values);
// "the Core ML image input gets the processed 64x64 BGR uint8 image" and the like.
std::string describe_image_feed(const AppliedTask* applied, const std::string& name,
                                const std::vector<ProcessedImage>& images);

}  // namespace exporters::exporting
