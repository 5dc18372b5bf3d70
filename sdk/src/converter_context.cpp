// ConversionContext accessors: typed views of a node's operands with errors
// that name the op, the argument index and what was expected.
#include <cstring>
#include <type_traits>

#include <fmt/format.h>

#include "exporters/frontend/converter.hpp"

namespace exporters::frontend {

std::string operand_kind(const Operand& operand) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, NoneValue>) return "None";
        else if constexpr (std::is_same_v<T, ir::Value*>) return v ? "Tensor" : "None";
        else if constexpr (std::is_same_v<T, int64_t>) return "int";
        else if constexpr (std::is_same_v<T, double>) return "float";
        else if constexpr (std::is_same_v<T, bool>) return "bool";
        else if constexpr (std::is_same_v<T, std::string>) return "str";
        else if constexpr (std::is_same_v<T, std::vector<int64_t>>) return "int[]";
        else if constexpr (std::is_same_v<T, std::vector<double>>) return "float[]";
        else if constexpr (std::is_same_v<T, std::vector<ir::Value*>>) return "Tensor[]";
        else return "bool[]";
      },
      operand);
}

namespace {

const Operand& argument(const NodeView& node, size_t index) {
  if (index >= node.inputs.size()) {
    throw ConversionError(fmt::format("{}: argument {} is missing (the node has {} inputs)",
                                      node.kind, index, node.inputs.size()));
  }
  return node.inputs[index];
}

[[noreturn]] void wrong_kind(const NodeView& node, size_t index, const char* expected) {
  throw ConversionError(fmt::format("{}: argument {} must be {}, got {}", node.kind, index,
                                    expected, operand_kind(node.inputs[index])));
}

// A rank-0 tensor of `dtype` holding `v` (owned).
ir::Tensor scalar_tensor(ir::DType dtype, double v) {
  ir::Tensor t = ir::Tensor::zeros(dtype, {});
  switch (dtype) {
    case ir::DType::F32: *t.mutable_as<float>() = static_cast<float>(v); break;
    case ir::DType::F16: *t.mutable_as<uint16_t>() = ir::float_to_half(static_cast<float>(v)); break;
    case ir::DType::I32: *t.mutable_as<int32_t>() = static_cast<int32_t>(v); break;
    case ir::DType::I64: *t.mutable_as<int64_t>() = static_cast<int64_t>(v); break;
    case ir::DType::Bool: *t.mutable_as<uint8_t>() = v != 0 ? 1 : 0; break;
    case ir::DType::I8: *t.mutable_as<int8_t>() = static_cast<int8_t>(v); break;
    case ir::DType::U8: *t.mutable_as<uint8_t>() = static_cast<uint8_t>(v); break;
  }
  return t;
}

}  // namespace

ir::Value* ConversionContext::tensor(const NodeView& node, size_t index) const {
  const Operand& op = argument(node, index);
  if (const auto* v = std::get_if<ir::Value*>(&op); v && *v) return *v;
  wrong_kind(node, index, "a Tensor");
}

ir::Value* ConversionContext::optional_tensor(const NodeView& node, size_t index) const {
  const Operand& op = argument(node, index);
  if (std::holds_alternative<NoneValue>(op)) return nullptr;
  if (const auto* v = std::get_if<ir::Value*>(&op)) return *v;
  wrong_kind(node, index, "a Tensor or None");
}

int64_t ConversionContext::to_int(const NodeView& node, size_t index) const {
  const Operand& op = argument(node, index);
  if (const auto* v = std::get_if<int64_t>(&op)) return *v;
  if (const auto* b = std::get_if<bool>(&op)) return *b ? 1 : 0;
  wrong_kind(node, index, "an int");
}

double ConversionContext::to_double(const NodeView& node, size_t index) const {
  const Operand& op = argument(node, index);
  if (const auto* d = std::get_if<double>(&op)) return *d;
  if (const auto* v = std::get_if<int64_t>(&op)) return static_cast<double>(*v);
  if (const auto* b = std::get_if<bool>(&op)) return *b ? 1.0 : 0.0;
  wrong_kind(node, index, "a number");
}

bool ConversionContext::to_bool(const NodeView& node, size_t index) const {
  const Operand& op = argument(node, index);
  if (const auto* b = std::get_if<bool>(&op)) return *b;
  if (const auto* v = std::get_if<int64_t>(&op)) return *v != 0;
  wrong_kind(node, index, "a bool");
}

bool ConversionContext::is_none(const NodeView& node, size_t index) const {
  const Operand& op = argument(node, index);
  if (std::holds_alternative<NoneValue>(op)) return true;
  if (const auto* v = std::get_if<ir::Value*>(&op)) return *v == nullptr;
  return false;
}

std::vector<int64_t> ConversionContext::int_list(const NodeView& node, size_t index) const {
  const Operand& op = argument(node, index);
  if (const auto* l = std::get_if<std::vector<int64_t>>(&op)) return *l;
  if (const auto* v = std::get_if<int64_t>(&op)) return {*v};
  if (const auto* b = std::get_if<std::vector<bool>>(&op)) {
    return std::vector<int64_t>(b->begin(), b->end());
  }
  if (const auto* t = std::get_if<std::vector<ir::Value*>>(&op); t && t->empty()) return {};
  wrong_kind(node, index, "an int list");
}

std::vector<ir::Value*> ConversionContext::tensor_list(const NodeView& node, size_t index) const {
  const Operand& op = argument(node, index);
  if (const auto* l = std::get_if<std::vector<ir::Value*>>(&op)) return *l;
  // An empty list literal carries no element type.
  if (const auto* l = std::get_if<std::vector<int64_t>>(&op); l && l->empty()) return {};
  wrong_kind(node, index, "a Tensor list");
}

std::string ConversionContext::string(const NodeView& node, size_t index) const {
  const Operand& op = argument(node, index);
  if (const auto* s = std::get_if<std::string>(&op)) return *s;
  wrong_kind(node, index, "a string");
}

ir::Value* ConversionContext::as_value(const Operand& operand, ir::DType dtype_hint) {
  if (const auto* v = std::get_if<ir::Value*>(&operand); v && *v) return *v;
  if (const auto* d = std::get_if<double>(&operand)) {
    // A float scalar cannot live in an integer or bool tensor.
    ir::DType dtype = ir::is_float(dtype_hint) ? dtype_hint : ir::DType::F32;
    return graph_.constant(scalar_tensor(dtype, *d));
  }
  if (const auto* i = std::get_if<int64_t>(&operand)) {
    return graph_.constant(scalar_tensor(dtype_hint, static_cast<double>(*i)));
  }
  if (const auto* b = std::get_if<bool>(&operand)) {
    return graph_.constant(scalar_tensor(dtype_hint, *b ? 1.0 : 0.0));
  }
  throw ConversionError(
      fmt::format("expected a Tensor or a number, got {}", operand_kind(operand)));
}

const ir::Tensor* ConversionContext::constant_data(const ir::Value* value) const {
  if (value == nullptr || value->producer == nullptr || !value->producer->is_constant()) {
    return nullptr;
  }
  return &value->producer->constant();
}

ir::DType dtype_from_torch_scalar_type(int64_t scalar_type) {
  // c10::ScalarType codes: Byte Char Short Int Long Half Float Double
  // ComplexHalf ComplexFloat ComplexDouble Bool QInt8 QUInt8 QInt32 BFloat16.
  switch (scalar_type) {
    case 0: return ir::DType::U8;
    case 1: return ir::DType::I8;
    case 2: return ir::DType::I32;  // int16 widened
    case 3: return ir::DType::I32;
    case 4: return ir::DType::I64;
    case 5: return ir::DType::F16;
    case 6: return ir::DType::F32;
    case 7: return ir::DType::F32;  // float64 computed in float32
    case 11: return ir::DType::Bool;
    case 15: return ir::DType::F32;  // bfloat16 computed in float32
    default: break;
  }
  static const char* const names[] = {"uint8",        "int8",          "int16",
                                      "int32",        "int64",         "float16",
                                      "float32",      "float64",       "complex32",
                                      "complex64",    "complex128",    "bool",
                                      "qint8",        "quint8",        "qint32",
                                      "bfloat16"};
  std::string name = scalar_type >= 0 && scalar_type < 16 ? names[scalar_type]
                                                          : fmt::format("code {}", scalar_type);
  throw ConversionError(fmt::format("PyTorch dtype {} has no IR equivalent", name));
}

}  // namespace exporters::frontend
