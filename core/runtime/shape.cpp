// Data movement: reshape (shares bytes), transpose, slice, concat, expand,
// tile, flip and pad. All of them move elements by width, so they serve
// every dtype including f16 without conversion.
#include <algorithm>

#include "kernel.hpp"

namespace exporters::runtime {

namespace {

// out[i] = in[in_offset + (strided position of i)] over out's shape.
Tensor strided_copy(const Tensor& in, const TensorType& out_type, const std::vector<int64_t>& in_strides,
                    int64_t in_offset = 0) {
  Tensor out = new_tensor(out_type);
  visit_width(in.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* src = in.data_as<T>() + in_offset;
    T* dst = out.mutable_as<T>();
    std::array<std::vector<int64_t>, 2> strides{contiguous_strides(out_type.shape), in_strides};
    strided_loop<2>(out_type.shape, strides, [&](const auto& off, const auto& inc, int64_t n) {
      T* o = dst + off[0];
      const T* s = src + off[1];
      if (inc[1] == 1) std::copy(s, s + n, o);
      else if (inc[1] == 0) std::fill(o, o + n, s[0]);
      else
        for (int64_t i = 0; i < n; ++i) o[i] = s[i * inc[1]];
    });
  });
  return out;
}

std::vector<Tensor> k_reshape(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  if (x.numel() != args.outputs.at(0).numel()) kernel_error("element count changes");
  return {x.reshaped(args.outputs[0].shape)};
}

std::vector<Tensor> k_transpose(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  const auto& perm = args.attrs().ints("perm");
  if (perm.size() != x.shape().size()) kernel_error("perm length must equal the rank");
  const auto xs = contiguous_strides(x.shape());
  std::vector<int64_t> strides;
  for (int64_t p : perm) strides.push_back(xs.at(static_cast<size_t>(p)));
  return {strided_copy(x, args.outputs.at(0), strides)};
}

std::vector<Tensor> k_slice(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  const ir::Attrs& a = args.attrs();
  const auto& axes = a.ints("axes");
  const auto& starts = a.ints("starts");
  const auto steps = a.ints("steps", std::vector<int64_t>(axes.size(), 1));
  if (starts.size() != axes.size() || steps.size() != axes.size()) kernel_error("axes/starts/steps lengths differ");
  auto strides = contiguous_strides(x.shape());
  int64_t offset = 0;
  for (size_t i = 0; i < axes.size(); ++i) {
    const auto axis = static_cast<size_t>(axes[i]);
    if (steps[i] < 1) kernel_error("steps must be positive");
    if (starts[i] < 0 || starts[i] > x.shape().at(axis)) kernel_error("start out of range");
    offset += starts[i] * strides[axis];
    strides[axis] *= steps[i];
  }
  return {strided_copy(x, args.outputs.at(0), strides, offset)};
}

std::vector<Tensor> k_concat(const KernelArgs& args) {
  const TensorType& ot = args.outputs.at(0);
  const AxisSplit s = split_at(ot.shape, args.attrs().i("axis"));
  Tensor out = new_tensor(ot);
  const size_t width = ir::dtype_size(ot.dtype);
  auto* dst = static_cast<uint8_t*>(out.mutable_data());
  const size_t out_row = static_cast<size_t>(s.n * s.inner) * width;
  size_t col = 0;  // byte offset of this input's block inside an output row
  for (size_t k = 0; k < args.inputs.size(); ++k) {
    const Tensor& x = args.in(k);
    if (x.dtype() != ot.dtype) kernel_error("input " + std::to_string(k) + " has another dtype");
    const size_t block = static_cast<size_t>(x.numel() / std::max<int64_t>(s.outer, 1)) * width;
    const auto* src = static_cast<const uint8_t*>(x.data());
    for (int64_t o = 0; o < s.outer; ++o) std::memcpy(dst + o * out_row + col, src + o * block, block);
    col += block;
  }
  if (s.outer > 0 && col != out_row) kernel_error("input sizes do not add up to the output");
  return {out};
}

std::vector<Tensor> k_expand(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  return {strided_copy(x, args.outputs.at(0), broadcast_strides(x.shape(), args.outputs[0].shape))};
}

std::vector<Tensor> k_tile(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  const auto& reps = args.attrs().ints("repeats");
  const Shape& xs = x.shape();
  if (reps.size() != xs.size()) kernel_error("repeats length must equal the rank");
  // Output axis i of size r*d is the pair (repeat, position): read with
  // stride 0 over repeats and the input stride over positions.
  const auto cs = contiguous_strides(xs);
  Shape split;
  std::vector<int64_t> strides;
  for (size_t i = 0; i < xs.size(); ++i) {
    split.push_back(reps[i]);
    strides.push_back(0);
    split.push_back(xs[i]);
    strides.push_back(cs[i]);
  }
  Tensor out = strided_copy(x, TensorType{x.dtype(), split}, strides);
  return {out.reshaped(args.outputs.at(0).shape)};
}

std::vector<Tensor> k_flip(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  auto strides = contiguous_strides(x.shape());
  int64_t offset = 0;
  for (int64_t a : args.attrs().ints("axes")) {
    const auto axis = static_cast<size_t>(a);
    if (axis >= strides.size()) kernel_error("axis out of range");
    offset += (x.shape()[axis] - 1) * strides[axis];
    strides[axis] = -strides[axis];
  }
  if (x.numel() == 0) return {new_tensor(args.outputs.at(0))};
  return {strided_copy(x, args.outputs.at(0), strides, offset)};
}

// The element bits of `value` in `dtype`.
uint64_t scalar_bits(DType dtype, double value) {
  uint64_t bits = 0;
  switch (dtype) {
    case DType::F32: {
      const auto f = static_cast<float>(value);
      std::memcpy(&bits, &f, sizeof f);
      break;
    }
    case DType::F16: bits = ir::float_to_half(static_cast<float>(value)); break;
    case DType::I32: bits = static_cast<uint32_t>(static_cast<int32_t>(value)); break;
    case DType::I64: bits = static_cast<uint64_t>(static_cast<int64_t>(value)); break;
    case DType::I8: bits = static_cast<uint8_t>(static_cast<int8_t>(value)); break;
    case DType::U8: bits = static_cast<uint8_t>(static_cast<int64_t>(value)); break;
    case DType::Bool: bits = value != 0.0; break;
  }
  return bits;
}

std::vector<Tensor> k_pad(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  const Shape& xs = x.shape();
  const size_t rank = xs.size();
  const auto& pads = args.attrs().ints("pads");
  if (pads.size() != 2 * rank) kernel_error("pads needs 2 * rank values");
  const std::string mode = args.attrs().s("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "replicate") kernel_error("unknown mode '" + mode + "'");
  const Shape& os = args.outputs.at(0).shape;
  // Per axis: source index of every output index, -1 for the fill value.
  std::vector<std::vector<int64_t>> src(rank);
  for (size_t a = 0; a < rank; ++a) {
    const int64_t dim = xs[a];
    for (int64_t o = 0; o < os[a]; ++o) {
      int64_t i = o - pads[a];
      if (i < 0 || i >= dim) {
        if (mode == "constant" || dim == 0) i = -1;
        else if (mode == "replicate") i = std::clamp<int64_t>(i, 0, dim - 1);
        else {
          if (dim == 1) i = 0;
          while (i < 0 || i >= dim) i = i < 0 ? -i : 2 * (dim - 1) - i;
        }
      }
      src[a].push_back(i);
    }
  }
  Tensor out = new_tensor(args.outputs[0]);
  if (out.numel() == 0) return {out};
  const uint64_t fill_bits = scalar_bits(x.dtype(), args.attrs().f("value", 0.0));
  const auto xstr = contiguous_strides(xs);
  visit_width(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T fill = static_cast<T>(fill_bits);
    const T* px = x.data_as<T>();
    T* po = out.mutable_as<T>();
    if (rank == 0) {
      po[0] = px[0];
      return;
    }
    const int64_t inner = os.back();
    const auto& last = src.back();
    const int64_t rows = out.numel() / inner;
    std::vector<int64_t> idx(rank - 1, 0);
    for (int64_t r = 0; r < rows; ++r) {
      int64_t base = 0;
      bool filled = false;
      for (size_t a = 0; a + 1 < rank; ++a) {
        const int64_t s = src[a][idx[a]];
        if (s < 0) filled = true;
        base += s * xstr[a];
      }
      T* row = po + r * inner;
      if (filled) std::fill(row, row + inner, fill);
      else
        for (int64_t i = 0; i < inner; ++i) row[i] = last[i] < 0 ? fill : px[base + last[i]];
      for (size_t a = rank - 1; a-- > 0;) {
        if (++idx[a] < os[a]) break;
        idx[a] = 0;
      }
    }
  });
  return {out};
}

const std::vector<KernelRow> kRows = {
    {"reshape", k_reshape, HalfPolicy::native},
    {"transpose", k_transpose, HalfPolicy::native},
    {"slice", k_slice, HalfPolicy::native},
    {"concat", k_concat, HalfPolicy::native},
    {"expand", k_expand, HalfPolicy::native},
    {"tile", k_tile, HalfPolicy::native},
    {"flip", k_flip, HalfPolicy::native},
    {"pad", k_pad, HalfPolicy::native},
};

}  // namespace

const std::vector<KernelRow>& shape_kernels() { return kRows; }

}  // namespace exporters::runtime
