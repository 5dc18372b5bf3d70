// Helpers the family plugins share: builders for the usual HF inputs and
// outputs, the SDK heads and image processors under their usual names, and
// the resolvers that fit a task to a model's config. Header-only and built
// against the SDK alone (no host internals), so every plugin module stays
// self-contained.
#pragma once

#include <algorithm>
#include <array>

#include <exporters/heads.hpp>
#include <exporters/plugin.hpp>
#include <exporters/preprocessing.hpp>

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

// Head names the families use (registered by add_standard_heads).
inline constexpr const char* kSoftmax = "softmax";
inline constexpr const char* kClassifier = "classifier";
inline constexpr const char* kSigmoid = "sigmoid";
inline constexpr const char* kTokenClassifier = "token-classifier";
inline constexpr const char* kSegmentation = "segmentation";

inline OutputSpec out(std::string name, std::string description, std::string head = "") {
  return {std::move(name), std::move(description), std::move(head)};
}

// The SDK's heads under the names above.
inline void add_standard_heads(PluginRegistrar* r) {
  r->add_head(kSoftmax, heads::softmax());
  r->add_head(kClassifier, heads::classifier());
  r->add_head(kSigmoid, heads::sigmoid());
  r->add_head(kTokenClassifier, heads::token_classifier());
  r->add_head(kSegmentation, heads::segmentation());
}

// The SDK's emulation of the HF image processors, under each type it serves.
inline void add_image_processors(PluginRegistrar* r) {
  for (const auto& type : preprocessing::hf_image_processor_types())
    r->add_preprocessor(type, preprocessing::hf_image_processor());
}

// Fits a text task to config.json: the usable positions
// (`max_positions_key` minus `position_offset`, e.g. RoBERTa's
// padding_idx + 1), the labels, and problem_type for sequence
// classification (multi-label: sigmoid instead of softmax; regression: raw).
inline TaskResolver text_resolver(std::string max_positions_key = "max_position_embeddings",
                                  int64_t position_offset = 0) {
  return [max_positions_key, position_offset](TaskSpec& t, const ModelFolder& m) {
    const int64_t positions = m.config.integer(max_positions_key, 0);
    if (positions > 0) {
      if (positions - position_offset < 1)
        m.config.reject(max_positions_key, "leaves no usable position");
      t.max_sequence_length = positions - position_offset;
    }
    t.labels = heads::class_labels(m.config);
    if (t.task == "sequence-classification" && !t.outputs.empty()) {
      const std::string problem = m.config.string("problem_type", "single_label_classification");
      if (problem == "multi_label_classification") {
        t.outputs[0].head = kSigmoid;
        t.outputs[0].description = "Probability of each class on its own (sigmoid of the classifier logits; multi-label)";
      } else if (problem == "regression") {
        t.outputs[0].head = "";
        t.outputs[0].description = "Predicted value of each regression target";
      } else if (problem != "single_label_classification") {
        m.config.reject("problem_type",
                        "not one of single_label_classification, multi_label_classification, regression");
      }
    }
  };
}

// Fits a vision task to the model: image height and width from
// preprocessor_config.json (crop_size, size), else config.json's
// image_size; labels from id2label.
inline TaskResolver vision_resolver() {
  return [](TaskSpec& t, const ModelFolder& m) {
    std::array<int64_t, 2> hw = preprocessing::image_size(m.preprocessor);
    if (hw[0] == 0 && m.config.has("image_size")) hw = {m.config.integer("image_size"), m.config.integer("image_size")};
    for (auto& in : t.inputs)
      if (in.shape.size() == 4 && hw[0] > 0) {
        if (in.shape[2] == -1) in.shape[2] = hw[0];
        if (in.shape[3] == -1) in.shape[3] = hw[1];
      }
    t.labels = heads::class_labels(m.config);
  };
}

// A task with its outputs.
inline TaskSpec task(std::string hf_class, std::string task_name, std::string description,
                     std::vector<InputSpec> inputs, std::vector<OutputSpec> outputs, int64_t sequence_length,
                     double float16_tolerance) {
  TaskSpec t;
  t.hf_class = std::move(hf_class);
  t.task = std::move(task_name);
  t.description = std::move(description);
  t.inputs = std::move(inputs);
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

// Output descriptions used by several families.
inline OutputSpec last_hidden_state() {
  return out("last_hidden_state", "Hidden states of the last layer, one vector per token or patch");
}
inline OutputSpec pooler_output() {
  return out("pooler_output", "Pooled representation of the whole input");
}
inline OutputSpec class_probabilities() {
  return out("logits", "Probability of each class (softmax of the classifier logits)", kClassifier);
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
  bool attention_mask_optional = false;  // runs without attention_mask (MobileBERT)
  std::string max_positions_key = "max_position_embeddings";
  int64_t position_offset = 0;           // positions the embedding reserves (RoBERTa: padding_idx + 1)
};

inline void add_encoder_tasks(PluginRegistrar* r, const TextFamily& f, bool pretraining_and_nsp) {
  add_standard_heads(r);
  const TaskResolver resolver = text_resolver(f.max_positions_key, f.position_offset);
  auto in = [&] { return text_inputs(f.token_type_ids); };
  auto add = [&](const std::string& cls, const std::string& task_name, const std::string& what,
                 std::vector<InputSpec> inputs, std::vector<OutputSpec> outputs) {
    TaskSpec t = task(f.arch + cls, task_name, f.family + " " + what, std::move(inputs), std::move(outputs),
                      f.sequence_length, f.float16_tolerance);
    t.attention_mask_optional = f.attention_mask_optional;
    r->add_task(t);
    r->add_task_resolver(t.hf_class, resolver);
  };
  std::vector<OutputSpec> features{last_hidden_state()};
  if (f.pooler) features.push_back(pooler_output());
  add("Model", "feature-extraction", "encoder: hidden states for feature extraction", in(), features);
  add("ForMaskedLM", "masked-lm", "for masked language modelling: probability of every vocabulary token", in(),
      {out("logits", "Probability of each vocabulary token at each position (softmax over the vocabulary)",
           kSoftmax)});
  add("ForSequenceClassification", "sequence-classification", "for sequence classification", in(),
      {class_probabilities()});
  add("ForTokenClassification", "token-classification", "for token classification: class probabilities per token",
      in(), {out("logits", "Probability of each class for each token (softmax over the classes)", kTokenClassifier)});
  add("ForQuestionAnswering", "question-answering", "for extractive question answering", in(),
      {out("start_logits", "Score of each token being the start of the answer span"),
       out("end_logits", "Score of each token being the end of the answer span")});
  add("ForMultipleChoice", "multiple-choice", "for multiple choice: probability of each choice",
      text_inputs(f.token_type_ids, 2),
      {out("logits", "Probability of each choice (softmax over the choices)", kSoftmax)});
  if (pretraining_and_nsp) {
    add("ForNextSentencePrediction", "next-sentence-prediction",
        "for next-sentence prediction: probability that the second sentence follows the first", in(),
        {out("logits", "Probabilities of [is next, is not next] (softmax)", kSoftmax)});
    add("ForPreTraining", "pretraining", "with its pretraining heads (masked LM and next-sentence prediction)", in(),
        {out("prediction_logits", "Probability of each vocabulary token at each position (softmax over the vocabulary)",
             kSoftmax),
         out("seq_relationship_logits", "Probabilities of [is next, is not next] (softmax)", kSoftmax)});
  }
}

// A vision task with its resolver; `int8_tolerance` > 0 overrides the default rule.
inline void add_vision_task(PluginRegistrar* r, TaskSpec t, double int8_tolerance = 0) {
  if (int8_tolerance > 0) t.int8_tolerance = int8_tolerance;
  r->add_task(t);
  r->add_task_resolver(t.hf_class, vision_resolver());
}

// The vision tasks (feature extraction + image classification), with the
// standard heads and image processors.
inline void add_vision_tasks(PluginRegistrar* r, const std::string& arch, const std::string& family,
                             std::vector<OutputSpec> features, double float16_tolerance, double int8_tolerance = 0) {
  add_standard_heads(r);
  add_image_processors(r);
  add_vision_task(r, task(arch + "Model", "feature-extraction", family + " backbone: image features", image_inputs(),
                          std::move(features), 0, float16_tolerance),
                  int8_tolerance);
  add_vision_task(r, task(arch + "ForImageClassification", "image-classification", family + " for image classification",
                          image_inputs(), {class_probabilities()}, 0, float16_tolerance),
                  int8_tolerance);
}

inline TaskSpec segmentation_task(const std::string& arch, const std::string& family, double float16_tolerance) {
  TaskSpec t = task(arch + "ForSemanticSegmentation", "semantic-segmentation",
                    family + " for semantic segmentation: a class per pixel", image_inputs(),
                    {out("logits",
                         "Class index of every pixel (logits upsampled to the image size, then argmax over the "
                         "classes)",
                         kSegmentation)},
                    0, float16_tolerance);
  return t;
}

}  // namespace exporters::plugins
