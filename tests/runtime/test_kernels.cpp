// Every canonical op against PyTorch: make_expectations.py (run at build time
// with the Python that has torch) writes inputs and torch's outputs for
// hundreds of single-op cases; each case becomes a one-node IR graph built
// with Graph::add, run through the interpreter and compared with torch.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io/safetensors.hpp"
#include "core/runtime/interpreter.hpp"
#include "exporters/ir/graph.hpp"
#include "exporters/ir/ops.hpp"

namespace ir = exporters::ir;
namespace rt = exporters::runtime;

namespace {

struct Expectations {
  nlohmann::json cases;
  std::map<std::string, ir::Tensor> tensors;
};

const Expectations& expectations() {
  static const Expectations e = [] {
    Expectations out;
    std::ifstream manifest(EXPORTERS_RUNTIME_CASES_JSON);
    if (!manifest) throw std::runtime_error("cannot open " EXPORTERS_RUNTIME_CASES_JSON);
    out.cases = nlohmann::json::parse(manifest).at("cases");
    out.tensors = exporters::io::read_safetensors(EXPORTERS_RUNTIME_CASES_SAFETENSORS);
    return out;
  }();
  return e;
}

ir::Attr to_attr(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) return v.get<double>();
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    const bool all_int = std::all_of(v.begin(), v.end(), [](const auto& e) { return e.is_number_integer(); });
    if (all_int) return v.get<std::vector<int64_t>>();
    std::vector<double> d;
    for (const auto& e : v) d.push_back(e.get<double>());
    return d;
  }
  throw std::runtime_error("unsupported attribute value " + v.dump());
}

// Empty string on a match, else what differs.
std::string compare(const ir::Tensor& got, const ir::Tensor& want, double atol, double rtol) {
  if (got.type() != want.type())
    return "type " + got.type().to_string() + " != expected " + want.type().to_string();
  int bad = 0;
  std::string first;
  double worst = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    bool ok;
    if (ir::is_float(want.dtype())) {
      const double g = got.element_as_double(i), w = want.element_as_double(i);
      const bool both_nan = std::isnan(g) && std::isnan(w);
      const bool same_inf = std::isinf(w) && g == w;
      const double err = std::fabs(g - w);
      ok = both_nan || same_inf || err <= atol + rtol * std::fabs(w);
      if (!ok) worst = std::max(worst, err);
      if (!ok && first.empty())
        first = "element " + std::to_string(i) + ": got " + std::to_string(g) + ", expected " + std::to_string(w);
    } else {
      ok = got.element_as_int(i) == want.element_as_int(i);
      if (!ok && first.empty())
        first = "element " + std::to_string(i) + ": got " + std::to_string(got.element_as_int(i)) +
                ", expected " + std::to_string(want.element_as_int(i));
    }
    bad += ok ? 0 : 1;
  }
  if (!bad) return {};
  return std::to_string(bad) + " of " + std::to_string(want.numel()) + " elements differ (max abs error " +
         std::to_string(worst) + "); first: " + first;
}

// Runs one manifest case; empty string on success.
std::string run_case(const nlohmann::json& c) {
  const auto& tensors = expectations().tensors;
  const std::string op = c.at("op");
  ir::Graph g;
  ir::Attrs attrs;
  for (const auto& [key, value] : c.at("attrs").items()) attrs.set(key, to_attr(value));
  std::vector<ir::Tensor> outputs_expected;
  for (const auto& name : c.at("outputs")) outputs_expected.push_back(tensors.at(name.get<std::string>()));

  std::vector<ir::Value*> inputs;
  std::vector<ir::Tensor> feeds;
  const auto consts = c.at("const").get<std::vector<size_t>>();
  const auto& names = c.at("inputs");
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].is_null()) {
      inputs.push_back(nullptr);
      continue;
    }
    const ir::Tensor& t = tensors.at(names[i].get<std::string>());
    if (std::find(consts.begin(), consts.end(), i) != consts.end()) {
      inputs.push_back(g.constant(t));
    } else {
      inputs.push_back(g.add_input("in" + std::to_string(i), t.type()));
      feeds.push_back(t);
    }
  }
  std::vector<ir::Value*> outs;
  if (op == "constant") {
    // The constant's payload is the expected tensor itself: checks pass-through.
    attrs.erase("value_from");
    attrs.set("value", outputs_expected.at(0));
  }
  try {
    outs = g.add(op, inputs, attrs);
  } catch (const std::exception& e) {
    return std::string("building the graph failed: ") + e.what();
  }
  for (size_t i = 0; i < outs.size(); ++i) g.add_output(outs[i], "out" + std::to_string(i));
  ir::verify(g);
  std::vector<ir::Tensor> got;
  try {
    got = rt::run(g, feeds);
  } catch (const std::exception& e) {
    return std::string("run failed: ") + e.what();
  }
  if (got.size() != outputs_expected.size()) return "wrong number of outputs";
  for (size_t i = 0; i < got.size(); ++i) {
    std::string diff = compare(got[i], outputs_expected[i], c.at("atol").get<double>(), c.at("rtol").get<double>());
    if (!diff.empty()) return "output " + std::to_string(i) + ": " + diff;
  }
  return {};
}

// Runs every case of the given ops; each op must have cases.
void check_ops(const std::vector<std::string>& ops) {
  std::map<std::string, int> counted;
  for (const auto& c : expectations().cases) {
    const std::string op = c.at("op");
    if (std::find(ops.begin(), ops.end(), op) == ops.end()) continue;
    ++counted[op];
    const std::string name = c.at("name");
    INFO("case " << name);
    const std::string failure = run_case(c);
    CHECK_MESSAGE(failure.empty(), name << ": " << failure);
  }
  for (const auto& op : ops) {
    INFO("op " << op);
    CHECK(counted[op] > 0);
  }
}

}  // namespace

TEST_CASE("binary arithmetic follows PyTorch: broadcasting, Python // and %, int truncation, f16, ints, bool") {
  check_ops({"add", "sub", "mul", "div", "floor_div", "mod", "pow", "maximum", "minimum"});
}

TEST_CASE("comparisons and logic produce bool with broadcasting") {
  check_ops({"equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
             "logical_xor", "logical_not"});
}

TEST_CASE("unary math and activations follow PyTorch, incl. round half to even and integer variants") {
  check_ops({"neg", "abs", "exp", "log", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "tanh", "sigmoid", "erf",
             "floor", "ceil", "round", "sign", "relu", "silu", "hardswish", "hardsigmoid", "identity", "gelu",
             "softplus", "clamp", "leaky_relu", "elu"});
}

TEST_CASE("cast and where move values between every dtype") { check_ops({"cast", "where"}); }

TEST_CASE("matmul and linear match torch.matmul / F.linear, blocked and threaded sizes included") {
  check_ops({"matmul", "linear"});
}

TEST_CASE("conv and conv_transpose match PyTorch for 1-D/2-D, groups, depthwise, dilations, asymmetric pads") {
  check_ops({"conv", "conv_transpose"});
}

TEST_CASE("layer, group and batch norm match PyTorch") { check_ops({"layer_norm", "group_norm", "batch_norm"}); }

TEST_CASE("softmax, reductions, argmax/argmin (first index) and cumsum (exclusive, reverse)") {
  check_ops({"softmax", "log_softmax", "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
             "argmax", "argmin", "cumsum"});
}

TEST_CASE("data movement ops: reshape, transpose, slice with steps, concat, expand, tile, flip, pad modes") {
  check_ops({"reshape", "transpose", "slice", "concat", "expand", "tile", "flip", "pad"});
}

TEST_CASE("gather (negative indices), gather_elements and scatter_elements match PyTorch indexing") {
  check_ops({"gather", "gather_elements", "scatter_elements"});
}

TEST_CASE("resize nearest/linear/cubic matches F.interpolate with and without align_corners") {
  check_ops({"resize"});
}

TEST_CASE("pools match PyTorch: ceil_mode, count_include_pad, adaptive windows") {
  check_ops({"max_pool", "avg_pool", "adaptive_avg_pool", "adaptive_max_pool"});
}

TEST_CASE("constants come back unchanged") { check_ops({"constant"}); }

TEST_CASE("every canonical op has PyTorch cases") {
  std::set<std::string> covered;
  for (const auto& c : expectations().cases) covered.insert(c.at("op").get<std::string>());
  for (const auto& op : ir::op_names()) {
    INFO("op " << op);
    CHECK(covered.count(op) == 1);
  }
}
