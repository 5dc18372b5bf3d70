// exporters-plugin-manifest LIBRARY -o MANIFEST.json
// The build step that writes each plugin's manifest from the plugin itself
// (loaded through the registry), so the manifest cannot drift from what the
// plugin registers. The installed CLI offers the same as
// `exporters plugins manifest`; this small tool exists so the build needs
// neither the CLI nor LibTorch before the plugins are built.
#include <cstdio>
#include <string>

#include "registry/isolated_load.hpp"

int main(int argc, char** argv) {
  std::string library, output;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "-o" || arg == "--output") && i + 1 < argc) output = argv[++i];
    else if (library.empty() && !arg.starts_with("-")) library = arg;
    else {
      std::fprintf(stderr, "exporters-plugin-manifest: error: unexpected argument '%s'\n", arg.c_str());
      return 2;
    }
  }
  if (library.empty() || output.empty()) {
    std::fprintf(stderr, "usage: exporters-plugin-manifest LIBRARY -o MANIFEST.json\n");
    return 2;
  }
  try {
    exporters::registry::write_manifest(exporters::registry::describe_plugin_library_isolated(library), output);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exporters-plugin-manifest: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
