// The blocked SGEMM against a plain double-precision product, on both
// register tiles, for sizes that are not multiples of any block, strided
// (transposed) operands and accumulation.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/runtime/gemm.hpp"

namespace rt = exporters::runtime;

namespace {

struct Problem {
  int64_t M, N, K;
  bool a_transposed, b_transposed, accumulate;
};

// Largest |C - reference| relative to the reference's scale.
double max_error(const Problem& p) {
  std::mt19937 rng(static_cast<unsigned>(p.M * 131 + p.N * 17 + p.K));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> a(static_cast<size_t>(p.M * p.K)), b(static_cast<size_t>(p.K * p.N));
  std::vector<float> c(static_cast<size_t>(p.M * p.N));
  for (float& v : a) v = dist(rng);
  for (float& v : b) v = dist(rng);
  for (float& v : c) v = dist(rng);
  const std::vector<float> c0 = c;
  // Element (i, k) of A and (k, j) of B under either storage order.
  auto A = [&](int64_t i, int64_t k) { return p.a_transposed ? a[k * p.M + i] : a[i * p.K + k]; };
  auto B = [&](int64_t k, int64_t j) { return p.b_transposed ? b[j * p.K + k] : b[k * p.N + j]; };
  const rt::MatrixView av = p.a_transposed ? rt::MatrixView{a.data(), 1, p.M} : rt::MatrixView{a.data(), p.K, 1};
  const rt::MatrixView bv = p.b_transposed ? rt::MatrixView{b.data(), 1, p.K} : rt::MatrixView{b.data(), p.N, 1};
  rt::sgemm(p.M, p.N, p.K, av, bv, c.data(), p.N, p.accumulate);
  double worst = 0;
  for (int64_t i = 0; i < p.M; ++i)
    for (int64_t j = 0; j < p.N; ++j) {
      double ref = p.accumulate ? c0[i * p.N + j] : 0.0;
      for (int64_t k = 0; k < p.K; ++k) ref += static_cast<double>(A(i, k)) * B(k, j);
      worst = std::max(worst, std::fabs(ref - c[i * p.N + j]) / std::max(1.0, std::sqrt(static_cast<double>(p.K))));
    }
  return worst;
}

void check_all_shapes() {
  const std::vector<Problem> problems = {
      {1, 1, 1, false, false, false},     {7, 5, 3, false, false, false},
      {6, 16, 256, false, false, false},  {13, 33, 257, false, false, true},
      {73, 47, 300, false, true, false},  {100, 37, 520, true, false, true},
      {5, 200, 64, true, true, false},    {150, 130, 90, false, true, true},
      {128, 260, 300, false, false, false},  // large enough for the two-thread split
      {4, 4, 0, false, false, false},
  };
  for (const Problem& p : problems) {
    INFO("M=" << p.M << " N=" << p.N << " K=" << p.K << " aT=" << p.a_transposed << " bT=" << p.b_transposed
              << " acc=" << p.accumulate);
    CHECK(max_error(p) < 1e-5);
  }
}

}  // namespace

TEST_CASE("sgemm matches a double-precision product with the machine's best tile") {
  rt::sgemm_force_baseline(false);
  MESSAGE("sgemm kernel: " << std::string(rt::sgemm_kernel_name()));
  check_all_shapes();
}

TEST_CASE("sgemm matches a double-precision product with the baseline x86-64 tile") {
  rt::sgemm_force_baseline(true);
  CHECK(std::string(rt::sgemm_kernel_name()) == "baseline");
  check_all_shapes();
  rt::sgemm_force_baseline(false);
}
