// config.json and preprocessor_config.json of a model folder (input: the
// two files separated by a "\n--8<--\n" line), read as the export reads
// them, then the image processor built from the second and run on a small
// image.
#include <exception>

#include "core/export/image_processor.hpp"
#include "core/export/model_source.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exporters;
  const auto parts = fuzz::split_parts(data, size, 2);
  const auto dir = fuzz::scratch_dir() / "model";
  fuzz::write_file(dir / "model.pt", "");
  fuzz::write_file(dir / "config.json", parts[0]);
  fuzz::write_file(dir / "preprocessor_config.json", parts[1]);
  exporting::ModelSource source;
  try {
    source = exporting::open_model_source(dir);
  } catch (const std::runtime_error&) {
    return 0;
  }
  try {
    const exporting::ImageProcessor processor(source.preprocessor, dir / "preprocessor_config.json");
    (void)processor.describe();
    io::RgbImage image{7, 5, std::vector<uint8_t>(7 * 5 * 3)};
    for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(i * 37);
    const exporting::ProcessedImage out = processor.process(image);
    fuzz::touch(out.pixel_values.data(), out.pixel_values.size() * sizeof(float));
  } catch (const std::runtime_error&) {
  }
  return 0;
}
