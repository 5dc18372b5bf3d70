// Everything a loaded plugin registered that is plugin code (resolvers,
// converters, heads, preprocessors, graph builders), together with the
// handle that keeps its module loaded. The library is the first member, so
// it is destroyed last: no std::function of the plugin can outlive its
// code. The host passes this object around as a shared_ptr and never copies
// the functions out of it into anything that lives longer.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "exporters/plugin.hpp"

namespace exporters::registry {

struct LoadedLibrary;  // the Boost.DLL handle, kept opaque

struct PluginCode {
  std::shared_ptr<LoadedLibrary> library;  // first: destroyed last

  std::string plugin_name;
  std::map<std::string, TaskResolver> resolvers;               // by hf_class
  std::map<std::string, frontend::OpConverter> op_converters;  // by op kind
  std::map<std::string, Head> heads;                           // by head name
  std::map<std::string, Preprocessor> preprocessors;           // by preprocessor type
  std::map<std::string, GraphBuilder> graph_builders;          // by hf_class

  PluginCode() = default;
  PluginCode(const PluginCode&) = delete;
  PluginCode& operator=(const PluginCode&) = delete;
  ~PluginCode() {
    // Explicitly, although member order already guarantees it.
    resolvers.clear();
    op_converters.clear();
    heads.clear();
    preprocessors.clear();
    graph_builders.clear();
  }

  const Head* head(const std::string& name) const {
    auto it = heads.find(name);
    return it == heads.end() ? nullptr : &it->second;
  }
  const Preprocessor* preprocessor(const std::string& type) const {
    auto it = preprocessors.find(type);
    return it == preprocessors.end() ? nullptr : &it->second;
  }
};

// What the registry hands out; holding it keeps the plugin loaded.
using PluginHandle = std::shared_ptr<const PluginCode>;

}  // namespace exporters::registry
