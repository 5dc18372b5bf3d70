// Core ML backend tests. Expectations come from the format facts (field
// numbers, blob layout) and from running the original IR in the reference
// interpreter, never from the writer itself.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/backends/coreml/blob_storage.hpp"
#include "core/backends/coreml/coreml.hpp"
#include "core/runtime/interpreter.hpp"
#include "exporters/ir/ops.hpp"
#include "tests/fixtures_lib/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace exporters;
using ir::DType;
using ir::Tensor;

// mil_lowering.hpp pulls in generated protobuf headers, so only the table
// query is declared here.
namespace exporters::coreml {
struct MilLoweringRow;
const MilLoweringRow* find_mil_lowering(std::string_view ir_op);
}  // namespace exporters::coreml

namespace {

using TempDir = exporters::testing::TempDir;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// ── a minimal protobuf wire decoder (independent of the generated code) ──
struct Field {
  uint32_t number = 0;
  int wire = 0;
  uint64_t varint = 0;
  std::string bytes;  // length-delimited payload or fixed bytes
};

uint64_t read_varint(std::string_view s, size_t& pos) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    REQUIRE(pos < s.size());
    const uint8_t b = static_cast<uint8_t>(s[pos++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  FAIL("varint too long");
  return 0;
}

std::vector<Field> decode(std::string_view s) {
  std::vector<Field> out;
  size_t pos = 0;
  while (pos < s.size()) {
    const uint64_t key = read_varint(s, pos);
    Field f;
    f.number = static_cast<uint32_t>(key >> 3);
    f.wire = static_cast<int>(key & 7);
    if (f.wire == 0) {
      f.varint = read_varint(s, pos);
    } else if (f.wire == 2) {
      const uint64_t len = read_varint(s, pos);
      REQUIRE(pos + len <= s.size());
      f.bytes = std::string(s.substr(pos, len));
      pos += len;
    } else if (f.wire == 5 || f.wire == 1) {
      const size_t n = f.wire == 5 ? 4 : 8;
      REQUIRE(pos + n <= s.size());
      f.bytes = std::string(s.substr(pos, n));
      pos += n;
    } else {
      FAIL("unexpected wire type " << f.wire);
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Field> all(const std::vector<Field>& msg, uint32_t number) {
  std::vector<Field> r;
  for (const auto& f : msg)
    if (f.number == number) r.push_back(f);
  return r;
}

Field one(const std::vector<Field>& msg, uint32_t number) {
  auto r = all(msg, number);
  REQUIRE_MESSAGE(r.size() == 1, "field " << number << " occurs " << r.size() << " times");
  return r[0];
}

std::vector<Field> sub(const std::vector<Field>& msg, uint32_t number) {
  Field f = one(msg, number);
  REQUIRE(f.wire == 2);
  return decode(f.bytes);
}

std::vector<int64_t> packed_varints(const Field& f) {
  std::vector<int64_t> v;
  size_t pos = 0;
  while (pos < f.bytes.size()) v.push_back(static_cast<int64_t>(read_varint(f.bytes, pos)));
  return v;
}

// Map<string, V> entries: key field 1, value field 2.
std::map<std::string, std::vector<Field>> map_entries(const std::vector<Field>& msg, uint32_t number) {
  std::map<std::string, std::vector<Field>> m;
  for (const auto& e : all(msg, number)) {
    auto kv = decode(e.bytes);
    m[one(kv, 1).bytes] = all(kv, 2).empty() ? std::vector<Field>{} : decode(one(kv, 2).bytes);
  }
  return m;
}

std::string string_value(const std::vector<Field>& value) {
  // Value{2: type, 3: ImmediateValue{1: TensorValue{4: RepeatedStrings{1: s}}}}
  return one(sub(sub(sub(value, 3), 1), 4), 1).bytes;
}

Tensor random_tensor(DType dtype, ir::Shape shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  const int64_t n = ir::shape_numel(shape);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  Tensor t = Tensor::from_f32(shape, v);
  return dtype == DType::F32 ? t : t.cast(dtype);
}

Tensor ids_tensor(ir::Shape shape, const std::vector<int64_t>& ids) { return Tensor::from_i64(shape, ids); }

double max_abs(const Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::fabs(t.element_as_double(i)));
  return m;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(a.element_as_double(i) - b.element_as_double(i)));
  return m;
}

// Inputs of the read-back graph: Core ML has no int64, so ids arrive as int32.
std::vector<Tensor> inputs_for(const ir::Graph& g, const std::vector<Tensor>& original) {
  std::vector<Tensor> out;
  for (size_t i = 0; i < original.size(); ++i) {
    const DType want = g.inputs().at(i)->type.dtype;
    out.push_back(original[i].dtype() == want ? original[i] : original[i].cast(want));
  }
  return out;
}

const fs::path kModel = fs::path("Data") / "com.apple.CoreML" / "model.mlmodel";
const fs::path kWeights = fs::path("Data") / "com.apple.CoreML" / "weights" / "weight.bin";

// x f32[1x3] -> relu(linear(x, w[2x3], b[2])) "y"
ir::Graph tiny_graph() {
  ir::Graph g;
  ir::Value* x = g.add_input("x", {DType::F32, {1, 3}});
  ir::Value* w = g.constant(Tensor::from_f32({2, 3}, {1, 2, 3, 4, 5, 6}));
  ir::Value* b = g.constant(Tensor::from_f32({2}, {0.5f, -0.5f}));
  ir::Value* y = g.add1("relu", {g.add1("linear", {x, w, b})});
  g.add_output(y, "y");
  return g;
}

}  // namespace

TEST_CASE("every canonical IR op has a Core ML lowering row") {
  for (const std::string& op : ir::op_names()) {
    if (op == "constant") continue;  // emitted as MIL const on first use
    CHECK_MESSAGE(coreml::find_mil_lowering(op) != nullptr, "no lowering for " << op);
  }
}

TEST_CASE("targets map to specification versions and opsets") {
  CHECK(coreml::specification_version(*coreml::parse_target("iOS15")) == 6);
  CHECK(coreml::specification_version(*coreml::parse_target("iOS18")) == 9);
  CHECK(coreml::opset_name(coreml::Target::iOS16) == "CoreML6");
  CHECK(coreml::opset_name(coreml::Target::iOS17) == "CoreML7");
  CHECK_FALSE(coreml::parse_target("iOS14"));
}

TEST_CASE("model.mlmodel encodes Model / ModelDescription / MIL Program with the spec's field numbers") {
  TempDir dir;
  coreml::CoreMLOptions opt;
  opt.metadata.author = "Ada";
  opt.metadata.license = "MIT";
  opt.metadata.user_defined["k"] = "v";
  opt.input_descriptions["x"] = "the input";
  const fs::path out = dir.path / "Tiny.mlpackage";
  coreml::write_mlpackage(tiny_graph(), opt, out);

  const auto model = decode(slurp(out / kModel));
  CHECK(one(model, 1).varint == 6);  // specificationVersion (iOS15)

  const auto desc = sub(model, 2);
  const auto in = sub(desc, 1);
  CHECK(one(in, 1).bytes == "x");
  CHECK(one(in, 2).bytes == "the input");
  const auto in_array = sub(sub(in, 3), 5);  // FeatureType.multiArrayType
  CHECK(packed_varints(one(in_array, 1)) == std::vector<int64_t>{1, 3});
  CHECK(one(in_array, 2).varint == 65568);  // FLOAT32
  const auto out_desc = sub(desc, 10);
  CHECK(one(out_desc, 1).bytes == "y");
  CHECK(packed_varints(one(sub(sub(out_desc, 3), 5), 1)) == std::vector<int64_t>{1, 2});
  const auto meta = sub(desc, 100);
  CHECK(one(meta, 3).bytes == "Ada");
  CHECK(one(meta, 4).bytes == "MIT");
  auto ud = decode(one(meta, 100).bytes);
  CHECK(one(ud, 1).bytes == "k");
  CHECK(one(ud, 2).bytes == "v");

  const auto program = sub(model, 502);
  CHECK(one(program, 1).varint == 1);  // Program.version
  auto functions = map_entries(program, 2);
  REQUIRE(functions.count("main"));
  const auto& main = functions["main"];
  CHECK(one(main, 2).bytes == "CoreML5");
  const auto fn_in = sub(main, 1);  // NamedValueType
  CHECK(one(fn_in, 1).bytes == "x");
  const auto tensor_type = sub(sub(fn_in, 2), 1);
  CHECK(one(tensor_type, 1).varint == 11);  // FLOAT32
  CHECK(one(tensor_type, 2).varint == 2);   // rank
  auto dims = all(tensor_type, 3);
  REQUIRE(dims.size() == 2);
  CHECK(one(sub(decode(dims[1].bytes), 1), 1).varint == 3);  // Dimension.constant.size

  auto blocks = map_entries(main, 3);
  REQUIRE(blocks.count("CoreML5"));
  const auto& block = blocks["CoreML5"];
  CHECK(one(block, 2).bytes == "y");  // Block.outputs
  std::vector<std::string> types;
  std::map<std::string, std::vector<Field>> ops;
  for (const auto& f : all(block, 3)) {
    auto op = decode(f.bytes);
    types.push_back(one(op, 1).bytes);
    ops[one(sub(op, 3), 1).bytes] = op;  // by first output name
  }
  CHECK(types == std::vector<std::string>{"const", "const", "linear", "relu"});

  // The linear op references its operands by name; weights are immediate
  // (6 < 10 elements) fp32 values.
  std::vector<Field> linear;
  for (const auto& [name, op] : ops)
    if (one(op, 1).bytes == "linear") linear = op;
  auto args = map_entries(linear, 2);
  REQUIRE(args.count("x"));
  REQUIRE(args.count("weight"));
  REQUIRE(args.count("bias"));
  CHECK(one(sub(args["x"], 1), 1).bytes == "x");  // Argument.arguments[0].name
  const std::string weight_name = one(sub(args["weight"], 1), 1).bytes;
  REQUIRE(ops.count(weight_name));
  auto attrs = map_entries(ops[weight_name], 5);
  REQUIRE(attrs.count("val"));
  CHECK(string_value(attrs["name"]) == weight_name);
  const auto floats = one(sub(sub(sub(attrs["val"], 3), 1), 1), 1);  // Value.immediate.tensor.floats.values
  REQUIRE(floats.bytes.size() == 6 * 4);
  float w[6];
  std::memcpy(w, floats.bytes.data(), sizeof w);
  CHECK(w[0] == 1.0f);
  CHECK(w[5] == 6.0f);
  // The relu op produces the block output directly.
  REQUIRE(ops.count("y"));
  CHECK(one(ops["y"], 1).bytes == "relu");
  CHECK(string_value(map_entries(ops["y"], 5)["name"]) == "y");
}

TEST_CASE("Manifest.json names the model and weights items and the root model") {
  TempDir dir;
  const fs::path out = dir.path / "Tiny.mlpackage";
  coreml::write_mlpackage(tiny_graph(), {}, out);
  const std::string m = slurp(out / "Manifest.json");
  CHECK(m.find("\"fileFormatVersion\": \"1.0.0\"") != std::string::npos);
  CHECK(m.find("\"path\": \"com.apple.CoreML/model.mlmodel\"") != std::string::npos);
  CHECK(m.find("\"path\": \"com.apple.CoreML/weights\"") != std::string::npos);
  CHECK(m.find("\"rootModelIdentifier\"") != std::string::npos);
  CHECK(fs::is_regular_file(out / kWeights));
}

namespace {

uint32_t u32(const std::string& s, size_t off) {
  uint32_t v;
  std::memcpy(&v, s.data() + off, 4);
  return v;
}
uint64_t u64(const std::string& s, size_t off) {
  uint64_t v;
  std::memcpy(&v, s.data() + off, 8);
  return v;
}

ir::Graph two_weight_graph(const Tensor& a, const Tensor& b) {
  ir::Graph g;
  ir::Value* x = g.add_input("x", {DType::F32, {3, 5}});
  ir::Value* y = g.add1("matmul", {x, g.constant(a)});           // [3x5] @ [5x4]
  ir::Value* z = g.add1("matmul", {y, g.constant(b)});           // [3x4] @ [4x3]
  g.add_output(z, "z");
  return g;
}

}  // namespace

TEST_CASE("weight.bin: 64-byte header, 64-byte metadata with sentinel, 64-aligned data, offsets at the metadata") {
  TempDir dir;
  const Tensor a = random_tensor(DType::F32, {5, 4}, 1);  // 20 floats = 80 bytes
  const Tensor b = random_tensor(DType::F32, {4, 3}, 2);  // 12 floats = 48 bytes
  const fs::path out = dir.path / "W.mlpackage";
  coreml::write_mlpackage(two_weight_graph(a, b), {}, out);
  const std::string w = slurp(out / kWeights);

  REQUIRE(w.size() == 64 + 64 + 80 + 48 /*pad to 256*/ + 64 + 48);
  CHECK(u32(w, 0) == 2);  // blob count
  CHECK(u32(w, 4) == 2);  // format version
  for (size_t i = 8; i < 64; ++i) CHECK(w[i] == 0);
  // first blob: metadata at 64, data at 128
  CHECK(u32(w, 64) == 0xDEADBEEFu);
  CHECK(u32(w, 68) == 2);     // fp32
  CHECK(u64(w, 72) == 80);    // size in bytes
  CHECK(u64(w, 80) == 128);   // data offset
  CHECK(u64(w, 88) == 0);     // padding bits
  CHECK(std::memcmp(w.data() + 128, a.data(), 80) == 0);
  for (size_t i = 208; i < 256; ++i) CHECK(w[i] == 0);  // alignment padding
  // second blob: metadata at 256, data at 320, no padding after the last blob
  CHECK(u32(w, 256) == 0xDEADBEEFu);
  CHECK(u64(w, 264) == 48);
  CHECK(u64(w, 272) == 320);
  CHECK(std::memcmp(w.data() + 320, b.data(), 48) == 0);

  // The program points at the metadata records.
  const std::string model = slurp(out / kModel);
  std::vector<uint64_t> offsets;
  for (const auto& f : all(decode(model), 502)) {
    auto fn = map_entries(decode(f.bytes), 2)["main"];
    for (const auto& op_field : all(map_entries(fn, 3)["CoreML5"], 3)) {
      auto op = decode(op_field.bytes);
      if (one(op, 1).bytes != "const") continue;
      auto val = map_entries(op, 5)["val"];
      auto blob = all(val, 5);  // Value.blobFileValue
      if (blob.empty()) continue;
      auto bf = decode(blob[0].bytes);
      CHECK(one(bf, 1).bytes == "@model_path/weights/weight.bin");
      offsets.push_back(one(bf, 2).varint);
    }
  }
  CHECK(offsets == std::vector<uint64_t>{64, 256});
}

TEST_CASE("float16 precision stores fp16 blobs, clamps to the fp16 range and casts at the boundary") {
  TempDir dir;
  std::vector<float> av(20, 0.25f);
  av[3] = -3.4028235e38f;  // torch.finfo(float32).min style mask value
  const Tensor a = Tensor::from_f32({5, 4}, av);
  const Tensor b = random_tensor(DType::F32, {4, 3}, 2);
  coreml::CoreMLOptions opt;
  opt.precision = coreml::Precision::Float16;
  const fs::path out = dir.path / "H.mlpackage";
  coreml::write_mlpackage(two_weight_graph(a, b), opt, out);
  const std::string w = slurp(out / kWeights);
  CHECK(u32(w, 68) == 1);   // fp16
  CHECK(u64(w, 72) == 40);  // 20 halves
  uint16_t h[20];
  std::memcpy(h, w.data() + 128, sizeof h);
  CHECK(h[0] == ir::float_to_half(0.25f));
  CHECK(h[3] == 0xFBFF);  // -65504, not -inf

  const auto summary = coreml::summarize_mlpackage(out);
  CHECK(summary.inputs.at(0).type == "MultiArray FLOAT32 [3, 5]");
  CHECK(summary.outputs.at(0).type == "MultiArray FLOAT32 [3, 3]");
  CHECK(summary.op_histogram.at("cast") == 2);
  CHECK(summary.blob_count == 2);
  CHECK(summary.blob_data_bytes == 40 + 24);
}

namespace {

// A transformer-style graph: ids -> embedding -> norms, attention-like
// matmuls, masks, activations, slicing, reductions.
ir::Graph text_graph() {
  ir::Graph g;
  ir::Value* ids = g.add_input("input_ids", {DType::I64, {1, 6}});
  ir::Value* mask = g.add_input("attention_mask", {DType::I64, {1, 6}});
  ir::Value* table = g.constant(random_tensor(DType::F32, {16, 8}, 10));
  ir::Value* h = g.add1("gather", {table, ids}, {{"axis", int64_t{0}}});                       // 1x6x8
  h = g.add1("layer_norm", {h, g.constant(random_tensor(DType::F32, {8}, 11, 0.5f, 1.5f)),
                            g.constant(random_tensor(DType::F32, {8}, 12))},
             {{"axes", std::vector<int64_t>{2}}, {"epsilon", 1e-5}});
  ir::Value* q = g.add1("linear", {h, g.constant(random_tensor(DType::F32, {8, 8}, 13)),
                                   g.constant(random_tensor(DType::F32, {8}, 14))});
  ir::Value* k = g.add1("linear", {h, g.constant(random_tensor(DType::F32, {8, 8}, 15))});
  ir::Value* kt = g.add1("transpose", {k}, {{"perm", std::vector<int64_t>{0, 2, 1}}});
  ir::Value* s = g.add1("matmul", {q, kt});                                                     // 1x6x6
  s = g.add1("mul", {s, g.constant(Tensor::scalar_f32(0.35f))});
  // mask: (1 - mask) * finfo.min, broadcast over rows
  ir::Value* mf = g.add1("cast", {mask}, {{"dtype", std::string("f32")}});
  ir::Value* inv = g.add1("sub", {g.constant(Tensor::scalar_f32(1.0f)), mf});
  ir::Value* bias = g.add1("mul", {inv, g.constant(Tensor::scalar_f32(-3.4028235e38f))});
  bias = g.add1("reshape", {bias}, {{"shape", std::vector<int64_t>{1, 1, 6}}});
  s = g.add1("add", {s, bias});
  ir::Value* p = g.add1("softmax", {s}, {{"axis", int64_t{2}}});
  ir::Value* ctx = g.add1("matmul", {p, h});                                                    // 1x6x8
  ctx = g.add1("gelu", {ctx}, {{"approximate", std::string("none")}});
  ir::Value* t = g.add1("gelu", {ctx}, {{"approximate", std::string("tanh")}});
  t = g.add1("add", {t, g.add1("tanh", {ctx})});
  t = g.add1("mul", {t, g.add1("sigmoid", {ctx})});
  t = g.add1("sub", {t, g.add1("erf", {ctx})});
  ir::Value* sq = g.add1("sqrt", {g.add1("add", {g.add1("abs", {t}), g.constant(Tensor::scalar_f32(1.0f))})});
  t = g.add1("div", {t, sq});
  t = g.add1("add", {t, g.add1("rsqrt", {sq})});
  t = g.add1("silu", {t});
  t = g.add1("clamp", {t}, {{"min", -2.0}, {"max", 2.0}});
  t = g.add1("clamp", {t}, {{"min", -1.5}});
  ir::Value* first = g.add1("slice", {t}, {{"axes", std::vector<int64_t>{1}}, {"starts", std::vector<int64_t>{0}},
                                            {"ends", std::vector<int64_t>{1}}, {"steps", std::vector<int64_t>{1}}});
  ir::Value* every2 = g.add1("slice", {t}, {{"axes", std::vector<int64_t>{1, 2}}, {"starts", std::vector<int64_t>{1, 0}},
                                             {"ends", std::vector<int64_t>{6, 8}}, {"steps", std::vector<int64_t>{2, 3}}});
  ir::Value* pooled = g.add1("reduce_mean", {t}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{1}}});
  ir::Value* cat = g.add1("concat", {first, pooled, g.add1("neg", {first})}, {{"axis", int64_t{1}}});  // 1x3x8
  ir::Value* logits = g.add1("linear", {cat, g.constant(random_tensor(DType::F32, {4, 8}, 16)),
                                        g.constant(random_tensor(DType::F32, {4}, 17))});
  ir::Value* logp = g.add1("log_softmax", {logits}, {{"axis", int64_t{2}}});
  ir::Value* arg = g.add1("argmax", {logits}, {{"axis", int64_t{2}}, {"keepdims", int64_t{0}}});
  ir::Value* neg_mask = g.add1("less", {logits, g.constant(Tensor::scalar_f32(0.0f))});
  ir::Value* sel = g.add1("where", {neg_mask, g.add1("exp", {logits}), logits});
  ir::Value* red = g.add1("reduce_max", {sel}, {{"axes", std::vector<int64_t>{}}, {"keepdims", int64_t{0}}});
  ir::Value* cs = g.add1("cumsum", {every2}, {{"axis", int64_t{2}}, {"exclusive", int64_t{1}}, {"reverse", int64_t{0}}});
  // int path: positions from the mask, floor_div / mod / integer div
  ir::Value* pos = g.add1("cumsum", {mask}, {{"axis", int64_t{1}}, {"exclusive", int64_t{0}}, {"reverse", int64_t{0}}});
  ir::Value* three = g.constant(Tensor::scalar_i64(3));
  ir::Value* ints = g.add1("add", {g.add1("floor_div", {pos, three}), g.add1("mod", {pos, three})});
  ints = g.add1("add", {ints, g.add1("div", {g.add1("neg", {pos}), g.constant(Tensor::scalar_i64(4))})});
  g.add_output(logp, "log_probs");
  g.add_output(arg, "label");
  g.add_output(red, "max_value");
  g.add_output(cs, "cumsum");
  g.add_output(ints, "int_math");
  g.add_output(every2, "every2");
  return g;
}

// A vision-style graph: convs, norms, pools, resizes, pads.
ir::Graph vision_graph() {
  ir::Graph g;
  ir::Value* x = g.add_input("pixel_values", {DType::F32, {1, 3, 8, 8}});
  ir::Value* c = g.add1("conv", {x, g.constant(random_tensor(DType::F32, {8, 3, 3, 3}, 20)),
                                 g.constant(random_tensor(DType::F32, {8}, 21))},
                        {{"strides", std::vector<int64_t>{1, 1}}, {"dilations", std::vector<int64_t>{1, 1}},
                         {"pads", std::vector<int64_t>{1, 0, 1, 2}}, {"groups", int64_t{1}}});        // 1x8x8x9
  c = g.add1("batch_norm", {c, g.constant(random_tensor(DType::F32, {8}, 22)),
                            g.constant(random_tensor(DType::F32, {8}, 23, 0.5f, 2.0f)),
                            g.constant(random_tensor(DType::F32, {8}, 24)), g.constant(random_tensor(DType::F32, {8}, 25))},
             {{"epsilon", 1e-5}});
  c = g.add1("relu", {c});
  ir::Value* dw = g.add1("conv", {c, g.constant(random_tensor(DType::F32, {8, 2, 3, 3}, 26))},
                         {{"strides", std::vector<int64_t>{2, 2}}, {"dilations", std::vector<int64_t>{1, 1}},
                          {"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"groups", int64_t{4}}});      // 1x8x4x5
  dw = g.add1("group_norm", {dw, g.constant(random_tensor(DType::F32, {8}, 27, 0.5f, 1.5f)),
                             g.constant(random_tensor(DType::F32, {8}, 28))},
              {{"groups", int64_t{2}}, {"epsilon", 1e-5}});
  dw = g.add1("hardswish", {dw});
  ir::Value* mp = g.add1("max_pool", {c}, {{"kernel", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}},
                                           {"pads", std::vector<int64_t>{0, 0, 0, 1}}, {"ceil_mode", int64_t{0}}});   // 1x8x4x5
  ir::Value* ap = g.add1("avg_pool", {c}, {{"kernel", std::vector<int64_t>{3, 3}}, {"strides", std::vector<int64_t>{2, 2}},
                                           {"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"ceil_mode", int64_t{0}},
                                           {"count_include_pad", int64_t{0}}});                                        // 1x8x4x5
  ir::Value* s = g.add1("add", {g.add1("add", {mp, ap}), dw});
  s = g.add1("hardsigmoid", {g.add1("leaky_relu", {s}, {{"alpha", 0.1}})});
  ir::Value* up = g.add1("resize", {s}, {{"mode", std::string("linear")}, {"sizes", std::vector<int64_t>{8, 10}},
                                         {"align_corners", int64_t{0}}});
  ir::Value* upn = g.add1("resize", {s}, {{"mode", std::string("nearest")}, {"sizes", std::vector<int64_t>{8, 10}}});
  ir::Value* upa = g.add1("resize", {s}, {{"mode", std::string("linear")}, {"sizes", std::vector<int64_t>{7, 9}},
                                          {"align_corners", int64_t{1}}});
  ir::Value* padded = g.add1("pad", {upa}, {{"pads", std::vector<int64_t>{0, 0, 1, 0, 0, 0, 0, 1}},
                                            {"mode", std::string("constant")}, {"value", 0.5}});                       // 1x8x8x10
  ir::Value* refl = g.add1("pad", {upa}, {{"pads", std::vector<int64_t>{0, 0, 0, 1, 0, 0, 1, 0}},
                                          {"mode", std::string("reflect")}, {"value", 0.0}});                          // 1x8x8x10
  ir::Value* sum = g.add1("add", {g.add1("add", {up, upn}), g.add1("sub", {padded, refl})});
  sum = g.add1("elu", {sum}, {{"alpha", 1.0}});
  sum = g.add1("softplus", {sum}, {{"beta", 2.0}, {"threshold", 1.0}});
  ir::Value* gp = g.add1("adaptive_avg_pool", {sum}, {{"sizes", std::vector<int64_t>{1, 1}}});
  ir::Value* ap2 = g.add1("adaptive_max_pool", {sum}, {{"sizes", std::vector<int64_t>{4, 5}}});
  ir::Value* flat = g.add1("reshape", {gp}, {{"shape", std::vector<int64_t>{1, 8}}});
  ir::Value* rev = g.add1("flip", {flat}, {{"axes", std::vector<int64_t>{1}}});
  ir::Value* ex = g.add1("expand", {g.add1("reshape", {rev}, {{"shape", std::vector<int64_t>{8, 1}}})},
                         {{"shape", std::vector<int64_t>{2, 8, 3}}});
  ir::Value* tl = g.add1("tile", {flat}, {{"repeats", std::vector<int64_t>{2, 1}}});
  ir::Value* ct = g.add1("conv_transpose", {ap2, g.constant(random_tensor(DType::F32, {8, 4, 2, 2}, 29)),
                                            g.constant(random_tensor(DType::F32, {4}, 30))},
                         {{"strides", std::vector<int64_t>{2, 2}}, {"dilations", std::vector<int64_t>{1, 1}},
                          {"pads", std::vector<int64_t>{0, 0, 0, 0}}, {"output_padding", std::vector<int64_t>{1, 0}},
                          {"groups", int64_t{1}}});
  g.add_output(ex, "expanded");
  g.add_output(tl, "tiled");
  g.add_output(ct, "deconv");
  g.add_output(sum, "features");
  return g;
}

// The remaining ops and lowering paths: non-constant weights, rank-2
// batch norm, 1-D conv and resize, negative gather indices, integer and
// bool arithmetic, bool outputs.
ir::Graph misc_graph() {
  ir::Graph g;
  ir::Value* x = g.add_input("x", {DType::F32, {2, 4, 6}});
  ir::Value* idx = g.add_input("idx", {DType::I64, {3}});
  ir::Value* w = g.add_input("w", {DType::F32, {5, 6}});
  ir::Value* pos = g.add1("add", {g.add1("abs", {x}), g.constant(Tensor::scalar_f32(0.5f))});
  ir::Value* a = g.add1("add", {g.add1("sin", {x}), g.add1("cos", {x})});
  a = g.add1("add", {a, g.add1("log", {pos})});
  a = g.add1("add", {a, g.add1("reciprocal", {pos})});
  a = g.add1("add", {a, g.add1("pow", {pos, g.constant(Tensor::scalar_f32(1.5f))})});
  ir::Value* x3 = g.add1("mul", {x, g.constant(Tensor::scalar_f32(3.0f))});
  a = g.add1("add", {a, g.add1("floor", {x3})});
  a = g.add1("add", {a, g.add1("ceil", {x3})});
  a = g.add1("add", {a, g.add1("round", {x3})});
  a = g.add1("add", {a, g.add1("sign", {x})});
  a = g.add1("maximum", {a, g.add1("minimum", {x, g.constant(Tensor::scalar_f32(0.1f))})});
  a = g.add1("identity", {a});
  // bool logic
  ir::Value* gt = g.add1("greater", {x, g.constant(Tensor::scalar_f32(0.0f))});
  ir::Value* ge = g.add1("greater_equal", {x, g.constant(Tensor::scalar_f32(0.3f))});
  ir::Value* le = g.add1("less_equal", {x, g.constant(Tensor::scalar_f32(-0.3f))});
  ir::Value* eq = g.add1("equal", {gt, ge});
  ir::Value* ne = g.add1("not_equal", {gt, le});
  ir::Value* lg = g.add1("logical_xor", {g.add1("logical_and", {eq, ne}), g.add1("logical_or", {le, g.add1("logical_not", {ge})})});
  a = g.add1("where", {lg, a, g.add1("neg", {a})});
  // non-constant linear weight, reductions, arg-reductions
  ir::Value* lin = g.add1("linear", {a, w});                                               // 2x4x5
  ir::Value* rs = g.add1("reduce_sum", {lin}, {{"axes", std::vector<int64_t>{2}}, {"keepdims", int64_t{0}}});
  ir::Value* rmin = g.add1("reduce_min", {lin}, {{"axes", std::vector<int64_t>{0, 2}}, {"keepdims", int64_t{1}}});
  ir::Value* rp = g.add1("reduce_prod", {g.add1("sigmoid", {lin})}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}});
  ir::Value* am = g.add1("argmin", {lin}, {{"axis", int64_t{1}}, {"keepdims", int64_t{1}}});
  // gathers with negative indices (constant and dynamic), scatter
  ir::Value* g1 = g.add1("gather", {x, g.constant(Tensor::from_i64({2}, {-1, 0}))}, {{"axis", int64_t{2}}});
  ir::Value* g2 = g.add1("gather", {x, idx}, {{"axis", int64_t{1}}});
  ir::Value* ge_idx = g.constant(Tensor::from_i64({2, 1, 6}, {0, 1, 2, 3, 0, 1, 3, 2, 1, 0, -1, -2}));
  ir::Value* ge1 = g.add1("gather_elements", {x, ge_idx}, {{"axis", int64_t{1}}});
  ir::Value* sc = g.add1("scatter_elements", {x, g.constant(Tensor::from_i64({2, 1, 6}, {0, 1, 2, 3, 0, 1, 3, 2, 1, 0, 2, 2})), ge1},
                         {{"axis", int64_t{1}}});
  // 1-D conv (non-constant bias), rank-2 batch norm, 1-D resize, plain group norm, layer norm with input gamma
  ir::Value* c1b = g.add1("conv", {x, g.constant(random_tensor(DType::F32, {5, 4, 3}, 41)), g.add1("reduce_mean", {w}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}})},
                          {{"strides", std::vector<int64_t>{1}}, {"dilations", std::vector<int64_t>{2}},
                           {"pads", std::vector<int64_t>{2, 2}}, {"groups", int64_t{1}}});                    // 2x5x6
  ir::Value* bn = g.add1("batch_norm", {rs, g.constant(random_tensor(DType::F32, {4}, 42)), g.constant(random_tensor(DType::F32, {4}, 43, 0.5f, 2.0f))},
                         {{"epsilon", 1e-3}});
  ir::Value* r1 = g.add1("resize", {c1b}, {{"mode", std::string("nearest")}, {"sizes", std::vector<int64_t>{12}}});
  ir::Value* gn = g.add1("group_norm", {c1b}, {{"groups", int64_t{5}}, {"epsilon", 1e-5}});
  ir::Value* ln = g.add1("layer_norm", {lin, g.add1("reduce_mean", {w}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}}), nullptr},
                         {{"axes", std::vector<int64_t>{2}}, {"epsilon", 1e-5}});
  ir::Value* tp = g.add1("transpose", {ln}, {{"perm", std::vector<int64_t>{2, 0, 1}}});
  ir::Value* pos_i = g.add1("cast", {g.add1("greater", {x, g.constant(Tensor::scalar_f32(0.0f))})}, {{"dtype", std::string("i64")}});
  ir::Value* mixed = g.add1("where", {gt, pos_i, g.add1("neg", {pos_i})});
  g.add_output(a, "a");
  g.add_output(rs, "rs");
  g.add_output(rmin, "rmin");
  g.add_output(rp, "rp");
  g.add_output(am, "argmin");
  g.add_output(g1, "gather_const");
  g.add_output(g2, "gather_dyn");
  g.add_output(sc, "scatter");
  g.add_output(bn, "bn");
  g.add_output(r1, "resize1d");
  g.add_output(gn, "gn");
  g.add_output(tp, "tp");
  g.add_output(mixed, "mixed");
  g.add_output(lg, "mask");
  g.add_output(a, "a_again");
  return g;
}

void check_round_trip(const ir::Graph& g, const std::vector<Tensor>& inputs, coreml::CoreMLOptions opt, double tol,
                      bool relative) {
  TempDir dir;
  const fs::path out = dir.path / "RT.mlpackage";
  coreml::write_mlpackage(g, opt, out);
  ir::Graph back = coreml::read_mlpackage(out);
  REQUIRE(back.outputs().size() == g.outputs().size());
  const auto expected = runtime::run(g, inputs);
  const auto got = runtime::run(back, inputs_for(back, inputs));
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("output " << g.output_names()[i]);
    const double scale = relative ? std::max(1.0, max_abs(expected[i])) : 1.0;
    const double err = max_abs_diff(expected[i], got[i]);
    CHECK(err <= tol * scale);
  }
}

std::vector<Tensor> text_inputs() {
  return {ids_tensor({1, 6}, {3, 15, 0, 7, 7, 2}), ids_tensor({1, 6}, {1, 1, 1, 1, 0, 0})};
}

}  // namespace

TEST_CASE("round trip IR -> mlpackage -> IR matches the interpreter, text graph, float32") {
  for (auto target : {coreml::Target::iOS15, coreml::Target::iOS17}) {
    coreml::CoreMLOptions opt;
    opt.target = target;
    check_round_trip(text_graph(), text_inputs(), opt, 1e-5, false);
  }
}

TEST_CASE("round trip IR -> mlpackage -> IR matches the interpreter, vision graph, float32") {
  check_round_trip(vision_graph(), {random_tensor(DType::F32, {1, 3, 8, 8}, 99)}, {}, 1e-5, false);
}

TEST_CASE("round trip of the remaining ops and lowering paths, float32, iOS15 and iOS17") {
  const std::vector<Tensor> in = {random_tensor(DType::F32, {2, 4, 6}, 50), ids_tensor({3}, {-1, 2, 0}),
                                  random_tensor(DType::F32, {5, 6}, 51)};
  for (auto target : {coreml::Target::iOS15, coreml::Target::iOS17}) {
    coreml::CoreMLOptions opt;
    opt.target = target;
    check_round_trip(misc_graph(), in, opt, 2e-5, true);
  }
}

TEST_CASE("round trip in float16 stays within 1e-2 of the float32 result") {
  coreml::CoreMLOptions opt;
  opt.precision = coreml::Precision::Float16;
  check_round_trip(vision_graph(), {random_tensor(DType::F32, {1, 3, 8, 8}, 99)}, opt, 1e-2, true);
  check_round_trip(text_graph(), text_inputs(), opt, 1e-2, true);
}

TEST_CASE("int64 inputs become INT32 arrays and the description mirrors main") {
  TempDir dir;
  const fs::path out = dir.path / "T.mlpackage";
  coreml::CoreMLOptions opt;
  opt.metadata.version = "1.2";
  opt.output_descriptions["label"] = "predicted class";
  coreml::write_mlpackage(text_graph(), opt, out);
  const auto s = coreml::summarize_mlpackage(out);
  CHECK(s.specification_version == 6);
  CHECK(s.opset == "CoreML5");
  REQUIRE(s.inputs.size() == 2);
  CHECK(s.inputs[0].name == "input_ids");
  CHECK(s.inputs[0].type == "MultiArray INT32 [1, 6]");
  REQUIRE(s.outputs.size() == 6);
  CHECK(s.outputs[1].name == "label");
  CHECK(s.outputs[1].type == "MultiArray INT32 [1, 3]");
  CHECK(s.outputs[1].description == "predicted class");
  CHECK(s.version == "1.2");
  CHECK(s.op_histogram.at("linear") == 3);
  CHECK(s.op_histogram.at("gather") == 1);
  const std::string text = coreml::format_summary(s);
  CHECK(text.find("input_ids: MultiArray INT32 [1, 6]") != std::string::npos);
  const ir::Graph back = coreml::read_mlpackage(out / kModel);  // model.mlmodel inside the package
  CHECK(back.inputs()[0]->type == ir::TensorType{DType::I32, {1, 6}});
}

TEST_CASE("an existing output is kept unless overwrite is set, then replaced") {
  TempDir dir;
  const fs::path out = dir.path / "M.mlpackage";
  coreml::write_mlpackage(tiny_graph(), {}, out);
  const std::string before = slurp(out / "Manifest.json");
  CHECK_THROWS_WITH_AS(coreml::write_mlpackage(tiny_graph(), {}, out), doctest::Contains("already exists"),
                       coreml::CoreMLError);
  CHECK(slurp(out / "Manifest.json") == before);
  coreml::CoreMLOptions opt;
  opt.overwrite = true;
  opt.metadata.author = "second";
  coreml::write_mlpackage(tiny_graph(), opt, out);
  CHECK(coreml::summarize_mlpackage(out).author == "second");
  // Nothing but the package is left in the folder.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);
}

TEST_CASE("unwritable destinations and failed lowerings leave nothing behind") {
  TempDir dir;
  spit(dir.path / "file", "x");
  CHECK_THROWS_WITH_AS(coreml::write_mlpackage(tiny_graph(), {}, dir.path / "file" / "M.mlpackage"),
                       doctest::Contains("M.mlpackage"), coreml::CoreMLError);
  CHECK_THROWS_WITH_AS(coreml::write_mlpackage(tiny_graph(), {.overwrite = true}, dir.path / "file"),
                       doctest::Contains("not a directory"), coreml::CoreMLError);

  ir::Graph g;
  ir::Value* x = g.add_input("x", {DType::F32, {1, 1, 2, 2}});
  g.add_output(g.add1("resize", {x}, {{"mode", std::string("cubic")}, {"sizes", std::vector<int64_t>{4, 4}},
                                      {"align_corners", int64_t{0}}}),
               "y");
  CHECK_THROWS_WITH_AS(coreml::write_mlpackage(g, {}, dir.path / "C.mlpackage"), doctest::Contains("resize"),
                       coreml::CoreMLError);
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);  // only "file"
}

TEST_CASE("the reader rejects truncated weights, bad sentinels and garbage models with the file named") {
  TempDir dir;
  const fs::path out = dir.path / "W.mlpackage";
  coreml::write_mlpackage(two_weight_graph(random_tensor(DType::F32, {5, 4}, 1), random_tensor(DType::F32, {4, 3}, 2)),
                          {}, out);
  const std::string good = slurp(out / kWeights);
  CHECK_NOTHROW(coreml::read_mlpackage(out));

  spit(out / kWeights, good.substr(0, 300));  // second blob's data cut off
  CHECK_THROWS_WITH_AS(coreml::read_mlpackage(out), doctest::Contains("weight.bin"), coreml::CoreMLError);
  spit(out / kWeights, good.substr(0, 40));  // not even a header
  CHECK_THROWS_WITH_AS(coreml::read_mlpackage(out), doctest::Contains("truncated"), coreml::CoreMLError);

  std::string bad = good;
  bad[256] = 0;  // second metadata's sentinel
  spit(out / kWeights, bad);
  CHECK_THROWS_WITH_AS(coreml::read_mlpackage(out), doctest::Contains("bad sentinel"), coreml::CoreMLError);

  std::string wrong_dtype = good;
  wrong_dtype[68] = 1;  // fp16 code where the program says fp32
  spit(out / kWeights, wrong_dtype);
  CHECK_THROWS_WITH_AS(coreml::read_mlpackage(out), doctest::Contains("dtype"), coreml::CoreMLError);

  spit(out / kWeights, good);
  spit(out / kModel, std::string("\xff\xff\xff\xff garbage", 12));
  CHECK_THROWS_WITH_AS(coreml::read_mlpackage(out), doctest::Contains("model.mlmodel"), coreml::CoreMLError);
  fs::remove(out / "Manifest.json");
  CHECK_THROWS_WITH_AS(coreml::read_mlpackage(out), doctest::Contains("Manifest.json"), coreml::CoreMLError);
}

TEST_CASE("image inputs are described as images and scaled/biased in the program") {
  TempDir dir;
  ir::Graph g;
  ir::Value* x = g.add_input("image", {DType::F32, {1, 3, 4, 4}});
  g.add_output(g.add1("mul", {x, g.constant(Tensor::scalar_f32(2.0f))}), "y");
  coreml::CoreMLOptions opt;
  coreml::ImageInput img;
  img.scale = 1.0f / 255.0f;
  img.bias = {-0.5f, -0.25f, 0.0f};
  opt.image_inputs["image"] = img;
  const fs::path out = dir.path / "I.mlpackage";
  coreml::write_mlpackage(g, opt, out);
  const auto s = coreml::summarize_mlpackage(out);
  CHECK(s.inputs.at(0).type == "Image RGB 4x4");
  ir::Graph back = coreml::read_mlpackage(out);
  Tensor pixels = random_tensor(DType::F32, {1, 3, 4, 4}, 5, 0.0f, 255.0f);
  const Tensor y = runtime::run(back, {pixels})[0];
  for (int64_t i = 0; i < pixels.numel(); ++i) {
    const int64_t c = (i / 16) % 3;
    const double want = 2.0 * (pixels.element_as_double(i) / 255.0 + img.bias[static_cast<size_t>(c)]);
    CHECK(y.element_as_double(i) == doctest::Approx(want).epsilon(1e-6));
  }
}

namespace {

// ── a minimal protobuf wire encoder, to build programs our writer never
// emits (as coremltools would write them), field numbers from the spec ──
struct Msg {
  std::string b;
  Msg& varint(uint32_t field, uint64_t v) {
    key(field, 0);
    put_varint(v);
    return *this;
  }
  Msg& bytes(uint32_t field, const std::string& s) {
    key(field, 2);
    put_varint(s.size());
    b += s;
    return *this;
  }
  Msg& msg(uint32_t field, const Msg& m) { return bytes(field, m.b); }
  void key(uint32_t field, int wire) { put_varint((static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire)); }
  void put_varint(uint64_t v) {
    do {
      uint8_t c = v & 0x7f;
      v >>= 7;
      b += static_cast<char>(v ? (c | 0x80) : c);
    } while (v);
  }
};

// MIL ValueType{tensorType{dataType, rank, dims}}
Msg tensor_vt(int dtype, const std::vector<int64_t>& dims) {
  Msg tt;
  tt.varint(1, static_cast<uint64_t>(dtype)).varint(2, dims.size());
  for (int64_t d : dims) tt.msg(3, Msg().msg(1, Msg().varint(1, static_cast<uint64_t>(d))));
  return Msg().msg(1, tt);
}
Msg named(const std::string& name, const Msg& vt) { return Msg().bytes(1, name).msg(2, vt); }
Msg str_value(const std::string& s) {
  return Msg().msg(2, tensor_vt(2, {})).msg(3, Msg().msg(1, Msg().msg(4, Msg().bytes(1, s))));
}
Msg map_entry(const std::string& k, const Msg& v) { return Msg().bytes(1, k).msg(2, v); }
Msg arg(const std::string& name) { return Msg().msg(1, Msg().bytes(1, name)); }
Msg op(const std::string& type, const std::vector<std::pair<std::string, std::string>>& inputs, const Msg& out) {
  Msg m;
  m.bytes(1, type);
  for (const auto& [k, v] : inputs) m.msg(2, map_entry(k, arg(v)));
  m.msg(3, out);
  m.msg(5, map_entry("name", str_value(out.b.size() ? "op_" + type : type)));
  return m;
}
Msg const_op(const std::string& name, const Msg& vt, const Msg& tensor_value) {
  Msg val;
  val.msg(2, vt).msg(3, Msg().msg(1, tensor_value));
  return Msg().bytes(1, "const").msg(3, named(name, vt)).msg(5, map_entry("name", str_value(name))).msg(5, map_entry("val", val));
}

}  // namespace

TEST_CASE("the reader takes iOS18 scaled_dot_product_attention and iOS17 fp16 weights with fp32 activations") {
  constexpr int F32 = 11, F16 = 10, BOOL = 1;
  const std::vector<int64_t> qs{1, 2, 3, 4};
  Msg block;
  // linear(x: fp32, weight: fp16 [4x4] immediate bytes) as iOS17 allows
  std::string wbytes;
  std::vector<float> wv(16);
  for (int i = 0; i < 16; ++i) {
    wv[static_cast<size_t>(i)] = static_cast<float>((i * 7) % 5) * 0.25f - 0.5f;  // exact in fp16
    const uint16_t h = ir::float_to_half(wv[static_cast<size_t>(i)]);
    wbytes += static_cast<char>(h & 0xff);
    wbytes += static_cast<char>(h >> 8);
  }
  block.msg(3, const_op("w", tensor_vt(F16, {4, 4}), Msg().msg(7, Msg().bytes(1, wbytes))));
  block.msg(3, op("linear", {{"x", "q"}, {"weight", "w"}}, named("q2", tensor_vt(F32, qs))));
  block.msg(3, op("scaled_dot_product_attention", {{"query", "q2"}, {"key", "k"}, {"value", "v"}, {"attn_mask", "mask"}},
                  named("out", tensor_vt(F32, qs))));
  block.bytes(2, "out");
  Msg fn;
  fn.msg(1, named("q", tensor_vt(F32, qs))).msg(1, named("k", tensor_vt(F32, qs))).msg(1, named("v", tensor_vt(F32, qs)));
  fn.msg(1, named("mask", tensor_vt(BOOL, {1, 1, 3, 3})));
  fn.bytes(2, "CoreML8").msg(3, map_entry("CoreML8", block));
  Msg model;
  model.varint(1, 9).msg(502, Msg().varint(1, 1).msg(2, map_entry("main", fn)));

  TempDir dir;
  spit(dir.path / "model.mlmodel", model.b);
  const ir::Graph g = coreml::read_mlpackage(dir.path / "model.mlmodel");

  const Tensor q = random_tensor(DType::F32, qs, 61), k = random_tensor(DType::F32, qs, 62), v = random_tensor(DType::F32, qs, 63);
  Tensor mask = Tensor::zeros(DType::Bool, {1, 1, 3, 3});
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j <= i; ++j) mask.mutable_as<uint8_t>()[i * 3 + j] = 1;  // causal
  const Tensor out = runtime::run(g, {q, k, v, mask})[0];

  // Direct computation of the documented formula.
  auto at = [](const Tensor& t, int h, int i, int d) { return t.data_as<float>()[(h * 3 + i) * 4 + d]; };
  for (int h = 0; h < 2; ++h)
    for (int i = 0; i < 3; ++i) {
      float q2[4];
      for (int o = 0; o < 4; ++o) {
        q2[o] = 0;
        for (int c = 0; c < 4; ++c) q2[o] += at(q, h, i, c) * wv[static_cast<size_t>(o * 4 + c)];
      }
      double s[3], m = -1e30, z = 0;
      for (int j = 0; j <= i; ++j) {
        s[j] = 0;
        for (int d = 0; d < 4; ++d) s[j] += q2[d] * at(k, h, j, d);
        s[j] /= 2.0;  // sqrt(4)
        m = std::max(m, s[j]);
      }
      for (int j = 0; j <= i; ++j) z += std::exp(s[j] - m);
      for (int d = 0; d < 4; ++d) {
        double want = 0;
        for (int j = 0; j <= i; ++j) want += std::exp(s[j] - m) / z * at(v, h, j, d);
        CHECK(out.data_as<float>()[(h * 3 + i) * 4 + d] == doctest::Approx(want).epsilon(1e-5));
      }
    }
}

TEST_CASE("corrupted packages give CoreMLError, never a crash or another exception") {
  TempDir dir;
  const fs::path out = dir.path / "F.mlpackage";
  coreml::write_mlpackage(vision_graph(), {}, out);
  const std::string model = slurp(out / kModel), weights = slurp(out / kWeights);
  std::mt19937 rng(1234);
  int rejected = 0;
  for (int it = 0; it < 400; ++it) {
    std::string m = model, w = weights;
    std::string& target = it % 4 == 0 ? w : m;
    for (int f = 0, flips = 1 + static_cast<int>(rng() % 3); f < flips && !target.empty(); ++f) {
      const size_t pos = rng() % target.size();
      if (rng() % 5 == 0) target.resize(pos);
      else target[pos] = static_cast<char>(target[pos] ^ static_cast<char>(1 + rng() % 255));
    }
    spit(out / kModel, m);
    spit(out / kWeights, w);
    try {
      const ir::Graph g = coreml::read_mlpackage(out);
      ir::verify(g);
      (void)coreml::summarize_mlpackage(out);
    } catch (const coreml::CoreMLError&) {
      ++rejected;
    } catch (const std::exception& e) {
      FAIL("iteration " << it << ": " << typeid(e).name() << ": " << e.what());
    }
  }
  CHECK(rejected > 100);  // most mutations break the file and are reported
}

TEST_CASE("a classifier head becomes a classify op with label and probability-dictionary outputs") {
  ir::Graph g;
  ir::Value* x = g.add_input("x", {DType::F32, {1, 4}});
  ir::Value* logits = g.add1("linear", {x, g.constant(random_tensor(DType::F32, {3, 4}, 70))});
  g.add_output(g.add1("softmax", {logits}, {{"axis", int64_t{1}}}), "probs");
  g.add_output(logits, "logits");
  for (auto precision : {coreml::Precision::Float32, coreml::Precision::Float16}) {
    TempDir dir;
    coreml::CoreMLOptions opt;
    opt.precision = precision;
    opt.classifier = coreml::ClassifierOutput{"probs", {"cat", "dog", "bird"}, {}, "classLabel", "probabilities"};
    const fs::path out = dir.path / "C.mlpackage";
    coreml::write_mlpackage(g, opt, out);

    const auto desc = sub(decode(slurp(out / kModel)), 2);
    CHECK(one(desc, 11).bytes == "classLabel");     // predictedFeatureName
    CHECK(one(desc, 12).bytes == "probabilities");  // predictedProbabilitiesName
    const auto outputs = all(desc, 10);
    REQUIRE(outputs.size() == 3);
    CHECK(!all(sub(decode(outputs[0].bytes), 3), 3).empty());  // FeatureType.stringType
    const auto dict = sub(sub(decode(outputs[1].bytes), 3), 6);  // FeatureType.dictionaryType
    CHECK(!all(dict, 2).empty());                                // stringKeyType
    const auto s = coreml::summarize_mlpackage(out);
    CHECK(s.op_histogram.at("classify") == 1);
    CHECK(s.outputs[0].type == "String");
    CHECK(s.outputs[2].name == "logits");

    const Tensor in = random_tensor(DType::F32, {1, 4}, 71);
    const auto expected = runtime::run(g, {in});
    const ir::Graph back = coreml::read_mlpackage(out);
    const auto got = runtime::run(back, {in});
    int64_t best = 0;
    for (int64_t k = 1; k < 3; ++k)
      if (expected[0].element_as_double(k) > expected[0].element_as_double(best)) best = k;
    CHECK(got[0].element_as_int(0) == best);
    CHECK(max_abs_diff(got[1].cast(DType::F32), expected[0]) <= (precision == coreml::Precision::Float32 ? 1e-6 : 1e-2));
  }
}

TEST_CASE("float16 I/O declares FLOAT16 arrays without boundary casts and needs iOS16") {
  coreml::CoreMLOptions opt;
  opt.precision = coreml::Precision::Float16;
  opt.float16_io = true;
  TempDir dir;
  CHECK_THROWS_WITH_AS(coreml::write_mlpackage(tiny_graph(), opt, dir.path / "A.mlpackage"), doctest::Contains("iOS16"),
                       coreml::CoreMLError);
  opt.target = coreml::Target::iOS16;
  coreml::write_mlpackage(tiny_graph(), opt, dir.path / "B.mlpackage");
  const auto s = coreml::summarize_mlpackage(dir.path / "B.mlpackage");
  CHECK(s.specification_version == 7);
  CHECK(s.inputs.at(0).type == "MultiArray FLOAT16 [1, 3]");
  CHECK(s.outputs.at(0).type == "MultiArray FLOAT16 [1, 2]");
  CHECK(s.op_histogram.count("cast") == 0);
  const ir::Graph back = coreml::read_mlpackage(dir.path / "B.mlpackage");
  const Tensor in = Tensor::from_f32({1, 3}, {0.5f, -1.0f, 2.0f});
  const Tensor y = runtime::run(back, {in.cast(DType::F16)})[0];
  CHECK(y.element_as_double(0) == doctest::Approx(0.5 - 2 + 6 + 0.5));  // relu(w0 . x + b0) = 5
  CHECK(y.element_as_double(1) == doctest::Approx(2 - 5 + 12 - 0.5));   // = 8.5
}
