// PNG files decoded to 8-bit RGB the way Pillow's Image.open(...).convert("RGB")
// sees them, so image preprocessing here starts from the same pixels as the
// Hugging Face image processors: alpha dropped (not composited), gray
// replicated, palettes expanded (tRNS ignored), 1/2/4-bit gray scaled to
// 0..255, 16-bit colour and gray+alpha samples cut to their high byte, and
// 16-bit gray clipped to 255 (Pillow opens it as a 32-bit integer image and
// saturates on conversion). No gamma or colour-profile conversion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace exporters::io {

// An 8-bit RGB image, rows top to bottom, pixels interleaved (HWC).
struct RgbImage {
  int64_t width = 0;
  int64_t height = 0;
  std::vector<uint8_t> pixels;  // height * width * 3

  uint8_t at(int64_t y, int64_t x, int c) const { return pixels[static_cast<size_t>((y * width + x) * 3 + c)]; }
};

// What the file held before conversion (for reports and tests).
struct PngInfo {
  int bit_depth = 0;   // 1, 2, 4, 8 or 16
  int color_type = 0;  // PNG colour type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
  bool interlaced = false;
};

// Decodes a PNG file. Throws std::runtime_error naming the file on a file
// that cannot be read, is not a PNG, or is corrupt or truncated.
RgbImage read_png_rgb(const std::filesystem::path& file, PngInfo* info = nullptr);

// The same for PNG bytes in memory; `name` is used in error messages.
RgbImage decode_png_rgb(const uint8_t* data, size_t size, const std::string& name, PngInfo* info = nullptr);

}  // namespace exporters::io
