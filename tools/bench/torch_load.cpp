// LibTorch's own load of a model.pt, for the export benchmark's reference
// column: `torch_load model.pt` prints the seconds torch::jit::load took in
// this process (bench.py also times the whole process: LibTorch's start-up
// plus the load). A plain file load, as LibTorch users do it.
#include <chrono>
#include <cstdio>
#include <exception>

#include <torch/script.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: torch_load MODEL.pt\n");
    return 2;
  }
  try {
    const auto start = std::chrono::steady_clock::now();
    torch::jit::Module module = torch::jit::load(argv[1]);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%.6f\n", seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torch_load: %s: %s\n", argv[1], e.what());
    return 1;
  }
  return 0;
}
