#include "core/io/png.hpp"

#include <png.h>

#include <fmt/format.h>

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace exporters::io {

namespace {

// libpng reports errors through a callback that must not return; it copies
// the message here and long-jumps back to decode_png_rgb.
struct ReadState {
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t pos = 0;
  char error[256] = {0};
};

void on_error(png_structp png, png_const_charp message) {
  auto* state = static_cast<ReadState*>(png_get_error_ptr(png));
  std::snprintf(state->error, sizeof state->error, "%s", message ? message : "unknown libpng error");
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}  // ancillary-chunk trouble: Pillow ignores it too

void on_read(png_structp png, png_bytep out, size_t n) {
  auto* state = static_cast<ReadState*>(png_get_io_ptr(png));
  if (state->size - state->pos < n) png_error(png, "unexpected end of file (truncated)");
  std::memcpy(out, state->data + state->pos, n);
  state->pos += n;
}

// Frees the libpng structures on every way out, including the long jump.
struct ReadStructs {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~ReadStructs() {
    if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
  }
};

constexpr png_uint_32 kMaxSide = 1u << 15;
constexpr uint64_t kMaxDeflateRatio = 1040;  // deflate's ~1032:1 plus block headers

}  // namespace

RgbImage decode_png_rgb(const uint8_t* data, size_t size, const std::string& name, PngInfo* info_out) {
  if (size < 8 || png_sig_cmp(data, 0, 8) != 0)
    throw std::runtime_error(fmt::format("{}: not a PNG file (no PNG signature)", name));
  ReadState state;
  state.data = data;
  state.size = size;
  // Everything the long jump may come back to is constructed before setjmp.
  ReadStructs s;
  std::vector<uint8_t> raw;
  std::vector<png_bytep> rows;
  png_uint_32 width = 0, height = 0;
  int depth = 0, color = 0, interlace = 0;
  png_colorp palette = nullptr;
  int palette_size = 0;

  s.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, on_error, on_warning);
  if (!s.png) throw std::runtime_error(fmt::format("{}: cannot start the PNG decoder", name));
  s.info = png_create_info_struct(s.png);
  if (!s.info) throw std::runtime_error(fmt::format("{}: cannot start the PNG decoder", name));
  if (setjmp(png_jmpbuf(s.png)))
    throw std::runtime_error(fmt::format("{}: corrupt or truncated PNG: {}", name, state.error));

  png_set_read_fn(s.png, &state, on_read);
  png_set_user_limits(s.png, kMaxSide, kMaxSide);
  png_read_info(s.png, s.info);
  png_get_IHDR(s.png, s.info, &width, &height, &depth, &color, &interlace, nullptr, nullptr);
  if (depth < 8) png_set_packing(s.png);  // one byte per sample, values unscaled
  if (interlace != PNG_INTERLACE_NONE) png_set_interlace_handling(s.png);
  png_read_update_info(s.png, s.info);
  const size_t row_bytes = png_get_rowbytes(s.png, s.info);
  const int channels = png_get_channels(s.png, s.info);
  if (color == PNG_COLOR_TYPE_PALETTE && !png_get_PLTE(s.png, s.info, &palette, &palette_size))
    png_error(s.png, "palette image without a PLTE chunk");
  // The pixels come from the IDAT chunks still ahead, deflated (at most
  // ~1032:1): a header declaring more than those bytes can give is
  // rejected before the buffer is allocated.
  const uint64_t needed = (uint64_t{row_bytes} + 1) * height;  // + the filter byte of each row
  if (needed / kMaxDeflateRatio > state.size - state.pos)
    throw std::runtime_error(fmt::format("{}: corrupt or truncated PNG: a {}x{} image needs {} bytes of pixel data, "
                                         "more than the {} bytes left in the file can hold",
                                         name, width, height, needed, state.size - state.pos));
  raw.resize(row_bytes * height);
  rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = raw.data() + y * row_bytes;
  png_read_image(s.png, rows.data());
  png_read_end(s.png, nullptr);

  if (info_out) *info_out = {depth, color, interlace != PNG_INTERLACE_NONE};
  RgbImage image;
  image.width = width;
  image.height = height;
  image.pixels.resize(static_cast<size_t>(width) * height * 3);
  const int sample_bytes = depth == 16 ? 2 : 1;
  // The 8-bit value of sample k of a row (see the header for the rules).
  auto sample = [&](const uint8_t* row, size_t k) -> unsigned {
    if (sample_bytes == 2) {
      if (color == PNG_COLOR_TYPE_GRAY) return std::min(255u, unsigned(row[2 * k]) << 8 | row[2 * k + 1]);
      return row[2 * k];
    }
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) return row[k] * (255u / ((1u << depth) - 1u));
    return row[k];
  };
  for (png_uint_32 y = 0; y < height; ++y) {
    const uint8_t* row = rows[y];
    uint8_t* out = image.pixels.data() + static_cast<size_t>(y) * width * 3;
    for (png_uint_32 x = 0; x < width; ++x, out += 3) {
      const size_t k = static_cast<size_t>(x) * channels;
      switch (color) {
        case PNG_COLOR_TYPE_GRAY:
        case PNG_COLOR_TYPE_GRAY_ALPHA:
          out[0] = out[1] = out[2] = static_cast<uint8_t>(sample(row, k));
          break;
        case PNG_COLOR_TYPE_PALETTE: {
          const unsigned index = row[k];
          if (static_cast<int>(index) >= palette_size)
            throw std::runtime_error(fmt::format("{}: corrupt PNG: palette index {} at ({}, {}), the palette has {} colours",
                                                 name, index, x, y, palette_size));
          out[0] = palette[index].red;
          out[1] = palette[index].green;
          out[2] = palette[index].blue;
          break;
        }
        default:  // RGB, RGBA: alpha dropped
          for (int c = 0; c < 3; ++c) out[c] = static_cast<uint8_t>(sample(row, k + c));
      }
    }
  }
  return image;
}

RgbImage read_png_rgb(const std::filesystem::path& file, PngInfo* info) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open the file", file.string()));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error(fmt::format("{}: read error", file.string()));
  return decode_png_rgb(bytes.data(), bytes.size(), file.string(), info);
}

}  // namespace exporters::io
