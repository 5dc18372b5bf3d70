#include "core/io/hf_cache.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace exporters::io {

namespace fs = std::filesystem;

namespace {

bool valid_part(const std::string& part) {
  if (part.empty() || part.size() > 96) return false;
  for (char c : part) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  if (part.front() == '-' || part.front() == '.' || part.back() == '-' || part.back() == '.') return false;
  return part.find("--") == std::string::npos && part.find("..") == std::string::npos;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// A commit hash as huggingface_hub stores it under snapshots/ (40 hex digits).
bool is_commit_hash(const std::string& text) {
  if (text.size() != 40) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

bool looks_like_hub_id(const std::string& text) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos) return valid_part(text);
  if (text.find('/', slash + 1) != std::string::npos) return false;
  return valid_part(text.substr(0, slash)) && valid_part(text.substr(slash + 1));
}

std::vector<fs::path> hf_cache_dirs() {
  if (std::string v = env("HF_HUB_CACHE"); !v.empty()) return {fs::path(v)};
  if (std::string v = env("HUGGINGFACE_HUB_CACHE"); !v.empty()) return {fs::path(v)};
  if (std::string v = env("HF_HOME"); !v.empty()) return {fs::path(v) / "hub"};
  if (std::string v = env("XDG_CACHE_HOME"); !v.empty()) return {fs::path(v) / "huggingface" / "hub"};
  if (std::string v = env("HOME"); !v.empty()) return {fs::path(v) / ".cache" / "huggingface" / "hub"};
  return {};
}

fs::path resolve_hub_snapshot(const std::string& repo_id, const std::string& revision,
                              const std::vector<fs::path>& cache_dirs) {
  std::string folder = "models--" + repo_id;
  for (size_t pos = folder.find('/'); pos != std::string::npos; pos = folder.find('/', pos + 2))
    folder.replace(pos, 1, "--");
  std::vector<std::string> looked;
  std::error_code ec;
  // A revision is a branch/tag name (refs/<name>, possibly with '/') or a commit hash.
  const bool safe_revision = !revision.empty() && revision.find("..") == std::string::npos && revision[0] != '/';
  for (const fs::path& cache : cache_dirs) {
    const fs::path repo = cache / folder;
    if (!fs::is_directory(repo, ec)) {
      looked.push_back(fmt::format("{} (no such folder)", repo.string()));
      continue;
    }
    if (!safe_revision) {
      looked.push_back(fmt::format("{} (revision '{}' is not a valid name)", repo.string(), revision));
      continue;
    }
    std::string commit;
    const fs::path ref = repo / "refs" / revision;
    if (fs::is_regular_file(ref, ec)) {
      std::ifstream in(ref);
      std::getline(in, commit);
      while (!commit.empty() && (commit.back() == '\r' || commit.back() == ' ' || commit.back() == '\n')) commit.pop_back();
      if (!is_commit_hash(commit)) {
        looked.push_back(fmt::format("{} (does not hold a commit hash)", ref.string()));
        continue;
      }
    } else if (is_commit_hash(revision)) {
      commit = revision;
    } else {
      looked.push_back(fmt::format("{} (no such ref)", ref.string()));
      continue;
    }
    const fs::path snapshot = repo / "snapshots" / commit;
    if (fs::is_directory(snapshot, ec)) return snapshot;
    looked.push_back(fmt::format("{} (no such snapshot)", snapshot.string()));
  }
  if (cache_dirs.empty())
    looked.push_back("no cache folder: none of HF_HUB_CACHE, HF_HOME, XDG_CACHE_HOME, HOME is set");
  throw std::runtime_error(fmt::format(
      "{}: not a local folder, and revision '{}' is not in the Hugging Face cache (looked at: {}); download it "
      "first, e.g. `huggingface-cli download {}`, or give the folder's path",
      repo_id, revision, fmt::join(looked, "; "), repo_id));
}

fs::path resolve_model_argument(const std::string& model, const std::optional<std::string>& revision) {
  std::error_code ec;
  if (!revision && fs::exists(model, ec)) return fs::path(model);
  if (!looks_like_hub_id(model)) {
    if (revision)
      throw std::runtime_error(fmt::format("--revision {}: '{}' is not a Hugging Face model id (org/name)", *revision,
                                           model));
    throw std::runtime_error(fmt::format("{}: no such model folder or file, and not a Hugging Face model id", model));
  }
  // An existing local folder wins over the cache unless a revision is asked for.
  return resolve_hub_snapshot(model, revision.value_or("main"), hf_cache_dirs());
}

}  // namespace exporters::io
