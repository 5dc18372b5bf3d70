// The written file against the format's facts (identifier, version, buffer
// sentinel and alignment, op codes, options tables, signature, metadata),
// the layout pass golden counts and the writer's errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include "core/backends/tflite/model.hpp"
#include "exporters/ir/ops.hpp"
#include "tflite_subset_generated.h"
#include "tflite_test_util.hpp"

using namespace tflite_test;
using exporters::ir::Attrs;
namespace tfl = exporters::tflite;
namespace fbs = exporters::tflite::fb;

namespace {

Value* weight(Graph& g, const Shape& shape) { return g.constant(random_tensor(DType::F32, shape, -0.5, 0.5)); }

Value* conv3(Graph& g, Value* x, int64_t cin, int64_t cout) {
  return g.add1("conv", {x, weight(g, {cout, cin, 3, 3}), weight(g, {cout})},
                {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
}

size_t transposes(const Graph& g) {
  return tfl::count_ops(tfl::build_model(g, {}), fbs::BuiltinOperator_TRANSPOSE);
}

}  // namespace

TEST_CASE("layout pass: conv -> relu -> conv keeps only the input and output transposes") {
  Graph g;
  Value* x = g.add_input("x", {DType::F32, {1, 3, 8, 8}});
  Value* y = conv3(g, g.add1("relu", {conv3(g, x, 3, 4)}), 4, 5);
  g.add_output(y, "y");
  tfl::TflModel m = tfl::build_model(g, {});
  CHECK(tfl::count_ops(m, fbs::BuiltinOperator_TRANSPOSE) == 2);
  CHECK(tfl::count_ops(m, fbs::BuiltinOperator_CONV_2D) == 2);
  CHECK(tfl::count_ops(m, fbs::BuiltinOperator_RELU) == 1);
  // The first op moves the input to NHWC, the last moves the result back.
  CHECK(m.ops.front().code == fbs::BuiltinOperator_TRANSPOSE);
  CHECK(m.ops.back().code == fbs::BuiltinOperator_TRANSPOSE);
}

TEST_CASE("layout pass: a ConvNeXt block (permute, layer_norm, MLP, permute back, residual) has no cancelling pairs") {
  Graph g;
  Value* x = g.add_input("x", {DType::F32, {1, 4, 6, 6}});
  Value* stem = conv3(g, x, 4, 8);
  Value* dw = g.add1("conv", {stem, weight(g, {8, 1, 3, 3}), weight(g, {8})},
                     {{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"groups", int64_t(8)}});
  Value* t = g.add1("transpose", {dw}, {{"perm", std::vector<int64_t>{0, 2, 3, 1}}});
  t = g.add1("layer_norm", {t, weight(g, {8}), weight(g, {8})}, {{"axes", std::vector<int64_t>{3}}, {"epsilon", 1e-6}});
  t = g.add1("gelu", {g.add1("linear", {t, weight(g, {16, 8}), weight(g, {16})})});
  t = g.add1("mul", {g.add1("linear", {t, weight(g, {8, 16}), weight(g, {8})}), weight(g, {8})});
  t = g.add1("transpose", {t}, {{"perm", std::vector<int64_t>{0, 3, 1, 2}}});
  Value* y = conv3(g, g.add1("add", {stem, t}), 8, 2);
  g.add_output(y, "y");
  // Input to NHWC and the result back to NCHW; nothing in between.
  CHECK(transposes(g) == 2);
}

TEST_CASE("written file: TFL3, version 3, empty buffer 0, 16-byte aligned data, op codes, options, signature, metadata") {
  Graph g;
  Value* x = g.add_input("x", {DType::F32, {2, 8}});
  Value* h = g.add1("gelu", {g.add1("linear", {x, weight(g, {5, 8}), weight(g, {5})})});
  Value* m = g.add1("matmul", {g.add1("reshape", {h}, {{"shape", std::vector<int64_t>{2, 5, 1}}}), weight(g, {1, 3})});
  g.add_output(g.add1("softmax", {m}, {{"axis", int64_t(2)}}), "probs");
  g.metadata["labels"] = "cat\ndog\nbird";
  tfl::TfliteOptions opt;
  opt.description = "tiny test model";
  opt.metadata["normalization"] = "mean=0.5 std=0.25";
  auto bytes = tfl::serialize_tflite(g, opt);

  REQUIRE(bytes.size() > 8);
  CHECK(std::string(reinterpret_cast<const char*>(bytes.data()) + 4, 4) == "TFL3");
  flatbuffers::Verifier v(bytes.data(), bytes.size());
  REQUIRE(fbs::VerifyModelBuffer(v));
  const fbs::Model* model = fbs::GetModel(bytes.data());
  CHECK(model->version() == 3);
  CHECK(model->description()->str() == "tiny test model");
  REQUIRE(model->buffers()->size() > 1);
  CHECK((model->buffers()->Get(0)->data() == nullptr || model->buffers()->Get(0)->data()->size() == 0));
  for (const auto* b : *model->buffers())
    if (b->data() && b->data()->size() > 0)
      CHECK(reinterpret_cast<uintptr_t>(b->data()->data()) % 16 == reinterpret_cast<uintptr_t>(bytes.data()) % 16);

  std::map<int32_t, const fbs::OperatorCode*> codes;
  for (const auto* c : *model->operator_codes()) {
    int32_t code = c->builtin_code();
    CHECK(c->deprecated_builtin_code() == std::min(code, 127));
    codes[code] = c;
  }
  CHECK(codes.count(fbs::BuiltinOperator_FULLY_CONNECTED));
  CHECK(codes.count(fbs::BuiltinOperator_BATCH_MATMUL));
  REQUIRE(codes.count(fbs::BuiltinOperator_GELU));
  CHECK(codes[fbs::BuiltinOperator_GELU]->deprecated_builtin_code() == 127);  // 150 does not fit the int8 field

  const fbs::SubGraph* sg = model->subgraphs()->Get(0);
  for (const auto* op : *sg->operators()) {
    int32_t code = model->operator_codes()->Get(op->opcode_index())->builtin_code();
    // Every op with an options table carries it (TFLite zero-fills a missing one).
    if (code == fbs::BuiltinOperator_SOFTMAX) {
      REQUIRE(op->builtin_options_as_SoftmaxOptions());
      CHECK(op->builtin_options_as_SoftmaxOptions()->beta() == 1.0f);
    }
    if (code == fbs::BuiltinOperator_FULLY_CONNECTED) CHECK(op->builtin_options_as_FullyConnectedOptions());
    if (code == fbs::BuiltinOperator_GELU) CHECK(op->builtin_options_as_GeluOptions());
    if (code == fbs::BuiltinOperator_RESHAPE) CHECK(op->builtin_options_as_ReshapeOptions());
    if (code == fbs::BuiltinOperator_BATCH_MATMUL) CHECK(op->builtin_options_as_BatchMatMulOptions());
  }
  std::set<std::string> names;
  for (const auto* t : *sg->tensors()) names.insert(t->name()->str());
  CHECK(names.size() == sg->tensors()->size());  // tensor names are unique and set

  REQUIRE(model->signature_defs()->size() == 1);
  const auto* sig = model->signature_defs()->Get(0);
  CHECK(sig->signature_key()->str() == "serving_default");
  CHECK(sig->subgraph_index() == 0);
  REQUIRE(sig->inputs()->size() == 1);
  CHECK(sig->inputs()->Get(0)->name()->str() == "x");
  CHECK(sig->inputs()->Get(0)->tensor_index() == static_cast<uint32_t>(sg->inputs()->Get(0)));
  CHECK(sig->outputs()->Get(0)->name()->str() == "probs");
  CHECK(sig->outputs()->Get(0)->tensor_index() == static_cast<uint32_t>(sg->outputs()->Get(0)));

  std::map<std::string, std::string> meta;
  for (const auto* md : *model->metadata()) {
    const auto* data = model->buffers()->Get(md->buffer())->data();
    meta[md->name()->str()] = std::string(reinterpret_cast<const char*>(data->data()), data->size());
  }
  CHECK(meta["labels"] == "cat\ndog\nbird");
  CHECK(meta["normalization"] == "mean=0.5 std=0.25");
}

TEST_CASE("int64 inputs stay int64 at the interface and are narrowed once for the ops") {
  Graph g;
  Value* ids = g.add_input("input_ids", {DType::I64, {1, 4}});
  g.add_output(g.add1("gather", {weight(g, {6, 3}), ids}, {{"axis", int64_t(0)}}), "embeddings");
  tfl::TflModel m = tfl::build_model(g, {});
  CHECK(m.tensors[m.inputs[0]].type == tfl::TflType::I64);
  REQUIRE(!m.ops.empty());
  CHECK(m.ops[0].code == fbs::BuiltinOperator_CAST);
  CHECK(tfl::count_ops(m, fbs::BuiltinOperator_CAST) == 1);
}

TEST_CASE("dynamic-int8 writes int8 per-channel weights with one scale per output channel") {
  Graph g;
  Value* x = g.add_input("x", {DType::F32, {2, 8}});
  g.add_output(g.add1("linear", {x, weight(g, {5, 8}), weight(g, {5})}), "y");
  tfl::TfliteOptions opt;
  opt.quantize = tfl::Quantization::DynamicInt8;
  tfl::TflModel m = tfl::build_model(g, opt);
  REQUIRE(tfl::count_ops(m, fbs::BuiltinOperator_FULLY_CONNECTED) == 1);
  const auto& fc = *std::find_if(m.ops.begin(), m.ops.end(), [](const tfl::TflOp& o) { return o.code == fbs::BuiltinOperator_FULLY_CONNECTED; });
  const auto& w = m.tensors[fc.inputs[1]];
  CHECK(w.type == tfl::TflType::I8);
  CHECK(w.quant.scale.size() == 5);
  CHECK(w.quant.zero_point == std::vector<int64_t>(5, 0));
  CHECK(w.quant.quantized_dimension == 0);
}

TEST_CASE("float16 stores float weights as FLOAT16 buffers widened by DEQUANTIZE") {
  Graph g;
  Value* x = g.add_input("x", {DType::F32, {2, 8}});
  g.add_output(g.add1("linear", {x, weight(g, {5, 8}), weight(g, {5})}), "y");
  tfl::TfliteOptions opt;
  opt.quantize = tfl::Quantization::Float16;
  tfl::TflModel m = tfl::build_model(g, opt);
  CHECK(tfl::count_ops(m, fbs::BuiltinOperator_DEQUANTIZE) == 2);
  for (const auto& t : m.tensors)
    if (t.is_const()) CHECK(t.type != tfl::TflType::F32);
}

TEST_CASE("float16 buffers hold the halves of the weights; float32 min saturates to -65504, not -inf") {
  Graph g;
  Value* x = g.add_input("x", {DType::F32, {1, 4}});
  const float lowest = std::numeric_limits<float>::lowest();
  Value* mask = g.constant(Tensor::from_f32({1, 4}, {0.0f, lowest, 1.5f, -70000.0f}));
  g.add_output(g.add1("add", {x, mask}), "y");
  tfl::TfliteOptions opt;
  opt.quantize = tfl::Quantization::Float16;
  const std::vector<uint8_t> bytes = tfl::serialize_tflite(g, opt);
  const fbs::Model* model = fbs::GetModel(bytes.data());
  bool found = false;
  for (const auto* t : *model->subgraphs()->Get(0)->tensors()) {
    if (t->type() != fbs::TensorType_FLOAT16) continue;
    const auto* data = model->buffers()->Get(t->buffer())->data();
    REQUIRE(data->size() == 8);
    uint16_t h[4];
    std::memcpy(h, data->data(), 8);
    CHECK(h[0] == 0x0000);
    CHECK(h[1] == 0xfbff);  // -65504
    CHECK(h[2] == 0x3e00);  // 1.5
    CHECK(h[3] == 0xfbff);
    found = true;
  }
  CHECK(found);
}

TEST_CASE("every canonical IR op has a lowering row") {
  auto rows = tfl::lowered_ops();
  for (const auto& op : exporters::ir::op_names())
    CHECK_MESSAGE(std::find(rows.begin(), rows.end(), op) != rows.end(), "no TFLite lowering row for " << op);
}

TEST_CASE("ops without a builtin fail with an error naming the op") {
  Graph g;
  Value* x = g.add_input("x", {DType::F32, {2, 3}});
  Value* idx = g.constant(Tensor::from_i64({2, 3}, {0, 1, 0, 1, 0, 1}));
  g.add_output(g.add1("scatter_elements", {x, idx, x}, {{"axis", int64_t(0)}}), "y");
  CHECK_THROWS_WITH_AS(tfl::serialize_tflite(g, {}), doctest::Contains("scatter_elements"), tfl::TfliteError);
  Graph c;
  Value* y = c.add_input("y", {DType::F32, {1, 1, 4, 4}});
  c.add_output(c.add1("resize", {y}, {{"mode", std::string("cubic")}, {"sizes", std::vector<int64_t>{8, 8}}}), "z");
  CHECK_THROWS_WITH_AS(tfl::serialize_tflite(c, {}), doctest::Contains("resize"), tfl::TfliteError);
}

TEST_CASE("quantization option names") {
  CHECK(tfl::quantization_from_name("float16") == tfl::Quantization::Float16);
  CHECK(tfl::quantization_from_name("dynamic-int8") == tfl::Quantization::DynamicInt8);
  CHECK_THROWS_WITH_AS(tfl::quantization_from_name("int4"), doctest::Contains("int4"), tfl::TfliteError);
}

TEST_CASE("write_tflite replaces the target atomically and leaves no temporary behind") {
  Graph g;
  Value* x = g.add_input("x", {DType::F32, {3}});
  g.add_output(g.add1("relu", {x}), "y");
  fs::path dir = scratch_dir() / "atomic";
  fs::create_directories(dir);
  fs::path file = dir / "m.tflite";
  { std::ofstream(file) << "old"; }
  tfl::write_tflite(g, {}, file);
  CHECK(fs::file_size(file) > 8);
  size_t entries = std::distance(fs::directory_iterator(dir), fs::directory_iterator());
  CHECK(entries == 1);
  auto s = tfl::summarize_tflite(file);
  CHECK(s.inputs.size() == 1);
  CHECK(s.op_histogram["RELU"] == 1);
}

TEST_CASE("layout pass: SegFormer-style flatten (NCHW -> [N, C, HW] -> [N, HW, C]) and back needs no transposes") {
  Graph g;
  Value* x = g.add_input("x", {DType::F32, {1, 3, 8, 8}});
  Value* c = conv3(g, x, 3, 4);
  Value* seq = g.add1("transpose", {g.add1("reshape", {c}, {{"shape", std::vector<int64_t>{1, 4, 64}}})},
                      {{"perm", std::vector<int64_t>{0, 2, 1}}});
  seq = g.add1("layer_norm", {seq, weight(g, {4}), weight(g, {4})}, {{"axes", std::vector<int64_t>{2}}, {"epsilon", 1e-6}});
  Value* img = g.add1("reshape", {g.add1("transpose", {seq}, {{"perm", std::vector<int64_t>{0, 2, 1}}})},
                      {{"shape", std::vector<int64_t>{1, 4, 8, 8}}});
  g.add_output(conv3(g, img, 4, 2), "y");
  CHECK(transposes(g) == 2);
  // And the rewritten model still computes the same thing.
  auto inputs = random_inputs(g);
  auto ref = run_interpreter(g, inputs);
  auto bytes = tfl::serialize_tflite(g, {});
  Graph back = tfl::read_tflite_bytes(bytes.data(), bytes.size());
  auto got = run_interpreter(back, inputs);
  CHECK(max_abs_diff(got[0], ref[0]) <= 1e-4 * std::max(1.0, max_abs(ref[0])));
}

TEST_CASE("TFLITE_METADATA: a ModelMetadata flatbuffer (M001) with every input and output described in subgraph order") {
  Graph g;
  // Inputs in an order that differs from the descriptions' (alphabetical) map order.
  Value* z = g.add_input("zeta", {DType::F32, {1, 4}});
  Value* img = g.add_input("alpha_image", {DType::F32, {1, 4}});
  Value* s = g.add1("add", {z, img});
  g.add_output(g.add1("relu", {s}), "scores");
  g.add_output(g.add1("tanh", {s}), "undescribed");
  tfl::TfliteOptions opt;
  opt.description = "metadata test model";
  opt.name = "tiny";
  opt.version = "2.0";
  opt.author = "someone";
  opt.inputs["zeta"].description = "Zeta features";
  tfl::TensorDescription image;
  image.description = "An RGB image";
  image.image = true;
  image.color_space = "RGB";
  image.mean = {127.5f, 127.5f, 127.5f};
  image.std = {63.75f, 63.75f, 63.75f};
  opt.inputs["alpha_image"] = image;
  opt.outputs["scores"].description = "Scores, one per feature";
  auto bytes = tfl::serialize_tflite(g, opt);

  const fbs::Model* model = fbs::GetModel(bytes.data());
  std::string buffer;
  int entries = 0;
  for (const auto* md : *model->metadata()) {
    if (md->name()->str() != "TFLITE_METADATA") continue;
    ++entries;
    const auto* data = model->buffers()->Get(md->buffer())->data();
    REQUIRE(data);
    buffer.assign(reinterpret_cast<const char*>(data->data()), data->size());
  }
  REQUIRE(entries == 1);
  // The file identifier of the metadata schema sits at bytes 4..7.
  REQUIRE(buffer.size() > 8);
  CHECK(buffer.substr(4, 4) == "M001");

  // Field ids of the published schema, read without our generated code:
  // ModelMetadata name 0, description 1, version 2, subgraph_metadata 3,
  // author 4, min_parser_version 7 (vtable offset 4 + 2 * id).
  const auto* root = flatbuffers::GetRoot<flatbuffers::Table>(buffer.data());
  auto str = [](const flatbuffers::Table* t, int id) {
    const auto* s = t->GetPointer<const flatbuffers::String*>(static_cast<flatbuffers::voffset_t>(4 + 2 * id));
    return s ? s->str() : std::string("<absent>");
  };
  CHECK(str(root, 0) == "tiny");
  CHECK(str(root, 1) == "metadata test model");
  CHECK(str(root, 2) == "2.0");
  CHECK(str(root, 4) == "someone");
  CHECK(str(root, 7) == "1.0.0");
  using Tables = flatbuffers::Vector<flatbuffers::Offset<flatbuffers::Table>>;
  const auto* subgraphs = root->GetPointer<const Tables*>(4 + 2 * 3);
  REQUIRE(subgraphs);
  REQUIRE(subgraphs->size() == 1);
  // SubGraphMetadata input_tensor_metadata 2, output_tensor_metadata 3; TensorMetadata name 0, description 1.
  const auto* inputs = subgraphs->Get(0)->GetPointer<const Tables*>(4 + 2 * 2);
  const auto* outputs = subgraphs->Get(0)->GetPointer<const Tables*>(4 + 2 * 3);
  REQUIRE(inputs);
  REQUIRE(outputs);
  const fbs::SubGraph* sg = model->subgraphs()->Get(0);
  REQUIRE(inputs->size() == sg->inputs()->size());
  REQUIRE(outputs->size() == sg->outputs()->size());
  for (size_t i = 0; i < inputs->size(); ++i)
    CHECK(str(inputs->Get(i), 0) == sg->tensors()->Get(sg->inputs()->Get(i))->name()->str());
  for (size_t i = 0; i < outputs->size(); ++i)
    CHECK(str(outputs->Get(i), 0) == sg->tensors()->Get(sg->outputs()->Get(i))->name()->str());
  CHECK(str(inputs->Get(0), 0) == "zeta");
  CHECK(str(inputs->Get(0), 1) == "Zeta features");
  CHECK(str(inputs->Get(1), 1) == "An RGB image");
  CHECK(str(outputs->Get(0), 1) == "Scores, one per feature");
  CHECK(str(outputs->Get(1), 1) == "Output 'undescribed', FLOAT32 [1, 4]");  // made from name, type, shape

  // Our reader decodes the same, with content and normalisation.
  tfl::ModelDescription d = tfl::decode_model_metadata(buffer, "test");
  CHECK(d.name == "tiny");
  CHECK(d.min_parser_version == "1.0.0");
  REQUIRE(d.inputs.size() == 2);
  CHECK(d.inputs[0].first == "zeta");
  CHECK_FALSE(d.inputs[0].second.image);
  CHECK(d.inputs[0].second.mean.empty());
  CHECK(d.inputs[1].first == "alpha_image");
  CHECK(d.inputs[1].second.image);
  CHECK(d.inputs[1].second.color_space == "RGB");
  CHECK(d.inputs[1].second.mean == std::vector<float>{127.5f, 127.5f, 127.5f});
  CHECK(d.inputs[1].second.std == std::vector<float>{63.75f, 63.75f, 63.75f});
  REQUIRE(d.outputs.size() == 2);
  CHECK(d.outputs[1].first == "undescribed");

  // The model still runs in LiteRT with the metadata in it.
  const fs::path file = scratch_dir() / "metadata.tflite";
  tfl::write_tflite(g, opt, file);
  const Tensor a = random_tensor(DType::F32, {1, 4}, -1, 1), b = random_tensor(DType::F32, {1, 4}, -1, 1);
  auto lite = run_litert(file, {{"zeta", a}, {"alpha_image", b}});
  REQUIRE(lite.count("scores") == 1);
  const float* pa = a.data_as<float>();
  const float* pb = b.data_as<float>();
  for (int k = 0; k < 4; ++k) CHECK(lite.at("scores").data_as<float>()[k] == doctest::Approx(std::max(0.f, pa[k] + pb[k])));

  // inspect's summary shows each description beside its tensor.
  const auto summary = tfl::summarize_tflite(file);
  REQUIRE(summary.model_metadata);
  REQUIRE(summary.inputs.size() == 2);
  REQUIRE(summary.inputs[1].metadata);
  CHECK(summary.inputs[1].metadata->description == "An RGB image");
  const std::string text = tfl::format_summary(summary);
  CHECK(text.find("      Zeta features\n") != std::string::npos);
  CHECK(text.find("normalization: (x - mean) / std, mean [127.5, 127.5, 127.5], std [63.75, 63.75, 63.75]") != std::string::npos);
}

TEST_CASE("a malformed TFLITE_METADATA buffer is one error naming the entry") {
  CHECK_THROWS_WITH_AS(tfl::decode_model_metadata("garbage but long enough", "x.tflite"),
                       doctest::Contains("x.tflite: metadata 'TFLITE_METADATA'"), tfl::TfliteError);
  std::string fake(16, '\0');
  fake.replace(4, 4, "M001");
  fake[0] = 100;  // root offset past the end
  CHECK_THROWS_WITH_AS(tfl::decode_model_metadata(fake, "x.tflite"),
                       doctest::Contains("not a valid ModelMetadata flatbuffer"), tfl::TfliteError);
}
