// The plugin ABI. A plugin is one shared module that exports exactly one
// symbol, `exporters_plugin_entry`, returning a descriptor. The host checks
// `abi_version`, `descriptor_size` and the C++ library ABI the plugin was
// built with before it calls anything else, then calls `register_plugin`
// with a registrar. Declare a plugin with EXPORTERS_PLUGIN(...) in one
// source file.
//
// The ABI rule: any change to a type that crosses the plugin boundary (the
// descriptor, PluginRegistrar, TaskSpec, InputSpec, OutputSpec, the head,
// preprocessor and builder interfaces, ModelFolder, the IR types, the
// converter interface) bumps EXPORTERS_PLUGIN_ABI_VERSION. The structs are
// C++ classes passed by reference between two separately built binaries, so
// "only added a field at the end" is still a break.
//
// Lifetime: everything a plugin registers (converters, resolvers, heads,
// preprocessors, graph builders) is plugin code. The host keeps it only
// inside the object that also keeps the plugin's module loaded, and drops it
// before the module is unloaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "exporters/frontend/converter.hpp"
#include "exporters/graph_builder.hpp"
#include "exporters/heads.hpp"
#include "exporters/ir/graph.hpp"
#include "exporters/model_folder.hpp"
#include "exporters/preprocessing.hpp"
#include "exporters/task.hpp"

// Bumped whenever a type that crosses the plugin boundary changes (see above).
#define EXPORTERS_PLUGIN_ABI_VERSION 2
#define EXPORTERS_PLUGIN_ENTRY_SYMBOL "exporters_plugin_entry"
// The SDK release the plugin was compiled against (its headers).
#define EXPORTERS_SDK_VERSION "0.1.0"

// The C++ library ABI of this translation unit. A plugin built with another
// libstdc++ (or another _GLIBCXX_USE_CXX11_ABI) passes std::string and
// std::function objects the host cannot read, so the host refuses it.
#if defined(__GLIBCXX__)
#define EXPORTERS_CXX_LIBRARY "libstdc++"
#define EXPORTERS_CXX_LIBRARY_DATE __GLIBCXX__
#if defined(_GLIBCXX_RELEASE)
#define EXPORTERS_CXX_LIBRARY_RELEASE _GLIBCXX_RELEASE
#else
#define EXPORTERS_CXX_LIBRARY_RELEASE 0
#endif
#define EXPORTERS_CXX_DUAL_ABI _GLIBCXX_USE_CXX11_ABI
#elif defined(_LIBCPP_VERSION)
#define EXPORTERS_CXX_LIBRARY "libc++"
#define EXPORTERS_CXX_LIBRARY_DATE 0
#define EXPORTERS_CXX_LIBRARY_RELEASE _LIBCPP_VERSION
#define EXPORTERS_CXX_DUAL_ABI 0
#else
#define EXPORTERS_CXX_LIBRARY "unknown"
#define EXPORTERS_CXX_LIBRARY_DATE 0
#define EXPORTERS_CXX_LIBRARY_RELEASE 0
#define EXPORTERS_CXX_DUAL_ABI 0
#endif

namespace exporters {

// The host object a plugin registers into. Pure virtual so plugins never
// link against host internals; its layout is part of the ABI version. Every
// name registered twice by one plugin is an error.
class PluginRegistrar {
 public:
  virtual ~PluginRegistrar() = default;
  // A task as `exporters plugins list` shows it (static: no model needed).
  virtual void add_task(const TaskSpec& spec) = 0;
  // Resolves the task of `hf_class` against a model folder before an export
  // (input shapes, heads, labels, tolerances from config.json etc.).
  virtual void add_task_resolver(const std::string& hf_class, TaskResolver resolver) = 0;
  // Adds or overrides the converter for a TorchScript op ("aten::gelu").
  virtual void add_op_converter(const std::string& op_kind, frontend::OpConverter converter) = 0;
  // A head OutputSpec::head can name ("softmax", "classifier", ...).
  virtual void add_head(const std::string& name, Head head) = 0;
  // A preprocessor for the `image_processor_type` / `feature_extractor_type`
  // of preprocessor_config.json ("ViTImageProcessor").
  virtual void add_preprocessor(const std::string& type, Preprocessor preprocessor) = 0;
  // Builds the IR of `hf_class` from config.json + weights (no trace).
  virtual void add_graph_builder(const std::string& hf_class, GraphBuilder builder) = 0;
};

}  // namespace exporters

extern "C" {

// What the plugin was compiled with; the host compares every field with its
// own and refuses a plugin that differs.
struct exporters_build_abi {
  const char* cxx_library;      // "libstdc++"
  uint32_t cxx_library_date;    // __GLIBCXX__ (20230528), 0 when not libstdc++
  uint32_t cxx_library_release; // _GLIBCXX_RELEASE (12)
  uint32_t cxx11_abi;           // _GLIBCXX_USE_CXX11_ABI (1: the C++11 std::string)
  uint32_t reserved0;
  const char* sdk_version;      // EXPORTERS_SDK_VERSION
};

struct exporters_plugin_descriptor {
  uint32_t abi_version;       // EXPORTERS_PLUGIN_ABI_VERSION at build time
  uint32_t descriptor_size;   // sizeof(exporters_plugin_descriptor) at build time
  const char* name;
  const char* version;
  const char* const* model_types;  // nullptr-terminated
  void (*register_plugin)(exporters::PluginRegistrar* registrar);
  const exporters_build_abi* build_abi;  // checked before register_plugin is called
  void* reserved[8];          // room to grow without an ABI bump
};

}  // extern "C"

// The build ABI of the compilation that expands it (plugin or host).
#define EXPORTERS_BUILD_ABI_INITIALIZER                                                           \
  {EXPORTERS_CXX_LIBRARY, static_cast<uint32_t>(EXPORTERS_CXX_LIBRARY_DATE),                      \
   static_cast<uint32_t>(EXPORTERS_CXX_LIBRARY_RELEASE), static_cast<uint32_t>(EXPORTERS_CXX_DUAL_ABI), 0, \
   EXPORTERS_SDK_VERSION}

// Declares the plugin's single entry symbol. MODEL_TYPES is a braced list:
//   EXPORTERS_PLUGIN("bert", "1.0.0", ({"bert", nullptr}), register_bert)
#define EXPORTERS_PLUGIN(NAME, VERSION, MODEL_TYPES, REGISTER_FN)                    \
  extern "C" __attribute__((visibility("default")))                                  \
  const exporters_plugin_descriptor* exporters_plugin_entry() {                      \
    static const char* const model_types[] = EXPORTERS_PLUGIN_UNPAREN MODEL_TYPES;   \
    static const exporters_build_abi build_abi = EXPORTERS_BUILD_ABI_INITIALIZER;    \
    static const exporters_plugin_descriptor descriptor = {                          \
        EXPORTERS_PLUGIN_ABI_VERSION, sizeof(exporters_plugin_descriptor), NAME,     \
        VERSION, model_types, REGISTER_FN, &build_abi, {}};                          \
    return &descriptor;                                                              \
  }
#define EXPORTERS_PLUGIN_UNPAREN(...) __VA_ARGS__
