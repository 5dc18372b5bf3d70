// conv and conv_transpose (1-D and 2-D, groups, strides, dilations,
// asymmetric pads). conv lowers each (image, group) to im2col + SGEMM, with
// shortcuts for pointwise convolutions (no im2col) and depthwise ones
// (direct accumulation); conv_transpose is SGEMM + col2im. A 1-D problem is
// the 2-D one with a height of 1.
#include <algorithm>

#include "gemm.hpp"
#include "kernel.hpp"

namespace exporters::runtime {

namespace {

struct ConvGeometry {
  int64_t batch = 0, in_c = 0, in_h = 1, in_w = 0;
  int64_t out_c = 0, out_h = 1, out_w = 0;
  int64_t k_h = 1, k_w = 0;
  int64_t s_h = 1, s_w = 1, d_h = 1, d_w = 1;
  int64_t p_top = 0, p_left = 0;
  int64_t groups = 1;
};

ConvGeometry geometry(const KernelArgs& args, const Tensor& x, const Tensor& w, const Tensor& out) {
  const Shape& xs = x.shape();
  const size_t sp = xs.size() - 2;
  if (sp != 1 && sp != 2) kernel_error("only 1-D and 2-D convolutions are supported");
  if (w.shape().size() != xs.size()) kernel_error("weight rank must equal input rank");
  const ir::Attrs& a = args.attrs();
  const auto strides = a.ints("strides", std::vector<int64_t>(sp, 1));
  const auto dil = a.ints("dilations", std::vector<int64_t>(sp, 1));
  const auto pads = a.ints("pads", std::vector<int64_t>(2 * sp, 0));
  if (strides.size() != sp || dil.size() != sp || pads.size() != 2 * sp)
    kernel_error("strides/dilations/pads do not match the spatial rank");
  ConvGeometry g;
  g.batch = xs[0];
  g.in_c = xs[1];
  g.out_c = out.shape()[1];
  g.groups = a.i("groups", 1);
  if (g.groups < 1 || g.in_c % g.groups || g.out_c % g.groups) kernel_error("bad groups");
  const Shape& ws = w.shape();
  const Shape& os = out.shape();
  if (sp == 2) {
    g.in_h = xs[2];
    g.in_w = xs[3];
    g.out_h = os[2];
    g.out_w = os[3];
    g.k_h = ws[2];
    g.k_w = ws[3];
    g.s_h = strides[0];
    g.s_w = strides[1];
    g.d_h = dil[0];
    g.d_w = dil[1];
    g.p_top = pads[0];
    g.p_left = pads[1];
  } else {
    g.in_w = xs[2];
    g.out_w = os[2];
    g.k_w = ws[2];
    g.s_w = strides[0];
    g.d_w = dil[0];
    g.p_left = pads[0];
  }
  if (g.s_h < 1 || g.s_w < 1 || g.d_h < 1 || g.d_w < 1) kernel_error("strides and dilations must be >= 1");
  return g;
}

// Range [lo, hi) of output positions o whose input position o*s + off lies in [0, n).
void valid_range(int64_t n, int64_t out_n, int64_t s, int64_t off, int64_t& lo, int64_t& hi) {
  lo = std::min(out_n, off >= 0 ? int64_t{0} : (-off + s - 1) / s);
  hi = (n - 1 - off) < 0 ? 0 : std::min(out_n, (n - 1 - off) / s + 1);
  if (hi < lo) hi = lo;  // both within [0, out_n] (pads may exceed the input)
}

// cols[(c*kh + ky)*kw + kx, oy*OW + ox] = x[c, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw] (0 outside).
void im2col(const ConvGeometry& g, int64_t channels, const float* x, float* cols) {
  const int64_t ohw = g.out_h * g.out_w;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t ky = 0; ky < g.k_h; ++ky)
      for (int64_t kx = 0; kx < g.k_w; ++kx) {
        float* row = cols + ((c * g.k_h + ky) * g.k_w + kx) * ohw;
        const int64_t off_x = kx * g.d_w - g.p_left;
        int64_t x_lo, x_hi;
        valid_range(g.in_w, g.out_w, g.s_w, off_x, x_lo, x_hi);
        for (int64_t oy = 0; oy < g.out_h; ++oy) {
          float* dst = row + oy * g.out_w;
          const int64_t iy = oy * g.s_h - g.p_top + ky * g.d_h;
          if (iy < 0 || iy >= g.in_h) {
            std::fill(dst, dst + g.out_w, 0.0f);
            continue;
          }
          const float* src = x + (c * g.in_h + iy) * g.in_w;
          std::fill(dst, dst + x_lo, 0.0f);
          if (g.s_w == 1) {
            std::copy(src + x_lo + off_x, src + x_hi + off_x, dst + x_lo);
          } else {
            for (int64_t ox = x_lo; ox < x_hi; ++ox) dst[ox] = src[ox * g.s_w + off_x];
          }
          std::fill(dst + x_hi, dst + g.out_w, 0.0f);
        }
      }
}

// One channel of a depthwise convolution, accumulated into `out` (pre-filled with the bias).
void depthwise_channel(const ConvGeometry& g, const float* x, const float* w, float* out) {
  for (int64_t ky = 0; ky < g.k_h; ++ky)
    for (int64_t kx = 0; kx < g.k_w; ++kx) {
      const float wv = w[ky * g.k_w + kx];
      const int64_t off_x = kx * g.d_w - g.p_left;
      int64_t x_lo, x_hi;
      valid_range(g.in_w, g.out_w, g.s_w, off_x, x_lo, x_hi);
      for (int64_t oy = 0; oy < g.out_h; ++oy) {
        const int64_t iy = oy * g.s_h - g.p_top + ky * g.d_h;
        if (iy < 0 || iy >= g.in_h) continue;
        const float* src = x + iy * g.in_w + off_x;
        float* dst = out + oy * g.out_w;
        if (g.s_w == 1) {
          for (int64_t ox = x_lo; ox < x_hi; ++ox) dst[ox] += wv * src[ox];
        } else {
          for (int64_t ox = x_lo; ox < x_hi; ++ox) dst[ox] += wv * src[ox * g.s_w];
        }
      }
    }
}

void fill_bias(const KernelArgs& args, int64_t batch, int64_t channels, int64_t plane, float* out) {
  if (!args.has_input(2)) return;
  const Tensor& bias = args.inputs[2];
  if (bias.dtype() != DType::F32 || bias.numel() != channels) kernel_error("bias must be [O] of the input dtype");
  const float* b = bias.data_as<float>();
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c) std::fill_n(out + (n * channels + c) * plane, plane, b[c]);
}

std::vector<Tensor> k_conv(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  const Tensor& w = args.in(1);
  if (x.dtype() != DType::F32 || w.dtype() != DType::F32) kernel_error("conv needs float inputs");
  Tensor out = new_tensor(args.outputs.at(0));
  const ConvGeometry g = geometry(args, x, w, out);
  const int64_t cg = g.in_c / g.groups, og = g.out_c / g.groups;
  if (w.shape()[0] != g.out_c || w.shape()[1] != cg) kernel_error("weight shape does not match groups");
  const int64_t ohw = g.out_h * g.out_w, ihw = g.in_h * g.in_w;
  const int64_t kk = cg * g.k_h * g.k_w;
  const float* px = x.data_as<float>();
  const float* pw = w.data_as<float>();
  float* po = out.mutable_as<float>();
  const bool has_bias = args.has_input(2);
  fill_bias(args, g.batch, g.out_c, ohw, po);

  if (cg == 1 && og == 1) {
    for (int64_t n = 0; n < g.batch; ++n)
      for (int64_t c = 0; c < g.in_c; ++c)
        depthwise_channel(g, px + (n * g.in_c + c) * ihw, pw + c * g.k_h * g.k_w, po + (n * g.out_c + c) * ohw);
    return {out};
  }
  const bool pointwise = g.k_h == 1 && g.k_w == 1 && g.s_h == 1 && g.s_w == 1 && g.p_top == 0 &&
                         g.p_left == 0 && g.out_h == g.in_h && g.out_w == g.in_w;
  std::vector<float> cols(pointwise ? 0 : static_cast<size_t>(kk * ohw));
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const float* xg = px + (n * g.in_c + grp * cg) * ihw;
      const float* b = xg;
      if (!pointwise) {
        im2col(g, cg, xg, cols.data());
        b = cols.data();
      }
      sgemm(og, ohw, kk, {pw + grp * og * kk, kk, 1}, {b, ohw, 1}, po + (n * g.out_c + grp * og) * ohw, ohw,
            has_bias);
    }
  return {out};
}

std::vector<Tensor> k_conv_transpose(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  const Tensor& w = args.in(1);
  if (x.dtype() != DType::F32 || w.dtype() != DType::F32) kernel_error("conv_transpose needs float inputs");
  Tensor out = new_tensor(args.outputs.at(0));
  // Geometry of the forward convolution whose gradient this is: "in" is our
  // output, "out" our input.
  ConvGeometry g = geometry(args, x, w, out);
  const int64_t in_c = g.in_c, groups = g.groups;
  const int64_t cg = in_c / groups, og = g.out_c / groups;
  if (w.shape()[0] != in_c || w.shape()[1] != og) kernel_error("weight shape does not match groups");
  const Shape& xs = x.shape();
  const Shape& os = out.shape();
  const int64_t xh = xs.size() == 4 ? xs[2] : 1, xw = xs.back();
  const int64_t oh = os.size() == 4 ? os[2] : 1, ow = os.back();
  const int64_t khw = g.k_h * g.k_w, xhw = xh * xw, ohw = oh * ow;
  const float* px = x.data_as<float>();
  const float* pw = w.data_as<float>();
  float* po = out.mutable_as<float>();
  fill_bias(args, g.batch, g.out_c, ohw, po);

  std::vector<float> cols(static_cast<size_t>(og * khw * xhw));
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t grp = 0; grp < groups; ++grp) {
      // cols[o*khw + k, p] = sum_c w[grp*cg + c, o, k] * x[n, grp*cg + c, p]
      const float* wg = pw + grp * cg * og * khw;
      sgemm(og * khw, xhw, cg, {wg, 1, og * khw}, {px + (n * in_c + grp * cg) * xhw, xhw, 1}, cols.data(), xhw,
            false);
      // col2im: scatter-add every column entry to its output position.
      for (int64_t o = 0; o < og; ++o) {
        float* plane = po + (n * g.out_c + grp * og + o) * ohw;
        for (int64_t ky = 0; ky < g.k_h; ++ky)
          for (int64_t kx = 0; kx < g.k_w; ++kx) {
            const float* row = cols.data() + ((o * g.k_h + ky) * g.k_w + kx) * xhw;
            for (int64_t iy = 0; iy < xh; ++iy) {
              const int64_t y = iy * g.s_h - g.p_top + ky * g.d_h;
              if (y < 0 || y >= oh) continue;
              for (int64_t ix = 0; ix < xw; ++ix) {
                const int64_t xo = ix * g.s_w - g.p_left + kx * g.d_w;
                if (xo < 0 || xo >= ow) continue;
                plane[y * ow + xo] += row[iy * xw + ix];
              }
            }
          }
      }
    }
  return {out};
}

const std::vector<KernelRow> kRows = {
    {"conv", k_conv},
    {"conv_transpose", k_conv_transpose},
};

}  // namespace

const std::vector<KernelRow>& conv_kernels() { return kRows; }

}  // namespace exporters::runtime
