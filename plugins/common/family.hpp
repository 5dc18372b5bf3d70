// Helpers the family plugins share: builders for the usual HF inputs and
// outputs. Header-only and built against the SDK alone (no host internals),
// so every plugin module stays self-contained.
#pragma once

#include <algorithm>

#include <exporters/plugin.hpp>

#include <string>
#include <utility>
#include <vector>

namespace exporters::plugins {

// Text inputs: input_ids, attention_mask and (where the family has them)
// token_type_ids, int64 as in the trace, [batch, sequence] with -1 filled by
// the host (--batch-size, --sequence-length or the task default).
// `choices` > 0 gives multiple-choice inputs [batch, choices, sequence].
inline std::vector<InputSpec> text_inputs(bool token_type_ids, int64_t choices = 0) {
  std::vector<int64_t> shape = choices > 0 ? std::vector<int64_t>{-1, choices, -1} : std::vector<int64_t>{-1, -1};
  const std::string per = choices > 0 ? " (one row per choice)" : "";
  std::vector<InputSpec> in;
  in.push_back({"input_ids", ir::DType::I64, shape, false, "Indices of the input tokens in the vocabulary" + per});
  in.push_back({"attention_mask", ir::DType::I64, shape, false,
                "Mask over the tokens: 1 for real tokens, 0 for padding" + per});
  if (token_type_ids)
    in.push_back({"token_type_ids", ir::DType::I64, shape, false,
                  "Segment of each token: 0 for the first sentence, 1 for the second" + per});
  return in;
}

// Vision input: pixel_values [batch, 3, H, W]; H and W come from the
// model's preprocessor_config.json (size / crop_size).
inline std::vector<InputSpec> image_inputs() {
  return {{"pixel_values", ir::DType::F32, {-1, 3, -1, -1}, false,
           "Input image to be classified or described"}};
}

inline OutputSpec out(std::string name, std::string description, OutputHead head = OutputHead::None) {
  return {std::move(name), std::move(description), head};
}

// A task with its outputs; output_names mirrors outputs.
inline TaskSpec task(std::string hf_class, std::string task_name, std::string description,
                     std::vector<InputSpec> inputs, std::vector<OutputSpec> outputs, int64_t sequence_length,
                     double float16_tolerance) {
  TaskSpec t;
  t.hf_class = std::move(hf_class);
  t.task = std::move(task_name);
  t.description = std::move(description);
  t.inputs = std::move(inputs);
  for (const auto& o : outputs) t.output_names.push_back(o.name);
  t.outputs = std::move(outputs);
  t.default_sequence_length = sequence_length;
  t.float16_tolerance = float16_tolerance;
  // int8 per-channel weights round to 1/254 of each channel's largest weight
  // (fp16: 2^-11 of each weight); on the fixtures the error comes out 2-5x
  // the float16 one, so int8 allows 5x the family's float16 tolerance, at
  // least 5e-2.
  t.int8_tolerance = std::max(5e-2, 5 * float16_tolerance);
  return t;
}

// A registrar that overrides the int8 tolerance of every task registered
// through it, for families whose error under int8 weights needs more than
// the default rule allows.
class Int8ToleranceRegistrar : public PluginRegistrar {
 public:
  Int8ToleranceRegistrar(PluginRegistrar* host, double tolerance) : host_(host), tolerance_(tolerance) {}
  void add_task(const TaskSpec& spec) override {
    TaskSpec t = spec;
    t.int8_tolerance = tolerance_;
    host_->add_task(t);
  }
  void add_op_converter(const std::string& op_kind, frontend::OpConverter converter) override {
    host_->add_op_converter(op_kind, std::move(converter));
  }
  void add_graph_builder(const std::string& hf_class, GraphBuilder builder) override {
    host_->add_graph_builder(hf_class, std::move(builder));
  }

 private:
  PluginRegistrar* host_;
  double tolerance_;
};

// Output descriptions used by several families.
inline OutputSpec last_hidden_state() {
  return out("last_hidden_state", "Hidden states of the last layer, one vector per token or patch");
}
inline OutputSpec pooler_output() {
  return out("pooler_output", "Pooled representation of the whole input");
}
inline OutputSpec class_probabilities() {
  return out("logits", "Probability of each class (softmax of the classifier logits)", OutputHead::Classifier);
}

// The text-encoder tasks BERT, DistilBERT and MobileBERT share. `arch` is
// the class prefix ("Bert"), `family` the readable name ("BERT").
struct TextFamily {
  std::string arch;
  std::string family;
  bool token_type_ids = true;
  bool pooler = true;
  int64_t sequence_length = 128;
  double float16_tolerance = 1e-2;
};

inline void add_encoder_tasks(PluginRegistrar* r, const TextFamily& f, bool pretraining_and_nsp) {
  auto in = [&] { return text_inputs(f.token_type_ids); };
  auto add = [&](const std::string& cls, const std::string& task_name, const std::string& what,
                 std::vector<InputSpec> inputs, std::vector<OutputSpec> outputs) {
    r->add_task(task(f.arch + cls, task_name, f.family + " " + what, std::move(inputs), std::move(outputs),
                     f.sequence_length, f.float16_tolerance));
  };
  std::vector<OutputSpec> features{last_hidden_state()};
  if (f.pooler) features.push_back(pooler_output());
  add("Model", "feature-extraction", "encoder: hidden states for feature extraction", in(), features);
  add("ForMaskedLM", "masked-lm", "for masked language modelling: probability of every vocabulary token", in(),
      {out("logits", "Probability of each vocabulary token at each position (softmax over the vocabulary)",
           OutputHead::Softmax)});
  add("ForSequenceClassification", "sequence-classification", "for sequence classification", in(),
      {class_probabilities()});
  add("ForTokenClassification", "token-classification", "for token classification: class probabilities per token",
      in(), {out("logits", "Probability of each class for each token (softmax over the classes)", OutputHead::Softmax)});
  add("ForQuestionAnswering", "question-answering", "for extractive question answering", in(),
      {out("start_logits", "Score of each token being the start of the answer span"),
       out("end_logits", "Score of each token being the end of the answer span")});
  add("ForMultipleChoice", "multiple-choice", "for multiple choice: probability of each choice",
      text_inputs(f.token_type_ids, 2),
      {out("logits", "Probability of each choice (softmax over the choices)", OutputHead::Softmax)});
  if (pretraining_and_nsp) {
    add("ForNextSentencePrediction", "next-sentence-prediction",
        "for next-sentence prediction: probability that the second sentence follows the first", in(),
        {out("logits", "Probabilities of [is next, is not next] (softmax)", OutputHead::Softmax)});
    add("ForPreTraining", "pretraining", "with its pretraining heads (masked LM and next-sentence prediction)", in(),
        {out("prediction_logits", "Probability of each vocabulary token at each position (softmax over the vocabulary)",
             OutputHead::Softmax),
         out("seq_relationship_logits", "Probabilities of [is next, is not next] (softmax)", OutputHead::Softmax)});
  }
}

// The vision tasks (feature extraction + image classification).
inline void add_vision_tasks(PluginRegistrar* r, const std::string& arch, const std::string& family,
                             std::vector<OutputSpec> features, double float16_tolerance,
                             ColorLayout layout = ColorLayout::RGB) {
  TaskSpec model = task(arch + "Model", "feature-extraction", family + " backbone: image features", image_inputs(),
                        std::move(features), 0, float16_tolerance);
  model.color_layout = layout;
  r->add_task(model);
  TaskSpec cls = task(arch + "ForImageClassification", "image-classification", family + " for image classification",
                      image_inputs(), {class_probabilities()}, 0, float16_tolerance);
  cls.color_layout = layout;
  r->add_task(cls);
}

inline TaskSpec segmentation_task(const std::string& arch, const std::string& family, double float16_tolerance,
                                  ColorLayout layout = ColorLayout::RGB) {
  TaskSpec t = task(arch + "ForSemanticSegmentation", "semantic-segmentation",
                    family + " for semantic segmentation: a class per pixel", image_inputs(),
                    {out("logits",
                         "Class index of every pixel (logits upsampled to the image size, then argmax over the "
                         "classes)",
                         OutputHead::Segmentation)},
                    0, float16_tolerance);
  t.color_layout = layout;
  return t;
}

}  // namespace exporters::plugins
