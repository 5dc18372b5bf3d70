// Helpers of the tests/vision executables: files, the exporters CLI, temp dirs.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include "tests/fixtures_lib/run_command.hpp"
#include "tests/fixtures_lib/temp_dir.hpp"

namespace vision_test {

namespace fs = std::filesystem;

inline std::vector<uint8_t> read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << file.string());
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  REQUIRE_MESSAGE(in.good(), "cannot open " << file.string());
  return nlohmann::json::parse(in);
}

using Run = exporters::testing::CommandRun;

inline Run run_cli(const std::string& args) {
  return exporters::testing::run_command(std::string("'") + EXPORTERS_EXE + "' " + args + " 2>&1");
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

inline std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

using TempDir = exporters::testing::TempDir;

}  // namespace vision_test
