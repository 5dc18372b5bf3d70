// The plugin ABI. A plugin is one shared module that exports exactly one
// symbol, `exporters_plugin_entry`, returning a descriptor. The host checks
// `abi_version` and `descriptor_size` before it calls anything else, then
// calls `register_plugin` with a registrar. Declare a plugin with
// EXPORTERS_PLUGIN(...) in one source file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "exporters/frontend/converter.hpp"
#include "exporters/graph_builder.hpp"
#include "exporters/ir/graph.hpp"

// Bumped only when the descriptor layout or the registrar's interface
// changes incompatibly.
#define EXPORTERS_PLUGIN_ABI_VERSION 1
#define EXPORTERS_PLUGIN_ENTRY_SYMBOL "exporters_plugin_entry"

namespace exporters {

// One tensor input a task takes. Dims of -1 are filled from defaults
// (batch size, sequence length, image size) or --shape.
struct InputSpec {
  std::string name;
  ir::DType dtype = ir::DType::F32;
  std::vector<int64_t> shape;
  bool optional = false;
  std::string description;
};

// What the host appends after one model output (see core/export/heads.hpp).
enum class OutputHead : int32_t {
  None = 0,          // returned as traced (QA logits, hidden states, causal-LM logits)
  Softmax = 1,       // softmax over the last axis (MLM vocab, token classes, choices, NSP)
  Classifier = 2,    // softmax over the last axis; labels from id2label; Core ML classifier
  Segmentation = 3,  // [B, C, h, w] logits: bilinear upsample to the image size, then argmax over C
};

// One model output: its name (the trace's tuple order), what it is and the
// head the host adds.
struct OutputSpec {
  std::string name;
  std::string description;
  OutputHead head = OutputHead::None;
};

// How image inputs are fed (vision tasks).
enum class ColorLayout : int32_t { RGB = 0, BGR = 1 };

// What a plugin says about one HF class (task).
struct TaskSpec {
  std::string hf_class;      // "BertForQuestionAnswering"
  std::string task;          // "question-answering"
  std::vector<InputSpec> inputs;
  std::vector<std::string> output_names;
  int64_t default_sequence_length = 0;  // 0 = not a text model
  double float16_tolerance = 1e-2;      // relative to the output's max magnitude
  double int8_tolerance = 5e-2;         // dynamic-int8 weights (TFLite), same measure
  // Added in the plugins issue; plugins built before leave them empty and
  // the host then applies no head.
  std::vector<OutputSpec> outputs;      // same order as output_names, with heads
  std::string description;              // model description ("BERT for masked language modelling")
  ColorLayout color_layout = ColorLayout::RGB;  // channel order the image input expects
  bool attention_mask_optional = false; // the model runs without attention_mask (--no-attention-mask)
};

// The host object a plugin registers into. Pure virtual so plugins never
// link against host internals; the layout is part of the ABI version.
class PluginRegistrar {
 public:
  virtual ~PluginRegistrar() = default;
  virtual void add_task(const TaskSpec& spec) = 0;
  // Adds or overrides the converter for a TorchScript op ("aten::gelu").
  virtual void add_op_converter(const std::string& op_kind, frontend::OpConverter converter) = 0;
  // Builds the graph of one HF class straight from a checkpoint (see graph_builder.hpp).
  virtual void add_graph_builder(const std::string& hf_class, GraphBuilder builder) = 0;
};

}  // namespace exporters

extern "C" {

struct exporters_plugin_descriptor {
  uint32_t abi_version;       // EXPORTERS_PLUGIN_ABI_VERSION at build time
  uint32_t descriptor_size;   // sizeof(exporters_plugin_descriptor) at build time
  const char* name;
  const char* version;
  const char* const* model_types;  // nullptr-terminated
  void (*register_plugin)(exporters::PluginRegistrar* registrar);
  void* reserved[8];          // room to grow without an ABI bump
};

}  // extern "C"

// Declares the plugin's single entry symbol. MODEL_TYPES is a braced list:
//   EXPORTERS_PLUGIN("bert", "1.0.0", ({"bert", nullptr}), register_bert)
#define EXPORTERS_PLUGIN(NAME, VERSION, MODEL_TYPES, REGISTER_FN)                    \
  extern "C" __attribute__((visibility("default")))                                  \
  const exporters_plugin_descriptor* exporters_plugin_entry() {                      \
    static const char* const model_types[] = EXPORTERS_PLUGIN_UNPAREN MODEL_TYPES;   \
    static const exporters_plugin_descriptor descriptor = {                          \
        EXPORTERS_PLUGIN_ABI_VERSION, sizeof(exporters_plugin_descriptor), NAME,     \
        VERSION, model_types, REGISTER_FN, {}};                                      \
    return &descriptor;                                                              \
  }
#define EXPORTERS_PLUGIN_UNPAREN(...) __VA_ARGS__
