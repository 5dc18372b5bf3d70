// Each family plugin loads from the build tree, serves its model types and
// the HF classes expected of it, with complete task specs; every HF fixture's
// class is served with the fixture's output names; removing one plugin's
// files makes only that family unavailable.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "hf_fixtures.hpp"
#include "registry/plugin_registry.hpp"
#include "registry/standard_plugins.hpp"
#include "tests/fixtures_lib/run_command.hpp"

namespace fs = std::filesystem;
using namespace exporters;

namespace {

const fs::path kPlugins = PLUGINS_BUILD_DIR;

struct Family {
  std::string name;
  std::vector<std::string> model_types;
  std::set<std::string> classes;
};

std::set<std::string> encoder(const std::string& p, bool nsp) {
  std::set<std::string> s{p + "Model", p + "ForMaskedLM", p + "ForSequenceClassification",
                          p + "ForTokenClassification", p + "ForQuestionAnswering", p + "ForMultipleChoice"};
  if (nsp) {
    s.insert(p + "ForNextSentencePrediction");
    s.insert(p + "ForPreTraining");
  }
  return s;
}

const std::vector<Family>& families() {
  static const std::vector<Family> f = {
      {"bert", {"bert"}, encoder("Bert", true)},
      {"distilbert", {"distilbert"}, encoder("DistilBert", false)},
      {"mobilebert", {"mobilebert"}, encoder("MobileBert", true)},
      {"gpt2", {"gpt2"}, {"GPT2Model", "GPT2LMHeadModel", "GPT2ForSequenceClassification", "GPT2ForTokenClassification"}},
      {"vit", {"vit"}, {"ViTModel", "ViTForImageClassification"}},
      {"convnext", {"convnext"}, {"ConvNextModel", "ConvNextForImageClassification"}},
      {"cvt", {"cvt"}, {"CvtModel", "CvtForImageClassification"}},
      {"mobilevit", {"mobilevit"},
       {"MobileViTModel", "MobileViTForImageClassification", "MobileViTForSemanticSegmentation"}},
      {"segformer", {"segformer"},
       {"SegformerModel", "SegformerForImageClassification", "SegformerForSemanticSegmentation"}},
  };
  return f;
}

registry::PluginRegistry open(const fs::path& dir) { return registry::PluginRegistry({{dir, "test"}}); }

}  // namespace

TEST_CASE("every family plugin loads and registers its classes with complete specs") {
  registry::PluginRegistry reg({{kPlugins, "build tree"}});
  for (const auto& fam : families()) {
    CAPTURE(fam.name);
    for (const auto& mt : fam.model_types) {
      const registry::PluginRecord* rec = reg.find_by_model_type(mt);
      REQUIRE_MESSAGE(rec, "no plugin serves " << mt);
      CHECK(rec->display_name() == fam.name);
      CHECK(rec->state == registry::PluginState::Loaded);
      std::set<std::string> classes;
      for (const auto& t : rec->tasks) {
        CAPTURE(t.hf_class);
        classes.insert(t.hf_class);
        CHECK(!t.task.empty());
        CHECK(!t.description.empty());
        REQUIRE(!t.outputs.empty());
        for (size_t i = 0; i < t.outputs.size(); ++i) {
          CHECK(!t.outputs[i].description.empty());
          // Every head a task names is plugin code the plugin registered.
          if (!t.outputs[i].head.empty()) CHECK(rec->code->head(t.outputs[i].head) != nullptr);
        }
        // Every task has a resolver (config-aware tasks).
        CHECK(rec->code->resolvers.count(t.hf_class) == 1);
        for (const auto& in : t.inputs) CHECK(!in.description.empty());
        CHECK(t.float16_tolerance > 0);
        CHECK(t.float16_tolerance <= 5e-2);
        const bool text = t.inputs.front().name == "input_ids";
        if (text) {
          CHECK(t.default_sequence_length == (fam.name == "gpt2" ? 64 : 128));
          std::vector<std::string> names;
          for (const auto& in : t.inputs) {
            names.push_back(in.name);
            CHECK(in.dtype == ir::DType::I64);
            CHECK(in.shape.size() == (t.task == "multiple-choice" ? 3u : 2u));
          }
          const bool tti = fam.name != "distilbert" && fam.name != "gpt2";
          CHECK(names == (tti ? std::vector<std::string>{"input_ids", "attention_mask", "token_type_ids"}
                              : std::vector<std::string>{"input_ids", "attention_mask"}));
        } else {
          REQUIRE(t.inputs.size() == 1);
          CHECK(t.inputs[0].name == "pixel_values");
          CHECK(t.inputs[0].shape == std::vector<int64_t>{-1, 3, -1, -1});
          // The image processors are plugin code too.
          for (const char* type : {"ViTImageProcessor", "ConvNextImageProcessor", "MobileViTImageProcessor",
                                   "SegformerImageProcessor"})
            CHECK(rec->code->preprocessor(type) != nullptr);
        }
        CHECK(t.attention_mask_optional == (fam.name == "mobilebert"));
        // Heads by task.
        std::string want;
        if (t.task == "sequence-classification" || t.task == "image-classification") want = "classifier";
        else if (t.task == "token-classification") want = "token-classifier";
        else if (t.task == "masked-lm" || t.task == "multiple-choice" || t.task == "next-sentence-prediction" ||
                 t.task == "pretraining")
          want = "softmax";
        else if (t.task == "semantic-segmentation") want = "segmentation";
        for (const auto& o : t.outputs) CHECK(o.head == want);
      }
      CHECK(classes == fam.classes);
    }
  }
  // gpt2 causal LM keeps raw logits.
  const auto& gpt2 = reg.tasks("gpt2");
  auto lm = std::find_if(gpt2.begin(), gpt2.end(), [](const TaskSpec& t) { return t.hf_class == "GPT2LMHeadModel"; });
  REQUIRE(lm != gpt2.end());
  CHECK(lm->task == "causal-lm");
  CHECK(lm->outputs.at(0).head.empty());
}

// Suite "shared": run as the meson test plugins_registration_shared, which
// skips without ../shared.
TEST_CASE("every HF fixture's class is served, with the fixture's output names" * doctest::test_suite("shared")) {
  testing::require_hf_fixtures();
  registry::PluginRegistry reg({{kPlugins, "build tree"}});
  const auto fixtures = testing::load_fixture_index();
  REQUIRE(fixtures.size() >= 29);
  for (const auto& f : fixtures) {
    CAPTURE(f.name);
    const registry::PluginRecord* rec = reg.find_by_model_type(f.model_type);
    REQUIRE(rec);
    const TaskSpec* spec = nullptr;
    for (const auto& t : rec->tasks)
      if (t.hf_class == f.hf_class) spec = &t;
    REQUIRE_MESSAGE(spec, f.hf_class << " not served by " << rec->display_name());
    std::vector<std::string> outs, ins, spec_ins;
    for (const auto& o : f.outputs) outs.push_back(o.name);
    for (const auto& i : f.inputs) ins.push_back(i.name);
    for (const auto& i : spec->inputs) spec_ins.push_back(i.name);
    std::vector<std::string> spec_outs;
    for (const auto& o : spec->outputs) spec_outs.push_back(o.name);
    CHECK(spec_outs == outs);
    CHECK(spec_ins == ins);
  }
}

TEST_CASE("removing one plugin's files makes only that family unavailable") {
  const fs::path dir = fs::temp_directory_path() / fmt::format("exporters-plugins-{}", ::getpid());
  fs::remove_all(dir);
  for (const auto& fam : families()) {
    if (fam.name == "segformer") continue;
    fs::create_directories(dir / fam.name);
    for (const char* ext : {".json", ".so"}) {
      const std::string file = (std::string(ext) == ".so" ? "lib" : "") + fam.name + ext;
      fs::copy_file(kPlugins / fam.name / file, dir / fam.name / file);
    }
  }
  {
    registry::PluginRegistry reg = open(dir);
    CHECK(reg.find_by_model_type("segformer") == nullptr);
    CHECK_THROWS_WITH_AS(reg.tasks("segformer"), doctest::Contains("segformer"), registry::RegistryError);
    for (const auto& fam : families())
      if (fam.name != "segformer") CHECK_MESSAGE(reg.find_by_model_type(fam.model_types[0]), fam.name);
  }
  // A family whose library is gone but whose manifest stays: only it breaks,
  // and the reason names its library.
  fs::remove(dir / "vit" / "libvit.so");
  {
    registry::PluginRegistry reg = open(dir);
    CHECK(reg.find_by_model_type("vit") == nullptr);
    bool named = false;
    for (const auto& p : reg.plugins())
      if (p.display_name() == "vit") named = p.state == registry::PluginState::Broken && p.error.find("libvit.so") != std::string::npos;
    for (const auto& w : reg.warnings()) named = named || w.find("libvit.so") != std::string::npos;
    CHECK_MESSAGE(named, "no error names libvit.so");
    CHECK(reg.find_by_model_type("bert") != nullptr);
  }
  fs::remove_all(dir);
}

namespace {

std::pair<int, std::string> run_exporters(const std::string& args) {
  auto r = exporters::testing::run_command(std::string("env -u EXPORTERS_PLUGIN_PATH HOME=/nonexistent-exporters-home '") +
                                           EXPORTERS_EXE + "' " + args + " 2>&1");
  return {r.exit_code, r.output};
}

// "task (HfClass), ..." in registration order, as `plugins list` prints it.
std::string tasks_line(const std::vector<TaskSpec>& tasks) {
  std::string line;
  for (const auto& t : tasks) line += (line.empty() ? "" : ", ") + t.task + " (" + t.hf_class + ")";
  return "    tasks: " + line + "\n";
}

}  // namespace

TEST_CASE("each family's built manifest lists exactly the tasks its library registers") {
  registry::PluginRegistry reg({{kPlugins, "build tree"}});
  for (const auto& fam : families()) {
    CAPTURE(fam.name);
    const registry::PluginManifest m = registry::read_manifest(kPlugins / fam.name / (fam.name + ".json"));
    CHECK(m.name == fam.name);
    CHECK(m.model_types == fam.model_types);
    REQUIRE(m.tasks.has_value());
    const registry::PluginRecord* rec = reg.find_by_model_type(fam.model_types[0]);
    REQUIRE(rec);
    std::vector<registry::ManifestTask> registered;
    for (const auto& t : rec->tasks) registered.push_back({t.task, t.hf_class});
    CHECK(*m.tasks == registered);
    std::set<std::string> classes;
    for (const auto& t : *m.tasks) classes.insert(t.hf_class);
    CHECK(classes == fam.classes);
  }
}

TEST_CASE("plugins list shows all nine families with the tasks their loaded plugins register, loading none") {
  auto [code, list] = run_exporters("plugins list");
  REQUIRE(code == 0);
  registry::PluginRegistry reg({{kPlugins, "build tree"}});
  for (const auto& fam : families()) {
    CAPTURE(fam.name);
    const size_t row = list.find("\n" + fam.name + " ");
    REQUIRE_MESSAGE(row != std::string::npos, list);
    const size_t next_line = list.find('\n', row + 1) + 1;
    const size_t end = list.find('\n', next_line) + 1;
    CHECK(list.substr(row + 1, next_line - row - 1).find("available") != std::string::npos);
    CHECK(list.substr(next_line, end - next_line) == tasks_line(reg.tasks(fam.model_types[0])));
  }
}

TEST_CASE("the host's table of standard plugins agrees with the built plugins") {
  const auto& standard = registry::standard_plugins();
  REQUIRE(standard.size() == families().size());
  for (const auto& fam : families()) {
    CAPTURE(fam.name);
    const registry::PluginManifest m = registry::read_manifest(kPlugins / fam.name / (fam.name + ".json"));
    for (const auto& type : m.model_types) {
      const registry::StandardPlugin* s = registry::standard_plugin_for(type);
      REQUIRE(s);
      CHECK(s->name == m.name);
      CHECK(s->model_types == m.model_types);
    }
  }
  CHECK(registry::standard_plugin_for("no-such-type") == nullptr);
}
