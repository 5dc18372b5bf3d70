// Hand-built IR graphs written to .tflite, run by the real LiteRT runtime
// and by our interpreter on the read-back graph, both compared with the
// interpreter on the original IR.
#include <doctest/doctest.h>

#include <iostream>

#include "tflite_test_util.hpp"

using namespace tflite_test;
using exporters::ir::Attrs;
using exporters::ir::TensorType;
namespace tfl = exporters::tflite;

namespace {

Value* weight(Graph& g, const Shape& shape, double scale = 0.5) {
  return g.constant(random_tensor(DType::F32, shape, -scale, scale));
}
Value* scalar(Graph& g, float v) { return g.constant(Tensor::scalar_f32(v)); }
Value* ints(Graph& g, const Shape& shape, const std::vector<int64_t>& v) { return g.constant(Tensor::from_i64(shape, v)); }

// |a - b| <= tol * max(1, max|reference|): float32 exports must agree to 1e-4
// at unit scale; larger activations scale the allowed rounding error.
void expect_close(const Tensor& got, const Tensor& ref, double tol, const std::string& what) {
  CHECK_MESSAGE(got.dtype() == ref.dtype(), what << ": dtype " << got.type().to_string() << " vs " << ref.type().to_string());
  double limit = tol * std::max(1.0, max_abs(ref));
  double diff = max_abs_diff(got, ref);
  std::cout << fmt::format("[tflite] {}: max abs diff {:.3g} (limit {:.3g})\n", what, diff, limit);
  CHECK_MESSAGE(diff <= limit, what << ": max abs diff " << diff << " > " << limit);
}

// Writes, runs LiteRT and the interpreter on the read-back graph; returns the file.
fs::path roundtrip(Graph& g, const std::string& name, double tol, const tfl::TfliteOptions& opt = {}) {
  exporters::ir::verify(g);
  auto inputs = random_inputs(g);
  auto ref = run_interpreter(g, inputs);
  fs::path file = scratch_dir() / (name + ".tflite");
  tfl::write_tflite(g, opt, file);
  auto lite = run_litert(file, inputs);
  Graph back = tfl::read_tflite(file);
  exporters::ir::verify(back);
  auto again = run_interpreter(back, inputs);
  REQUIRE(back.outputs().size() == g.outputs().size());
  for (size_t k = 0; k < g.outputs().size(); ++k) {
    const std::string& out = g.output_names()[k];
    CHECK(back.output_names()[k] == out);
    auto it = lite.find(out);
    REQUIRE_MESSAGE(it != lite.end(), name << ": LiteRT produced no output named " << out);
    expect_close(it->second, ref[k], tol, name + " LiteRT " + out);
    expect_close(again[k], ref[k], tol, name + " read-back " + out);
  }
  return file;
}

// x[2,6,16] -> MLP with GELU, residual, layer norm, single-head attention.
Graph transformer_block() {
  Graph g;
  Value* x = g.add_input("x", {DType::F32, {2, 6, 16}});
  Value* h = g.add1("linear", {x, weight(g, {32, 16}), weight(g, {32})});
  h = g.add1("gelu", {h}, {{"approximate", std::string("none")}});
  h = g.add1("linear", {h, weight(g, {16, 32}), weight(g, {16})});
  Value* r = g.add1("add", {x, h});
  Value* ln = g.add1("layer_norm", {r, weight(g, {16}), weight(g, {16})},
                     {{"axes", std::vector<int64_t>{2}}, {"epsilon", 1e-5}});
  Value* kt = g.add1("transpose", {ln}, {{"perm", std::vector<int64_t>{0, 2, 1}}});
  Value* s = g.add1("mul", {g.add1("matmul", {ln, kt}), scalar(g, 0.25f)});
  Value* p = g.add1("softmax", {s}, {{"axis", int64_t(2)}});
  Value* o = g.add1("matmul", {p, ln});
  g.add_output(o, "attended");
  g.add_output(g.add1("gelu", {o}, {{"approximate", std::string("tanh")}}), "gelu_tanh");
  return g;
}

// NCHW conv stack exercising the layout pass.
Graph conv_stack() {
  Graph g;
  Value* x = g.add_input("pixel_values", {DType::F32, {1, 3, 16, 16}});
  Attrs same3{{"strides", std::vector<int64_t>{1, 1}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"groups", int64_t(1)}};
  Value* c = g.add1("relu", {g.add1("conv", {x, weight(g, {8, 3, 3, 3}), weight(g, {8})}, same3)});
  Value* d = g.add1("conv", {c, weight(g, {8, 1, 3, 3}), weight(g, {8})},
                    {{"strides", std::vector<int64_t>{2, 2}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"groups", int64_t(8)}});
  d = g.add1("hardswish", {g.add1("add", {d, weight(g, {1, 8, 1, 1})})});
  d = g.add1("max_pool", {d}, {{"kernel", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}});
  Value* e = g.add1("conv", {d, weight(g, {4, 8, 1, 1}), nullptr}, {{"groups", int64_t(1)}});
  e = g.add1("avg_pool", {e}, {{"kernel", std::vector<int64_t>{3, 3}}, {"strides", std::vector<int64_t>{1, 1}},
                               {"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"count_include_pad", int64_t(1)}});
  Value* up = g.add1("resize", {e}, {{"mode", std::string("nearest")}, {"sizes", std::vector<int64_t>{8, 8}}});
  g.add_output(g.add1("sigmoid", {up}), "upsampled");
  Value* pooled = g.add1("adaptive_avg_pool", {e}, {{"sizes", std::vector<int64_t>{1, 1}}});
  pooled = g.add1("reshape", {pooled}, {{"shape", std::vector<int64_t>{1, 4}}});
  g.add_output(g.add1("linear", {pooled, weight(g, {3, 4}), weight(g, {3})}), "logits");
  return g;
}

}  // namespace

TEST_CASE("transformer block (linear, gelu, layer_norm, matmul, softmax) matches in LiteRT and read-back") {
  Graph g = transformer_block();
  roundtrip(g, "transformer_f32", 1e-4);
}

TEST_CASE("NCHW conv stack (conv, depthwise, pools, resize) matches in LiteRT and read-back") {
  Graph g = conv_stack();
  roundtrip(g, "conv_stack_f32", 1e-4);
}

TEST_CASE("conv variants: grouped, asymmetric pads, 1-D, transposed, norms, resize, pads") {
  Graph g;
  Value* x = g.add_input("x", {DType::F32, {1, 4, 9, 9}});
  Value* grouped = g.add1("conv", {x, weight(g, {6, 2, 3, 3}), weight(g, {6})},
                          {{"strides", std::vector<int64_t>{2, 2}}, {"groups", int64_t(2)}});
  g.add_output(grouped, "grouped");
  Value* asym = g.add1("conv", {x, weight(g, {3, 4, 3, 3}), nullptr},
                       {{"pads", std::vector<int64_t>{0, 1, 2, 1}}, {"dilations", std::vector<int64_t>{2, 1}}});
  g.add_output(asym, "asymmetric");
  Value* up = g.add1("conv_transpose", {grouped, weight(g, {6, 3, 4, 4}), weight(g, {3})},
                     {{"strides", std::vector<int64_t>{2, 2}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  g.add_output(up, "transposed");
  Value* gn = g.add1("group_norm", {x, weight(g, {4}), weight(g, {4})}, {{"groups", int64_t(2)}, {"epsilon", 1e-5}});
  Value* var = g.constant(random_tensor(DType::F32, {4}, 0.5, 1.5));
  Value* bn = g.add1("batch_norm", {gn, weight(g, {4}), var, weight(g, {4}), weight(g, {4})}, {{"epsilon", 1e-5}});
  g.add_output(bn, "normed");
  g.add_output(g.add1("resize", {x}, {{"mode", std::string("linear")}, {"sizes", std::vector<int64_t>{13, 5}}, {"align_corners", int64_t(0)}}),
               "bilinear");
  g.add_output(g.add1("resize", {x}, {{"mode", std::string("linear")}, {"sizes", std::vector<int64_t>{17, 17}}, {"align_corners", int64_t(1)}}),
               "bilinear_ac");
  g.add_output(g.add1("pad", {x}, {{"pads", std::vector<int64_t>{0, 0, 1, 2, 0, 0, 2, 1}}, {"mode", std::string("reflect")}}), "reflect");
  g.add_output(g.add1("pad", {x}, {{"pads", std::vector<int64_t>{0, 0, 2, 0, 0, 0, 1, 3}}, {"mode", std::string("replicate")}}), "replicate");
  g.add_output(g.add1("pad", {x}, {{"pads", std::vector<int64_t>{0, 1, 1, 1, 0, 0, 1, 1}}, {"mode", std::string("constant")}, {"value", 0.5}}),
               "constant_pad");
  Value* x1 = g.add1("reshape", {x}, {{"shape", std::vector<int64_t>{1, 4, 81}}});
  Value* c1 = g.add1("conv", {x1, weight(g, {5, 4, 3}), weight(g, {5})}, {{"pads", std::vector<int64_t>{1, 1}}});
  g.add_output(g.add1("max_pool", {c1}, {{"kernel", std::vector<int64_t>{3}}, {"strides", std::vector<int64_t>{2}}, {"ceil_mode", int64_t(1)}}),
               "conv1d_pool");
  g.add_output(g.add1("adaptive_max_pool", {x}, {{"sizes", std::vector<int64_t>{3, 3}}}), "adaptive_max");
  roundtrip(g, "conv_variants_f32", 1e-4);
}

TEST_CASE("indexing, reductions, casts and selection match in LiteRT and read-back") {
  Graph g;
  Value* ids = g.add_input("input_ids", {DType::I64, {2, 5}});
  Value* x = g.add_input("x", {DType::F32, {2, 5, 8}});
  Value* emb = g.add1("gather", {weight(g, {10, 8}), ids}, {{"axis", int64_t(0)}});
  Value* h = g.add1("add", {emb, x});
  g.add_output(g.add1("gather", {h, ints(g, {2}, {-1, 0})}, {{"axis", int64_t(1)}}), "picked");
  g.add_output(g.add1("slice", {h}, {{"axes", std::vector<int64_t>{1, 2}}, {"starts", std::vector<int64_t>{1, 0}},
                                     {"ends", std::vector<int64_t>{5, 8}}, {"steps", std::vector<int64_t>{2, 3}}}),
               "strided");
  g.add_output(g.add1("slice", {h}, {{"axes", std::vector<int64_t>{2}}, {"starts", std::vector<int64_t>{2}}, {"ends", std::vector<int64_t>{6}}}),
               "sliced");
  Value* mask = g.add1("greater", {ids, ints(g, {}, {1})});
  Value* mask3 = g.add1("reshape", {mask}, {{"shape", std::vector<int64_t>{2, 5, 1}}});
  g.add_output(g.add1("where", {mask3, h, scalar(g, -1.0f)}), "selected");
  g.add_output(mask, "mask");
  g.add_output(g.add1("logical_xor", {mask, g.add1("less_equal", {ids, ints(g, {}, {2})})}), "xor");
  g.add_output(g.add1("reduce_mean", {h}, {{"axes", std::vector<int64_t>{2}}, {"keepdims", int64_t(1)}}), "mean");
  g.add_output(g.add1("reduce_sum", {h}, {{"axes", std::vector<int64_t>{0, 2}}}), "sum");
  g.add_output(g.add1("reduce_max", {h}, {{"axes", std::vector<int64_t>{1}}}), "max");
  g.add_output(g.add1("reduce_min", {h}, {{"axes", std::vector<int64_t>{1}}}), "min");
  g.add_output(g.add1("reduce_prod", {x}, {{"axes", std::vector<int64_t>{2}}}), "prod");
  g.add_output(g.add1("argmax", {h}, {{"axis", int64_t(2)}}), "argmax");
  g.add_output(g.add1("argmin", {h}, {{"axis", int64_t(1)}, {"keepdims", int64_t(1)}}), "argmin");
  g.add_output(g.add1("cast", {ids}, {{"dtype", std::string("f32")}}), "ids_float");
  g.add_output(g.add1("cast", {g.add1("mul", {x, scalar(g, 4.0f)})}, {{"dtype", std::string("i32")}}), "truncated");
  g.add_output(g.add1("cumsum", {x}, {{"axis", int64_t(1)}, {"exclusive", int64_t(0)}, {"reverse", int64_t(1)}}), "cumsum");
  g.add_output(g.add1("tile", {ids}, {{"repeats", std::vector<int64_t>{2, 1}}}), "tiled_ids");
  g.add_output(g.add1("expand", {mask3}, {{"shape", std::vector<int64_t>{2, 5, 3}}}), "expanded");
  g.add_output(g.add1("flip", {x}, {{"axes", std::vector<int64_t>{1, 2}}}), "flipped");
  Value* idx = g.constant(random_tensor(DType::I64, {2, 3, 8}, 0, 5));
  g.add_output(g.add1("gather_elements", {x, idx}, {{"axis", int64_t(1)}}), "gathered_elements");
  g.add_output(g.add1("concat", {x, emb, h}, {{"axis", int64_t(1)}}), "concatenated");
  g.add_output(g.add1("transpose", {h}, {{"perm", std::vector<int64_t>{2, 0, 1}}}), "transposed");
  roundtrip(g, "indexing_f32", 1e-4);
}

TEST_CASE("elementwise and activation decompositions match in LiteRT and read-back") {
  Graph g;
  Value* x = g.add_input("x", {DType::F32, {3, 7}});
  Value* y = g.add_input("y", {DType::F32, {3, 7}});
  Value* pos = g.add1("add", {g.add1("abs", {x}), scalar(g, 0.5f)});
  auto out = [&](const char* name, Value* v) { g.add_output(v, name); };
  Value* x3 = g.add1("mul", {x, scalar(g, 3.0f)});
  out("erf", g.add1("erf", {x3}));
  out("silu", g.add1("silu", {x3}));
  out("softplus", g.add1("softplus", {x3}, {{"beta", 2.0}, {"threshold", 2.0}}));
  out("clamp", g.add1("clamp", {x}, {{"min", -0.5}, {"max", 0.25}}));
  out("relu6", g.add1("clamp", {x3}, {{"min", 0.0}, {"max", 6.0}}));
  out("elu", g.add1("elu", {x3}, {{"alpha", 0.5}}));
  out("elu1", g.add1("elu", {x3}, {{"alpha", 1.0}}));
  out("leaky", g.add1("leaky_relu", {x}, {{"alpha", 0.1}}));
  out("exp_log", g.add1("log", {g.add1("exp", {x})}));
  out("sqrt", g.add1("sqrt", {pos}));
  out("rsqrt", g.add1("rsqrt", {pos}));
  out("reciprocal", g.add1("reciprocal", {pos}));
  out("trig", g.add1("add", {g.add1("sin", {x3}), g.add1("cos", {x3})}));
  out("tanh", g.add1("tanh", {x3}));
  out("neg", g.add1("neg", {x}));
  out("floor", g.add1("floor", {x3}));
  out("ceil", g.add1("ceil", {x3}));
  out("round", g.add1("round", {x3}));
  out("sign", g.add1("sign", {x}));
  out("hardsigmoid", g.add1("hardsigmoid", {x3}));
  out("pow", g.add1("pow", {pos, y}));
  out("maximum", g.add1("maximum", {x, y}));
  out("minimum", g.add1("minimum", {x, y}));
  out("div", g.add1("div", {x, g.add1("add", {g.add1("abs", {y}), scalar(g, 0.5f)})}));
  out("sub", g.add1("sub", {x, y}));
  out("floor_div", g.add1("floor_div", {x3, pos}));
  out("mod", g.add1("mod", {x3, pos}));
  out("log_softmax0", g.add1("log_softmax", {x3}, {{"axis", int64_t(0)}}));
  out("softmax0", g.add1("softmax", {x3}, {{"axis", int64_t(0)}}));
  out("not", g.add1("logical_not", {g.add1("equal", {g.add1("floor", {x3}), g.add1("floor", {y})})}));
  out("or", g.add1("logical_or", {g.add1("less", {x, y}), g.add1("greater_equal", {x, scalar(g, 0.5f)})}));
  out("and", g.add1("logical_and", {g.add1("not_equal", {x, y}), g.add1("greater", {x, scalar(g, 0.0f)})}));
  roundtrip(g, "elementwise_f32", 1e-4);
}

// float16 stores weights with an 11-bit mantissa (relative error <= 2^-11 per
// weight, ~5e-4); summed over the <= 32-term dot products here the error
// stays below 2e-3 at unit scale (observed: ~1e-4).
TEST_CASE("float16 weights: DEQUANTIZE from fp16 buffers, outputs within fp16 rounding") {
  tfl::TfliteOptions opt;
  opt.quantize = tfl::Quantization::Float16;
  Graph a = transformer_block();
  roundtrip(a, "transformer_f16", 2e-3, opt);
  Graph b = conv_stack();
  roundtrip(b, "conv_stack_f16", 2e-3, opt);
}

// dynamic-int8: weights keep 8 bits per output channel (error <= scale/2 =
// max|w|/254, ~0.4% of a row's range) and the hybrid kernels also quantise
// activations to int8 per batch row, so about 1% of the output scale is the
// expected error (observed: ~2e-3).
TEST_CASE("dynamic-int8 weights: hybrid FULLY_CONNECTED / CONV_2D within int8 rounding") {
  tfl::TfliteOptions opt;
  opt.quantize = tfl::Quantization::DynamicInt8;
  Graph a = transformer_block();
  roundtrip(a, "transformer_int8", 1e-2, opt);
  Graph b = conv_stack();
  roundtrip(b, "conv_stack_int8", 1e-2, opt);
}
