// The vision HF fixtures (../shared/fixtures/hf): their example PNGs through
// the image-processor emulation give the reference pixel_values that
// transformers 4.36 computed, and exports validate through the image input
// from those PNGs. Exit code 77 (SKIP) without the fixtures.
#include <algorithm>
#include <cmath>
#include <iostream>

#include <fmt/format.h>

#include "core/export/image_processor.hpp"
#include "core/io/json_config.hpp"
#include "core/io/png.hpp"
#include "core/io/safetensors.hpp"
#include "hf_fixtures.hpp"
#include "vision_test_util.hpp"

using namespace exporters;
using namespace vision_test;

namespace {

std::vector<testing::FixtureInfo> vision_fixtures() {
  testing::require_hf_fixtures();
  std::vector<testing::FixtureInfo> out;
  for (const auto& f : testing::load_fixture_index())
    for (const auto& in : f.inputs)
      if (in.name == "pixel_values") out.push_back(f);
  return out;
}

nlohmann::json preprocessor(const testing::FixtureInfo& f) {
  return read_json(f.dir / "preprocessor_config.json");
}

}  // namespace

TEST_CASE("every vision fixture's example PNGs are 8-bit RGB and decode to their size") {
  const auto fixtures = vision_fixtures();
  CHECK(fixtures.size() == 12);
  for (const auto& f : fixtures) {
    for (const char* prefix : {"example_image", "example2_image"}) {
      const fs::path png = f.dir / fmt::format("{}_0.png", prefix);
      CAPTURE(png.string());
      io::PngInfo info;
      const io::RgbImage img = io::read_png_rgb(png, &info);
      CHECK(img.width == 80);
      CHECK(img.height == 72);
      CHECK(info.bit_depth == 8);
      CHECK(info.color_type == 2);
      CHECK(img.pixels.size() == 80u * 72u * 3u);
    }
  }
}

TEST_CASE("every vision fixture's example PNGs through its image processor give the reference pixel_values") {
  double worst = 0;
  int checked = 0;
  for (const auto& f : vision_fixtures()) {
    const exporting::ImageProcessor processor(preprocessor(f), f.dir / "preprocessor_config.json");
    for (auto [prefix, reference] : {std::pair{"example_image", "reference.safetensors"},
                                     std::pair{"example2_image", "reference2.safetensors"}}) {
      CAPTURE(f.name);
      CAPTURE(reference);
      const auto tensors = io::read_safetensors(f.dir / reference);
      const ir::Tensor& expected = tensors.at("input.pixel_values");
      std::vector<exporting::ProcessedImage> batch;
      for (int64_t b = 0; b < expected.shape()[0]; ++b)
        batch.push_back(processor.process(io::read_png_rgb(f.dir / fmt::format("{}_{}.png", prefix, b))));
      const ir::Tensor actual = exporting::pixel_values_tensor(batch);
      REQUIRE(actual.shape() == expected.shape());
      double diff = 0;
      const float* a = actual.data_as<float>();
      const float* e = expected.data_as<float>();
      for (int64_t k = 0; k < actual.numel(); ++k) diff = std::max(diff, static_cast<double>(std::fabs(a[k] - e[k])));
      CHECK(diff <= 1e-6);
      worst = std::max(worst, diff);
      ++checked;
    }
  }
  CHECK(checked == 24);
  MESSAGE(fmt::format("{} example images, largest |pixel_values - reference|: {:g}", checked, worst));
}

TEST_CASE("every vision fixture exported to Core ML (float32, float16) validates through its image input from the PNGs") {
  TempDir tmp;
  for (const auto& f : vision_fixtures()) {
    const nlohmann::json pre = preprocessor(f);
    const std::string type = pre["image_processor_type"];
    const auto& shape = f.inputs[0].shape;
    const std::string fed = fmt::format("the export's input 'pixel_values' gets the processed {}x{} uint8 image ({} channel order)",
                                        shape[3], shape[2], f.model_type == "mobilevit" ? "BGR" : "RGB");
    for (const char* precision : {"float32", "float16"}) {
      CAPTURE(f.name);
      CAPTURE(precision);
      Run run = run_cli(fmt::format("coreml {} -o {} --quantize {} --overwrite", quoted(f.dir),
                                      quoted(tmp / (f.name + ".mlpackage")), precision));
      INFO(run.output);
      CHECK(run.exit_code == 0);
      CHECK(contains(run.output, "validation inputs: pixel_values from example_image_0.png through " + type + ": "));
      CHECK(contains(run.output, fed));
      CHECK(contains(run.output, "validation: PASS"));
    }
    CAPTURE(f.name);
    const fs::path second = f.dir / "example2_image_0.png";
    Run run = run_cli(fmt::format("coreml {} -o {} --overwrite --validation-image {}", quoted(f.dir),
                                    quoted(tmp / (f.name + ".mlpackage")), quoted(second)));
    INFO(run.output);
    CHECK(run.exit_code == 0);
    CHECK(contains(run.output, "validation inputs: pixel_values from " + second.string() + " (--validation-image) through " + type));
    CHECK(contains(run.output, fed));
    CHECK(contains(run.output, "validation: PASS"));
  }
}
