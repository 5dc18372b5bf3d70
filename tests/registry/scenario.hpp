// Helpers that lay out plugin folders for a test case: fixture modules are
// copied from the build tree, manifests are written by the test itself.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <exporters/plugin.hpp>

#include "registry/search_path.hpp"

namespace registry_test {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "exporters-registry-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path sub(const std::string& name) const {
    fs::create_directories(path_ / name);
    return path_ / name;
  }

 private:
  fs::path path_;
};

inline fs::path fixture_library(const std::string& stem) {
  return fs::path(REGISTRY_FIXTURE_DIR) / ("lib" + stem + ".so");
}

inline void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_file_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline nlohmann::json manifest(const std::string& name, std::vector<std::string> model_types,
                               const std::string& library, int abi = EXPORTERS_PLUGIN_ABI_VERSION) {
  return {{"name", name}, {"version", "1.2.3"}, {"abi", abi},
          {"model_types", model_types}, {"library", library}};
}

// Copies fixture module `stem` into `dir` and writes `<name>.json` beside it.
inline fs::path install_fixture(const fs::path& dir, const std::string& stem, const std::string& name,
                                std::vector<std::string> model_types) {
  fs::create_directories(dir);
  fs::copy_file(fixture_library(stem), dir / ("lib" + stem + ".so"),
                fs::copy_options::overwrite_existing);
  fs::path manifest_path = dir / (name + ".json");
  write_file(manifest_path, manifest(name, std::move(model_types), "lib" + stem + ".so").dump(2));
  return manifest_path;
}

inline std::vector<exporters::registry::SearchPathEntry> search_path(std::vector<fs::path> dirs) {
  std::vector<exporters::registry::SearchPathEntry> path;
  for (auto& dir : dirs) path.push_back({dir, "test"});
  return path;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace registry_test
