// PNG decoding, Pillow-exact resizing, the HF image-processor emulation and
// validation of vision exports from images, on data this suite makes itself
// (make_vision_data.py: hand-written PNGs, Pillow's outputs when python3-pil
// is installed) and the project's own generated ViT / BERT models.
#include <sys/resource.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <set>
#include <stdexcept>

#include "core/export/image_processor.hpp"
#include "core/io/png.hpp"
#include "vision_test_util.hpp"

using namespace exporters;
using namespace vision_test;

namespace {

fs::path data_dir() { return fs::path(VISION_DATA); }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

io::RgbImage raw_rgb(const fs::path& file, int64_t width, int64_t height) {
  io::RgbImage img{width, height, read_bytes(file)};
  REQUIRE(img.pixels.size() == static_cast<size_t>(width * height * 3));
  return img;
}

std::string own_model(const std::string& family) { return std::string(OWN_MODELS_DIR) + "/own_" + family; }

}  // namespace

TEST_CASE("PNGs of every colour type and bit depth decode to the RGB of Pillow's convert(\"RGB\")") {
  const auto manifest = read_json(data_dir() / "png" / "manifest.json");
  REQUIRE(manifest.size() == 19);
  std::set<std::pair<int, int>> kinds;
  for (const auto& e : manifest) {
    const std::string file = e["file"];
    CAPTURE(file);
    CAPTURE(e["source"].get<std::string>());
    io::PngInfo info;
    const io::RgbImage img = io::read_png_rgb(data_dir() / "png" / file, &info);
    CHECK(img.width == e["width"].get<int64_t>());
    CHECK(img.height == e["height"].get<int64_t>());
    CHECK(info.bit_depth == e["bit_depth"].get<int>());
    CHECK(info.color_type == e["color_type"].get<int>());
    CHECK(info.interlaced == e["interlaced"].get<bool>());
    const auto expected = read_bytes(data_dir() / "png" / e["expected"].get<std::string>());
    REQUIRE(img.pixels.size() == expected.size());
    size_t differing = 0;
    for (size_t k = 0; k < expected.size(); ++k) differing += img.pixels[k] != expected[k];
    CHECK(differing == 0);
    kinds.insert({info.color_type, info.bit_depth});
  }
  // Every colour type with 8 bits, 16 bits where PNG allows it, and the low depths.
  for (auto k : {std::pair{0, 1}, {0, 2}, {0, 4}, {0, 8}, {0, 16}, {2, 8}, {2, 16}, {3, 1}, {3, 2}, {3, 4}, {3, 8},
                 {4, 8}, {4, 16}, {6, 8}, {6, 16}})
    CHECK(kinds.count(k) == 1);
}

TEST_CASE("corrupt or truncated PNGs are one error naming the file") {
  const auto manifest = read_json(data_dir() / "bad" / "manifest.json");
  REQUIRE(manifest.size() == 8);
  for (const auto& e : manifest) {
    const std::string file = e["file"];
    CAPTURE(file);
    CAPTURE(e["why"].get<std::string>());
    const fs::path path = data_dir() / "bad" / file;
    const std::string message = error_of([&] { io::read_png_rgb(path); });
    CHECK(!message.empty());
    CHECK(contains(message, path.string()));
  }
  const std::string missing = error_of([&] { io::read_png_rgb(data_dir() / "no_such.png"); });
  CHECK(contains(missing, "no_such.png"));
  CHECK(contains(missing, "cannot open"));
}

TEST_CASE("nearest resizing takes the pixel under each output pixel's centre") {
  io::RgbImage row{10, 1, {}};
  for (int x = 0; x < 10; ++x)
    for (int c = 0; c < 3; ++c) row.pixels.push_back(static_cast<uint8_t>(x * 10 + c));
  // 10 -> 4: centres at 1.25, 3.75, 6.25, 8.75 of the source.
  const io::RgbImage out = exporting::resize_like_pil(row, 4, 1, exporting::Resample::Nearest);
  REQUIRE(out.width == 4);
  CHECK(out.at(0, 0, 0) == 10);
  CHECK(out.at(0, 1, 0) == 30);
  CHECK(out.at(0, 2, 1) == 61);
  CHECK(out.at(0, 3, 2) == 82);
}

TEST_CASE("every filter keeps a uniform image uniform, shrinking and enlarging") {
  io::RgbImage flat{13, 9, {}};
  for (int k = 0; k < 13 * 9; ++k) flat.pixels.insert(flat.pixels.end(), {200, 3, 77});
  for (int f = 0; f <= 5; ++f)
    for (auto [w, h] : {std::pair<int64_t, int64_t>{5, 4}, {31, 17}, {13, 2}}) {
      CAPTURE(f);
      CAPTURE(w);
      const io::RgbImage out = exporting::resize_like_pil(flat, w, h, static_cast<exporting::Resample>(f));
      REQUIRE(out.pixels.size() == static_cast<size_t>(w * h * 3));
      for (int64_t p = 0; p < w * h; ++p) {
        CHECK(out.pixels[p * 3] == 200);
        CHECK(out.pixels[p * 3 + 1] == 3);
        CHECK(out.pixels[p * 3 + 2] == 77);
      }
    }
}

TEST_CASE("a centre crop larger than the image pads it with zeros around the centre") {
  io::RgbImage img{3, 2, {}};
  for (int k = 0; k < 6; ++k) img.pixels.insert(img.pixels.end(), {uint8_t(k + 1), uint8_t(k + 1), uint8_t(k + 1)});
  // transformers: top = (2 - 4) // 2 = -1, top pad ceil(2 / 2) = 1; left = (3 - 4) // 2 = -1, left pad ceil(1 / 2) = 1.
  const io::RgbImage out = exporting::center_crop(img, 4, 4);
  REQUIRE(out.width == 4);
  REQUIRE(out.height == 4);
  const int expected[4][4] = {{0, 0, 0, 0}, {0, 1, 2, 3}, {0, 4, 5, 6}, {0, 0, 0, 0}};
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) CHECK(out.at(y, x, 0) == expected[y][x]);
  // Inside the image: floor((H - h) / 2) rows and columns are cut before.
  const io::RgbImage inner = exporting::center_crop(img, 1, 2);
  REQUIRE(inner.width == 2);
  CHECK(inner.at(0, 0, 0) == 1);
  CHECK(inner.at(0, 1, 0) == 2);
}

TEST_CASE("preprocessor_config.json problems are errors naming the file and the key") {
  const fs::path file = "/models/m/preprocessor_config.json";
  auto error = [&](const nlohmann::json& config) {
    return error_of([&] { exporting::ImageProcessor p(config, file); });
  };
  std::string e = error({{"image_processor_type", "DPTImageProcessor"}});
  CHECK(contains(e, file.string()));
  CHECK(contains(e, "image_processor_type 'DPTImageProcessor' is not supported"));
  CHECK(contains(error(nlohmann::json::object()), "image_processor_type ''"));
  e = error({{"image_processor_type", "ViTImageProcessor"}, {"do_pad", true}});
  CHECK(contains(e, file.string()));
  CHECK(contains(e, "'do_pad' is true: not supported"));
  CHECK(contains(error({{"image_processor_type", "ViTImageProcessor"}, {"resample", 7}}), "'resample' 7"));
  CHECK(contains(error({{"image_processor_type", "ViTImageProcessor"}, {"size", {{"width", 3}}}}), "'size' must be"));
  CHECK(contains(error({{"image_processor_type", "ViTImageProcessor"}, {"image_std", {1, 2}}}), "'image_std'"));
  CHECK(contains(error({{"image_processor_type", "SegformerImageProcessor"}, {"do_center_crop", true}}),
                 "'do_center_crop' is true but there is no crop_size"));
  // A switch that is off changes nothing and is accepted.
  CHECK(error({{"image_processor_type", "ViTImageProcessor"}, {"do_pad", false}}).empty());
}

TEST_CASE("rescaling and normalisation follow transformers' float32 arithmetic") {
  io::RgbImage img{1, 1, {0, 128, 255}};
  const nlohmann::json config = {{"image_processor_type", "ViTImageProcessor"}, {"size", {{"height", 1}, {"width", 1}}},
                                 {"rescale_factor", 0.00392156862745098}, {"image_mean", {0.5, 0.5, 0.5}},
                                 {"image_std", {0.5, 0.5, 0.5}}};
  const auto out = exporting::ImageProcessor(config, "preprocessor_config.json").process(img);
  REQUIRE(out.pixel_values.size() == 3);
  CHECK(out.pixel_values[0] == -1.0f);
  CHECK(out.pixel_values[1] == (static_cast<float>(128 * 0.00392156862745098) - 0.5f) / 0.5f);
  CHECK(out.pixel_values[2] == 1.0f);
  // MobileViT: no normalisation, channels flipped to BGR.
  const nlohmann::json mv = {{"image_processor_type", "MobileViTImageProcessor"}, {"size", {{"shortest_edge", 1}}},
                             {"crop_size", {{"height", 1}, {"width", 1}}}};
  const auto bgr = exporting::ImageProcessor(mv, "preprocessor_config.json").process(img);
  CHECK(bgr.bgr);
  CHECK(bgr.pixel_values[0] == 1.0f);
  CHECK(bgr.pixel_values[2] == 0.0f);
  CHECK(bgr.image.at(0, 0, 0) == 0);  // the uint8 image stays RGB
}

#if VISION_HAS_PIL
TEST_CASE("resize_like_pil equals Pillow's Image.resize byte for byte for every filter") {
  const auto manifest = read_json(data_dir() / "resize" / "manifest.json");
  REQUIRE(manifest.size() == 13 * 6);
  size_t cases = 0;
  for (const auto& e : manifest) {
    const int64_t w = e["width"], h = e["height"], ow = e["out_width"], oh = e["out_height"];
    const int filter = e["filter"];
    CAPTURE(e["expected"].get<std::string>());
    const io::RgbImage src = raw_rgb(data_dir() / "resize" / e["source"].get<std::string>(), w, h);
    const io::RgbImage expected = raw_rgb(data_dir() / "resize" / e["expected"].get<std::string>(), ow, oh);
    const io::RgbImage out = exporting::resize_like_pil(src, ow, oh, static_cast<exporting::Resample>(filter));
    REQUIRE(out.pixels.size() == expected.pixels.size());
    size_t differing = 0;
    for (size_t k = 0; k < out.pixels.size(); ++k) differing += out.pixels[k] != expected.pixels[k];
    CHECK(differing == 0);
    ++cases;
  }
  MESSAGE(cases << " resize cases equal to Pillow");
}

TEST_CASE("each supported processor gives transformers' pixel_values on Pillow images") {
  const auto manifest = read_json(data_dir() / "processor" / "manifest.json");
  REQUIRE(manifest.size() == 14);
  double worst = 0;
  for (const auto& e : manifest) {
    const std::string config_file = e["config"];
    CAPTURE(config_file);
    CAPTURE(e["image"].get<std::string>());
    const fs::path dir = data_dir() / "processor";
    const exporting::ImageProcessor processor(read_json(dir / config_file), dir / config_file);
    const auto out = processor.process(io::read_png_rgb(dir / e["image"].get<std::string>()));
    CHECK(out.image.height == e["height"].get<int64_t>());
    CHECK(out.image.width == e["width"].get<int64_t>());
    CHECK(out.image.pixels == read_bytes(dir / e["uint8"].get<std::string>()));
    const auto bytes = read_bytes(dir / e["pixel_values"].get<std::string>());
    REQUIRE(bytes.size() == out.pixel_values.size() * 4);
    double diff = 0;
    for (size_t k = 0; k < out.pixel_values.size(); ++k) {
      float ref;
      std::memcpy(&ref, bytes.data() + 4 * k, 4);
      diff = std::max(diff, static_cast<double>(std::fabs(ref - out.pixel_values[k])));
    }
    CHECK(diff <= 1e-6);
    worst = std::max(worst, diff);
  }
  MESSAGE("largest |pixel_values - transformers' steps|: " << worst);
}
#endif

// ── validation from images, through the CLI, on the project's own models ──

namespace {

fs::path own_image() { return data_dir() / "processor" / "landscape.png"; }

}  // namespace

TEST_CASE("--validation-image validates an own ViT's Core ML image input with the processed image") {
  TempDir tmp;
  Run run = run_cli("coreml " + own_model("vit") + " -o " + quoted(tmp / "vit.mlpackage") +
                      " --validation-image " + quoted(own_image()));
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(contains(run.output, "validation inputs: pixel_values from " + own_image().string() +
                                 " (--validation-image) through ViTImageProcessor: resize to 32x32 (bilinear)"));
  CHECK(contains(run.output, "the export's input 'pixel_values' gets the processed 32x32 uint8 image (RGB channel order)"));
  CHECK(contains(run.output, "validation: PASS"));

  // `exporters validate` takes the option too.
  Run again = run_cli("validate " + own_model("vit") + " " + quoted(tmp / "vit.mlpackage") +
                        " --validation-image " + quoted(own_image()));
  INFO(again.output);
  CHECK(again.exit_code == 0);
  CHECK(contains(again.output, "(--validation-image) through ViTImageProcessor"));
  CHECK(contains(again.output, "validation: PASS"));
}

TEST_CASE("image tensors (--image-input tensor, TFLite) get the processor's pixel_values, or pixels when folded") {
  TempDir tmp;
  const std::string image = " --validation-image " + quoted(own_image());
  Run tensor = run_cli("coreml " + own_model("vit") + " -o " + quoted(tmp / "t.mlpackage") + " --image-input tensor" + image);
  INFO(tensor.output);
  CHECK(tensor.exit_code == 0);
  CHECK(contains(tensor.output, "the export's input 'pixel_values' gets pixel_values"));
  CHECK(contains(tensor.output, "validation: PASS"));
  Run tflite = run_cli("tflite " + own_model("vit") + " -o " + quoted(tmp / "v.tflite") + image);
  INFO(tflite.output);
  CHECK(tflite.exit_code == 0);
  CHECK(contains(tflite.output, "gets pixel_values as NHWC"));
  CHECK(contains(tflite.output, "validation: PASS"));
  Run folded = run_cli("tflite " + own_model("vit") + " -o " + quoted(tmp / "f.tflite") + " --fold-normalization" + image);
  INFO(folded.output);
  CHECK(folded.exit_code == 0);
  CHECK(contains(folded.output, "gets the processed 32x32 uint8 image (RGB channel order, NHWC)"));
  CHECK(contains(folded.output, "validation: PASS"));
}

TEST_CASE("a model folder's example_image_0.png is the default validation input; without it reference.safetensors") {
  TempDir tmp;
  Run plain = run_cli("coreml " + own_model("vit") + " -o " + quoted(tmp / "a.mlpackage"));
  INFO(plain.output);
  CHECK(plain.exit_code == 0);
  CHECK(contains(plain.output, "validation inputs: reference.safetensors"));

  fs::copy(own_model("vit"), tmp / "vit", fs::copy_options::recursive);
  fs::copy_file(own_image(), tmp / "vit" / "example_image_0.png");
  Run with_png = run_cli("coreml " + quoted(tmp / "vit") + " -o " + quoted(tmp / "b.mlpackage"));
  INFO(with_png.output);
  CHECK(with_png.exit_code == 0);
  CHECK(contains(with_png.output, "validation inputs: pixel_values from example_image_0.png through ViTImageProcessor"));
  CHECK(contains(with_png.output, "validation: PASS"));

  // --inputs keeps priority over images.
  Run inputs = run_cli("coreml " + quoted(tmp / "vit") + " -o " + quoted(tmp / "c.mlpackage") + " --inputs " +
                         quoted(fs::path(own_model("vit")) / "reference.safetensors") + " --validation-image " +
                         quoted(own_image()));
  INFO(inputs.output);
  CHECK(inputs.exit_code == 0);
  CHECK(contains(inputs.output, "reference.safetensors (--inputs); --validation-image not used"));

  // An example image the processor cannot handle: the folder's image is set
  // aside with the reason, an explicit one is an error.
  std::ofstream(tmp / "vit" / "preprocessor_config.json")
      << R"({"image_processor_type": "ViTImageProcessor", "size": {"height": 32, "width": 32}, "do_pad": true})";
  Run set_aside = run_cli("coreml " + quoted(tmp / "vit") + " -o " + quoted(tmp / "d.mlpackage"));
  INFO(set_aside.output);
  CHECK(set_aside.exit_code == 0);
  CHECK(contains(set_aside.output, "validation inputs: reference.safetensors (example images not used: "));
  CHECK(contains(set_aside.output, "'do_pad' is true: not supported"));
}

TEST_CASE("--validation-image mistakes are one error naming the option or the file") {
  TempDir tmp;
  const std::string out = " -o " + quoted(tmp / "x.mlpackage");
  Run two = run_cli("coreml " + own_model("vit") + out + " --validation-image " + quoted(own_image()) +
                      " --validation-image " + quoted(own_image()));
  CHECK(two.exit_code != 0);
  CHECK(contains(two.output, "--validation-image: 2 images given, the batch size is 1 (one per batch item)"));

  const fs::path bad = data_dir() / "bad" / "truncated_data.png";
  Run corrupt = run_cli("coreml " + own_model("vit") + out + " --overwrite --validation-image " + quoted(bad));
  CHECK(corrupt.exit_code != 0);
  CHECK(contains(corrupt.output, "exporters: error: --validation-image: " + bad.string() + ": corrupt or truncated PNG"));

  Run text = run_cli("coreml " + own_model("bert") + out + " --overwrite --validation-image " + quoted(own_image()));
  CHECK(text.exit_code != 0);
  CHECK(contains(text.output, "--validation-image: the model has no image input"));

  Run missing = run_cli("coreml " + own_model("vit") + out + " --overwrite --validation-image " + quoted(tmp / "none.png"));
  CHECK(missing.exit_code == 2);
  CHECK(contains(missing.output, "--validation-image"));

  Run no_validate = run_cli("coreml " + own_model("vit") + out + " --overwrite --no-validate --validation-image " +
                              quoted(own_image()));
  CHECK(no_validate.exit_code == 2);
  CHECK(contains(no_validate.output, "--validation-image: nothing to validate with --no-validate"));

  fs::copy(own_model("vit"), tmp / "vit", fs::copy_options::recursive);
  std::ofstream(tmp / "vit" / "preprocessor_config.json") << R"({"image_processor_type": "DPTImageProcessor", "size": {"height": 32, "width": 32}})";
  Run unknown = run_cli("coreml " + quoted(tmp / "vit") + out + " --overwrite --validation-image " + quoted(own_image()));
  CHECK(unknown.exit_code != 0);
  CHECK(contains(unknown.output, (tmp / "vit" / "preprocessor_config.json").string() +
                                     ": image_processor_type 'DPTImageProcessor' is not supported"));
}

namespace {

// A PNG chunk: length, type, data, CRC over type and data.
void put_chunk(std::vector<uint8_t>& png, const char* type, const std::vector<uint8_t>& data) {
  auto be32 = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) png.push_back(static_cast<uint8_t>(v >> s));
  };
  be32(static_cast<uint32_t>(data.size()));
  const size_t start = png.size();
  png.insert(png.end(), type, type + 4);
  png.insert(png.end(), data.begin(), data.end());
  be32(static_cast<uint32_t>(crc32(0, png.data() + start, static_cast<uInt>(png.size() - start))));
}

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

// Found by fuzzing: the IHDR's 32000x32000 RGBA (4 GB) was allocated
// before any pixel data was read, for a file of under 100 bytes.
TEST_CASE("a PNG whose header declares more pixels than its bytes can hold is rejected before allocating them") {
  std::vector<uint8_t> png{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  put_chunk(png, "IHDR", {0, 0, 0x7d, 0, 0, 0, 0x7d, 0, 8, 6, 0, 0, 0});  // 32000 x 32000, 8-bit RGBA
  put_chunk(png, "IDAT", {0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1});
  put_chunk(png, "IEND", {});
  CHECK(png.size() < 100);
  const long before = peak_rss_kib();
  const std::string e = error_of([&] { io::decode_png_rgb(png.data(), png.size(), "huge.png"); });
  CHECK(contains(e, "huge.png: corrupt or truncated PNG: a 32000x32000 image needs"));
  CHECK(peak_rss_kib() - before < 64 * 1024);  // nothing near the declared 4 GB was touched
}

// Found by fuzzing: crop_pct 1e-300 made shortest_edge / crop_pct overflow
// its conversion to an integer size (undefined behaviour).
TEST_CASE("preprocessor sizes out of range are errors naming the key, not overflows") {
  const fs::path file = "/models/m/preprocessor_config.json";
  auto error = [&](const nlohmann::json& config) {
    return error_of([&] { exporting::ImageProcessor p(config, file); });
  };
  const nlohmann::json convnext = {{"image_processor_type", "ConvNextImageProcessor"}, {"size", {{"shortest_edge", 224}}}};
  for (double pct : {1e-300, 0.0, -0.5, 0.02}) {
    CAPTURE(pct);
    nlohmann::json c = convnext;
    c["crop_pct"] = pct;
    CHECK(contains(error(c), "'crop_pct' must be positive and at least size.shortest_edge / 8192"));
  }
  nlohmann::json c = convnext;
  c["crop_pct"] = 0.875;
  CHECK(error(c).empty());
  CHECK(contains(error({{"image_processor_type", "ViTImageProcessor"}, {"size", 1000000}}),
                 "'size' must be a positive integer up to 8192"));
  CHECK(contains(error({{"image_processor_type", "ViTImageProcessor"}, {"do_center_crop", true}, {"crop_size", 9000}}),
                 "'crop_size' must be a positive integer up to 8192"));
}
