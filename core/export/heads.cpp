#include "core/export/heads.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "core/export/image_processor.hpp"
#include "core/runtime/interpreter.hpp"

namespace exporters::exporting {

namespace {

const char* head_name(OutputHead head) {
  switch (head) {
    case OutputHead::None: return "none";
    case OutputHead::Softmax: return "softmax";
    case OutputHead::Classifier: return "classifier";
    case OutputHead::Segmentation: return "segmentation";
  }
  return "?";
}

// Appends `head` after `v` (the same code builds the export and the
// reference side of validation).
ir::Value* append_head(ir::Graph& g, ir::Value* v, OutputHead head, const AppliedTask& applied,
                       const std::string& output) {
  switch (head) {
    case OutputHead::None: return v;
    case OutputHead::Softmax:
    case OutputHead::Classifier:
      if (!ir::is_float(v->type.dtype) || v->type.rank() < 1)
        throw std::runtime_error(fmt::format("{} head on output '{}': needs a float tensor, got {}", head_name(head),
                                             output, v->type.to_string()));
      return g.add1("softmax", {v}, {{"axis", v->type.rank() - 1}}, output + "_softmax");
    case OutputHead::Segmentation: {
      if (v->type.rank() != 4 || !ir::is_float(v->type.dtype))
        throw std::runtime_error(fmt::format("segmentation head on output '{}': needs float [B, C, h, w] logits, got {}",
                                             output, v->type.to_string()));
      if (applied.upsample && (v->type.shape[2] != applied.image_hw[0] || v->type.shape[3] != applied.image_hw[1]))
        v = g.add1("resize", {v},
                   {{"mode", std::string("linear")},
                    {"sizes", std::vector<int64_t>{applied.image_hw[0], applied.image_hw[1]}},
                    {"align_corners", int64_t{0}}},
                   output + "_upsample");
      if (applied.argmax) {
        v = g.add1("argmax", {v}, {{"axis", int64_t{1}}, {"keepdims", int64_t{0}}}, output + "_argmax");
        // Class indices as int32: what Core ML and TFLite models return.
        v = g.add1("cast", {v}, {{"dtype", std::string("i32")}}, output + "_classes");
      }
      return v;
    }
  }
  throw std::runtime_error(fmt::format("output '{}': unknown head {}", output, static_cast<int>(head)));
}

// A copy of `old` whose inputs are rebuilt by `make_input` (which may add
// inputs and nodes to the new graph and returns the value standing for the
// old input); every node is re-added so types are inferred again.
ir::Graph rebuild(const ir::Graph& old, const std::function<ir::Value*(ir::Graph&, const ir::Value*)>& make_input) {
  ir::Graph g;
  std::unordered_map<const ir::Value*, ir::Value*> map;
  for (const ir::Value* in : old.inputs()) map[in] = make_input(g, in);
  for (const auto& node : old.nodes()) {
    std::vector<ir::Value*> inputs;
    for (const ir::Value* in : node->inputs) {
      if (!in) {
        inputs.push_back(nullptr);
        continue;
      }
      auto it = map.find(in);
      if (it == map.end())
        throw std::runtime_error(fmt::format("rebuilding the graph: node '{}' ({}) uses an undefined value", node->name,
                                             node->op));
      inputs.push_back(it->second);
    }
    auto outs = g.add(node->op, inputs, node->attrs, node->name);
    for (size_t k = 0; k < outs.size() && k < node->outputs.size(); ++k) {
      outs[k]->name = node->outputs[k]->name;
      map[node->outputs[k]] = outs[k];
    }
  }
  for (size_t i = 0; i < old.outputs().size(); ++i) {
    auto it = map.find(old.outputs()[i]);
    if (it == map.end()) throw std::runtime_error("rebuilding the graph: an output is undefined");
    g.add_output(it->second, old.output_names()[i]);
  }
  g.metadata = old.metadata;
  return g;
}

std::optional<int64_t> edge_of(const nlohmann::json& size) {
  if (size.is_number_integer()) return size.get<int64_t>();
  return std::nullopt;
}

std::string join_labels(const std::vector<std::string>& labels) { return fmt::format("{}", fmt::join(labels, ",")); }

}  // namespace

ImageNormalization image_normalization(const nlohmann::json& pre) {
  ImageNormalization n;
  auto flag = [&](const char* key, bool fallback) {
    auto it = pre.find(key);
    return it != pre.end() && it->is_boolean() ? it->get<bool>() : fallback;
  };
  if (!flag("do_rescale", true)) n.rescale = 1.0;
  else if (auto it = pre.find("rescale_factor"); it != pre.end() && it->is_number()) n.rescale = it->get<double>();
  if (flag("do_normalize", pre.contains("image_mean"))) {
    auto read3 = [&](const char* key, std::array<double, 3>& dst) {
      auto it = pre.find(key);
      if (it == pre.end()) return;
      if (it->is_number()) dst.fill(it->get<double>());
      else if (it->is_array() && it->size() == 3)
        for (size_t c = 0; c < 3; ++c) dst[c] = (*it)[c].get<double>();
      else throw std::runtime_error(fmt::format("preprocessor_config.json: '{}' must be a number or 3 numbers", key));
    };
    read3("image_mean", n.mean);
    read3("image_std", n.std);
    for (double s : n.std)
      if (s == 0) throw std::runtime_error("preprocessor_config.json: image_std has a zero");
  }
  return n;
}

std::optional<std::array<int64_t, 2>> image_size(const nlohmann::json& pre) {
  for (const char* key : {"crop_size", "size"}) {
    auto it = pre.find(key);
    if (it == pre.end() || it->is_null()) continue;
    if (std::string(key) == "crop_size" && pre.contains("do_center_crop") && pre["do_center_crop"].is_boolean() &&
        !pre["do_center_crop"].get<bool>())
      continue;
    const nlohmann::json& s = *it;
    if (auto e = edge_of(s)) return std::array<int64_t, 2>{*e, *e};
    if (s.is_object()) {
      if (s.contains("height") && s.contains("width") && s["height"].is_number_integer() &&
          s["width"].is_number_integer())
        return std::array<int64_t, 2>{s["height"].get<int64_t>(), s["width"].get<int64_t>()};
      // ConvNeXT-style processors resize the shortest edge and centre-crop
      // to a square of that edge; others use it as the square size too.
      if (s.contains("shortest_edge") && s["shortest_edge"].is_number_integer()) {
        int64_t e = s["shortest_edge"].get<int64_t>();
        return std::array<int64_t, 2>{e, e};
      }
    }
    throw std::runtime_error(fmt::format("preprocessor_config.json: cannot read an image size from '{}': {}", key,
                                         s.dump()));
  }
  return std::nullopt;
}

std::vector<std::string> class_labels(const nlohmann::json& config) {
  auto it = config.find("id2label");
  if (it == config.end() || !it->is_object()) return {};
  std::map<int64_t, std::string> by_id;
  for (const auto& [key, value] : it->items()) {
    int64_t id = 0;
    try {
      id = std::stoll(key);
    } catch (const std::exception&) {
      throw std::runtime_error(fmt::format("config.json: id2label key '{}' is not an integer", key));
    }
    by_id[id] = value.is_string() ? value.get<std::string>() : value.dump();
  }
  std::vector<std::string> labels;
  std::set<std::string> used;
  int64_t expect = 0;
  for (const auto& [id, label] : by_id) {
    if (id != expect++) throw std::runtime_error("config.json: id2label ids are not 0..N-1");
    std::string l = label;
    for (int k = 1; used.count(l); ++k) l = fmt::format("{}_{}", label, k);
    used.insert(l);
    labels.push_back(l);
  }
  return labels;
}

AppliedTask apply_task(ir::Graph& graph, const TaskSpec& task, const ModelSource& source, const HeadOptions& options,
                       const std::string& target_name, TargetOptions& target) {
  AppliedTask applied;
  applied.upsample = options.upsample;
  applied.argmax = options.argmax;
  if (options.image_input != "image" && options.image_input != "tensor")
    throw std::runtime_error(fmt::format("--image-input {}: expected 'image' or 'tensor'", options.image_input));
  const bool coreml = target_name.rfind("coreml", 0) == 0;
  const bool tflite = target_name == "tflite";

  // Inputs.
  const ImageNormalization norm = image_normalization(source.preprocessor);
  std::map<std::string, std::function<ir::Value*(ir::Graph&, const ir::Value*)>> replace;
  for (const ir::Value* in : graph.inputs()) {
    auto spec = std::find_if(task.inputs.begin(), task.inputs.end(), [&](const InputSpec& s) { return s.name == in->name; });
    if (spec != task.inputs.end() && !spec->description.empty()) target.input_descriptions[in->name] = spec->description;
    const bool is_image = in->type.rank() == 4 && in->type.dtype == ir::DType::F32 && in->type.shape[1] == 3 &&
                          spec != task.inputs.end() && spec->shape.size() == 4;
    if (in->name == "attention_mask" && !options.attention_mask) {
      if (!task.attention_mask_optional)
        throw std::runtime_error(fmt::format("--no-attention-mask: {} ({}) needs its attention_mask", task.hf_class,
                                             task.task));
      applied.ones_input = in->name;
      replace[in->name] = [](ir::Graph& g, const ir::Value* old) {
        ir::Tensor ones = ir::Tensor::zeros(ir::DType::F32, old->type.shape);
        std::fill_n(ones.mutable_as<float>(), ones.numel(), 1.f);
        return g.constant(ones.cast(old->type.dtype), old->name + "_ones");
      };
      continue;
    }
    if (!is_image) continue;
    applied.image_hw = {in->type.shape[2], in->type.shape[3]};
    AppliedTask::ImageInput info;
    info.norm = norm;
    const std::vector<float> mean(norm.mean.begin(), norm.mean.end()), stdev(norm.std.begin(), norm.std.end());
    if (coreml && options.image_input == "image") {
      if (in->type.shape[0] != 1)
        throw std::runtime_error(fmt::format(
            "input '{}': a Core ML image input takes one image, the batch size is {} (pass --image-input tensor)",
            in->name, in->type.shape[0]));
      ImageInputOptions img;
      img.color_space = task.color_layout == ColorLayout::BGR ? "BGR" : "RGB";
      info.pixels = true;
      const bool equal_std = norm.std[0] == norm.std[1] && norm.std[1] == norm.std[2];
      if (equal_std) {
        img.scale = static_cast<float>(norm.rescale / norm.std[0]);
        for (int c = 0; c < 3; ++c) img.bias.push_back(static_cast<float>(-norm.mean[c] / norm.std[0]));
      } else {
        // Core ML has one scale: subtract the mean there, divide per channel
        // inside the model.
        img.scale = static_cast<float>(norm.rescale);
        for (int c = 0; c < 3; ++c) img.bias.push_back(static_cast<float>(-norm.mean[c]));
        replace[in->name] = [stdev](ir::Graph& g, const ir::Value* old) {
          ir::Value* x = g.add_input(old->name, old->type);
          std::vector<float> inv{1.f / stdev[0], 1.f / stdev[1], 1.f / stdev[2]};
          return g.add1("mul", {x, g.constant(ir::Tensor::from_f32({1, 3, 1, 1}, inv), old->name + "_inv_std")},
                        {}, old->name + "_normalized");
        };
      }
      target.image_inputs[in->name] = img;
      target.input_descriptions[in->name] =
          fmt::format("Input image ({} {}x{}); the model applies the preprocessor's rescaling and normalisation",
                      img.color_space, in->type.shape[3], in->type.shape[2]);
      applied.image_inputs[in->name] = info;
      continue;
    }
    info.nhwc = tflite;
    info.pixels = options.fold_normalization;
    if (!info.nhwc && !info.pixels) continue;
    replace[in->name] = [info, mean, stdev](ir::Graph& g, const ir::Value* old) {
      const ir::Shape& s = old->type.shape;
      ir::Value* x = g.add_input(old->name, {old->type.dtype, info.nhwc ? ir::Shape{s[0], s[2], s[3], s[1]} : s});
      if (info.nhwc) x = g.add1("transpose", {x}, {{"perm", std::vector<int64_t>{0, 3, 1, 2}}}, old->name + "_nchw");
      if (info.pixels) {
        std::vector<float> scale, bias;
        for (int c = 0; c < 3; ++c) {
          scale.push_back(static_cast<float>(info.norm.rescale / stdev[c]));
          bias.push_back(static_cast<float>(-mean[c] / stdev[c]));
        }
        x = g.add1("mul", {x, g.constant(ir::Tensor::from_f32({1, 3, 1, 1}, scale), old->name + "_scale")}, {},
                   old->name + "_scaled");
        x = g.add1("add", {x, g.constant(ir::Tensor::from_f32({1, 3, 1, 1}, bias), old->name + "_bias")}, {},
                   old->name + "_normalized");
      }
      return x;
    };
    ImageTensorOptions tensor;
    tensor.color_space = task.color_layout == ColorLayout::BGR ? "BGR" : "RGB";
    for (int c = 0; c < 3; ++c) {
      // The model takes (pixel * rescale - mean) / std, i.e. (pixel - mean / rescale) / (std / rescale);
      // with the normalisation folded in, pixels go in as they are.
      tensor.mean.push_back(info.pixels ? 0.f : static_cast<float>(mean[c] / info.norm.rescale));
      tensor.std.push_back(info.pixels ? 1.f : static_cast<float>(stdev[c] / info.norm.rescale));
    }
    target.image_tensors[in->name] = tensor;
    target.input_descriptions[in->name] =
        fmt::format("Input image, float32 {} {}", info.nhwc ? "[batch, height, width, channel]" : "[batch, channel, height, width]",
                    info.pixels ? "with pixel values 0..255 (normalisation is inside the model)"
                                : "normalised as the preprocessor does");
    applied.image_inputs[in->name] = info;
  }
  if (!options.attention_mask && !applied.ones_input)
    throw std::runtime_error(fmt::format("--no-attention-mask: {} takes no attention_mask", task.hf_class));
  if (!replace.empty()) {
    graph = rebuild(graph, [&](ir::Graph& g, const ir::Value* old) -> ir::Value* {
      auto it = replace.find(old->name);
      return it != replace.end() ? it->second(g, old) : g.add_input(old->name, old->type);
    });
  }

  // Outputs and heads.
  if (task.outputs.size() != graph.outputs().size())
    throw std::runtime_error(fmt::format("{}: the plugin declares {} outputs ({}), the trace returns {}", task.hf_class,
                                         task.outputs.size(), fmt::join(task.output_names, ", "),
                                         graph.outputs().size()));
  const std::vector<std::string> labels = class_labels(source.config);
  bool segmentation = false;
  for (size_t i = 0; i < task.outputs.size(); ++i) {
    const OutputSpec& spec = task.outputs[i];
    ir::Value* raw = graph.outputs()[i];
    applied.outputs.push_back({spec.name, spec.head, raw->type});
    if (spec.head == OutputHead::Segmentation) {
      segmentation = true;
      if (applied.image_hw[0] == 0) throw std::runtime_error(fmt::format("{}: segmentation needs an image input", task.hf_class));
    }
    ir::Value* v = append_head(graph, raw, spec.head, applied, spec.name);
    graph.set_output(i, v);
    graph.set_output_name(i, spec.name);
    std::string description = spec.description;
    if (spec.head == OutputHead::Segmentation && !(options.upsample && options.argmax))
      description = fmt::format("{} of every {} (class axis 1)", options.argmax ? "Class index" : "Class scores",
                                options.upsample ? "pixel" : "cell of the logits grid");
    if (!description.empty()) target.output_descriptions[spec.name] = description;
    if (spec.head == OutputHead::Classifier && !labels.empty()) {
      if (v->type.numel() == static_cast<int64_t>(labels.size()) && coreml) {
        target.classifier = ClassifierOptions{spec.name, labels};
        applied.classifier_output = spec.name;
        target.output_descriptions[spec.name] = "Probability of each class label";
        target.output_descriptions["classLabel"] = "Most likely class label";
      }
      target.metadata["labels"] = nlohmann::json(labels).dump();
    }
  }
  if (!labels.empty() && (task.task == "token-classification" || segmentation))
    target.metadata["classes"] = join_labels(labels);
  if (segmentation && !labels.empty()) {
    target.metadata["com.apple.coreml.model.preview.type"] = "imageSegmenter";
    target.metadata["com.apple.coreml.model.preview.params"] = nlohmann::json({{"labels", labels}}).dump();
  }
  if (!target.metadata.count("description") && !task.description.empty())
    target.metadata["description"] = task.description;
  return applied;
}

std::vector<ir::Tensor> reference_heads(const AppliedTask& applied, const std::vector<ir::Tensor>& raw) {
  if (raw.size() != applied.outputs.size())
    throw std::runtime_error(fmt::format("validation: the original returns {} outputs, the task declares {}",
                                         raw.size(), applied.outputs.size()));
  std::vector<ir::Tensor> out;
  for (size_t i = 0; i < raw.size(); ++i) {
    const auto& o = applied.outputs[i];
    if (o.head == OutputHead::None) {
      out.push_back(raw[i]);
      continue;
    }
    ir::Graph g;
    ir::Value* x = g.add_input(o.name, {raw[i].dtype(), raw[i].shape()});
    g.add_output(append_head(g, x, o.head, applied, o.name), o.name);
    out.push_back(runtime::run(g, {raw[i]}).at(0));
  }
  return out;
}

int64_t class_mismatches_beyond_ties(const AppliedTask& applied, const std::string& name, const ir::Tensor& raw,
                                     const ir::Tensor& actual, double tolerance) {
  auto o = std::find_if(applied.outputs.begin(), applied.outputs.end(), [&](const auto& x) { return x.name == name; });
  if (o == applied.outputs.end() || o->head != OutputHead::Segmentation || !applied.argmax) return -1;
  AppliedTask scores_only = applied;
  scores_only.argmax = false;
  ir::Graph g;
  ir::Value* x = g.add_input(name, {raw.dtype(), raw.shape()});
  g.add_output(append_head(g, x, OutputHead::Segmentation, scores_only, name), name);
  const ir::Tensor scores = runtime::run(g, {raw}).at(0).cast(ir::DType::F32);
  const ir::Tensor got = actual.cast(ir::DType::I64);
  const auto& s = scores.shape();
  const int64_t classes = s[1], plane = s[2] * s[3];
  if (got.numel() != s[0] * plane) return -1;
  const float* v = scores.data_as<float>();
  double scale = 1;
  for (int64_t k = 0; k < scores.numel(); ++k) scale = std::max(scale, std::abs(double(v[k])));
  int64_t bad = 0;
  for (int64_t b = 0; b < s[0]; ++b)
    for (int64_t p = 0; p < plane; ++p) {
      const int64_t a = got.data_as<int64_t>()[b * plane + p];
      if (a < 0 || a >= classes) {
        ++bad;
        continue;
      }
      float best = v[b * classes * plane + p];
      for (int64_t c = 1; c < classes; ++c) best = std::max(best, v[(b * classes + c) * plane + p]);
      if (best - v[(b * classes + a) * plane + p] > tolerance * scale) ++bad;
    }
  return bad;
}

ir::Tensor export_input(const AppliedTask& applied, const std::string& name, const ir::Tensor& value) {
  auto it = applied.image_inputs.find(name);
  if (it == applied.image_inputs.end()) return value;
  const auto& info = it->second;
  ir::Tensor x = value.cast(ir::DType::F32);
  if (x.shape().size() != 4 || x.shape()[1] != 3)
    throw std::runtime_error(fmt::format("validation: image input '{}' is {}, expected [B, 3, H, W]", name,
                                         ir::shape_to_string(x.shape())));
  const ir::Shape& s = x.shape();
  const int64_t plane = s[2] * s[3];
  ir::Tensor y = ir::Tensor::zeros(ir::DType::F32, info.nhwc ? ir::Shape{s[0], s[2], s[3], s[1]} : s);
  const float* src = x.data_as<float>();
  float* dst = y.mutable_as<float>();
  for (int64_t b = 0; b < s[0]; ++b)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t p = 0; p < plane; ++p) {
        double v = src[(b * 3 + c) * plane + p];
        // Invert x = (pixel * rescale - mean) / std.
        if (info.pixels) v = (v * info.norm.std[c] + info.norm.mean[c]) / info.norm.rescale;
        dst[info.nhwc ? (b * plane + p) * 3 + c : (b * 3 + c) * plane + p] = static_cast<float>(v);
      }
  return y;
}

ir::Tensor export_image_input(const AppliedTask& applied, const std::string& name,
                              const std::vector<ProcessedImage>& images, const ir::Tensor& pixel_values) {
  auto it = applied.image_inputs.find(name);
  if (it == applied.image_inputs.end()) return pixel_values;
  const auto& info = it->second;
  if (!info.pixels) return export_input(applied, name, pixel_values);  // normalised values, NHWC for TFLite
  const ir::Shape& s = pixel_values.shape();
  const int64_t h = s[2], w = s[3];
  ir::Tensor y = ir::Tensor::zeros(ir::DType::F32, info.nhwc ? ir::Shape{s[0], h, w, 3} : ir::Shape{s[0], 3, h, w});
  float* dst = y.mutable_as<float>();
  for (int64_t b = 0; b < s[0]; ++b) {
    const ProcessedImage& img = images.at(static_cast<size_t>(b));
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t yy = 0; yy < h; ++yy)
        for (int64_t xx = 0; xx < w; ++xx) {
          const float v = img.image.at(yy, xx, static_cast<int>(img.bgr ? 2 - c : c));
          dst[info.nhwc ? ((b * h + yy) * w + xx) * 3 + c : ((b * 3 + c) * h + yy) * w + xx] = v;
        }
  }
  return y;
}

std::string describe_image_feed(const AppliedTask* applied, const std::string& name,
                                const std::vector<ProcessedImage>& images) {
  const io::RgbImage& first = images.at(0).image;
  const char* order = images.at(0).bgr ? "BGR" : "RGB";
  if (applied) {
    auto it = applied->image_inputs.find(name);
    if (it != applied->image_inputs.end() && it->second.pixels)
      return fmt::format("the export's input '{}' gets the processed {}x{} uint8 image{} ({} channel order{})", name, first.width,
                         first.height, images.size() > 1 ? "s" : "", order, it->second.nhwc ? ", NHWC" : "");
    if (it != applied->image_inputs.end() && it->second.nhwc)
      return fmt::format("the export's input '{}' gets pixel_values as NHWC", name);
  }
  return fmt::format("the export's input '{}' gets pixel_values", name);
}

}  // namespace exporters::exporting
