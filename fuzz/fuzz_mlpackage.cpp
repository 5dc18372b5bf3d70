// .mlpackage: the input is three files separated by "\n--8<--\n" lines —
// Manifest.json, the ML Program protobuf and weights/weight.bin — written
// into a package folder, then read to IR and summarised.
#include <exception>

#include "core/backends/coreml/coreml.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exporters;
  const auto parts = fuzz::split_parts(data, size, 3);
  const auto package = fuzz::scratch_dir() / "input.mlpackage";
  std::error_code ec;
  std::filesystem::remove_all(package, ec);
  fuzz::write_file(package / "Manifest.json", parts[0]);
  // Where the project's writer puts them; a manifest pointing elsewhere finds nothing.
  const auto model_dir = package / "Data" / "com.apple.CoreML";
  fuzz::write_file(model_dir / "model.mlmodel", parts[1]);
  fuzz::write_file(model_dir / "weights" / "weight.bin", parts[2]);
  try {
    (void)coreml::read_mlpackage(package);
  } catch (const std::runtime_error&) {
  }
  try {
    (void)coreml::format_summary(coreml::summarize_mlpackage(package));
  } catch (const std::runtime_error&) {
  }
  return 0;
}
