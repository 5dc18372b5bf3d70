// Which inputs the exported model takes (names, dtypes, static shapes) and
// example values for them. A saved trace records neither shapes nor dtypes,
// so they come from --shape, the shorthands --sequence-length/--batch-size,
// or the plugin's task spec; the error names every --shape still missing.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/export/model_source.hpp"
#include "exporters/ir/tensor.hpp"
#include "exporters/plugin.hpp"

namespace exporters::exporting {

struct ShapeRequest {
  std::map<std::string, ir::Shape> shapes;  // --shape NAME=d0,d1,...
  std::optional<int64_t> sequence_length;   // --sequence-length
  std::optional<int64_t> batch_size;        // --batch-size
};

struct InputPlan {
  std::vector<std::string> names;
  std::vector<ir::TensorType> types;
};

// Parses "NAME=d0,d1,..." (throws naming the option text when malformed).
std::pair<std::string, ir::Shape> parse_shape_option(const std::string& text);

// True for inputs that carry token ids, masks or positions (int64 in HF).
bool is_token_input(const std::string& name);

InputPlan plan_inputs(const std::vector<std::string>& trace_inputs, const ShapeRequest& request,
                      const TaskSpec* task, const ModelSource& source);

// Example inputs for validation: the model directory's reference.safetensors
// when its inputs match the plan, else generated values that respect the
// vocabulary size, padding masks, token types and image value ranges.
std::vector<ir::Tensor> example_inputs(const InputPlan& plan, const ModelSource& source, uint64_t seed = 1234);
// The two halves of example_inputs: the reference file's inputs (nullopt
// when there is none or it does not fit the plan), and generated values.
std::optional<std::vector<ir::Tensor>> reference_inputs(const InputPlan& plan, const ModelSource& source);
std::vector<ir::Tensor> generated_inputs(const InputPlan& plan, const ModelSource& source, uint64_t seed = 1234);

// Reads `input.<name>` (or `<name>`) tensors from a safetensors file, checked
// against the plan; integer inputs are converted to the plan's dtype.
std::vector<ir::Tensor> inputs_from_file(const InputPlan& plan, const std::filesystem::path& file);

}  // namespace exporters::exporting
