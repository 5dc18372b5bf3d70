// The backend rows. Each row binds a writer and a reader from
// core/backends/<format>/.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>

#include "core/export/target.hpp"

namespace exporters::exporting {

namespace {

const std::vector<Target>& targets() {
  static const std::vector<Target> rows = {};
  return rows;
}

}  // namespace

const Target& find_target(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& t : targets()) {
    if (t.name == name) return t;
    names.push_back(t.name);
  }
  throw std::runtime_error(fmt::format("unknown export target '{}' (known: {})", name, fmt::join(names, ", ")));
}

const Target& target_for_file(const std::filesystem::path& file) {
  auto ext = file.extension().string();
  if (ext == ".mlpackage") return find_target("coreml");
  if (ext == ".mlmodel") return find_target("coreml-legacy");
  if (ext == ".tflite") return find_target("tflite");
  throw std::runtime_error(fmt::format("{}: unknown file type (expected .mlpackage, .mlmodel or .tflite)",
                                       file.string()));
}

}  // namespace exporters::exporting
