// Hub ids resolved in a Hugging Face cache laid out in a temporary folder as
// huggingface_hub lays it out (refs/<revision> -> snapshots/<commit>/).
#include <doctest/doctest.h>

#include <stdlib.h>

#include <fstream>
#include <functional>
#include <optional>

#include "core/io/hf_cache.hpp"
#include "tests/fixtures_lib/temp_dir.hpp"

namespace fs = std::filesystem;
using exporters::io::hf_cache_dirs;
using exporters::io::looks_like_hub_id;
using exporters::io::resolve_hub_snapshot;
using exporters::io::resolve_model_argument;
using exporters::testing::TempDir;

namespace {

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
const std::string kOther = "fedcba9876543210fedcba9876543210fedcba98";

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// models--google--vit-tiny with main -> kCommit and a tag v1 -> kOther.
fs::path make_cache(const TempDir& tmp) {
  fs::path repo = tmp / "hub" / "models--google--vit-tiny";
  write(repo / "refs" / "main", kCommit);
  write(repo / "refs" / "v1", kOther + "\n");
  write(repo / "snapshots" / kCommit / "config.json", "{\"model_type\": \"vit\"}");
  write(repo / "snapshots" / kOther / "config.json", "{\"model_type\": \"vit\"}");
  return tmp / "hub";
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Sets an environment variable for the scope of one test.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> old;
  ScopedEnv(std::string n, const std::optional<std::string>& value) : name(std::move(n)) {
    if (const char* v = getenv(name.c_str())) old = v;
    if (value) setenv(name.c_str(), value->c_str(), 1);
    else unsetenv(name.c_str());
  }
  ~ScopedEnv() {
    if (old) setenv(name.c_str(), old->c_str(), 1);
    else unsetenv(name.c_str());
  }
};

}  // namespace

TEST_CASE("hub ids: org/name and name are ids, paths and malformed names are not") {
  CHECK(looks_like_hub_id("google/vit-base-patch16-224"));
  CHECK(looks_like_hub_id("gpt2"));
  CHECK(looks_like_hub_id("distilbert-base-uncased"));
  CHECK(looks_like_hub_id("org_1/model.v2"));
  CHECK_FALSE(looks_like_hub_id(""));
  CHECK_FALSE(looks_like_hub_id("a/b/c"));
  CHECK_FALSE(looks_like_hub_id("./model"));
  CHECK_FALSE(looks_like_hub_id("/abs/path"));
  CHECK_FALSE(looks_like_hub_id("org/-name"));
  CHECK_FALSE(looks_like_hub_id("org/na--me"));
  CHECK_FALSE(looks_like_hub_id("org/na..me"));
  CHECK_FALSE(looks_like_hub_id("org/name with space"));
}

TEST_CASE("the cache folder follows HF_HUB_CACHE, HF_HOME, XDG_CACHE_HOME, HOME in that order") {
  ScopedEnv a("HF_HUB_CACHE", std::nullopt), b("HUGGINGFACE_HUB_CACHE", std::nullopt), c("HF_HOME", std::nullopt),
      d("XDG_CACHE_HOME", std::nullopt), e("HOME", std::string("/home/u"));
  CHECK(hf_cache_dirs() == std::vector<fs::path>{"/home/u/.cache/huggingface/hub"});
  {
    ScopedEnv x("XDG_CACHE_HOME", std::string("/xdg"));
    CHECK(hf_cache_dirs() == std::vector<fs::path>{"/xdg/huggingface/hub"});
    ScopedEnv h("HF_HOME", std::string("/hf"));
    CHECK(hf_cache_dirs() == std::vector<fs::path>{"/hf/hub"});
    ScopedEnv hub("HF_HUB_CACHE", std::string("/cache"));
    CHECK(hf_cache_dirs() == std::vector<fs::path>{"/cache"});
  }
}

TEST_CASE("a hub id resolves to the snapshot its ref names, or to a commit given as revision") {
  TempDir tmp;
  fs::path cache = make_cache(tmp);
  const fs::path repo = cache / "models--google--vit-tiny";
  CHECK(resolve_hub_snapshot("google/vit-tiny", "main", {cache}) == repo / "snapshots" / kCommit);
  CHECK(resolve_hub_snapshot("google/vit-tiny", "v1", {cache}) == repo / "snapshots" / kOther);
  CHECK(resolve_hub_snapshot("google/vit-tiny", kOther, {cache}) == repo / "snapshots" / kOther);
}

TEST_CASE("a model missing from the cache is one error naming the id, the revision and the places looked at") {
  TempDir tmp;
  fs::path cache = make_cache(tmp);
  std::string e = error_of([&] { resolve_hub_snapshot("google/vit-huge", "main", {cache}); });
  CHECK(e.find("google/vit-huge") != std::string::npos);
  CHECK(e.find((cache / "models--google--vit-huge").string()) != std::string::npos);
  CHECK(e.find("no such folder") != std::string::npos);
  e = error_of([&] { resolve_hub_snapshot("google/vit-tiny", "dev", {cache}); });
  CHECK(e.find("revision 'dev'") != std::string::npos);
  CHECK(e.find("no such ref") != std::string::npos);
  // A ref pointing at a snapshot that is not there.
  write(cache / "models--google--vit-tiny" / "refs" / "broken", std::string(40, 'a'));
  e = error_of([&] { resolve_hub_snapshot("google/vit-tiny", "broken", {cache}); });
  CHECK(e.find("no such snapshot") != std::string::npos);
  write(cache / "models--google--vit-tiny" / "refs" / "garbage", "not a hash");
  e = error_of([&] { resolve_hub_snapshot("google/vit-tiny", "garbage", {cache}); });
  CHECK(e.find("does not hold a commit hash") != std::string::npos);
  e = error_of([&] { resolve_hub_snapshot("google/vit-tiny", "../../x", {cache}); });
  CHECK(e.find("not a valid name") != std::string::npos);
}

TEST_CASE("the CLI's MODEL argument: an existing path wins, else the cache through the environment") {
  TempDir tmp;
  fs::path cache = make_cache(tmp);
  ScopedEnv hub("HF_HUB_CACHE", cache.string());
  CHECK(resolve_model_argument(tmp.path.string(), std::nullopt) == tmp.path);
  CHECK(resolve_model_argument("google/vit-tiny", std::nullopt) ==
        cache / "models--google--vit-tiny" / "snapshots" / kCommit);
  CHECK(resolve_model_argument("google/vit-tiny", std::string("v1")) ==
        cache / "models--google--vit-tiny" / "snapshots" / kOther);
  std::string e = error_of([&] { resolve_model_argument("./no/such/dir", std::nullopt); });
  CHECK(e.find("./no/such/dir: no such model folder or file") != std::string::npos);
  e = error_of([&] { resolve_model_argument("./x", std::string("main")); });
  CHECK(e.find("--revision main") != std::string::npos);
}
