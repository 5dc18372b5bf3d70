// safetensors reader/writer: round trips, files written independently by
// Python (struct + json), the real HF fixture files, and malformed files.
#include <doctest/doctest.h>

#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io/json_config.hpp"
#include "core/io/safetensors.hpp"
#include "hf_fixtures.hpp"
#include "tests/fixtures_lib/temp_dir.hpp"

namespace fs = std::filesystem;
using exporters::ir::DType;
using exporters::ir::Shape;
using exporters::ir::Tensor;
namespace io = exporters::io;
namespace ir = exporters::ir;

namespace {

// A fresh folder per test case, removed afterwards.
using TempDir = exporters::testing::TempDir;

template <class T>
Tensor make(DType dtype, Shape shape, const std::vector<T>& values) {
  REQUIRE(values.size() * sizeof(T) == static_cast<size_t>(ir::shape_numel(shape)) *
                                           ir::dtype_size(dtype));
  return Tensor::copy_of(dtype, std::move(shape), values.data());
}

std::vector<uint8_t> bytes_of(const Tensor& t) {
  const auto* p = static_cast<const uint8_t*>(t.data());
  return p == nullptr ? std::vector<uint8_t>{} : std::vector<uint8_t>(p, p + t.nbytes());
}

std::vector<uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// A hand-made file: 8-byte length (or `length_override`), header text, data.
std::vector<uint8_t> raw_file(const std::string& header, size_t data_bytes,
                              std::optional<uint64_t> length_override = std::nullopt) {
  std::vector<uint8_t> out(8);
  uint64_t n = length_override.value_or(header.size());
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(n >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  for (size_t i = 0; i < data_bytes; ++i) out.push_back(static_cast<uint8_t>(i));
  return out;
}

// Reading `bytes` must throw a runtime_error whose message names the file and
// contains every one of `needles`.
void expect_read_error(const TempDir& dir, const std::vector<uint8_t>& bytes,
                       std::initializer_list<std::string> needles) {
  const fs::path path = dir / "bad.safetensors";
  write_bytes(path, bytes);
  std::string message;
  try {
    io::read_safetensors(path);
    FAIL("reading the malformed file did not throw");
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  INFO("message: " << message);
  CHECK(message.find(path.string()) != std::string::npos);
  for (const auto& needle : needles) CHECK(message.find(needle) != std::string::npos);
}

}  // namespace

TEST_CASE("round trip keeps dtype, shape and bytes of every dtype") {
  TempDir dir;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::map<std::string, Tensor> tensors;
  tensors["f32"] = make<float>(DType::F32, {2, 3}, {1.5f, -0.0f, nan, inf, -inf, 3.0e-38f});
  tensors["f16"] = make<uint16_t>(DType::F16, {2, 2},
                                  {ir::float_to_half(1.0f), ir::float_to_half(-2.5f), 0x7c00,
                                   0x0001});
  tensors["i32"] = make<int32_t>(DType::I32, {3}, {INT32_MIN, -1, INT32_MAX});
  tensors["i64"] = make<int64_t>(DType::I64, {1, 3}, {INT64_MIN, 0, INT64_MAX});
  tensors["bool"] = make<uint8_t>(DType::Bool, {4}, {1, 0, 1, 1});
  tensors["i8"] = make<int8_t>(DType::I8, {2}, {-128, 127});
  tensors["u8"] = make<uint8_t>(DType::U8, {1, 1, 2}, {0, 255});
  tensors["scalar"] = make<float>(DType::F32, {}, {7.25f});
  tensors["empty"] = Tensor::zeros(DType::I32, {0, 4});

  const fs::path path = dir / "all.safetensors";
  io::write_safetensors(path, tensors, {{"note", "round trip"}});
  const io::SafetensorsFile back = io::read_safetensors_file(path);

  REQUIRE(back.tensors.size() == tensors.size());
  for (const auto& [name, t] : tensors) {
    CAPTURE(name);
    REQUIRE(back.tensors.count(name) == 1);
    const Tensor& r = back.tensors.at(name);
    CHECK(r.dtype() == t.dtype());
    CHECK(r.shape() == t.shape());
    CHECK(bytes_of(r) == bytes_of(t));  // bit-exact, NaN and -0 included
  }
  CHECK(back.metadata.at("format") == "pt");
  CHECK(back.metadata.at("note") == "round trip");
}

TEST_CASE("read tensors borrow the mapping and outlive the map and the file") {
  TempDir dir;
  const fs::path path = dir / "t.safetensors";
  io::write_safetensors(path, {{"x", make<float>(DType::F32, {3}, {1.0f, 2.0f, 3.0f})}});
  Tensor x;
  {
    auto tensors = io::read_safetensors(path);
    x = tensors.at("x");
  }
  fs::remove(path);  // the mapping keeps the bytes
  CHECK(x.borrowed());
  CHECK_THROWS_AS(x.mutable_data(), std::logic_error);
  CHECK(x.element_as_double(0) == 1.0);
  CHECK(x.element_as_double(2) == 3.0);
}

TEST_CASE("written file has the standard layout (checked by an independent Python reader)") {
  TempDir dir;
  const fs::path path = dir / "layout.safetensors";
  // Names chosen so sorted order differs from insertion and length order.
  std::map<std::string, Tensor> tensors;
  tensors["b.weight"] = make<float>(DType::F32, {2, 2}, {0.25f, -4.0f, 1e-7f, 123456.0f});
  tensors["a"] = make<int64_t>(DType::I64, {3}, {-9, 8, 1LL << 50});
  tensors["c"] = make<uint16_t>(DType::F16, {1}, {ir::float_to_half(-0.5f)});
  tensors["d"] = make<uint8_t>(DType::Bool, {2}, {0, 1});
  io::write_safetensors(path, tensors, {{"author", "test"}});

  // Raw bytes: header length multiple of 8, padded with spaces.
  const auto raw = read_bytes(path);
  REQUIRE(raw.size() >= 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | raw[i];
  CHECK(n % 8 == 0);
  REQUIRE(8 + n <= raw.size());
  const std::string header(raw.begin() + 8, raw.begin() + 8 + static_cast<long>(n));
  const size_t last_brace = header.find_last_of('}');
  CHECK(header.find_first_not_of(' ', last_brace + 1) == std::string::npos);

  // Independent reader: /usr/bin/python3 with json + struct.
  const std::string cmd = std::string("'") + EXPORTERS_TEST_PYTHON + "' '" +
                          EXPORTERS_TEST_CHECK_SCRIPT + "' '" + path.string() + "'";
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 4096> buf{};
  size_t got;
  while ((got = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), got);
  const int status = ::pclose(pipe);
  INFO("python output: " << out);
  REQUIRE(status == 0);
  const auto j = nlohmann::json::parse(out);
  CHECK(j["__metadata__"]["format"] == "pt");
  CHECK(j["__metadata__"]["author"] == "test");
  CHECK(j["a"]["dtype"] == "I64");
  CHECK(j["a"]["values"] == nlohmann::json::array({-9, 8, 1LL << 50}));
  CHECK(j["b.weight"]["shape"] == nlohmann::json::array({2, 2}));
  CHECK(j["b.weight"]["values"][0].get<double>() == 0.25);
  CHECK(j["b.weight"]["values"][1].get<double>() == -4.0);
  CHECK(j["b.weight"]["values"][2].get<double>() == static_cast<double>(1e-7f));
  CHECK(j["b.weight"]["values"][3].get<double>() == 123456.0);
  CHECK(j["c"]["dtype"] == "F16");
  CHECK(j["c"]["values"][0].get<double>() == -0.5);
  CHECK(j["d"]["dtype"] == "BOOL");
  CHECK(j["d"]["values"] == nlohmann::json::array({0, 1}));
}

TEST_CASE("writing is atomic: no temporary files stay behind, old file replaced whole") {
  TempDir dir;
  const fs::path path = dir / "out.safetensors";
  io::write_safetensors(path, {{"x", make<int32_t>(DType::I32, {1}, {1})}});
  io::write_safetensors(path, {{"y", make<int32_t>(DType::I32, {2}, {2, 3})}});
  auto back = io::read_safetensors(path);
  CHECK(back.count("x") == 0);
  CHECK(back.at("y").element_as_int(1) == 3);
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);
}

TEST_CASE("writing into a missing folder fails naming the path and leaves nothing") {
  TempDir dir;
  const fs::path path = dir / "no_such_dir" / "out.safetensors";
  try {
    io::write_safetensors(path, {{"x", make<int32_t>(DType::I32, {1}, {1})}});
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find(path.string()) != std::string::npos);
  }
  CHECK_FALSE(fs::exists(dir / "no_such_dir"));
}

TEST_CASE("writing a tensor named __metadata__ is rejected") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(io::write_safetensors(dir / "m.safetensors",
                                             {{"__metadata__", Tensor::scalar_f32(1)}}),
                       doctest::Contains("__metadata__"), std::runtime_error);
}

TEST_CASE("a file written by hand in Python reads back the known values") {
  const fs::path path = fs::path(EXPORTERS_TEST_IO_GENERATED) / "known_values.safetensors";
  const io::SafetensorsFile f = io::read_safetensors_file(path);
  CHECK(f.tensors.size() == 9);
  CHECK(f.metadata.at("format") == "pt");
  CHECK(f.metadata.at("written_by") == "make_reference_safetensors.py");

  const Tensor& f32 = f.tensors.at("f32");
  CHECK(f32.dtype() == DType::F32);
  CHECK(f32.shape() == Shape{2, 3});
  const float f32_expected[] = {0.5f, -1.25f, 3.0f, 1e-3f, -0.0f, 65504.0f};
  for (int i = 0; i < 6; ++i) CHECK(f32.data_as<float>()[i] == f32_expected[i]);
  CHECK(std::signbit(f32.data_as<float>()[4]));

  const Tensor& f16 = f.tensors.at("f16");
  CHECK(f16.dtype() == DType::F16);
  CHECK(f16.shape() == Shape{5});
  const double f16_expected[] = {1.0, -2.5, std::ldexp(1.0, -14), 65504.0, std::ldexp(1.0, -24)};
  for (int i = 0; i < 5; ++i) CHECK(f16.element_as_double(i) == f16_expected[i]);

  const Tensor& i32 = f.tensors.at("i32");
  CHECK(i32.dtype() == DType::I32);
  CHECK(i32.data_as<int32_t>()[0] == INT32_MIN);
  CHECK(i32.data_as<int32_t>()[1] == 0);
  CHECK(i32.data_as<int32_t>()[2] == INT32_MAX);

  const Tensor& i64 = f.tensors.at("i64");
  CHECK(i64.dtype() == DType::I64);
  CHECK(i64.shape() == Shape{2, 2});
  CHECK(i64.data_as<int64_t>()[0] == -(int64_t{1} << 62));
  CHECK(i64.data_as<int64_t>()[1] == 1);
  CHECK(i64.data_as<int64_t>()[2] == (int64_t{1} << 40) + 7);
  CHECK(i64.data_as<int64_t>()[3] == -3);

  const Tensor& mask = f.tensors.at("mask");
  CHECK(mask.dtype() == DType::Bool);
  const uint8_t mask_expected[] = {1, 0, 0, 1};
  for (int i = 0; i < 4; ++i) CHECK(mask.data_as<uint8_t>()[i] == mask_expected[i]);

  const Tensor& i8 = f.tensors.at("i8");
  CHECK(i8.dtype() == DType::I8);
  CHECK(i8.data_as<int8_t>()[0] == -128);
  CHECK(i8.data_as<int8_t>()[2] == 127);

  const Tensor& u8 = f.tensors.at("u8");
  CHECK(u8.dtype() == DType::U8);
  CHECK(u8.data_as<uint8_t>()[1] == 255);

  const Tensor& scalar = f.tensors.at("scalar");
  CHECK(scalar.shape().empty());
  CHECK(scalar.numel() == 1);
  CHECK(scalar.element_as_double(0) == 42.0);

  const Tensor& empty = f.tensors.at("empty");
  CHECK(empty.dtype() == DType::I64);
  CHECK(empty.shape() == Shape{0, 3});
  CHECK(empty.numel() == 0);
}

TEST_CASE("data at an unaligned file offset is read correctly") {
  const fs::path path = fs::path(EXPORTERS_TEST_IO_GENERATED) / "unaligned.safetensors";
  const auto t = io::read_safetensors(path);
  const Tensor& a = t.at("a_f32");
  CHECK(reinterpret_cast<uintptr_t>(a.data()) % alignof(float) == 0);
  CHECK(a.data_as<float>()[0] == 1.5f);
  CHECK(a.data_as<float>()[1] == 2.5f);
  CHECK(a.data_as<float>()[2] == -3.5f);
  const Tensor& b = t.at("b_i64");
  CHECK(reinterpret_cast<uintptr_t>(b.data()) % alignof(int64_t) == 0);
  CHECK(b.data_as<int64_t>()[0] == 123456789012LL);
  CHECK(b.data_as<int64_t>()[1] == -5);
  const Tensor& c = t.at("c_f16");
  CHECK(c.element_as_double(0) == 0.5);
  CHECK(c.element_as_double(1) == -1024.0);
}

// Suite "shared": run as the meson test io_shared, which skips without ../shared.
TEST_CASE("the bert_qa fixture's reference files match its fixture.json" * doctest::test_suite("shared")) {
  exporters::testing::require_hf_fixtures();
  const fs::path dir = exporters::testing::hf_fixtures_dir() / "bert_qa";
  const auto fixture = io::read_json_object_file(dir / "fixture.json");
  for (const char* file : {"reference.safetensors", "reference2.safetensors"}) {
    CAPTURE(file);
    const io::SafetensorsFile f = io::read_safetensors_file(dir / file);
    CHECK(f.metadata.at("format") == "pt");
    size_t expected_entries = 0;
    for (const char* kind : {"inputs", "outputs"}) {
      for (const auto& spec : fixture[kind]) {
        const std::string key =
            std::string(kind[0] == 'i' ? "input." : "output.") + spec["name"].get<std::string>();
        CAPTURE(key);
        REQUIRE(f.tensors.count(key) == 1);
        const Tensor& t = f.tensors.at(key);
        CHECK(t.dtype() == exporters::testing::dtype_from_torch_name(spec["dtype"].get<std::string>()));
        CHECK(t.shape() == spec["shape"].get<Shape>());
        CHECK(t.borrowed());
        ++expected_entries;
      }
    }
    CHECK(f.tensors.size() == expected_entries);
    // Token ids are small non-negative integers, masks 0/1: a sanity check
    // that the bytes are interpreted as little-endian int64.
    const Tensor& mask = f.tensors.at("input.attention_mask");
    for (int64_t i = 0; i < mask.numel(); ++i) {
      const int64_t m = mask.element_as_int(i);
      CHECK((m == 0 || m == 1));
    }
    CHECK(mask.element_as_int(0) == 1);
    const Tensor& ids = f.tensors.at("input.input_ids");
    for (int64_t i = 0; i < ids.numel(); ++i) {
      CHECK(ids.element_as_int(i) >= 0);
      CHECK(ids.element_as_int(i) < 1000);
    }
    for (const char* out : {"output.start_logits", "output.end_logits"})
      for (int64_t i = 0; i < 16; ++i) CHECK(std::isfinite(f.tensors.at(out).element_as_double(i)));
  }
}

TEST_CASE("rewriting a fixture file reproduces its data section byte for byte" * doctest::test_suite("shared")) {
  // The fixtures were written by the Python safetensors library, which also
  // stores tensors in sorted name order: the data sections must be identical.
  exporters::testing::require_hf_fixtures();
  const fs::path src = exporters::testing::hf_fixtures_dir() / "bert_qa" / "reference.safetensors";
  TempDir dir;
  const fs::path dst = dir / "copy.safetensors";
  io::write_safetensors(dst, io::read_safetensors(src));  // writes borrowed tensors
  auto data_section = [](const std::vector<uint8_t>& raw) {
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | raw[i];
    return std::vector<uint8_t>(raw.begin() + 8 + static_cast<long>(n), raw.end());
  };
  const auto a = data_section(read_bytes(src));
  const auto b = data_section(read_bytes(dst));
  CHECK(a.size() == 3 * 16 * 8 + 2 * 16 * 4);  // three i64 [1,16] inputs, two f32 [1,16] outputs
  CHECK(a == b);
}

TEST_CASE("malformed files give a clear error naming the file and the problem") {
  TempDir dir;
  const std::string ok_entry = R"("x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})";

  SUBCASE("empty file") { expect_read_error(dir, {}, {"truncated", "0 bytes"}); }
  SUBCASE("shorter than the length field") {
    expect_read_error(dir, {1, 0, 0}, {"truncated", "3 bytes"});
  }
  SUBCASE("header length past the end of the file") {
    expect_read_error(dir, raw_file("{" + ok_entry + "}", 8, 4096),
                      {"header length 4096", "past the end"});
  }
  SUBCASE("header length near 2^64 does not overflow") {
    expect_read_error(dir, raw_file("{}", 0, UINT64_MAX), {"past the end"});
  }
  SUBCASE("header is not JSON") {
    expect_read_error(dir, raw_file("{\"x\": {\"dtype\": ", 8), {"not valid JSON"});
  }
  SUBCASE("header is JSON but not an object") {
    expect_read_error(dir, raw_file("[1, 2]", 0), {"expected an object"});
  }
  SUBCASE("entry without dtype") {
    expect_read_error(dir, raw_file(R"({"x": {"shape": [2], "data_offsets": [0, 8]}})", 8),
                      {"'x'", "no 'dtype'"});
  }
  SUBCASE("entry without shape") {
    expect_read_error(dir, raw_file(R"({"x": {"dtype": "F32", "data_offsets": [0, 8]}})", 8),
                      {"'x'", "no 'shape'"});
  }
  SUBCASE("entry without data_offsets") {
    expect_read_error(dir, raw_file(R"({"x": {"dtype": "F32", "shape": [2]}})", 8),
                      {"'x'", "no 'data_offsets'"});
  }
  SUBCASE("negative dimension") {
    expect_read_error(dir,
                      raw_file(R"({"x": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", 8),
                      {"'x'", "non-negative"});
  }
  SUBCASE("offsets out of range") {
    expect_read_error(dir, raw_file(R"({"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 8),
                      {"'x'", "out of range", "holds 8 bytes"});
  }
  SUBCASE("data section cut short") {
    expect_read_error(dir, raw_file("{" + ok_entry + "}", 5), {"'x'", "out of range"});
  }
  SUBCASE("begin after end") {
    expect_read_error(dir, raw_file(R"({"x": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}})", 8),
                      {"'x'", "begin after end"});
  }
  SUBCASE("unknown dtype names the dtype and the tensor") {
    expect_read_error(dir,
                      raw_file(R"({"w": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 8]}})", 8),
                      {"'w'", "BF16", "not supported"});
  }
  SUBCASE("size mismatch between shape and offsets") {
    expect_read_error(dir,
                      raw_file(R"({"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8),
                      {"'x'", "size mismatch", "12 bytes", "span 8 bytes"});
  }
  SUBCASE("overlapping tensors") {
    expect_read_error(dir,
                      raw_file(R"({"a": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]},
                                   "b": {"dtype": "I32", "shape": [2], "data_offsets": [4, 12]}})",
                               12),
                      {"'a'", "'b'", "overlap"});
  }
  SUBCASE("shape whose size overflows") {
    expect_read_error(
        dir,
        raw_file(R"({"x": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}})", 8),
        {"'x'", "overflow"});
  }
  SUBCASE("metadata that is not a string map") {
    expect_read_error(dir, raw_file(R"({"__metadata__": {"format": 1}})", 0),
                      {"__metadata__", "format", "expected a string"});
  }
  SUBCASE("missing file") {
    const fs::path path = dir / "absent.safetensors";
    CHECK_THROWS_WITH_AS(io::read_safetensors(path), doctest::Contains(path.string().c_str()),
                         std::runtime_error);
  }
}

// Found by fuzzing: a header whose shape was nested 200000 arrays deep
// overflowed the stack while the error message printed it.
TEST_CASE("a header nested deeper than JSON configs ever are is one error naming the file") {
  TempDir dir;
  const std::string deep(200000, '[');
  const std::string header = R"({"x": {"dtype": "F32", "shape": )" + deep + std::string(200000, ']') +
                             R"(, "data_offsets": [0, 0]}})";
  expect_read_error(dir, raw_file(header, 0), {"the header is not valid JSON", "nesting deeper than 256 levels"});
  // 200 levels are still JSON this reader parses (and then rejects as a shape).
  const std::string ok = R"({"x": {"dtype": "F32", "shape": )" + std::string(200, '[') + std::string(200, ']') +
                         R"(, "data_offsets": [0, 0]}})";
  expect_read_error(dir, raw_file(ok, 0), {"tensor 'x' has shape"});
}
