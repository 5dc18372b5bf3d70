// Pins the plugin ABI: a change here means bumping EXPORTERS_PLUGIN_ABI_VERSION.
#include <cstddef>
#include <cstring>

#include <doctest/doctest.h>

#include <exporters/plugin.hpp>

TEST_CASE("the plugin ABI version is 1 and the entry symbol name is fixed") {
  CHECK(EXPORTERS_PLUGIN_ABI_VERSION == 1);
  CHECK(std::strcmp(EXPORTERS_PLUGIN_ENTRY_SYMBOL, "exporters_plugin_entry") == 0);
}

TEST_CASE("exporters_plugin_descriptor has the pinned LP64 layout") {
  static_assert(sizeof(void*) == 8, "layout below is for LP64");
  CHECK(sizeof(exporters_plugin_descriptor) == 104);
  CHECK(offsetof(exporters_plugin_descriptor, abi_version) == 0);
  CHECK(offsetof(exporters_plugin_descriptor, descriptor_size) == 4);
  CHECK(offsetof(exporters_plugin_descriptor, name) == 8);
  CHECK(offsetof(exporters_plugin_descriptor, version) == 16);
  CHECK(offsetof(exporters_plugin_descriptor, model_types) == 24);
  CHECK(offsetof(exporters_plugin_descriptor, register_plugin) == 32);
  CHECK(offsetof(exporters_plugin_descriptor, reserved) == 40);
  CHECK(sizeof(exporters_plugin_descriptor::reserved) == 8 * sizeof(void*));
}

namespace {
void register_nothing(exporters::PluginRegistrar*) {}
}  // namespace

// The macro under test, expanded in this executable.
EXPORTERS_PLUGIN("macro_check", "9.8.7", ({"first", "second", nullptr}), register_nothing)

TEST_CASE("EXPORTERS_PLUGIN fills the descriptor from its arguments") {
  const exporters_plugin_descriptor* d = exporters_plugin_entry();
  REQUIRE(d != nullptr);
  CHECK(d->abi_version == EXPORTERS_PLUGIN_ABI_VERSION);
  CHECK(d->descriptor_size == sizeof(exporters_plugin_descriptor));
  CHECK(std::strcmp(d->name, "macro_check") == 0);
  CHECK(std::strcmp(d->version, "9.8.7") == 0);
  REQUIRE(d->model_types[0] != nullptr);
  CHECK(std::strcmp(d->model_types[0], "first") == 0);
  CHECK(std::strcmp(d->model_types[1], "second") == 0);
  CHECK(d->model_types[2] == nullptr);
  CHECK((d->register_plugin == &register_nothing));
  for (void* slot : d->reserved) CHECK(slot == nullptr);
}
