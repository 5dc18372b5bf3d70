// matmul (batched, broadcasting batch dims) and linear, on the blocked SGEMM.
// Integer operands take a plain loop (rare in models, never large).
#include "gemm.hpp"
#include "kernel.hpp"

namespace exporters::runtime {

namespace {

// C[M x N] = A[M x K] * B[K x N] on integers; B(k, n) at b[k * b_rs + n * b_cs].
template <class T>
void int_gemm(int64_t M, int64_t N, int64_t K, const T* a, const T* b, int64_t b_rs, int64_t b_cs,
              T* c) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      uint64_t acc = 0;  // wraps like the integer type would
      for (int64_t k = 0; k < K; ++k)
        acc += static_cast<uint64_t>(static_cast<int64_t>(a[i * K + k])) *
               static_cast<uint64_t>(static_cast<int64_t>(b[k * b_rs + j * b_cs]));
      c[i * N + j] = static_cast<T>(acc);
    }
}

std::vector<Tensor> k_matmul(const KernelArgs& args) {
  const Tensor& a = args.in(0);
  const Tensor& b = args.in(1);
  if (a.dtype() != b.dtype()) kernel_error("operands have different dtypes");
  Tensor out = new_tensor(args.outputs.at(0));
  const Shape& as = a.shape();
  const Shape& bs = b.shape();
  const Shape& os = out.shape();
  if (as.size() < 2 || bs.size() < 2) kernel_error("operands must have rank >= 2");
  const int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
  if (bs[bs.size() - 2] != K) kernel_error("inner dimensions differ");
  const Shape batch(os.begin(), os.end() - 2);
  const Shape a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
  auto a_strides = broadcast_strides(a_batch, batch);
  auto b_strides = broadcast_strides(b_batch, batch);
  for (auto& s : a_strides) s *= M * K;
  for (auto& s : b_strides) s *= K * N;
  auto o_strides = contiguous_strides(batch);
  for (auto& s : o_strides) s *= M * N;

  if (a.dtype() == DType::F32) {
    const float* pa = a.data_as<float>();
    const float* pb = b.data_as<float>();
    float* po = out.mutable_as<float>();
    const int64_t batches = ir::shape_numel(batch);
    bool b_shared = true;
    for (int64_t s : b_strides) b_shared &= s == 0;
    if (batches > 1 && b_shared && a_batch == batch) {
      // One B for every batch and A contiguous: fold the batch into M.
      sgemm(batches * M, N, K, {pa, K, 1}, {pb, N, 1}, po, N, false);
      return {out};
    }
    strided_loop<3>(batch, {o_strides, a_strides, b_strides},
                    [&](const auto& off, const auto& inc, int64_t n) {
                      for (int64_t i = 0; i < n; ++i)
                        sgemm(M, N, K, {pa + off[1] + i * inc[1], K, 1}, {pb + off[2] + i * inc[2], N, 1},
                              po + off[0] + i * inc[0], N, false);
                    });
    return {out};
  }
  visit_dtype(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool> || std::is_floating_point_v<T>) {
      kernel_error("not defined for dtype " + dtype_str(a.dtype()));
    } else {
      const T* pa = a.data_as<T>();
      const T* pb = b.data_as<T>();
      T* po = out.mutable_as<T>();
      strided_loop<3>(batch, {o_strides, a_strides, b_strides},
                      [&](const auto& off, const auto& inc, int64_t n) {
                        for (int64_t i = 0; i < n; ++i)
                          int_gemm<T>(M, N, K, pa + off[1] + i * inc[1], pb + off[2] + i * inc[2], N, 1,
                                      po + off[0] + i * inc[0]);
                      });
    }
  });
  return {out};
}

// linear(x[..., K], w[N, K], bias[N]?) = x @ w^T + bias; w^T is read through
// swapped strides, never materialised.
std::vector<Tensor> k_linear(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  const Tensor& w = args.in(1);
  if (x.dtype() != w.dtype()) kernel_error("x and weight have different dtypes");
  if (w.shape().size() != 2) kernel_error("weight must be 2-D");
  Tensor out = new_tensor(args.outputs.at(0));
  const int64_t N = w.shape()[0], K = w.shape()[1];
  const int64_t M = K == 0 ? 0 : x.numel() / K;
  const bool has_bias = args.has_input(2);
  if (has_bias && (args.inputs[2].dtype() != x.dtype() || args.inputs[2].numel() != N))
    kernel_error("bias must be [" + std::to_string(N) + "] of the input dtype");
  if (x.dtype() == DType::F32) {
    float* po = out.mutable_as<float>();
    if (has_bias) {
      const float* pbias = args.inputs[2].data_as<float>();
      for (int64_t i = 0; i < M; ++i) std::memcpy(po + i * N, pbias, N * sizeof(float));
    }
    sgemm(M, N, K, {x.data_as<float>(), K, 1}, {w.data_as<float>(), 1, K}, po, N, has_bias);
    return {out};
  }
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool> || std::is_floating_point_v<T>) {
      kernel_error("not defined for dtype " + dtype_str(x.dtype()));
    } else {
      T* po = out.mutable_as<T>();
      int_gemm<T>(M, N, K, x.data_as<T>(), w.data_as<T>(), 1, K, po);
      if (has_bias) {
        const T* pbias = args.inputs[2].data_as<T>();
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j)
            po[i * N + j] = static_cast<T>(static_cast<uint64_t>(po[i * N + j]) + static_cast<uint64_t>(pbias[j]));
      }
    }
  });
  return {out};
}

const std::vector<KernelRow> kRows = {
    {"matmul", k_matmul},
    {"linear", k_linear},
};

}  // namespace

const std::vector<KernelRow>& matmul_kernels() { return kRows; }

}  // namespace exporters::runtime
