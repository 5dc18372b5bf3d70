#include <doctest/doctest.h>

#include "registry/search_path.hpp"
#include "scenario.hpp"

using namespace exporters::registry;
using namespace registry_test;

TEST_CASE("colon-separated lists drop empty items") {
  CHECK(split_path_list("") == std::vector<std::string>{});
  CHECK(split_path_list("/a") == std::vector<std::string>{"/a"});
  CHECK(split_path_list("/a::/b:") == std::vector<std::string>{"/a", "/b"});
  CHECK(split_path_list(":/a") == std::vector<std::string>{"/a"});
}

TEST_CASE("search path order: flag, environment, build tree, user folder, installed") {
  TempDir tmp;
  SearchPathSources sources;
  sources.flag = (tmp.sub("flag1")).string() + ":" + tmp.sub("flag2").string();
  sources.env = tmp.sub("env").string();
  sources.build_tree = tmp.sub("build");
  sources.home = tmp.sub("home");
  fs::create_directories(tmp.path() / "home/.local/lib/exporters/plugins");
  sources.installed = {tmp.sub("installed")};

  auto path = make_search_path(sources);
  REQUIRE(path.size() == 6);
  CHECK(path[0].dir == tmp.path() / "flag1");
  CHECK(path[0].origin == "--plugin-path");
  CHECK(path[1].dir == tmp.path() / "flag2");
  CHECK(path[2].dir == tmp.path() / "env");
  CHECK(path[2].origin == "EXPORTERS_PLUGIN_PATH");
  CHECK(path[3].dir == tmp.path() / "build");
  CHECK(path[3].origin == "build tree");
  CHECK(path[4].dir == tmp.path() / "home/.local/lib/exporters/plugins");
  CHECK(path[4].origin == "user");
  CHECK(path[5].dir == tmp.path() / "installed");
  CHECK(path[5].origin == "installed");
}

TEST_CASE("missing folders are skipped and a folder listed twice keeps its first place") {
  TempDir tmp;
  SearchPathSources sources;
  fs::path a = tmp.sub("a");
  fs::create_directory_symlink(a, tmp.path() / "link-to-a");
  sources.flag = (tmp.path() / "missing").string() + ":" + a.string();
  sources.env = (tmp.path() / "link-to-a").string() + ":" + tmp.sub("b").string();
  sources.installed = {a};

  auto path = make_search_path(sources);
  REQUIRE(path.size() == 2);
  CHECK(path[0].dir == a);
  CHECK(path[0].origin == "--plugin-path");
  CHECK(path[1].dir == tmp.path() / "b");
}

TEST_CASE("the search path description numbers the folders with their origin") {
  auto text = describe_search_path({{"/x", "--plugin-path"}, {"/y", "installed"}});
  CHECK(text == "  1. /x (--plugin-path)\n  2. /y (installed)\n");
  CHECK(describe_search_path({}) == "  (no existing folders)\n");
}
