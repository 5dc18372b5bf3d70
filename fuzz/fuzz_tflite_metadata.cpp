// TFLITE_METADATA: the ModelMetadata flatbuffer (identifier M001).
#include <exception>

#include "core/backends/tflite/tflite.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exporters;
  try {
    (void)tflite::decode_model_metadata(std::string(reinterpret_cast<const char*>(data), size), "metadata");
  } catch (const std::runtime_error&) {
  }
  return 0;
}
