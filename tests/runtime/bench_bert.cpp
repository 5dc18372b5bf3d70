// Whole-model speed of the interpreter (not a test): a BERT-base-sized
// encoder (12 layers, hidden 768, 12 heads, FFN 3072, sequence 128) built
// from canonical ops with random weights, timed end to end. Prints seconds
// per forward and the GFLOP/s that implies. Optional args: layers seq reps.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "core/runtime/interpreter.hpp"
#include "exporters/ir/graph.hpp"

namespace ir = exporters::ir;
namespace rt = exporters::runtime;

namespace {

std::mt19937 rng(7);

ir::Tensor random_tensor(ir::Shape shape, float scale) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(ir::shape_numel(shape)));
  for (float& x : v) x = dist(rng);
  return ir::Tensor::from_f32(std::move(shape), v);
}

using Ints = std::vector<int64_t>;

}  // namespace

int main(int argc, char** argv) {
  const int64_t layers = argc > 1 ? std::atoll(argv[1]) : 12;
  const int64_t S = argc > 2 ? std::atoll(argv[2]) : 128;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 3;
  const int64_t H = 768, heads = 12, D = H / heads, F = 3072;

  ir::Graph g;
  ir::Value* x = g.add_input("hidden", {ir::DType::F32, {1, S, H}});
  ir::Value* mask = g.add_input("mask", {ir::DType::F32, {1, 1, 1, S}});
  auto weight = [&](ir::Shape s) { return g.constant(random_tensor(std::move(s), 0.02f)); };
  auto ones = [&](int64_t n) { return g.constant(ir::Tensor::from_f32({n}, std::vector<float>(n, 1.0f))); };
  ir::Value* scale = g.constant(ir::Tensor::scalar_f32(0.125f));
  for (int64_t l = 0; l < layers; ++l) {
    auto heads_of = [&](ir::Value* t, Ints perm) {
      ir::Value* r = g.add1("reshape", {t}, {{"shape", Ints{1, S, heads, D}}});
      return g.add1("transpose", {r}, {{"perm", perm}});
    };
    ir::Value* q = heads_of(g.add1("linear", {x, weight({H, H}), weight({H})}), {0, 2, 1, 3});
    ir::Value* k = heads_of(g.add1("linear", {x, weight({H, H}), weight({H})}), {0, 2, 3, 1});
    ir::Value* v = heads_of(g.add1("linear", {x, weight({H, H}), weight({H})}), {0, 2, 1, 3});
    ir::Value* scores = g.add1("mul", {g.add1("matmul", {q, k}), scale});
    ir::Value* probs = g.add1("softmax", {g.add1("add", {scores, mask})}, {{"axis", int64_t{3}}});
    ir::Value* ctx = g.add1("transpose", {g.add1("matmul", {probs, v})}, {{"perm", Ints{0, 2, 1, 3}}});
    ctx = g.add1("reshape", {ctx}, {{"shape", Ints{1, S, H}}});
    ir::Value* attn = g.add1("add", {g.add1("linear", {ctx, weight({H, H}), weight({H})}), x});
    ir::Value* h = g.add1("layer_norm", {attn, ones(H), weight({H})}, {{"axes", Ints{2}}, {"epsilon", 1e-12}});
    ir::Value* ff = g.add1("gelu", {g.add1("linear", {h, weight({F, H}), weight({F})})},
                           {{"approximate", std::string("none")}});
    ir::Value* out = g.add1("add", {g.add1("linear", {ff, weight({H, F}), weight({H})}), h});
    x = g.add1("layer_norm", {out, ones(H), weight({H})}, {{"axes", Ints{2}}, {"epsilon", 1e-12}});
  }
  g.add_output(x, "last_hidden_state");
  ir::verify(g);

  const std::vector<ir::Tensor> inputs = {random_tensor({1, S, H}, 1.0f),
                                          ir::Tensor::zeros(ir::DType::F32, {1, 1, 1, S})};
  rt::run(g, inputs);  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) rt::run(g, inputs);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
  const double flops = static_cast<double>(layers) *
                       (2.0 * S * H * H * 4 + 2.0 * S * H * F * 2 + 2.0 * 2.0 * heads * S * S * D);
  std::printf("BERT-base-sized encoder, %lld layers, sequence %lld: %.3f s per forward (%.1f GFLOP/s)\n",
              static_cast<long long>(layers), static_cast<long long>(S), s, flops / s * 1e-9);
  return 0;
}
