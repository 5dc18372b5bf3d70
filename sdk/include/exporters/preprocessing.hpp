// Preprocessors: what turns a user's media (an image, a recording) into a
// model input. A plugin registers one per preprocessor_config.json type
// (PluginRegistrar::add_preprocessor). It says how the exported file
// declares the input (a Core ML image input with scale/bias, a float tensor
// with TFLite normalisation metadata, or a plain tensor) and implements the
// validation-time path, files -> tensors.
//
// The SDK's helpers are below: the Hugging Face image processors of the
// standard vision families (Pillow-exact resizing from PNG files) and the
// Wav2Vec2 feature extractor (16 kHz mono 16-bit PCM WAV files).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "exporters/ir/tensor.hpp"
#include "exporters/model_folder.hpp"
#include "exporters/task.hpp"

namespace exporters {

struct HeadOptions;

// How the written file declares a preprocessed input.
struct InputDeclaration {
  enum class Kind : int32_t {
    Tensor = 0,       // a float tensor as the model takes it (audio, or images normalised by the app)
    CoreMLImage = 1,  // a Core ML image input: 8-bit pixels, scale/bias applied by Core ML
    ImageTensor = 2,  // a float image tensor (TFLite metadata records the normalisation)
  };
  Kind kind = Kind::Tensor;
  ColorLayout color = ColorLayout::RGB;
  // The model's normalisation, x = (pixel * rescale - mean[c]) / std[c].
  double rescale = 1.0 / 255.0;
  std::array<double, 3> mean{0, 0, 0};
  std::array<double, 3> std{1, 1, 1};
  bool pixels = false;  // ImageTensor: takes pixel values 0..255 (normalisation inside the file)
  bool nhwc = false;    // ImageTensor: [B, H, W, C] instead of [B, C, H, W]
};

// What declare() is asked about.
struct PreprocessRequest {
  const ModelFolder& model;
  const TaskSpec& task;
  std::string input;        // the model input ("pixel_values")
  ir::TensorType type;      // its planned type
  std::string target;       // "coreml", "coreml-legacy", "tflite"
  const HeadOptions& options;
};

// Validation inputs made from files, one per batch item.
struct PreprocessedBatch {
  ir::Tensor model_value;   // what the original model takes (pixel_values [B, 3, H, W], input_values [B, T])
  // Image preprocessors: the resized and cropped 8-bit images as F32
  // [B, 3, H, W] in the model's channel order, what a pixel input is fed.
  ir::Tensor pixels;
  std::string description;  // "ViTImageProcessor: resize 64x64 (bilinear), rescale, normalize"
};

struct Preprocessor {
  std::string input = "pixel_values";  // the model input it feeds
  // "image": PNG files (--validation-image, example_image_<i>.png);
  // "audio": WAV files (--validation-audio, example_audio_<i>.wav).
  std::string media = "image";
  std::function<InputDeclaration(const PreprocessRequest&)> declare;
  // Throws naming the file and the reason (a bad file, an unsupported
  // preprocessor_config.json key).
  std::function<PreprocessedBatch(const ModelFolder&, const std::vector<std::filesystem::path>&)> load;
};

namespace preprocessing {

// The Hugging Face image processor emulation (ViTImageProcessor,
// ConvNextImageProcessor, MobileViTImageProcessor, SegformerImageProcessor;
// others with the same keys work too): declares a Core ML image input
// (default; --image-input tensor for a tensor), an NHWC float tensor for
// TFLite, pixel inputs with --fold-normalization.
Preprocessor hf_image_processor();
// The image processor types hf_image_processor() emulates.
std::vector<std::string> hf_image_processor_types();

// Wav2Vec2FeatureExtractor: 16 kHz mono 16-bit PCM WAV -> input_values
// [B, T] with per-utterance zero mean / unit variance when do_normalize.
Preprocessor wav2vec2_feature_extractor();

// preprocessor_config.json's normalisation (do_rescale, rescale_factor,
// do_normalize, image_mean, image_std).
struct ImageNormalization {
  double rescale = 1.0 / 255.0;
  std::array<double, 3> mean{0, 0, 0};
  std::array<double, 3> std{1, 1, 1};
};
ImageNormalization image_normalization(const JsonView& preprocessor);
// Image height and width from preprocessor_config.json (crop_size before
// size; {"height","width"}, {"shortest_edge"} or a bare int); {0, 0} when absent.
std::array<int64_t, 2> image_size(const JsonView& preprocessor);
// The declaration of an image input with normalisation `norm`: a Core ML
// image input unless --image-input tensor, an NHWC tensor for TFLite,
// pixel values 0..255 with --fold-normalization.
InputDeclaration image_declaration(const PreprocessRequest& request, const ImageNormalization& norm, ColorLayout color);

// A mono 16-bit PCM WAV file as samples in [-1, 1) (sample / 32768), as
// soundfile reads it. Throws naming the file when it is not a WAV, not PCM
// 16-bit, not mono, or its rate differs from `expected_rate` (0 = any).
std::vector<float> read_wav_mono16(const std::filesystem::path& file, int64_t expected_rate = 16000);
// Zero mean, unit variance as transformers 4.36's Wav2Vec2FeatureExtractor
// (float32 arithmetic, variance + 1e-7).
std::vector<float> zero_mean_unit_variance(const std::vector<float>& samples);

}  // namespace preprocessing

}  // namespace exporters
