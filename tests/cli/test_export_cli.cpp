// The exporters CLI end to end on models the project generates itself
// (tools/model_generator: BERT, GPT-2 and ViT computations traced with
// python3-torch): export, validate against LibTorch, inspect, and the
// errors a user meets first.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>
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
}

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

// ---- Interrupted and failed exports ----------------------------------------

namespace {

// Entries of `dir`, by name.
std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The export's temporary in `dir`, once the writer has finished filling it.
std::optional<fs::path> finished_temporary(const fs::path& dir, bool package) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp-") == std::string::npos) continue;
    if (package ? fs::exists(e.path() / "Manifest.json") : fs::file_size(e.path()) > 0) return e.path();
  }
  return std::nullopt;
}

// Starts `exporters args...` paused (test hook) before it places its output;
// returns its pid once the temporary is complete.
pid_t start_paused_export(const std::vector<std::string>& args, const fs::path& dir, bool package) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("EXPORTERS_TEST_PAUSE_BEFORE_COMMIT_MS", "60000", 1);
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    std::vector<char*> argv{const_cast<char*>(EXPORTERS_EXE)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(EXPORTERS_EXE, argv.data());
    ::_exit(127);
  }
  for (int i = 0; i < 1200 && !finished_temporary(dir, package); ++i) {
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) FAIL("the export ended before its output was placed");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(finished_temporary(dir, package));
  return pid;
}

int wait_for_signal(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

}  // namespace

TEST_CASE("SIGTERM or SIGINT while an export is being placed leaves neither the output nor a temporary") {
  struct Case {
    std::string command, file;
    bool package;
    int sig;
  };
  for (const Case& c : {Case{"coreml", "bert.mlpackage", true, SIGTERM}, Case{"coreml", "bert.mlpackage", true, SIGINT},
                        Case{"tflite", "bert.tflite", false, SIGTERM}}) {
    CAPTURE(c.file);
    CAPTURE(c.sig);
    TempDir tmp;
    const fs::path out = tmp / c.file;
    pid_t pid = start_paused_export({c.command, model("bert"), "-o", out.string(), "--no-validate"}, tmp.path, c.package);
    ::kill(pid, c.sig);
    CHECK(wait_for_signal(pid) == c.sig);  // the signal's own default action, after cleaning
    CHECK(entries(tmp.path).empty());
  }
}

TEST_CASE("after SIGKILL the next export into the folder removes the dead process's temporary") {
  TempDir tmp;
  const fs::path out = tmp / "bert.mlpackage";
  pid_t pid = start_paused_export({"coreml", model("bert"), "-o", out.string(), "--no-validate"}, tmp.path, true);
  ::kill(pid, SIGKILL);
  CHECK(wait_for_signal(pid) == SIGKILL);
  const auto left = entries(tmp.path);
  REQUIRE(left.size() == 1);  // nothing can clean up after SIGKILL itself
  CHECK(left[0].starts_with(".bert.tmp-" + std::to_string(pid) + "-"));
  // A temporary of a live process (this test's) with the same name pattern stays.
  const std::string live = ".bert.tmp-" + std::to_string(::getpid()) + "-0123abcd.mlpackage";
  fs::create_directory(tmp / live);

  Run again = run_exporters("coreml " + model("bert") + " -o " + out.string() + " --no-validate");
  INFO(again.output);
  CHECK(again.exit_code == 0);
  CHECK(entries(tmp.path) == std::vector<std::string>{live, "bert.mlpackage"});
}

TEST_CASE("a file-size limit (full disk) is one error naming the output, and nothing is left") {
  for (std::string command : {"coreml", "coreml --legacy", "tflite"}) {
    CAPTURE(command);
    TempDir tmp;
    const std::string file = command == "tflite" ? "bert.tflite" : command == "coreml" ? "bert.mlpackage" : "bert.mlmodel";
    // ulimit -f is in blocks of 512 or 1024 bytes; the weights need far more.
    Run run = exporters::testing::run_command("ulimit -f 8; '" + std::string(EXPORTERS_EXE) + "' " + command + " " +
                                              model("bert") + " -o " + (tmp / file).string() + " --no-validate 2>&1");
    INFO(run.output);
    CHECK(run.exit_code == 1);
    CHECK(contains(run.output, "exporters: error: " + (tmp / file).string()));
    CHECK(contains(run.output, "File too large"));
    CHECK(entries(tmp.path).empty());
  }
}

TEST_CASE("a read-only output folder is one error naming the output, before any work") {
  TempDir tmp;
  fs::permissions(tmp.path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);
  fs::create_directory(tmp / "ro");
  fs::permissions(tmp / "ro", fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                  fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  // root writes anywhere: run the export as nobody then (the build tree is world-readable).
  const std::string as_user = ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  for (std::string file : {"bert.mlpackage", "bert.tflite"}) {
    const std::string command = file == "bert.tflite" ? "tflite" : "coreml";
    Run run = exporters::testing::run_command(as_user + "'" + EXPORTERS_EXE + "' " + command + " " + model("bert") +
                                              " -o " + (tmp / "ro" / file).string() + " --no-validate 2>&1");
    INFO(run.output);
    CHECK(run.exit_code == 1);
    CHECK(contains(run.output, "exporters: error: " + (tmp / "ro" / file).string() + ": cannot write in its folder: Permission denied"));
    CHECK(!contains(run.output, "loading"));  // refused before the export's work
    CHECK(entries(tmp / "ro").empty());
  }
}

TEST_CASE("an export that fails validation is kept as NAME.invalid.EXT, or removed with --no-keep-invalid") {
  TempDir tmp;
  const fs::path out = tmp / "bert.mlpackage";
  Run run = run_exporters("coreml " + model("bert") + " -o " + out.string() + " --quantize float16 --atol 1e-9");
  INFO(run.output);
  CHECK(run.exit_code == 1);
  CHECK(contains(run.output, "validation: FAIL"));
  CHECK(contains(run.output, "the export was kept as " + (tmp / "bert.invalid.mlpackage").string()));
  CHECK(entries(tmp.path) == std::vector<std::string>{"bert.invalid.mlpackage"});
  // It is a complete package: validate reads it.
  CHECK(fs::exists(tmp / "bert.invalid.mlpackage" / "Manifest.json"));

  // A second failing run replaces the kept one; --no-keep-invalid removes it.
  Run tflite = run_exporters("tflite " + model("bert") + " -o " + (tmp / "bert.tflite").string() +
                             " --quantize float16 --atol 1e-9 --no-keep-invalid");
  INFO(tflite.output);
  CHECK(tflite.exit_code == 1);
  CHECK(contains(tflite.output, "the export was removed (--no-keep-invalid)"));
  CHECK(entries(tmp.path) == std::vector<std::string>{"bert.invalid.mlpackage"});
}

// ---- float16 never turns finite values into NaN or infinity ----------------

TEST_CASE("float16 exports of tiny-epsilon norms over constant rows stay finite and match PyTorch on every backend") {
  std::ifstream cases(std::string(TRACED_MODELS_DIR) + "/fp16_cases.txt");
  std::string name, shape;
  int count = 0;
  while (cases >> name >> shape) {
    ++count;
    const std::string pt = std::string(TRACED_MODELS_DIR) + "/" + name + "/model.pt";
    struct Backend {
      std::string command, file;
    };
    for (const Backend& b : {Backend{"coreml", "m.mlpackage"}, Backend{"coreml --legacy", "m.mlmodel"},
                             Backend{"tflite", "m.tflite"}, Backend{"tflite --runtime litert", "m.tflite"}}) {
      CAPTURE(name);
      CAPTURE(b.command);
      TempDir tmp;
      // Validation fails on a NaN or an infinity where PyTorch is finite.
      Run run = run_exporters(b.command + " " + pt + " -o " + (tmp / b.file).string() + " --shape x=" + shape +
                              " --quantize float16");
      INFO(run.output);
      CHECK(run.exit_code == 0);
      CHECK(contains(run.output, "validation: PASS"));
    }
  }
  CHECK(count == 4);
}

TEST_CASE("F.unfold and F.fold export to every backend and match PyTorch") {
  std::ifstream cases(std::string(TRACED_MODELS_DIR) + "/ops_cases.txt");
  std::string name, shape;
  int count = 0;
  while (cases >> name >> shape) {
    ++count;
    const std::string pt = std::string(TRACED_MODELS_DIR) + "/" + name + "/model.pt";
    for (std::string command : {"coreml -o m.mlpackage", "coreml -o m16.mlpackage --quantize float16",
                                "coreml --legacy -o m.mlmodel", "tflite -o m.tflite --runtime litert"}) {
      CAPTURE(name);
      CAPTURE(command);
      TempDir tmp;
      const size_t o = command.find("-o ") + 3;
      command.insert(o, tmp.path.string() + "/");
      Run run = run_exporters(command + " " + pt + " --shape x=" + shape);
      INFO(run.output);
      CHECK(run.exit_code == 0);
      CHECK(contains(run.output, "validation: PASS"));
    }
  }
  CHECK(count == 1);
}
