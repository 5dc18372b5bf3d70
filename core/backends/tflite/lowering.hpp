// IR -> TFLite lowering context shared by the emitter files. Each IR op is
// one row (op name -> emitter) of the table in lower.cpp; emitters build
// TFLite tensors/ops through this context. i64 values are carried as i32
// inside the model (TFLite kernels mostly lack int64); only graph inputs and
// outputs keep i64 at the interface, with a CAST next to them.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <unordered_map>

#include "exporters/ir/ops.hpp"
#include "model.hpp"
#include "tflite_subset_generated.h"

namespace exporters::tflite {

// fb:: is the generated schema namespace exporters::tflite::fb itself (an
// alias of the same name is an error for clang).

using Dims = std::vector<int64_t>;

// Internal TFLite type used for an IR dtype (i64 -> i32).
TflType internal_type(ir::DType dtype);
// Row-major transpose of any tensor (owned result).
ir::Tensor permute_tensor(const ir::Tensor& t, const std::vector<int64_t>& perm);
std::vector<int64_t> inverse_perm(const std::vector<int64_t>& perm);

class Lowering {
 public:
  explicit Lowering(TflModel& model) : m(model) {}

  TflModel& m;
  std::unordered_map<const ir::Value*, int32_t> tensor_of;
  const ir::Node* node = nullptr;  // node being lowered (names new tensors)
  int counter = 0;

  // Tensor of an IR value (-1 for nullptr = absent optional input).
  int32_t value(const ir::Value* v) const;
  void bind(const ir::Value* v, int32_t tensor) { tensor_of[v] = tensor; }

  const TflTensor& t(int32_t i) const { return m.tensors.at(i); }
  const Dims& shape(int32_t i) const { return m.tensors.at(i).shape; }
  TflType type(int32_t i) const { return m.tensors.at(i).type; }
  int64_t rank(int32_t i) const { return static_cast<int64_t>(shape(i).size()); }

  std::string fresh_name(const std::string& hint);
  int32_t new_tensor(TflType type, Dims shape, const std::string& hint = "t");
  // Constant tensor; i64 data is narrowed to i32 (values clamped to int32).
  int32_t constant(const ir::Tensor& data, const std::string& hint = "const");
  int32_t const_i32(const std::vector<int64_t>& values, bool scalar = false);
  int32_t const_scalar(TflType type, double value);  // rank-0 f32/f16/i32/bool

  // Appends an op with one new output of `type`/`shape`; returns its tensor.
  int32_t emit(int32_t code, std::vector<int32_t> inputs, TflType type, Dims shape, ir::Attrs options = {},
               int32_t version = 1);
  void emit_into(int32_t code, std::vector<int32_t> inputs, std::vector<int32_t> outputs, ir::Attrs options = {},
                 int32_t version = 1);

  // Common building blocks (output type = input type).
  int32_t unary(int32_t code, int32_t x, ir::Attrs options = {});
  int32_t binary(int32_t code, int32_t a, int32_t b, ir::Attrs options = {});
  int32_t compare(int32_t code, int32_t a, int32_t b);
  int32_t transpose(int32_t x, const std::vector<int64_t>& perm);
  int32_t reshape(int32_t x, const Dims& shape);
  int32_t reduce(int32_t code, int32_t x, const std::vector<int64_t>& axes, bool keep);
  int32_t cast(int32_t x, TflType to);

  [[noreturn]] void fail(const std::string& why) const;
};

Dims broadcast_dims(const Dims& a, const Dims& b);

}  // namespace exporters::tflite
