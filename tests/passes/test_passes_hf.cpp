// The passes on real Hugging Face traces (../shared/fixtures/hf): the
// patterns the fusions target must actually be found in what the frontend
// produces, and the pipeline must never change a model's outputs or grow it.
// Exits with 77 (meson: SKIP) and says so when the fixtures are absent.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <iostream>
#include <map>

#include "core/frontend/torchscript/torchscript_frontend.hpp"
#include "core/passes/passes.hpp"
#include "core/runtime/interpreter.hpp"
#include "hf_fixtures.hpp"

using namespace exporters;
namespace fs = std::filesystem;

namespace {

struct Model {
  testing::FixtureInfo fixture;
  frontend::TorchScriptModel traced;
};

Model load(const std::string& name) {
  auto fixture = testing::load_fixture_info(testing::hf_fixtures_dir() / name);
  frontend::TorchScriptOptions options;
  for (const auto& in : fixture.inputs) {
    options.input_shapes[in.name] = in.shape;
    options.input_dtypes[in.name] = in.dtype;
  }
  auto traced = frontend::load_torchscript(fixture.dir / "model.pt", options);
  ir::verify(traced.graph);
  return {std::move(fixture), std::move(traced)};
}

// "op" or "op{approximate=...}" for gelu -> count.
std::map<std::string, int> histogram(const ir::Graph& g) {
  std::map<std::string, int> h;
  for (const auto& n : g.nodes()) {
    std::string key = n->op;
    if (n->op == "gelu") key += "{" + n->attrs.s("approximate", "none") + "}";
    ++h[key];
  }
  return h;
}

int count(const std::map<std::string, int>& h, const std::string& key) {
  auto it = h.find(key);
  return it == h.end() ? 0 : it->second;
}

// Runs the pipeline and checks the outputs on every reference input stay
// within 1e-5 (scaled by the output's magnitude) of the unoptimised graph.
void pipeline_keeps_outputs(Model& m) {
  ir::Graph& g = m.traced.graph;
  std::vector<std::vector<ir::Tensor>> inputs, before;
  for (const auto& file : testing::reference_files(m.fixture)) {
    inputs.push_back(testing::load_reference(m.fixture, file).inputs);
    before.push_back(runtime::run(g, inputs.back()));
  }
  const size_t nodes_before = g.nodes().size();
  passes::run_default_pipeline(g);
  ir::verify(g);
  CHECK(g.nodes().size() <= nodes_before);
  REQUIRE(g.output_names() == m.traced.graph.output_names());
  for (size_t r = 0; r < inputs.size(); ++r) {
    auto after = runtime::run(g, inputs[r]);
    REQUIRE(after.size() == before[r].size());
    for (size_t i = 0; i < after.size(); ++i) {
      auto c = testing::compare_tensors(after[i], before[r][i], 1e-5);
      CHECK_MESSAGE(c.ok, m.fixture.name << " output " << i << ": " << c.message);
    }
  }
}

}  // namespace

TEST_CASE("ConvNeXT: every hand-written channels-first LayerNorm becomes layer_norm") {
  Model m = load("convnext_model");
  auto before = histogram(m.traced.graph);
  const int manual = count(before, "sqrt");
  REQUIRE(manual > 0);  // the trace really spells them out
  pipeline_keeps_outputs(m);
  auto after = histogram(m.traced.graph);
  CHECK(count(after, "sqrt") == 0);
  CHECK(count(after, "pow") == 0);
  CHECK(count(after, "layer_norm") == count(before, "layer_norm") + manual);
}

TEST_CASE("GPT-2: NewGELU becomes gelu{tanh}") {
  Model m = load("gpt2_model");
  auto before = histogram(m.traced.graph);
  const int manual = count(before, "tanh");
  REQUIRE(manual > 0);
  pipeline_keeps_outputs(m);
  auto after = histogram(m.traced.graph);
  CHECK(count(after, "tanh") == 0);
  CHECK(count(after, "pow") == 0);
  CHECK(count(after, "gelu{tanh}") == manual);
}

TEST_CASE("every fixture: the pipeline keeps outputs and never grows the graph") {
  for (const auto& listed : testing::load_fixture_index()) {
    CAPTURE(listed.name);
    Model m = load(listed.name);
    const size_t before = m.traced.graph.nodes().size();
    pipeline_keeps_outputs(m);
    std::cout << "[passes_hf] " << listed.name << ": " << before << " -> " << m.traced.graph.nodes().size()
              << " nodes\n";
  }
}

int main(int argc, char** argv) {
  testing::require_hf_fixtures();
  doctest::Context context(argc, argv);
  return context.run();
}
