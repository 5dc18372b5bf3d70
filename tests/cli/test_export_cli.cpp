// The exporters CLI end to end on models the project generates itself
// (tools/model_generator: BERT, GPT-2 and ViT computations traced with
// python3-torch): export, validate against LibTorch, inspect, and the
// errors a user meets first.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <doctest/doctest.h>
#include "tests/fixtures_lib/run_command.hpp"
#include "tests/fixtures_lib/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

using Run = exporters::testing::CommandRun;

Run run_exporters(const std::string& args) {
  return exporters::testing::run_command(std::string("'") + EXPORTERS_EXE + "' " + args + " 2>&1");
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string model(const std::string& family) { return std::string(OWN_MODELS_DIR) + "/own_" + family; }

using TempDir = exporters::testing::TempDir;

}  // namespace

TEST_CASE("coreml export of a BERT classifier validates, and validate agrees on the written file") {
  TempDir tmp;
  Run run = run_exporters("coreml " + model("bert") + " -o " + (tmp / "bert.mlpackage").string());
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(contains(run.output, "plugin bert"));
  CHECK(contains(run.output, "classLabel"));
  CHECK(contains(run.output, "validation: PASS"));
  CHECK(fs::exists(tmp.path / "bert.mlpackage" / "Manifest.json"));

  Run check = run_exporters("validate " + model("bert") + " " + (tmp / "bert.mlpackage").string());
  INFO(check.output);
  CHECK(check.exit_code == 0);
  CHECK(contains(check.output, "validation: PASS"));

  // The same file is not an export of another model: validation must fail.
  Run wrong = run_exporters("validate " + model("gpt2") + " " + (tmp / "bert.mlpackage").string());
  INFO(wrong.output);
  CHECK(wrong.exit_code != 0);
}

TEST_CASE("an existing output is replaced only with --overwrite, and nothing half-written is left") {
  TempDir tmp;
  std::string out = (tmp / "bert.mlpackage").string();
  REQUIRE(run_exporters("coreml " + model("bert") + " -o " + out + " --no-validate").exit_code == 0);
  Run again = run_exporters("coreml " + model("bert") + " -o " + out + " --no-validate");
  CHECK(again.exit_code != 0);
  CHECK(contains(again.output, "--overwrite"));
  CHECK(run_exporters("coreml " + model("bert") + " -o " + out + " --no-validate --overwrite").exit_code == 0);
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(tmp.path)) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);  // no temporary siblings
}

TEST_CASE("tflite float16 export of a ViT classifier validates and inspects") {
  TempDir tmp;
  Run run = run_exporters("tflite " + model("vit") + " -o " + (tmp / "vit.tflite").string() + " --quantize float16");
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(contains(run.output, "validation: PASS"));
  Run info = run_exporters("inspect " + (tmp / "vit.tflite").string());
  INFO(info.output);
  CHECK(info.exit_code == 0);
  CHECK(contains(info.output, "pixel_values"));
  CHECK(contains(info.output, "DEQUANTIZE"));
}

TEST_CASE("validate --runtime litert runs the .tflite file in the real TFLite runtime") {
  TempDir tmp;
  REQUIRE(run_exporters("tflite " + model("bert") + " -o " + (tmp / "bert.tflite").string() + " --sequence-length 16 --no-validate")
              .exit_code == 0);
  Run lite = run_exporters("validate " + model("bert") + " " + (tmp / "bert.tflite").string() +
                       " --sequence-length 16 --runtime litert");
  INFO(lite.output);
  CHECK(lite.exit_code == 0);
  CHECK(contains(lite.output, "validation: PASS"));
  Run coreml = run_exporters("coreml " + model("bert") + " -o " + (tmp / "x.mlpackage").string() + " --runtime litert");
  CHECK(coreml.exit_code == 2);
  CHECK(contains(coreml.output, "only .tflite files"));
}

TEST_CASE("legacy NeuralNetwork export of GPT-2 validates and inspects") {
  TempDir tmp;
  Run run = run_exporters("coreml --legacy " + model("gpt2") + " -o " + (tmp / "gpt2.mlmodel").string() + " --sequence-length 16");
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(contains(run.output, "validation: PASS"));
  Run info = run_exporters("inspect " + (tmp / "gpt2.mlmodel").string());
  INFO(info.output);
  CHECK(contains(info.output, "neuralNetwork"));
  CHECK(contains(info.output, "input_ids"));
}

TEST_CASE("bad inputs give one clear error and a non-zero exit") {
  TempDir tmp;
  Run shape = run_exporters("coreml " + model("bert") + " -o " + (tmp / "x.mlpackage").string() + " --shape input_ids=1,x");
  CHECK(shape.exit_code != 0);
  CHECK(contains(shape.output, "--shape 'input_ids=1,x'"));
  Run unknown = run_exporters("coreml " + model("bert") + " -o " + (tmp / "x.mlpackage").string() + " --shape pixels=1,3");
  CHECK(unknown.exit_code != 0);
  CHECK(contains(unknown.output, "no input 'pixels'"));

  fs::create_directories(tmp.path / "broken");
  std::ofstream(tmp.path / "broken" / "model.pt") << "this is not a TorchScript archive";
  Run broken = run_exporters("coreml " + (tmp / "broken").string() + " -o " + (tmp / "y.mlpackage").string() + " --shape x=1,2");
  CHECK(broken.exit_code != 0);
  CHECK(contains(broken.output, "model.pt"));
  CHECK_FALSE(fs::exists(tmp.path / "y.mlpackage"));

  Run inspect = run_exporters("inspect " + (tmp / "broken").string() + "/model.pt");
  CHECK(inspect.exit_code != 0);
  CHECK(contains(inspect.output, "unknown file type"));
}

// A Hub id resolves offline in a Hugging Face cache (here a temporary one
// laid out as huggingface_hub writes it, the snapshot a copy of the own BERT).
TEST_CASE("a Hub id exports from the local Hugging Face cache, and a missing one names where it looked") {
  TempDir tmp;
  const std::string commit = "89abcdef0123456789abcdef0123456789abcdef";
  fs::path repo = tmp / "hub" / "models--acme--tiny-bert";
  fs::create_directories(repo / "refs");
  std::ofstream(repo / "refs" / "main") << commit;
  fs::create_directories(repo / "snapshots");
  fs::copy(model("bert"), repo / "snapshots" / commit, fs::copy_options::recursive);
  const std::string env = "HF_HUB_CACHE='" + (tmp / "hub").string() + "' ";
  Run run = exporters::testing::run_command(env + "'" + EXPORTERS_EXE + "' coreml acme/tiny-bert -o '" +
                                            (tmp / "out.mlpackage").string() + "' 2>&1");
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(contains(run.output, "validation: PASS"));
  CHECK(fs::exists(tmp.path / "out.mlpackage" / "Manifest.json"));

  Run missing = exporters::testing::run_command(env + "'" + EXPORTERS_EXE + "' coreml acme/other -o '" +
                                                (tmp / "x.mlpackage").string() + "' 2>&1");
  INFO(missing.output);
  CHECK(missing.exit_code == 1);
  CHECK(contains(missing.output, "exporters: error: acme/other: not a local folder"));
  CHECK(contains(missing.output, (repo.parent_path() / "models--acme--other").string()));
  CHECK_FALSE(fs::exists(tmp.path / "x.mlpackage"));

  Run revision = exporters::testing::run_command(env + "'" + EXPORTERS_EXE + "' coreml acme/tiny-bert --revision v9 -o '" +
                                                 (tmp / "y.mlpackage").string() + "' 2>&1");
  INFO(revision.output);
  CHECK(revision.exit_code == 1);
  CHECK(contains(revision.output, "revision 'v9'"));

// Found by fuzzing: a model.pt whose stored tensor record declares more bytes
// than it holds crashed the export (SIGSEGV) while LibTorch read it.
TEST_CASE("a model.pt with a stored record larger than its bytes is one error, not a crash") {
  TempDir tmp;
  fs::create_directories(tmp.path / "bad");
  for (const char* f : {"config.json"}) fs::copy_file(fs::path(model("bert")) / f, tmp.path / "bad" / f);
  std::ifstream in(fs::path(model("bert")) / "model.pt", std::ios::binary);
  std::string zip((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bool patched = false;
  for (size_t at = zip.find("PK\x01\x02"); at != std::string::npos && !patched; at = zip.find("PK\x01\x02", at + 4)) {
    const auto u16 = [&](size_t o) { return static_cast<uint8_t>(zip[at + o]) | static_cast<uint8_t>(zip[at + o + 1]) << 8; };
    const std::string name = zip.substr(at + 46, u16(28));
    if (u16(10) != 0 || name.find("/data/") == std::string::npos) continue;
    zip.replace(at + 24, 4, "\xff\xff\xff\x7f");  // uncompressed size 2 GiB
    patched = true;
  }
  REQUIRE(patched);
  std::ofstream(tmp.path / "bad" / "model.pt", std::ios::binary) << zip;
  Run run = run_exporters("coreml " + (tmp / "bad").string() + " -o " + (tmp / "bad.mlpackage").string());
  CHECK(run.exit_code == 1);
  CHECK(contains(run.output, "exporters: error: "));
  CHECK(contains(run.output, "model.pt: not a loadable TorchScript archive (stored entry"));
  CHECK_FALSE(fs::exists(tmp.path / "bad.mlpackage"));
}
