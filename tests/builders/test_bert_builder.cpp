// The BERT graph builder on the project's own checkpoints (no ../shared):
// bert_reference.py writes a tiny BERT with transformers' tensor names in a
// variant the HF fixtures do not cover (relative positions, every ACT2FN
// activation, F16/BF16 and sharded checkpoints, a base model saved without
// its prefix, an omitted tied decoder, untied embeddings) plus the outputs of
// its independent PyTorch BERT; the CLI exports the folder natively (no
// model.pt) and must match those outputs. Bad checkpoints and configs fail
// with one error naming the file, key or tensor.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <string>

#include <fmt/format.h>

#include "exporters/builder/ir_builder.hpp"
#include "exporters/ir/ops.hpp"
#include "tests/fixtures_lib/run_command.hpp"
#include "tests/fixtures_lib/temp_dir.hpp"

namespace fs = std::filesystem;
using exporters::testing::run_command;
using exporters::testing::TempDir;

namespace {

// Writes a checkpoint folder; `args` are bert_reference.py make options.
fs::path make_model(const TempDir& tmp, const std::string& name, const std::string& cls, const std::string& args = "") {
  const fs::path dir = tmp / name;
  auto run = run_command(fmt::format("{} {} make {} {} {} 2>&1", PYTHON_TORCH, REFERENCE_SCRIPT, dir.string(), cls, args));
  REQUIRE_MESSAGE(run.exit_code == 0, run.output);
  return dir;
}

struct Export {
  int exit_code;
  std::string output;
  int stored_passes = 0;  // "<output> vs reference.safetensors ... PASS" lines
  int stored_fails = 0;
};

Export export_native(const fs::path& dir, const std::string& format, const std::string& extra = "") {
  const std::string out = dir.string() + (format == "tflite" ? ".tflite" : ".mlpackage");
  auto run = run_command(fmt::format("{} {} {} -o {} --overwrite --batch-size 2 --sequence-length 16 {} 2>&1",
                                     EXPORTERS_EXE, format, dir.string(), out, extra));
  Export e{run.exit_code, run.output};
  std::regex line(R"(vs reference\.safetensors .*(PASS|FAIL))");
  for (auto it = std::sregex_iterator(run.output.begin(), run.output.end(), line); it != std::sregex_iterator(); ++it)
    ((*it)[1] == "PASS" ? e.stored_passes : e.stored_fails)++;
  return e;
}

void check_matches_pytorch(const fs::path& dir, int outputs, const std::string& format = "coreml",
                           const std::string& extra = "") {
  const Export e = export_native(dir, format, extra);
  INFO(e.output);
  CHECK(e.exit_code == 0);
  CHECK(e.output.find("native, no trace") != std::string::npos);
  CHECK(e.output.find("validation reference: the graph builder's graph in the reference interpreter; "
                      "reference.safetensors outputs") != std::string::npos);
  CHECK(e.stored_passes == outputs);
  CHECK(e.stored_fails == 0);
}

void check_fails_with(const fs::path& dir, const std::string& message, const std::string& extra = "") {
  const Export e = export_native(dir, "coreml", extra);
  INFO(e.output);
  CHECK(e.exit_code == 1);
  CHECK(e.output.find("exporters: error: ") != std::string::npos);
  CHECK(e.output.find(message) != std::string::npos);
  CHECK(!fs::exists(dir.string() + ".mlpackage"));
}

void edit_config(const fs::path& dir, const std::string& from, const std::string& to) {
  std::ifstream in(dir / "config.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  std::ofstream(dir / "config.json") << text;
}

}  // namespace

TEST_CASE("every class exports natively and matches the PyTorch reference (Core ML and TFLite)") {
  TempDir tmp("builders-classes");
  const std::vector<std::pair<std::string, int>> classes = {
      {"BertModel", 2},          {"BertForMaskedLM", 1},          {"BertForSequenceClassification", 1},
      {"BertForTokenClassification", 1}, {"BertForQuestionAnswering", 2}, {"BertForMultipleChoice", 1},
      {"BertForNextSentencePrediction", 1}, {"BertForPreTraining", 2}};
  for (const auto& [cls, outputs] : classes) {
    SUBCASE(cls.c_str()) {
      const fs::path dir = make_model(tmp, cls, cls);
      check_matches_pytorch(dir, outputs, "coreml");
      check_matches_pytorch(dir, outputs, "tflite");
    }
  }
}

TEST_CASE("relative position embeddings: relative_key and relative_key_query") {
  TempDir tmp("builders-relative");
  check_matches_pytorch(make_model(tmp, "key", "BertForMaskedLM", "--positions relative_key"), 1);
  check_matches_pytorch(make_model(tmp, "key_query", "BertModel", "--positions relative_key_query"), 2);
  check_matches_pytorch(make_model(tmp, "key_query_tfl", "BertForTokenClassification", "--positions relative_key_query"),
                        1, "tflite");
}

TEST_CASE("every ACT2FN activation as hidden_act") {
  TempDir tmp("builders-acts");
  for (const auto& act : exporters::builder::activation_names()) {
    SUBCASE(act.c_str()) {
      // BertForMaskedLM also applies hidden_act in its prediction head.
      check_matches_pytorch(make_model(tmp, act, "BertForMaskedLM", "--act " + act), 1);
    }
  }
}

TEST_CASE("F16 and BF16 checkpoints, sharded checkpoints") {
  TempDir tmp("builders-dtypes");
  check_matches_pytorch(make_model(tmp, "f16", "BertForSequenceClassification", "--dtype F16"), 1);
  check_matches_pytorch(make_model(tmp, "bf16", "BertForQuestionAnswering", "--dtype BF16"), 2);
  const fs::path sharded = make_model(tmp, "sharded", "BertForMaskedLM", "--shards 3");
  CHECK(fs::exists(sharded / "model.safetensors.index.json"));
  CHECK(!fs::exists(sharded / "model.safetensors"));
  check_matches_pytorch(sharded, 1);
  check_matches_pytorch(make_model(tmp, "sharded_bf16", "BertForTokenClassification", "--shards 2 --dtype BF16"), 1);
}

TEST_CASE("base model saved alone, tied and untied decoders") {
  TempDir tmp("builders-prefix");
  // BertModel's own checkpoint has no "bert." prefix; a head model's has.
  check_matches_pytorch(make_model(tmp, "base", "BertModel", "--base-only"), 2);
  // The head checkpoint exported as its base model (prefix stripped as transformers does).
  const fs::path mlm = make_model(tmp, "mlm_as_base", "BertForSequenceClassification");
  auto run = run_command(fmt::format("{} coreml {} -o {}/out.mlpackage --task BertModel --batch-size 2 "
                                     "--sequence-length 16 2>&1", EXPORTERS_EXE, mlm.string(), tmp.path.string()));
  CHECK_MESSAGE(run.exit_code == 0, run.output);
  // The decoder weight omitted from the file is the word embeddings.
  check_matches_pytorch(make_model(tmp, "omitted", "BertForMaskedLM", "--omit-decoder"), 1);
  check_matches_pytorch(make_model(tmp, "pretrain_omitted", "BertForPreTraining", "--omit-decoder"), 2);
  // tie_word_embeddings false: the file's own decoder, which differs from the embeddings.
  check_matches_pytorch(make_model(tmp, "untied", "BertForMaskedLM", "--no-tie"), 1);
}

TEST_CASE("a base checkpoint exported for a head class is one error naming the missing head weights") {
  TempDir tmp("builders-heads");
  check_fails_with(make_model(tmp, "cls", "BertForSequenceClassification", "--base-only"),
                   "holds a base model alone (no head weights); BertForSequenceClassification needs its head: no "
                   "tensor 'classifier.weight', 'classifier.bias'");
  check_fails_with(make_model(tmp, "mlm", "BertForMaskedLM", "--base-only"),
                   "BertForMaskedLM needs its head: no tensor 'cls.predictions.transform.dense.weight'");
  // tie_word_embeddings false and the file without its own decoder.
  const fs::path untied = make_model(tmp, "untied", "BertForMaskedLM", "--omit-decoder");
  edit_config(untied, "\"model_type\"", "\"tie_word_embeddings\": false, \"model_type\"");
  check_fails_with(untied, "no tensor 'cls.predictions.decoder.weight'");
}

TEST_CASE("config.json values the builder cannot honour are one error naming key and value") {
  TempDir tmp("builders-config");
  const fs::path dir = make_model(tmp, "m", "BertForMaskedLM");
  const fs::path cfg = dir / "config.json";
  const std::string original = [&] {
    std::ifstream in(cfg);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }();
  auto reset = [&] { std::ofstream(cfg) << original; };
  edit_config(dir, "\"hidden_act\": \"gelu\"", "\"hidden_act\": \"swish2\"");
  check_fails_with(dir, "config.json: 'hidden_act' = \"swish2\": not an activation transformers 4.36 knows");
  reset();
  edit_config(dir, "\"position_embedding_type\": \"absolute\"", "\"position_embedding_type\": \"rotary\"");
  check_fails_with(dir, "'position_embedding_type' = \"rotary\": BERT supports absolute, relative_key and "
                        "relative_key_query");
  reset();
  edit_config(dir, "\"is_decoder\": false", "\"is_decoder\": true");
  check_fails_with(dir, "'is_decoder' = true");
  reset();
  edit_config(dir, "\"add_cross_attention\": false", "\"add_cross_attention\": true");
  check_fails_with(dir, "'add_cross_attention' = true");
  reset();
  edit_config(dir, "\"num_attention_heads\": 4", "\"num_attention_heads\": 5");
  check_fails_with(dir, "'hidden_size' = 32: not a multiple of num_attention_heads 5");
  reset();
  // No effect at inference: chunked feed-forward computes the same values.
  edit_config(dir, "\"chunk_size_feed_forward\": 0", "\"chunk_size_feed_forward\": 4");
  check_matches_pytorch(dir, 1);
}

TEST_CASE("checkpoint errors name the file and tensor") {
  TempDir tmp("builders-files");
  const fs::path dir = make_model(tmp, "m", "BertForTokenClassification");
  SUBCASE("a tensor missing from the checkpoint") {
    // Rename one tensor in the header (same length, so offsets stay valid).
    std::fstream f(dir / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    std::string head(16384, '\0');
    f.read(head.data(), head.size());
    const std::string from = "encoder.layer.1.output.dense.weight";
    const size_t at = head.find(from);
    REQUIRE(at != std::string::npos);
    f.clear();
    f.seekp(static_cast<std::streamoff>(at));
    f << "encoder.layer.1.output.dense.wEight";
    f.close();
    check_fails_with(dir, "model.safetensors: no tensor 'bert.encoder.layer.1.output.dense.weight'");
  }
  SUBCASE("a truncated checkpoint") {
    fs::resize_file(dir / "model.safetensors", 1000);
    check_fails_with(dir, "model.safetensors: truncated or corrupt");
  }
  SUBCASE("pytorch_model.bin only") {
    fs::rename(dir / "model.safetensors", dir / "pytorch_model.bin");
    check_fails_with(dir, "only safetensors checkpoints (model.safetensors) are read natively, this folder has "
                          "pytorch_model.bin");
  }
  SUBCASE("a shard missing") {
    const fs::path sharded = make_model(tmp, "s", "BertForTokenClassification", "--shards 2");
    fs::remove(sharded / "model-00002-of-00002.safetensors");
    check_fails_with(sharded, "model-00002-of-00002.safetensors (holding");
  }
  SUBCASE("--source trace without model.pt") {
    check_fails_with(dir, "--source trace: " + dir.string() + " has no model.pt", "--source trace");
  }
  SUBCASE("a class whose plugin has no graph builder") {
    std::ofstream(dir / "config.json") << R"({"model_type": "mobilebert", "architectures": ["MobileBertForMaskedLM"]})";
    check_fails_with(dir, "plugin mobilebert has no graph builder for MobileBertForMaskedLM: export it from a trace");
  }
}

TEST_CASE("IrBuilder: activations by transformers name") {
  exporters::ir::Graph g;
  exporters::builder::IrBuilder b(g);
  auto* x = b.input("x", {exporters::ir::DType::F32, {2, 3}});
  for (const auto& name : exporters::builder::activation_names()) CHECK_NOTHROW(b.activation(x, name));
  CHECK(exporters::builder::activation_names().size() == 19);
  try {
    b.activation(x, "gelu_11");
    FAIL("no error");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("activation 'gelu_11' is not one transformers knows (ACT2FN: gelu, gelu_10,") == 0);
  }
}
