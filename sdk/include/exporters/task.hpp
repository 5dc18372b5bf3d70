// What a plugin says about one HF class (a task): its inputs, its outputs
// and the heads applied to them. Registered statically (what `exporters
// plugins list` shows), then resolved against the model folder before an
// export by the plugin's TaskResolver.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "exporters/ir/tensor.hpp"
#include "exporters/model_folder.hpp"

namespace exporters {

// One tensor input a task takes. Dims of -1 are filled from defaults
// (batch size, sequence length) or --shape; a resolver fills the rest
// (image height and width from preprocessor_config.json).
struct InputSpec {
  std::string name;
  ir::DType dtype = ir::DType::F32;
  std::vector<int64_t> shape;
  bool optional = false;
  std::string description;
};

// One model output: its name (the model's output order), what it is and the
// head applied to it: "" for none, else a head the plugin registered with
// PluginRegistrar::add_head ("softmax", "classifier", "segmentation" ...).
struct OutputSpec {
  std::string name;
  std::string description;
  std::string head;
};

// Channel order of image inputs.
enum class ColorLayout : int32_t { RGB = 0, BGR = 1 };

struct TaskSpec {
  std::string hf_class;      // "BertForQuestionAnswering"
  std::string task;          // "question-answering"
  std::string description;   // model description ("BERT for masked language modelling")
  std::vector<InputSpec> inputs;
  std::vector<OutputSpec> outputs;       // in the model's output order
  int64_t default_sequence_length = 0;   // 0 = not a text model
  int64_t max_sequence_length = 0;       // longest usable sequence (resolved from config.json; 0 = unknown)
  double float16_tolerance = 1e-2;       // relative to the output's max magnitude
  double int8_tolerance = 5e-2;          // dynamic-int8 weights (TFLite), same measure
  bool attention_mask_optional = false;  // the model runs without attention_mask (--no-attention-mask)
  std::vector<std::string> labels;       // class labels in class order (resolved from id2label)
  // The preprocessor feeding the model's media input (image, audio), by the
  // type it was registered under; "" = preprocessor_config.json's
  // image_processor_type / feature_extractor_type.
  std::string preprocessor;
};

// Resolves a registered task against a model folder: called on a copy of
// the registered spec, it fills in what depends on the model. Throws
// ConfigError (JsonView's getters do) naming the file and key.
using TaskResolver = std::function<void(TaskSpec& task, const ModelFolder& model)>;

}  // namespace exporters
