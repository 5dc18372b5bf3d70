// Heads: graph transformations a plugin registers by name
// (PluginRegistrar::add_head) and names in OutputSpec::head. The host calls a
// head once per output it applies to, on the export's graph, and again on a
// small graph whose inputs are the original model's raw outputs, for the
// reference side of validation; the same code builds both.
//
// The SDK's common heads are below (softmax, classifier, sigmoid,
// segmentation, mean pooling, CTC, detection); a plugin registers them
// under the names its OutputSpecs use, or writes its own.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "exporters/ir/graph.hpp"
#include "exporters/model_folder.hpp"
#include "exporters/task.hpp"

namespace exporters {

// Command-line choices about heads and inputs (defaults: everything on).
struct HeadOptions {
  bool attention_mask = true;          // false: --no-attention-mask (only where the task allows it)
  bool upsample = true;                // false: --no-upsample (segmentation)
  bool argmax = true;                  // false: --no-argmax (segmentation)
  std::string image_input = "image";   // "image" | "tensor" (Core ML)
  bool fold_normalization = false;     // image tensors take pixel values 0..255 and the model normalises them
};

// One output a head produces.
struct HeadOutput {
  std::string name;
  ir::Value* value = nullptr;
};

// The host side a head works through.
class HeadContext {
 public:
  virtual ~HeadContext() = default;
  virtual ir::Graph& graph() = 0;
  // The model input `name` (e.g. attention_mask) as a value of this graph,
  // for heads that read one; throws naming the head's output when the model
  // has no such input.
  virtual ir::Value* model_input(const std::string& name) = 0;
  virtual const TaskSpec& task() const = 0;   // resolved
  virtual const ModelFolder& model() const = 0;
  virtual const HeadOptions& options() const = 0;
  // "coreml", "coreml-legacy", "tflite"; "reference" when the head runs on
  // the original's outputs for validation (declarations below are ignored).
  virtual const std::string& target() const = 0;
  // Height and width of the model's image input; {0, 0} when it has none.
  virtual std::array<int64_t, 2> image_size() const = 0;

  // What the written file needs. A Core ML classifier returns `classLabel`
  // and `probabilities` in place of `probabilities_output`; the host makes
  // one only for Core ML and when the labels match the output's size.
  virtual void set_classifier(const std::string& probabilities_output, const std::vector<std::string>& labels) = 0;
  virtual void describe_output(const std::string& output, const std::string& description) = 0;
  virtual void set_metadata(const std::string& key, const std::string& value) = 0;
};

// Appends a head after `raw` (the model's output `spec.name`) and returns
// the outputs it makes, in order (usually one, named spec.name).
using Head = std::function<std::vector<HeadOutput>(HeadContext& ctx, ir::Value* raw, const OutputSpec& spec)>;

namespace heads {

// Softmax over the last axis.
Head softmax();
// Softmax over the last axis with the task's labels: a Core ML classifier
// (classLabel + probabilities), `labels` metadata (a JSON list).
Head classifier();
// Sigmoid of each logit (problem_type multi_label_classification): one
// independent probability per class; labels as `labels` metadata.
Head sigmoid();
// [B, C, h, w] logits: bilinear upsample to the image size (--no-upsample
// keeps h, w), then argmax over C as int32 class ids (--no-argmax keeps the
// scores); labels as `classes` metadata and the Core ML segmenter preview.
Head segmentation();
// Token-level class probabilities (softmax) with the labels as `classes`.
Head token_classifier();
// Masked mean pooling of [B, S, H] hidden states over the tokens whose
// attention_mask is 1 (reads the model input attention_mask), optionally
// L2-normalised: a sentence embedding [B, H] named `name`.
Head mean_pooling(bool l2_normalize, std::string name = "sentence_embedding");
// CTC: the logits [B, T, V] as they are plus their greedy argmax over the
// vocabulary as int32 ids [B, T] (output `ids_name`); `vocabulary` (id order,
// e.g. from vocab.json) goes into the `vocabulary` metadata as a JSON list.
Head ctc(std::vector<std::string> vocabulary, std::string ids_name = "token_ids");
// Object detection logits [B, Q, C+1]: class probabilities (softmax over the
// classes, the last being "no object"), labels as `classes` metadata.
Head detection_scores();
// Detection boxes [B, Q, 4] passed through as (cx, cy, w, h), relative to
// the image size.
Head detection_boxes();

// config.json's id2label in class order, duplicates made unique ("x",
// "x_1"); empty when absent. Throws ConfigError naming the file and key.
std::vector<std::string> class_labels(const JsonView& config);

}  // namespace heads

}  // namespace exporters
