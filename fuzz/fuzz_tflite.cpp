// .tflite: the flatbuffer verifier, decoding (buffers, tensors, operators,
// signatures, metadata) and raising every operator to IR, plus the
// `exporters inspect` summary of the same file.
#include <exception>

#include "core/backends/tflite/tflite.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exporters;
  try {
    (void)tflite::read_tflite_bytes(data, size, "input.tflite");
  } catch (const std::runtime_error&) {
  }
  const auto file = fuzz::scratch_dir() / "input.tflite";
  fuzz::write_file(file, {reinterpret_cast<const char*>(data), size});
  try {
    (void)tflite::format_summary(tflite::summarize_tflite(file));
  } catch (const std::runtime_error&) {
  }
  return 0;
}
