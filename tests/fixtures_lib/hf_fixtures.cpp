#include "hf_fixtures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "core/io/json_config.hpp"
#include "core/io/safetensors.hpp"

namespace exporters::testing {

namespace fs = std::filesystem;
using io::JsonLocation;
using nlohmann::json;

namespace {
const char* env_or_null(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}
}  // namespace

fs::path shared_dir() {
  if (const char* env = env_or_null("EXPORTERS_SHARED_DIR")) return fs::path(env);
  fs::path root = EXPORTERS_CONFIGURED_SOURCE_ROOT;
  if (const char* env = env_or_null("EXPORTERS_SOURCE_ROOT")) root = env;
  return (root / ".." / "shared").lexically_normal();
}

fs::path hf_fixtures_dir() {
  if (const char* env = env_or_null("EXPORTERS_HF_FIXTURES")) return fs::path(env);
  return shared_dir() / "fixtures" / "hf";
}

fs::path tflite_testdata_dir() {
  if (const char* env = env_or_null("EXPORTERS_TFLITE_TESTDATA")) return fs::path(env);
  return shared_dir() / "tflite-testdata";
}

bool hf_fixtures_available() {
  std::error_code ec;
  return fs::is_regular_file(hf_fixtures_dir() / "index.json", ec);
}

std::string hf_fixtures_missing_message() {
  return fmt::format("skipped the HF fixtures: {} not found", hf_fixtures_dir().string());
}

void skip_executable(const std::string& reason) {
  std::fflush(stdout);
  std::printf("SKIP: %s\n", reason.c_str());
  std::fprintf(stderr, "SKIP: %s\n", reason.c_str());
  std::fflush(stdout);
  std::exit(77);  // meson: SKIP, never a pass
}

void require_hf_fixtures() {
  if (!hf_fixtures_available()) skip_executable(hf_fixtures_missing_message());
}

void require_tflite_testdata() {
  std::error_code ec;
  const fs::path dir = tflite_testdata_dir();
  if (!fs::is_directory(dir, ec))
    skip_executable(fmt::format("skipped the converter-made TFLite files: {} not found", dir.string()));
}

ir::DType dtype_from_torch_name(const std::string& name) {
  static const std::pair<const char*, ir::DType> table[] = {
      {"float32", ir::DType::F32}, {"float16", ir::DType::F16}, {"int32", ir::DType::I32},
      {"int64", ir::DType::I64},   {"bool", ir::DType::Bool},   {"int8", ir::DType::I8},
      {"uint8", ir::DType::U8},
  };
  for (const auto& [n, d] : table)
    if (name == n) return d;
  if (auto d = ir::dtype_from_name(name)) return *d;
  throw std::runtime_error(fmt::format("unknown dtype '{}' (expected float32, float16, int32, "
                                       "int64, bool, int8 or uint8)", name));
}

namespace {

std::vector<TensorSpec> parse_specs(const json& obj, const std::string& key,
                                    const JsonLocation& loc) {
  const json& arr = io::json_array(obj, key, loc);
  std::vector<TensorSpec> out;
  for (size_t i = 0; i < arr.size(); ++i) {
    JsonLocation at = loc.at(key).at(i);
    TensorSpec spec;
    spec.name = io::json_string(arr[i], "name", at);
    std::string dtype = io::json_string(arr[i], "dtype", at);
    try {
      spec.dtype = dtype_from_torch_name(dtype);
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(fmt::format("{}: {}", at.at("dtype").describe(), e.what()));
    }
    spec.shape = io::json_int_list(arr[i], "shape", at);
    out.push_back(std::move(spec));
  }
  return out;
}

FixtureInfo parse_fixture(const json& obj, const fs::path& dir, const JsonLocation& loc) {
  FixtureInfo info;
  info.name = io::json_string(obj, "name", loc);
  info.dir = dir;
  info.model_type = io::json_string(obj, "model_type", loc);
  info.hf_class = io::json_string(obj, "hf_class", loc);
  info.task = io::json_string(obj, "task", loc);
  info.inputs = parse_specs(obj, "inputs", loc);
  info.outputs = parse_specs(obj, "outputs", loc);
  return info;
}

}  // namespace

std::vector<FixtureInfo> load_fixture_index(const fs::path& dir) {
  const fs::path index_path = dir / "index.json";
  const json index = io::read_json_object_file(index_path);
  const JsonLocation loc(index_path);
  const json& list = io::json_array(index, "fixtures", loc);
  std::vector<FixtureInfo> out;
  for (size_t i = 0; i < list.size(); ++i) {
    JsonLocation at = loc.at("fixtures").at(i);
    fs::path sub = io::json_string(list[i], "path", at);
    out.push_back(parse_fixture(list[i], fs::absolute(dir / sub).lexically_normal(), at));
  }
  return out;
}

FixtureInfo load_fixture_info(const fs::path& fixture_dir) {
  const fs::path path = fixture_dir / "fixture.json";
  return parse_fixture(io::read_json_object_file(path),
                       fs::absolute(fixture_dir).lexically_normal(), JsonLocation(path));
}

std::vector<fs::path> reference_files(const FixtureInfo& fixture) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fixture.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("reference") && name.ends_with(".safetensors")) out.push_back(entry.path());
  }
  if (ec)
    throw std::runtime_error(fmt::format("{}: cannot list the fixture folder: {}",
                                         fixture.dir.string(), ec.message()));
  std::sort(out.begin(), out.end());  // "reference." sorts before "reference2."
  return out;
}

ReferenceData load_reference(const FixtureInfo& fixture, const fs::path& file) {
  auto tensors = io::read_safetensors(file);
  ReferenceData ref;
  ref.file = file;
  auto take = [&](const TensorSpec& spec, const std::string& prefix) {
    const std::string key = prefix + spec.name;
    auto it = tensors.find(key);
    if (it == tensors.end())
      throw std::runtime_error(fmt::format("{}: no entry '{}' (fixture '{}' lists {})",
                                           file.string(), key, fixture.name, spec.name));
    const ir::Tensor& t = it->second;
    if (t.dtype() != spec.dtype || t.shape() != spec.shape)
      throw std::runtime_error(fmt::format(
          "{}: entry '{}' is {} but fixture '{}' says {}", file.string(), key,
          t.type().to_string(), fixture.name, ir::TensorType{spec.dtype, spec.shape}.to_string()));
    return t;
  };
  for (const auto& spec : fixture.inputs) ref.inputs.push_back(take(spec, "input."));
  for (const auto& spec : fixture.outputs) ref.outputs.push_back(take(spec, "output."));
  return ref;
}

Comparison compare_tensors(const ir::Tensor& actual, const ir::Tensor& expected, double atol) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  Comparison c;
  if (actual.dtype() != expected.dtype() || actual.shape() != expected.shape()) {
    c.max_abs_error = c.scaled_error = kInf;
    c.message = fmt::format("type mismatch: got {}, expected {}", actual.type().to_string(),
                            expected.type().to_string());
    return c;
  }
  if (!actual.defined() || !expected.defined()) {
    c.max_abs_error = c.scaled_error = kInf;
    c.message = "a tensor has no data";
    return c;
  }
  int64_t worst = -1;
  double worst_err = -1;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    const double e = expected.element_as_double(i);
    const double a = actual.element_as_double(i);
    double err;
    if (std::isnan(e) || std::isnan(a))
      err = (std::isnan(e) && std::isnan(a)) ? 0.0 : kInf;
    else if (std::isinf(e) || std::isinf(a))
      err = (a == e) ? 0.0 : kInf;
    else
      err = std::fabs(a - e);
    if (std::isfinite(e)) c.max_ref_magnitude = std::max(c.max_ref_magnitude, std::fabs(e));
    if (err > worst_err) {
      worst_err = err;
      worst = i;
    }
  }
  const double limit = atol * std::max(1.0, c.max_ref_magnitude);
  c.max_abs_error = std::max(0.0, worst_err);
  c.scaled_error = c.max_abs_error / std::max(1.0, c.max_ref_magnitude);
  c.ok = c.max_abs_error <= limit;
  if (worst < 0) {
    c.message = "empty tensors";
  } else {
    c.message = fmt::format("max abs error {:.3g} at flat index {} (got {}, expected {}); "
                            "max |ref| {:.3g}; limit {:.3g}",
                            c.max_abs_error, worst, actual.element_as_double(worst),
                            expected.element_as_double(worst), c.max_ref_magnitude, limit);
  }
  return c;
}

}  // namespace exporters::testing
