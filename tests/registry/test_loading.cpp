// Loading plugins, good and broken, from temporary search path folders.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include <exporters/ir/graph.hpp>

#include "registry/plugin_registry.hpp"
#include "scenario.hpp"

using namespace exporters::registry;
using namespace registry_test;

namespace {

const PluginRecord* record_for_file(const PluginRegistry& registry, const fs::path& file) {
  for (const auto& record : registry.plugins()) {
    if (record.file == file) return &record;
  }
  return nullptr;
}

int64_t call_answer(const exporters::frontend::OpConverter& converter) {
  exporters::ir::Graph graph;
  exporters::frontend::ConversionContext ctx(graph);
  exporters::frontend::NodeView node;
  node.kind = "test::answer";
  auto outputs = converter(ctx, node);
  REQUIRE(outputs.size() == 1);
  REQUIRE(std::holds_alternative<int64_t>(outputs[0]));
  return std::get<int64_t>(outputs[0]);
}

// Loads everything and returns the single warning about `file`, failing the
// test if there is not exactly one.
std::string only_warning_about(PluginRegistry& registry, const fs::path& file) {
  registry.load_all();
  std::vector<std::string> about;
  for (const auto& w : registry.warnings()) {
    if (contains(w, file.string())) about.push_back(w);
  }
  REQUIRE(about.size() == 1);
  return about[0];
}

// Name of the plugin serving `model_type` after loading, "" if none.
std::string served_by(PluginRegistry& registry, const std::string& model_type) {
  const PluginRecord* record = registry.find_by_model_type(model_type);
  return record && record->state == PluginState::Loaded ? record->manifest.name : "";
}

}  // namespace

TEST_CASE("a good plugin is listed from its manifest without being loaded") {
  TempDir tmp;
  fs::path manifest = install_fixture(tmp.sub("p"), "fixture_alpha", "alpha", {"alpha", "shared"});
  PluginRegistry registry(search_path({tmp.path() / "p"}));
  REQUIRE(registry.plugins().size() == 1);
  const PluginRecord& record = registry.plugins()[0];
  CHECK(record.state == PluginState::Discovered);
  CHECK(record.file == manifest);
  CHECK(record.manifest.name == "alpha");
  CHECK(registry.model_types() == std::vector<std::string>{"alpha", "shared"});
  CHECK(registry.warnings().empty());
}

TEST_CASE("a good plugin loads and registers its tasks and op converters") {
  TempDir tmp;
  install_fixture(tmp.sub("p"), "fixture_alpha", "alpha", {"alpha", "shared"});
  PluginRegistry registry(search_path({tmp.path() / "p"}));
  const PluginRecord* record = registry.find_by_model_type("alpha");
  REQUIRE(record != nullptr);
  CHECK(record->state == PluginState::Loaded);
  REQUIRE(record->tasks.size() == 1);
  CHECK(record->tasks[0].hf_class == "AlphaForTesting");
  CHECK(record->tasks[0].inputs.at(0).name == "input_ids");
  CHECK(record->tasks[0].inputs.at(0).dtype == exporters::ir::DType::I64);
  CHECK(record->tasks[0].inputs.at(0).shape == std::vector<int64_t>{1, -1});
  CHECK(record->tasks[0].default_sequence_length == 32);
  CHECK(&registry.tasks("shared") == &record->tasks);
  const auto& converters = registry.op_converters("alpha");
  REQUIRE(converters.count("test::answer") == 1);
  // The converter's code lives in the plugin: calling it proves the library stays loaded.
  CHECK(call_answer(converters.at("test::answer")) == 1);
  CHECK(registry.warnings().empty());
}

TEST_CASE("an unknown model type is an error naming it") {
  TempDir tmp;
  install_fixture(tmp.sub("p"), "fixture_alpha", "alpha", {"alpha", "shared"});
  PluginRegistry registry(search_path({tmp.path() / "p"}));
  CHECK(registry.find_by_model_type("gpt2") == nullptr);
  CHECK_THROWS_WITH_AS(registry.tasks("gpt2"), doctest::Contains("model type \"gpt2\""),
                       RegistryError);
}

TEST_CASE("a garbage file named .so is skipped with one warning; the good plugin still loads") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  install_fixture(dir, "fixture_alpha", "alpha", {"alpha", "shared"});
  write_file(dir / "libgarbage.so", "this is not an ELF file\n");
  write_file(dir / "garbage.json", manifest("garbage", {"garbage"}, "libgarbage.so").dump());
  PluginRegistry registry(search_path({dir}));
  std::string warning = only_warning_about(registry, dir / "libgarbage.so");
  CHECK(contains(warning, "not a loadable shared library"));
  CHECK(record_for_file(registry, dir / "garbage.json")->state == PluginState::Broken);
  CHECK(registry.find_by_model_type("garbage") == nullptr);
  CHECK(served_by(registry, "alpha") == "alpha");
  CHECK(registry.warnings().size() == 1);
}

TEST_CASE("a wrong ABI version is rejected before the register function is called") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  install_fixture(dir, "fixture_wrong_abi", "wrong_abi", {"wrong_abi"});
  PluginRegistry registry(search_path({dir}));
  std::string warning = only_warning_about(registry, dir / "libfixture_wrong_abi.so");
  CHECK(contains(warning, "built for plugin ABI 3, but this exporters supports ABI 2"));
  CHECK_FALSE(contains(warning, "register_plugin was called"));
}

TEST_CASE("a plugin built with another C++ library ABI is refused, naming both builds") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  install_fixture(dir, "fixture_old_abi", "old_abi", {"old_abi"});
  PluginRegistry registry(search_path({dir}));
  std::string warning = only_warning_about(registry, dir / "libfixture_old_abi.so");
  const std::string plugin_abi = fmt::format("built with libstdc++ {} (release {}, _GLIBCXX_USE_CXX11_ABI=0), SDK {}",
                                             __GLIBCXX__, _GLIBCXX_RELEASE, EXPORTERS_SDK_VERSION);
  const std::string host_abi = fmt::format("this exporters uses libstdc++ {} (release {}, _GLIBCXX_USE_CXX11_ABI=1), SDK {}",
                                           __GLIBCXX__, _GLIBCXX_RELEASE, EXPORTERS_SDK_VERSION);
  INFO(warning);
  CHECK(contains(warning, plugin_abi));
  CHECK(contains(warning, host_abi));
  CHECK(std::count(warning.begin(), warning.end(), '\n') == 0);
  CHECK_FALSE(contains(warning, "register_plugin was called"));
  CHECK(registry.find_by_model_type("old_abi") == nullptr);
}

TEST_CASE("a manifest declaring another ABI is rejected without loading the library") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  // The library is garbage: had the host loaded it, the reason would say so.
  write_file(dir / "libfuture.so", "garbage");
  write_file(dir / "future.json", manifest("future", {"future"}, "libfuture.so", 7).dump());
  PluginRegistry registry(search_path({dir}));
  REQUIRE(registry.plugins().size() == 1);
  CHECK(registry.plugins()[0].state == PluginState::Broken);
  std::string warning = only_warning_about(registry, dir / "future.json");
  CHECK(contains(warning, "manifest declares plugin ABI 7, but this exporters supports ABI 2"));
}

TEST_CASE("a descriptor smaller than the ABI requires is rejected before registration") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  install_fixture(dir, "fixture_short_descriptor", "short_descriptor", {"short_descriptor"});
  PluginRegistry registry(search_path({dir}));
  std::string warning = only_warning_about(registry, dir / "libfixture_short_descriptor.so");
  CHECK(contains(warning, "descriptor is 8 bytes, smaller than the 48 bytes plugin ABI 2 requires"));
}

TEST_CASE("a library without the entry symbol is skipped") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  install_fixture(dir, "fixture_no_entry", "no_entry", {"no_entry"});
  PluginRegistry registry(search_path({dir}));
  std::string warning = only_warning_about(registry, dir / "libfixture_no_entry.so");
  CHECK(contains(warning, "does not export the entry symbol \"exporters_plugin_entry\""));
}

TEST_CASE("a register function that throws is reported and its partial registration dropped") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  install_fixture(dir, "fixture_throwing", "throwing", {"throwing"});
  install_fixture(dir, "fixture_alpha", "alpha", {"alpha", "shared"});
  PluginRegistry registry(search_path({dir}));
  std::string warning = only_warning_about(registry, dir / "libfixture_throwing.so");
  CHECK(contains(warning, "registration threw: fixture refuses to register"));
  const PluginRecord* record = record_for_file(registry, dir / "throwing.json");
  REQUIRE(record != nullptr);
  CHECK(record->state == PluginState::Broken);
  CHECK(record->tasks.empty());
  CHECK(served_by(registry, "alpha") == "alpha");
}

TEST_CASE("a library with an unresolved symbol fails at load time, not when called") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  install_fixture(dir, "fixture_unresolved", "unresolved", {"unresolved"});
  PluginRegistry registry(search_path({dir}));
  std::string warning = only_warning_about(registry, dir / "libfixture_unresolved.so");
  CHECK(contains(warning, "exporters_fixture_function_that_does_not_exist"));
}

TEST_CASE("a library without a manifest is reported and skipped") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  fs::copy_file(fixture_library("fixture_beta"), dir / "libstray.so");
  install_fixture(dir, "fixture_alpha", "alpha", {"alpha", "shared"});
  PluginRegistry registry(search_path({dir}));
  std::string warning = only_warning_about(registry, dir / "libstray.so");
  CHECK(contains(warning, "no manifest names this library"));
  CHECK(registry.find_by_model_type("beta") == nullptr);
  CHECK(registry.find_by_model_type("alpha") != nullptr);
}

TEST_CASE("a malformed manifest is reported once and skipped") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  fs::copy_file(fixture_library("fixture_beta"), dir / "libfixture_beta.so");
  write_file(dir / "beta.json", R"({"name": "beta", "version": )");
  install_fixture(tmp.sub("p/alpha"), "fixture_alpha", "alpha", {"alpha", "shared"});
  PluginRegistry registry(search_path({dir}));
  std::string warning = only_warning_about(registry, dir / "beta.json");
  CHECK(contains(warning, "not valid JSON"));
  // The .so beside the bad manifest is not reported a second time.
  CHECK(registry.warnings().size() == 1);
  CHECK(registry.find_by_model_type("alpha") != nullptr);  // found one level down
}

TEST_CASE("a manifest missing a field is reported with the field") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  auto doc = manifest("alpha", {"alpha"}, "libfixture_alpha.so");
  doc.erase("model_types");
  fs::copy_file(fixture_library("fixture_alpha"), dir / "libfixture_alpha.so");
  write_file(dir / "alpha.json", doc.dump());
  PluginRegistry registry(search_path({dir}));
  CHECK(contains(only_warning_about(registry, dir / "alpha.json"),
                 "manifest has no \"model_types\" field"));
}

TEST_CASE("a manifest naming a library that does not exist is skipped") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  write_file(dir / "ghost.json", manifest("ghost", {"ghost"}, "libghost.so").dump());
  PluginRegistry registry(search_path({dir}));
  CHECK(contains(only_warning_about(registry, dir / "ghost.json"),
                 "library \"libghost.so\" named by the manifest does not exist"));
}

TEST_CASE("a manifest that disagrees with the library's descriptor is skipped") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  install_fixture(dir, "fixture_alpha", "alpha", {"alpha", "bert"});
  PluginRegistry registry(search_path({dir}));
  std::string warning = only_warning_about(registry, dir / "libfixture_alpha.so");
  CHECK(contains(warning, "says model types [\"alpha\", \"bert\"] but the library says [\"alpha\", \"shared\"]"));

  TempDir tmp2;
  fs::path dir2 = tmp2.sub("p");
  install_fixture(dir2, "fixture_alpha", "renamed", {"alpha", "shared"});
  PluginRegistry registry2(search_path({dir2}));
  CHECK(contains(only_warning_about(registry2, dir2 / "libfixture_alpha.so"),
                 "says name \"renamed\" but the library says \"alpha\""));
}

TEST_CASE("the earlier search path entry wins a model_type and the override is reported") {
  TempDir tmp;
  fs::path alpha = install_fixture(tmp.sub("first"), "fixture_alpha", "alpha", {"alpha", "shared"});
  fs::path beta = install_fixture(tmp.sub("second"), "fixture_beta", "beta", {"beta", "shared"});

  PluginRegistry registry(search_path({tmp.path() / "first", tmp.path() / "second"}));
  REQUIRE(registry.warnings().size() == 1);
  CHECK(registry.warnings()[0] ==
        "model type \"shared\": plugin " + alpha.string() + " overrides " + beta.string() +
            " (earlier on the search path wins)");
  const PluginRecord* shared = registry.find_by_model_type("shared");
  REQUIRE(shared != nullptr);
  CHECK(shared->manifest.name == "alpha");
  CHECK(call_answer(registry.op_converters("shared").at("test::answer")) == 1);
  // The loser keeps the model types nobody else claims.
  CHECK(served_by(registry, "beta") == "beta");
  CHECK(record_for_file(registry, beta)->overridden_model_types == std::vector<std::string>{"shared"});
  CHECK_FALSE(record_for_file(registry, beta)->fully_overridden());

  // Same folders, reversed order: now beta wins, so it is the order, not the name.
  PluginRegistry reversed(search_path({tmp.path() / "second", tmp.path() / "first"}));
  CHECK(served_by(reversed, "shared") == "beta");
  CHECK(call_answer(reversed.op_converters("shared").at("test::answer")) == 2);
}

TEST_CASE("a broken plugin early on the path gives way to a working one for the same model_type") {
  TempDir tmp;
  fs::path first = tmp.sub("first");
  install_fixture(first, "fixture_throwing", "throwing", {"throwing"});
  // Override throwing's manifest to claim "shared", matching neither library: it breaks at load.
  write_file(first / "throwing.json",
             manifest("throwing", {"shared"}, "libfixture_throwing.so").dump());
  install_fixture(tmp.sub("second"), "fixture_beta", "beta", {"beta", "shared"});
  PluginRegistry registry(search_path({first, tmp.path() / "second"}));
  const PluginRecord* shared = registry.find_by_model_type("shared");
  REQUIRE(shared != nullptr);
  CHECK(shared->manifest.name == "beta");
  CHECK(record_for_file(registry, first / "throwing.json")->state == PluginState::Broken);
}

TEST_CASE("every broken plugin gives exactly one warning and the good ones all load") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  install_fixture(dir, "fixture_alpha", "alpha", {"alpha", "shared"});
  install_fixture(dir / "nested", "fixture_beta", "beta", {"beta"});  // wrong: beta also claims shared
  install_fixture(dir, "fixture_wrong_abi", "wrong_abi", {"wrong_abi"});
  install_fixture(dir, "fixture_short_descriptor", "short_descriptor", {"short_descriptor"});
  install_fixture(dir, "fixture_no_entry", "no_entry", {"no_entry"});
  install_fixture(dir, "fixture_throwing", "throwing", {"throwing"});
  install_fixture(dir, "fixture_unresolved", "unresolved", {"unresolved"});
  write_file(dir / "libgarbage.so", "garbage");
  write_file(dir / "garbage.json", manifest("garbage", {"garbage"}, "libgarbage.so").dump());
  write_file(dir / "stray" / "libstray.so", "garbage");

  PluginRegistry registry(search_path({dir}));
  registry.load_all();
  size_t broken = 0;
  for (const auto& record : registry.plugins()) {
    CAPTURE(record.file);
    if (record.state == PluginState::Broken) {
      ++broken;
      CHECK_FALSE(record.error.empty());
      size_t mentions = 0;
      for (const auto& w : registry.warnings()) mentions += contains(w, record.error);
      CHECK(mentions == 1);
    }
  }
  CHECK(broken == 8);  // beta breaks too: its descriptor also claims "shared"
  CHECK(registry.warnings().size() == 8);
  CHECK(served_by(registry, "alpha") == "alpha");
}

TEST_CASE("describe_plugin_library reads name, version, model types and tasks from the library") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  fs::copy_file(fixture_library("fixture_alpha"), dir / "libfixture_alpha.so");
  PluginManifest m = describe_plugin_library(dir / "libfixture_alpha.so");
  CHECK(m.name == "alpha");
  CHECK(m.version == "1.2.3");
  CHECK(m.abi == EXPORTERS_PLUGIN_ABI_VERSION);
  CHECK(m.model_types == std::vector<std::string>{"alpha", "shared"});
  CHECK(m.library == "libfixture_alpha.so");
  REQUIRE(m.tasks.has_value());
  CHECK(*m.tasks == std::vector<ManifestTask>{{"fixture-task", "AlphaForTesting"}});

  // Written beside the library, it is a manifest the registry loads.
  write_manifest(m, dir / "alpha.json");
  PluginRegistry registry(search_path({dir}));
  REQUIRE(registry.plugins().size() == 1);
  REQUIRE(registry.plugins()[0].manifest.tasks == m.tasks);
  const PluginRecord* record = registry.find_by_model_type("alpha");
  REQUIRE(record != nullptr);
  CHECK(record->state == PluginState::Loaded);
  CHECK(registry.warnings().empty());
}

TEST_CASE("describe_plugin_library names the file and the reason for a broken library") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  fs::copy_file(fixture_library("fixture_throwing"), dir / "libfixture_throwing.so");
  write_file(dir / "libgarbage.so", "garbage");
  const std::string throwing = (dir / "libfixture_throwing.so").string() + ": registration threw";
  CHECK_THROWS_WITH_AS(describe_plugin_library(dir / "libfixture_throwing.so"), doctest::Contains(throwing.c_str()),
                       RegistryError);
  CHECK_THROWS_WITH_AS(describe_plugin_library(dir / "libgarbage.so"),
                       doctest::Contains("not a loadable shared library"), RegistryError);
  CHECK_THROWS_WITH_AS(describe_plugin_library(dir / "libabsent.so"), doctest::Contains("libabsent.so"),
                       RegistryError);
}

TEST_CASE("a manifest without tasks (written before they existed) still loads") {
  TempDir tmp;
  fs::path manifest_path = install_fixture(tmp.sub("p"), "fixture_alpha", "alpha", {"alpha", "shared"});
  REQUIRE_FALSE(contains(read_file_text(manifest_path), "tasks"));
  PluginRegistry registry(search_path({tmp.path() / "p"}));
  const PluginRecord* record = registry.find_by_model_type("alpha");
  REQUIRE(record != nullptr);
  CHECK(record->state == PluginState::Loaded);
  CHECK_FALSE(record->manifest.tasks.has_value());
  CHECK(record->tasks.size() == 1);
  CHECK(registry.warnings().empty());
}

TEST_CASE("a manifest whose tasks disagree with what the library registers is skipped with one warning") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  install_fixture(dir, "fixture_alpha", "alpha", {"alpha", "shared"});
  auto doc = manifest("alpha", {"alpha", "shared"}, "libfixture_alpha.so");
  doc["tasks"] = nlohmann::json::array({{{"task", "fixture-task"}, {"hf_class", "AlphaForSomethingElse"}}});
  write_file(dir / "alpha.json", doc.dump());
  PluginRegistry registry(search_path({dir}));
  std::string warning = only_warning_about(registry, dir / "alpha.json");
  CHECK(contains(warning, "lists tasks fixture-task (AlphaForSomethingElse)"));
  CHECK(contains(warning, "registers fixture-task (AlphaForTesting)"));
  CHECK(registry.find_by_model_type("alpha") == nullptr);
}

namespace {
bool library_is_loaded(const fs::path& library) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find(library.string()) != std::string::npos) return true;
  return false;
}
}  // namespace

TEST_CASE("plugin code handed out outlives the registry: its module stays loaded until the last handle goes") {
  TempDir tmp;
  fs::path dir = tmp.sub("p");
  install_fixture(dir, "fixture_alpha", "alpha", {"alpha", "shared"});
  const fs::path library = dir / "libfixture_alpha.so";
  exporters::registry::PluginHandle handle;
  {
    PluginRegistry registry(search_path({dir}));
    const PluginRecord* record = registry.find_by_model_type("alpha");
    REQUIRE(record != nullptr);
    handle = record->code;
    CHECK(library_is_loaded(library));
  }
  // The registry is gone (the order of ExportOptions and the registry in the
  // old CLI); the converter still runs because the handle keeps its module.
  REQUIRE(handle);
  CHECK(library_is_loaded(library));
  CHECK(call_answer(handle->op_converters.at("test::answer")) == 1);
  handle.reset();
  CHECK_FALSE(library_is_loaded(library));
}
