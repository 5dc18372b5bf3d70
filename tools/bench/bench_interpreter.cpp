// Times the reference interpreter on a model directory's own example inputs
// (reference.safetensors), next to LibTorch running the original trace.
//   bench_interpreter MODEL_DIR [REPEATS]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "core/frontend/torchscript/torchscript_frontend.hpp"
#include "core/io/safetensors.hpp"
#include "core/passes/passes.hpp"
#include "core/runtime/interpreter.hpp"
#include "core/validate/torch_runner.hpp"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  using namespace exporters;
  if (argc < 2) {
    fmt::print(stderr, "usage: bench_interpreter MODEL_DIR [REPEATS]\n");
    return 2;
  }
  try {
    std::filesystem::path dir = argv[1];
    int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 10;
    auto reference = io::read_safetensors(dir / "reference.safetensors");
    auto names = frontend::torchscript_input_names(dir / "model.pt");
    frontend::TorchScriptOptions options;
    std::vector<ir::Tensor> inputs;
    for (const auto& name : names) {
      const ir::Tensor& t = reference.at("input." + name);
      options.input_shapes[name] = t.shape();
      options.input_dtypes[name] = t.dtype();
      inputs.push_back(t);
    }
    auto model = frontend::load_torchscript(dir / "model.pt", options);
    passes::run_default_pipeline(model.graph);
    std::vector<double> ours, theirs;
    for (int i = 0; i < repeats + 1; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      runtime::run(model.graph, inputs);
      auto t1 = std::chrono::steady_clock::now();
      if (i) ours.push_back(std::chrono::duration<double>(t1 - t0).count());
    }
    // run_torchscript loads the module each call; time load+forward and load
    // alone, and report the difference as LibTorch's forward.
    std::vector<double> load_and_forward;
    for (int i = 0; i < std::min(repeats, 5); ++i) {
      auto t0 = std::chrono::steady_clock::now();
      validate::run_torchscript(dir / "model.pt", inputs);
      load_and_forward.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    fmt::print("{}: {} IR ops; interpreter median {:.2f} ms; LibTorch load+forward median {:.2f} ms\n",
               dir.filename().string(), model.graph.nodes().size(), median(ours) * 1e3,
               median(load_and_forward) * 1e3);
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_interpreter: {}\n", e.what());
    return 1;
  }
  return 0;
}
