// Internal interface of the reference interpreter: a kernel per canonical op,
// kept as rows of one flat table keyed by op name. Each op family lives in its
// own file (elementwise.cpp, matmul.cpp, conv.cpp, ...) and contributes rows.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "exporters/ir/graph.hpp"
#include "exporters/ir/tensor.hpp"

namespace exporters::runtime {

using ir::DType;
using ir::Shape;
using ir::Tensor;
using ir::TensorType;

// What a kernel sees: the node (for its attributes), the concrete inputs
// (an undefined Tensor for an absent optional input) and the output types
// the op table inferred.
struct KernelArgs {
  const ir::Node& node;
  const std::vector<Tensor>& inputs;
  const std::vector<TensorType>& outputs;

  const ir::Attrs& attrs() const { return node.attrs; }
  bool has_input(size_t i) const { return i < inputs.size() && inputs[i].defined(); }
  const Tensor& in(size_t i) const;  // throws when absent
};

using KernelFn = std::vector<Tensor> (*)(const KernelArgs&);

// How a kernel meets f16: `upcast` kernels only ever see f32 (f16 inputs are
// widened, f16 outputs rounded back after the kernel, so f16 math happens in
// float as PyTorch does on CPU); `native` kernels move bytes and accept any dtype.
enum class HalfPolicy : uint8_t { upcast, native };

struct KernelRow {
  const char* op;
  KernelFn fn;
  HalfPolicy half = HalfPolicy::upcast;
};

// One table per op family.
const std::vector<KernelRow>& elementwise_kernels();
const std::vector<KernelRow>& matmul_kernels();
const std::vector<KernelRow>& conv_kernels();
const std::vector<KernelRow>& norm_kernels();
const std::vector<KernelRow>& reduce_kernels();
const std::vector<KernelRow>& shape_kernels();
const std::vector<KernelRow>& index_kernels();
const std::vector<KernelRow>& pool_kernels();
const std::vector<KernelRow>& resize_kernels();

// The combined table; nullptr when no kernel exists for `op`.
const KernelRow* find_kernel(const std::string& op);
std::vector<std::string> kernel_names();

// ── Helpers shared by the kernel files ──────────────────────────────────────

[[noreturn]] void kernel_error(const std::string& message);

inline Tensor new_tensor(const TensorType& type) { return Tensor::zeros(type.dtype, type.shape); }

// Contiguous element strides of `shape`.
std::vector<int64_t> contiguous_strides(const Shape& shape);
// Strides (in elements) to read a tensor of `in` shape broadcast to `out`
// (0 on broadcast axes); `in` aligns with the trailing axes of `out`.
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);

// Calls fn(offsets, inner_strides, n) for every run of the innermost axis of
// `shape`, where operand k's element at position j of the run is at
// offsets[k] + j * inner_strides[k]. Adjacent axes that are contiguous for
// every operand are merged first so runs are as long as possible.
template <size_t K, class Fn>
void strided_loop(const Shape& shape, const std::array<std::vector<int64_t>, K>& strides, Fn&& fn) {
  // Coalesce: drop size-1 axes, merge axis i into i+1 when contiguous.
  std::vector<int64_t> dims;
  std::array<std::vector<int64_t>, K> st;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return;
    if (shape[d] == 1) continue;
    if (!dims.empty()) {
      bool merge = true;
      for (size_t k = 0; k < K; ++k)
        if (st[k].back() != strides[k][d] * shape[d]) merge = false;
      if (merge) {
        dims.back() *= shape[d];
        for (size_t k = 0; k < K; ++k) st[k].back() = strides[k][d];
        continue;
      }
    }
    dims.push_back(shape[d]);
    for (size_t k = 0; k < K; ++k) st[k].push_back(strides[k][d]);
  }
  std::array<int64_t, K> inner{};
  std::array<int64_t, K> off{};
  if (dims.empty()) {
    fn(off, inner, int64_t{1});
    return;
  }
  const size_t rank = dims.size();
  const int64_t n = dims.back();
  for (size_t k = 0; k < K; ++k) inner[k] = st[k].back();
  std::vector<int64_t> idx(rank - 1, 0);
  while (true) {
    fn(off, inner, n);
    // Advance the outer index (all axes but the last).
    size_t d = rank - 1;
    while (d > 0) {
      --d;
      ++idx[d];
      for (size_t k = 0; k < K; ++k) off[k] += st[k][d];
      if (idx[d] < dims[d]) break;
      for (size_t k = 0; k < K; ++k) off[k] -= st[k][d] * dims[d];
      idx[d] = 0;
      if (d == 0) return;
    }
    if (rank == 1) return;
  }
}

// Integer division helpers with Python semantics.
template <class T> T floor_div_int(T a, T b) {
  T q = static_cast<T>(a / b);
  if ((a % b != 0) && ((a < 0) != (b < 0))) q = static_cast<T>(q - 1);
  return q;
}

// Visits a C++ element type for every non-f16 dtype: fn(T{}) with T one of
// float, int32_t, int64_t, int8_t, uint8_t, bool.
template <class Fn>
decltype(auto) visit_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::F32: return fn(float{});
    case DType::I32: return fn(int32_t{});
    case DType::I64: return fn(int64_t{});
    case DType::I8: return fn(int8_t{});
    case DType::U8: return fn(uint8_t{});
    case DType::Bool: return fn(bool{});
    case DType::F16: break;
  }
  kernel_error("f16 reached a kernel that expects widened inputs");
}

// Visits an unsigned type of the element's byte width (for data movement).
template <class Fn>
decltype(auto) visit_width(DType dtype, Fn&& fn) {
  switch (ir::dtype_size(dtype)) {
    case 1: return fn(uint8_t{});
    case 2: return fn(uint16_t{});
    case 4: return fn(uint32_t{});
    case 8: return fn(uint64_t{});
    default: break;
  }
  kernel_error("unsupported element size");
}

// outer x axis x inner decomposition of `shape` around `axis`.
struct AxisSplit {
  int64_t outer = 1, n = 1, inner = 1;
};
AxisSplit split_at(const Shape& shape, int64_t axis);

std::string dtype_str(DType dtype);

}  // namespace exporters::runtime
