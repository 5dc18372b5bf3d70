// The exporters executable, run as a child process.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include <doctest/doctest.h>

#include "exporters_config.h"
#include "scenario.hpp"
#include "tests/fixtures_lib/run_command.hpp"

using namespace registry_test;

namespace {

using Run = exporters::testing::CommandRun;  // stdout and stderr together

// Runs the CLI with HOME pointing at an empty folder and no
// EXPORTERS_PLUGIN_PATH, so only the given folders and the build tree count.
Run run_exporters(const std::string& args) {
  static TempDir home;
  return exporters::testing::run_command("env -u EXPORTERS_PLUGIN_PATH HOME='" + home.path().string() + "' '" +
                                         EXPORTERS_EXE + "' " + args + " 2>&1");
}

size_t count_lines(const std::string& text) {
  size_t lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}

}  // namespace

TEST_CASE("exporters --version prints the project version") {
  Run run = run_exporters("--version");
  CHECK(run.exit_code == 0);
  CHECK(run.output == std::string("exporters ") + EXPORTERS_VERSION + "\n");
}

TEST_CASE("exporters --help lists every subcommand and the global plugin path option") {
  Run run = run_exporters("--help");
  CHECK(run.exit_code == 0);
  for (const char* word : {"coreml", "tflite", "validate", "inspect", "plugins", "--plugin-path"}) {
    CAPTURE(word);
    CHECK(contains(run.output, word));
  }
}

TEST_CASE("usage errors are one line and exit code 2") {
  Run unknown = run_exporters("--no-such-option");
  CHECK(unknown.exit_code == 2);
  CHECK(count_lines(unknown.output) == 1);
  CHECK(contains(unknown.output, "--no-such-option"));

  Run missing = run_exporters("coreml");
  CHECK(missing.exit_code == 2);
  CHECK(count_lines(missing.output) == 1);
  CHECK(contains(missing.output, "MODEL"));

  Run bad_choice = run_exporters("tflite . -o x.tflite --quantize int3");
  CHECK(bad_choice.exit_code == 2);
  CHECK(contains(bad_choice.output, "int3"));
}

TEST_CASE("--shape takes one value per use and leaves MODEL to the positional") {
  Run run = run_exporters("tflite --shape input_ids=1,8 /no/such/model_dir -o x.tflite");
  CHECK(run.exit_code == 2);
  CHECK(contains(run.output, "/no/such/model_dir"));  // checked as MODEL, not eaten by --shape
}

TEST_CASE("plugins list shows name, version, model types, status and path from the manifests") {
  TempDir tmp;
  fs::path alpha = install_fixture(tmp.sub("a"), "fixture_alpha", "alpha", {"alpha", "shared"});
  Run run = run_exporters("plugins list --plugin-path '" + (tmp.path() / "a").string() + "'");
  CHECK(run.exit_code == 0);
  CHECK(contains(run.output, "alpha  "));
  CHECK(contains(run.output, "1.2.3"));
  CHECK(contains(run.output, "alpha, shared"));
  CHECK(contains(run.output, "available"));
  CHECK(contains(run.output, alpha.string()));
  // Run from the build tree, the in-tree example plugin is listed too.
  CHECK(contains(run.output, "hello"));
  CHECK(contains(run.output, "(build tree)"));
}

TEST_CASE("plugins list reports an override and who wins; the flag may precede the subcommand") {
  TempDir tmp;
  install_fixture(tmp.sub("a"), "fixture_alpha", "alpha", {"alpha", "shared"});
  fs::path beta = install_fixture(tmp.sub("b"), "fixture_beta", "beta", {"beta", "shared"});
  Run run = run_exporters("--plugin-path '" + (tmp.path() / "a").string() + ":" +
                          (tmp.path() / "b").string() + "' plugins list");
  CHECK(run.exit_code == 0);
  CHECK(contains(run.output, "beta, shared (overridden)"));
  CHECK(contains(run.output, "model type \"shared\" is served by " +
                                 (tmp.path() / "a" / "alpha.json").string()));
}

TEST_CASE("plugins verify exits 0 when every plugin loads") {
  TempDir tmp;
  install_fixture(tmp.sub("a"), "fixture_alpha", "alpha", {"alpha", "shared"});
  Run run = run_exporters("plugins verify --plugin-path '" + (tmp.path() / "a").string() + "'");
  CHECK(run.exit_code == 0);
  CHECK(contains(run.output, "0 broken"));
}

TEST_CASE("plugins verify exits 1 and names the broken plugin and the reason") {
  TempDir tmp;
  fs::path dir = tmp.sub("a");
  install_fixture(dir, "fixture_alpha", "alpha", {"alpha", "shared"});
  install_fixture(dir, "fixture_throwing", "throwing", {"throwing"});
  write_file(dir / "libgarbage.so", "garbage");
  write_file(dir / "garbage.json", manifest("garbage", {"garbage"}, "libgarbage.so").dump());
  Run run = run_exporters("plugins verify --plugin-path '" + dir.string() + "'");
  CHECK(run.exit_code == 1);
  CHECK(contains(run.output, "registration threw: fixture refuses to register"));
  CHECK(contains(run.output, "not a loadable shared library"));
  CHECK(contains(run.output, "2 broken"));

  // list does not load code, so it cannot see the broken libraries and succeeds.
  Run list = run_exporters("plugins list --plugin-path '" + dir.string() + "'");
  CHECK(list.exit_code == 0);
}

TEST_CASE("plugins verify reports a plugin that crashes while registering with its signal and verifies the others") {
  TempDir tmp;
  fs::path dir = tmp.sub("a");
  install_fixture(dir, "fixture_alpha", "alpha", {"alpha", "shared"});
  install_fixture(dir, "fixture_crashing", "crashing", {"crashing"});
  install_fixture(dir, "fixture_throwing", "throwing", {"throwing"});
  Run run = run_exporters("plugins verify --plugin-path '" + dir.string() + "'");
  INFO(run.output);
  CHECK(run.exit_code == 1);
  CHECK(contains(run.output, "crashed with SIGSEGV (Segmentation fault) while loading or registering"));
  CHECK(contains(run.output, "registration threw: fixture refuses to register"));
  CHECK(contains(run.output, " ok, 2 broken"));
  CHECK(contains(run.output, "fixture-task (AlphaForTesting)"));
}

TEST_CASE("plugins manifest on a library that crashes while registering names it and the signal, no file") {
  TempDir tmp;
  fs::path dir = tmp.sub("a");
  fs::copy_file(fixture_library("fixture_crashing"), dir / "libfixture_crashing.so");
  Run run = run_exporters("plugins manifest '" + (dir / "libfixture_crashing.so").string() + "' -o '" +
                          (dir / "crashing.json").string() + "'");
  INFO(run.output);
  CHECK(run.exit_code == 1);
  CHECK(count_lines(run.output) == 1);
  CHECK(contains(run.output, (dir / "libfixture_crashing.so").string() + ": crashed with SIGSEGV"));
  CHECK_FALSE(fs::exists(dir / "crashing.json"));
}

TEST_CASE("plugins manifest writes the manifest of a library; plugins list then shows its tasks") {
  TempDir tmp;
  fs::path dir = tmp.sub("a");
  fs::copy_file(fixture_library("fixture_alpha"), dir / "libfixture_alpha.so");
  Run run = run_exporters("plugins manifest '" + (dir / "libfixture_alpha.so").string() + "' -o '" +
                          (dir / "alpha.json").string() + "'");
  CHECK_MESSAGE(run.exit_code == 0, run.output);
  auto doc = nlohmann::json::parse(read_file_text(dir / "alpha.json"));
  CHECK(doc["name"] == "alpha");
  CHECK(doc["version"] == "1.2.3");
  CHECK(doc["abi"] == EXPORTERS_PLUGIN_ABI_VERSION);
  CHECK(doc["model_types"] == nlohmann::json::array({"alpha", "shared"}));
  CHECK(doc["library"] == "libfixture_alpha.so");
  CHECK(doc["tasks"] == nlohmann::json::parse(R"([{"task": "fixture-task", "hf_class": "AlphaForTesting"}])"));

  Run list = run_exporters("plugins list --plugin-path '" + dir.string() + "'");
  CHECK(list.exit_code == 0);
  CHECK_MESSAGE(contains(list.output, "    tasks: fixture-task (AlphaForTesting)\n"), list.output);
}

TEST_CASE("plugins manifest on a broken library is one error naming it, exit 1, no file") {
  TempDir tmp;
  fs::path dir = tmp.sub("a");
  write_file(dir / "libgarbage.so", "garbage");
  Run run = run_exporters("plugins manifest '" + (dir / "libgarbage.so").string() + "' -o '" +
                          (dir / "garbage.json").string() + "'");
  CHECK(run.exit_code == 1);
  CHECK(count_lines(run.output) == 1);
  CHECK(contains(run.output, (dir / "libgarbage.so").string()));
  CHECK(contains(run.output, "not a loadable shared library"));
  CHECK_FALSE(fs::exists(dir / "garbage.json"));
  CHECK(run_exporters("plugins manifest '" + (dir / "libgarbage.so").string() + "'").exit_code == 2);
}

TEST_CASE("plugins list says when an old manifest lists no tasks; verify shows the registered ones") {
  TempDir tmp;
  install_fixture(tmp.sub("a"), "fixture_alpha", "alpha", {"alpha", "shared"});
  const std::string flag = " --plugin-path '" + (tmp.path() / "a").string() + "'";
  Run list = run_exporters("plugins list" + flag);
  CHECK(list.exit_code == 0);
  CHECK_MESSAGE(contains(list.output, "tasks: not listed in its manifest"), list.output);
  Run verify = run_exporters("plugins verify" + flag);
  CHECK(verify.exit_code == 0);
  CHECK_MESSAGE(contains(verify.output, "    tasks: fixture-task (AlphaForTesting)\n"), verify.output);
}

// Found by fuzzing: one manifest with "abi": 1e400 on the path made every
// command fail instead of skipping that plugin.
TEST_CASE("plugins list skips a manifest with an out-of-range number and lists the others") {
  TempDir tmp;
  fs::path dir = tmp.sub("a");
  install_fixture(dir, "fixture_alpha", "alpha", {"alpha", "shared"});
  write_file(dir / "huge.json",
             R"({"name":"huge","version":"1","abi":1e400,"model_types":["huge"],"library":"libhuge.so"})");
  Run run = run_exporters("plugins list --plugin-path '" + dir.string() + "'");
  CHECK(run.exit_code == 0);
  CHECK(contains(run.output, "alpha, shared"));
  CHECK(contains(run.output, (dir / "huge.json").string()));
  CHECK(contains(run.output, "number overflow parsing '1e400'"));
}
