// Plugin manifests: any JSON text is a manifest or one ManifestError; a
// manifest written back parses to the same manifest.
#include <exception>

#include "fuzz/fuzz_input.hpp"
#include "registry/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exporters;
  const std::string text(reinterpret_cast<const char*>(data), size);
  registry::PluginManifest m;
  try {
    m = registry::parse_manifest(text, "/plugins/fuzz/fuzz.json");
  } catch (const registry::ManifestError&) {
    return 0;
  }
  const registry::PluginManifest again = registry::parse_manifest(registry::manifest_to_json(m), "/plugins/fuzz/fuzz.json");
  if (again.name != m.name || again.version != m.version || again.abi != m.abi || again.model_types != m.model_types ||
      again.library != m.library || again.tasks.has_value() != m.tasks.has_value())
    __builtin_trap();
  return 0;
}
