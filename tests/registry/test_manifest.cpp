#include <doctest/doctest.h>

#include "registry/manifest.hpp"
#include "scenario.hpp"

using exporters::registry::ManifestError;
using exporters::registry::parse_manifest;
using exporters::registry::read_manifest;
using namespace registry_test;

TEST_CASE("a complete manifest is read and its library resolved beside it") {
  auto m = parse_manifest(
      R"({"name":"bert","version":"1.0.0","abi":1,"model_types":["bert","roberta"],"library":"libbert.so"})",
      "/opt/plugins/bert/bert.json");
  CHECK(m.name == "bert");
  CHECK(m.version == "1.0.0");
  CHECK(m.abi == 1);
  CHECK(m.model_types == std::vector<std::string>{"bert", "roberta"});
  CHECK(m.library == "libbert.so");
  CHECK(m.library_path == "/opt/plugins/bert/libbert.so");
}

TEST_CASE("a manifest that is not JSON names the parse problem") {
  CHECK_THROWS_WITH_AS(parse_manifest(R"({"name": "x", )", "x.json"),
                       doctest::Contains("not valid JSON"), ManifestError);
}

TEST_CASE("a manifest must be a JSON object") {
  CHECK_THROWS_WITH_AS(parse_manifest("[1, 2]", "x.json"),
                       "manifest must be a JSON object", ManifestError);
}

TEST_CASE("each missing manifest field is named") {
  for (const char* field : {"name", "version", "abi", "model_types", "library"}) {
    auto doc = manifest("x", {"x"}, "libx.so");
    doc.erase(field);
    CAPTURE(field);
    CHECK_THROWS_WITH_AS(parse_manifest(doc.dump(), "x.json"),
                         (std::string("manifest has no \"") + field + "\" field").c_str(),
                         ManifestError);
  }
}

TEST_CASE("mistyped manifest fields are rejected") {
  auto doc = manifest("x", {"x"}, "libx.so");
  doc["abi"] = "1";
  CHECK_THROWS_WITH_AS(parse_manifest(doc.dump(), "x.json"),
                       "manifest field \"abi\" must be an integer", ManifestError);
  doc = manifest("x", {"x"}, "libx.so");
  doc["model_types"] = "x";
  CHECK_THROWS_WITH_AS(parse_manifest(doc.dump(), "x.json"),
                       "manifest field \"model_types\" must be an array of strings", ManifestError);
  doc["model_types"] = nlohmann::json::array({1});
  CHECK_THROWS_WITH_AS(parse_manifest(doc.dump(), "x.json"),
                       "manifest field \"model_types\" must hold non-empty strings", ManifestError);
  doc["model_types"] = nlohmann::json::array();
  CHECK_THROWS_WITH_AS(parse_manifest(doc.dump(), "x.json"),
                       "manifest field \"model_types\" is empty", ManifestError);
}

TEST_CASE("the manifest's library must be a file name beside it") {
  CHECK_THROWS_AS(parse_manifest(manifest("x", {"x"}, "/usr/lib/libx.so").dump(), "x.json"),
                  ManifestError);
  CHECK_THROWS_AS(parse_manifest(manifest("x", {"x"}, "../libx.so").dump(), "x.json"),
                  ManifestError);
}

TEST_CASE("read_manifest reports an unreadable file") {
  TempDir tmp;
  CHECK_THROWS_WITH_AS(read_manifest(tmp.path() / "absent.json"), "cannot read manifest",
                       ManifestError);
}

TEST_CASE("a manifest's optional tasks are read in order; without them the field is absent") {
  auto doc = manifest("x", {"x"}, "libx.so");
  CHECK_FALSE(parse_manifest(doc.dump(), "x.json").tasks.has_value());
  doc["tasks"] = nlohmann::json::array({{{"task", "masked-lm"}, {"hf_class", "XForMaskedLM"}},
                                        {{"task", "feature-extraction"}, {"hf_class", "XModel"}}});
  auto m = parse_manifest(doc.dump(), "x.json");
  REQUIRE(m.tasks.has_value());
  CHECK(*m.tasks == std::vector<exporters::registry::ManifestTask>{{"masked-lm", "XForMaskedLM"},
                                                                     {"feature-extraction", "XModel"}});
}

TEST_CASE("malformed tasks in a manifest are rejected with the field named") {
  for (nlohmann::json bad : {nlohmann::json("masked-lm"), nlohmann::json::array({"masked-lm"}),
                             nlohmann::json::array({{{"task", "masked-lm"}}}),
                             nlohmann::json::array({{{"task", ""}, {"hf_class", "X"}}})}) {
    auto doc = manifest("x", {"x"}, "libx.so");
    doc["tasks"] = bad;
    CAPTURE(bad.dump());
    CHECK_THROWS_WITH_AS(parse_manifest(doc.dump(), "x.json"), doctest::Contains("\"tasks\""), ManifestError);
  }
}

TEST_CASE("manifest_to_json writes the documented fields in order and reads back equal") {
  exporters::registry::PluginManifest m;
  m.name = "bert";
  m.version = "1.0.0";
  m.abi = 1;
  m.model_types = {"bert"};
  m.library = "libbert.so";
  m.tasks = std::vector<exporters::registry::ManifestTask>{{"masked-lm", "BertForMaskedLM"}, {"qa \"x\"", "BertQ"}};
  const std::string text = exporters::registry::manifest_to_json(m);
  CHECK(text.find("\"name\"") < text.find("\"version\""));
  CHECK(text.find("\"library\"") < text.find("\"tasks\""));
  CHECK(contains(text, R"({"task": "masked-lm", "hf_class": "BertForMaskedLM"})"));
  auto back = parse_manifest(text, "/p/bert.json");
  CHECK(back.name == m.name);
  CHECK(back.version == m.version);
  CHECK(back.abi == 1);
  CHECK(back.model_types == m.model_types);
  CHECK(back.library == m.library);
  CHECK(back.tasks == m.tasks);
  m.tasks.reset();
  CHECK_FALSE(contains(exporters::registry::manifest_to_json(m), "tasks"));
}

// Found by fuzzing: a number out of range escaped as json::out_of_range
// (only parse_error was caught), and one such manifest broke every command.
TEST_CASE("a number too large for JSON is a ManifestError naming it") {
  CHECK_THROWS_WITH_AS(
      parse_manifest(R"({"name":"x","version":"1","abi":1e400,"model_types":["x"],"library":"libx.so"})", "x.json"),
      doctest::Contains("manifest is not valid JSON: number overflow parsing '1e400'"), ManifestError);
}

TEST_CASE("an abi that does not fit an int is rejected, not wrapped") {
  for (const char* abi : {"4294967297", "-4294967295", "18446744073709551615"}) {
    CAPTURE(abi);
    CHECK_THROWS_WITH_AS(
        parse_manifest(std::string(R"({"name":"x","version":"1","abi":)") + abi +
                           R"(,"model_types":["x"],"library":"libx.so"})", "x.json"),
        (std::string("manifest field \"abi\" is out of range: ") + abi).c_str(), ManifestError);
  }
}

TEST_CASE("a deeply nested manifest is a ManifestError, not a stack overflow") {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  CHECK_THROWS_WITH_AS(parse_manifest(R"({"name":"x","version":"1","abi":1,"model_types":)" + deep + "}", "x.json"),
                       doctest::Contains("nesting deeper than 64 levels"), ManifestError);
}
