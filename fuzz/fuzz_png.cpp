// PNG: any colour type / depth / interlace, truncation, declared sizes.
#include <exception>

#include "core/io/png.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exporters;
  try {
    const io::RgbImage image = io::decode_png_rgb(data, size, "input.png");
    if (image.pixels.size() != static_cast<size_t>(image.width * image.height * 3)) __builtin_trap();
    fuzz::touch(image.pixels.data(), image.pixels.size());
  } catch (const std::runtime_error&) {
  }
  return 0;
}
