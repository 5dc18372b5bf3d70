// GPT-2 / DistilGPT2 from config.json + model.safetensors through the gpt2
// plugin's graph builder (transformers 4.36 modeling_gpt2.py).
#include "native_check.hpp"

using namespace exporters::testing::native;

namespace {

json small_gpt2() {
  return {{"model_type", "gpt2"}, {"vocab_size", 50}, {"n_positions", 16}, {"n_embd", 16}, {"n_layer", 2},
          {"n_head", 2},          {"n_inner", nullptr}, {"activation_function", "gelu_new"},
          {"layer_norm_epsilon", 1e-5}};
}

json with(json c, const std::string& key, const json& value) {
  c[key] = value;
  return c;
}

}  // namespace

TEST_SUITE("gpt2") {
  TEST_CASE("the HF fixtures gpt2_lm and gpt2_model, natively") {
    check_fixture("gpt2_lm");
    check_fixture("gpt2_model");
  }

  TEST_CASE("the PyTorch reference agrees with transformers on gpt2_lm") {
    check_reference_against_fixture("gpt2", "gpt2_lm");
  }

  TEST_CASE("attention variants: scale_attn_by_inverse_layer_idx, reorder_and_upcast_attn, scale_attn_weights false") {
    require_fixtures();
    check_variant("gpt2", "gpt2", "GPT2Model", with(small_gpt2(), "scale_attn_by_inverse_layer_idx", true));
    check_variant("gpt2", "gpt2", "GPT2Model",
                  with(with(small_gpt2(), "reorder_and_upcast_attn", true), "scale_attn_by_inverse_layer_idx", true));
    check_variant("gpt2", "gpt2", "GPT2Model", with(small_gpt2(), "reorder_and_upcast_attn", true));
    check_variant("gpt2", "gpt2", "GPT2Model", with(small_gpt2(), "scale_attn_weights", false));
  }

  TEST_CASE("n_inner, layer_norm_epsilon, the sequence length at n_positions") {
    require_fixtures();
    check_variant("gpt2", "gpt2", "GPT2Model", with(with(small_gpt2(), "n_inner", 24), "layer_norm_epsilon", 1e-2));
    check_variant("gpt2", "gpt2", "GPT2Model", small_gpt2(), "--seq 16 --batch 1");
  }

  TEST_CASE("activation_function: other ACT2FN names") {
    require_fixtures();
    for (const char* a : {"gelu", "relu", "quick_gelu", "silu", "gelu_10"}) {
      CAPTURE(a);
      check_variant("gpt2", "gpt2", "GPT2Model", with(small_gpt2(), "activation_function", a));
    }
  }

  TEST_CASE("GPT2LMHeadModel: lm_head tied to wte, and untied") {
    require_fixtures();
    check_variant("gpt2", "gpt2", "GPT2LMHeadModel", small_gpt2());
    check_variant("gpt2", "gpt2", "GPT2LMHeadModel", with(small_gpt2(), "tie_word_embeddings", false));
  }

  TEST_CASE("GPT2ForSequenceClassification pools the token before the first pad, or the last") {
    require_fixtures();
    json c = with(with(small_gpt2(), "pad_token_id", 3), "num_labels", 3);
    check_variant("gpt2", "gpt2", "GPT2ForSequenceClassification", c, "--pad-at 5 --seq 10 --batch 2 --seed 3");
    check_variant("gpt2", "gpt2", "GPT2ForSequenceClassification", c, "--pad-at 0 --seq 10 --batch 2 --seed 4");
    check_variant("gpt2", "gpt2", "GPT2ForSequenceClassification", small_gpt2(), "--batch 1");
  }

  TEST_CASE("GPT2ForTokenClassification") {
    require_fixtures();
    check_variant("gpt2", "gpt2", "GPT2ForTokenClassification", with(small_gpt2(), "num_labels", 5));
  }

  TEST_CASE("unsupported config values are one error naming the key and value") {
    check_rejected("gpt2_lm", "activation_function", "swish2");
    check_rejected("gpt2_lm", "add_cross_attention", true);
    check_rejected("gpt2_lm", "n_head", 5, "'n_embd' = 32: not a multiple of n_head 5");
    check_rejected("gpt2_model", "n_inner", 0);
    check_rejected("gpt2_model", "n_layer", -1);
  }
}
