// NeuralNetwork (.mlmodel) writer/reader tests. Expectations come from the
// format facts (field numbers, checked on the raw wire with protoc
// --decode_raw) and from running the original IR in the reference
// interpreter, never from the writer itself.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/backends/coreml/neuralnetwork/nn_model.hpp"
#include "core/runtime/interpreter.hpp"
#include "exporters/ir/ops.hpp"
#include "tests/fixtures_lib/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace exporters;
using ir::DType;
using ir::Shape;
using ir::Tensor;
using ir::Value;
using I = std::vector<int64_t>;

namespace {

using TempDir = exporters::testing::TempDir;

Tensor random_tensor(Shape shape, unsigned seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(static_cast<size_t>(ir::shape_numel(shape)));
  for (auto& x : v) x = d(rng);
  return Tensor::from_f32(std::move(shape), v);
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::abs(t.element_as_double(i)));
  return m;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a.element_as_double(i) - b.element_as_double(i)));
  return m;
}

std::vector<Tensor> inputs_for(const ir::Graph& g, const std::vector<Tensor>& in) {
  std::vector<Tensor> out;
  for (size_t i = 0; i < in.size(); ++i) {
    const DType want = g.inputs().at(i)->type.dtype;
    out.push_back(in[i].dtype() == want ? in[i] : in[i].cast(want));
  }
  return out;
}

ir::Attrs A(std::initializer_list<std::pair<const std::string, ir::Attr>> a) { return ir::Attrs(a); }

// A transformer-like graph over int64 token ids: embedding gather, layer norm,
// non-square linear, attention with an fp32-min mask, matmul with a constant
// non-square right operand (column-major weights), many elementwise ops.
ir::Graph text_graph() {
  ir::Graph g;
  Value* ids = g.add_input("input_ids", {DType::I64, {1, 6}});
  Value* mask = g.add_input("attention_mask", {DType::I64, {1, 6}});
  Value* emb = g.add1("gather", {g.constant(random_tensor({20, 8}, 1)), ids}, A({{"axis", int64_t{0}}}));
  Value* x = g.add1("add", {emb, g.constant(random_tensor({6, 8}, 2))});
  x = g.add1("layer_norm", {x, g.constant(random_tensor({8}, 3, 0.5f, 1.5f)), g.constant(random_tensor({8}, 4))},
             A({{"axes", I{2}}, {"epsilon", 1e-5}}));
  Value* qkv = g.add1("linear", {x, g.constant(random_tensor({18, 8}, 5)), g.constant(random_tensor({18}, 6))});
  auto part = [&](int64_t b) {
    return g.add1("slice", {qkv}, A({{"axes", I{2}}, {"starts", I{b}}, {"ends", I{b + 6}}, {"steps", I{1}}}));
  };
  Value* q = part(0);
  Value* k = part(6);
  Value* v = part(12);
  Value* scores = g.add1("matmul", {q, g.add1("transpose", {k}, A({{"perm", I{0, 2, 1}}}))});
  scores = g.add1("div", {scores, g.constant(Tensor::scalar_f32(2.449f))});
  Value* mf = g.add1("cast", {mask}, A({{"dtype", std::string("f32")}}));
  Value* neg = g.add1("mul", {g.add1("sub", {g.constant(Tensor::scalar_f32(1.0f)), mf}),
                              g.constant(Tensor::scalar_f32(-3.4028234663852886e38f))});
  scores = g.add1("add", {scores, g.add1("reshape", {neg}, A({{"shape", I{1, 1, 6}}}))});
  Value* probs = g.add1("softmax", {scores}, A({{"axis", int64_t{2}}}));
  Value* ctx = g.add1("matmul", {probs, v});
  Value* h = g.add1("gelu", {ctx}, A({{"approximate", std::string("none")}}));
  Value* h2 = g.add1("gelu", {ctx}, A({{"approximate", std::string("tanh")}}));
  Value* proj = g.add1("matmul", {g.add1("silu", {h}), g.constant(random_tensor({6, 5}, 7))});  // 1x6x5
  Value* pooled = g.add1("reduce_mean", {proj}, A({{"axes", I{1}}, {"keepdims", int64_t{0}}}));
  Value* am = g.add1("argmax", {proj}, A({{"axis", int64_t{2}}, {"keepdims", int64_t{0}}}));
  Value* t = g.add1("tanh", {h2});
  Value* pos = g.add1("greater", {t, g.constant(Tensor::scalar_f32(0.0f))});
  Value* w = g.add1("where", {pos, g.add1("exp", {t}), g.add1("neg", {t})});
  Value* c = g.add1("clamp", {w}, A({{"min", -0.5}, {"max", 0.8}}));
  Value* lg = g.add1("log", {g.add1("add", {g.add1("abs", {t}), g.constant(Tensor::scalar_f32(1.0f))})});
  Value* pw = g.add1("pow", {g.add1("sigmoid", {t}), g.constant(Tensor::scalar_f32(1.5f))});
  Value* sq = g.add1("sqrt", {g.add1("relu", {t})});
  Value* rs = g.add1("rsqrt", {g.add1("add", {g.add1("abs", {t}), g.constant(Tensor::scalar_f32(0.5f))})});
  Value* rc = g.add1("reciprocal", {g.add1("add", {g.add1("abs", {t}), g.constant(Tensor::scalar_f32(2.0f))})});
  Value* er = g.add1("erf", {t});
  Value* mx = g.add1("maximum", {lg, g.add1("minimum", {pw, sq})});
  Value* cat = g.add1("concat", {c, lg, pw, sq, rs, rc, er, mx}, A({{"axis", int64_t{2}}}));  // 1x6x48
  Value* ex = g.add1("expand", {g.add1("reduce_max", {cat}, A({{"axes", I{2}}, {"keepdims", int64_t{1}}})) },
                     A({{"shape", I{1, 6, 3}}}));
  Value* tl = g.add1("tile", {ex}, A({{"repeats", I{2, 1, 1}}}));
  Value* fl = g.add1("flip", {tl}, A({{"axes", I{0, 1}}}));
  Value* ge = g.add1("gather_elements", {cat, g.constant(Tensor::from_i64({1, 6, 2}, {0, 47, 3, 5, 10, 11, 20, 1, 2, 2, 40, 0}))},
                     A({{"axis", int64_t{2}}}));
  Value* pd = g.add1("pad", {ge}, A({{"pads", I{0, 1, 0, 0, 2, 3}}, {"mode", std::string("constant")}, {"value", 0.25}}));
  // Integer arithmetic on the ids: truncating division, floor division, mod, comparisons.
  Value* idiv = g.add1("div", {g.add1("sub", {ids, g.constant(Tensor::scalar_i64(9))}), g.constant(Tensor::scalar_i64(4))});
  Value* fdiv = g.add1("floor_div", {g.add1("sub", {ids, g.constant(Tensor::scalar_i64(9))}), g.constant(Tensor::scalar_i64(4))});
  Value* md = g.add1("mod", {g.add1("sub", {ids, g.constant(Tensor::scalar_i64(9))}), g.constant(Tensor::scalar_i64(4))});
  Value* eq = g.add1("logical_not", {g.add1("equal", {ids, g.constant(Tensor::scalar_i64(7))})});
  Value* sub = g.add1("sub", {pooled, g.add1("reduce_sum", {proj}, A({{"axes", I{}}, {"keepdims", int64_t{0}}}))});
  g.add_output(pooled, "pooled");
  g.add_output(am, "argmax");
  g.add_output(fl, "flipped");
  g.add_output(pd, "padded");
  g.add_output(idiv, "int_div");
  g.add_output(fdiv, "floor_div");
  g.add_output(md, "mod");
  g.add_output(eq, "not_seven");
  g.add_output(sub, "centered");
  g.add_output(pooled, "pooled_again");
  return g;
}

std::vector<Tensor> text_inputs() {
  return {Tensor::from_i64({1, 6}, {3, 15, 0, 7, 7, 2}), Tensor::from_i64({1, 6}, {1, 1, 1, 1, 0, 0})};
}

Value* conv(ir::Graph& g, Value* x, Shape w, unsigned seed, I strides, I dilations, I pads, int64_t groups) {
  return g.add1("conv", {x, g.constant(random_tensor(w, seed, -0.5f, 0.5f)), g.constant(random_tensor({w[0]}, seed + 1))},
                A({{"strides", strides}, {"dilations", dilations}, {"pads", pads}, {"groups", groups}}));
}

// A convolutional graph: plain, grouped + dilated, depthwise and 1-D
// convolutions, transposed convolutions (with crop), pools, norms, resizes.
ir::Graph vision_graph(bool half_pixel_resize) {
  ir::Graph g;
  Value* x = g.add_input("pixel_values", {DType::F32, {1, 3, 8, 8}});
  Value* a = conv(g, x, {4, 3, 3, 3}, 10, {1, 1}, {1, 1}, {1, 1, 1, 1}, 1);                      // 1x4x8x8
  a = g.add1("hardswish", {a});
  Value* b = conv(g, a, {4, 2, 3, 3}, 12, {1, 1}, {2, 2}, {2, 1, 2, 3}, 2);                       // 1x4x8x8
  b = g.add1("leaky_relu", {b}, A({{"alpha", 0.1}}));
  Value* dw = conv(g, b, {4, 1, 3, 3}, 14, {2, 2}, {1, 1}, {1, 1, 1, 1}, 4);                       // 1x4x4x4
  Value* mp = g.add1("max_pool", {b}, A({{"kernel", I{2, 2}}, {"strides", I{2, 2}}, {"pads", I{0, 0, 0, 0}}, {"ceil_mode", int64_t{0}}}));
  Value* ap = g.add1("avg_pool", {mp}, A({{"kernel", I{3, 3}}, {"strides", I{1, 1}}, {"pads", I{1, 1, 1, 1}},
                                          {"ceil_mode", int64_t{0}}, {"count_include_pad", int64_t{0}}}));
  Value* s = g.add1("add", {ap, dw});
  s = g.add1("batch_norm", {s, g.constant(random_tensor({4}, 20)), g.constant(random_tensor({4}, 21, 0.5f, 2.0f)),
                            g.constant(random_tensor({4}, 22)), g.constant(random_tensor({4}, 23))},
             A({{"epsilon", 1e-5}}));
  s = g.add1("elu", {s}, A({{"alpha", 1.0}}));
  Value* up = g.add1("conv_transpose", {s, g.constant(random_tensor({4, 3, 2, 2}, 24)), g.constant(random_tensor({6}, 25))},
                     A({{"strides", I{2, 2}}, {"dilations", I{1, 1}}, {"pads", I{0, 0, 0, 0}}, {"output_padding", I{0, 0}}, {"groups", int64_t{2}}}));  // 1x6x8x8
  Value* up2 = g.add1("conv_transpose", {s, g.constant(random_tensor({4, 2, 3, 3}, 26)), nullptr},
                      A({{"strides", I{2, 2}}, {"dilations", I{1, 1}}, {"pads", I{1, 1, 1, 1}}, {"output_padding", I{1, 1}}, {"groups", int64_t{1}}}));  // 1x2x8x8
  Value* cat = g.add1("concat", {up, up2}, A({{"axis", int64_t{1}}}));                              // 1x8x8x8
  Value* gn = g.add1("group_norm", {cat, g.constant(random_tensor({8}, 27)), g.constant(random_tensor({8}, 28))},
                     A({{"groups", int64_t{2}}, {"epsilon", 1e-5}}));
  Value* nn = g.add1("resize", {s}, A({{"mode", std::string("nearest")}, {"sizes", I{8, 12}}, {"align_corners", int64_t{0}}}));
  Value* ac = g.add1("resize", {s}, A({{"mode", std::string("linear")}, {"sizes", I{7, 9}}, {"align_corners", int64_t{1}}}));
  Value* gp = g.add1("adaptive_avg_pool", {gn}, A({{"sizes", I{1, 1}}}));
  Value* ap2 = g.add1("adaptive_max_pool", {gn}, A({{"sizes", I{4, 2}}}));
  Value* rf = g.add1("pad", {nn}, A({{"pads", I{0, 0, 1, 2, 0, 0, 2, 1}}, {"mode", std::string("reflect")}, {"value", 0.0}}));
  Value* sp = g.add1("softplus", {rf}, A({{"beta", 1.0}, {"threshold", 20.0}}));
  Value* hs = g.add1("hardsigmoid", {ac});
  // 1-D convolution and pooling over [N, C, L].
  Value* seq = g.add1("reshape", {gn}, A({{"shape", I{1, 8, 64}}}));
  Value* c1 = conv(g, seq, {3, 8, 5}, 30, {2}, {1}, {2, 2}, 1);                                       // 1x3x32
  Value* p1 = g.add1("avg_pool", {c1}, A({{"kernel", I{4}}, {"strides", I{4}}, {"pads", I{0, 0}}, {"ceil_mode", int64_t{0}}, {"count_include_pad", int64_t{1}}}));
  g.add_output(gp, "global");
  g.add_output(ap2, "adaptive");
  g.add_output(sp, "softplus");
  g.add_output(hs, "hardsigmoid");
  g.add_output(p1, "pool1d");
  if (half_pixel_resize) {
    Value* hp = g.add1("resize", {s}, A({{"mode", std::string("linear")}, {"sizes", I{8, 10}}, {"align_corners", int64_t{0}}}));
    Value* cs = g.add1("cumsum", {hp}, A({{"axis", int64_t{3}}, {"exclusive", int64_t{1}}, {"reverse", int64_t{1}}}));
    g.add_output(cs, "half_pixel_cumsum");
  }
  return g;
}

// $EXPORTERS_LEGACY_KEEP_DIR keeps copies of the written models (for checks with other tools).
void keep_copy(const fs::path& model) {
  const char* keep = std::getenv("EXPORTERS_LEGACY_KEEP_DIR");
  if (!keep) return;
  static int n = 0;
  fs::create_directories(keep);
  fs::copy_file(model, fs::path(keep) / ("unit_" + std::to_string(n++) + "_" + model.filename().string()),
                fs::copy_options::overwrite_existing);
}

void check_round_trip(const ir::Graph& g, const std::vector<Tensor>& inputs, coreml::Precision precision, double tol,
                      bool relative, int expected_spec) {
  TempDir dir;
  const fs::path out = dir.path / "RT.mlmodel";
  coreml::LegacyOptions opt;
  opt.precision = precision;
  coreml::write_mlmodel(g, opt, out);
  keep_copy(out);
  CHECK(coreml::inspect_mlmodel(out).specification_version == expected_spec);
  ir::Graph back = coreml::read_mlmodel(out);
  REQUIRE(back.outputs().size() == g.outputs().size());
  const auto expected = runtime::run(g, inputs);
  const auto got = runtime::run(back, inputs_for(back, inputs));
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("output " << g.output_names()[i]);
    CHECK(back.output_names()[i] == g.output_names()[i]);
    const double scale = relative ? std::max(1.0, max_abs(expected[i])) : 1.0;
    CHECK(max_abs_diff(expected[i], got[i]) <= tol * scale);
  }
}

// protoc --decode_raw output flattened to "path: value" lines, e.g.
// "500/1/1045/5: 8" = Model.neuralNetwork.layers[].batchedMatmul.weightMatrixFirstDimension.
std::vector<std::string> decode_raw(const fs::path& file) {
  const char* protoc = std::getenv("EXPORTERS_PROTOC");
  if (!protoc) return {};
  const std::string cmd = std::string(protoc) + " --decode_raw < '" + file.string() + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::vector<std::string> out, stack;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) {
    std::string line(buf);
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
    const size_t start = line.find_first_not_of(' ');
    if (start == std::string::npos) continue;
    line = line.substr(start);
    if (line == "}") {
      stack.pop_back();
    } else if (line.size() > 2 && line.substr(line.size() - 2) == " {") {
      stack.push_back(line.substr(0, line.size() - 2));
    } else {
      std::string path;
      for (const auto& s : stack) path += s + "/";
      out.push_back(path + line);
    }
  }
  REQUIRE(::pclose(p) == 0);
  return out;
}

bool has_line(const std::vector<std::string>& lines, const std::string& want) {
  for (const auto& l : lines)
    if (l == want) return true;
  return false;
}
bool has_prefix(const std::vector<std::string>& lines, const std::string& want) {
  for (const auto& l : lines)
    if (l.rfind(want, 0) == 0) return true;
  return false;
}

}  // namespace

TEST_CASE("round trip IR -> .mlmodel -> IR matches the interpreter, text graph, float32") {
  check_round_trip(text_graph(), text_inputs(), coreml::Precision::Float32, 1e-5, true, 4);
}

TEST_CASE("round trip IR -> .mlmodel -> IR matches the interpreter, vision graph, float32") {
  check_round_trip(vision_graph(false), {random_tensor({1, 3, 8, 8}, 99)}, coreml::Precision::Float32, 1e-5, true, 4);
}

TEST_CASE("half-pixel bilinear upsample and cumsum raise the specification version to 5") {
  check_round_trip(vision_graph(true), {random_tensor({1, 3, 8, 8}, 98)}, coreml::Precision::Float32, 1e-5, true, 5);
}

TEST_CASE("float16 weights stay within 1e-2 (relative) of the float32 graph") {
  check_round_trip(text_graph(), text_inputs(), coreml::Precision::Float16, 1e-2, true, 4);
  check_round_trip(vision_graph(true), {random_tensor({1, 3, 8, 8}, 97)}, coreml::Precision::Float16, 1e-2, true, 5);
}

TEST_CASE("wire encoding: Model / NeuralNetwork / layer field numbers (protoc --decode_raw)") {
  if (!std::getenv("EXPORTERS_PROTOC")) {
    MESSAGE("protoc not found at configure time");
    std::exit(77);  // a skipped wire check must not count as a pass
  }
  ir::Graph g;
  Value* x = g.add_input("x", {DType::F32, {2, 3}});
  Value* ids = g.add_input("ids", {DType::I64, {2}});
  Value* y = g.add1("relu", {g.add1("linear", {x, g.constant(random_tensor({4, 3}, 1)), g.constant(random_tensor({4}, 2))})});
  Value* e = g.add1("gather", {g.constant(random_tensor({5, 4}, 3)), ids}, A({{"axis", int64_t{0}}}));
  g.add_output(g.add1("add", {y, e}), "y");
  TempDir dir;
  coreml::LegacyOptions opt;
  opt.metadata.author = "someone";
  coreml::write_mlmodel(g, opt, dir.path / "m.mlmodel");
  const auto lines = decode_raw(dir.path / "m.mlmodel");
  CHECK(has_line(lines, "1: 4"));                            // specificationVersion
  CHECK(has_line(lines, "2/1/1: \"x\""));                    // description.input[0].name
  CHECK(has_line(lines, "2/1/3/5/2: 65568"));                // multiArrayType.dataType FLOAT32
  CHECK(has_line(lines, "2/1/3/5/2: 131104"));               // int64 ids -> INT32
  CHECK(has_line(lines, "2/10/1: \"y\""));                   // description.output[0].name
  CHECK(has_line(lines, "2/100/3: \"someone\""));            // metadata.author
  CHECK(has_line(lines, "500/5: 1"));                        // arrayInputShapeMapping EXACT
  CHECK(has_line(lines, "500/6: 1"));                        // imageInputShapeMapping RANK4
  CHECK(has_line(lines, "500/1/1045/5: 3"));                 // batchedMatmul weightMatrixFirstDimension = K
  CHECK(has_line(lines, "500/1/1045/6: 4"));                 // weightMatrixSecondDimension = N
  CHECK(has_line(lines, "500/1/1045/7: 1"));                 // hasBias
  CHECK(has_prefix(lines, "500/1/1045/8/1: "));              // weights.floatValue (packed)
  CHECK(has_prefix(lines, "500/1/130/10"));                  // activation.ReLU (empty message)
  CHECK(has_prefix(lines, "500/1/1070/2/1: "));              // loadConstantND.data.floatValue (the table)
  CHECK(has_prefix(lines, "500/1/930"));                     // gather (axis 0 is the proto3 default: empty)
  CHECK(has_prefix(lines, "500/1/880"));                     // addBroadcastable
  CHECK(has_line(lines, "500/1/3: \"y\""));                  // the last layer writes the output blob
  // Layer names are unique.
  std::set<std::string> names;
  int count = 0;
  for (const auto& l : lines)
    if (l.rfind("500/1/1: ", 0) == 0) {
      names.insert(l);
      ++count;
    }
  CHECK(count >= 4);
  CHECK(names.size() == static_cast<size_t>(count));

  // float16: weights become float16Value bytes (field 2), no floatValue.
  opt.precision = coreml::Precision::Float16;
  coreml::write_mlmodel(g, opt, dir.path / "h.mlmodel");
  const auto half = decode_raw(dir.path / "h.mlmodel");
  CHECK(has_prefix(half, "500/1/1045/8/2: "));
  CHECK_FALSE(has_prefix(half, "500/1/1045/8/1: "));
}

TEST_CASE("batchedMatmul weights are the column-major [K, N] matrix: the torch [N, K] weight row-major") {
  ir::Graph g;
  Value* x = g.add_input("x", {DType::F32, {1, 2}});
  // w = [[1, 2], [3, 4], [5, 6]] (N=3, K=2): y = x @ w.T
  g.add_output(g.add1("linear", {x, g.constant(Tensor::from_f32({3, 2}, {1, 2, 3, 4, 5, 6})), nullptr}), "y");
  TempDir dir;
  coreml::write_mlmodel(g, {}, dir.path / "m.mlmodel");
  auto back = coreml::read_mlmodel(dir.path / "m.mlmodel");
  auto y = runtime::run(back, {Tensor::from_f32({1, 2}, {1, 10})});
  CHECK(y[0].element_as_double(0) == 21.0);
  CHECK(y[0].element_as_double(1) == 43.0);
  CHECK(y[0].element_as_double(2) == 65.0);
}

TEST_CASE("float16 clamps fp32-min attention constants to -65504 instead of -inf") {
  ir::Graph g;
  Value* x = g.add_input("x", {DType::F32, {4}});
  g.add_output(g.add1("mul", {x, g.constant(Tensor::from_f32({4}, {-3.4028234663852886e38f, 1, 0.5f, 70000}))}), "y");
  TempDir dir;
  coreml::LegacyOptions opt;
  opt.precision = coreml::Precision::Float16;
  coreml::write_mlmodel(g, opt, dir.path / "m.mlmodel");
  auto y = runtime::run(coreml::read_mlmodel(dir.path / "m.mlmodel"), {Tensor::from_f32({4}, {0, 2, 2, 1})});
  CHECK(y[0].element_as_double(0) == 0.0);  // 0 * -65504, not 0 * -inf = NaN
  CHECK(y[0].element_as_double(1) == 2.0);
  CHECK(y[0].element_as_double(2) == 1.0);
  CHECK(y[0].element_as_double(3) == 65504.0);
}

TEST_CASE("every canonical IR op has a NeuralNetwork lowering row") {
  for (const auto& op : ir::op_names()) {
    INFO(op);
    CHECK(coreml::has_legacy_lowering(op));
  }
}

TEST_CASE("round rounds half to even, like the IR") {
  ir::Graph g;
  Value* x = g.add_input("x", {DType::F32, {10}});
  g.add_output(g.add1("round", {x}), "y");
  TempDir dir;
  coreml::write_mlmodel(g, {}, dir.path / "m.mlmodel");
  const std::vector<float> in = {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 2.4f, -2.6f, 3.0f, 0.2f};
  const std::vector<double> want = {-2, -2, -0, 0, 2, 2, 2, -3, 3, 0};
  auto y = runtime::run(coreml::read_mlmodel(dir.path / "m.mlmodel"), {Tensor::from_f32({10}, in)});
  for (int i = 0; i < 10; ++i) CHECK(y[0].element_as_double(i) == want[i]);
}

TEST_CASE("an op that cannot be lowered is an error naming it, and nothing is written") {
  ir::Graph g;
  Value* x = g.add_input("x", {DType::F32, {1, 2, 5}});
  g.add_output(g.add1("resize", {x}, A({{"mode", std::string("nearest")}, {"sizes", I{7}}, {"align_corners", int64_t{0}}})), "y");
  TempDir dir;
  const fs::path out = dir.path / "m.mlmodel";
  try {
    coreml::write_mlmodel(g, {}, out);
    FAIL("expected an error");
  } catch (const coreml::CoreMLError& e) {
    CHECK(std::string(e.what()).find("'resize'") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(out));
  CHECK(fs::is_empty(dir.path));

  ir::Graph d;
  Value* z = d.add_input("z", {DType::F32, {1, 2, 4, 4}});
  d.add_output(d.add1("conv_transpose", {z, d.constant(random_tensor({2, 2, 3, 3}, 1)), nullptr},
                      A({{"strides", I{1, 1}}, {"dilations", I{2, 2}}, {"pads", I{0, 0, 0, 0}}, {"output_padding", I{0, 0}}, {"groups", int64_t{1}}})),
               "y");
  CHECK_THROWS_WITH_AS(coreml::write_mlmodel(d, {}, out), doctest::Contains("conv_transpose"), coreml::CoreMLError);
}

TEST_CASE("an existing file is kept unless overwrite is set, then replaced") {
  ir::Graph g;
  Value* x = g.add_input("x", {DType::F32, {2}});
  g.add_output(g.add1("neg", {x}), "y");
  TempDir dir;
  const fs::path out = dir.path / "m.mlmodel";
  { std::ofstream(out) << "precious"; }
  CHECK_THROWS_WITH_AS(coreml::write_mlmodel(g, {}, out), doctest::Contains("already exists"), coreml::CoreMLError);
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  CHECK(text == "precious");
  coreml::LegacyOptions opt;
  opt.overwrite = true;
  coreml::write_mlmodel(g, opt, out);
  auto y = runtime::run(coreml::read_mlmodel(out), {Tensor::from_f32({2}, {1, -2})});
  CHECK(y[0].element_as_double(0) == -1.0);
  CHECK(y[0].element_as_double(1) == 2.0);
  // Only the model is left in the folder (no temporary siblings).
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path)) ++files;
  CHECK(files == 1);
}

TEST_CASE("the reader rejects garbage and non-NeuralNetwork models with the file named") {
  TempDir dir;
  const fs::path bad = dir.path / "bad.mlmodel";
  { std::ofstream(bad, std::ios::binary) << std::string("\xff\xff\xff\xff garbage", 13); }
  CHECK_THROWS_WITH_AS(coreml::read_mlmodel(bad), doctest::Contains("bad.mlmodel"), coreml::CoreMLError);
  const fs::path empty = dir.path / "empty.mlmodel";
  { std::ofstream(empty, std::ios::binary) << std::string("\x08\x04", 2); }  // only specificationVersion = 4
  CHECK_THROWS_WITH_AS(coreml::read_mlmodel(empty), doctest::Contains("not a NeuralNetwork model"), coreml::CoreMLError);
  CHECK_THROWS_AS(coreml::read_mlmodel(dir.path / "missing.mlmodel"), coreml::CoreMLError);
}

TEST_CASE("image inputs: the description declares an image and preprocessing applies scale and per-channel bias") {
  ir::Graph g;
  Value* x = g.add_input("image", {DType::F32, {1, 3, 4, 4}});
  g.add_output(g.add1("reduce_mean", {x}, A({{"axes", I{2, 3}}, {"keepdims", int64_t{0}}})), "mean");
  coreml::LegacyOptions opt;
  coreml::ImageInput img;
  img.color_space = coreml::ImageInput::ColorSpace::BGR;
  img.scale = 1.0f / 255.0f;
  img.bias = {-0.1f, -0.2f, -0.3f};  // channel order of the input: B, G, R
  opt.image_inputs["image"] = img;
  TempDir dir;
  coreml::write_mlmodel(g, opt, dir.path / "img.mlmodel");
  keep_copy(dir.path / "img.mlmodel");
  const auto lines = decode_raw(dir.path / "img.mlmodel");
  if (!lines.empty()) {
    CHECK(has_line(lines, "2/1/3/4/1: 4"));    // imageType.width
    CHECK(has_line(lines, "2/1/3/4/3: 30"));   // colorSpace BGR
    CHECK(has_line(lines, "500/2/1: \"image\""));  // preprocessing.featureName
    CHECK(has_prefix(lines, "500/2/10/10: "));     // scaler.channelScale
  }
  auto back = coreml::read_mlmodel(dir.path / "img.mlmodel");
  Tensor pixels = random_tensor({1, 3, 4, 4}, 5, 0.0f, 255.0f);
  auto got = runtime::run(back, {pixels});
  auto raw = runtime::run(g, {pixels});
  for (int c = 0; c < 3; ++c)
    CHECK(got[0].element_as_double(c) == doctest::Approx(raw[0].element_as_double(c) / 255.0 + img.bias[c]).epsilon(1e-5));
}

TEST_CASE("a classifier writes neuralNetworkClassifier with string labels and label / probability outputs") {
  ir::Graph g;
  Value* x = g.add_input("x", {DType::F32, {1, 4}});
  Value* p = g.add1("softmax", {g.add1("linear", {x, g.constant(random_tensor({3, 4}, 8)), nullptr})}, A({{"axis", int64_t{1}}}));
  g.add_output(p, "probs");
  coreml::LegacyOptions opt;
  coreml::ClassifierOutput cls;
  cls.probabilities_output = "probs";
  cls.labels = {"cat", "dog", "bird"};
  opt.classifier = cls;
  TempDir dir;
  coreml::write_mlmodel(g, opt, dir.path / "c.mlmodel");
  keep_copy(dir.path / "c.mlmodel");
  CHECK(coreml::inspect_mlmodel(dir.path / "c.mlmodel").classifier);
  const auto summary = coreml::summarize_mlmodel(dir.path / "c.mlmodel");
  CHECK(summary.model_type == "neuralNetworkClassifier");
  CHECK(summary.specification_version == 4);
  REQUIRE(summary.outputs.size() == 2);
  CHECK(summary.outputs[0].type == "String");
  CHECK(summary.op_histogram.at("softmaxND") == 1);
  CHECK(summary.op_histogram.at("batchedMatmul") == 1);
  const auto lines = decode_raw(dir.path / "c.mlmodel");
  if (!lines.empty()) {
    CHECK(has_line(lines, "403/100/1: \"cat\""));      // stringClassLabels.vector
    CHECK(has_line(lines, "403/100/1: \"bird\""));
    CHECK(has_line(lines, "403/200: \"probs\""));      // labelProbabilityLayerName
    CHECK(has_line(lines, "2/11: \"classLabel\""));    // predictedFeatureName
    CHECK(has_line(lines, "2/12: \"probabilities\""));  // predictedProbabilitiesName
    CHECK(has_prefix(lines, "2/10/3/3"));               // a stringType output (the label)
    CHECK(has_prefix(lines, "2/10/3/6/2"));             // dictionary with string keys
  }
  auto back = coreml::read_mlmodel(dir.path / "c.mlmodel");
  REQUIRE(back.outputs().size() == 1);
  CHECK(back.output_names()[0] == "probabilities");
  Tensor in = random_tensor({1, 4}, 9);
  CHECK(max_abs_diff(runtime::run(back, {in})[0], runtime::run(g, {in})[0]) <= 1e-6);
}
