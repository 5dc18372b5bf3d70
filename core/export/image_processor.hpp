// The Hugging Face image processors of the vision families, emulated from
// preprocessor_config.json (as transformers 4.36 runs them on a PIL image):
// resize with Pillow's filters, centre crop, rescale, normalise, flip the
// channel order. Validation feeds the processed uint8 image to an exported
// image input and the float pixel_values to LibTorch, as an app and the HF
// pipeline would.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io/png.hpp"
#include "exporters/ir/tensor.hpp"

namespace exporters::exporting {

// PIL's resampling filter numbers (Image.Resampling), as `resample` stores them.
enum class Resample : int { Nearest = 0, Lanczos = 1, Bilinear = 2, Bicubic = 3, Box = 4, Hamming = 5 };

// Image.resize((width, height), resample) of Pillow on an RGB image,
// bit-exact: nearest takes the source pixel under each output pixel's
// centre; the other filters are a separable convolution (horizontal pass
// first) whose support grows by the downscaling factor, with 22-bit
// fixed-point weights and rounding to uint8 after each pass.
io::RgbImage resize_like_pil(const io::RgbImage& image, int64_t width, int64_t height, Resample filter);

// transformers' center_crop: top = (H - h) // 2, left = (W - w) // 2; a crop
// larger than the image pads it with zeros around the centre first.
io::RgbImage center_crop(const io::RgbImage& image, int64_t height, int64_t width);

struct ProcessedImage {
  io::RgbImage image;               // after resize and crop: what a Core ML image input receives
  std::vector<float> pixel_values;  // [3, H, W] in the model's channel order: what the model receives
  bool bgr = false;                 // channels of pixel_values are B, G, R
};

class ImageProcessor {
 public:
  // Reads preprocessor_config.json's contents; `file` names it in errors.
  // Throws std::runtime_error naming the file and key on an unknown
  // image_processor_type, an unsupported option or a malformed value.
  ImageProcessor(const nlohmann::json& config, const std::filesystem::path& file);

  ProcessedImage process(const io::RgbImage& image) const;

  // "ConvNextImageProcessor: resize shortest edge 73 (bilinear), centre crop 64x64, rescale, normalize"
  std::string describe() const;
  const std::string& type() const { return type_; }

 private:
  std::string type_;
  std::filesystem::path file_;
  bool do_resize_ = true;
  int64_t height_ = 0, width_ = 0;    // size {height, width}
  int64_t shortest_edge_ = 0;         // size {shortest_edge}
  int64_t longest_edge_ = 0;          // size {shortest_edge, longest_edge}
  double crop_pct_ = 224.0 / 256.0;   // ConvNext
  Resample resample_ = Resample::Bilinear;
  bool do_center_crop_ = false;
  int64_t crop_height_ = 0, crop_width_ = 0;
  bool do_rescale_ = true;
  double rescale_factor_ = 1.0 / 255.0;
  bool do_normalize_ = false;
  std::array<double, 3> mean_{0, 0, 0}, std_{1, 1, 1};
  bool flip_channel_order_ = false;
};

// Stacks processed images into [B, 3, H, W] pixel_values (float32); throws
// when their sizes differ.
ir::Tensor pixel_values_tensor(const std::vector<ProcessedImage>& images);

}  // namespace exporters::exporting
