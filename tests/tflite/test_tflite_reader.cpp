// The reader over small .tflite files written byte by byte at build time by
// make_tflite_files.py (independent of our writer): they read into IR, and
// our interpreter and LiteRT both reproduce PyTorch's outputs; an unsupported
// op is named. Malformed files give one clear error.
// Suite "shared" (the meson test tflite_shared, SKIP without ../shared): every
// real converter-made file in ../shared/tflite-testdata.
#include <doctest/doctest.h>

#include <fstream>

#include "tflite_subset_generated.h"
#include "fixtures_lib/hf_fixtures.hpp"
#include "tflite_test_util.hpp"

using namespace tflite_test;
namespace tfl = exporters::tflite;

namespace {

// Expected outcome per file: "" = reads; otherwise a text the error must contain.
const std::map<std::string, std::string>& expectations() {
  static const std::map<std::string, std::string> e = {
      {"litert/add_10x10.tflite", ""},
      {"litert/add_1d_2d_3d_4d.tflite", ""},
      {"litert/ff.tflite", ""},
      {"litert/mixed_input_model.tflite", ""},
      {"litert/mul_quant.tflite", "(MUL)"},  // int16 quantized activations
      {"litert/multi_signature_model.tflite", ""},
      {"litert/norm.tflite", ""},
      {"litert/rope.tflite", ""},
      {"litert/simple_log_softmax_op.tflite", ""},
      {"litert/simple_topk_op.tflite", "(TOPK_V2)"},  // no top-k in the IR
      {"litert/single_add_default_a8w8_recipe_quantized.tflite", "(ADD)"},
      {"litert/sqrt_mean_mul_ops.tflite", ""},
      {"litert/torchaudio_conformer.tflite", ""},
      {"tflm/hello_world_float.tflite", ""},
      {"tflm/hello_world_int8.tflite", "(FULLY_CONNECTED)"},
      {"tflm/person_detect.tflite", "(DEPTHWISE_CONV_2D)"},
      {"tflm/seanet/add0.tflite", "(ADD)"},
      {"tflm/seanet/conv0.tflite", "(CONV_2D)"},
      {"tflm/seanet/leaky_relu0.tflite", "(LEAKY_RELU)"},
      {"tflm/seanet/pad0.tflite", "(PAD)"},
      {"tflm/seanet/strided_slice0.tflite", "(STRIDED_SLICE)"},
      {"tflm/seanet/sub0.tflite", "(SUB)"},
      {"tflm/seanet/transpose_conv0.tflite", "(TRANSPOSE_CONV)"},
  };
  return e;
}

std::vector<uint8_t> file_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void check_malformed(std::vector<uint8_t> bytes, const std::string& expect) {
  CHECK_THROWS_WITH_AS(tfl::read_tflite_bytes(bytes.data(), bytes.size(), "bad.tflite"), doctest::Contains(expect.c_str()),
                       tfl::TfliteError);
}

const fs::path kOwnFiles = TFLITE_OWN_FILES;

}  // namespace

TEST_CASE("reader: hand-written files read into IR; our interpreter and LiteRT reproduce PyTorch") {
  for (const char* name : {"add_mul", "fc_softmax", "fp16_fc_tanh_reshape"}) {
    CAPTURE(name);
    const fs::path file = kOwnFiles / (std::string(name) + ".tflite");
    const auto expected = exporters::io::read_safetensors(kOwnFiles / (std::string(name) + ".safetensors"));
    Graph g = tfl::read_tflite(file);
    CHECK_NOTHROW(exporters::ir::verify(g));
    std::map<std::string, Tensor> inputs;
    for (const Value* v : g.inputs()) {
      auto it = expected.find("input." + v->name);
      REQUIRE_MESSAGE(it != expected.end(), "the read graph has an input " << v->name << " the file does not");
      inputs[v->name] = it->second;
    }
    REQUIRE(inputs.size() + g.output_names().size() == expected.size());
    const auto ours = run_interpreter(g, inputs);
    const auto lite = run_litert(file, inputs);
    REQUIRE(ours.size() == g.outputs().size());
    for (size_t k = 0; k < ours.size(); ++k) {
      const std::string& out = g.output_names()[k];
      CAPTURE(out);
      auto want = expected.find("output." + out);
      REQUIRE_MESSAGE(want != expected.end(), "unexpected output " << out);
      const double limit = 1e-5 * std::max(1.0, max_abs(want->second));
      CHECK(max_abs_diff(ours[k], want->second) <= limit);
      auto it = lite.find(out);
      REQUIRE_MESSAGE(it != lite.end(), "LiteRT has no output " << out);
      CHECK(max_abs_diff(it->second, want->second) <= limit);
    }
  }
}

TEST_CASE("reader: a hand-written file with an op the IR lacks fails naming it") {
  CHECK_THROWS_WITH_AS(tfl::read_tflite(kOwnFiles / "topk.tflite"), doctest::Contains("(TOPK_V2)"), tfl::TfliteError);
}

TEST_CASE("summary of a hand-written file: signature, op histogram, buffer bytes") {
  auto s = tfl::summarize_tflite(kOwnFiles / "fp16_fc_tanh_reshape.tflite");
  CHECK(s.schema_version == 3);
  REQUIRE(s.inputs.size() == 1);
  CHECK(s.op_histogram["DEQUANTIZE"] == 1);
  CHECK(s.op_histogram["FULLY_CONNECTED"] == 1);
  CHECK(s.op_histogram["RESHAPE"] == 1);
  CHECK(s.signature_keys == std::vector<std::string>{"serving_default"});
  CHECK(s.buffer_bytes == 3 * 4 * 2 + 3 * 4 + 2 * 4);  // fp16 weight, f32 bias, int32 shape
}

namespace {

// The converter-made files: the doctest suite "shared".
fs::path testdata_dir() {
  exporters::testing::require_tflite_testdata();  // exit 77 (SKIP) without them
  return exporters::testing::tflite_testdata_dir();
}

}  // namespace

TEST_CASE("every file in tflite-testdata is listed with its expected outcome" * doctest::test_suite("shared")) {
  const fs::path dir = testdata_dir();
  size_t seen = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().extension() != ".tflite") continue;
    ++seen;
    CHECK_MESSAGE(expectations().count(fs::relative(e.path(), dir).generic_string()),
                  "no expectation for " << e.path().string());
  }
  CHECK(seen == expectations().size());
}

TEST_CASE("reader: converter-made files read into IR, or fail naming the op" * doctest::test_suite("shared")) {
  for (const auto& [rel, expect] : expectations()) {
    const fs::path file = testdata_dir() / rel;
    CAPTURE(rel);
    if (!expect.empty()) {
      CHECK_THROWS_WITH_AS(tfl::read_tflite(file), doctest::Contains(expect.c_str()), tfl::TfliteError);
      continue;
    }
    Graph g = tfl::read_tflite(file);
    CHECK_NOTHROW(exporters::ir::verify(g));
    // Our interpreter on the read-back graph reproduces the real runtime.
    auto inputs = random_inputs(g, rel.find("rope") != std::string::npos ? 100 : 4);
    auto lite = run_litert(file, inputs);
    auto ours = run_interpreter(g, inputs);
    REQUIRE(ours.size() == g.outputs().size());
    for (size_t k = 0; k < ours.size(); ++k) {
      auto it = lite.find(g.output_names()[k]);
      REQUIRE_MESSAGE(it != lite.end(), "LiteRT has no output " << g.output_names()[k]);
      double limit = 1e-4 * std::max(1.0, max_abs(it->second));
      double diff = max_abs_diff(ours[k], it->second);
      CHECK_MESSAGE(diff <= limit, rel << " output " << g.output_names()[k] << ": max abs diff " << diff << " > " << limit);
    }
  }
}

TEST_CASE("summary of a converter-made file: signature aliases, op histogram, buffer bytes" * doctest::test_suite("shared")) {
  auto s = tfl::summarize_tflite(testdata_dir() / "litert/torchaudio_conformer.tflite");
  REQUIRE(s.inputs.size() == 2);
  CHECK(s.schema_version == 3);
  CHECK(s.op_histogram["RESHAPE"] == 42);
  CHECK(s.op_histogram["FULLY_CONNECTED"] == 6);
  CHECK(s.signature_keys == std::vector<std::string>{"serving_default"});
  CHECK(s.buffer_bytes > 0);
  CHECK(s.buffer_bytes < s.file_bytes);
  CHECK(tfl::format_summary(s).find("DEPTHWISE_CONV_2D") != std::string::npos);
}

TEST_CASE("malformed files give one clear error") {
  const auto good = file_bytes(kOwnFiles / "add_mul.tflite");
  REQUIRE(good.size() > 64);
  SUBCASE("empty") { check_malformed({}, "too short"); }
  SUBCASE("truncated") {
    check_malformed(std::vector<uint8_t>(good.begin(), good.begin() + static_cast<long>(good.size() / 2)), "malformed");
  }
  SUBCASE("wrong identifier") {
    auto b = good;
    b[4] = 'X';
    check_malformed(b, "expected 'TFL3'");
  }
  SUBCASE("root offset out of range") {
    auto b = good;
    b[0] = 0xF0;
    b[1] = 0xFF;
    b[2] = 0xFF;
    b[3] = 0x7F;
    check_malformed(b, "malformed");
  }
  SUBCASE("vector length past the end of the file") {
    // Every uint32 that could be a vector length set huge, one at a time,
    // must either still verify or be rejected cleanly.
    size_t rejected = 0;
    for (size_t off = 8; off + 4 <= good.size(); off += 4) {
      auto b = good;
      b[off] = 0xFF;
      b[off + 1] = 0xFF;
      b[off + 2] = 0xFF;
      b[off + 3] = 0x0F;
      try {
        tfl::read_tflite_bytes(b.data(), b.size(), "bad.tflite");
      } catch (const tfl::TfliteError&) {
        ++rejected;
      }
    }
    CHECK(rejected > 0);
  }
  SUBCASE("not a file") { CHECK_THROWS_AS(tfl::read_tflite(scratch_dir() / "missing.tflite"), tfl::TfliteError); }
}

namespace {

// A one-operator model built with the schema: input x (f32), constant int32
// inputs, one f32 output.
struct ConstInput {
  std::vector<int32_t> shape;
  std::vector<int32_t> values;
};
std::vector<uint8_t> one_op_model(tfl::fb::BuiltinOperator code, const std::vector<int32_t>& x_shape,
                                  const std::vector<ConstInput>& consts, const std::vector<int32_t>& y_shape) {
  namespace fb = tfl::fb;
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<fb::Buffer>> buffers{fb::CreateBuffer(b)};
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  tensors.push_back(fb::CreateTensor(b, b.CreateVector(x_shape), fb::TensorType_FLOAT32, 0, b.CreateString("x")));
  std::vector<int32_t> inputs{0};
  for (size_t i = 0; i < consts.size(); ++i) {
    const auto& c = consts[i];
    auto bytes = b.CreateVector(reinterpret_cast<const uint8_t*>(c.values.data()), c.values.size() * 4);
    buffers.push_back(fb::CreateBuffer(b, bytes));
    tensors.push_back(fb::CreateTensor(b, b.CreateVector(c.shape), fb::TensorType_INT32,
                                       static_cast<uint32_t>(buffers.size() - 1), b.CreateString("c" + std::to_string(i))));
    inputs.push_back(static_cast<int32_t>(tensors.size() - 1));
  }
  tensors.push_back(fb::CreateTensor(b, b.CreateVector(y_shape), fb::TensorType_FLOAT32, 0, b.CreateString("y")));
  const int32_t y = static_cast<int32_t>(tensors.size() - 1);
  auto op = fb::CreateOperator(b, 0, b.CreateVector(inputs), b.CreateVector(std::vector<int32_t>{y}));
  auto sg = fb::CreateSubGraph(b, b.CreateVector(tensors), b.CreateVector(std::vector<int32_t>{0}),
                               b.CreateVector(std::vector<int32_t>{y}), b.CreateVector(std::vector{op}));
  auto opcode = fb::CreateOperatorCode(b, static_cast<int8_t>(std::min<int32_t>(code, 127)), 0, 1, code);
  auto model = fb::CreateModel(b, 3, b.CreateVector(std::vector{opcode}), b.CreateVector(std::vector{sg}), 0,
                               b.CreateVector(buffers));
  fb::FinishModelBuffer(b, model);
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

}  // namespace

TEST_CASE("a well-formed SLICE is read (the builder below makes valid files)") {
  const auto ok = one_op_model(tfl::fb::BuiltinOperator_SLICE, {2, 3}, {{{2}, {0, 1}}, {{2}, {1, 2}}}, {1, 2});
  const auto g = tfl::read_tflite_bytes(ok.data(), ok.size(), "slice.tflite");
  CHECK(g.outputs().size() == 1);
}

// Found by fuzzing: SLICE indexed `size` and the input's shape by the
// length of `begin`, unchecked.
TEST_CASE("SLICE whose begin or size does not match the input's rank is an error naming the op") {
  for (const auto& [begin, size] : std::vector<std::pair<ConstInput, ConstInput>>{
           {{{5}, {0, 0, 0, 0, 0}}, {{2}, {1, 1}}},   // begin longer than the rank and than size
           {{{2}, {0, 0}}, {{1}, {1}}},               // size shorter
           {{{1}, {0}}, {{1}, {1}}}}) {              // both shorter than the rank
    CAPTURE(begin.values.size());
    const auto bad = one_op_model(tfl::fb::BuiltinOperator_SLICE, {2, 3}, {begin, size}, {1, 1});
    check_malformed(bad, "(SLICE): begin has");
  }
}
