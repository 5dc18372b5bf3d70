// The in-memory TFLite model the writer builds and the reader parses: one
// subgraph of tensors and builtin operators whose options are kept as IR
// attributes (one row per builtin in builtin_table.cpp turns them into the
// flatbuffer options table and back). Internal to the backend.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <flatbuffers/flatbuffers.h>

#include "exporters/ir/graph.hpp"
#include "tflite.hpp"

namespace exporters::tflite {

// TFLite TensorType values (schema enum, not the C API's TfLiteType).
enum class TflType : int8_t {
  F32 = 0, F16 = 1, I32 = 2, U8 = 3, I64 = 4, String = 5, Bool = 6, I16 = 7,
  I8 = 9, F64 = 10,
};
std::string tfl_type_name(int8_t type);
std::optional<ir::DType> ir_dtype_of(TflType type);
TflType tfl_type_of(ir::DType dtype);

struct TflQuant {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
  bool empty() const { return scale.empty(); }
};

struct TflTensor {
  std::string name;
  TflType type = TflType::F32;
  std::vector<int64_t> shape;
  std::optional<ir::Tensor> data;  // constant contents (raw bytes, row-major)
  // Float16 weights keep their float32 `data`; the encoder writes them as
  // halves straight into the flatbuffer (no full-size fp16 copy in memory).
  bool f16_from_f32 = false;
  TflQuant quant;
  bool is_const() const { return data.has_value(); }
  size_t stored_bytes() const {
    return !data ? 0 : f16_from_f32 ? static_cast<size_t>(data->numel()) * 2 : data->nbytes();
  }
};

struct TflOp {
  int32_t code = 0;       // BuiltinOperator
  int32_t version = 1;
  std::vector<int32_t> inputs;   // -1 = omitted optional input
  std::vector<int32_t> outputs;
  ir::Attrs options;      // fields of the options table, by schema field name
};

struct TflSignature {
  std::string key;
  std::vector<std::pair<std::string, int32_t>> inputs, outputs;  // alias -> tensor index
};

struct TflModel {
  std::vector<TflTensor> tensors;
  std::vector<TflOp> ops;
  std::vector<int32_t> inputs, outputs;
  std::string description;
  std::vector<std::pair<std::string, std::string>> metadata;  // name -> bytes
  std::vector<TflSignature> signatures;
  uint32_t version = 3;
  size_t buffer_bytes = 0;  // reader: constant bytes seen
  size_t buffers = 0;       // reader: buffer count

  int32_t add_tensor(TflTensor t) {
    tensors.push_back(std::move(t));
    return static_cast<int32_t>(tensors.size() - 1);
  }
};

// Flatbuffer (de)serialisation, in flatbuffer_io.cpp.
std::vector<uint8_t> encode_model(const TflModel& model);
// The same, as the builder's own buffer (written to a file without a copy).
flatbuffers::DetachedBuffer encode_model_buffer(const TflModel& model);
// Verifies the buffer (flatbuffers::Verifier plus index checks) and parses
// subgraph 0. Constant tensors borrow from `keepalive`'s bytes.
TflModel decode_model(const uint8_t* data, size_t size, const std::string& what,
                      std::shared_ptr<const void> keepalive);

// The TFLITE_METADATA buffer (ModelMetadata) for a built model, in
// metadata.cpp: tensor metadata in the subgraph's input / output order.
std::string encode_model_metadata(const TflModel& model, const TfliteOptions& options);

// Builtin op table, in builtin_table.cpp.
const char* builtin_name(int32_t code);

// Passes over the TFLite model, in layout.cpp and quantize.cpp.
void optimize_transposes(TflModel& model);
void quantize_weights(TflModel& model, Quantization q);
size_t count_ops(const TflModel& model, int32_t code);
void compact_tensors(TflModel& model);  // drops tensors no op or I/O refers to
// Lowered model before serialisation (tests inspect it).
TflModel build_model(const ir::Graph& graph, const TfliteOptions& options);
std::vector<std::string> lowered_ops();

// IR -> TFLite (lower.cpp) and back (raise.cpp).
TflModel lower_graph(const ir::Graph& graph);
ir::Graph raise_model(const TflModel& model, const std::string& what);

}  // namespace exporters::tflite
