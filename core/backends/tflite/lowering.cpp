// The lowering context: tensor/op construction helpers used by every emitter.
#include "lowering.hpp"

#include "exporters/ir/ops.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace exporters::tflite {

TflType internal_type(ir::DType dtype) {
  return dtype == ir::DType::I64 ? TflType::I32 : tfl_type_of(dtype);
}

std::vector<int64_t> inverse_perm(const std::vector<int64_t>& perm) {
  std::vector<int64_t> inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inv[perm[i]] = static_cast<int64_t>(i);
  return inv;
}

ir::Tensor permute_tensor(const ir::Tensor& t, const std::vector<int64_t>& perm) {
  const auto& in = t.shape();
  const size_t r = in.size();
  ir::Shape out(r);
  for (size_t i = 0; i < r; ++i) out[i] = in[perm[i]];
  ir::Tensor res = ir::Tensor::zeros(t.dtype(), out);
  const size_t eb = ir::dtype_size(t.dtype());
  std::vector<int64_t> in_strides(r, 1);
  for (size_t i = r; i-- > 1;) in_strides[i - 1] = in_strides[i] * in[i];
  std::vector<int64_t> idx(r, 0);
  const auto* src = static_cast<const uint8_t*>(t.data());
  auto* dst = static_cast<uint8_t*>(res.mutable_data());
  const int64_t n = t.numel();
  for (int64_t k = 0; k < n; ++k) {
    int64_t off = 0;
    for (size_t i = 0; i < r; ++i) off += idx[i] * in_strides[perm[i]];
    std::memcpy(dst + k * eb, src + off * eb, eb);
    for (size_t i = r; i-- > 0;) {
      if (++idx[i] < out[i]) break;
      idx[i] = 0;
    }
  }
  return res;
}

Dims broadcast_dims(const Dims& a, const Dims& b) { return ir::broadcast_shapes(a, b); }

int32_t Lowering::value(const ir::Value* v) const {
  if (!v) return -1;
  auto it = tensor_of.find(v);
  if (it == tensor_of.end()) fail(fmt::format("value %{} is used before it is defined", v->id));
  return it->second;
}

std::string Lowering::fresh_name(const std::string& hint) {
  std::string base = node && !node->outputs.empty() && !node->outputs[0]->name.empty()
                         ? node->outputs[0]->name
                         : (node && node->outputs.size() ? fmt::format("%{}", node->outputs[0]->id) : "");
  return fmt::format("{}{}{}_{}", base, base.empty() ? "" : "/", hint, counter++);
}

int32_t Lowering::new_tensor(TflType type, Dims shape, const std::string& hint) {
  TflTensor t;
  t.name = fresh_name(hint);
  t.type = type;
  t.shape = std::move(shape);
  return m.add_tensor(std::move(t));
}

int32_t Lowering::constant(const ir::Tensor& data, const std::string& hint) {
  TflTensor t;
  t.name = fresh_name(hint);
  if (data.dtype() == ir::DType::I64) {
    ir::Tensor narrow = ir::Tensor::zeros(ir::DType::I32, data.shape());
    auto* d = narrow.mutable_as<int32_t>();
    const auto* s = data.data_as<int64_t>();
    for (int64_t i = 0; i < data.numel(); ++i)
      d[i] = static_cast<int32_t>(std::clamp<int64_t>(s[i], std::numeric_limits<int32_t>::min(),
                                                       std::numeric_limits<int32_t>::max()));
    t.data = std::move(narrow);
    t.type = TflType::I32;
  } else {
    t.data = data;
    t.type = tfl_type_of(data.dtype());
  }
  t.shape = data.shape();
  return m.add_tensor(std::move(t));
}

int32_t Lowering::const_i32(const std::vector<int64_t>& values, bool scalar) {
  ir::Tensor d = ir::Tensor::zeros(ir::DType::I32, scalar ? ir::Shape{} : ir::Shape{int64_t(values.size())});
  for (size_t i = 0; i < values.size(); ++i) d.mutable_as<int32_t>()[i] = static_cast<int32_t>(values[i]);
  return constant(d, "const");
}

int32_t Lowering::const_scalar(TflType type, double value) {
  switch (type) {
    case TflType::F32: return constant(ir::Tensor::scalar_f32(static_cast<float>(value)));
    case TflType::F16: {
      ir::Tensor d = ir::Tensor::zeros(ir::DType::F16, {});
      d.mutable_as<uint16_t>()[0] = ir::float_to_half(static_cast<float>(value));
      return constant(d);
    }
    case TflType::I32: return const_i32({static_cast<int64_t>(value)}, true);
    case TflType::Bool: {
      ir::Tensor d = ir::Tensor::zeros(ir::DType::Bool, {});
      d.mutable_as<uint8_t>()[0] = value != 0;
      return constant(d);
    }
    case TflType::I8: case TflType::U8: {
      auto dt = *ir_dtype_of(type);
      ir::Tensor d = ir::Tensor::zeros(dt, {});
      if (dt == ir::DType::I8) d.mutable_as<int8_t>()[0] = static_cast<int8_t>(value);
      else d.mutable_as<uint8_t>()[0] = static_cast<uint8_t>(value);
      return constant(d);
    }
    default: fail(fmt::format("no scalar constant of type {}", tfl_type_name(static_cast<int8_t>(type))));
  }
}

int32_t Lowering::emit(int32_t code, std::vector<int32_t> inputs, TflType type, Dims shape, ir::Attrs options,
                       int32_t version) {
  int32_t out = new_tensor(type, std::move(shape), builtin_name(code));
  emit_into(code, std::move(inputs), {out}, std::move(options), version);
  return out;
}

void Lowering::emit_into(int32_t code, std::vector<int32_t> inputs, std::vector<int32_t> outputs, ir::Attrs options,
                         int32_t version) {
  TflOp op;
  op.code = code;
  op.version = version;
  op.inputs = std::move(inputs);
  op.outputs = std::move(outputs);
  op.options = std::move(options);
  m.ops.push_back(std::move(op));
}

int32_t Lowering::unary(int32_t code, int32_t x, ir::Attrs options) {
  return emit(code, {x}, type(x), shape(x), std::move(options));
}

int32_t Lowering::binary(int32_t code, int32_t a, int32_t b, ir::Attrs options) {
  return emit(code, {a, b}, type(a), broadcast_dims(shape(a), shape(b)), std::move(options));
}

int32_t Lowering::compare(int32_t code, int32_t a, int32_t b) {
  return emit(code, {a, b}, TflType::Bool, broadcast_dims(shape(a), shape(b)));
}

int32_t Lowering::transpose(int32_t x, const std::vector<int64_t>& perm) {
  Dims out(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) out[i] = shape(x)[perm[i]];
  return emit(fb::BuiltinOperator_TRANSPOSE, {x, const_i32(perm)}, type(x), out);
}

int32_t Lowering::reshape(int32_t x, const Dims& s) {
  if (s == shape(x)) return x;
  return emit(fb::BuiltinOperator_RESHAPE, {x, const_i32(s)}, type(x), s);
}

int32_t Lowering::reduce(int32_t code, int32_t x, const std::vector<int64_t>& axes, bool keep) {
  Dims out;
  for (int64_t i = 0; i < rank(x); ++i) {
    bool r = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (!r) out.push_back(shape(x)[i]);
    else if (keep) out.push_back(1);
  }
  ir::Attrs o;
  o.set("keep_dims", int64_t(keep));
  return emit(code, {x, const_i32(axes)}, type(x), out, o);
}

int32_t Lowering::cast(int32_t x, TflType to) {
  if (type(x) == to) return x;
  ir::Attrs o;
  o.set("in_data_type", int64_t(type(x)));
  o.set("out_data_type", int64_t(to));
  return emit(fb::BuiltinOperator_CAST, {x}, to, shape(x), o);
}

void Lowering::fail(const std::string& why) const {
  std::string where = node ? fmt::format("op '{}'{}", node->op, node->name.empty() ? "" : " (" + node->name + ")")
                           : std::string("graph");
  throw TfliteError(fmt::format("tflite writer: {}: {}", where, why));
}

}  // namespace exporters::tflite
