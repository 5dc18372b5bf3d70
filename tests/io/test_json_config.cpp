// JSON config helpers: errors name the file and the key path.
#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>
#include <string>

#include "core/io/json_config.hpp"

namespace fs = std::filesystem;
namespace io = exporters::io;
using nlohmann::json;

namespace {

struct JsonFile {
  fs::path path;
  explicit JsonFile(const std::string& text) {
    static int counter = 0;
    path = fs::temp_directory_path() / ("exporters_test_json_" + std::to_string(::getpid()) +
                                        "_" + std::to_string(counter++) + ".json");
    std::ofstream(path) << text;
  }
  ~JsonFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "<no exception>";
}

}  // namespace

TEST_CASE("read_json_file parses a config") {
  JsonFile f(R"({"model_type": "bert", "hidden_size": 32, "id2label": {"0": "A"}})");
  const json j = io::read_json_object_file(f.path);
  CHECK(j["model_type"] == "bert");
  CHECK(j["hidden_size"] == 32);
}

TEST_CASE("a missing file is named in the error") {
  const fs::path path = fs::temp_directory_path() / "exporters_no_such_config.json";
  const std::string msg = error_of([&] { io::read_json_file(path); });
  CHECK(msg.find(path.string()) != std::string::npos);
  CHECK(msg.find("file not found") != std::string::npos);
}

TEST_CASE("bad JSON names the file and the parser position") {
  JsonFile f("{\n  \"a\": 1,\n  \"b\": \n}");
  const std::string msg = error_of([&] { io::read_json_file(f.path); });
  INFO(msg);
  CHECK(msg.find(f.path.string()) != std::string::npos);
  CHECK(msg.find("not valid JSON") != std::string::npos);
  CHECK(msg.find("line 4") != std::string::npos);
}

TEST_CASE("a top level that is not an object is rejected by read_json_object_file") {
  JsonFile f("[1, 2, 3]");
  CHECK_NOTHROW(io::read_json_file(f.path));
  const std::string msg = error_of([&] { io::read_json_object_file(f.path); });
  CHECK(msg.find("must be a JSON object, got array") != std::string::npos);
}

TEST_CASE("typed getters return values and name the key path on a wrong type") {
  JsonFile f(R"({"name": "vit", "size": 224.0, "eps": 1e-12, "mean": [0.5, 0.5, 1],
                 "flag": true, "inputs": [{"name": "x", "shape": [1, "3"]}], "nothing": null})");
  const json j = io::read_json_object_file(f.path);
  const io::JsonLocation loc(f.path);

  CHECK(io::json_string(j, "name", loc) == "vit");
  CHECK(io::json_int(j, "size", loc) == 224);  // integral float accepted
  CHECK(io::json_number(j, "eps", loc) == 1e-12);
  CHECK(io::json_number_list(j, "mean", loc) == std::vector<double>{0.5, 0.5, 1.0});
  CHECK(io::json_bool(j, "flag", loc));
  CHECK_FALSE(io::json_optional_string(j, "absent", loc).has_value());
  CHECK_FALSE(io::json_optional_int(j, "nothing", loc).has_value());
  CHECK(io::json_optional_bool(j, "flag", loc) == true);

  std::string msg = error_of([&] { io::json_int(j, "name", loc); });
  CHECK(msg.find(f.path.string() + ": 'name' must be an integer, got string") != std::string::npos);

  msg = error_of([&] { io::json_int(j, "eps", loc); });
  CHECK(msg.find("'eps' must be an integer, got number") != std::string::npos);

  msg = error_of([&] { io::json_string(j, "hidden_size", loc); });
  CHECK(msg.find(f.path.string() + ": missing key 'hidden_size'") != std::string::npos);

  const json& inputs = io::json_array(j, "inputs", loc);
  msg = error_of([&] { io::json_int_list(inputs[0], "shape", loc.at("inputs").at(0)); });
  CHECK(msg.find("'inputs[0].shape[1]' must be an integer, got string") != std::string::npos);

  msg = error_of([&] { io::json_optional_bool(j, "name", loc); });
  CHECK(msg.find("'name' must be a boolean, got string") != std::string::npos);

  msg = error_of([&] { io::json_string(inputs, "name", loc.at("inputs")); });
  CHECK(msg.find("'inputs' must be an object, got array") != std::string::npos);
}

TEST_CASE("parse_json refuses nesting deeper than kMaxJsonDepth and accepts it up to there") {
  const auto nested = [](int levels) { return std::string(levels, '[') + std::string(levels, ']'); };
  CHECK_NOTHROW(io::parse_json(nested(io::kMaxJsonDepth)));
  CHECK_THROWS_WITH_AS(io::parse_json(nested(io::kMaxJsonDepth + 1)), doctest::Contains("nesting deeper than 256 levels"),
                       nlohmann::json::exception);
  CHECK_THROWS_AS(io::parse_json(nested(100000)), nlohmann::json::exception);
  CHECK(io::parse_json(R"({"a": [1, {"b": 2}]})")["a"][1]["b"] == 2);
}
