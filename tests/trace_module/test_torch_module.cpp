// LibTorch lives in libexporters-torch.so, loaded the first time a trace is
// read or run. The exporters executable runs under LD_DEBUG=files, whose log
// lists every object the dynamic loader maps into the process (at start-up
// and by dlopen), so the test sees exactly whether libtorch*/libc10* came in.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <fstream>
#include <set>
#include <sstream>

#include "run_command.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using exporters::testing::TempDir;

namespace {

const std::string kModel = EXPORTERS_TEST_MODEL;  // make_model.py bert --no-architectures

struct Run {
  int exit_code = -1;
  std::string output;
  std::set<std::string> loaded;  // every file the dynamic loader mapped
};

// Runs exporters with `args` (and `env`, "NAME=value ..."), the loader
// logging to a fresh folder.
Run run(const std::string& args, const std::string& env = "") {
  TempDir log_dir("torch-module-ld");
  const fs::path prefix = log_dir / "ld";
  auto r = exporters::testing::run_command(fmt::format("LD_DEBUG=files LD_DEBUG_OUTPUT='{}' {} '{}' {} 2>&1",
                                                       prefix.string(), env, EXPORTERS_EXE, args));
  Run out{r.exit_code, r.output, {}};
  for (const auto& entry : fs::directory_iterator(log_dir.path)) {  // ld.<pid>
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      const size_t at = line.find("file=");
      if (at == std::string::npos) continue;
      const size_t end = line.find_first_of(" ;[", at + 5);
      out.loaded.insert(line.substr(at + 5, end == std::string::npos ? std::string::npos : end - at - 5));
    }
  }
  return out;
}

bool loaded_like(const Run& r, const std::string& part) {
  for (const auto& f : r.loaded)
    if (fs::path(f).filename().string().find(part) != std::string::npos) return true;
  return false;
}

std::string listing(const Run& r) {
  std::ostringstream s;
  for (const auto& f : r.loaded) s << "  " << f << "\n";
  return r.output + "\nloaded:\n" + s.str();
}

// The log works at all: the SDK library, which exporters links, is in it.
void check_logged(const Run& r) {
  REQUIRE_MESSAGE(loaded_like(r, "libexporters-sdk"), listing(r));
}

void check_no_libtorch(const Run& r) {
  check_logged(r);
  CHECK_MESSAGE(!loaded_like(r, "libtorch"), listing(r));
  CHECK_MESSAGE(!loaded_like(r, "libc10"), listing(r));
  CHECK_MESSAGE(!loaded_like(r, "libexporters-torch"), listing(r));
}

}  // namespace

TEST_CASE("an export from a trace loads the module and LibTorch; --version, --help, plugins, inspect never do") {
  TempDir dir("torch-module");
  const fs::path out = dir / "bert.mlpackage";

  // config.json has no architectures: the task comes from the trace's root
  // class, read without LibTorch.
  Run exported = run(fmt::format("coreml '{}' -o '{}' --profile", kModel, out.string()));
  REQUIRE_MESSAGE(exported.exit_code == 0, exported.output);
  CHECK_MESSAGE(exported.output.find("plugin bert, task sequence-classification (BertForSequenceClassification)") !=
                    std::string::npos,
                exported.output);
  CHECK_MESSAGE(exported.output.find("validation: PASS") != std::string::npos, exported.output);
  check_logged(exported);
  CHECK_MESSAGE(loaded_like(exported, "libexporters-torch.so"), listing(exported));
  CHECK_MESSAGE(loaded_like(exported, "libtorch_cpu"), listing(exported));
  CHECK_MESSAGE(loaded_like(exported, "libc10"), listing(exported));

  const fs::path plugin = fs::path(EXPORTERS_BUILD_ROOT_DIR) / "plugins" / "bert" / "libbert.so";
  const std::string manifest = "plugins manifest '" + plugin.string() + "' -o '" + (dir / "bert.json").string() + "'";
  for (const std::string args : {std::string("--version"), std::string("--help"), std::string("plugins list"),
                                 std::string("plugins verify"), manifest, "inspect '" + out.string() + "'"}) {
    CAPTURE(args);
    Run r = run(args);
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    check_no_libtorch(r);
  }
}

TEST_CASE("an export whose model.pt is no archive fails with one error, before LibTorch is loaded") {
  TempDir dir("torch-module");
  const fs::path model = dir / "broken";
  fs::create_directories(model);
  fs::copy_file(fs::path(kModel) / "config.json", model / "config.json");
  std::ofstream(model / "model.pt") << "not a zip archive";
  Run r = run(fmt::format("coreml '{}' -o '{}'", model.string(), (dir / "x.mlpackage").string()));
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(r.output.find("exporters: error: " + (model / "model.pt").string()) != std::string::npos, r.output);
  CHECK_FALSE(fs::exists(dir / "x.mlpackage"));
  check_no_libtorch(r);
}

TEST_CASE("a missing or foreign module: one error naming the module file and the reason") {
  TempDir dir("torch-module");
  const fs::path out = dir / "x.mlpackage";
  const fs::path missing = dir / "libexporters-torch.so";
  Run r = run(fmt::format("coreml '{}' -o '{}'", kModel, out.string()),
              fmt::format("EXPORTERS_TORCH_MODULE='{}'", missing.string()));
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(r.output.find("exporters: error: cannot load the LibTorch module " + missing.string() + ": ") !=
                    std::string::npos,
                r.output);
  CHECK_FALSE(fs::exists(out));

  // A shared object that is not the module (a plugin): no entry symbol.
  const fs::path plugin = fs::path(EXPORTERS_BUILD_ROOT_DIR) / "plugins" / "bert" / "libbert.so";
  REQUIRE(fs::exists(plugin));
  r = run(fmt::format("coreml '{}' -o '{}'", kModel, out.string()),
          fmt::format("EXPORTERS_TORCH_MODULE='{}'", plugin.string()));
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(r.output.find(fmt::format("exporters: error: cannot load the LibTorch module {}: it does not export "
                                          "\"exporters_trace_module\"",
                                          plugin.string())) != std::string::npos,
                r.output);
  CHECK_FALSE(fs::exists(out));
}
