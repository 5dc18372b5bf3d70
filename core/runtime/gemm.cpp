// Blocked SGEMM in the Goto style: loops over N (NC), K (KC) and M (MC)
// blocks; B and A blocks are packed into contiguous panels so the micro-kernel
// streams both from cache. The micro-kernel uses GCC vector extensions
// (8 x f32 lanes) and is compiled twice, with a 6 x 16 register tile for
// AVX2+FMA machines and a 4 x 8 tile for baseline x86-64, picked at run time.
#include "gemm.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <thread>
#include <vector>

// The 8-lane vector type never crosses a non-inlined call boundary.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace exporters::runtime {

namespace {

constexpr int64_t kKC = 256;
constexpr int64_t kMC = 72;  // a multiple of both register-tile heights
constexpr int64_t kNC = 4096;
constexpr int64_t kMaxNR = 16;

typedef float v8f __attribute__((vector_size(32)));

__attribute__((always_inline)) inline v8f load8(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
__attribute__((always_inline)) inline void store8(float* p, v8f v) { std::memcpy(p, &v, sizeof v); }

// Packs rows [0, mc) x cols [0, kc) of A into panels of mr rows: panel p
// holds A(p*mr + i, k) at [k * mr + i]; missing rows are zero.
void pack_a(int64_t mr, int64_t mc, int64_t kc, const MatrixView& a, float* dst) {
  for (int64_t p = 0; p < mc; p += mr) {
    const int64_t rows = std::min(mr, mc - p);
    if (rows < mr) std::fill(dst, dst + kc * mr, 0.0f);
    for (int64_t i = 0; i < rows; ++i) {
      const float* src = a.data + (p + i) * a.row_stride;
      if (a.col_stride == 1) {
        for (int64_t k = 0; k < kc; ++k) dst[k * mr + i] = src[k];
      } else {
        for (int64_t k = 0; k < kc; ++k) dst[k * mr + i] = src[k * a.col_stride];
      }
    }
    dst += kc * mr;
  }
}

// Packs rows [0, kc) x cols [0, nc) of B into panels of nr columns: panel p
// holds B(k, p*nr + j) at [k * nr + j]; missing columns are zero.
void pack_b(int64_t nr, int64_t kc, int64_t nc, const MatrixView& b, float* dst) {
  for (int64_t p = 0; p < nc; p += nr) {
    const int64_t cols = std::min(nr, nc - p);
    if (b.col_stride == 1 && cols == nr) {
      for (int64_t k = 0; k < kc; ++k)
        std::memcpy(dst + k * nr, b.data + k * b.row_stride + p, nr * sizeof(float));
    } else {
      if (cols < nr) std::fill(dst, dst + kc * nr, 0.0f);
      for (int64_t j = 0; j < cols; ++j) {
        const float* src = b.data + (p + j) * b.col_stride;
        for (int64_t k = 0; k < kc; ++k) dst[k * nr + j] = src[k * b.row_stride];
      }
    }
    dst += kc * nr;
  }
}

// C block (mr x nr, mr <= MR, nr <= NR) = (C if accumulate) + a_panel * b_panel,
// with MR x NR accumulators held in registers (NR a multiple of 8 lanes).
template <int64_t MR, int64_t NR>
__attribute__((always_inline)) inline void micro_kernel(int64_t kc, const float* a, const float* b,
                                                        float* c, int64_t ldc, int64_t mr, int64_t nr,
                                                        bool accumulate) {
  constexpr int64_t kV = NR / 8;
  v8f acc[MR][kV] = {};
  for (int64_t k = 0; k < kc; ++k) {
    v8f bk[kV];
#pragma GCC unroll 4
    for (int64_t v = 0; v < kV; ++v) bk[v] = load8(b + k * NR + 8 * v);
    const float* ak = a + k * MR;
#pragma GCC unroll 8
    for (int64_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int64_t v = 0; v < kV; ++v) acc[i][v] += ak[i] * bk[v];
  }
  if (mr == MR && nr == NR) {
    for (int64_t i = 0; i < MR; ++i) {
      float* row = c + i * ldc;
      for (int64_t v = 0; v < kV; ++v)
        store8(row + 8 * v, accumulate ? load8(row + 8 * v) + acc[i][v] : acc[i][v]);
    }
    return;
  }
  float tile[MR][NR];
  std::memcpy(tile, acc, sizeof tile);
  for (int64_t i = 0; i < mr; ++i) {
    float* row = c + i * ldc;
    for (int64_t j = 0; j < nr; ++j) row[j] = accumulate ? row[j] + tile[i][j] : tile[i][j];
  }
}

// All register tiles of one packed (mc x kc) A block against one packed
// (kc x nc) B block.
template <int64_t MR, int64_t NR>
__attribute__((always_inline)) inline void macro_kernel(int64_t mc, int64_t nc, int64_t kc,
                                                        const float* a_packed, const float* b_packed,
                                                        float* c, int64_t ldc, bool accumulate) {
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int64_t nr = std::min(NR, nc - jr);
    const float* b_panel = b_packed + (jr / NR) * kc * NR;
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int64_t mr = std::min(MR, mc - ir);
      micro_kernel<MR, NR>(kc, a_packed + (ir / MR) * kc * MR, b_panel, c + ir * ldc + jr, ldc, mr,
                           nr, accumulate);
    }
  }
}

using MacroKernelFn = void (*)(int64_t, int64_t, int64_t, const float*, const float*, float*,
                               int64_t, bool);

// Baseline x86-64 (16 SSE registers): a 4 x 8 tile.
void macro_kernel_baseline(int64_t mc, int64_t nc, int64_t kc, const float* a, const float* b,
                           float* c, int64_t ldc, bool accumulate) {
  macro_kernel<4, 8>(mc, nc, kc, a, b, c, ldc, accumulate);
}

#if defined(__x86_64__) && defined(__GNUC__)
// AVX2 + FMA (16 YMM registers): a 6 x 16 tile, 12 accumulators.
__attribute__((target("arch=x86-64-v3"))) void macro_kernel_avx2(int64_t mc, int64_t nc, int64_t kc,
                                                                const float* a, const float* b,
                                                                float* c, int64_t ldc,
                                                                bool accumulate) {
  macro_kernel<6, 16>(mc, nc, kc, a, b, c, ldc, accumulate);
}
#endif

struct KernelChoice {
  MacroKernelFn fn;
  int64_t mr, nr;
};

KernelChoice choose_kernel() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {macro_kernel_avx2, 6, 16};
#endif
  return {macro_kernel_baseline, 4, 8};
}

struct AlignedBuffer {
  std::unique_ptr<float[], void (*)(float*)> data{nullptr, [](float* p) {
                                                     ::operator delete[](p, std::align_val_t(64));
                                                   }};
  int64_t size = 0;
  float* get(int64_t n) {
    if (n > size) {
      data.reset(static_cast<float*>(::operator new[](n * sizeof(float), std::align_val_t(64))));
      size = n;
    }
    return data.get();
  }
};

std::atomic<bool> force_baseline{false};

const KernelChoice& active_kernel() {
  static const KernelChoice best = choose_kernel();
  static const KernelChoice baseline = {macro_kernel_baseline, 4, 8};
  return force_baseline.load(std::memory_order_relaxed) ? baseline : best;
}

void sgemm_serial(int64_t M, int64_t N, int64_t K, MatrixView A, MatrixView B, float* C, int64_t ldc,
                  bool accumulate) {
  const KernelChoice kernel = active_kernel();
  thread_local AlignedBuffer a_buf, b_buf;
  const int64_t nc_max = std::min(kNC, (N + kMaxNR - 1) / kMaxNR * kMaxNR);
  float* b_packed = b_buf.get(kKC * nc_max);
  float* a_packed = a_buf.get(kKC * kMC);
  for (int64_t jc = 0; jc < N; jc += kNC) {
    const int64_t nc = std::min(kNC, N - jc);
    for (int64_t pc = 0; pc < K; pc += kKC) {
      const int64_t kc = std::min(kKC, K - pc);
      pack_b(kernel.nr, kc, nc,
             MatrixView{B.data + pc * B.row_stride + jc * B.col_stride, B.row_stride, B.col_stride},
             b_packed);
      const bool acc = accumulate || pc > 0;
      for (int64_t ic = 0; ic < M; ic += kMC) {
        const int64_t mc = std::min(kMC, M - ic);
        pack_a(kernel.mr, mc, kc,
               MatrixView{A.data + ic * A.row_stride + pc * A.col_stride, A.row_stride, A.col_stride},
               a_packed);
        kernel.fn(mc, nc, kc, a_packed, b_packed, C + ic * ldc + jc, ldc, acc);
      }
    }
  }
}

}  // namespace

const char* sgemm_kernel_name() { return active_kernel().mr == 6 ? "avx2" : "baseline"; }
void sgemm_force_baseline(bool on) { force_baseline.store(on); }

void sgemm(int64_t M, int64_t N, int64_t K, MatrixView A, MatrixView B, float* C, int64_t ldc,
           bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, 0.0f);
    return;
  }
  // Two threads (the target machines have few cores) along N, each with its
  // own packing buffers; only when the work dwarfs a thread start.
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  static const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (cores >= 2 && flops >= 8e6 && N >= 4 * kMaxNR) {
    const int64_t half = (N / 2 + kMaxNR - 1) / kMaxNR * kMaxNR;
    std::exception_ptr failure;
    std::thread worker([&] {
      try {
        sgemm_serial(M, N - half, K, A,
                     MatrixView{B.data + half * B.col_stride, B.row_stride, B.col_stride}, C + half,
                     ldc, accumulate);
      } catch (...) {
        failure = std::current_exception();
      }
    });
    try {
      sgemm_serial(M, half, K, A, B, C, ldc, accumulate);
    } catch (...) {
      worker.join();
      throw;
    }
    worker.join();
    if (failure) std::rethrow_exception(failure);
    return;
  }
  sgemm_serial(M, N, K, A, B, C, ldc, accumulate);
}

}  // namespace exporters::runtime
