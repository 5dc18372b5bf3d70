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
