// Legacy .mlmodel: the Model protobuf with a NeuralNetwork (classifier) and
// its layers' weights, read to IR and summarised.
#include <exception>

#include "core/backends/coreml/neuralnetwork/nn_model.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exporters;
  const auto file = fuzz::scratch_dir() / "input.mlmodel";
  fuzz::write_file(file, {reinterpret_cast<const char*>(data), size});
  try {
    (void)coreml::read_mlmodel(file);
  } catch (const std::runtime_error&) {
  }
  try {
    (void)coreml::format_summary(coreml::summarize_mlmodel(file));
  } catch (const std::runtime_error&) {
  }
  return 0;
}
