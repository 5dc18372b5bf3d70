// Host helpers of core/export/heads.cpp on hand-made inputs: image size and
// normalisation from preprocessor configs, id2label de-duplication, the
// float16 near-tie rule for class maps, and export inputs in pixel / NHWC form.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/export/heads.hpp"

using namespace exporters;
using namespace exporters::exporting;
using nlohmann::json;

TEST_CASE("image size: crop_size before size; height/width, shortest_edge and int forms") {
  CHECK(image_size(json::parse(R"({"size": {"height": 32, "width": 48}})")) == std::array<int64_t, 2>{32, 48});
  CHECK(image_size(json::parse(R"({"size": {"shortest_edge": 72}, "crop_size": {"height": 64, "width": 64}})")) ==
        std::array<int64_t, 2>{64, 64});
  CHECK(image_size(json::parse(R"({"size": {"shortest_edge": 72}, "crop_size": {"height": 64, "width": 64},
                                   "do_center_crop": false})")) == std::array<int64_t, 2>{72, 72});
  CHECK(image_size(json::parse(R"({"size": 224})")) == std::array<int64_t, 2>{224, 224});
  CHECK(!image_size(json::parse(R"({})")));
  CHECK_THROWS_WITH(image_size(json::parse(R"({"size": {"longest_edge": 3}})")), doctest::Contains("size"));
}

TEST_CASE("image normalisation: rescale, mean, std; none when do_normalize is false") {
  auto n = image_normalization(json::parse(R"({"do_normalize": true, "image_mean": [0.5, 0.4, 0.3],
      "image_std": [0.2, 0.25, 0.5], "rescale_factor": 0.5})"));
  CHECK(n.rescale == 0.5);
  CHECK(n.mean == std::array<double, 3>{0.5, 0.4, 0.3});
  CHECK(n.std == std::array<double, 3>{0.2, 0.25, 0.5});
  auto m = image_normalization(json::parse(R"({"do_normalize": false, "image_mean": [0.5, 0.5, 0.5],
      "image_std": [0.5, 0.5, 0.5], "do_rescale": true, "rescale_factor": 0.00392156862745098})"));
  CHECK(m.mean == std::array<double, 3>{0, 0, 0});
  CHECK(m.std == std::array<double, 3>{1, 1, 1});
  CHECK_THROWS_WITH(image_normalization(json::parse(R"({"do_normalize": true, "image_std": [0, 1, 1]})")),
                    doctest::Contains("image_std"));
}

TEST_CASE("class labels from id2label in id order, duplicates made unique") {
  auto labels = class_labels(json::parse(R"({"id2label": {"1": "cat", "0": "dog", "2": "cat", "10": "x",
      "3": "a", "4": "a", "5": "a", "6": "b", "7": "c", "8": "d", "9": "e"}})"));
  REQUIRE(labels.size() == 11);
  CHECK(labels[0] == "dog");
  CHECK(labels[1] == "cat");
  CHECK(labels[2] == "cat_1");
  CHECK(labels[4] == "a_1");
  CHECK(labels[5] == "a_2");
  CHECK(labels[10] == "x");
  CHECK(class_labels(json::parse(R"({})")).empty());
  CHECK_THROWS_WITH(class_labels(json::parse(R"({"id2label": {"0": "a", "2": "b"}})")), doctest::Contains("id2label"));
}

TEST_CASE("float16 class maps: only near ties may differ") {
  AppliedTask applied;
  applied.upsample = false;
  applied.argmax = true;
  applied.outputs.push_back({"logits", OutputHead::Segmentation, {ir::DType::F32, {1, 3, 1, 2}}});
  // Pixel 0: classes 0 and 1 within 0.001; pixel 1: class 2 clearly best.
  ir::Tensor raw = ir::Tensor::from_f32({1, 3, 1, 2}, {1.0f, 0.0f, 0.9995f, 0.0f, 0.0f, 5.0f});
  CHECK(class_mismatches_beyond_ties(applied, "logits", raw, ir::Tensor::from_i64({1, 1, 2}, {0, 2}), 1e-2) == 0);
  CHECK(class_mismatches_beyond_ties(applied, "logits", raw, ir::Tensor::from_i64({1, 1, 2}, {1, 2}), 1e-2) == 0);
  CHECK(class_mismatches_beyond_ties(applied, "logits", raw, ir::Tensor::from_i64({1, 1, 2}, {1, 0}), 1e-2) == 1);
  CHECK(class_mismatches_beyond_ties(applied, "logits", raw, ir::Tensor::from_i64({1, 1, 2}, {2, 2}), 1e-2) == 1);
  CHECK(class_mismatches_beyond_ties(applied, "other", raw, ir::Tensor::from_i64({1, 1, 2}, {0, 2}), 1e-2) == -1);
}

TEST_CASE("export inputs: pixel values invert the normalisation; NHWC transposes") {
  AppliedTask applied;
  AppliedTask::ImageInput img;
  img.pixels = true;
  img.nhwc = true;
  img.norm.rescale = 1.0 / 255.0;
  img.norm.mean = {0.5, 0.25, 0.0};
  img.norm.std = {0.5, 0.25, 1.0};
  applied.image_inputs["pixel_values"] = img;
  // [1, 3, 1, 2]: channel-major values.
  ir::Tensor x = ir::Tensor::from_f32({1, 3, 1, 2}, {-1.0f, 1.0f, 0.0f, 3.0f, 0.5f, 0.0f});
  ir::Tensor p = export_input(applied, "pixel_values", x);
  REQUIRE(p.shape() == ir::Shape{1, 1, 2, 3});
  const float* v = p.data_as<float>();
  // pixel = (x * std + mean) * 255, laid out [h, w, c].
  CHECK(v[0] == doctest::Approx(0.0));     // w0 c0: (-1*0.5+0.5)*255
  CHECK(v[1] == doctest::Approx(63.75));   // w0 c1: (0*0.25+0.25)*255
  CHECK(v[2] == doctest::Approx(127.5));   // w0 c2: 0.5*255
  CHECK(v[3] == doctest::Approx(255.0));   // w1 c0: (1*0.5+0.5)*255
  CHECK(v[4] == doctest::Approx(255.0));   // w1 c1: (3*0.25+0.25)*255
  CHECK(v[5] == doctest::Approx(0.0));     // w1 c2
  ir::Tensor ids = ir::Tensor::from_i64({1, 2}, {4, 5});
  CHECK(export_input(applied, "input_ids", ids).shape() == ir::Shape{1, 2});
}
