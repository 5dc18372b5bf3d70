#include "cli/command.hpp"

#include <cstdio>

#include <fmt/format.h>

namespace exporters::cli {

std::unique_ptr<registry::PluginRegistry> open_registry(const GlobalOptions& global,
                                                        bool print_warnings) {
  auto path = registry::make_search_path(registry::current_search_path_sources(global.plugin_path));
  std::function<void(const std::string&)> sink;
  if (print_warnings) {
    sink = [](const std::string& message) {
      fmt::print(stderr, "exporters: warning: {}\n", message);
    };
  }
  return std::make_unique<registry::PluginRegistry>(std::move(path), std::move(sink));
}

int not_implemented(const std::string& command) {
  fmt::print(stderr, "exporters {}: not implemented yet\n", command);
  return kExitUsage;
}

}  // namespace exporters::cli
