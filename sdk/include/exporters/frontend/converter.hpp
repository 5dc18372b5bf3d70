// The LibTorch-free view of a TorchScript node that op converters see, and
// the context they build IR through. The frontend keeps a flat table
// "aten::name" -> OpConverter; plugins add or override rows (quirks).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "exporters/ir/graph.hpp"

namespace exporters::frontend {

struct NoneValue {
  bool operator==(const NoneValue&) const = default;
};

// A TorchScript value as a converter sees it. Shapes are static, so every
// int/float/bool/list that is not a tensor has already been folded to a
// constant. Tensors are IR values (a weight or folded tensor is a value
// produced by a `constant` node). Lists of optional tensors (aten::index)
// use nullptr for None. Dtype / layout / memory-format arguments arrive as
// the int64 of PyTorch's ScalarType enum; devices as strings.
using Operand = std::variant<NoneValue, ir::Value*, int64_t, double, bool, std::string,
                             std::vector<int64_t>, std::vector<double>,
                             std::vector<ir::Value*>, std::vector<bool>>;

std::string operand_kind(const Operand& operand);  // "Tensor", "int", "int[]", ...

struct NodeView {
  std::string kind;      // "aten::linear"
  std::string schema;    // "aten::linear(Tensor input, Tensor weight, Tensor? bias=None) -> Tensor"
  std::string source;    // Python source line recorded by the trace, may be empty
  std::vector<Operand> inputs;
  size_t num_outputs = 1;
};

class ConversionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Helpers for converters; every accessor throws ConversionError naming the
// argument index and the expected kind.
class ConversionContext {
 public:
  explicit ConversionContext(ir::Graph& graph) : graph_(graph) {}
  virtual ~ConversionContext() = default;

  ir::Graph& graph() { return graph_; }

  ir::Value* tensor(const NodeView& node, size_t index) const;
  ir::Value* optional_tensor(const NodeView& node, size_t index) const;  // nullptr for None
  int64_t to_int(const NodeView& node, size_t index) const;       // int or bool
  double to_double(const NodeView& node, size_t index) const;     // float, int or bool
  bool to_bool(const NodeView& node, size_t index) const;
  bool is_none(const NodeView& node, size_t index) const;
  std::vector<int64_t> int_list(const NodeView& node, size_t index) const;  // an int becomes [int]
  std::vector<ir::Value*> tensor_list(const NodeView& node, size_t index) const;
  std::string string(const NodeView& node, size_t index) const;

  // A scalar operand (int/float/bool) or a tensor as an IR value; scalars
  // become rank-0 constants of `dtype_hint` (f32 for floats, i64 for ints
  // unless the hint says otherwise).
  ir::Value* as_value(const Operand& operand, ir::DType dtype_hint);
  // The data behind a value when it is produced by a `constant` node.
  const ir::Tensor* constant_data(const ir::Value* value) const;

 private:
  ir::Graph& graph_;
};

// PyTorch ScalarType codes (stable across releases) to IR dtypes.
ir::DType dtype_from_torch_scalar_type(int64_t scalar_type);

// Returns one operand per TorchScript output of the node.
using OpConverter = std::function<std::vector<Operand>(ConversionContext&, const NodeView&)>;

}  // namespace exporters::frontend
