// The interpreter's contract beyond single kernels: input validation,
// constants without copies, multi-node graphs, error messages, op coverage.
#include <doctest/doctest.h>

#include <string>

#include "core/runtime/interpreter.hpp"
#include "core/runtime/kernel.hpp"
#include "exporters/ir/graph.hpp"
#include "exporters/ir/ops.hpp"

namespace ir = exporters::ir;
namespace rt = exporters::runtime;

namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no error>";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("every canonical op has a kernel") {
  for (const auto& op : ir::op_names()) {
    INFO("op " << op);
    CHECK(rt::find_kernel(op) != nullptr);
  }
}

TEST_CASE("the kernel table has no op outside the canonical set") {
  for (const auto& op : rt::kernel_names()) {
    INFO("kernel " << op);
    CHECK(ir::find_op(op) != nullptr);
  }
}

TEST_CASE("run checks input count, dtype and shape and names the input") {
  ir::Graph g;
  auto* x = g.add_input("pixel_values", {ir::DType::F32, {2, 3}});
  g.add_output(g.add1("relu", {x}), "out");

  CHECK(contains(error_of([&] { rt::run(g, {}); }), "1 inputs, got 0"));
  const std::string dtype_error = error_of([&] { rt::run(g, {ir::Tensor::from_i64({2, 3}, {1, 2, 3, 4, 5, 6})}); });
  CHECK(contains(dtype_error, "pixel_values"));
  CHECK(contains(dtype_error, "i64"));
  const std::string shape_error = error_of([&] { rt::run(g, {ir::Tensor::zeros(ir::DType::F32, {3, 2})}); });
  CHECK(contains(shape_error, "pixel_values"));
  CHECK(contains(shape_error, "3x2"));
  CHECK(contains(shape_error, "2x3"));
  CHECK_THROWS_AS(rt::run(g, {ir::Tensor()}), std::runtime_error);
}

TEST_CASE("a constant output is the constant's own bytes, not a copy") {
  ir::Graph g;
  auto weights = ir::Tensor::from_f32({2, 2}, {1, 2, 3, 4});
  auto* c = g.constant(weights, "w");
  g.add_output(c, "w");
  g.add_output(g.add1("reshape", {c}, {{"shape", std::vector<int64_t>{4}}}), "flat");
  auto out = rt::run(g, {});
  REQUIRE(out.size() == 2);
  CHECK(out[0].data() == weights.data());
  CHECK(out[1].data() == weights.data());  // reshape shares storage too
  CHECK(out[1].shape() == ir::Shape{4});
}

TEST_CASE("a graph input can be a graph output") {
  ir::Graph g;
  auto* x = g.add_input("x", {ir::DType::I64, {3}});
  g.add_output(x, "same");
  auto in = ir::Tensor::from_i64({3}, {7, 8, 9});
  auto out = rt::run(g, {in});
  REQUIRE(out.size() == 1);
  CHECK(out[0].data() == in.data());
}

TEST_CASE("multi-node graph: values flow through and intermediates used twice stay alive") {
  // y = sum((x + 1) * (x + 1)) over axis 1, with x + 1 computed once.
  ir::Graph g;
  auto* x = g.add_input("x", {ir::DType::F32, {2, 3}});
  auto* one = g.constant(ir::Tensor::scalar_f32(1.0f));
  auto* t = g.add1("add", {x, one});
  auto* sq = g.add1("mul", {t, t});
  auto* s = g.add1("reduce_sum", {sq}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}});
  auto* am = g.add1("argmax", {sq}, {{"axis", int64_t{1}}, {"keepdims", int64_t{0}}});
  g.add_output(s, "sum");
  g.add_output(am, "argmax");
  auto out = rt::run(g, {ir::Tensor::from_f32({2, 3}, {0, 1, 2, -1, -3, 0.5})});
  REQUIRE(out.size() == 2);
  // Row 0: 1 + 4 + 9 = 14; row 1: 0 + 4 + 2.25 = 6.25.
  CHECK(out[0].data_as<float>()[0] == doctest::Approx(14.0));
  CHECK(out[0].data_as<float>()[1] == doctest::Approx(6.25));
  CHECK(out[1].data_as<int64_t>()[0] == 2);
  CHECK(out[1].data_as<int64_t>()[1] == 1);
}

TEST_CASE("the same graph runs twice with different inputs") {
  ir::Graph g;
  auto* x = g.add_input("x", {ir::DType::F32, {2}});
  g.add_output(g.add1("neg", {x}), "y");
  CHECK(rt::run(g, {ir::Tensor::from_f32({2}, {1, 2})})[0].data_as<float>()[1] == -2.0f);
  CHECK(rt::run(g, {ir::Tensor::from_f32({2}, {5, 6})})[0].data_as<float>()[0] == -5.0f);
}

TEST_CASE("integer division by zero is an error naming the op, not a crash") {
  ir::Graph g;
  auto* a = g.add_input("a", {ir::DType::I64, {2}});
  auto* b = g.add_input("b", {ir::DType::I64, {2}});
  g.add_output(g.add1("div", {a, b}, {}, "model.py:12"), "q");
  const std::string e = error_of([&] {
    rt::run(g, {ir::Tensor::from_i64({2}, {4, 5}), ir::Tensor::from_i64({2}, {2, 0})});
  });
  CHECK(contains(e, "'div'"));
  CHECK(contains(e, "model.py:12"));
  CHECK(contains(e, "division by zero"));
}

TEST_CASE("an out-of-range gather index is an error naming the index") {
  ir::Graph g;
  auto* table = g.constant(ir::Tensor::from_f32({3, 2}, {1, 2, 3, 4, 5, 6}));
  auto* ids = g.add_input("ids", {ir::DType::I64, {2}});
  g.add_output(g.add1("gather", {table, ids}, {{"axis", int64_t{0}}}), "rows");
  const std::string e = error_of([&] { rt::run(g, {ir::Tensor::from_i64({2}, {0, 3})}); });
  CHECK(contains(e, "'gather'"));
  CHECK(contains(e, "index 3"));
  // -3 is the first row, -4 is out of range.
  auto ok = rt::run(g, {ir::Tensor::from_i64({2}, {-3, -1})});
  CHECK(ok[0].data_as<float>()[0] == 1.0f);
  CHECK(ok[0].data_as<float>()[3] == 6.0f);
  CHECK(contains(error_of([&] { rt::run(g, {ir::Tensor::from_i64({2}, {-4, 0})}); }), "index -4"));
}

TEST_CASE("evaluate_node evaluates one node for constant folding") {
  ir::Graph g;
  auto* a = g.constant(ir::Tensor::from_i64({3}, {-7, 7, 2}));
  auto* b = g.constant(ir::Tensor::from_i64({1}, {2}));
  auto* m = g.add1("mod", {a, b});
  const ir::Node& node = *m->producer;
  auto out = rt::evaluate_node(node, {a->producer->constant(), b->producer->constant()});
  REQUIRE(out.size() == 1);
  CHECK(out[0].dtype() == ir::DType::I64);
  CHECK(out[0].data_as<int64_t>()[0] == 1);  // Python: -7 % 2 == 1
  CHECK(out[0].data_as<int64_t>()[1] == 1);
  CHECK(out[0].data_as<int64_t>()[2] == 0);
}

TEST_CASE("an op without a kernel is reported by name") {
  ir::Node node;
  node.op = "no_such_op";
  const std::string e = error_of([&] { rt::evaluate_node(node, {}); });
  CHECK(contains(e, "no_such_op"));
}

TEST_CASE("f16 graphs compute in float and store half") {
  ir::Graph g;
  auto* x = g.add_input("x", {ir::DType::F16, {3}});
  auto* y = g.add1("mul", {x, x});
  g.add_output(g.add1("cast", {y}, {{"dtype", std::string("f32")}}), "y");
  ir::Tensor in = ir::Tensor::zeros(ir::DType::F16, {3});
  auto* h = in.mutable_as<uint16_t>();
  h[0] = ir::float_to_half(1.5f);
  h[1] = ir::float_to_half(-3.0f);
  h[2] = ir::float_to_half(300.0f);  // 90000 overflows half
  auto out = rt::run(g, {in});
  CHECK(out[0].data_as<float>()[0] == 2.25f);
  CHECK(out[0].data_as<float>()[1] == 9.0f);
  CHECK(std::isinf(out[0].data_as<float>()[2]));
}

TEST_CASE("a node whose declared output type disagrees with its inputs is an error, not a buffer overrun") {
  ir::Value a{0, {ir::DType::F32, {4, 8}}, "a"};
  ir::Value b{1, {ir::DType::F32, {8, 16}}, "b"};
  ir::Value y{2, {ir::DType::F32, {2, 2}}, "y"};  // should be 4x16
  ir::Node node;
  node.op = "matmul";
  node.inputs = {&a, &b};
  node.outputs = {&y};
  const auto ta = ir::Tensor::zeros(ir::DType::F32, {4, 8});
  const auto tb = ir::Tensor::zeros(ir::DType::F32, {8, 16});
  const std::string e = error_of([&] { rt::evaluate_node(node, {ta, tb}); });
  CHECK(contains(e, "'matmul'"));
  CHECK(contains(e, "f32[4x16]"));
  // Inputs that differ from what the node was built for are refused as well.
  y.type = {ir::DType::F32, {4, 16}};
  CHECK(rt::evaluate_node(node, {ta, tb})[0].shape() == ir::Shape{4, 16});
  const std::string e2 = error_of([&] { rt::evaluate_node(node, {ta, ir::Tensor::zeros(ir::DType::F32, {8, 3})}); });
  CHECK(contains(e2, "input 1"));
}
