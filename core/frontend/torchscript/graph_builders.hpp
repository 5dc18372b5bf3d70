// Small IR-building helpers shared by the converters in this folder. They
// build only canonical ops through Graph::add1 / constant and skip no-op
// nodes (identity reshape / transpose / cast).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "exporters/ir/graph.hpp"

namespace exporters::frontend::build {

// Rank-0 constant of `dtype` holding `v`.
ir::Value* scalar(ir::Graph& g, ir::DType dtype, double v);
ir::Value* reshape(ir::Graph& g, ir::Value* x, const ir::Shape& shape);
ir::Value* transpose(ir::Graph& g, ir::Value* x, const std::vector<int64_t>& perm);
ir::Value* cast(ir::Graph& g, ir::Value* x, ir::DType dtype);
ir::Value* binary(ir::Graph& g, const std::string& op, ir::Value* a, ir::Value* b);
ir::Value* unary(ir::Graph& g, const std::string& op, ir::Value* x);
// x[start:end] along one axis (step 1), bounds already valid.
ir::Value* slice(ir::Graph& g, ir::Value* x, int64_t axis, int64_t start, int64_t end);
ir::Value* reduce_sum(ir::Graph& g, ir::Value* x, const std::vector<int64_t>& axes, bool keepdims);
// `x * factor`, skipped when factor == 1.
ir::Value* scale(ir::Graph& g, ir::Value* x, double factor);
// Inserts a size-1 axis at `axis` / removes the size-1 axis `axis`.
ir::Value* unsqueeze(ir::Graph& g, ir::Value* x, int64_t axis);
ir::Value* squeeze(ir::Graph& g, ir::Value* x, int64_t axis);
// torch.matmul semantics (1-D operands, batch broadcasting of any ranks).
ir::Value* torch_matmul(ir::Graph& g, ir::Value* a, ir::Value* b);

// Normalises a possibly negative dim against `rank` (error names the op).
int64_t normalize_dim(int64_t dim, int64_t rank, const std::string& op);

}  // namespace exporters::frontend::build
