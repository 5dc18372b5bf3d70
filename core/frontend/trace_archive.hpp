// What the host reads from a model.pt without LibTorch: the mapped archive
// (open_trace_zip, in trace_frontend.hpp) and the class the trace was made
// from, read from the pickle of its root object.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/frontend/trace_frontend.hpp"

namespace exporters::frontend {

struct TracedClass {
  std::string module;  // "__torch__.transformers.models.bert.modeling_bert"
  std::string name;    // "BertForMaskedLM"
  std::string qualified() const { return module.empty() ? name : module + "." + name; }
};

// The class of the archive's root object: the GLOBAL that <archive>/data.pkl
// constructs first (GLOBAL or STACK_GLOBAL, then an empty argument tuple and
// NEWOBJ/REDUCE). Reads the central directory and the first bytes of
// data.pkl only, never the weights. nullopt when data.pkl is missing or
// does not start by building an object.
std::optional<TracedClass> traced_root_class(const io::MappedZip& zip);
// Same, opening the file; throws FrontendError as open_trace_zip does.
std::optional<TracedClass> traced_root_class(const std::filesystem::path& model_pt);

}  // namespace exporters::frontend
