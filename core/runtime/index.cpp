// Indexing: gather (index_select / embedding lookup), gather_elements
// (torch.gather) and scatter_elements (torch.scatter). Negative indices
// count from the end; out-of-range indices are errors that name the index.
#include "kernel.hpp"

namespace exporters::runtime {

namespace {

std::vector<int64_t> read_indices(const Tensor& idx) {
  std::vector<int64_t> v(static_cast<size_t>(idx.numel()));
  if (idx.dtype() == DType::I64) {
    std::copy(idx.data_as<int64_t>(), idx.data_as<int64_t>() + idx.numel(), v.begin());
  } else if (idx.dtype() == DType::I32) {
    std::copy(idx.data_as<int32_t>(), idx.data_as<int32_t>() + idx.numel(), v.begin());
  } else {
    kernel_error("indices must be i32 or i64, got " + dtype_str(idx.dtype()));
  }
  return v;
}

int64_t wrap_index(int64_t i, int64_t n) {
  const int64_t w = i < 0 ? i + n : i;
  if (w < 0 || w >= n)
    kernel_error("index " + std::to_string(i) + " is out of range for an axis of size " + std::to_string(n));
  return w;
}

std::vector<Tensor> k_gather(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  const std::vector<int64_t> idx = read_indices(args.in(1));
  const AxisSplit s = split_at(x.shape(), args.attrs().i("axis"));
  Tensor out = new_tensor(args.outputs.at(0));
  const size_t width = ir::dtype_size(x.dtype());
  const size_t block = static_cast<size_t>(s.inner) * width;
  const auto* src = static_cast<const uint8_t*>(x.data());
  auto* dst = static_cast<uint8_t*>(out.mutable_data());
  std::vector<int64_t> rows(idx.size());
  for (size_t j = 0; j < idx.size(); ++j) rows[j] = wrap_index(idx[j], s.n);
  for (int64_t o = 0; o < s.outer; ++o)
    for (size_t j = 0; j < rows.size(); ++j)
      std::memcpy(dst + (o * static_cast<int64_t>(rows.size()) + static_cast<int64_t>(j)) * block,
                  src + (o * s.n + rows[j]) * block, block);
  return {out};
}

// Strides of x for walking positions of an index tensor, with the axis
// stride zeroed (the index supplies that coordinate).
std::vector<int64_t> strides_without_axis(const Shape& xs, size_t axis, const Shape& idx_shape) {
  if (idx_shape.size() != xs.size()) kernel_error("indices must have the rank of x");
  auto st = contiguous_strides(xs);
  st[axis] = 0;
  return st;
}

std::vector<Tensor> k_gather_elements(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  const Tensor& it = args.in(1);
  const std::vector<int64_t> idx = read_indices(it);
  const auto axis = static_cast<size_t>(args.attrs().i("axis"));
  if (axis >= x.shape().size()) kernel_error("axis out of range");
  const int64_t n = x.shape()[axis];
  const int64_t axis_stride = contiguous_strides(x.shape())[axis];
  Tensor out = new_tensor(args.outputs.at(0));
  visit_width(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data_as<T>();
    T* po = out.mutable_as<T>();
    std::array<std::vector<int64_t>, 2> strides{contiguous_strides(it.shape()),
                                                strides_without_axis(x.shape(), axis, it.shape())};
    strided_loop<2>(it.shape(), strides, [&](const auto& off, const auto& inc, int64_t cnt) {
      for (int64_t i = 0; i < cnt; ++i) {
        const int64_t p = off[0] + i * inc[0];
        po[p] = px[off[1] + i * inc[1] + wrap_index(idx[p], n) * axis_stride];
      }
    });
  });
  return {out};
}

std::vector<Tensor> k_scatter_elements(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  const Tensor& it = args.in(1);
  const Tensor& upd = args.in(2);
  if (upd.dtype() != x.dtype()) kernel_error("updates must have x's dtype");
  const std::vector<int64_t> idx = read_indices(it);
  const auto axis = static_cast<size_t>(args.attrs().i("axis"));
  if (axis >= x.shape().size()) kernel_error("axis out of range");
  if (upd.shape().size() != x.shape().size()) kernel_error("updates must have the rank of x");
  const int64_t n = x.shape()[axis];
  const int64_t axis_stride = contiguous_strides(x.shape())[axis];
  Tensor out = Tensor::copy_of(x.dtype(), x.shape(), x.data());
  visit_width(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* pu = upd.data_as<T>();
    T* po = out.mutable_as<T>();
    std::array<std::vector<int64_t>, 3> strides{contiguous_strides(it.shape()),
                                                strides_without_axis(x.shape(), axis, it.shape()),
                                                contiguous_strides(upd.shape())};
    strided_loop<3>(it.shape(), strides, [&](const auto& off, const auto& inc, int64_t cnt) {
      for (int64_t i = 0; i < cnt; ++i) {
        const int64_t p = off[0] + i * inc[0];
        po[off[1] + i * inc[1] + wrap_index(idx[p], n) * axis_stride] = pu[off[2] + i * inc[2]];
      }
    });
  });
  return {out};
}

const std::vector<KernelRow> kRows = {
    {"gather", k_gather, HalfPolicy::native},
    {"gather_elements", k_gather_elements, HalfPolicy::native},
    {"scatter_elements", k_scatter_elements, HalfPolicy::native},
};

}  // namespace

const std::vector<KernelRow>& index_kernels() { return kRows; }

}  // namespace exporters::runtime
