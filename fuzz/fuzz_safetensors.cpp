// safetensors: header JSON, dtypes, shapes and data_offsets against the file.
#include <exception>

#include "core/io/safetensors.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exporters;
  const auto file = fuzz::scratch_dir() / "input.safetensors";
  fuzz::write_file(file, {reinterpret_cast<const char*>(data), size});
  try {
    const io::SafetensorsFile f = io::read_safetensors_file(file);
    for (const auto& [name, t] : f.tensors) fuzz::touch(t.data(), t.nbytes());
  } catch (const std::runtime_error&) {
  }
  return 0;
}
