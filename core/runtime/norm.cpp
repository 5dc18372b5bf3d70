// Normalisations: layer_norm (trailing axes), group_norm, batch_norm
// (inference). Statistics are accumulated in double; variance is biased.
#include "kernel.hpp"

namespace exporters::runtime {

namespace {

const float* optional_param(const KernelArgs& args, size_t i, int64_t n, const char* what) {
  if (!args.has_input(i)) return nullptr;
  const Tensor& t = args.inputs[i];
  if (t.dtype() != DType::F32 || t.numel() != n)
    kernel_error(std::string(what) + " must have " + std::to_string(n) + " float elements");
  return t.data_as<float>();
}

// mean and 1/sqrt(var + eps) of n contiguous values.
void moments(const float* x, int64_t n, double eps, float& mean, float& inv_std) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const double m = sum / static_cast<double>(n);
  double sq = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = x[i] - m;
    sq += d * d;
  }
  mean = static_cast<float>(m);
  inv_std = static_cast<float>(1.0 / std::sqrt(sq / static_cast<double>(n) + eps));
}

std::vector<Tensor> k_layer_norm(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  const auto& axes = args.attrs().ints("axes");
  const double eps = args.attrs().f("epsilon");
  const int64_t rank = static_cast<int64_t>(x.shape().size());
  int64_t inner = 1;
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] != rank - static_cast<int64_t>(axes.size()) + static_cast<int64_t>(i))
      kernel_error("axes must be the trailing axes");
    inner *= x.shape()[axes[i]];
  }
  const int64_t rows = inner == 0 ? 0 : x.numel() / inner;
  const float* gamma = optional_param(args, 1, inner, "gamma");
  const float* beta = optional_param(args, 2, inner, "beta");
  Tensor out = new_tensor(args.outputs.at(0));
  const float* px = x.data_as<float>();
  float* po = out.mutable_as<float>();
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = px + r * inner;
    float* yr = po + r * inner;
    float mean, inv_std;
    moments(xr, inner, eps, mean, inv_std);
    for (int64_t i = 0; i < inner; ++i) {
      float v = (xr[i] - mean) * inv_std;
      if (gamma) v *= gamma[i];
      if (beta) v += beta[i];
      yr[i] = v;
    }
  }
  return {out};
}

std::vector<Tensor> k_group_norm(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  const Shape& s = x.shape();
  if (s.size() < 2) kernel_error("input must be [N, C, ...]");
  const int64_t groups = args.attrs().i("groups");
  const double eps = args.attrs().f("epsilon");
  const int64_t n = s[0], c = s[1];
  if (groups < 1 || c % groups) kernel_error("channels must divide into groups");
  const int64_t plane = c == 0 || n == 0 ? 0 : x.numel() / (n * c);
  const int64_t cpg = c / groups;
  const float* gamma = optional_param(args, 1, c, "gamma");
  const float* beta = optional_param(args, 2, c, "beta");
  Tensor out = new_tensor(args.outputs.at(0));
  const float* px = x.data_as<float>();
  float* po = out.mutable_as<float>();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t base = (b * c + g * cpg) * plane;
      float mean, inv_std;
      moments(px + base, cpg * plane, eps, mean, inv_std);
      for (int64_t ch = 0; ch < cpg; ++ch) {
        const int64_t channel = g * cpg + ch;
        const float scale = inv_std * (gamma ? gamma[channel] : 1.0f);
        const float shift = beta ? beta[channel] : 0.0f;
        const float* xr = px + base + ch * plane;
        float* yr = po + base + ch * plane;
        // Centred first: with a tiny epsilon a near-constant group has a huge
        // scale, and x * scale - mean * scale would cancel catastrophically.
        for (int64_t i = 0; i < plane; ++i) yr[i] = (xr[i] - mean) * scale + shift;
      }
    }
  return {out};
}

std::vector<Tensor> k_batch_norm(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  const Shape& s = x.shape();
  if (s.size() < 2) kernel_error("input must be [N, C, ...]");
  const int64_t n = s[0], c = s[1];
  const int64_t plane = c == 0 || n == 0 ? 0 : x.numel() / (n * c);
  const double eps = args.attrs().f("epsilon");
  const float* mean = optional_param(args, 1, c, "mean");
  const float* var = optional_param(args, 2, c, "var");
  if (!mean || !var) kernel_error("mean and var are required");
  const float* gamma = optional_param(args, 3, c, "gamma");
  const float* beta = optional_param(args, 4, c, "beta");
  Tensor out = new_tensor(args.outputs.at(0));
  const float* px = x.data_as<float>();
  float* po = out.mutable_as<float>();
  for (int64_t ch = 0; ch < c; ++ch) {
    const auto inv_std = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var[ch]) + eps));
    const float scale = inv_std * (gamma ? gamma[ch] : 1.0f);
    const float shift = (beta ? beta[ch] : 0.0f) - mean[ch] * scale;
    for (int64_t b = 0; b < n; ++b) {
      const float* xr = px + (b * c + ch) * plane;
      float* yr = po + (b * c + ch) * plane;
      for (int64_t i = 0; i < plane; ++i) yr[i] = xr[i] * scale + shift;
    }
  }
  return {out};
}

const std::vector<KernelRow> kRows = {
    {"layer_norm", k_layer_norm},
    {"group_norm", k_group_norm},
    {"batch_norm", k_batch_norm},
};

}  // namespace

const std::vector<KernelRow>& norm_kernels() { return kRows; }

}  // namespace exporters::runtime
