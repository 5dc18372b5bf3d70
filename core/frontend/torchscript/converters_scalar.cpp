// Folding of the scalar side of a trace: shape queries (aten::size, dim,
// numel), scalar <-> tensor conversions and Python number arithmetic. With
// static shapes all of it becomes constants.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>

#include <fmt/format.h>

#include "converter_table.hpp"
#include "graph_builders.hpp"

namespace exporters::frontend {
namespace {

// A Python number: int, float or bool.
struct Number {
  enum Kind { Int, Float, Bool } kind = Int;
  int64_t i = 0;
  double d = 0;

  static Number of_int(int64_t v) { return {Int, v, static_cast<double>(v)}; }
  static Number of_float(double v) { return {Float, static_cast<int64_t>(v), v}; }
  static Number of_bool(bool v) { return {Bool, v ? 1 : 0, v ? 1.0 : 0.0}; }
  Operand operand() const {
    if (kind == Float) return d;
    if (kind == Bool) return i != 0;
    return i;
  }
};

std::optional<Number> as_number(const Operand& op) {
  if (const auto* i = std::get_if<int64_t>(&op)) return Number::of_int(*i);
  if (const auto* d = std::get_if<double>(&op)) return Number::of_float(*d);
  if (const auto* b = std::get_if<bool>(&op)) return Number::of_bool(*b);
  return std::nullopt;
}

// Numbers, or constant tensors with one element (a NumToTensor result).
std::optional<Number> as_folded_number(const ConversionContext& ctx, const Operand& op) {
  if (auto n = as_number(op)) return n;
  const auto* v = std::get_if<ir::Value*>(&op);
  if (v == nullptr || *v == nullptr) return std::nullopt;
  const ir::Tensor* t = ctx.constant_data(*v);
  if (t == nullptr || t->numel() != 1) return std::nullopt;
  if (ir::is_float(t->dtype())) return Number::of_float(t->element_as_double(0));
  if (t->dtype() == ir::DType::Bool) return Number::of_bool(t->element_as_int(0) != 0);
  return Number::of_int(t->element_as_int(0));
}

Number number_arg(const ConversionContext& ctx, const NodeView& node, size_t index) {
  if (index >= node.inputs.size()) {
    throw ConversionError(fmt::format("{}: argument {} is missing", node.kind, index));
  }
  if (auto n = as_folded_number(ctx, node.inputs[index])) return *n;
  throw ConversionError(fmt::format(
      "{}: argument {} must be a number known at export time, got {} (a value computed from "
      "the model's inputs cannot be folded; export with static shapes)",
      node.kind, index, operand_kind(node.inputs[index])));
}

bool all_numbers(const NodeView& node) {
  if (node.inputs.empty()) return false;
  for (const Operand& op : node.inputs) {
    if (!as_number(op)) return false;
  }
  return true;
}

double floor_div(double a, double b) { return std::floor(a / b); }

int64_t floor_div_int(const std::string& kind, int64_t a, int64_t b) {
  if (b == 0) throw ConversionError(kind + ": integer division by zero");
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

Number arithmetic(const std::string& kind, const std::string& op, Number a, Number b) {
  const bool floating = a.kind == Number::Float || b.kind == Number::Float;
  if (op == "add") return floating ? Number::of_float(a.d + b.d) : Number::of_int(a.i + b.i);
  if (op == "sub") return floating ? Number::of_float(a.d - b.d) : Number::of_int(a.i - b.i);
  if (op == "mul") return floating ? Number::of_float(a.d * b.d) : Number::of_int(a.i * b.i);
  if (op == "div") return Number::of_float(a.d / b.d);  // Python true division
  if (op == "floordiv" || op == "floor_divide") {
    return floating ? Number::of_float(floor_div(a.d, b.d)) : Number::of_int(floor_div_int(kind, a.i, b.i));
  }
  if (op == "remainder" || op == "fmod") {
    if (op == "fmod") return floating ? Number::of_float(std::fmod(a.d, b.d)) : Number::of_int(a.i % b.i);
    if (floating) return Number::of_float(a.d - std::floor(a.d / b.d) * b.d);
    return Number::of_int(a.i - floor_div_int(kind, a.i, b.i) * b.i);
  }
  if (op == "pow") {
    if (!floating && b.i >= 0) {
      int64_t r = 1;
      for (int64_t k = 0; k < b.i; ++k) r *= a.i;
      return Number::of_int(r);
    }
    return Number::of_float(std::pow(a.d, b.d));
  }
  if (op == "max") return (floating ? a.d >= b.d : a.i >= b.i) ? a : b;
  if (op == "min") return (floating ? a.d <= b.d : a.i <= b.i) ? a : b;
  const bool both_int = !floating;
  auto cmp = [&](auto f) { return Number::of_bool(both_int ? f(a.i, b.i) : f(a.d, b.d)); };
  if (op == "eq") return cmp([](auto x, auto y) { return x == y; });
  if (op == "ne") return cmp([](auto x, auto y) { return x != y; });
  if (op == "lt") return cmp([](auto x, auto y) { return x < y; });
  if (op == "gt") return cmp([](auto x, auto y) { return x > y; });
  if (op == "le") return cmp([](auto x, auto y) { return x <= y; });
  if (op == "ge") return cmp([](auto x, auto y) { return x >= y; });
  if (op == "__and__" || op == "__or__" || op == "__xor__") {
    if (floating) throw ConversionError(kind + ": bitwise operation on a float");
    int64_t r = op == "__and__" ? (a.i & b.i) : op == "__or__" ? (a.i | b.i) : (a.i ^ b.i);
    if (a.kind == Number::Bool && b.kind == Number::Bool) return Number::of_bool(r != 0);
    return Number::of_int(r);
  }
  throw ConversionError(kind + ": no scalar folding rule");
}

Number unary_arithmetic(const std::string& kind, const std::string& op, Number a) {
  if (op == "neg") return a.kind == Number::Float ? Number::of_float(-a.d) : Number::of_int(-a.i);
  if (op == "ceil") return Number::of_int(static_cast<int64_t>(std::ceil(a.d)));
  if (op == "floor") return Number::of_int(static_cast<int64_t>(std::floor(a.d)));
  if (op == "abs") return a.kind == Number::Float ? Number::of_float(std::fabs(a.d)) : Number::of_int(std::llabs(a.i));
  if (op == "sqrt") return Number::of_float(std::sqrt(a.d));
  if (op == "__not__") return Number::of_bool(a.i == 0);
  if (op == "round") return a.kind == Number::Float ? Number::of_float(std::nearbyint(a.d)) : a;
  throw ConversionError(kind + ": no scalar folding rule");
}

// Installs `fold` for `kind`; when the table already has a tensor converter
// for the same name, nodes with a tensor operand go to that one.
void add_folding(ConverterTable& table, const std::string& kind, OpConverter fold) {
  auto existing = table.find(kind);
  if (existing == table.end() || !existing->second) {
    table[kind] = std::move(fold);
    return;
  }
  OpConverter tensor_converter = existing->second;
  table[kind] = [tensor_converter, fold](ConversionContext& ctx, const NodeView& node) {
    if (all_numbers(node)) return fold(ctx, node);
    return tensor_converter(ctx, node);
  };
}

ir::DType tensor_dtype_of(const Number& n) {
  if (n.kind == Number::Float) return ir::DType::F32;
  if (n.kind == Number::Bool) return ir::DType::Bool;
  return ir::DType::I64;
}

// IR dtype -> c10::ScalarType code (for prim::dtype).
int64_t torch_scalar_type(ir::DType dtype) {
  switch (dtype) {
    case ir::DType::U8: return 0;
    case ir::DType::I8: return 1;
    case ir::DType::I32: return 3;
    case ir::DType::I64: return 4;
    case ir::DType::F16: return 5;
    case ir::DType::F32: return 6;
    case ir::DType::Bool: return 11;
  }
  return 6;
}

int64_t list_index(const NodeView& node, int64_t index, size_t size) {
  const auto n = static_cast<int64_t>(size);
  if (index < -n || index >= n) {
    throw ConversionError(fmt::format("{}: index {} out of range for a list of {}", node.kind, index, n));
  }
  return index < 0 ? index + n : index;
}

}  // namespace

void add_scalar_converters(ConverterTable& table) {
  table["aten::size"] = [](ConversionContext& ctx, const NodeView& node) -> std::vector<Operand> {
    ir::Value* x = ctx.tensor(node, 0);
    if (node.inputs.size() == 1) return {std::vector<int64_t>(x->type.shape)};
    int64_t dim = build::normalize_dim(ctx.to_int(node, 1), x->type.rank(), node.kind);
    return {x->type.shape[dim]};
  };
  table["aten::dim"] = [](ConversionContext& ctx, const NodeView& node) -> std::vector<Operand> {
    return {ctx.tensor(node, 0)->type.rank()};
  };
  table["aten::numel"] = [](ConversionContext& ctx, const NodeView& node) -> std::vector<Operand> {
    return {ctx.tensor(node, 0)->type.numel()};
  };
  table["prim::dtype"] = [](ConversionContext& ctx, const NodeView& node) -> std::vector<Operand> {
    return {torch_scalar_type(ctx.tensor(node, 0)->type.dtype)};
  };
  table["prim::device"] = [](ConversionContext&, const NodeView&) -> std::vector<Operand> {
    return {std::string("cpu")};
  };
  table["prim::NumToTensor"] = [](ConversionContext& ctx, const NodeView& node) -> std::vector<Operand> {
    Number n = number_arg(ctx, node, 0);
    return {ctx.as_value(n.operand(), tensor_dtype_of(n))};
  };
  auto to_int = [](ConversionContext& ctx, const NodeView& node) -> std::vector<Operand> {
    Number n = number_arg(ctx, node, 0);
    return {n.kind == Number::Float ? static_cast<int64_t>(n.d) : n.i};
  };
  table["aten::Int"] = to_int;
  auto to_float = [](ConversionContext& ctx, const NodeView& node) -> std::vector<Operand> {
    return {number_arg(ctx, node, 0).d};
  };
  table["aten::Float"] = to_float;
  table["aten::Bool"] = [](ConversionContext& ctx, const NodeView& node) -> std::vector<Operand> {
    return {number_arg(ctx, node, 0).d != 0};
  };
  table["aten::ScalarImplicit"] = [](ConversionContext& ctx, const NodeView& node) -> std::vector<Operand> {
    return {number_arg(ctx, node, 0).operand()};
  };
  table["aten::len"] = [](ConversionContext& ctx, const NodeView& node) -> std::vector<Operand> {
    const Operand& op = node.inputs.at(0);
    return {std::visit(
        [&](const auto& v) -> int64_t {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<double>> ||
                        std::is_same_v<T, std::vector<ir::Value*>> || std::is_same_v<T, std::vector<bool>>) {
            return static_cast<int64_t>(v.size());
          } else if constexpr (std::is_same_v<T, ir::Value*>) {
            if (v == nullptr || v->type.rank() == 0) throw ConversionError("aten::len: len() of a 0-d tensor");
            return v->type.shape[0];
          } else if constexpr (std::is_same_v<T, std::string>) {
            return static_cast<int64_t>(v.size());
          } else {
            throw ConversionError("aten::len: argument 0 must be a list, got " + operand_kind(op));
          }
        },
        op)};
  };
  table["aten::__getitem__"] = [](ConversionContext& ctx, const NodeView& node) -> std::vector<Operand> {
    const Operand& op = node.inputs.at(0);
    int64_t index = ctx.to_int(node, 1);
    return {std::visit(
        [&](const auto& v) -> Operand {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<double>> ||
                        std::is_same_v<T, std::vector<ir::Value*>>) {
            return v[list_index(node, index, v.size())];
          } else if constexpr (std::is_same_v<T, std::vector<bool>>) {
            return static_cast<bool>(v[list_index(node, index, v.size())]);
          } else {
            throw ConversionError("aten::__getitem__: argument 0 must be a list, got " + operand_kind(op));
          }
        },
        op)};
  };

  table["aten::__contains__"] = [](ConversionContext& ctx, const NodeView& node) -> std::vector<Operand> {
    const Operand& list = node.inputs.at(0);
    if (const auto* ints = std::get_if<std::vector<int64_t>>(&list)) {
      const int64_t v = ctx.to_int(node, 1);
      return {std::find(ints->begin(), ints->end(), v) != ints->end()};
    }
    if (const auto* doubles = std::get_if<std::vector<double>>(&list)) {
      const double v = ctx.to_double(node, 1);
      return {std::find(doubles->begin(), doubles->end(), v) != doubles->end()};
    }
    throw ConversionError("aten::__contains__: argument 0 must be a number list, got " + operand_kind(list));
  };
  // Warnings of scripted code have no effect on the exported graph; their
  // message is formatted with aten::format, which is left unformatted.
  table["aten::warn"] = [](ConversionContext&, const NodeView&) -> std::vector<Operand> { return {}; };
  table["aten::format"] = [](ConversionContext& ctx, const NodeView& node) -> std::vector<Operand> {
    return {ctx.string(node, 0)};
  };

  // Python number arithmetic; rows shared with tensor converters only fold
  // when every operand is a number.
  for (const char* op : {"add", "sub", "mul", "div", "floordiv", "floor_divide", "remainder", "fmod",
                         "pow", "eq", "ne", "lt", "gt", "le", "ge", "__and__", "__or__", "__xor__"}) {
    const std::string name = op;
    add_folding(table, "aten::" + name, [name](ConversionContext& ctx, const NodeView& node) -> std::vector<Operand> {
      Number a = number_arg(ctx, node, 0);
      Number b = number_arg(ctx, node, 1);
      if ((name == "add" || name == "sub") && node.inputs.size() > 2) {
        b = arithmetic(node.kind, "mul", b, number_arg(ctx, node, 2));  // alpha
      }
      return {arithmetic(node.kind, name, a, b).operand()};
    });
  }
  for (const char* op : {"neg", "ceil", "floor", "abs", "sqrt", "__not__", "round"}) {
    const std::string name = op;
    add_folding(table, "aten::" + name, [name](ConversionContext& ctx, const NodeView& node) -> std::vector<Operand> {
      return {unary_arithmetic(node.kind, name, number_arg(ctx, node, 0)).operand()};
    });
  }
  // prim::min / prim::max: of two numbers or of a list.
  for (const char* op : {"min", "max"}) {
    const std::string name = op;
    table["prim::" + name] = [name](ConversionContext& ctx, const NodeView& node) -> std::vector<Operand> {
      std::vector<Number> values;
      if (node.inputs.size() == 1) {
        if (const auto* l = std::get_if<std::vector<int64_t>>(&node.inputs[0])) {
          for (int64_t v : *l) values.push_back(Number::of_int(v));
        } else if (const auto* f = std::get_if<std::vector<double>>(&node.inputs[0])) {
          for (double v : *f) values.push_back(Number::of_float(v));
        } else {
          throw ConversionError(node.kind + ": argument 0 must be a number list, got " +
                                operand_kind(node.inputs[0]));
        }
      } else {
        for (size_t i = 0; i < node.inputs.size(); ++i) values.push_back(number_arg(ctx, node, i));
      }
      if (values.empty()) throw ConversionError(node.kind + ": empty list");
      Number r = values[0];
      for (size_t i = 1; i < values.size(); ++i) r = arithmetic(node.kind, name, r, values[i]);
      return {r.operand()};
    };
  }
}

}  // namespace exporters::frontend
