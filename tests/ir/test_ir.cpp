// IR behaviour: dtypes and half conversion, type inference per op, the
// verifier's error messages and the printer's stable text form.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "exporters/ir/graph.hpp"
#include "exporters/ir/ops.hpp"

using namespace exporters::ir;

TEST_CASE("half conversion matches IEEE 754 binary16") {
  // Reference bit patterns from the binary16 definition.
  CHECK(float_to_half(1.0f) == 0x3c00);
  CHECK(float_to_half(-2.0f) == 0xc000);
  CHECK(float_to_half(65504.0f) == 0x7bff);
  CHECK(float_to_half(65520.0f) == 0x7c00);  // rounds to +inf
  CHECK(float_to_half(std::numeric_limits<float>::infinity()) == 0x7c00);
  CHECK(float_to_half(5.9604644775390625e-08f) == 0x0001);  // smallest subnormal
  CHECK(float_to_half(6.103515625e-05f) == 0x0400);         // smallest normal
  CHECK(float_to_half(0.0f) == 0x0000);
  CHECK(float_to_half(-0.0f) == 0x8000);
  CHECK(float_to_half(1.0f + 1.0f / 2048) == 0x3c00);       // tie rounds to even
  CHECK(float_to_half(1.0f + 3.0f / 2048) == 0x3c02);       // tie rounds to even (up)
  CHECK(std::isnan(half_to_float(float_to_half(std::nanf("")))));
  CHECK(half_to_float(0x3555) == doctest::Approx(0.33325195f).epsilon(1e-7));
  CHECK(half_to_float(0x0001) == 5.9604644775390625e-08f);
  CHECK(half_to_float(0x8400) == -6.103515625e-05f);
  // Every finite half survives a round trip through float.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00) continue;
    REQUIRE(float_to_half(half_to_float(static_cast<uint16_t>(h))) == h);
  }
}

TEST_CASE("bulk half conversion equals the scalar conversion") {
  // A stride through every float bit pattern, plus the edges, in buffers
  // whose length is not a multiple of the vector width.
  std::vector<float> src;
  for (uint64_t bits = 0; bits < (1ull << 32); bits += 65521) src.push_back(std::bit_cast<float>(uint32_t(bits)));
  for (float f : {65504.0f, 65519.99f, 65520.0f, -65520.0f, 3.0e38f, -3.4028235e38f, 5.9604645e-08f,
                  2.9802322e-08f, 2.9802326e-08f, 6.1035156e-05f, 1.0f + 1.0f / 2048, -0.0f,
                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()})
    src.push_back(f);
  src.push_back(1.0f);  // odd length
  std::vector<uint16_t> bulk(src.size()), sat(src.size());
  floats_to_halves(src.data(), bulk.data(), src.size());
  floats_to_halves(src.data(), sat.data(), src.size(), /*saturate=*/true);
  for (size_t i = 0; i < src.size(); ++i) {
    const float f = src[i];
    if (std::isnan(f)) {
      REQUIRE(std::isnan(half_to_float(bulk[i])));
      REQUIRE(std::isnan(half_to_float(sat[i])));
      continue;
    }
    INFO("value " << f);
    REQUIRE(bulk[i] == float_to_half(f));
    const float clamped = std::isinf(f) ? f : std::clamp(f, -65504.0f, 65504.0f);
    REQUIRE(sat[i] == float_to_half(clamped));
  }
  const float float32_min = std::numeric_limits<float>::lowest();
  uint16_t h = 0;
  floats_to_halves(&float32_min, &h, 1, /*saturate=*/true);
  CHECK(h == 0xfbff);  // an attention mask's float32 min saturates to -65504
  floats_to_halves(&float32_min, &h, 1);
  CHECK(h == 0xfc00);  // and is -inf without saturation
  std::vector<float> back(bulk.size());
  halves_to_floats(bulk.data(), back.data(), bulk.size());
  for (size_t i = 0; i < bulk.size(); ++i) {
    if (std::isnan(back[i])) REQUIRE(std::isnan(half_to_float(bulk[i])));
    else REQUIRE(std::bit_cast<uint32_t>(back[i]) == std::bit_cast<uint32_t>(half_to_float(bulk[i])));
  }
}

TEST_CASE("tensor storage: owned, borrowed, cast, reshape") {
  Tensor a = Tensor::from_f32({2, 2}, {1.5f, -2.5f, 3.0f, 0.0f});
  CHECK(a.nbytes() == 16);
  Tensor i = a.cast(DType::I64);
  CHECK(i.element_as_int(1) == -2);
  Tensor b = a.cast(DType::Bool);
  CHECK(b.element_as_int(3) == 0);
  CHECK(b.element_as_int(0) == 1);
  Tensor h = a.cast(DType::F16);
  CHECK(h.element_as_double(1) == -2.5);
  auto keep = std::make_shared<std::vector<float>>(6, 7.0f);
  Tensor borrowed = Tensor::borrow(DType::F32, {2, 3}, keep->data(), keep);
  CHECK(borrowed.borrowed());
  CHECK(borrowed.data() == keep->data());  // no copy
  CHECK_THROWS_AS(borrowed.mutable_data(), std::logic_error);
  Tensor r = borrowed.reshaped({3, 2});
  CHECK(r.data() == keep->data());
  CHECK_THROWS(borrowed.reshaped({4}));
}

TEST_CASE("binary ops broadcast numpy-style and require equal dtypes") {
  Graph g;
  Value* x = g.add_input("x", {DType::F32, {2, 1, 4}});
  Value* y = g.add_input("y", {DType::F32, {3, 1}});
  Value* s = g.add1("add", {x, y});
  CHECK(s->type == TensorType{DType::F32, {2, 3, 4}});
  Value* c = g.add1("less", {x, y});
  CHECK(c->type.dtype == DType::Bool);
  Value* z = g.add_input("z", {DType::I64, {4}});
  CHECK_THROWS_WITH_AS(g.add1("add", {x, z}), doctest::Contains("different dtypes"), IrError);
  Value* w = g.add_input("w", {DType::F32, {3}});
  CHECK_THROWS_WITH_AS(g.add1("mul", {x, w}), doctest::Contains("do not broadcast"), IrError);
}

TEST_CASE("shape inference of structural ops") {
  Graph g;
  Value* x = g.add_input("x", {DType::F32, {1, 3, 8, 8}});
  Value* w = g.constant(Tensor::zeros(DType::F32, {6, 1, 3, 3}));
  Value* y = g.add1("conv", {x, w}, {{"strides", std::vector<int64_t>{2, 2}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}},
                                     {"dilations", std::vector<int64_t>{1, 1}}, {"groups", int64_t{3}}});
  CHECK(y->type.shape == Shape{1, 6, 4, 4});
  Value* p = g.add1("max_pool", {x}, {{"kernel", std::vector<int64_t>{3, 3}}, {"strides", std::vector<int64_t>{2, 2}},
                                      {"ceil_mode", int64_t{1}}});
  CHECK(p->type.shape == Shape{1, 3, 4, 4});  // floor would give 3
  Value* t = g.add1("transpose", {x}, {{"perm", std::vector<int64_t>{0, 2, 3, 1}}});
  CHECK(t->type.shape == Shape{1, 8, 8, 3});
  Value* r = g.add1("reduce_mean", {x}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{1}}});
  CHECK(r->type.shape == Shape{1, 1, 8, 8});
  Value* idx = g.add_input("idx", {DType::I64, {2, 5}});
  Value* table = g.constant(Tensor::zeros(DType::F32, {10, 4}));
  Value* e = g.add1("gather", {table, idx}, {{"axis", int64_t{0}}});
  CHECK(e->type.shape == Shape{2, 5, 4});
  Value* sl = g.add1("slice", {x}, {{"axes", std::vector<int64_t>{3}}, {"starts", std::vector<int64_t>{1}},
                                    {"ends", std::vector<int64_t>{8}}, {"steps", std::vector<int64_t>{3}}});
  CHECK(sl->type.shape == Shape{1, 3, 8, 3});
  Value* a = g.add_input("a", {DType::F32, {2, 1, 5, 7}});
  Value* b = g.add_input("b", {DType::F32, {3, 7, 4}});
  CHECK(g.add1("matmul", {a, b})->type.shape == Shape{2, 3, 5, 4});
  CHECK_THROWS_WITH(g.add1("reshape", {x}, {{"shape", std::vector<int64_t>{5, 5}}}),
                    doctest::Contains("cannot reshape"));
  CHECK_THROWS_WITH(g.add1("frobnicate", {x}), doctest::Contains("unknown op 'frobnicate'"));
}

TEST_CASE("verifier names the offending op") {
  Graph g;
  Value* x = g.add_input("x", {DType::F32, {4}});
  Value* y = g.add1("relu", {x}, {}, "encoder.layer.0");
  g.add_output(y, "out");
  CHECK_NOTHROW(verify(g));
  y->type.shape = {5};  // corrupt the inferred type
  CHECK_THROWS_WITH_AS(verify(g), doctest::Contains("'relu' (encoder.layer.0)"), IrError);
  y->type.shape = {4};
  // Use before definition.
  auto nodes = g.take_nodes();
  auto n2 = g.make_node("neg", {y});
  Value* z = n2->outputs[0];
  std::vector<std::unique_ptr<Node>> order;
  order.push_back(std::move(n2));
  for (auto& n : nodes) order.push_back(std::move(n));
  g.set_order(std::move(order));
  g.set_output(0, z);
  CHECK_THROWS_WITH(verify(g), doctest::Contains("used before it is defined"));
}

TEST_CASE("printer gives a stable text form") {
  Graph g;
  Value* x = g.add_input("x", {DType::F32, {1, 4}});
  Value* c = g.constant(Tensor::from_f32({4}, {0.5f, 1.0f, -2.0f, 0.25f}));
  Value* big = g.constant(Tensor::zeros(DType::F32, {3, 4}));
  Value* y = g.add1("mul", {x, c});
  Value* z = g.add1("linear", {y, big});
  Value* s = g.add1("softmax", {z}, {{"axis", int64_t{1}}});
  g.add_output(s, "probs");
  const char* expected =
      "graph(%0: f32[1x4] \"x\") {\n"
      "  %1: f32[4] = constant() {value=f32[4] {0.5, 1, -2, 0.25}}\n"
      "  %2: f32[3x4] = constant() {value=<f32[3x4] data>}\n"
      "  %3: f32[1x4] = mul(%0, %1)\n"
      "  %4: f32[1x3] = linear(%3, %2)\n"
      "  %5: f32[1x3] = softmax(%4) {axis=1}\n"
      "  return %5 \"probs\"\n"
      "}\n";
  CHECK(print(g) == expected);
}

TEST_CASE("replace_uses rewrites inputs and outputs in one sweep, following chains") {
  Graph g;
  Value* x = g.add_input("x", {DType::F32, {2}});
  Value* a = g.add1("identity", {x});
  Value* b = g.add1("identity", {a});
  Value* c = g.add1("exp", {b});
  g.add_output(b, "b");
  g.add_output(c, "c");
  g.replace_uses({{b, a}, {a, x}});
  CHECK(g.outputs()[0] == x);
  CHECK(g.nodes()[2]->inputs[0] == x);
}
