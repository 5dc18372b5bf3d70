// PyTorch type promotion and shared operand helpers for the op converters.
#include "promotion.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

#include <fmt/format.h>

#include "exporters/ir/ops.hpp"

namespace exporters::frontend {

namespace {

int category(ir::DType d) {
  if (d == ir::DType::Bool) return 0;
  if (ir::is_float(d)) return 2;
  return 1;
}

// Integer width rank for promotion (u8 and i8 share a rank).
int int_rank(ir::DType d) {
  switch (d) {
    case ir::DType::U8:
    case ir::DType::I8: return 1;
    case ir::DType::I32: return 3;
    case ir::DType::I64: return 4;
    default: return 0;
  }
}

std::optional<ir::DType> promote_opt(std::optional<ir::DType> a, std::optional<ir::DType> b) {
  if (!a) return b;
  if (!b) return a;
  return promote_types(*a, *b);
}

// PyTorch's combine_categories: `higher` is the dtype of the higher tier.
std::optional<ir::DType> combine_categories(std::optional<ir::DType> higher, std::optional<ir::DType> lower) {
  if (!higher) return lower;
  if (!lower) return higher;
  if (ir::is_float(*higher)) return higher;
  if (*higher == ir::DType::Bool || ir::is_float(*lower)) return promote_types(*higher, *lower);
  return higher;
}

}  // namespace

ir::DType promote_types(ir::DType a, ir::DType b) {
  if (a == b) return a;
  int ca = category(a), cb = category(b);
  if (ca != cb) return ca > cb ? a : b;
  if (ca == 2) return ir::DType::F32;  // f16 with f32
  // Both integers (bool handled above: equal categories with a != b are ints).
  int ra = int_rank(a), rb = int_rank(b);
  if (ra == rb) return ir::DType::I32;  // u8 with i8 -> i16 in PyTorch; the IR has no i16
  return ra > rb ? a : b;
}

bool is_scalar(const Operand& operand) {
  return std::holds_alternative<int64_t>(operand) || std::holds_alternative<double>(operand) ||
         std::holds_alternative<bool>(operand);
}

bool is_tensor(const Operand& operand) {
  const auto* v = std::get_if<ir::Value*>(&operand);
  return v && *v;
}

bool is_absent(const NodeView& node, size_t index) {
  if (index >= node.inputs.size()) return true;
  const Operand& op = node.inputs[index];
  if (std::holds_alternative<NoneValue>(op)) return true;
  if (const auto* v = std::get_if<ir::Value*>(&op)) return *v == nullptr;
  return false;
}

std::optional<ir::DType> scalar_dtype(const Operand& operand) {
  if (std::holds_alternative<bool>(operand)) return ir::DType::Bool;
  if (std::holds_alternative<int64_t>(operand)) return ir::DType::I64;
  if (std::holds_alternative<double>(operand)) return ir::DType::F32;
  return std::nullopt;
}

ir::DType result_type(const std::vector<Operand>& operands) {
  std::optional<ir::DType> dim, zero, wrapped;
  for (const Operand& op : operands) {
    if (const auto* v = std::get_if<ir::Value*>(&op); v && *v) {
      if ((*v)->type.rank() > 0) dim = promote_opt(dim, (*v)->type.dtype);
      else zero = promote_opt(zero, (*v)->type.dtype);
    } else if (auto s = scalar_dtype(op)) {
      wrapped = promote_opt(wrapped, s);
    }
  }
  auto result = combine_categories(dim, combine_categories(zero, wrapped));
  if (!result) throw ConversionError("type promotion needs at least one tensor or number operand");
  return *result;
}

ir::DType float_or_default(ir::DType dtype) { return ir::is_float(dtype) ? dtype : ir::DType::F32; }

ir::Value* cast_to(ir::Graph& graph, ir::Value* value, ir::DType dtype) {
  if (value->type.dtype == dtype) return value;
  return graph.add1("cast", {value}, {{"dtype", std::string(ir::dtype_name(dtype))}});
}

Scalar scalar_operand(const NodeView& node, size_t index) {
  if (index >= node.inputs.size())
    conversion_error(node, fmt::format("argument {} is missing", index));
  const Operand& op = node.inputs[index];
  if (const auto* b = std::get_if<bool>(&op)) return *b;
  if (const auto* i = std::get_if<int64_t>(&op)) return *i;
  if (const auto* d = std::get_if<double>(&op)) return *d;
  conversion_error(node, fmt::format("argument {} must be a number, got {}", index, operand_kind(op)));
}

double scalar_as_double(const Scalar& s) {
  if (const auto* b = std::get_if<bool>(&s)) return *b ? 1.0 : 0.0;
  if (const auto* i = std::get_if<int64_t>(&s)) return static_cast<double>(*i);
  return std::get<double>(s);
}

void set_element(ir::Tensor& t, int64_t i, double v) {
  switch (t.dtype()) {
    case ir::DType::F32: t.mutable_as<float>()[i] = static_cast<float>(v); break;
    case ir::DType::F16: t.mutable_as<uint16_t>()[i] = ir::float_to_half(static_cast<float>(v)); break;
    case ir::DType::I32: t.mutable_as<int32_t>()[i] = static_cast<int32_t>(v); break;
    case ir::DType::I64: t.mutable_as<int64_t>()[i] = static_cast<int64_t>(v); break;
    case ir::DType::Bool: t.mutable_as<uint8_t>()[i] = v != 0 ? 1 : 0; break;
    case ir::DType::I8: t.mutable_as<int8_t>()[i] = static_cast<int8_t>(v); break;
    case ir::DType::U8: t.mutable_as<uint8_t>()[i] = static_cast<uint8_t>(v); break;
  }
}

void set_element_int(ir::Tensor& t, int64_t i, int64_t v) {
  switch (t.dtype()) {
    case ir::DType::F32: t.mutable_as<float>()[i] = static_cast<float>(v); break;
    case ir::DType::F16: t.mutable_as<uint16_t>()[i] = ir::float_to_half(static_cast<float>(v)); break;
    case ir::DType::I32: t.mutable_as<int32_t>()[i] = static_cast<int32_t>(v); break;
    case ir::DType::I64: t.mutable_as<int64_t>()[i] = v; break;
    case ir::DType::Bool: t.mutable_as<uint8_t>()[i] = v != 0 ? 1 : 0; break;
    case ir::DType::I8: t.mutable_as<int8_t>()[i] = static_cast<int8_t>(v); break;
    case ir::DType::U8: t.mutable_as<uint8_t>()[i] = static_cast<uint8_t>(v); break;
  }
}

ir::Tensor filled_tensor(ir::DType dtype, const ir::Shape& shape, const Scalar& value) {
  ir::Tensor t = ir::Tensor::zeros(dtype, shape);
  const int64_t n = t.numel();
  if (n == 0) return t;
  // Fill element 0 exactly, then replicate its bytes.
  if (const auto* i = std::get_if<int64_t>(&value)) set_element_int(t, 0, *i);
  else set_element(t, 0, scalar_as_double(value));
  const size_t es = ir::dtype_size(dtype);
  auto* bytes = static_cast<unsigned char*>(t.mutable_data());
  for (int64_t k = 1; k < n; ++k) std::memcpy(bytes + k * es, bytes, es);
  return t;
}

ir::Value* operand_as(ConversionContext& ctx, const NodeView& node, size_t index, ir::DType dtype) {
  if (index >= node.inputs.size()) conversion_error(node, fmt::format("argument {} is missing", index));
  const Operand& op = node.inputs[index];
  if (is_tensor(op)) return cast_to(ctx.graph(), std::get<ir::Value*>(op), dtype);
  if (is_scalar(op)) return scalar_constant(ctx.graph(), scalar_operand(node, index), dtype);
  conversion_error(node, fmt::format("argument {} must be a Tensor or a number, got {}", index, operand_kind(op)));
}

ir::Value* scalar_constant(ir::Graph& graph, const Scalar& value, ir::DType dtype) {
  // Exact for int64 (ConversionContext::as_value goes through double).
  return graph.constant(filled_tensor(dtype, {}, value));
}

ir::Value* constant_from_doubles(ir::Graph& graph, ir::DType dtype, const ir::Shape& shape,
                                 const std::vector<double>& values) {
  ir::Tensor t = ir::Tensor::zeros(dtype, shape);
  if (static_cast<int64_t>(values.size()) != t.numel())
    throw ConversionError("internal: constant value count differs from its shape");
  for (size_t i = 0; i < values.size(); ++i) set_element(t, static_cast<int64_t>(i), values[i]);
  return graph.constant(std::move(t));
}

ir::Value* constant_from_ints(ir::Graph& graph, ir::DType dtype, const ir::Shape& shape,
                              const std::vector<int64_t>& values) {
  ir::Tensor t = ir::Tensor::zeros(dtype, shape);
  if (static_cast<int64_t>(values.size()) != t.numel())
    throw ConversionError("internal: constant value count differs from its shape");
  for (size_t i = 0; i < values.size(); ++i) set_element_int(t, static_cast<int64_t>(i), values[i]);
  return graph.constant(std::move(t));
}

ir::Value* full_value(ir::Graph& graph, ir::DType dtype, const ir::Shape& shape, const Scalar& value) {
  constexpr int64_t kMaxMaterialised = 4096;
  if (ir::shape_numel(shape) <= kMaxMaterialised) return graph.constant(filled_tensor(dtype, shape, value));
  return graph.add1("expand", {scalar_constant(graph, value, dtype)}, {{"shape", shape}});
}

int64_t wrap_dim(const NodeView& node, const std::string& arg, int64_t dim, int64_t rank) {
  const int64_t r = std::max<int64_t>(rank, 1);
  if (dim < -r || dim >= r)
    conversion_error(node, fmt::format("{}={} is out of range for a tensor of rank {} (expected [{}, {}])", arg,
                                       dim, rank, -r, r - 1));
  return dim < 0 ? dim + r : dim;
}

std::vector<int64_t> wrap_dims(const NodeView& node, const std::string& arg, const std::vector<int64_t>& dims,
                               int64_t rank) {
  std::vector<int64_t> out;
  for (int64_t d : dims) {
    int64_t w = wrap_dim(node, arg, d, rank);
    if (std::find(out.begin(), out.end(), w) != out.end())
      conversion_error(node, fmt::format("{} repeats dim {}", arg, w));
    out.push_back(w);
  }
  std::sort(out.begin(), out.end());
  return out;
}

ir::Value* reshape_to(ir::Graph& graph, ir::Value* value, const ir::Shape& shape) {
  if (value->type.shape == shape) return value;
  return graph.add1("reshape", {value}, {{"shape", shape}});
}

ir::Value* expand_to(ir::Graph& graph, ir::Value* value, const ir::Shape& shape) {
  if (value->type.shape == shape) return value;
  return graph.add1("expand", {value}, {{"shape", shape}});
}

ir::Value* permute(ir::Graph& graph, ir::Value* value, const std::vector<int64_t>& perm) {
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i) identity = identity && perm[i] == static_cast<int64_t>(i);
  if (identity) return value;
  return graph.add1("transpose", {value}, {{"perm", perm}});
}

ir::Value* slice_axis(ir::Graph& graph, ir::Value* value, int64_t axis, int64_t start, int64_t end, int64_t step) {
  if (start == 0 && end == value->type.shape[axis] && step == 1) return value;
  return graph.add1("slice", {value},
                    {{"axes", std::vector<int64_t>{axis}},
                     {"starts", std::vector<int64_t>{start}},
                     {"ends", std::vector<int64_t>{end}},
                     {"steps", std::vector<int64_t>{step}}});
}

void conversion_error(const NodeView& node, const std::string& message) {
  throw ConversionError(fmt::format("{}: {}", node.kind, message));
}

bool schema_has_argument(const NodeView& node, const std::string& name) {
  const std::string& s = node.schema;
  const size_t open = s.find('(');
  const size_t close = s.find(") ->");
  if (open == std::string::npos) return false;
  const std::string args = s.substr(open, close == std::string::npos ? std::string::npos : close - open + 1);
  for (size_t at = args.find(name); at != std::string::npos; at = args.find(name, at + 1)) {
    const char before = at > 0 ? args[at - 1] : ' ';
    const char after = at + name.size() < args.size() ? args[at + name.size()] : ')';
    if (before == ' ' && (after == ',' || after == ')' || after == '=')) return true;
  }
  return false;
}

void add_row(std::map<std::string, OpConverter>& table, const std::string& name, OpConverter converter,
             bool inplace) {
  table["aten::" + name] = converter;
  if (!inplace) return;
  table["aten::" + name + "_"] = [converter](ConversionContext& ctx, const NodeView& node) {
    ir::Value* self = ctx.tensor(node, 0);
    std::vector<Operand> out = converter(ctx, node);
    if (out.size() != 1 || !is_tensor(out[0]))
      conversion_error(node, "in-place conversion did not produce one tensor");
    ir::Value* result = std::get<ir::Value*>(out[0]);
    if (result->type.shape != self->type.shape)
      conversion_error(node, fmt::format("in-place result has shape [{}] but self is [{}]",
                                         ir::shape_to_string(result->type.shape),
                                         ir::shape_to_string(self->type.shape)));
    return std::vector<Operand>{cast_to(ctx.graph(), result, self->type.dtype)};
  };
}

}  // namespace exporters::frontend
