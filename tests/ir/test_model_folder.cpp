// JsonView and ModelFolder: the plugin-facing view of a model folder's JSON
// files. Every error names the file and the key.
#include <doctest/doctest.h>

#include <fstream>
#include <functional>
#include <string>

#include "exporters/model_folder.hpp"
#include "tests/fixtures_lib/temp_dir.hpp"

using exporters::ConfigError;
using exporters::JsonView;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

const char* kConfig = R"({"hidden_size": 32, "image_size": 224.0, "layer_norm_eps": 1e-12, "hidden_act": "gelu",
  "depths": [2, 2, 6], "mlp_ratios": [4.0, 4], "names": ["a", "b"], "is_decoder": false, "pad_token_id": null,
  "vision_config": {"patch_size": 16}, "id2label": {"0": "neg", "1": "pos"}})";

}  // namespace

TEST_CASE("typed getters read what the config holds; integral floats count as integers") {
  JsonView c = JsonView::parse(kConfig, "config.json");
  CHECK(c.integer("hidden_size") == 32);
  CHECK(c.integer("image_size") == 224);
  CHECK(c.number("layer_norm_eps") == doctest::Approx(1e-12));
  CHECK(c.string("hidden_act") == "gelu");
  CHECK(c.integers("depths") == std::vector<int64_t>{2, 2, 6});
  CHECK(c.numbers("mlp_ratios") == std::vector<double>{4.0, 4.0});
  CHECK(c.strings("names") == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(c.boolean("is_decoder"));
  CHECK(c.object("vision_config").integer("patch_size") == 16);
  CHECK(c.string_map("id2label") == std::vector<std::pair<std::string, std::string>>{{"0", "neg"}, {"1", "pos"}});
  CHECK(c.text("depths") == "[2,2,6]");
}

TEST_CASE("absent and null keys take the fallback; has() is false for both") {
  JsonView c = JsonView::parse(kConfig, "config.json");
  CHECK_FALSE(c.has("pad_token_id"));
  CHECK_FALSE(c.has("missing"));
  CHECK(c.integer("pad_token_id", 7) == 7);
  CHECK(c.string("missing", "relu") == "relu");
  CHECK(c.integers("missing", {1}) == std::vector<int64_t>{1});
  CHECK(c.text("missing") == "null");
  CHECK(JsonView("preprocessor_config.json").empty());
}

TEST_CASE("a missing, mistyped or rejected key is one ConfigError naming the file and the key") {
  JsonView c = JsonView::parse(kConfig, "models/x/config.json");
  CHECK(error_of([&] { c.integer("missing"); }) == "models/x/config.json: 'missing' is missing");
  CHECK(error_of([&] { c.integer("hidden_act"); }) == "models/x/config.json: 'hidden_act' must be an integer, got \"gelu\"");
  CHECK(error_of([&] { c.integer("layer_norm_eps"); }).find("'layer_norm_eps' must be an integer") != std::string::npos);
  CHECK(error_of([&] { c.integers("names"); }).find("'names' must be an integer, got \"a\"") != std::string::npos);
  CHECK(error_of([&] { c.integers("hidden_size"); }).find("'hidden_size' must be a list of integers") != std::string::npos);
  CHECK(error_of([&] { c.object("vision_config").integer("hidden_size"); }) ==
        "models/x/config.json: 'vision_config': 'hidden_size' is missing");
  CHECK(error_of([&] { c.reject("hidden_act", "not supported"); }) ==
        "models/x/config.json: 'hidden_act' = \"gelu\": not supported");
  // A present but wrongly typed key is an error even with a fallback.
  CHECK_FALSE(error_of([&] { c.boolean("hidden_size", false); }).empty());
}

TEST_CASE("files: invalid JSON and missing files name the file; ModelFolder reads files beside config.json") {
  CHECK(error_of([] { JsonView::parse("{not json", "config.json"); }).rfind("config.json: not valid JSON", 0) == 0);
  exporters::testing::TempDir tmp;
  std::ofstream(tmp / "modules.json") << R"([{"idx": 0}])";
  exporters::ModelFolder folder;
  folder.dir = tmp.path;
  CHECK(folder.has_file("modules.json"));
  CHECK_FALSE(folder.has_file("config.json"));
  CHECK_FALSE(folder.json_file("modules.json").is_object());
  CHECK(error_of([&] { folder.json_file("config.json"); }).find("config.json: file not found") != std::string::npos);
}
