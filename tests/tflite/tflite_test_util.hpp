// Helpers of the TFLite tests: deterministic random tensors, the LiteRT
// runner (tools/litert) and output comparison.
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <unistd.h>

#include "core/backends/tflite/tflite.hpp"
#include "core/io/safetensors.hpp"
#include "core/runtime/interpreter.hpp"
#include "exporters/ir/graph.hpp"

namespace tflite_test {

namespace fs = std::filesystem;
using exporters::ir::DType;
using exporters::ir::Graph;
using exporters::ir::Shape;
using exporters::ir::Tensor;
using exporters::ir::Value;

inline fs::path source_root() {
  const char* root = std::getenv("EXPORTERS_SOURCE_ROOT");
  REQUIRE_MESSAGE(root, "EXPORTERS_SOURCE_ROOT is not set (run through meson test)");
  return fs::path(root);
}

// Per-process scratch folder, removed at exit unless EXPORTERS_KEEP_TEST_FILES is set.
inline fs::path scratch_dir() {
  struct Scratch {
    fs::path dir;
    Scratch() : dir(fs::temp_directory_path() / fmt::format("exporters-tflite-test-{}", ::getpid())) {
      fs::create_directories(dir);
    }
    ~Scratch() {
      std::error_code ec;
      if (!std::getenv("EXPORTERS_KEEP_TEST_FILES")) fs::remove_all(dir, ec);
    }
  };
  static Scratch scratch;
  return scratch.dir;
}

inline std::mt19937& rng() {
  static std::mt19937 g(1234);
  return g;
}

inline Tensor random_tensor(DType dtype, const Shape& shape, double lo = -1.0, double hi = 1.0) {
  Tensor t = Tensor::zeros(dtype, shape);
  std::uniform_real_distribution<double> u(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) {
    double v = u(rng());
    switch (dtype) {
      case DType::F32: t.mutable_as<float>()[i] = static_cast<float>(v); break;
      case DType::F16: t.mutable_as<uint16_t>()[i] = exporters::ir::float_to_half(static_cast<float>(v)); break;
      case DType::I32: t.mutable_as<int32_t>()[i] = static_cast<int32_t>(std::floor(v)); break;
      case DType::I64: t.mutable_as<int64_t>()[i] = static_cast<int64_t>(std::floor(v)); break;
      case DType::Bool: t.mutable_as<uint8_t>()[i] = v > (lo + hi) / 2; break;
      case DType::I8: t.mutable_as<int8_t>()[i] = static_cast<int8_t>(std::floor(v)); break;
      case DType::U8: t.mutable_as<uint8_t>()[i] = static_cast<uint8_t>(std::floor(v)); break;
    }
  }
  return t;
}

// Random inputs for every graph input (ints in [0, int_hi)).
inline std::map<std::string, Tensor> random_inputs(const Graph& g, int64_t int_hi = 4) {
  std::map<std::string, Tensor> m;
  for (const Value* v : g.inputs()) {
    bool integral = exporters::ir::is_integer(v->type.dtype);
    m[v->name] = random_tensor(v->type.dtype, v->type.shape, integral ? 0.0 : -1.0,
                               integral ? static_cast<double>(int_hi) : 1.0);
  }
  return m;
}

inline std::vector<Tensor> run_interpreter(const Graph& g, const std::map<std::string, Tensor>& inputs) {
  std::vector<Tensor> in;
  for (const Value* v : g.inputs()) {
    auto it = inputs.find(v->name);
    REQUIRE_MESSAGE(it != inputs.end(), "no input named " << v->name);
    in.push_back(it->second);
  }
  return exporters::runtime::run(g, in);
}

// Runs the model with the real LiteRT through tools/litert/run.mjs; outputs by name.
inline std::map<std::string, Tensor> run_litert(const fs::path& model, const std::map<std::string, Tensor>& inputs) {
  const fs::path runner = source_root() / "tools" / "litert" / "run.mjs";
  const fs::path modules = source_root() / "tools" / "litert" / "node_modules" / "@litertjs" / "core";
  REQUIRE_MESSAGE(std::system("node --version > /dev/null 2>&1") == 0,
                  "node is not on PATH: the TFLite tests need Node.js >= 20 to run LiteRT");
  REQUIRE_MESSAGE(fs::exists(modules), "tools/litert/node_modules is missing: run scripts/setup.sh "
                                       "(npm ci --prefix tools/litert) before the TFLite tests");
  static int counter = 0;
  const fs::path in = scratch_dir() / fmt::format("in_{}.safetensors", counter);
  const fs::path out = scratch_dir() / fmt::format("out_{}.safetensors", counter++);
  exporters::io::write_safetensors(in, inputs);
  const fs::path log = scratch_dir() / "litert.log";
  std::string cmd = fmt::format("node '{}' '{}' '{}' '{}' 2> '{}'", runner.string(), model.string(), in.string(),
                                out.string(), log.string());
  int rc = std::system(cmd.c_str());
  if (rc != 0) {
    std::string err;
    if (FILE* f = std::fopen(log.c_str(), "r")) {
      char buf[4096];
      size_t n = std::fread(buf, 1, sizeof buf - 1, f);
      buf[n] = 0;
      err = buf;
      std::fclose(f);
    }
    FAIL("LiteRT runner failed on " << model.string() << ": " << err);
  }
  return exporters::io::read_safetensors(out);
}

inline double max_abs(const Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::fabs(t.element_as_double(i)));
  return m;
}

inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE_MESSAGE(a.shape() == b.shape(), "shapes differ: " << a.type().to_string() << " vs " << b.type().to_string());
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    double x = a.element_as_double(i), y = b.element_as_double(i);
    if (std::isnan(x) != std::isnan(y)) return INFINITY;
    if (!std::isnan(x)) m = std::max(m, std::fabs(x - y));
  }
  return m;
}

}  // namespace tflite_test
