// The flat op -> kernel table, assembled from the per-family tables, and the
// helpers every kernel file shares.
#include <algorithm>
#include <unordered_map>

#include "kernel.hpp"

namespace exporters::runtime {

const Tensor& KernelArgs::in(size_t i) const {
  if (!has_input(i)) kernel_error("missing input " + std::to_string(i));
  return inputs[i];
}

void kernel_error(const std::string& message) { throw std::runtime_error(message); }

namespace {

const std::unordered_map<std::string, const KernelRow*>& table() {
  static const auto* map = [] {
    auto* m = new std::unordered_map<std::string, const KernelRow*>();
    for (const auto* family :
         {&elementwise_kernels(), &matmul_kernels(), &conv_kernels(), &norm_kernels(),
          &reduce_kernels(), &shape_kernels(), &index_kernels(), &pool_kernels(),
          &resize_kernels()}) {
      for (const KernelRow& row : *family) {
        if (!m->emplace(row.op, &row).second)
          throw std::logic_error(std::string("runtime: duplicate kernel for op ") + row.op);
      }
    }
    return m;
  }();
  return *map;
}

}  // namespace

const KernelRow* find_kernel(const std::string& op) {
  auto it = table().find(op);
  return it == table().end() ? nullptr : it->second;
}

std::vector<std::string> kernel_names() {
  std::vector<std::string> names;
  for (const auto& [name, row] : table()) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<int64_t> contiguous_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  if (in.size() > out.size()) kernel_error("cannot broadcast a higher-rank operand");
  std::vector<int64_t> strides(out.size(), 0);
  const auto cs = contiguous_strides(in);
  const size_t shift = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == out[i + shift]) {
      strides[i + shift] = in[i] == 1 ? 0 : cs[i];
    } else if (in[i] != 1) {
      kernel_error("shape " + ir::shape_to_string(in) + " does not broadcast to " +
                   ir::shape_to_string(out));
    }
  }
  return strides;
}

AxisSplit split_at(const Shape& shape, int64_t axis) {
  if (axis < 0 || axis >= static_cast<int64_t>(shape.size()))
    kernel_error("axis " + std::to_string(axis) + " out of range for rank " +
                 std::to_string(shape.size()));
  AxisSplit s;
  for (int64_t i = 0; i < axis; ++i) s.outer *= shape[i];
  s.n = shape[axis];
  for (size_t i = axis + 1; i < shape.size(); ++i) s.inner *= shape[i];
  return s;
}

std::string dtype_str(DType dtype) { return std::string(ir::dtype_name(dtype)); }

}  // namespace exporters::runtime
