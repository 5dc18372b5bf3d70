// Core ML ML Program backend: IR -> .mlpackage (MIL protobuf + weight blob
// file) and .mlpackage -> IR. No protobuf types appear in this header.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "exporters/ir/graph.hpp"

namespace exporters::io {
class StagedOutput;  // core/io/staged_output.hpp
}

namespace exporters::coreml {

// Any problem writing or reading a Core ML file; the message names the file,
// op or option.
class CoreMLError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Target { iOS15, iOS16, iOS17, iOS18 };
enum class Precision { Float32, Float16 };

std::optional<Target> parse_target(std::string_view text);  // "iOS15".."iOS18"
std::string_view target_name(Target target);
int specification_version(Target target);  // 6..9
std::string_view opset_name(Target target);  // "CoreML5".."CoreML8"
std::optional<Precision> parse_precision(std::string_view text);  // "float32"|"float16"

struct ModelMetadata {
  std::string author;
  std::string license;
  std::string version;
  std::string short_description;
  std::map<std::string, std::string> user_defined;
};

// Image input: the MIL input stays an fp32 [1, C, H, W] tensor, the model
// description declares an image, and the program starts with
// x * scale + bias[channel] (Core ML feeds pixel values 0..255).
struct ImageInput {
  enum class ColorSpace { RGB, BGR, Grayscale };
  ColorSpace color_space = ColorSpace::RGB;
  float scale = 1.0f;
  std::vector<float> bias;  // one per channel, or empty
};

// Core ML classifier head: the graph output `probabilities_output` (one
// probability per label) is replaced by a `classify` op whose outputs are
// the predicted label and a label -> probability dictionary.
struct ClassifierOutput {
  std::string probabilities_output;      // graph output name holding the probabilities
  std::vector<std::string> labels;       // string labels (e.g. from id2label), or
  std::vector<int64_t> int_labels;       // integer labels (used when `labels` is empty)
  std::string label_name = "classLabel";
  std::string probabilities_name = "probabilities";
};

struct CoreMLOptions {
  Target target = Target::iOS15;
  Precision precision = Precision::Float32;
  // float16 only: declare fp32 graph inputs/outputs as FLOAT16 arrays
  // instead of casting at the boundary (needs iOS16+).
  bool float16_io = false;
  ModelMetadata metadata;
  std::map<std::string, std::string> input_descriptions;   // by input name
  std::map<std::string, std::string> output_descriptions;  // by output name
  std::map<std::string, ImageInput> image_inputs;          // by input name
  std::optional<ClassifierOutput> classifier;
  bool overwrite = false;
};

// fp16 normalisation epsilons: 1e-12 rounds to 0 in fp16 (and a subnormal
// one is flushed to 0 by hardware that does so), after which a constant row
// divides 0 by 0. fp16 programs raise epsilons to fp16's smallest normal
// number, 2^-14; against a variance of 1 that moves results by ~3e-5,
// far inside fp16's own rounding.
constexpr double kFloat16SmallestNormal = 6.103515625e-05;
inline double float16_safe_epsilon(double eps) { return eps < kFloat16SmallestNormal ? kFloat16SmallestNormal : eps; }

// Writes `graph` as an ML Program package at `out` (a directory, normally
// named *.mlpackage). The package is assembled in a temporary sibling and
// renamed into place only when complete.
void write_mlpackage(const ir::Graph& graph, const CoreMLOptions& options,
                     const std::filesystem::path& out);
// Writes the package into `staged.path()` without placing it (the caller
// validates, then commits).
void write_mlpackage(const ir::Graph& graph, const CoreMLOptions& options, io::StagedOutput& staged);

// Reads an .mlpackage directory (or a model.mlmodel inside one; its weights
// are looked up in the sibling weights/ folder) back into IR. Int32 arrays
// stay i32; an fp16 program yields f16 values with casts at the boundary.
// Large weights are borrowed from a memory-mapped weight.bin.
ir::Graph read_mlpackage(const std::filesystem::path& path);

struct FeatureSummary {
  std::string name;
  std::string type;  // "MultiArray FLOAT32 [1, 128]", "Image RGB 224x224"
  std::string description;
};

struct ModelSummary {
  int specification_version = 0;
  std::string model_type;  // "mlProgram" or the name of another model kind
  std::string opset;       // "CoreML5"...
  std::vector<FeatureSummary> inputs;
  std::vector<FeatureSummary> outputs;
  std::string author, license, version, short_description;
  std::map<std::string, std::string> user_defined;
  std::map<std::string, int64_t> op_histogram;  // MIL op type -> count (const included)
  int64_t weight_file_bytes = 0;
  int64_t blob_count = 0;
  int64_t blob_data_bytes = 0;
};

ModelSummary summarize_mlpackage(const std::filesystem::path& path);
std::string format_summary(const ModelSummary& summary);

}  // namespace exporters::coreml
