// Removing one family's plugin files makes only that family unavailable, seen
// from the exporters CLI: a copy of the executable outside the build tree
// (so the build tree's plugins are not on its search path) with every other
// family's plugin in a --plugin-path folder. Exporting the missing family is
// one error naming the model_type and the plugin that serves it, exit 1, no
// output file; another family still exports.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "hf_fixtures.hpp"
#include "registry/standard_plugins.hpp"
#include "tests/fixtures_lib/run_command.hpp"

namespace fs = std::filesystem;
using namespace exporters;

namespace {

const fs::path kPlugins = PLUGINS_BUILD_DIR;

using Run = exporters::testing::CommandRun;  // stdout and stderr together

size_t count_lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

class Sandbox {
 public:
  Sandbox() : root_(fs::temp_directory_path() / fmt::format("exporters-missing-plugin-{}", ::getpid())) {
    fs::remove_all(root_);
    fs::create_directories(root_ / "bin");
    fs::create_directories(root_ / "home");
    fs::copy_file(EXPORTERS_EXE, exe(), fs::copy_options::overwrite_existing);
  }
  ~Sandbox() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path exe() const { return root_ / "bin" / "exporters"; }
  fs::path root() const { return root_; }

  // A plugin folder with every standard plugin except `missing`.
  fs::path plugins_without(const std::string& missing) const {
    fs::path dir = root_ / ("plugins-without-" + missing);
    fs::remove_all(dir);
    for (const auto& plugin : registry::standard_plugins()) {
      if (plugin.name == missing) continue;
      fs::create_directories(dir / plugin.name);
      for (const std::string file : {"lib" + plugin.name + ".so", plugin.name + ".json"})
        fs::copy_file(kPlugins / plugin.name / file, dir / plugin.name / file);
    }
    return dir;
  }

  Run run(const std::string& args) const {
    const std::string command =
        // The copy finds neither the build tree's LibTorch module nor an
        // installed one: name the build's.
        fmt::format("env -u EXPORTERS_PLUGIN_PATH HOME='{}' LD_LIBRARY_PATH='{}' EXPORTERS_TORCH_MODULE='{}' '{}' {} 2>&1",
                    (root_ / "home").string(), SDK_LIB_DIR, TORCH_MODULE, exe().string(), args);
    return exporters::testing::run_command(command);
  }

 private:
  fs::path root_;
};

// One fixture per model type, the first of the index.
const testing::FixtureInfo& fixture_of(const std::vector<testing::FixtureInfo>& fixtures, const std::string& model_type) {
  auto it = std::find_if(fixtures.begin(), fixtures.end(), [&](const auto& f) { return f.model_type == model_type; });
  REQUIRE_MESSAGE(it != fixtures.end(), "no fixture of model_type " << model_type);
  return *it;
}

std::string export_args(const testing::FixtureInfo& f, const fs::path& out, const fs::path& plugins) {
  std::string args = fmt::format("tflite '{}' -o '{}' --no-validate --plugin-path '{}'", f.dir.string(), out.string(),
                                 plugins.string());
  if (f.inputs.front().name == "input_ids") args += fmt::format(" --sequence-length {}", f.inputs.front().shape.back());
  return args;
}

}  // namespace

TEST_CASE("each standard plugin removed in turn: its family fails with one clear error, another still exports") {
  testing::require_hf_fixtures();  // meson SKIP, not a pass
  const auto fixtures = testing::load_fixture_index();
  Sandbox box;
  // The copy must not see the build tree's plugins (nor installed ones): with
  // an empty folder it finds none.
  fs::create_directories(box.root() / "empty");
  Run none = box.run("plugins list --plugin-path '" + (box.root() / "empty").string() + "'");
  REQUIRE_MESSAGE(none.output.find("no plugins found") != std::string::npos, none.output);

  const auto& standard = registry::standard_plugins();
  for (size_t i = 0; i < standard.size(); ++i) {
    const registry::StandardPlugin& missing = standard[i];
    const registry::StandardPlugin& other = standard[(i + 1) % standard.size()];
    CAPTURE(missing.name);
    const fs::path plugins = box.plugins_without(missing.name);

    const auto& gone = fixture_of(fixtures, missing.model_types.front());
    const fs::path out = box.root() / (missing.name + ".tflite");
    Run failed = box.run(export_args(gone, out, plugins));
    CHECK(failed.exit_code == 1);
    CHECK_MESSAGE(count_lines(failed.output) == 1, failed.output);
    CHECK_MESSAGE(failed.output.rfind("exporters: error: ", 0) == 0, failed.output);
    CHECK_MESSAGE(failed.output.find(fmt::format("no installed plugin serves model_type '{}'",
                                                 missing.model_types.front())) != std::string::npos,
                  failed.output);
    CHECK_MESSAGE(failed.output.find(fmt::format("standard plugin '{}'", missing.name)) != std::string::npos,
                  failed.output);
    CHECK_FALSE(fs::exists(out));

    const auto& kept = fixture_of(fixtures, other.model_types.front());
    const fs::path kept_out = box.root() / (other.name + ".tflite");
    Run ok = box.run(export_args(kept, kept_out, plugins));
    CHECK_MESSAGE(ok.exit_code == 0, ok.output);
    CHECK_MESSAGE(ok.output.find(fmt::format("plugin {}, task", other.name)) != std::string::npos, ok.output);
    CHECK(fs::exists(kept_out));
    fs::remove(kept_out);
    fs::remove_all(plugins);
  }
}

TEST_CASE("a plugin whose library is gone but whose manifest stays: the export names the broken plugin") {
  testing::require_hf_fixtures();
  const auto fixtures = testing::load_fixture_index();
  Sandbox box;
  const fs::path plugins = box.plugins_without("none");
  fs::remove(plugins / "vit" / "libvit.so");
  const fs::path out = box.root() / "vit.tflite";
  Run failed = box.run(export_args(fixture_of(fixtures, "vit"), out, plugins));
  CHECK(failed.exit_code == 1);
  CHECK_MESSAGE(failed.output.find("exporters: error: ") != std::string::npos, failed.output);
  CHECK_MESSAGE(failed.output.find("model_type 'vit' is served by plugin") != std::string::npos, failed.output);
  CHECK_MESSAGE(failed.output.find("libvit.so") != std::string::npos, failed.output);
  CHECK_FALSE(fs::exists(out));
}
