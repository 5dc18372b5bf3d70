// Where the host looks for plugins, in priority order: the --plugin-path
// flag, EXPORTERS_PLUGIN_PATH, the build tree (only when the running program
// lives in it), ~/.local/lib/exporters/plugins, the installed plugin folder.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace exporters::registry {

struct SearchPathEntry {
  std::filesystem::path dir;
  std::string origin;  // "--plugin-path", "EXPORTERS_PLUGIN_PATH", "build tree", ...
};

// Splits a colon-separated list; empty items are dropped.
std::vector<std::string> split_path_list(const std::string& list);

// Inputs of the standard search path, kept explicit so tests can build one
// without touching the process environment.
struct SearchPathSources {
  std::string flag;                                  // --plugin-path value
  std::optional<std::string> env;                    // EXPORTERS_PLUGIN_PATH
  std::optional<std::filesystem::path> build_tree;   // build/plugins, if running from the build tree
  std::optional<std::filesystem::path> home;         // $HOME
  std::vector<std::filesystem::path> installed;      // <libdir>/exporters/plugins candidates
};

// Sources for this process: the environment, the location of the running
// executable and the directories recorded at configure time.
SearchPathSources current_search_path_sources(const std::string& flag);

// Entries in priority order. Folders that do not exist are dropped, and a
// folder listed twice (after resolving symlinks) keeps its first position.
std::vector<SearchPathEntry> make_search_path(const SearchPathSources& sources);

// One line per entry, for `plugins list` and error messages.
std::string describe_search_path(const std::vector<SearchPathEntry>& path);

}  // namespace exporters::registry
