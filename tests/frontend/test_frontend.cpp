// The TorchScript frontend against PyTorch: every module traced by
// trace_modules.py is translated, verified, run by the reference interpreter
// and compared with the outputs PyTorch computed; the error paths name the
// file, op, schema, source line or missing --shape.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "core/frontend/torchscript/converter_table.hpp"
#include "core/frontend/torchscript/torchscript_frontend.hpp"
#include "core/io/safetensors.hpp"
#include "core/runtime/interpreter.hpp"
#include "exporters/ir/graph.hpp"
#include "tests/fixtures_lib/hf_fixtures.hpp"

namespace fe = exporters::frontend;
namespace ir = exporters::ir;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const json& manifest() {
  static const json m = [] {
    std::ifstream in(EXPORTERS_FRONTEND_CASES);
    REQUIRE_MESSAGE(in.good(), "cannot open " EXPORTERS_FRONTEND_CASES);
    return json::parse(in);
  }();
  return m;
}

fs::path case_dir() { return manifest().at("dir").get<std::string>(); }

fe::TorchScriptOptions options_for(const json& c) {
  fe::TorchScriptOptions options;
  for (const json& in : c.at("inputs")) {
    const std::string name = in.at("name");
    options.input_shapes[name] = in.at("shape").get<ir::Shape>();
    options.input_dtypes[name] = exporters::testing::dtype_from_torch_name(in.at("dtype"));
  }
  return options;
}

const json& find_case(const std::string& name) {
  for (const json& c : manifest().at("cases")) {
    if (c.at("name") == name) return c;
  }
  FAIL("no case " << name);
  throw std::logic_error("unreachable");
}

// Runs one traced case end to end; returns an empty string or what failed.
std::string check_case(const json& c) {
  const std::string name = c.at("name");
  fe::TorchScriptModel model = fe::load_torchscript(case_dir() / (name + ".pt"), options_for(c));
  ir::verify(model.graph);
  auto data = exporters::io::read_safetensors(case_dir() / (name + ".safetensors"));
  std::vector<ir::Tensor> inputs;
  for (const std::string& input : model.input_names) inputs.push_back(data.at("input." + input));
  std::vector<ir::Tensor> outputs = exporters::runtime::run(model.graph, inputs);
  const size_t expected_count = c.at("outputs").size();
  if (outputs.size() != expected_count || model.output_names.size() != expected_count) {
    return fmt::format("{} outputs, PyTorch has {}", outputs.size(), expected_count);
  }
  std::string failures;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (model.output_names[i] != fmt::format("output_{}", i)) failures += "bad output name " + model.output_names[i];
    auto cmp = exporters::testing::compare_tensors(outputs[i], data.at(fmt::format("output.{}", i)),
                                                   c.at("atol").get<double>());
    if (!cmp.ok) failures += fmt::format("output {}: {}; ", i, cmp.message);
  }
  return failures;
}

std::string error_of(const fs::path& path, const fe::TorchScriptOptions& options) {
  try {
    fe::load_torchscript(path, options);
  } catch (const fe::FrontendError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("every traced module matches PyTorch's outputs") {
  const json& cases = manifest().at("cases");
  REQUIRE(cases.size() > 100);
  for (const json& c : cases) {
    const std::string name = c.at("name");
    SUBCASE(name.c_str()) {
      std::string failure;
      try {
        failure = check_case(c);
      } catch (const std::exception& e) {
        failure = e.what();
      }
      CHECK_MESSAGE(failure.empty(), name << ": " << failure);
    }
  }
}

TEST_CASE("every nn and scalar converter row is exercised by a traced module") {
  // Every builtin row is wrapped to record that the frontend called it.
  std::set<std::string> converted;
  fe::TorchScriptOptions recording;
  for (const auto& [kind, converter] : fe::builtin_converters()) {
    recording.extra_converters[kind] = [&converted, kind = kind, converter = converter](
                                           fe::ConversionContext& ctx, const fe::NodeView& node) {
      converted.insert(kind);
      return converter(ctx, node);
    };
  }
  for (const json& c : manifest().at("cases")) {
    fe::TorchScriptOptions options = options_for(c);
    options.extra_converters = recording.extra_converters;
    try {
      fe::load_torchscript(case_dir() / (c.at("name").get<std::string>() + ".pt"), options);
    } catch (const std::exception&) {
      // reported by the test case above
    }
  }
  fe::ConverterTable nn;
  fe::add_nn_converters(nn);
  fe::ConverterTable scalar;
  fe::add_scalar_converters(scalar);
  std::vector<std::string> missing;
  auto check = [&](const fe::ConverterTable& table) {
    for (const auto& [kind, converter] : table) {
      // In-place rows share the functional row's converter.
      const bool inplace = kind.back() == '_' && kind.substr(kind.size() - 2) != "__";
      const std::string functional = inplace ? kind.substr(0, kind.size() - 1) : kind;
      if (!converted.count(kind) && !converted.count(functional)) missing.push_back(kind);
    }
  };
  check(nn);
  check(scalar);
  CHECK_MESSAGE(missing.empty(), "not exercised: " << fmt::format("{}", fmt::join(missing, ", ")));
}

TEST_CASE("weights are borrowed from the loaded module, not copied") {
  const json& c = find_case("nn_linear");
  fe::TorchScriptModel model = fe::load_torchscript(case_dir() / "nn_linear.pt", options_for(c));
  bool found = false;
  for (const auto& node : model.graph.nodes()) {
    if (node->is_constant() && node->constant().shape() == ir::Shape{5, 6}) {
      found = true;
      CHECK(node->constant().borrowed());
    }
  }
  CHECK(found);
  CHECK(model.keepalive != nullptr);
  CHECK(model.input_names == std::vector<std::string>{"input"});
  CHECK(model.graph.inputs().at(0)->name == "input");
}

TEST_CASE("IR nodes carry the traced source line as their name") {
  const json& c = find_case("loader_nested_outputs");
  fe::TorchScriptModel model = fe::load_torchscript(case_dir() / "loader_nested_outputs.pt", options_for(c));
  bool found = false;
  for (const auto& node : model.graph.nodes()) {
    if (node->op == "relu") {
      found = true;
      CHECK(contains(node->name, "trace_modules.py:"));
    }
  }
  CHECK(found);
}

TEST_CASE("large weights are used in place from the mapped model.pt") {
  // The case's values are checked against PyTorch with the other cases;
  // here: the weights were not copied, and the constants point into the file.
  const json& c = find_case("loader_mapped_weights");
  fe::TorchScriptModel model = fe::load_torchscript(case_dir() / "loader_mapped_weights.pt", options_for(c));
  CHECK(model.mapped_bytes >= 256 * 256 * 4 + 300 * 256 * 4);
  CHECK(model.load_seconds > 0);
  // Small archives are copied as before.
  fe::TorchScriptModel small = fe::load_torchscript(case_dir() / "loader_nested_outputs.pt",
                                                    options_for(find_case("loader_nested_outputs")));
  CHECK(small.mapped_bytes == 0);
}

TEST_CASE("an archive whose classes run __setstate__ is loaded with copies, and still right") {
  const json& c = manifest().at("setstate");
  fe::TorchScriptOptions options;
  options.input_shapes["x"] = c.at("shape").get<ir::Shape>();
  fe::TorchScriptModel model = fe::load_torchscript(c.at("path").get<std::string>(), options);
  CHECK(model.mapped_bytes == 0);
  const auto in = c.at("input").get<std::vector<float>>();
  const auto want = c.at("output").get<std::vector<float>>();
  ir::Tensor x = ir::Tensor::from_f32(options.input_shapes["x"], in);
  ir::Tensor y = exporters::runtime::run(model.graph, {x}).at(0);
  REQUIRE(static_cast<size_t>(y.numel()) == want.size());
  for (size_t i = 0; i < want.size(); ++i) REQUIRE(y.data_as<float>()[i] == doctest::Approx(want[i]).epsilon(1e-4));
}

TEST_CASE("input names are forward()'s argument names") {
  CHECK(fe::torchscript_input_names(case_dir() / "loader_nested_outputs.pt") ==
        std::vector<std::string>{"x", "y"});
}

TEST_CASE("input dtype defaults to f32 and follows --dtype") {
  const json& c = find_case("nn_relu");
  fe::TorchScriptOptions options;
  options.input_shapes["input"] = c.at("inputs")[0].at("shape").get<ir::Shape>();
  fe::TorchScriptModel f32 = fe::load_torchscript(case_dir() / "nn_relu.pt", options);
  CHECK(f32.graph.inputs().at(0)->type.dtype == ir::DType::F32);
  options.input_dtypes["input"] = ir::DType::F16;
  fe::TorchScriptModel f16 = fe::load_torchscript(case_dir() / "nn_relu.pt", options);
  CHECK(f16.graph.inputs().at(0)->type.dtype == ir::DType::F16);
  CHECK(f16.graph.outputs().at(0)->type.dtype == ir::DType::F16);
}

TEST_CASE("plugin converters add to and override the table") {
  const json& c = find_case("nn_relu");
  fe::TorchScriptOptions options = options_for(c);
  options.extra_converters["aten::relu"] = [](fe::ConversionContext& ctx, const fe::NodeView& node) {
    return std::vector<fe::Operand>{ctx.graph().add1("neg", {ctx.tensor(node, 0)})};
  };
  fe::TorchScriptModel model = fe::load_torchscript(case_dir() / "nn_relu.pt", options);
  std::vector<std::string> ops;
  for (const auto& node : model.graph.nodes()) ops.push_back(node->op);
  CHECK(std::count(ops.begin(), ops.end(), "neg") == 1);
  CHECK(std::count(ops.begin(), ops.end(), "relu") == 0);
  auto data = exporters::io::read_safetensors(case_dir() / "nn_relu.safetensors");
  const ir::Tensor& x = data.at("input.input");
  ir::Tensor y = exporters::runtime::run(model.graph, {x}).at(0);
  for (int64_t i = 0; i < x.numel(); ++i) CHECK(y.element_as_double(i) == -x.element_as_double(i));
}

TEST_CASE("a missing --shape names every input without one") {
  const json& c = find_case("nn_addmm");  // forward(x, y, z)
  fe::TorchScriptOptions options = options_for(c);
  options.input_shapes.erase("y");
  options.input_shapes.erase("z");
  const std::string message = error_of(case_dir() / "nn_addmm.pt", options);
  CHECK(contains(message, "--shape y="));
  CHECK(contains(message, "--shape z="));
  CHECK_FALSE(contains(message, "--shape x="));
  CHECK(contains(message, "nn_addmm.pt"));
}

TEST_CASE("a --shape for an input the model does not have is an error") {
  const json& c = find_case("nn_relu");
  fe::TorchScriptOptions options = options_for(c);
  options.input_shapes["pixel_values"] = {1, 3, 4, 4};
  const std::string message = error_of(case_dir() / "nn_relu.pt", options);
  CHECK(contains(message, "pixel_values"));
  CHECK(contains(message, "no input"));
  options.input_shapes.erase("pixel_values");
  options.input_dtypes["token_type_ids"] = ir::DType::I64;
  const std::string dtype_message = error_of(case_dir() / "nn_relu.pt", options);
  CHECK(contains(dtype_message, "token_type_ids"));
  CHECK(contains(dtype_message, "no such input"));
}

TEST_CASE("bad archives give one error naming the file") {
  const json& errors = manifest().at("errors");
  for (const char* key : {"truncated", "corrupt", "not_torchscript", "text"}) {
    CAPTURE(key);
    const std::string path = errors.at(key);
    fe::TorchScriptOptions options;
    options.input_shapes["input"] = {2, 3, 6};
    const std::string message = error_of(path, options);
    CHECK(contains(message, path));
    CHECK(contains(message, "TorchScript"));
    std::string names_error;
    try {
      fe::torchscript_input_names(path);
    } catch (const fe::FrontendError& e) {
      names_error = e.what();
    }
    CHECK(contains(names_error, path));
  }
  const std::string missing = error_of(case_dir() / "does_not_exist.pt", {});
  CHECK(contains(missing, "does_not_exist.pt"));
  CHECK(contains(missing, "no such file"));
}

TEST_CASE("unsupported ops are all listed with schema and source line") {
  const json& u = manifest().at("errors").at("unsupported");
  fe::TorchScriptOptions options;
  for (const auto& [name, shape] : u.at("inputs").items()) options.input_shapes[name] = shape.get<ir::Shape>();
  const std::string message = error_of(u.at("path").get<std::string>(), options);
  INFO(message);
  CHECK(contains(message, u.at("path").get<std::string>()));
  CHECK(contains(message, "2 ops have no converter"));
  for (const json& op : u.at("ops")) {
    const bool named = contains(message, op.at("kind").get<std::string>() + ":") ||
                       contains(message, op.at("alt_kind").get<std::string>() + ":");
    CHECK_MESSAGE(named, op.at("kind"));
    CHECK(contains(message, op.at("schema_fragment").get<std::string>()));
    CHECK(contains(message, op.at("source").get<std::string>()));
  }
  // The op used twice is listed once, with its other use counted.
  CHECK(contains(message, "1 more use"));
  // The source text of the traced line is quoted.
  CHECK(contains(message, "torch.lgamma(a + 1)"));
}

TEST_CASE("what the IR cannot express is rejected with the op and the reason") {
  for (const json& c : manifest().at("conversion_errors")) {
    const std::string name = c.at("name");
    SUBCASE(name.c_str()) {
      const std::string message = error_of(case_dir() / (name + ".pt"), options_for(c));
      INFO(message);
      for (const json& part : c.at("expect")) CHECK(contains(message, part.get<std::string>()));
      CHECK(contains(message, name + ".pt"));
      CHECK(contains(message, "trace_modules.py:"));  // the traced source line
    }
  }
}

TEST_CASE("a converter error names the op and source line") {
  const json& c = find_case("nn_relu");
  fe::TorchScriptOptions options = options_for(c);
  options.extra_converters["aten::relu"] = [](fe::ConversionContext& ctx, const fe::NodeView& node) {
    return std::vector<fe::Operand>{ctx.tensor(node, 5)};
  };
  const std::string message = error_of(case_dir() / "nn_relu.pt", options);
  CHECK(contains(message, "aten::relu"));
  CHECK(contains(message, "argument 5"));
  CHECK(contains(message, "nn_relu.pt"));
  CHECK(contains(message, "relu(Tensor self) -> Tensor"));
}

TEST_CASE("ConversionContext accessors check kinds and name the argument") {
  ir::Graph g;
  fe::ConversionContext ctx(g);
  ir::Value* x = g.add_input("x", {ir::DType::F32, {2}});
  fe::NodeView node{"aten::demo", "", "", {x, int64_t{3}, 2.5, true, fe::NoneValue{}, std::vector<int64_t>{1, 2},
                                           std::string("same")}, 1};
  CHECK(ctx.tensor(node, 0) == x);
  CHECK(ctx.to_int(node, 1) == 3);
  CHECK(ctx.to_int(node, 3) == 1);
  CHECK(ctx.to_double(node, 1) == 3.0);
  CHECK(ctx.to_double(node, 2) == 2.5);
  CHECK(ctx.is_none(node, 4));
  CHECK(ctx.optional_tensor(node, 4) == nullptr);
  CHECK(ctx.int_list(node, 1) == std::vector<int64_t>{3});
  CHECK(ctx.int_list(node, 5) == std::vector<int64_t>{1, 2});
  CHECK(ctx.string(node, 6) == "same");
  CHECK_THROWS_WITH_AS(ctx.tensor(node, 1), doctest::Contains("aten::demo: argument 1 must be a Tensor, got int"),
                       fe::ConversionError);
  CHECK_THROWS_WITH_AS(ctx.to_int(node, 2), doctest::Contains("argument 2"), fe::ConversionError);
  CHECK_THROWS_WITH_AS(ctx.tensor(node, 9), doctest::Contains("argument 9 is missing"), fe::ConversionError);
  CHECK(fe::operand_kind(fe::Operand{std::vector<ir::Value*>{}}) == "Tensor[]");
  ir::Value* half = ctx.as_value(int64_t{2}, ir::DType::F16);
  CHECK(half->type == ir::TensorType{ir::DType::F16, {}});
  REQUIRE(ctx.constant_data(half) != nullptr);
  CHECK(ctx.constant_data(half)->element_as_double(0) == 2.0);
  CHECK(ctx.as_value(2.5, ir::DType::I64)->type.dtype == ir::DType::F32);
  CHECK(ctx.constant_data(x) == nullptr);
  CHECK(fe::dtype_from_torch_scalar_type(4) == ir::DType::I64);
  CHECK(fe::dtype_from_torch_scalar_type(6) == ir::DType::F32);
  CHECK(fe::dtype_from_torch_scalar_type(11) == ir::DType::Bool);
  CHECK_THROWS_WITH_AS(fe::dtype_from_torch_scalar_type(9), doctest::Contains("complex64"), fe::ConversionError);
}
