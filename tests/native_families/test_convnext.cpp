// ConvNeXT from config.json + model.safetensors through the convnext
// plugin's graph builder (transformers 4.36 modeling_convnext.py).
#include "native_check.hpp"

using namespace exporters::testing::native;

namespace {

json small_convnext() {
  return {{"model_type", "convnext"},
          {"num_channels", 3},
          {"patch_size", 4},
          {"num_stages", 3},
          {"hidden_sizes", json::array({8, 12, 16})},
          {"depths", json::array({1, 2, 1})},
          {"hidden_act", "gelu"},
          {"layer_norm_eps", 1e-12},
          {"layer_scale_init_value", 0.5},
          {"drop_path_rate", 0.0},
          {"image_size", 32}};
}

json with(json c, const std::string& key, const json& value) {
  c[key] = value;
  return c;
}

}  // namespace

TEST_SUITE("convnext") {
  TEST_CASE("the HF fixtures convnext_imgcls and convnext_model, natively") {
    check_fixture("convnext_imgcls");
    check_fixture("convnext_model");
  }

  TEST_CASE("the PyTorch reference agrees with transformers on convnext_model") {
    check_reference_against_fixture("convnext", "convnext_model");
  }

  TEST_CASE("other depths and stage counts, both classes, batch 2") {
    require_fixtures();
    check_variant("convnext", "convnext", "ConvNextModel", small_convnext());
    check_variant("convnext", "convnext", "ConvNextForImageClassification", with(small_convnext(), "num_labels", 5));
    json two = with(with(with(small_convnext(), "num_stages", 2), "hidden_sizes", json::array({8, 8})), "depths",
                    json::array({0, 3}));
    check_variant("convnext", "convnext", "ConvNextModel", two);
  }

  TEST_CASE("layer_scale_init_value 0: no layer scale; patch_size, layer_norm_eps, drop_path_rate") {
    require_fixtures();
    check_variant("convnext", "convnext", "ConvNextModel", with(small_convnext(), "layer_scale_init_value", 0));
    check_variant("convnext", "convnext", "ConvNextModel",
                  with(with(with(small_convnext(), "patch_size", 2), "layer_norm_eps", 1e-2), "drop_path_rate", 0.3));
  }

  TEST_CASE("hidden_act: other ACT2FN names") {
    require_fixtures();
    for (const char* a : {"leaky_relu", "laplace", "gelu_pytorch_tanh"}) {
      CAPTURE(a);
      check_variant("convnext", "convnext", "ConvNextModel", with(small_convnext(), "hidden_act", a));
    }
  }

  TEST_CASE("unsupported config values are one error naming the key and value") {
    check_rejected("convnext_model", "hidden_act", "gelu_x");
    check_rejected("convnext_model", "depths", json::array({1, 1, 2}));
    check_rejected("convnext_model", "num_stages", 3, "'hidden_sizes' = [8,16,24,32]: needs one size per stage");
    check_rejected("convnext_imgcls", "num_channels", 4);
  }
}
