// Shared by the native graph-builder tests of GPT-2, DistilBERT, ViT and
// ConvNeXT: a family plugin loaded from the build tree builds the graph of a
// class from config.json + model.safetensors through the builder it
// registered, the reference interpreter runs it, and the outputs are
// compared (max abs error scaled by max(1, |expected|) <= 1e-4) with the HF
// fixtures' references or with tests/native_families/reference.py, an
// independent PyTorch reference checked against one fixture first.
// Header-only because it uses doctest assertions.
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/io/checkpoint.hpp"
#include "core/io/safetensors.hpp"
#include "core/runtime/interpreter.hpp"
#include "hf_fixtures.hpp"
#include "registry/plugin_registry.hpp"
#include "tests/fixtures_lib/run_command.hpp"
#include "tests/fixtures_lib/temp_dir.hpp"

namespace exporters::testing::native {

namespace fs = std::filesystem;
using json = nlohmann::json;

inline constexpr double kAtol = 1e-4;

// The fixtures and the reference are needed by every case: without them the
// test is a SKIP (exit 77), never a pass.
inline void require_fixtures() {
  if (!hf_fixtures_available()) {
    std::cerr << hf_fixtures_missing_message() << "\n";
    std::exit(77);
  }
}

inline registry::PluginRegistry& plugins() {
  static registry::PluginRegistry reg({{fs::path(PLUGINS_BUILD_DIR), "build tree"}});
  return reg;
}

inline const TaskSpec& task_of(const std::string& model_type, const std::string& cls) {
  for (const auto& t : plugins().tasks(model_type))
    if (t.hf_class == cls) return t;
  FAIL("plugin for " << model_type << " has no task " << cls);
  throw std::logic_error("unreachable");
}

inline const GraphBuilder& builder_of(const std::string& model_type, const std::string& cls) {
  const registry::PluginRecord* rec = plugins().find_by_model_type(model_type);
  REQUIRE_MESSAGE(rec, "no plugin serves " << model_type);
  auto it = rec->code->graph_builders.find(cls);
  REQUIRE_MESSAGE(it != rec->code->graph_builders.end(), "plugin " << rec->display_name() << " registers no builder for " << cls);
  return it->second;
}

// The graph borrows its weights from the mapped checkpoint: keep both.
struct Built {
  std::unique_ptr<WeightSource> weights;
  ir::Graph graph;
};

// Builds `cls` from dir/config.json + dir/model.safetensors with inputs of
// the given types, in the task's order (exceptions propagate).
inline Built build(const fs::path& dir, const std::string& model_type, const std::string& cls,
                   const std::map<std::string, ir::TensorType>& types) {
  const TaskSpec& task = task_of(model_type, cls);
  ModelFolder folder;
  folder.dir = dir;
  folder.config = JsonView::read_file(dir / "config.json");
  if (fs::is_regular_file(dir / "preprocessor_config.json"))
    folder.preprocessor = JsonView::read_file(dir / "preprocessor_config.json");
  folder.model_type = model_type;
  folder.hf_class = cls;
  Built b;
  b.weights = io::open_safetensors_checkpoint(dir / "model.safetensors");
  BuildRequest req{folder, task, {}, *b.weights};
  for (const auto& in : task.inputs) {
    auto it = types.find(in.name);
    if (it != types.end()) req.inputs.emplace_back(in.name, it->second);
  }
  b.graph = builder_of(model_type, cls)(req);
  ir::verify(b.graph);
  return b;
}

// Runs the built graph on `inputs` (by name) and compares each output with
// `expected` ("output.<name>"); `label` prefixes the report lines.
inline void run_and_compare(const Built& b, const std::map<std::string, ir::Tensor>& inputs,
                            const std::map<std::string, ir::Tensor>& expected, const std::string& label) {
  std::vector<ir::Tensor> args;
  for (const ir::Value* in : b.graph.inputs()) {
    auto it = inputs.find(in->name);
    REQUIRE_MESSAGE(it != inputs.end(), label << ": no input " << in->name);
    args.push_back(it->second);
  }
  const auto got = runtime::run(b.graph, args);
  const auto names = b.graph.output_names();
  REQUIRE(got.size() == names.size());
  for (size_t i = 0; i < got.size(); ++i) {
    auto it = expected.find("output." + names[i]);
    REQUIRE_MESSAGE(it != expected.end(), label << ": no reference output " << names[i]);
    const auto c = compare_tensors(got[i], it->second, kAtol);
    CHECK_MESSAGE(c.ok, label << " output " << names[i] << ": " << c.message);
    std::cout << fmt::format("[native] {} {}: max abs {:.3g}, scaled {:.3g}\n", label, names[i], c.max_abs_error,
                             c.scaled_error);
  }
}

inline std::map<std::string, ir::Tensor> strip(const std::map<std::string, ir::Tensor>& all, const std::string& prefix) {
  std::map<std::string, ir::Tensor> out;
  for (const auto& [k, v] : all)
    if (k.rfind(prefix, 0) == 0) out[k.substr(prefix.size())] = v;
  return out;
}

inline std::map<std::string, ir::TensorType> types_of(const std::map<std::string, ir::Tensor>& inputs) {
  std::map<std::string, ir::TensorType> t;
  for (const auto& [k, v] : inputs) t[k] = v.type();
  return t;
}

// Every reference file of the fixture, built with that file's input shapes.
inline void check_fixture(const std::string& name) {
  require_fixtures();
  const FixtureInfo f = load_fixture_info(hf_fixtures_dir() / name);
  for (const auto& file : reference_files(f)) {
    const auto all = io::read_safetensors(file);
    const auto inputs = strip(all, "input.");
    const Built b = build(f.dir, f.model_type, f.hf_class, types_of(inputs));
    REQUIRE(b.graph.output_names().size() == f.outputs.size());
    run_and_compare(b, inputs, all, name + " " + file.filename().string());
  }
}

// ── the PyTorch reference ─────────────────────────────────────────────────
inline std::string reference_script() { return std::string(NATIVE_TESTS_DIR) + "/reference.py"; }

inline void python(const std::string& args) {
  const auto run = run_command(fmt::format("'{}' '{}' {} 2>&1", PYTHON, reference_script(), args));
  REQUIRE_MESSAGE(run.exit_code == 0, "reference.py " << args << " failed:\n" << run.output);
}

// reference.py's forward on a fixture's weights and inputs equals the
// fixture's (transformers') outputs: the reference is itself right.
inline void check_reference_against_fixture(const std::string& family, const std::string& name) {
  require_fixtures();
  const FixtureInfo f = load_fixture_info(hf_fixtures_dir() / name);
  TempDir tmp("native-ref");
  for (const auto& file : reference_files(f)) {
    python(fmt::format("run {} {} '{}' '{}' '{}'", family, f.hf_class, f.dir.string(), file.string(),
                       (tmp / "out.safetensors").string()));
    const auto expected = io::read_safetensors(file);
    const auto got = io::read_safetensors(tmp / "out.safetensors");
    for (const auto& o : f.outputs) {
      REQUIRE(got.count("output." + o.name));
      const auto c = compare_tensors(got.at("output." + o.name), expected.at("output." + o.name), kAtol);
      CHECK_MESSAGE(c.ok, "reference.py on " << name << " " << o.name << ": " << c.message);
      std::cout << fmt::format("[reference.py] {} {} {}: max abs {:.3g}\n", name, file.filename().string(), o.name,
                               c.max_abs_error);
    }
  }
}

// A config reference.py fills with random weights and inputs; the native
// graph and the reference must agree. `init_args` go to `reference.py init`
// (--batch, --seq, --seed, --pad-at).
inline void check_variant(const std::string& family, const std::string& model_type, const std::string& cls,
                          const json& config, const std::string& init_args = "") {
  TempDir tmp("native-variant");
  std::ofstream(tmp / "config.json") << config.dump(1);
  python(fmt::format("init {} {} '{}' {}", family, cls, tmp.path.string(), init_args));
  python(fmt::format("run {} {} '{}' '{}' '{}'", family, cls, tmp.path.string(), (tmp / "inputs.safetensors").string(),
                     (tmp / "expected.safetensors").string()));
  const auto inputs = strip(io::read_safetensors(tmp / "inputs.safetensors"), "input.");
  const Built b = build(tmp.path, model_type, cls, types_of(inputs));
  run_and_compare(b, inputs, io::read_safetensors(tmp / "expected.safetensors"),
                  fmt::format("{} {}", cls, config.dump()));
}

// The fixture's config with `key` set to `value` fails to build with one
// ConfigError naming config.json, the key and the value (or, when the
// error is about another key the value conflicts with, saying `expect`).
inline void check_rejected(const std::string& name, const std::string& key, const json& value,
                           const std::string& expect = "", const std::string& cls = "") {
  require_fixtures();
  const FixtureInfo f = load_fixture_info(hf_fixtures_dir() / name);
  TempDir tmp("native-reject");
  json config = json::parse(std::ifstream(f.dir / "config.json"));
  config[key] = value;
  std::ofstream(tmp / "config.json") << config.dump(1);
  fs::create_symlink(f.dir / "model.safetensors", tmp / "model.safetensors");
  std::map<std::string, ir::TensorType> types;
  for (const auto& in : f.inputs) types[in.name] = {in.dtype, in.shape};
  std::string message;
  try {
    (void)build(tmp.path, f.model_type, cls.empty() ? f.hf_class : cls, types);
  } catch (const ConfigError& e) {
    message = e.what();
  }
  CAPTURE(message);
  REQUIRE_MESSAGE(!message.empty(), "config.json " << key << " = " << value.dump() << " built without a ConfigError");
  CHECK(message.find("config.json") != std::string::npos);
  if (!expect.empty()) {
    CHECK(message.find(expect) != std::string::npos);
    return;
  }
  CHECK(message.find("'" + key + "' = " + value.dump()) != std::string::npos);
}

}  // namespace exporters::testing::native
