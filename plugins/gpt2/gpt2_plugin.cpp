#include <exporters/plugin.hpp>

#include "family.hpp"
#include "gpt2_builder.hpp"

// GPT-2 and DistilGPT2 (both model_type "gpt2"). Inputs input_ids and
// attention_mask (no token_type_ids), default length 64. The causal LM keeps
// raw logits: a softmax over the vocabulary in fp16 overflowed to NaN in
// other converters, and sampling code wants logits anyway. Float16
// tolerance 1e-2: pre-LN decoder, final layer norm before the LM head.
// The ML Program validates, so no legacy NeuralNetwork fallback is needed.
namespace {
using namespace exporters::plugins;
void register_gpt2(exporters::PluginRegistrar* r) {
  add_standard_heads(r);
  // GPT-2's learned positions: n_positions of them, no offset.
  const exporters::TaskResolver resolver = text_resolver("n_positions");
  auto add = [&](const char* cls, const char* task_name, const char* what, std::vector<exporters::OutputSpec> outs) {
    r->add_task(task(cls, task_name, what, text_inputs(false), std::move(outs), 64, 1e-2));
    r->add_task_resolver(cls, resolver);
  };
  add("GPT2Model", "feature-extraction", "GPT-2 decoder: hidden states for feature extraction", {last_hidden_state()});
  add("GPT2LMHeadModel", "causal-lm", "GPT-2 for causal language modelling: next-token logits",
      {out("logits", "Unnormalised score of each vocabulary token as the next token, per position")});
  add("GPT2ForSequenceClassification", "sequence-classification", "GPT-2 for sequence classification",
      {class_probabilities()});
  add("GPT2ForTokenClassification", "token-classification", "GPT-2 for token classification",
      {out("logits", "Probability of each class for each token (softmax over the classes)",
           kTokenClassifier)});
  exporters::plugins::gpt2::add_gpt2_builders(r);  // export from config.json + model.safetensors
}
}  // namespace

EXPORTERS_PLUGIN("gpt2", "1.0.0", ({"gpt2", nullptr}), register_gpt2)
