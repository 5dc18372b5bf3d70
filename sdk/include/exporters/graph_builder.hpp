// The graph-builder hook: a family plugin builds the IR of one HF class
// straight from a checkpoint (config.json + model.safetensors), following
// transformers' modeling code, with no trace and no LibTorch. The host maps
// the weights, decides the concrete inputs and calls the builder registered
// for the class (PluginRegistrar::add_graph_builder).
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "exporters/ir/graph.hpp"
#include "exporters/model_folder.hpp"

namespace exporters {

struct TaskSpec;

// A missing or malformed tensor; the message names the checkpoint file and
// the tensor ("…/model.safetensors: no tensor 'bert.pooler.dense.weight'").
class WeightError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The checkpoint's tensors by name, as transformers' state_dict() names
// them. Implemented by the host over the memory-mapped file(s).
class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual bool has(const std::string& name) const = 0;
  // Stored type and shape (dtype as stored: F32, F16, BF16 show as their IR dtype or F32).
  virtual ir::TensorType type(const std::string& name) const = 0;
  // The tensor as float32 for floating point tensors (F16/BF16 converted;
  // F32 borrowed from the mapping, no copy), integers as stored. Throws
  // WeightError naming the file and tensor when absent.
  virtual ir::Tensor get(const std::string& name) const = 0;
  virtual std::vector<std::string> names() const = 0;  // sorted
  virtual std::string describe() const = 0;             // the file(s), for messages
};

// What a builder gets: the model folder, the task being exported (resolved
// against the config), the inputs the export takes (names and concrete
// types, in order; the builder adds exactly these as graph inputs) and the
// weights. It returns a graph whose outputs are the task's outputs in order,
// raw (before the task's heads, which the host applies as for a trace).
struct BuildRequest {
  const ModelFolder& model;
  const TaskSpec& task;
  std::vector<std::pair<std::string, ir::TensorType>> inputs;
  const WeightSource& weights;
};

using GraphBuilder = std::function<ir::Graph(const BuildRequest&)>;

}  // namespace exporters
