// Single-precision GEMM shared by matmul, linear and the convolutions.
#pragma once

#include <cstdint>

namespace exporters::runtime {

// Element (i, j) of a matrix is data[i * row_stride + j * col_stride], so a
// transposed operand is just swapped strides (no copy).
struct MatrixView {
  const float* data;
  int64_t row_stride;
  int64_t col_stride;
};

// C[M x N] = A[M x K] * B[K x N] (+ C when accumulate). C is row-major with
// row stride ldc. Cache-blocked: B is packed into K x 16 panels, A into
// K x 6 panels, and a register-tiled micro-kernel accumulates 6 x 16 blocks.
// Large problems are split over two threads along N.
void sgemm(int64_t M, int64_t N, int64_t K, MatrixView A, MatrixView B, float* C, int64_t ldc,
           bool accumulate);

// The register tile in use: "avx2" (6 x 16, AVX2+FMA machines) or "baseline"
// (4 x 8, any x86-64). Tests force the baseline so both are exercised.
const char* sgemm_kernel_name();
void sgemm_force_baseline(bool on);

}  // namespace exporters::runtime
