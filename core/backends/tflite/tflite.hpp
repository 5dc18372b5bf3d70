// TFLite backend: writes an IR graph as a .tflite flatbuffer (builtin ops
// only) and reads .tflite files back into IR for inspection and validation.
// The generated flatbuffer code stays inside this folder's .cpp files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "exporters/ir/graph.hpp"

namespace exporters::tflite {

// Every failure of this backend (unsupported op, malformed file, bad option).
class TfliteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Quantization {
  Float32,      // weights as written
  Float16,      // float weights stored as fp16, DEQUANTIZE ops widen them
  DynamicInt8,  // FULLY_CONNECTED / CONV_2D weights int8 per output channel
};

// "float32" | "float16" | "dynamic-int8"; throws TfliteError naming the value.
Quantization quantization_from_name(const std::string& name);
std::string quantization_name(Quantization q);

struct TfliteOptions {
  Quantization quantize = Quantization::Float32;
  std::string description;                      // Model.description
  std::map<std::string, std::string> metadata;  // Model.metadata entries (e.g. labels, normalization)
  std::string signature_key = "serving_default";
};

// Lowers `graph` (NCHW, PyTorch semantics) to TFLite builtin ops and writes
// it atomically to `out` (temporary sibling, then rename). Graph metadata is
// written too, `options.metadata` taking precedence.
void write_tflite(const ir::Graph& graph, const TfliteOptions& options,
                  const std::filesystem::path& out);
// Same, in memory.
std::vector<uint8_t> serialize_tflite(const ir::Graph& graph, const TfliteOptions& options);

// Reads subgraph 0 of a .tflite file into IR (NHWC ops become NCHW IR ops
// between transposes; constant int8/fp16 weights are dequantised to f32).
// Throws TfliteError naming the file and the op or defect.
ir::Graph read_tflite(const std::filesystem::path& path);
ir::Graph read_tflite_bytes(const uint8_t* data, size_t size, const std::string& what = "<memory>");

// What `exporters inspect` shows.
struct TfliteTensorInfo {
  std::string name;       // signature alias when there is one, else tensor name
  std::string tensor_name;
  std::string type;       // FLOAT32, INT8, ...
  std::vector<int64_t> shape;
  std::vector<float> scales;          // quantisation, empty if none
  std::vector<int64_t> zero_points;
};
struct TfliteSummary {
  uint32_t schema_version = 0;
  std::string description;
  std::vector<TfliteTensorInfo> inputs, outputs;
  std::map<std::string, int> op_histogram;             // builtin name -> count (subgraph 0)
  std::map<std::string, std::string> metadata;         // name -> value (printable) or "<N bytes>"
  std::vector<std::string> signature_keys;
  size_t subgraphs = 0, operators = 0, tensors = 0, buffers = 0;
  size_t buffer_bytes = 0;                             // total constant data
  size_t file_bytes = 0;
};
TfliteSummary summarize_tflite(const std::filesystem::path& path);
std::string format_summary(const TfliteSummary& summary);

}  // namespace exporters::tflite
