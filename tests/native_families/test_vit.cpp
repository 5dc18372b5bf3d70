// ViT from config.json + model.safetensors through the vit plugin's graph
// builder (transformers 4.36 modeling_vit.py).
#include "native_check.hpp"

using namespace exporters::testing::native;

namespace {

json small_vit() {
  return {{"model_type", "vit"},      {"hidden_size", 16}, {"num_hidden_layers", 2}, {"num_attention_heads", 2},
          {"intermediate_size", 24},  {"hidden_act", "gelu"}, {"layer_norm_eps", 1e-12}, {"image_size", 16},
          {"patch_size", 4},          {"num_channels", 3},   {"qkv_bias", true},       {"encoder_stride", 4}};
}

json with(json c, const std::string& key, const json& value) {
  c[key] = value;
  return c;
}

}  // namespace

TEST_SUITE("vit") {
  TEST_CASE("the HF fixtures vit_imgcls and vit_model, natively") {
    check_fixture("vit_imgcls");
    check_fixture("vit_model");
  }

  TEST_CASE("the PyTorch reference agrees with transformers on vit_model") {
    check_reference_against_fixture("vit", "vit_model");
  }

  TEST_CASE("ViTModel has the pooler, ViTForImageClassification reads the CLS token; batch 2") {
    require_fixtures();
    check_variant("vit", "vit", "ViTModel", small_vit());
    check_variant("vit", "vit", "ViTForImageClassification", with(small_vit(), "num_labels", 4));
  }

  TEST_CASE("qkv_bias false, non-square image_size and patch_size, layer_norm_eps") {
    require_fixtures();
    check_variant("vit", "vit", "ViTModel", with(small_vit(), "qkv_bias", false));
    check_variant("vit", "vit", "ViTModel", with(small_vit(), "image_size", json::array({16, 24})));
    check_variant("vit", "vit", "ViTForImageClassification",
                  with(with(small_vit(), "patch_size", json::array({4, 8})), "layer_norm_eps", 1e-3), "--batch 1");
  }

  TEST_CASE("hidden_act: other ACT2FN names") {
    require_fixtures();
    for (const char* a : {"gelu_fast", "gelu_accurate", "swish", "sigmoid", "tanh", "linear"}) {
      CAPTURE(a);
      check_variant("vit", "vit", "ViTModel", with(small_vit(), "hidden_act", a));
    }
  }

  TEST_CASE("unsupported config values are one error naming the key and value") {
    check_rejected("vit_model", "hidden_act", "gelu_99");
    check_rejected("vit_model", "num_attention_heads", 5, "'hidden_size' = 32: not a multiple of num_attention_heads 5");
    check_rejected("vit_model", "num_channels", 1);
    check_rejected("vit_imgcls", "patch_size", json::array({4, 0}));
  }
}
