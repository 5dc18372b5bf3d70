// The SDK's preprocessors (exporters/preprocessing.hpp): the Hugging Face
// image processors (core/export/image_processor.cpp and core/io/png.cpp are
// compiled into this library) and the Wav2Vec2 feature extractor.
#include "exporters/preprocessing.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "core/export/image_processor.hpp"
#include "core/io/png.hpp"
#include "exporters/heads.hpp"

namespace exporters::preprocessing {

namespace fs = std::filesystem;

ImageNormalization image_normalization(const JsonView& pre) {
  ImageNormalization n;
  if (!pre.boolean("do_rescale", true)) n.rescale = 1.0;
  else n.rescale = pre.number("rescale_factor", n.rescale);
  if (pre.boolean("do_normalize", pre.has("image_mean"))) {
    auto read3 = [&](const char* key, std::array<double, 3>& dst) {
      if (!pre.has(key)) return;
      const std::string text = pre.text(key);
      if (!text.empty() && text[0] != '[') {
        dst.fill(pre.number(key));
        return;
      }
      std::vector<double> v = pre.numbers(key);
      if (v.size() != 3) pre.reject(key, "must be a number or 3 numbers");
      for (size_t c = 0; c < 3; ++c) dst[c] = v[c];
    };
    read3("image_mean", n.mean);
    read3("image_std", n.std);
    for (double s : n.std)
      if (s == 0) pre.reject("image_std", "has a zero");
  }
  return n;
}

std::array<int64_t, 2> image_size(const JsonView& pre) {
  for (const char* key : {"crop_size", "size"}) {
    if (!pre.has(key)) continue;
    if (std::string(key) == "crop_size" && !pre.boolean("do_center_crop", true)) continue;
    const std::string text = pre.text(key);
    if (!text.empty() && text[0] != '{') {
      int64_t e = pre.integer(key);
      return {e, e};
    }
    JsonView s = pre.object(key);
    if (s.has("height") && s.has("width")) return {s.integer("height"), s.integer("width")};
    // ConvNeXT-style processors resize the shortest edge and centre-crop to
    // a square of that edge; others use it as the square size too.
    if (s.has("shortest_edge")) {
      int64_t e = s.integer("shortest_edge");
      return {e, e};
    }
    pre.reject(key, "cannot read an image size from it");
  }
  return {0, 0};
}

InputDeclaration image_declaration(const PreprocessRequest& request, const ImageNormalization& norm, ColorLayout color) {
  InputDeclaration d;
  d.color = color;
  d.rescale = norm.rescale;
  d.mean = norm.mean;
  d.std = norm.std;
  const bool coreml = request.target.rfind("coreml", 0) == 0;
  if (coreml && request.options.image_input == "image") {
    if (request.type.rank() < 1 || request.type.shape[0] != 1)
      throw std::runtime_error(fmt::format(
          "input '{}': a Core ML image input takes one image, the batch size is {} (pass --image-input tensor)",
          request.input, request.type.rank() ? request.type.shape[0] : 0));
    d.kind = InputDeclaration::Kind::CoreMLImage;
    return d;
  }
  d.nhwc = request.target == "tflite";
  d.pixels = request.options.fold_normalization;
  d.kind = d.nhwc || d.pixels ? InputDeclaration::Kind::ImageTensor : InputDeclaration::Kind::Tensor;
  return d;
}

std::vector<std::string> hf_image_processor_types() {
  return {"ViTImageProcessor", "ConvNextImageProcessor", "MobileViTImageProcessor", "SegformerImageProcessor"};
}

Preprocessor hf_image_processor() {
  Preprocessor p;
  p.input = "pixel_values";
  p.media = "image";
  p.declare = [](const PreprocessRequest& request) {
    const JsonView& pre = request.model.preprocessor;
    const ColorLayout color = pre.boolean("do_flip_channel_order", false) ? ColorLayout::BGR : ColorLayout::RGB;
    return image_declaration(request, image_normalization(pre), color);
  };
  p.load = [](const ModelFolder& model, const std::vector<fs::path>& files) {
    const fs::path config = model.dir / "preprocessor_config.json";
    if (!fs::is_regular_file(config))
      throw std::runtime_error(fmt::format("{}: not found (it says how to preprocess the images)", config.string()));
    const exporting::ImageProcessor processor(nlohmann::json::parse(model.preprocessor.dump()), config);
    std::vector<exporting::ProcessedImage> processed;
    for (const auto& f : files) processed.push_back(processor.process(io::read_png_rgb(f)));
    PreprocessedBatch batch;
    batch.model_value = exporting::pixel_values_tensor(processed);
    const ir::Shape& s = batch.model_value.shape();
    batch.pixels = ir::Tensor::zeros(ir::DType::F32, s);
    float* dst = batch.pixels.mutable_as<float>();
    const int64_t h = s[2], w = s[3];
    for (int64_t b = 0; b < s[0]; ++b) {
      const auto& img = processed[static_cast<size_t>(b)];
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t y = 0; y < h; ++y)
          for (int64_t x = 0; x < w; ++x)
            dst[((b * 3 + c) * h + y) * w + x] = img.image.at(y, x, static_cast<int>(img.bgr ? 2 - c : c));
    }
    batch.description = processor.describe();
    return batch;
  };
  return p;
}

namespace {

uint32_t le32(const unsigned char* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24); }
uint16_t le16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

}  // namespace

std::vector<float> read_wav_mono16(const fs::path& file, int64_t expected_rate) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", file.string()));
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto bad = [&](const std::string& why) { return std::runtime_error(fmt::format("{}: {}", file.string(), why)); };
  if (bytes.size() < 12 || std::memcmp(bytes.data(), "RIFF", 4) != 0 || std::memcmp(bytes.data() + 8, "WAVE", 4) != 0)
    throw bad("not a WAV file (no RIFF/WAVE header)");
  bool have_fmt = false;
  uint16_t channels = 0, bits = 0;
  uint32_t rate = 0;
  size_t pos = 12;
  while (pos + 8 <= bytes.size()) {
    const unsigned char* chunk = bytes.data() + pos;
    const uint64_t size = le32(chunk + 4);
    const size_t body = pos + 8;
    if (body + size > bytes.size()) throw bad(fmt::format("truncated WAV chunk '{}'", std::string(chunk, chunk + 4)));
    if (std::memcmp(chunk, "fmt ", 4) == 0) {
      if (size < 16) throw bad("malformed fmt chunk");
      const unsigned char* f = bytes.data() + body;
      uint16_t format = le16(f);
      if (format == 0xFFFE && size >= 26) format = le16(f + 24);  // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID
      channels = le16(f + 2);
      rate = le32(f + 4);
      bits = le16(f + 14);
      if (format != 1) throw bad(fmt::format("WAV format {} is not PCM (only 16-bit PCM is read)", format));
      have_fmt = true;
    } else if (std::memcmp(chunk, "data", 4) == 0) {
      if (!have_fmt) throw bad("data chunk before the fmt chunk");
      if (bits != 16) throw bad(fmt::format("{}-bit samples; only 16-bit PCM is read", bits));
      if (channels != 1) throw bad(fmt::format("{} channels; a mono recording is needed", channels));
      if (expected_rate > 0 && rate != expected_rate)
        throw bad(fmt::format("sampled at {} Hz, the feature extractor expects {} Hz (resample it first)", rate,
                              expected_rate));
      std::vector<float> samples(size / 2);
      for (size_t i = 0; i < samples.size(); ++i)
        samples[i] = static_cast<float>(static_cast<int16_t>(le16(bytes.data() + body + 2 * i))) / 32768.0f;
      return samples;
    }
    pos = body + size + (size & 1);  // chunks are padded to even sizes
  }
  throw bad("no data chunk");
}

std::vector<float> zero_mean_unit_variance(const std::vector<float>& x) {
  if (x.empty()) return {};
  double mean = 0;
  for (float v : x) mean += v;
  mean /= static_cast<double>(x.size());
  const float m = static_cast<float>(mean);
  double var = 0;
  for (float v : x) {
    const double d = static_cast<double>(v - m);
    var += d * d;
  }
  var /= static_cast<double>(x.size());
  const float denom = std::sqrt(static_cast<float>(var) + 1e-7f);
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = (x[i] - m) / denom;
  return out;
}

Preprocessor wav2vec2_feature_extractor() {
  Preprocessor p;
  p.input = "input_values";
  p.media = "audio";
  p.declare = [](const PreprocessRequest&) { return InputDeclaration{}; };
  p.load = [](const ModelFolder& model, const std::vector<fs::path>& files) {
    const JsonView& pre = model.preprocessor;
    const int64_t rate = pre.integer("sampling_rate", 16000);
    if (pre.integer("feature_size", 1) != 1) pre.reject("feature_size", "only raw waveforms (1) are supported");
    const bool normalize = pre.boolean("do_normalize", true);
    std::vector<std::vector<float>> waves;
    for (const auto& f : files) {
      auto w = read_wav_mono16(f, rate);
      waves.push_back(normalize ? zero_mean_unit_variance(w) : w);
      if (waves.back().size() != waves.front().size())
        throw std::runtime_error(fmt::format("{}: {} samples, the first recording has {} (one length per batch)",
                                             f.string(), waves.back().size(), waves.front().size()));
    }
    PreprocessedBatch batch;
    const int64_t n = waves.empty() ? 0 : static_cast<int64_t>(waves[0].size());
    batch.model_value = ir::Tensor::zeros(ir::DType::F32, {static_cast<int64_t>(waves.size()), n});
    float* dst = batch.model_value.mutable_as<float>();
    for (size_t b = 0; b < waves.size(); ++b) std::copy(waves[b].begin(), waves[b].end(), dst + b * n);
    batch.description = fmt::format("{}: {} Hz mono{}", pre.string("feature_extractor_type", "Wav2Vec2FeatureExtractor"),
                                    rate, normalize ? ", zero mean / unit variance" : "");
    return batch;
  };
  return p;
}

}  // namespace exporters::preprocessing
