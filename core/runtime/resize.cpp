// resize over the spatial axes of [N, C, *spatial] (1-D or 2-D), matching
// PyTorch's interpolate given output sizes:
//   nearest  src = min(floor(dst * (in/out)), in - 1)   (legacy 'nearest')
//   linear   align_corners: src = dst * (in-1)/(out-1); otherwise
//            src = max((dst + 0.5) * in/out - 0.5, 0)
//   cubic    Keys kernel with A = -0.75 over 4 taps, border taps clamped
//            (src as for linear but not clamped at 0).
// Every axis is described by taps (input index, weight) per output index and
// the output is the separable product over taps; scales are float as in PyTorch.
#include <algorithm>
#include <array>

#include "kernel.hpp"

namespace exporters::runtime {

namespace {

struct Taps {
  int count = 1;
  std::vector<std::array<int64_t, 4>> index;
  std::vector<std::array<float, 4>> weight;
};

float linear_scale(int64_t in, int64_t out, bool align_corners) {
  if (align_corners) return out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.0f;
  return static_cast<float>(in) / static_cast<float>(out);
}

float source_index(float scale, int64_t dst, bool align_corners, bool cubic) {
  if (align_corners) return scale * static_cast<float>(dst);
  const float src = scale * (static_cast<float>(dst) + 0.5f) - 0.5f;
  return (!cubic && src < 0.0f) ? 0.0f : src;
}

Taps axis_taps(const std::string& mode, int64_t in, int64_t out, bool align_corners) {
  Taps t;
  t.index.resize(static_cast<size_t>(out));
  t.weight.resize(static_cast<size_t>(out));
  if (mode == "nearest") {
    const float scale = static_cast<float>(in) / static_cast<float>(out);
    for (int64_t o = 0; o < out; ++o) {
      int64_t src = o;
      if (out == 2 * in) src = o >> 1;
      else if (out != in) src = std::min(static_cast<int64_t>(std::floor(static_cast<float>(o) * scale)), in - 1);
      t.index[o] = {src, 0, 0, 0};
      t.weight[o] = {1.0f, 0, 0, 0};
    }
  } else if (mode == "linear") {
    t.count = 2;
    const float scale = linear_scale(in, out, align_corners);
    for (int64_t o = 0; o < out; ++o) {
      if (in == out) {
        t.index[o] = {o, o, 0, 0};
        t.weight[o] = {1.0f, 0.0f, 0, 0};
        continue;
      }
      const float src = source_index(scale, o, align_corners, false);
      const auto i0 = static_cast<int64_t>(src);
      const int64_t i1 = i0 + (i0 < in - 1 ? 1 : 0);
      const float l1 = std::clamp(src - static_cast<float>(i0), 0.0f, 1.0f);
      t.index[o] = {i0, i1, 0, 0};
      t.weight[o] = {1.0f - l1, l1, 0, 0};
    }
  } else if (mode == "cubic") {
    t.count = 4;
    constexpr float A = -0.75f;
    const float scale = linear_scale(in, out, align_corners);
    for (int64_t o = 0; o < out; ++o) {
      const float src = source_index(scale, o, align_corners, true);
      // As PyTorch 1.13's bicubic: the base index may sit left of the input
      // (src < 0 near the border); only the taps are clamped into it.
      const auto i = static_cast<int64_t>(std::floor(src));
      const float x = src - static_cast<float>(i);
      const auto near = [](float d) { return ((A + 2) * d - (A + 3)) * d * d + 1; };       // |d| <= 1
      const auto far = [](float d) { return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A; };  // 1 < |d| < 2
      t.weight[o] = {far(x + 1), near(x), near(1 - x), far(2 - x)};
      for (int k = 0; k < 4; ++k) t.index[o][k] = std::clamp<int64_t>(i - 1 + k, 0, in - 1);
    }
  } else {
    kernel_error("unknown mode '" + mode + "'");
  }
  return t;
}

std::vector<Tensor> k_resize(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  if (x.dtype() != DType::F32) kernel_error("resize needs a float input");
  const Shape& xs = x.shape();
  Tensor out = new_tensor(args.outputs.at(0));
  const Shape& os = out.shape();
  if (xs.size() != 3 && xs.size() != 4) kernel_error("only 1-D and 2-D spatial resizes are supported");
  const std::string mode = args.attrs().s("mode");
  const bool align = args.attrs().i("align_corners", 0) != 0;
  const bool two_d = xs.size() == 4;
  const int64_t in_h = two_d ? xs[2] : 1, in_w = xs.back();
  const int64_t out_h = two_d ? os[2] : 1, out_w = os.back();
  Taps rows;
  rows.index = {{0, 0, 0, 0}};
  rows.weight = {{1.0f, 0, 0, 0}};
  if (two_d) rows = axis_taps(mode, in_h, out_h, align);
  const Taps cols = axis_taps(mode, in_w, out_w, align);
  const int64_t planes = xs[0] * xs[1];
  const float* px = x.data_as<float>();
  float* po = out.mutable_as<float>();
  for (int64_t p = 0; p < planes; ++p) {
    const float* plane = px + p * in_h * in_w;
    float* o = po + p * out_h * out_w;
    for (int64_t oy = 0; oy < out_h; ++oy)
      for (int64_t ox = 0; ox < out_w; ++ox) {
        float acc = 0;
        for (int a = 0; a < rows.count; ++a) {
          const float* row = plane + rows.index[oy][a] * in_w;
          float r = 0;
          for (int b = 0; b < cols.count; ++b) r += cols.weight[ox][b] * row[cols.index[ox][b]];
          acc += rows.weight[oy][a] * r;
        }
        o[oy * out_w + ox] = acc;
      }
  }
  return {out};
}

const std::vector<KernelRow> kRows = {
    {"resize", k_resize},
};

}  // namespace

const std::vector<KernelRow>& resize_kernels() { return kRows; }

}  // namespace exporters::runtime
