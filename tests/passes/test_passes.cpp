// Each pass on one small graph per behaviour: the printed result must equal
// the hand-written golden text in tests/passes/golden/<case>.txt, the result
// must verify, and (for every rewrite) the interpreter must give the same
// outputs before and after the pass on random inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <sstream>

#include "core/passes/passes.hpp"
#include "core/runtime/interpreter.hpp"
#include "exporters/ir/graph.hpp"

using namespace exporters;
using ir::DType;
using ir::Graph;
using ir::Tensor;
using ir::Value;

namespace {

std::string read_golden(const std::string& name) {
  const char* root = std::getenv("EXPORTERS_SOURCE_ROOT");
  REQUIRE_MESSAGE(root, "EXPORTERS_SOURCE_ROOT is not set (run through meson test)");
  std::string path = std::string(root) + "/tests/passes/golden/" + name + ".txt";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "missing golden file " << path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Tensor random_tensor(const ir::TensorType& type, std::mt19937& rng) {
  Tensor t = Tensor::zeros(type.dtype, type.shape);
  std::normal_distribution<float> normal(0.f, 1.5f);
  std::bernoulli_distribution coin(0.5);
  for (int64_t i = 0; i < t.numel(); ++i) {
    switch (type.dtype) {
      case DType::F32: t.mutable_as<float>()[i] = normal(rng); break;
      case DType::F16: t.mutable_as<uint16_t>()[i] = ir::float_to_half(normal(rng)); break;
      case DType::I64: t.mutable_as<int64_t>()[i] = coin(rng); break;
      case DType::I32: t.mutable_as<int32_t>()[i] = coin(rng); break;
      case DType::Bool: t.mutable_as<uint8_t>()[i] = coin(rng); break;
      default: FAIL("no random data for ", ir::dtype_name(type.dtype));
    }
  }
  return t;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.type() == b.type());
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    double x = a.element_as_double(i), y = b.element_as_double(i);
    if (x == y) continue;  // also equal infinities
    worst = std::max(worst, std::isnan(x) || std::isnan(y) ? INFINITY : std::abs(x - y));
  }
  return worst;
}

// Runs `pass` on the graph `build` makes and checks the golden text, the
// verifier and (unless `numeric` is false) that outputs do not change.
void check_pass(const std::string& golden, const std::function<Graph()>& build,
                const std::function<void(Graph&)>& pass, bool numeric = true, double tolerance = 1e-5) {
  Graph g = build();
  ir::verify(g);
  std::vector<Tensor> inputs, before;
  std::mt19937 rng(1234);
  if (numeric) {
    for (const Value* in : g.inputs()) inputs.push_back(random_tensor(in->type, rng));
    before = runtime::run(g, inputs);
  }
  const std::vector<std::string> names = g.output_names();
  pass(g);
  ir::verify(g);
  CHECK(ir::print(g) == read_golden(golden));
  CHECK(g.output_names() == names);
  if (numeric) {
    std::vector<Tensor> after = runtime::run(g, inputs);
    REQUIRE(after.size() == before.size());
    for (size_t i = 0; i < after.size(); ++i) CHECK(max_abs_diff(before[i], after[i]) <= tolerance);
  }
}

// Near-miss patterns: the pass must leave the graph exactly as it was.
void check_unchanged(const std::function<Graph()>& build, const std::function<void(Graph&)>& pass) {
  Graph g = build();
  ir::verify(g);
  const std::string before = ir::print(g);
  pass(g);
  ir::verify(g);
  CHECK(ir::print(g) == before);
}

Value* scalar(Graph& g, float v) { return g.constant(Tensor::scalar_f32(v)); }
ir::TensorType f32(ir::Shape shape) { return {DType::F32, std::move(shape)}; }
ir::Attrs ints(const std::string& key, std::vector<int64_t> v) { return {{key, std::move(v)}}; }

Tensor iota_f32(ir::Shape shape, float start, float step) {
  std::vector<float> values(static_cast<size_t>(ir::shape_numel(shape)));
  for (size_t i = 0; i < values.size(); ++i) values[i] = start + step * static_cast<float>(i);
  return Tensor::from_f32(std::move(shape), values);
}

}  // namespace

// ─── cancel_identities ──────────────────────────────────────────────────────

TEST_CASE("cancel_identities removes identity ops, no-op reshapes, expands and casts") {
  check_pass("cancel_noops", [] {
    Graph g;
    Value* x = g.add_input("x", f32({2, 3}));                       // %0
    Value* a = g.add1("identity", {x});                              // %1
    Value* b = g.add1("reshape", {a}, ints("shape", {2, 3}));        // %2
    Value* c = g.add1("expand", {b}, ints("shape", {2, 3}));         // %3
    Value* d = g.add1("cast", {c}, {{"dtype", std::string("f32")}});  // %4
    Value* e = g.add1("relu", {d});                                  // %5
    g.add_output(e, "y");
    return g;
  }, passes::cancel_identities);
}

TEST_CASE("cancel_identities drops identity transposes and cancels transpose pairs") {
  check_pass("cancel_transpose_pair", [] {
    Graph g;
    Value* x = g.add_input("x", f32({2, 3, 4}));                            // %0
    Value* a = g.add1("transpose", {x}, ints("perm", {0, 2, 1}));           // %1
    Value* b = g.add1("transpose", {a}, ints("perm", {0, 2, 1}));           // %2
    Value* c = g.add1("transpose", {b}, ints("perm", {0, 1, 2}));           // %3
    Value* d = g.add1("relu", {c});                                         // %4
    g.add_output(d, "y");
    return g;
  }, passes::cancel_identities);
}

TEST_CASE("cancel_identities composes consecutive transposes") {
  check_pass("cancel_transpose_compose", [] {
    Graph g;
    Value* x = g.add_input("x", f32({2, 3, 4}));                            // %0
    Value* a = g.add1("transpose", {x}, ints("perm", {1, 0, 2}));           // %1: 3x2x4
    Value* b = g.add1("transpose", {a}, ints("perm", {0, 2, 1}));           // %2: 3x4x2
    g.add_output(b, "y");
    return g;
  }, passes::cancel_identities);
}

TEST_CASE("cancel_identities collapses reshape chains") {
  check_pass("cancel_reshape_chain", [] {
    Graph g;
    Value* x = g.add_input("x", f32({2, 6}));                       // %0
    Value* a = g.add1("reshape", {x}, ints("shape", {3, 4}));        // %1
    Value* b = g.add1("reshape", {a}, ints("shape", {12}));          // %2
    Value* c = g.add1("reshape", {a}, ints("shape", {4, 3}));        // %3
    Value* d = g.add1("reshape", {c}, ints("shape", {2, 6}));        // %4 == x
    Value* e = g.add1("relu", {d});                                  // %5
    g.add_output(b, "flat");
    g.add_output(e, "y");
    return g;
  }, passes::cancel_identities);
}

TEST_CASE("cancel_identities merges exact cast chains only") {
  check_pass("cancel_cast_chain", [] {
    Graph g;
    Value* m = g.add_input("m", {DType::Bool, {4}});                      // %0
    Value* x = g.add_input("x", f32({4}));                                // %1
    Value* a = g.add1("cast", {m}, {{"dtype", std::string("i64")}});      // %2 exact
    Value* b = g.add1("cast", {a}, {{"dtype", std::string("f32")}});      // %3 -> cast(m, f32)
    Value* c = g.add1("cast", {x}, {{"dtype", std::string("f16")}});      // %4 rounds
    Value* d = g.add1("cast", {c}, {{"dtype", std::string("f32")}});      // %5 kept
    Value* e = g.add1("add", {b, d});                                     // %6
    g.add_output(e, "y");
    return g;
  }, passes::cancel_identities);
}

TEST_CASE("cancel_identities never returns a graph input as an output") {
  check_pass("cancel_keeps_output_copy", [] {
    Graph g;
    Value* x = g.add_input("x", f32({3}));   // %0
    Value* a = g.add1("identity", {x});      // %1
    g.add_output(a, "y");
    return g;
  }, passes::cancel_identities);
}

// ─── eliminate_dead_code / fold_constants ──────────────────────────────────

TEST_CASE("eliminate_dead_code drops unused nodes and keeps every graph input") {
  check_pass("dce", [] {
    Graph g;
    Value* x = g.add_input("x", f32({3}));      // %0
    g.add_input("unused", f32({3}));            // %1
    Value* a = g.add1("exp", {x});              // %2 dead
    g.add1("neg", {a});                         // %3 dead
    Value* c = g.add1("relu", {x});             // %4
    g.add_output(c, "y");
    return g;
  }, passes::eliminate_dead_code);
}

TEST_CASE("fold_constants evaluates constant subgraphs but never graph inputs") {
  check_pass("fold_chain", [] {
    Graph g;
    Value* x = g.add_input("x", f32({2, 2}));                                       // %0
    Value* w = g.constant(Tensor::from_f32({2}, {1.f, 2.f}));                        // %1
    Value* w2 = g.add1("reshape", {w}, ints("shape", {2, 1}));                       // %2
    Value* two = scalar(g, 2.f);                                                     // %3
    Value* w3 = g.add1("mul", {w2, two});                                            // %4 = [[2],[4]]
    Value* y = g.add1("add", {x, w3});                                               // %5
    g.add_output(y, "y");
    return g;
  }, passes::fold_constants);
}

TEST_CASE("fold_constants does not materialise a large broadcast") {
  check_pass("fold_size_cap", [] {
    Graph g;
    Value* x = g.add_input("x", f32({512, 1024}));                        // %0
    Value* one = scalar(g, 1.f);                                          // %1
    Value* big = g.add1("expand", {one}, ints("shape", {512, 1024}));     // %2: 2 MiB
    Value* y = g.add1("add", {x, big});                                   // %3
    g.add_output(y, "y");
    return g;
  }, passes::fold_constants, /*numeric=*/false);
}

// ─── fuse_gelu ──────────────────────────────────────────────────────────────

namespace {

constexpr float kSqrt2 = 1.4142135623730951f;
constexpr float kInvSqrt2 = 0.7071067811865476f;

// x * 0.5 * (1 + erf(x / sqrt(2))) as transformers' GELUActivation(use_gelu_python=True)
// traces; `sqrt2` lets near-miss cases break the constant.
Graph gelu_erf_hf(float sqrt2 = kSqrt2, bool erf_is_output = false) {
  Graph g;
  Value* x = g.add_input("x", f32({2, 5}));   // %0
  Value* a = g.add1("mul", {x, scalar(g, 0.5f)});  // %1 %2
  Value* d = g.add1("div", {x, scalar(g, sqrt2)});  // %3 %4
  Value* e = g.add1("erf", {d});                    // %5
  Value* p = g.add1("add", {e, scalar(g, 1.f)});    // %6 %7
  Value* y = g.add1("mul", {a, p});                 // %8
  g.add_output(y, "y");
  if (erf_is_output) g.add_output(e, "erf");
  return g;
}

}  // namespace

TEST_CASE("fuse_gelu: erf form as HF writes it") {
  check_pass("gelu_erf", [] { return gelu_erf_hf(); }, passes::fuse_gelu);
}

TEST_CASE("fuse_gelu: erf form in other operand orders and groupings") {
  SUBCASE("0.5 * x * (1 + erf(x * (1/sqrt 2)))") {
    check_pass("gelu_erf", [] {
      Graph g;
      Value* x = g.add_input("x", f32({2, 5}));          // %0
      Value* a = g.add1("mul", {scalar(g, 0.5f), x});     // %1 %2
      Value* u = g.add1("mul", {scalar(g, kInvSqrt2), x});  // %3 %4
      Value* e = g.add1("erf", {u});                      // %5
      Value* p = g.add1("add", {scalar(g, 1.f), e});      // %6 %7
      g.add_output(g.add1("mul", {p, a}), "y");           // %8
      return g;
    }, passes::fuse_gelu);
  }
  SUBCASE("x * ((1 + erf(x / sqrt 2)) * 0.5)") {
    check_pass("gelu_erf", [] {
      Graph g;
      Value* x = g.add_input("x", f32({2, 5}));
      Value* u = g.add1("div", {x, scalar(g, kSqrt2)});
      Value* p = g.add1("add", {g.add1("erf", {u}), scalar(g, 1.f)});
      Value* h = g.add1("mul", {p, scalar(g, 0.5f)});
      g.add_output(g.add1("mul", {x, h}), "y");
      return g;
    }, passes::fuse_gelu);
  }
  SUBCASE("(x * (1 + erf(x / sqrt 2))) / 2") {
    check_pass("gelu_erf", [] {
      Graph g;
      Value* x = g.add_input("x", f32({2, 5}));
      Value* u = g.add1("div", {x, scalar(g, kSqrt2)});
      Value* p = g.add1("add", {g.add1("erf", {u}), scalar(g, 1.f)});
      Value* m = g.add1("mul", {x, p});
      g.add_output(g.add1("div", {m, scalar(g, 2.f)}), "y");
      return g;
    }, passes::fuse_gelu);
  }
  SUBCASE("0.5 * ((1 + erf(x / sqrt 2)) * x)") {
    check_pass("gelu_erf", [] {
      Graph g;
      Value* x = g.add_input("x", f32({2, 5}));
      Value* u = g.add1("div", {x, scalar(g, kSqrt2)});
      Value* p = g.add1("add", {g.add1("erf", {u}), scalar(g, 1.f)});
      Value* m = g.add1("mul", {p, x});
      Value* half = scalar(g, 0.5f);
      g.add_output(g.add1("mul", {half, m}), "y");
      return g;
    }, passes::fuse_gelu);
  }
}

namespace {

enum class Cube { Pow, MulLeft, MulRight };

// GPT-2's NewGELUActivation:
// 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * pow(x, 3.0))))
Graph gelu_tanh_gpt2(Cube cube, float coeff = 0.044715f) {
  Graph g;
  Value* x = g.add_input("x", f32({2, 5}));       // %0
  Value* a = g.add1("mul", {x, scalar(g, 0.5f)});  // %1 %2
  Value* c = nullptr;
  if (cube == Cube::Pow) {
    c = g.add1("pow", {x, scalar(g, 3.f)});        // %3 %4
  } else {
    Value* sq = g.add1("mul", {x, x});              // %3
    c = cube == Cube::MulLeft ? g.add1("mul", {sq, x}) : g.add1("mul", {x, sq});  // %4
  }
  Value* q = g.add1("mul", {c, scalar(g, coeff)});              // %5 %6
  Value* r = g.add1("add", {x, q});                             // %7
  Value* s = g.add1("mul", {r, scalar(g, 0.7978845608028654f)});  // %8 %9
  Value* t = g.add1("tanh", {s});                               // %10
  Value* p = g.add1("add", {t, scalar(g, 1.f)});                // %11 %12
  g.add_output(g.add1("mul", {a, p}), "y");                     // %13
  return g;
}

}  // namespace

TEST_CASE("fuse_gelu: tanh form as GPT-2's NewGELU writes it") {
  check_pass("gelu_tanh", [] { return gelu_tanh_gpt2(Cube::Pow); }, passes::fuse_gelu);
}

TEST_CASE("fuse_gelu: tanh form with x * x * x") {
  check_pass("gelu_tanh", [] { return gelu_tanh_gpt2(Cube::MulLeft); }, passes::fuse_gelu);
  check_pass("gelu_tanh", [] { return gelu_tanh_gpt2(Cube::MulRight); }, passes::fuse_gelu);
}

TEST_CASE("fuse_gelu: float16 constants match within half precision") {
  // f16 rounds sqrt(2/pi) to 0.79785 and 0.044715 to 0.044739; the f16
  // decomposition itself rounds after every op: a few f16 ulps of tolerance.
  check_pass("gelu_tanh_f16", [] {
    Graph g;
    auto h = [&](float v) { return g.constant(Tensor::scalar_f32(v).cast(DType::F16)); };
    Value* x = g.add_input("x", {DType::F16, {2, 5}});          // %0
    Value* a = g.add1("mul", {x, h(0.5f)});                      // %1 %2
    Value* c = g.add1("pow", {x, h(3.f)});                       // %3 %4
    Value* q = g.add1("mul", {c, h(0.044715f)});                 // %5 %6
    Value* r = g.add1("add", {x, q});                            // %7
    Value* s = g.add1("mul", {r, h(0.7978845608028654f)});       // %8 %9
    Value* p = g.add1("add", {g.add1("tanh", {s}), h(1.f)});     // %10 %11 %12
    g.add_output(g.add1("mul", {a, p}), "y");                    // %13
    return g;
  }, passes::fuse_gelu, /*numeric=*/true, /*tolerance=*/5e-3);
}

TEST_CASE("fuse_gelu leaves near misses alone") {
  SUBCASE("wrong constant in the erf argument") {
    check_unchanged([] { return gelu_erf_hf(1.5f); }, passes::fuse_gelu);
  }
  SUBCASE("wrong cubic coefficient") {
    check_unchanged([] { return gelu_tanh_gpt2(Cube::Pow, 0.05f); }, passes::fuse_gelu);
  }
  SUBCASE("an intermediate is read elsewhere") {
    check_unchanged([] { return gelu_erf_hf(kSqrt2, /*erf_is_output=*/true); }, passes::fuse_gelu);
  }
  SUBCASE("the outer factor is another tensor") {
    check_unchanged([] {
      Graph g;
      Value* x = g.add_input("x", f32({2, 5}));
      Value* z = g.add_input("z", f32({2, 5}));
      Value* a = g.add1("mul", {z, scalar(g, 0.5f)});
      Value* e = g.add1("erf", {g.add1("div", {x, scalar(g, kSqrt2)})});
      g.add_output(g.add1("mul", {a, g.add1("add", {e, scalar(g, 1.f)})}), "y");
      return g;
    }, passes::fuse_gelu);
  }
}

// ─── fuse_layer_norm ───────────────────────────────────────────────────────

namespace {

struct LayerNormSpec {
  ir::Shape shape{2, 3, 4};
  int64_t axis = 2;
  int64_t var_axis = 2;  // a near miss reduces the variance over another axis
  float exponent = 2.f;
  bool two_subs = false;  // ConvNeXT writes (x - u) twice
  bool sub_is_output = false;
  ir::Shape param_shape{4};
  bool affine = true;
  float eps = 1e-5f;
};

Graph manual_layer_norm(const LayerNormSpec& s) {
  Graph g;
  Value* x = g.add_input("x", f32(s.shape));                                            // %0
  Value* u = g.add1("reduce_mean", {x}, {{"axes", std::vector<int64_t>{s.axis}}, {"keepdims", int64_t{1}}});  // %1
  Value* d1 = g.add1("sub", {x, u});                                                    // %2
  Value* p = g.add1("pow", {d1, scalar(g, s.exponent)});                                // %3 %4
  Value* v = g.add1("reduce_mean", {p}, {{"axes", std::vector<int64_t>{s.var_axis}}, {"keepdims", int64_t{1}}});  // %5
  Value* d2 = s.two_subs ? g.add1("sub", {x, u}) : d1;                                 // (%6)
  Value* e = g.add1("add", {v, scalar(g, s.eps)});
  Value* n = g.add1("div", {d2, g.add1("sqrt", {e})});
  Value* y = n;
  if (s.affine) {
    Value* w = g.constant(iota_f32(s.param_shape, 0.5f, 0.5f));
    y = s.two_subs ? g.add1("mul", {w, y}) : g.add1("mul", {y, w});
    Value* b = g.constant(iota_f32(s.param_shape, -1.f, 1.f));
    y = g.add1("add", {y, b});
  }
  g.add_output(y, "y");
  if (s.sub_is_output) g.add_output(d1, "centered");
  return g;
}

}  // namespace

TEST_CASE("fuse_layer_norm: manual norm over the last axis with weight and bias") {
  check_pass("layer_norm_last_axis", [] { return manual_layer_norm({}); }, passes::fuse_layer_norm);
}

TEST_CASE("fuse_layer_norm: ConvNeXT channels-first form becomes transpose, layer_norm, transpose") {
  LayerNormSpec s;
  s.shape = {1, 4, 2, 3};
  s.axis = s.var_axis = 1;
  s.two_subs = true;
  s.param_shape = {4, 1, 1};
  s.eps = 1e-6f;
  check_pass("layer_norm_channels_first", [s] { return manual_layer_norm(s); }, passes::fuse_layer_norm);
}

TEST_CASE("fuse_layer_norm: rsqrt, d * d and epsilon first, without affine") {
  check_pass("layer_norm_rsqrt", [] {
    Graph g;
    Value* x = g.add_input("x", f32({3, 8}));                                                        // %0
    Value* u = g.add1("reduce_mean", {x}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{1}}});  // %1
    Value* d = g.add1("sub", {x, u});                                                                // %2
    Value* sq = g.add1("mul", {d, d});                                                               // %3
    Value* v = g.add1("reduce_mean", {sq}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{1}}});  // %4
    Value* e = g.add1("add", {scalar(g, 1e-12f), v});                                                // %5 %6
    Value* r = g.add1("rsqrt", {e});                                                                 // %7
    Value* n = g.add1("mul", {r, d});                                                                // %8
    g.add_output(g.add1("relu", {n}), "y");                                                          // %9
    return g;
  }, passes::fuse_layer_norm);
}

TEST_CASE("fuse_layer_norm keeps a weight that varies along another axis outside") {
  LayerNormSpec s;
  s.param_shape = {3, 1};
  check_pass("layer_norm_foreign_weight", [s] {
    Graph g = manual_layer_norm(s);
    return g;
  }, passes::fuse_layer_norm);
}

TEST_CASE("fuse_layer_norm leaves near misses alone") {
  SUBCASE("variance over another axis") {
    LayerNormSpec s;
    s.var_axis = 1;
    check_unchanged([s] { return manual_layer_norm(s); }, passes::fuse_layer_norm);
  }
  SUBCASE("cubed instead of squared") {
    LayerNormSpec s;
    s.exponent = 3.f;
    check_unchanged([s] { return manual_layer_norm(s); }, passes::fuse_layer_norm);
  }
  SUBCASE("the centred value is read elsewhere") {
    LayerNormSpec s;
    s.sub_is_output = true;
    check_unchanged([s] { return manual_layer_norm(s); }, passes::fuse_layer_norm);
  }
}

// ─── simplify_attention_mask ───────────────────────────────────────────────

namespace {

Value* float_min(Graph& g) { return scalar(g, std::numeric_limits<float>::lowest()); }

}  // namespace

TEST_CASE("simplify_attention_mask: (1 - bool mask) * min becomes one select") {
  check_pass("mask_bool_select", [] {
    Graph g;
    Value* scores = g.add_input("scores", f32({2, 3, 4}));                      // %0
    Value* m = g.add_input("mask", {DType::Bool, {2, 1, 4}});                   // %1
    Value* c = g.add1("cast", {m}, {{"dtype", std::string("f32")}});           // %2
    Value* inv = g.add1("sub", {scalar(g, 1.f), c});                           // %3 %4
    Value* ext = g.add1("mul", {inv, float_min(g)});                           // %5 %6
    g.add_output(g.add1("add", {scores, ext}), "y");                           // %7
    return g;
  }, passes::simplify_attention_mask);
}

TEST_CASE("simplify_attention_mask: masked_fill spelling with a bool mask becomes one select") {
  check_pass("mask_masked_fill", [] {
    Graph g;
    Value* scores = g.add_input("scores", f32({2, 3, 4}));                      // %0
    Value* m = g.add_input("mask", {DType::Bool, {2, 1, 4}});                   // %1
    Value* c = g.add1("cast", {m}, {{"dtype", std::string("f32")}});           // %2
    Value* inv = g.add1("sub", {scalar(g, 1.f), c});                           // %3 %4
    Value* cond = g.add1("cast", {inv}, {{"dtype", std::string("bool")}});     // %5
    Value* ext = g.add1("where", {cond, float_min(g), inv});                   // %6 %7
    g.add_output(g.add1("add", {scores, ext}), "y");                           // %8
    return g;
  }, passes::simplify_attention_mask);
}

TEST_CASE("simplify_attention_mask: an integer mask keeps its arithmetic") {
  check_unchanged([] {
    Graph g;
    Value* scores = g.add_input("scores", f32({2, 3, 4}));
    Value* m = g.add_input("mask", {DType::I64, {2, 1, 4}});
    Value* c = g.add1("cast", {m}, {{"dtype", std::string("f32")}});
    Value* inv = g.add1("sub", {scalar(g, 1.f), c});
    Value* ext = g.add1("mul", {inv, float_min(g)});
    g.add_output(g.add1("add", {scores, ext}), "y");
    return g;
  }, passes::simplify_attention_mask);
}

TEST_CASE("simplify_attention_mask: mask arithmetic runs before the broadcast") {
  check_pass("mask_expand_sink", [] {
    Graph g;
    Value* scores = g.add_input("scores", f32({2, 3, 4, 4}));                     // %0
    Value* m = g.add_input("mask", {DType::I64, {2, 4}});                         // %1
    Value* r = g.add1("reshape", {m}, ints("shape", {2, 1, 1, 4}));               // %2
    Value* ex = g.add1("expand", {r}, ints("shape", {2, 1, 4, 4}));               // %3
    Value* c = g.add1("cast", {ex}, {{"dtype", std::string("f32")}});            // %4
    Value* inv = g.add1("sub", {scalar(g, 1.f), c});                             // %5 %6
    Value* ext = g.add1("mul", {inv, float_min(g)});                             // %7 %8
    g.add_output(g.add1("add", {scores, ext}), "y");                             // %9
    return g;
  }, passes::simplify_attention_mask);
}

// ─── the default pipeline ──────────────────────────────────────────────────

TEST_CASE("run_default_pipeline: ConvNeXT LayerNorm block followed by erf GELU") {
  check_pass("pipeline_convnext_block", [] {
    Graph g;
    Value* x = g.add_input("x", f32({1, 4, 2, 3}));                                                  // %0
    Value* xc = g.add1("cast", {x}, {{"dtype", std::string("f32")}});                               // %1
    auto mean1 = [&](Value* v) {
      return g.add1("reduce_mean", {v}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{1}}});
    };
    Value* u = mean1(xc);                                                                            // %2
    Value* d1 = g.add1("sub", {xc, u});                                                              // %3
    Value* p = g.add1("pow", {d1, scalar(g, 2.f)});                                                  // %4 %5
    Value* v = mean1(p);                                                                             // %6
    Value* d2 = g.add1("sub", {xc, u});                                                              // %7
    Value* e = g.add1("add", {v, scalar(g, 1e-6f)});                                                 // %8 %9
    Value* n = g.add1("div", {d2, g.add1("sqrt", {e})});                                             // %10 %11
    Value* nc = g.add1("cast", {n}, {{"dtype", std::string("f32")}});                               // %12
    Value* w = g.add1("reshape", {g.constant(iota_f32({4}, 0.5f, 0.5f))}, ints("shape", {4, 1, 1}));  // %13 %14
    Value* m = g.add1("mul", {w, nc});                                                               // %15
    Value* b = g.add1("reshape", {g.constant(iota_f32({4}, -1.f, 1.f))}, ints("shape", {4, 1, 1}));  // %16 %17
    Value* y = g.add1("add", {m, b});                                                                // %18
    Value* a = g.add1("mul", {y, scalar(g, 0.5f)});                                                  // %19 %20
    Value* er = g.add1("erf", {g.add1("div", {y, scalar(g, kSqrt2)})});                              // %21 %22 %23
    Value* A = g.add1("add", {er, scalar(g, 1.f)});                                                  // %24 %25
    g.add_output(g.add1("mul", {a, A}), "y");                                                        // %26
    return g;
  }, passes::run_default_pipeline);
}

// ─── linear time ───────────────────────────────────────────────────────────

TEST_CASE("the pipeline stays linear: 10000 chained GELUs and transpose pairs") {
  // A quadratic step (rescanning users, re-sorting, chained replacements)
  // would take minutes here; linear passes take well under a second.
  constexpr int kLayers = 10000;  // 90k nodes
  Graph g;
  Value* x = g.add_input("x", f32({2, 3}));
  for (int i = 0; i < kLayers; ++i) {
    Value* t = g.add1("transpose", {x}, ints("perm", {1, 0}));
    t = g.add1("transpose", {t}, ints("perm", {1, 0}));
    Value* a = g.add1("mul", {t, scalar(g, 0.5f)});
    Value* e = g.add1("erf", {g.add1("div", {t, scalar(g, kSqrt2)})});
    x = g.add1("mul", {a, g.add1("add", {e, scalar(g, 1.f)})});
  }
  g.add_output(x, "y");
  passes::run_default_pipeline(g);
  ir::verify(g);
  REQUIRE(g.nodes().size() == static_cast<size_t>(kLayers));
  size_t gelus = 0;
  for (const auto& n : g.nodes()) gelus += n->op == "gelu";
  CHECK(gelus == static_cast<size_t>(kLayers));
}

TEST_CASE("fold_constants reshapes a borrowed weight without copying it") {
  auto bytes = std::make_shared<std::vector<float>>(std::vector<float>{1, 2, 3, 4, 5, 6});
  Graph g;
  Value* x = g.add_input("x", f32({2, 3}));
  Value* w = g.constant(Tensor::borrow(DType::F32, {6}, bytes->data(), bytes));
  g.add_output(g.add1("add", {x, g.add1("reshape", {w}, ints("shape", {2, 3}))}), "y");
  passes::fold_constants(g);
  ir::verify(g);
  REQUIRE(g.nodes().size() == 2);
  const Tensor& folded = g.nodes()[0]->constant();
  CHECK(folded.shape() == ir::Shape{2, 3});
  CHECK(folded.borrowed());
  CHECK(folded.data() == bytes->data());
}
