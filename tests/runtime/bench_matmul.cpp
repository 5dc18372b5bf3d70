// Speed of the interpreter's matmul (not a test): prints GFLOP/s through the
// SGEMM directly and through a one-node `matmul` graph, for 768x768x128
// problems both ways round: M=768 N=768 K=128, and M=128 N=768 K=768 (a
// BERT-base linear layer over 128 tokens). Optional args: M N K [repetitions].
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <vector>

#include "core/runtime/gemm.hpp"
#include "core/runtime/interpreter.hpp"
#include "exporters/ir/graph.hpp"

namespace ir = exporters::ir;
namespace rt = exporters::runtime;

namespace {

void bench(int64_t M, int64_t N, int64_t K, int reps) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> a(static_cast<size_t>(M * K)), b(static_cast<size_t>(K * N));
  for (float& v : a) v = dist(rng);
  for (float& v : b) v = dist(rng);
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);

  std::vector<float> c(static_cast<size_t>(M * N));
  rt::sgemm(M, N, K, {a.data(), K, 1}, {b.data(), N, 1}, c.data(), N, false);  // warm-up
  auto t0 = std::chrono::steady_clock::now();
  const std::clock_t c0 = std::clock();
  for (int r = 0; r < reps; ++r) rt::sgemm(M, N, K, {a.data(), K, 1}, {b.data(), N, 1}, c.data(), N, false);
  const double sgemm_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
  // CPU seconds over all threads: the rate per busy core, less sensitive to a loaded machine.
  const double sgemm_cpu_s = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC / reps;

  ir::Graph g;
  auto* x = g.add_input("x", {ir::DType::F32, {M, K}});
  auto* w = g.constant(ir::Tensor::copy_of(ir::DType::F32, {K, N}, b.data()));
  g.add_output(g.add1("matmul", {x, w}), "y");
  const ir::Tensor in = ir::Tensor::copy_of(ir::DType::F32, {M, K}, a.data());
  rt::run(g, {in});
  t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) rt::run(g, {in});
  const double graph_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;

  std::printf(
      "matmul %lldx%lldx%lld (MxNxK): sgemm %.2f GFLOP/s (%.3f ms wall, %.2f GFLOP per CPU-second), "
      "graph %.2f GFLOP/s (%.3f ms)\n",
      static_cast<long long>(M), static_cast<long long>(N), static_cast<long long>(K), flops / sgemm_s * 1e-9,
      sgemm_s * 1e3, flops / sgemm_cpu_s * 1e-9, flops / graph_s * 1e-9, graph_s * 1e3);
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc >= 5 ? std::atoi(argv[4]) : 50;
  if (argc >= 4) {
    bench(std::atoll(argv[1]), std::atoll(argv[2]), std::atoll(argv[3]), reps);
  } else {
    bench(768, 768, 128, reps);
    bench(128, 768, 768, reps);
  }
  return 0;
}
