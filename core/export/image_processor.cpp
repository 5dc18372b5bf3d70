#include "core/export/image_processor.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

namespace exporters::exporting {

namespace {

// ── Pillow's resampling ─────────────────────────────────────────────────────

constexpr int kWeightBits = 22;  // fixed-point fraction of the weights (32 - 8 - 2)
constexpr double kPi = 3.14159265358979323846;
// Largest side a processor resizes or crops to: far above any HF
// processor's size, and it keeps the pixel buffers (side² x 3) bounded.
constexpr int64_t kMaxImageSide = 8192;

double box_kernel(double x) { return x > -0.5 && x <= 0.5 ? 1.0 : 0.0; }
double triangle_kernel(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}
double hamming_kernel(double x) {
  x = std::fabs(x);
  if (x == 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x *= kPi;
  return std::sin(x) / x * (0.54 + 0.46 * std::cos(x));
}
double cubic_kernel(double x) {  // Keys' cubic with a = -0.5
  const double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}
double sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= kPi;
  return std::sin(x) / x;
}
double lanczos3_kernel(double x) { return x >= -3.0 && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0; }

struct Kernel {
  double (*weight)(double);
  double support;  // half-width at scale 1
};

Kernel kernel_of(Resample filter) {
  switch (filter) {
    case Resample::Box: return {box_kernel, 0.5};
    case Resample::Bilinear: return {triangle_kernel, 1.0};
    case Resample::Hamming: return {hamming_kernel, 1.0};
    case Resample::Bicubic: return {cubic_kernel, 2.0};
    case Resample::Lanczos: return {lanczos3_kernel, 3.0};
    case Resample::Nearest: break;
  }
  throw std::logic_error("nearest has no convolution kernel");
}

// For each output position along one axis: the first source index, how many
// source samples it reads, and their fixed-point weights.
struct AxisTaps {
  std::vector<int64_t> first, count;
  std::vector<int32_t> weights;  // out_size rows of `width`
  int64_t width = 0;
};

AxisTaps axis_taps(int64_t in_size, int64_t out_size, const Kernel& kernel) {
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double widen = std::max(1.0, scale);  // antialiasing when shrinking
  const double support = kernel.support * widen;
  const double inv_widen = 1.0 / widen;
  AxisTaps taps;
  taps.width = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  taps.first.resize(out_size);
  taps.count.resize(out_size);
  taps.weights.assign(static_cast<size_t>(out_size * taps.width), 0);
  std::vector<double> w(static_cast<size_t>(taps.width));
  for (int64_t o = 0; o < out_size; ++o) {
    const double center = (static_cast<double>(o) + 0.5) * scale;
    const int64_t lo = std::max<int64_t>(0, static_cast<int64_t>(center - support + 0.5));
    const int64_t hi = std::min<int64_t>(in_size, static_cast<int64_t>(center + support + 0.5));
    const int64_t n = hi - lo;
    double total = 0.0;
    for (int64_t k = 0; k < n; ++k) {
      w[k] = kernel.weight((static_cast<double>(k + lo) - center + 0.5) * inv_widen);
      total += w[k];
    }
    int32_t* row = taps.weights.data() + o * taps.width;
    for (int64_t k = 0; k < n; ++k) {
      const double normalized = total != 0.0 ? w[k] / total : w[k];
      const double fixed = normalized * static_cast<double>(1 << kWeightBits);
      row[k] = static_cast<int32_t>(normalized < 0 ? fixed - 0.5 : fixed + 0.5);  // rounds half away from zero
    }
    taps.first[o] = lo;
    taps.count[o] = n;
  }
  return taps;
}

uint8_t round_to_u8(int64_t accumulated) {
  const int64_t v = accumulated >> kWeightBits;  // arithmetic shift: floor
  return static_cast<uint8_t>(std::clamp<int64_t>(v, 0, 255));
}

io::RgbImage convolve_rows(const io::RgbImage& in, int64_t out_width, const AxisTaps& t) {
  io::RgbImage out{out_width, in.height, std::vector<uint8_t>(static_cast<size_t>(out_width * in.height * 3))};
  for (int64_t y = 0; y < in.height; ++y)
    for (int64_t x = 0; x < out_width; ++x) {
      const int32_t* w = t.weights.data() + x * t.width;
      for (int c = 0; c < 3; ++c) {
        int64_t acc = int64_t{1} << (kWeightBits - 1);
        for (int64_t k = 0; k < t.count[x]; ++k) acc += int64_t{in.at(y, t.first[x] + k, c)} * w[k];
        out.pixels[static_cast<size_t>((y * out_width + x) * 3 + c)] = round_to_u8(acc);
      }
    }
  return out;
}

io::RgbImage convolve_columns(const io::RgbImage& in, int64_t out_height, const AxisTaps& t) {
  io::RgbImage out{in.width, out_height, std::vector<uint8_t>(static_cast<size_t>(in.width * out_height * 3))};
  for (int64_t y = 0; y < out_height; ++y) {
    const int32_t* w = t.weights.data() + y * t.width;
    for (int64_t x = 0; x < in.width; ++x)
      for (int c = 0; c < 3; ++c) {
        int64_t acc = int64_t{1} << (kWeightBits - 1);
        for (int64_t k = 0; k < t.count[y]; ++k) acc += int64_t{in.at(t.first[y] + k, x, c)} * w[k];
        out.pixels[static_cast<size_t>((y * in.width + x) * 3 + c)] = round_to_u8(acc);
      }
  }
  return out;
}

// Nearest: the source index under each output centre, stepping the position
// by the scale (accumulated, as Pillow does, so rounding matches).
std::vector<int64_t> nearest_indices(int64_t in_size, int64_t out_size) {
  const double step = static_cast<double>(in_size) / static_cast<double>(out_size);
  std::vector<int64_t> index(static_cast<size_t>(out_size));
  double pos = step * 0.5;
  for (int64_t o = 0; o < out_size; ++o, pos += step)
    index[o] = std::clamp<int64_t>(static_cast<int64_t>(pos), 0, in_size - 1);
  return index;
}

const char* resample_name(Resample r) {
  static const char* names[] = {"nearest", "lanczos", "bilinear", "bicubic", "box", "hamming"};
  return names[static_cast<int>(r)];
}

// ── preprocessor_config.json ────────────────────────────────────────────────

// HF class defaults that differ between the supported processors.
struct ProcessorDefaults {
  int64_t height = 0, width = 0, shortest_edge = 0;
  bool do_normalize = false;
  std::array<double, 3> mean{0, 0, 0}, std{1, 1, 1};
  bool do_center_crop = false;
  int64_t crop = 0;
  bool flip = false;
};

constexpr std::array<double, 3> kImagenetMean{0.485, 0.456, 0.406}, kImagenetStd{0.229, 0.224, 0.225};
constexpr std::array<double, 3> kHalf{0.5, 0.5, 0.5};

const std::map<std::string, ProcessorDefaults>& supported_processors() {
  static const std::map<std::string, ProcessorDefaults> table = {
      {"ViTImageProcessor", {224, 224, 0, true, kHalf, kHalf, false, 0, false}},
      {"ConvNextImageProcessor", {0, 0, 384, true, kImagenetMean, kImagenetStd, false, 0, false}},
      {"MobileViTImageProcessor", {0, 0, 224, false, {0, 0, 0}, {1, 1, 1}, true, 256, true}},
      {"SegformerImageProcessor", {512, 512, 0, true, kImagenetMean, kImagenetStd, false, 0, false}},
  };
  return table;
}

// Keys read here, and keys that do not change the pixels.
const std::set<std::string>& handled_keys() {
  static const std::set<std::string> keys = {
      "image_processor_type", "feature_extractor_type", "processor_class", "do_resize", "size", "resample",
      "crop_pct", "do_center_crop", "crop_size", "do_rescale", "rescale_factor", "do_normalize", "image_mean",
      "image_std", "do_flip_channel_order", "do_convert_rgb", "do_reduce_labels", "reduce_labels", "auto_map",
      "_processor_class", "ignore_index"};
  return keys;
}

}  // namespace

io::RgbImage resize_like_pil(const io::RgbImage& image, int64_t width, int64_t height, Resample filter) {
  if (width <= 0 || height <= 0 || image.width <= 0 || image.height <= 0 || width > kMaxImageSide ||
      height > kMaxImageSide)
    throw std::runtime_error(fmt::format("resize: cannot resize a {}x{} image to {}x{}", image.width, image.height,
                                         width, height));
  if (width == image.width && height == image.height) return image;
  if (filter == Resample::Nearest) {
    const auto xs = nearest_indices(image.width, width), ys = nearest_indices(image.height, height);
    io::RgbImage out{width, height, std::vector<uint8_t>(static_cast<size_t>(width * height * 3))};
    for (int64_t y = 0; y < height; ++y)
      for (int64_t x = 0; x < width; ++x)
        for (int c = 0; c < 3; ++c) out.pixels[static_cast<size_t>((y * width + x) * 3 + c)] = image.at(ys[y], xs[x], c);
    return out;
  }
  const Kernel kernel = kernel_of(filter);
  io::RgbImage out = image;
  if (width != image.width) out = convolve_rows(out, width, axis_taps(image.width, width, kernel));
  if (height != image.height) out = convolve_columns(out, height, axis_taps(image.height, height, kernel));
  return out;
}

io::RgbImage center_crop(const io::RgbImage& image, int64_t height, int64_t width) {
  if (height <= 0 || width <= 0 || height > kMaxImageSide || width > kMaxImageSide)
    throw std::runtime_error(fmt::format("centre crop to {}x{}: not a size", width, height));
  // Where the crop starts in a canvas that holds the image at (top_pad, left_pad).
  const int64_t canvas_h = std::max(height, image.height), canvas_w = std::max(width, image.width);
  const int64_t top_pad = (canvas_h - image.height + 1) / 2, left_pad = (canvas_w - image.width + 1) / 2;
  auto floor_half = [](int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); };  // Python's v // 2
  const int64_t top = floor_half(image.height - height), left = floor_half(image.width - width);
  // The crop window in canvas coordinates, clipped to the canvas.
  const int64_t y0 = std::max<int64_t>(0, top + top_pad), y1 = std::min(canvas_h, top + top_pad + height);
  const int64_t x0 = std::max<int64_t>(0, left + left_pad), x1 = std::min(canvas_w, left + left_pad + width);
  io::RgbImage out{x1 - x0, y1 - y0, std::vector<uint8_t>(static_cast<size_t>((x1 - x0) * (y1 - y0) * 3), 0)};
  for (int64_t y = y0; y < y1; ++y)
    for (int64_t x = x0; x < x1; ++x) {
      const int64_t sy = y - top_pad, sx = x - left_pad;
      if (sy < 0 || sy >= image.height || sx < 0 || sx >= image.width) continue;
      for (int c = 0; c < 3; ++c)
        out.pixels[static_cast<size_t>(((y - y0) * out.width + (x - x0)) * 3 + c)] = image.at(sy, sx, c);
    }
  return out;
}

ImageProcessor::ImageProcessor(const nlohmann::json& config, const std::filesystem::path& file) : file_(file) {
  const std::string where = file.string();
  auto fail = [&](const std::string& key, const std::string& why) {
    return std::runtime_error(fmt::format("{}: '{}' {}", where, key, why));
  };
  if (!config.is_object()) throw std::runtime_error(fmt::format("{}: not a JSON object", where));
  std::string type;
  if (auto it = config.find("image_processor_type"); it != config.end() && it->is_string()) {
    type = it->get<std::string>();
  } else if (auto fe = config.find("feature_extractor_type"); fe != config.end() && fe->is_string()) {
    type = fe->get<std::string>();
    if (type.ends_with("FeatureExtractor")) type = type.substr(0, type.size() - 16) + "ImageProcessor";
  }
  std::vector<std::string> known;
  for (const auto& [name, _] : supported_processors()) known.push_back(name);
  auto def = supported_processors().find(type);
  if (def == supported_processors().end())
    throw std::runtime_error(fmt::format("{}: image_processor_type '{}' is not supported (supported: {})", where,
                                         type, fmt::join(known, ", ")));
  type_ = type;
  const ProcessorDefaults& d = def->second;
  height_ = d.height;
  width_ = d.width;
  shortest_edge_ = d.shortest_edge;
  do_normalize_ = d.do_normalize;
  mean_ = d.mean;
  std_ = d.std;
  do_center_crop_ = d.do_center_crop;
  crop_height_ = crop_width_ = d.crop;
  flip_channel_order_ = d.flip;

  for (const auto& [key, value] : config.items()) {
    if (handled_keys().count(key)) continue;
    // An unknown switch that is on would change the pixels in a way not reproduced here.
    if (key.starts_with("do_") && value.is_boolean() && value.get<bool>()) throw fail(key, "is true: not supported");
  }
  auto flag = [&](const char* key, bool fallback) {
    auto it = config.find(key);
    if (it == config.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) throw fail(key, fmt::format("must be true or false, not {}", it->dump()));
    return it->get<bool>();
  };
  auto positive = [&](const nlohmann::json& v, const std::string& key) {
    if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > kMaxImageSide)
      throw fail(key, fmt::format("must be a positive integer up to {}, not {}", kMaxImageSide, v.dump()));
    return v.get<int64_t>();
  };
  auto number = [&](const char* key, double fallback) {
    auto it = config.find(key);
    if (it == config.end() || it->is_null()) return fallback;
    if (!it->is_number()) throw fail(key, fmt::format("must be a number, not {}", it->dump()));
    return it->get<double>();
  };
  auto triple = [&](const char* key, std::array<double, 3> fallback) {
    auto it = config.find(key);
    if (it == config.end() || it->is_null()) return fallback;
    std::array<double, 3> v{};
    if (it->is_number()) v.fill(it->get<double>());
    else if (it->is_array() && it->size() == 3 && std::all_of(it->begin(), it->end(), [](const auto& e) { return e.is_number(); }))
      for (size_t c = 0; c < 3; ++c) v[c] = (*it)[c].get<double>();
    else throw fail(key, fmt::format("must be a number or 3 numbers, not {}", it->dump()));
    return v;
  };

  do_resize_ = flag("do_resize", true);
  if (auto it = config.find("size"); it != config.end() && !it->is_null()) {
    const nlohmann::json& s = *it;
    height_ = width_ = shortest_edge_ = longest_edge_ = 0;
    if (s.is_number_integer()) {
      // A bare int: a square for ViT-like processors, the short edge for the others.
      if (type_ == "ConvNextImageProcessor" || type_ == "MobileViTImageProcessor") shortest_edge_ = positive(s, "size");
      else height_ = width_ = positive(s, "size");
    } else if (s.is_object() && s.contains("height") && s.contains("width") && s.size() == 2) {
      height_ = positive(s["height"], "size.height");
      width_ = positive(s["width"], "size.width");
    } else if (s.is_object() && s.contains("shortest_edge") && (s.size() == 1 || (s.size() == 2 && s.contains("longest_edge")))) {
      shortest_edge_ = positive(s["shortest_edge"], "size.shortest_edge");
      if (s.contains("longest_edge")) {
        longest_edge_ = positive(s["longest_edge"], "size.longest_edge");
        if (longest_edge_ <= shortest_edge_) throw fail("size", "longest_edge must be larger than shortest_edge");
      }
    } else {
      throw fail("size", fmt::format("must be {{height, width}}, {{shortest_edge}} or {{shortest_edge, longest_edge}}, not {}", s.dump()));
    }
  }
  if (type_ == "ConvNextImageProcessor" && do_resize_ && shortest_edge_ == 0)
    throw fail("size", "ConvNextImageProcessor needs {shortest_edge}");
  if (auto it = config.find("resample"); it != config.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 5)
      throw fail("resample", fmt::format("{} is not a PIL filter (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming)", it->dump()));
    resample_ = static_cast<Resample>(it->get<int>());
  }
  crop_pct_ = number("crop_pct", crop_pct_);
  // ConvNext resizes the short edge to shortest_edge / crop_pct: that must be a size, not an overflow.
  if (type_ == "ConvNextImageProcessor" &&
      !(crop_pct_ > 0 && static_cast<double>(shortest_edge_) / crop_pct_ <= static_cast<double>(kMaxImageSide)))
    throw fail("crop_pct", fmt::format("must be positive and at least size.shortest_edge / {}, not {}", kMaxImageSide,
                                       crop_pct_));
  do_center_crop_ = flag("do_center_crop", do_center_crop_);
  if (auto it = config.find("crop_size"); it != config.end() && !it->is_null()) {
    const nlohmann::json& s = *it;
    if (s.is_number_integer()) crop_height_ = crop_width_ = positive(s, "crop_size");
    else if (s.is_object() && s.contains("height") && s.contains("width")) {
      crop_height_ = positive(s["height"], "crop_size.height");
      crop_width_ = positive(s["width"], "crop_size.width");
    } else throw fail("crop_size", fmt::format("must be {{height, width}} or an integer, not {}", s.dump()));
  }
  if (do_center_crop_ && crop_height_ == 0) throw fail("do_center_crop", "is true but there is no crop_size");
  do_rescale_ = flag("do_rescale", true);
  rescale_factor_ = number("rescale_factor", rescale_factor_);
  // MobileViT's processor never normalises, whatever the file says.
  if (type_ != "MobileViTImageProcessor") {
    do_normalize_ = flag("do_normalize", do_normalize_);
    mean_ = triple("image_mean", mean_);
    std_ = triple("image_std", std_);
    if (do_normalize_)
      for (double s : std_)
        if (s == 0) throw fail("image_std", "has a zero");
  }
  flip_channel_order_ = flag("do_flip_channel_order", flip_channel_order_);
}

ProcessedImage ImageProcessor::process(const io::RgbImage& input) const {
  io::RgbImage image = input;
  if (do_resize_) {
    // (height, width) after resizing, as transformers computes it.
    auto keep_aspect = [&](int64_t short_target, int64_t max_long) {
      const bool portrait = image.width <= image.height;
      const int64_t short_side = portrait ? image.width : image.height, long_side = portrait ? image.height : image.width;
      int64_t new_short = short_target;
      int64_t new_long = static_cast<int64_t>(static_cast<double>(short_target * long_side) / static_cast<double>(short_side));
      if (max_long > 0 && new_long > max_long) {
        new_short = static_cast<int64_t>(static_cast<double>(max_long * new_short) / static_cast<double>(new_long));
        new_long = max_long;
      }
      return portrait ? std::array<int64_t, 2>{new_long, new_short} : std::array<int64_t, 2>{new_short, new_long};
    };
    if (type_ == "ConvNextImageProcessor") {
      if (shortest_edge_ < 384) {
        const auto hw = keep_aspect(static_cast<int64_t>(static_cast<double>(shortest_edge_) / crop_pct_), 0);
        image = resize_like_pil(image, hw[1], hw[0], resample_);
        image = center_crop(image, shortest_edge_, shortest_edge_);
      } else {
        image = resize_like_pil(image, shortest_edge_, shortest_edge_, resample_);
      }
    } else if (shortest_edge_ > 0) {
      const auto hw = keep_aspect(shortest_edge_, longest_edge_);
      image = resize_like_pil(image, hw[1], hw[0], resample_);
    } else {
      image = resize_like_pil(image, width_, height_, resample_);
    }
  }
  if (do_center_crop_) image = center_crop(image, crop_height_, crop_width_);

  ProcessedImage out;
  out.bgr = flip_channel_order_;
  const int64_t plane = image.width * image.height;
  out.pixel_values.resize(static_cast<size_t>(plane * 3));
  // float32 arithmetic in transformers' order: uint8 * factor in double, cast
  // to float32, then (x - mean) / std in float32; the flip comes last.
  for (int c = 0; c < 3; ++c) {
    const float mean = static_cast<float>(mean_[c]), stdev = static_cast<float>(std_[c]);
    const int dst = flip_channel_order_ ? 2 - c : c;
    for (int64_t p = 0; p < plane; ++p) {
      const uint8_t u = image.pixels[static_cast<size_t>(p * 3 + c)];
      float v = do_rescale_ ? static_cast<float>(static_cast<double>(u) * rescale_factor_) : static_cast<float>(u);
      if (do_normalize_) v = (v - mean) / stdev;
      out.pixel_values[static_cast<size_t>(dst * plane + p)] = v;
    }
  }
  out.image = std::move(image);
  return out;
}

std::string ImageProcessor::describe() const {
  std::vector<std::string> steps;
  if (do_resize_) {
    if (type_ == "ConvNextImageProcessor" && shortest_edge_ < 384)
      steps.push_back(fmt::format("resize shortest edge to {} ({}), centre crop {}x{}",
                                  static_cast<int64_t>(static_cast<double>(shortest_edge_) / crop_pct_),
                                  resample_name(resample_), shortest_edge_, shortest_edge_));
    else if (type_ == "ConvNextImageProcessor")
      steps.push_back(fmt::format("resize to {}x{} ({})", shortest_edge_, shortest_edge_, resample_name(resample_)));
    else if (shortest_edge_ > 0)
      steps.push_back(fmt::format("resize shortest edge to {}{} ({})", shortest_edge_,
                                  longest_edge_ ? fmt::format(", longest at most {}", longest_edge_) : "",
                                  resample_name(resample_)));
    else
      steps.push_back(fmt::format("resize to {}x{} ({})", width_, height_, resample_name(resample_)));
  }
  if (do_center_crop_) steps.push_back(fmt::format("centre crop {}x{}", crop_width_, crop_height_));
  if (do_rescale_) steps.push_back(fmt::format("rescale by {:g}", rescale_factor_));
  if (do_normalize_) steps.push_back("normalize");
  if (flip_channel_order_) steps.push_back("flip to BGR");
  return fmt::format("{}: {}", type_, fmt::join(steps, ", "));
}

ir::Tensor pixel_values_tensor(const std::vector<ProcessedImage>& images) {
  if (images.empty()) throw std::runtime_error("pixel_values: no images");
  const int64_t h = images[0].image.height, w = images[0].image.width;
  ir::Tensor t = ir::Tensor::zeros(ir::DType::F32, {static_cast<int64_t>(images.size()), 3, h, w});
  float* dst = t.mutable_as<float>();
  for (size_t b = 0; b < images.size(); ++b) {
    if (images[b].image.height != h || images[b].image.width != w)
      throw std::runtime_error(fmt::format("pixel_values: image {} is {}x{} after processing, image 0 is {}x{}", b,
                                           images[b].image.width, images[b].image.height, w, h));
    std::copy(images[b].pixel_values.begin(), images[b].pixel_values.end(), dst + b * 3 * h * w);
  }
  return t;
}

}  // namespace exporters::exporting
