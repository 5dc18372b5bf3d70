// Pooling (1-D and 2-D; a 1-D problem is 2-D with height 1): max_pool and
// avg_pool with PyTorch's window and divisor rules (ceil_mode,
// count_include_pad), adaptive pools with start = floor(i*in/out),
// end = ceil((i+1)*in/out).
#include <algorithm>
#include <limits>

#include "kernel.hpp"

namespace exporters::runtime {

namespace {

struct Window {
  int64_t begin, end;  // clamped to the input
  int64_t padded;      // size counting padding (avg_pool with count_include_pad)
};

struct PoolGeometry {
  int64_t planes = 0, in_h = 1, in_w = 0, out_h = 1, out_w = 0;
  // Per output row / column: the input window.
  std::vector<Window> rows, cols;
};

std::vector<Window> sliding_windows(int64_t in, int64_t out, int64_t k, int64_t s, int64_t pb, int64_t pe) {
  std::vector<Window> w;
  for (int64_t o = 0; o < out; ++o) {
    const int64_t start = o * s - pb;
    const int64_t end = std::min(start + k, in + pe);
    w.push_back({std::max<int64_t>(start, 0), std::min(end, in), end - start});
  }
  return w;
}

std::vector<Window> adaptive_windows(int64_t in, int64_t out) {
  std::vector<Window> w;
  for (int64_t o = 0; o < out; ++o) {
    const int64_t start = (o * in) / out;
    const int64_t end = ((o + 1) * in + out - 1) / out;
    w.push_back({start, end, end - start});
  }
  return w;
}

PoolGeometry pool_geometry(const Tensor& x, const TensorType& out, const KernelArgs* sliding) {
  const Shape& xs = x.shape();
  const Shape& os = out.shape;
  if (xs.size() != 3 && xs.size() != 4) kernel_error("input must be [N, C, L] or [N, C, H, W]");
  const size_t sp = xs.size() - 2;
  PoolGeometry g;
  g.planes = xs[0] * xs[1];
  g.in_w = xs.back();
  g.out_w = os.back();
  if (sp == 2) {
    g.in_h = xs[2];
    g.out_h = os[2];
  }
  if (sliding) {
    const ir::Attrs& a = sliding->attrs();
    const auto& kernel = a.ints("kernel");
    const auto strides = a.ints("strides", std::vector<int64_t>(sp, 1));
    const auto pads = a.ints("pads", std::vector<int64_t>(2 * sp, 0));
    if (kernel.size() != sp || strides.size() != sp || pads.size() != 2 * sp)
      kernel_error("kernel/strides/pads do not match the spatial rank");
    if (sp == 2) {
      g.rows = sliding_windows(g.in_h, g.out_h, kernel[0], strides[0], pads[0], pads[2]);
      g.cols = sliding_windows(g.in_w, g.out_w, kernel[1], strides[1], pads[1], pads[3]);
    } else {
      g.rows = {{0, 1, 1}};
      g.cols = sliding_windows(g.in_w, g.out_w, kernel[0], strides[0], pads[0], pads[1]);
    }
  } else {
    g.rows = sp == 2 ? adaptive_windows(g.in_h, g.out_h) : std::vector<Window>{{0, 1, 1}};
    g.cols = adaptive_windows(g.in_w, g.out_w);
  }
  return g;
}

template <class T>
void max_pool(const PoolGeometry& g, const T* x, T* y) {
  for (int64_t p = 0; p < g.planes; ++p) {
    const T* plane = x + p * g.in_h * g.in_w;
    T* out = y + p * g.out_h * g.out_w;
    for (int64_t oy = 0; oy < g.out_h; ++oy)
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        const Window& r = g.rows[oy];
        const Window& c = g.cols[ox];
        T best = std::numeric_limits<T>::lowest();
        if constexpr (std::is_floating_point_v<T>) best = -std::numeric_limits<T>::infinity();
        for (int64_t iy = r.begin; iy < r.end; ++iy)
          for (int64_t ix = c.begin; ix < c.end; ++ix) {
            const T v = plane[iy * g.in_w + ix];
            bool take = v > best;
            if constexpr (std::is_floating_point_v<T>) take = take || std::isnan(v);
            if (take) best = v;
          }
        out[oy * g.out_w + ox] = best;
      }
  }
}

std::vector<Tensor> run_max_pool(const KernelArgs& args, bool adaptive) {
  const Tensor& x = args.in(0);
  Tensor out = new_tensor(args.outputs.at(0));
  const PoolGeometry g = pool_geometry(x, out.type(), adaptive ? nullptr : &args);
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) kernel_error("max pooling is not defined for bool");
    else max_pool<T>(g, x.data_as<T>(), out.mutable_as<T>());
  });
  return {out};
}

std::vector<Tensor> run_avg_pool(const KernelArgs& args, bool adaptive) {
  const Tensor& x = args.in(0);
  if (x.dtype() != DType::F32) kernel_error("average pooling needs a float input");
  Tensor out = new_tensor(args.outputs.at(0));
  const PoolGeometry g = pool_geometry(x, out.type(), adaptive ? nullptr : &args);
  const bool include_pad = !adaptive && args.attrs().i("count_include_pad", 1) != 0;
  const float* px = x.data_as<float>();
  float* po = out.mutable_as<float>();
  for (int64_t p = 0; p < g.planes; ++p) {
    const float* plane = px + p * g.in_h * g.in_w;
    float* o = po + p * g.out_h * g.out_w;
    for (int64_t oy = 0; oy < g.out_h; ++oy)
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        const Window& r = g.rows[oy];
        const Window& c = g.cols[ox];
        float sum = 0;
        for (int64_t iy = r.begin; iy < r.end; ++iy)
          for (int64_t ix = c.begin; ix < c.end; ++ix) sum += plane[iy * g.in_w + ix];
        const int64_t count = include_pad ? r.padded * c.padded : (r.end - r.begin) * (c.end - c.begin);
        o[oy * g.out_w + ox] = count > 0 ? sum / static_cast<float>(count) : 0.0f;
      }
  }
  return {out};
}

std::vector<Tensor> k_max_pool(const KernelArgs& args) { return run_max_pool(args, false); }
std::vector<Tensor> k_avg_pool(const KernelArgs& args) { return run_avg_pool(args, false); }
std::vector<Tensor> k_adaptive_max_pool(const KernelArgs& args) { return run_max_pool(args, true); }
std::vector<Tensor> k_adaptive_avg_pool(const KernelArgs& args) { return run_avg_pool(args, true); }

const std::vector<KernelRow> kRows = {
    {"max_pool", k_max_pool},
    {"avg_pool", k_avg_pool},
    {"adaptive_max_pool", k_adaptive_max_pool},
    {"adaptive_avg_pool", k_adaptive_avg_pool},
};

}  // namespace

const std::vector<KernelRow>& pool_kernels() { return kRows; }

}  // namespace exporters::runtime
