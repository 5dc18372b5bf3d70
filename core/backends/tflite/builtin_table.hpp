// One row per builtin operator: its name and how its options table is
// written from / read into IR attributes. Internal; includes generated code.
#pragma once

#include <functional>
#include <utility>

#include "model.hpp"
#include "tflite_subset_generated.h"

namespace exporters::tflite {

// fb:: is the generated schema namespace exporters::tflite::fb itself (an
// alias of the same name is an error for clang).

struct BuiltinRow {
  int32_t code;
  const char* name;
  // Writes the options table (tag NONE when the op has none).
  std::function<std::pair<fb::BuiltinOptions, flatbuffers::Offset<void>>(
      flatbuffers::FlatBufferBuilder&, const ir::Attrs&)>
      write;
  // Reads the options table back (empty attrs when absent).
  std::function<ir::Attrs(const fb::Operator&)> read;
};

const BuiltinRow* find_builtin(int32_t code);

}  // namespace exporters::tflite
