#include "registry/search_path.hpp"

#include <algorithm>
#include <cstdlib>
#include <system_error>

#include <boost/dll/runtime_symbol_info.hpp>
#include <fmt/format.h>

#include "exporters_config.h"

namespace exporters::registry {

namespace fs = std::filesystem;

std::vector<std::string> split_path_list(const std::string& list) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(':', start);
    if (end == std::string::npos) end = list.size();
    if (end > start) items.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return items;
}

namespace {

bool is_inside(const fs::path& file, const fs::path& dir) {
  std::error_code ec;
  fs::path f = fs::weakly_canonical(file, ec);
  if (ec) return false;
  fs::path d = fs::weakly_canonical(dir, ec);
  if (ec) return false;
  auto [dir_end, file_it] = std::mismatch(d.begin(), d.end(), f.begin(), f.end());
  return dir_end == d.end();
}

}  // namespace

SearchPathSources current_search_path_sources(const std::string& flag) {
  SearchPathSources sources;
  sources.flag = flag;
  if (const char* env = std::getenv("EXPORTERS_PLUGIN_PATH")) sources.env = env;
  if (const char* home = std::getenv("HOME"); home && *home) sources.home = fs::path(home);

  boost::dll::fs::error_code ec;
  fs::path program = boost::dll::program_location(ec).string();
  const fs::path build_plugins = EXPORTERS_BUILD_PLUGIN_DIR;
  // An installed copy must not pick up plugins from a build tree that
  // happens to still exist, so the build tree counts only for programs in it.
  if (!ec && is_inside(program, build_plugins.parent_path())) sources.build_tree = build_plugins;

  // Relative to the executable first, so an install moved elsewhere (or a
  // DESTDIR staging copy) finds its own plugins; then the configured prefix.
  if (!ec) sources.installed.push_back(program.parent_path() / EXPORTERS_PLUGIN_DIR_FROM_BINDIR);
  sources.installed.push_back(fs::path(EXPORTERS_INSTALLED_PLUGIN_DIR));
  return sources;
}

std::vector<SearchPathEntry> make_search_path(const SearchPathSources& sources) {
  std::vector<SearchPathEntry> candidates;
  for (const auto& dir : split_path_list(sources.flag)) candidates.push_back({dir, "--plugin-path"});
  if (sources.env) {
    for (const auto& dir : split_path_list(*sources.env))
      candidates.push_back({dir, "EXPORTERS_PLUGIN_PATH"});
  }
  if (sources.build_tree) candidates.push_back({*sources.build_tree, "build tree"});
  if (sources.home) {
    candidates.push_back({*sources.home / ".local" / "lib" / "exporters" / "plugins", "user"});
  }
  for (const auto& dir : sources.installed) candidates.push_back({dir, "installed"});

  std::vector<SearchPathEntry> path;
  std::vector<fs::path> seen;
  for (auto& entry : candidates) {
    std::error_code ec;
    if (!fs::is_directory(entry.dir, ec)) continue;
    fs::path canonical = fs::canonical(entry.dir, ec);
    if (ec) continue;
    bool duplicate = false;
    for (const auto& s : seen) duplicate = duplicate || s == canonical;
    if (duplicate) continue;
    seen.push_back(canonical);
    entry.dir = entry.dir.lexically_normal();
    path.push_back(std::move(entry));
  }
  return path;
}

std::string describe_search_path(const std::vector<SearchPathEntry>& path) {
  if (path.empty()) return "  (no existing folders)\n";
  std::string text;
  for (size_t i = 0; i < path.size(); ++i) {
    text += fmt::format("  {}. {} ({})\n", i + 1, path[i].dir.string(), path[i].origin);
  }
  return text;
}

}  // namespace exporters::registry
