// TFLite backend: writes an IR graph as a .tflite flatbuffer (builtin ops
// only) and reads .tflite files back into IR for inspection and validation.
// The generated flatbuffer code stays inside this folder's .cpp files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "exporters/ir/graph.hpp"

namespace exporters::io {
class StagedOutput;  // core/io/staged_output.hpp
}

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

// One input or output as the tflite-support metadata describes it.
struct TensorDescription {
  std::string description;
  bool image = false;             // ImageProperties content, else FeatureProperties
  std::string color_space;        // image: "RGB", "GRAYSCALE" or "" (not expressible, e.g. BGR)
  // NormalizationOptions: the caller feeds (x - mean[c]) / std[c], x the raw
  // value (pixels 0..255); empty when the tensor takes its values as they are.
  std::vector<float> mean, std;
};

// The tflite-support ModelMetadata flatbuffer (file identifier "M001") the
// writer stores in the Model.metadata entry named "TFLITE_METADATA".
inline constexpr const char* kTfliteMetadataName = "TFLITE_METADATA";
struct ModelDescription {
  std::string name, description, version, author, license;
  std::string min_parser_version;  // reader only; the writer sets "1.0.0"
  // In the subgraph's input / output order (reader); the writer takes them by name.
  std::vector<std::pair<std::string, TensorDescription>> inputs, outputs;
};

struct TfliteOptions {
  Quantization quantize = Quantization::Float32;
  std::string description;                      // Model.description and ModelMetadata.description
  std::map<std::string, std::string> metadata;  // Model.metadata entries (e.g. labels, normalization)
  std::string signature_key = "serving_default";
  // ModelMetadata: model name, version, author, license, and per input /
  // output (by signature name) its description and preprocessing. Tensors
  // without an entry get a description made from their name, type and shape.
  std::string name, version, author, license;
  std::map<std::string, TensorDescription> inputs, outputs;
};

// Lowers `graph` (NCHW, PyTorch semantics) to TFLite builtin ops and writes
// it atomically to `out` (temporary sibling, then rename). Graph metadata is
// written too, `options.metadata` taking precedence.
void write_tflite(const ir::Graph& graph, const TfliteOptions& options,
                  const std::filesystem::path& out);
// Writes into `staged.path()` without placing the file.
void write_tflite(const ir::Graph& graph, const TfliteOptions& options, io::StagedOutput& staged);
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
  std::optional<TensorDescription> metadata;  // from TFLITE_METADATA, if the file has it
};
struct TfliteSummary {
  uint32_t schema_version = 0;
  std::string description;
  std::vector<TfliteTensorInfo> inputs, outputs;
  std::map<std::string, int> op_histogram;             // builtin name -> count (subgraph 0)
  std::map<std::string, std::string> metadata;         // name -> value (printable) or "<N bytes>"
  std::optional<ModelDescription> model_metadata;      // TFLITE_METADATA, decoded
  std::vector<std::string> signature_keys;
  size_t subgraphs = 0, operators = 0, tensors = 0, buffers = 0;
  size_t buffer_bytes = 0;                             // total constant data
  size_t file_bytes = 0;
};
TfliteSummary summarize_tflite(const std::filesystem::path& path);
std::string format_summary(const TfliteSummary& summary);

// Decodes a TFLITE_METADATA buffer (verified, identifier "M001"); throws
// TfliteError naming `what` when it is malformed.
ModelDescription decode_model_metadata(const std::string& bytes, const std::string& what);

}  // namespace exporters::tflite
