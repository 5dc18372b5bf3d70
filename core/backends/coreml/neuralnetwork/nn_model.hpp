// Core ML NeuralNetwork (legacy) backend: IR -> single-file .mlmodel holding
// a `neuralNetwork` (or `neuralNetworkClassifier`) and .mlmodel -> IR.
// No protobuf types appear in this header.
//
// NeuralNetwork blobs are float at run time; integer IR values travel as
// exact floats (int64 inputs are declared INT32 arrays), booleans as 0/1.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/backends/coreml/coreml.hpp"
#include "exporters/ir/graph.hpp"

namespace exporters::coreml {

struct LegacyOptions {
  // Float16 stores every weight as IEEE half (WeightParams.float16Value);
  // blobs stay fp32 at the model's interface.
  Precision precision = Precision::Float32;
  ModelMetadata metadata;
  std::map<std::string, std::string> input_descriptions;   // by input name
  std::map<std::string, std::string> output_descriptions;  // by output name
  // Image inputs: the graph input (f32 [1, C, H, W]) is declared an image
  // and NeuralNetworkPreprocessing applies pixel * scale + bias[channel].
  std::map<std::string, ImageInput> image_inputs;
  // Writes a neuralNetworkClassifier whose probability blob is this output.
  std::optional<ClassifierOutput> classifier;
  bool overwrite = false;
};

// Writes `graph` to `out` (normally *.mlmodel) through a temporary sibling
// renamed into place. Specification version 4 unless a layer needs more.
// Throws CoreMLError naming the op (and node) that has no NN lowering.
void write_mlmodel(const ir::Graph& graph, const LegacyOptions& options, const std::filesystem::path& out);
// Writes into `staged.path()` without placing the file.
void write_mlmodel(const ir::Graph& graph, const LegacyOptions& options, io::StagedOutput& staged);

// Reads a NeuralNetwork / NeuralNetworkClassifier .mlmodel into IR: inputs
// as declared (INT32 -> i32, image -> f32 [1, C, H, W] with preprocessing
// applied), fp16 weights decoded to f32, outputs with their declared dtype.
// A classifier yields its probability blob under predictedProbabilitiesName.
ir::Graph read_mlmodel(const std::filesystem::path& path);

// True when the writer has a lowering row for the canonical IR op.
bool has_legacy_lowering(std::string_view op);

struct LegacyModelInfo {
  int specification_version = 0;
  bool classifier = false;
  std::map<std::string, int64_t> layer_histogram;  // NN layer kind -> count
};
LegacyModelInfo inspect_mlmodel(const std::filesystem::path& path);

// The `exporters inspect` summary of a NeuralNetwork .mlmodel: model_type
// "neuralNetwork" / "neuralNetworkClassifier", op_histogram = NN layer kinds
// (loadConstantND included), no weight file.
ModelSummary summarize_mlmodel(const std::filesystem::path& path);

}  // namespace exporters::coreml
