// Test helpers for the Hugging Face fixtures (tiny traced models with
// reference inputs and outputs, see <fixtures>/README.md): locating the
// folder, reading index.json / fixture.json, loading reference*.safetensors
// in input order, and comparing tensors with the project's tolerance rule.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "exporters/ir/tensor.hpp"

namespace exporters::testing {

// The shared test data beside the clone: $EXPORTERS_SHARED_DIR if set, else
// <source root>/../shared with the source root from $EXPORTERS_SOURCE_ROOT
// (set by meson's test_env) or, failing that, the source root this library
// was configured from. Every test that reads shared data finds it through
// these functions, so pointing the variables at an empty folder hides it.
std::filesystem::path shared_dir();
// $EXPORTERS_HF_FIXTURES if set, else shared_dir()/fixtures/hf.
std::filesystem::path hf_fixtures_dir();
// $EXPORTERS_TFLITE_TESTDATA if set, else shared_dir()/tflite-testdata.
std::filesystem::path tflite_testdata_dir();
// True when hf_fixtures_dir()/index.json exists.
bool hf_fixtures_available();
// "skipped the HF fixtures: <dir> not found".
std::string hf_fixtures_missing_message();

// Ends the test executable as a meson SKIP (exit code 77) after printing
// "SKIP: <reason>" on stdout and stderr (tests/run_all lists the reason). For
// tests that need data the clone may not have: they must skip, never pass.
[[noreturn]] void skip_executable(const std::string& reason);
// skip_executable(hf_fixtures_missing_message()) unless the fixtures exist.
void require_hf_fixtures();
// Skips unless tflite_testdata_dir() exists.
void require_tflite_testdata();

struct TensorSpec {
  std::string name;
  ir::DType dtype = ir::DType::F32;
  ir::Shape shape;
};

struct FixtureInfo {
  std::string name;
  std::filesystem::path dir;  // absolute folder of the fixture
  std::string model_type;
  std::string hf_class;
  std::string task;
  std::vector<TensorSpec> inputs;   // forward()'s order
  std::vector<TensorSpec> outputs;  // the returned tuple's order
};

// "float32" -> F32, "int64" -> I64, ... (also accepts "f32"-style IR names).
// Throws std::runtime_error naming the string when unknown.
ir::DType dtype_from_torch_name(const std::string& name);

// Every fixture listed in <dir>/index.json, in its order. Throws
// std::runtime_error naming the file and key on a malformed index.
std::vector<FixtureInfo> load_fixture_index(const std::filesystem::path& dir = hf_fixtures_dir());
// One fixture's own fixture.json (inputs/outputs as listed there).
FixtureInfo load_fixture_info(const std::filesystem::path& fixture_dir);

// A reference file split into the inputs (fixture order) and outputs.
struct ReferenceData {
  std::filesystem::path file;
  std::vector<ir::Tensor> inputs;   // one per FixtureInfo::inputs, same order
  std::vector<ir::Tensor> outputs;  // one per FixtureInfo::outputs, same order
};

// The fixture's reference*.safetensors files, sorted (reference.safetensors first).
std::vector<std::filesystem::path> reference_files(const FixtureInfo& fixture);
// Loads `input.<name>` / `output.<name>` entries. Throws std::runtime_error
// naming the file and entry when one is missing or its dtype/shape differs
// from the fixture's signature.
ReferenceData load_reference(const FixtureInfo& fixture, const std::filesystem::path& file);

// Result of comparing an actual tensor against a reference.
struct Comparison {
  bool ok = false;
  double max_abs_error = 0;  // max |actual - expected| (inf on NaN mismatch)
  double max_ref_magnitude = 0;  // max |expected|
  double scaled_error = 0;   // max_abs_error / max(1, max_ref_magnitude)
  std::string message;       // why it failed, or a one-line summary
};

// Pass iff dtype and shape agree and max_abs <= atol * max(1, max|expected|).
// NaN in the same place on both sides counts as equal; elsewhere it fails.
Comparison compare_tensors(const ir::Tensor& actual, const ir::Tensor& expected, double atol);

}  // namespace exporters::testing
