// Pins the plugin ABI: a change here means bumping EXPORTERS_PLUGIN_ABI_VERSION.
#include <cstddef>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <exporters/plugin.hpp>

// offsetof on the C++ structs is what pins their layout here.
#pragma GCC diagnostic ignored "-Winvalid-offsetof"

TEST_CASE("the plugin ABI version is 2 and the entry symbol name is fixed") {
  CHECK(EXPORTERS_PLUGIN_ABI_VERSION == 2);
  CHECK(std::strcmp(EXPORTERS_PLUGIN_ENTRY_SYMBOL, "exporters_plugin_entry") == 0);
}

TEST_CASE("exporters_plugin_descriptor has the pinned LP64 layout") {
  static_assert(sizeof(void*) == 8, "layout below is for LP64");
  CHECK(sizeof(exporters_plugin_descriptor) == 112);
  CHECK(offsetof(exporters_plugin_descriptor, abi_version) == 0);
  CHECK(offsetof(exporters_plugin_descriptor, descriptor_size) == 4);
  CHECK(offsetof(exporters_plugin_descriptor, name) == 8);
  CHECK(offsetof(exporters_plugin_descriptor, version) == 16);
  CHECK(offsetof(exporters_plugin_descriptor, model_types) == 24);
  CHECK(offsetof(exporters_plugin_descriptor, register_plugin) == 32);
  CHECK(offsetof(exporters_plugin_descriptor, build_abi) == 40);
  CHECK(offsetof(exporters_plugin_descriptor, reserved) == 48);
  CHECK(sizeof(exporters_plugin_descriptor::reserved) == 8 * sizeof(void*));
}

TEST_CASE("exporters_build_abi has the pinned LP64 layout") {
  CHECK(sizeof(exporters_build_abi) == 32);
  CHECK(offsetof(exporters_build_abi, cxx_library) == 0);
  CHECK(offsetof(exporters_build_abi, cxx_library_date) == 8);
  CHECK(offsetof(exporters_build_abi, cxx_library_release) == 12);
  CHECK(offsetof(exporters_build_abi, cxx11_abi) == 16);
  CHECK(offsetof(exporters_build_abi, sdk_version) == 24);
}

// The C++ structs that cross the boundary, as laid out by libstdc++ with the
// C++11 ABI (std::string 32 bytes, std::vector 24, std::function 32). A
// failure here means a layout change: bump EXPORTERS_PLUGIN_ABI_VERSION and
// update these numbers.
TEST_CASE("the public structs have the pinned sizes and offsets of plugin ABI 2") {
  using namespace exporters;
  REQUIRE(sizeof(std::string) == 32);
  REQUIRE(sizeof(std::vector<int>) == 24);
  REQUIRE(sizeof(std::function<void()>) == 32);
  CHECK(sizeof(InputSpec) == 104);
  CHECK(offsetof(InputSpec, dtype) == 32);
  CHECK(offsetof(InputSpec, shape) == 40);
  CHECK(offsetof(InputSpec, optional) == 64);
  CHECK(offsetof(InputSpec, description) == 72);
  CHECK(sizeof(OutputSpec) == 96);
  CHECK(offsetof(OutputSpec, description) == 32);
  CHECK(offsetof(OutputSpec, head) == 64);
  CHECK(sizeof(TaskSpec) == 240);
  CHECK(offsetof(TaskSpec, task) == 32);
  CHECK(offsetof(TaskSpec, description) == 64);
  CHECK(offsetof(TaskSpec, inputs) == 96);
  CHECK(offsetof(TaskSpec, outputs) == 120);
  CHECK(offsetof(TaskSpec, default_sequence_length) == 144);
  CHECK(offsetof(TaskSpec, max_sequence_length) == 152);
  CHECK(offsetof(TaskSpec, float16_tolerance) == 160);
  CHECK(offsetof(TaskSpec, int8_tolerance) == 168);
  CHECK(offsetof(TaskSpec, attention_mask_optional) == 176);
  CHECK(offsetof(TaskSpec, labels) == 184);
  CHECK(offsetof(TaskSpec, preprocessor) == 208);
  CHECK(sizeof(HeadOptions) == 48);
  CHECK(offsetof(HeadOptions, upsample) == 1);
  CHECK(offsetof(HeadOptions, argmax) == 2);
  CHECK(offsetof(HeadOptions, image_input) == 8);
  CHECK(offsetof(HeadOptions, fold_normalization) == 40);
  CHECK(sizeof(HeadOutput) == 40);
  CHECK(sizeof(InputDeclaration) == 72);
  CHECK(offsetof(InputDeclaration, color) == 4);
  CHECK(offsetof(InputDeclaration, rescale) == 8);
  CHECK(offsetof(InputDeclaration, mean) == 16);
  CHECK(offsetof(InputDeclaration, std) == 40);
  CHECK(offsetof(InputDeclaration, pixels) == 64);
  CHECK(offsetof(InputDeclaration, nhwc) == 65);
  CHECK(sizeof(Preprocessor) == 128);
  CHECK(sizeof(PreprocessedBatch) == 160);
  CHECK(sizeof(PreprocessRequest) == 120);
  CHECK(sizeof(BuildRequest) == 48);
  CHECK(sizeof(ModelFolder) == 280);
  CHECK(sizeof(JsonView) == 88);
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
  REQUIRE(d->build_abi != nullptr);
  CHECK(std::strcmp(d->build_abi->cxx_library, "libstdc++") == 0);
  CHECK(d->build_abi->cxx_library_date == __GLIBCXX__);
  CHECK(d->build_abi->cxx_library_release == _GLIBCXX_RELEASE);
  CHECK(d->build_abi->cxx11_abi == _GLIBCXX_USE_CXX11_ABI);
  CHECK(std::strcmp(d->build_abi->sdk_version, EXPORTERS_SDK_VERSION) == 0);
  for (void* slot : d->reserved) CHECK(slot == nullptr);
}
