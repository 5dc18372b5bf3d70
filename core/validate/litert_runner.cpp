#include "core/validate/litert_runner.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "core/io/safetensors.hpp"
#include "exporters_config.h"

namespace fs = std::filesystem;

namespace exporters::validate {

namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A private scratch folder removed on scope exit.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "exporters-litert-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("LiteRT: cannot create a temporary folder");
    path = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

fs::path litert_runner_script() {
  fs::path script;
  if (const char* env = std::getenv("EXPORTERS_LITERT_RUNNER"); env && *env) script = env;
  else script = fs::path(EXPORTERS_SOURCE_ROOT) / "tools" / "litert" / "run.mjs";
  if (!fs::exists(script))
    throw std::runtime_error(fmt::format("--runtime litert: the LiteRT runner {} is missing (set "
                                         "EXPORTERS_LITERT_RUNNER to tools/litert/run.mjs of a source tree)",
                                         script.string()));
  if (!fs::exists(script.parent_path() / "node_modules" / "@litertjs" / "core"))
    throw std::runtime_error(fmt::format("--runtime litert: {} has no node_modules; run `npm ci --prefix {}` "
                                         "(scripts/setup.sh does)",
                                         script.parent_path().string(), script.parent_path().string()));
  if (std::system("node --version > /dev/null 2>&1") != 0)
    throw std::runtime_error("--runtime litert: Node.js (node) is not on PATH");
  return script;
}

std::vector<ir::Tensor> run_litert(const fs::path& model, const std::vector<std::string>& input_names,
                                   const std::vector<ir::Tensor>& inputs,
                                   const std::vector<std::string>& output_names) {
  const fs::path script = litert_runner_script();
  ScratchDir scratch;
  std::map<std::string, ir::Tensor> named;
  for (size_t i = 0; i < inputs.size(); ++i) named[input_names.at(i)] = inputs[i];
  const fs::path in = scratch.path / "inputs.safetensors";
  const fs::path out = scratch.path / "outputs.safetensors";
  const fs::path log = scratch.path / "runner.log";
  io::write_safetensors(in, named);
  std::string command = fmt::format("node {} {} {} {} > {} 2>&1", shell_quote(script.string()),
                                    shell_quote(fs::absolute(model).string()), shell_quote(in.string()),
                                    shell_quote(out.string()), shell_quote(log.string()));
  if (std::system(command.c_str()) != 0) {
    std::ifstream f(log);
    std::stringstream text;
    text << f.rdbuf();
    throw std::runtime_error(fmt::format("{}: LiteRT failed: {}", model.string(), text.str()));
  }
  auto results = io::read_safetensors(out);
  std::vector<ir::Tensor> ordered;
  for (const auto& name : output_names) {
    auto it = results.find(name);
    if (it == results.end())
      throw std::runtime_error(fmt::format("{}: LiteRT returned no output '{}'", model.string(), name));
    // Own the bytes: the scratch folder (and its mapping's file) goes away.
    ordered.push_back(ir::Tensor::copy_of(it->second.dtype(), it->second.shape(), it->second.data()));
  }
  return ordered;
}

}  // namespace exporters::validate
