#include "core/export/heads.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "core/runtime/interpreter.hpp"

namespace exporters::exporting {

namespace {

// A copy of `old` whose inputs are rebuilt by `make_input` (which may add
// inputs and nodes to the new graph and returns the value standing for the
// old input); every node is re-added so types are inferred again.
ir::Graph rebuild(const ir::Graph& old, const std::function<ir::Value*(ir::Graph&, const ir::Value*)>& make_input,
                  std::map<std::string, ir::Value*>& input_values) {
  ir::Graph g;
  std::unordered_map<const ir::Value*, ir::Value*> map;
  for (const ir::Value* in : old.inputs()) input_values[in->name] = map[in] = make_input(g, in);
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

// The host side of a head: the export's graph and TargetOptions, or (with
// `target` null) the reference graph, where declarations are dropped.
class HostHeadContext final : public HeadContext {
 public:
  HostHeadContext(ir::Graph& graph, const TaskContext& ctx, std::string target_name, TargetOptions* target,
                  std::array<int64_t, 2> image_hw, std::function<ir::Value*(const std::string&)> input)
      : graph_(graph), ctx_(ctx), target_name_(std::move(target_name)), target_(target), image_hw_(image_hw),
        input_(std::move(input)) {}

  ir::Graph& graph() override { return graph_; }
  ir::Value* model_input(const std::string& name) override {
    ir::Value* v = input_(name);
    if (!v)
      throw std::runtime_error(fmt::format("{}: the head of output '{}' reads the model input '{}', which the model "
                                           "does not take", ctx_.task.hf_class, current_output, name));
    return v;
  }
  const TaskSpec& task() const override { return ctx_.task; }
  const ModelFolder& model() const override { return ctx_.model; }
  const HeadOptions& options() const override { return ctx_.options; }
  const std::string& target() const override { return target_name_; }
  std::array<int64_t, 2> image_size() const override { return image_hw_; }
  void set_classifier(const std::string& output, const std::vector<std::string>& labels) override {
    classifier_requests.emplace_back(output, labels);
  }
  void describe_output(const std::string& output, const std::string& description) override {
    if (target_) target_->output_descriptions[output] = description;
  }
  void set_metadata(const std::string& key, const std::string& value) override {
    if (target_) target_->metadata[key] = value;
  }

  std::string current_output;
  std::vector<std::pair<std::string, std::vector<std::string>>> classifier_requests;

 private:
  ir::Graph& graph_;
  const TaskContext& ctx_;
  std::string target_name_;
  TargetOptions* target_;
  std::array<int64_t, 2> image_hw_;
  std::function<ir::Value*(const std::string&)> input_;
};

const Head& head_of(const TaskContext& ctx, const OutputSpec& spec) {
  const Head* head = ctx.plugin.head(spec.head);
  if (!head)
    throw std::runtime_error(fmt::format("{}: output '{}' names head '{}', which plugin {} does not register",
                                         ctx.task.hf_class, spec.name, spec.head, ctx.plugin.plugin_name));
  return *head;
}

// Applies the task's heads to `raw` (one value per task output) and sets
// the graph's outputs to what they make.
std::vector<std::string> apply_heads(ir::Graph& graph, const std::vector<ir::Value*>& raw, const TaskContext& ctx,
                                     HostHeadContext& hc) {
  std::vector<ir::Value*> values;
  std::vector<std::string> names;
  for (size_t i = 0; i < ctx.task.outputs.size(); ++i) {
    const OutputSpec& spec = ctx.task.outputs[i];
    hc.current_output = spec.name;
    std::vector<HeadOutput> made;
    if (spec.head.empty()) made.push_back({spec.name, raw[i]});
    else made = head_of(ctx, spec)(hc, raw[i], spec);
    if (made.empty()) throw std::runtime_error(fmt::format("head '{}' of output '{}' made no output", spec.head, spec.name));
    for (auto& m : made) {
      if (!m.value) throw std::runtime_error(fmt::format("head '{}' of output '{}' returned no value", spec.head, spec.name));
      if (std::find(names.begin(), names.end(), m.name) != names.end())
        throw std::runtime_error(fmt::format("{}: two outputs named '{}' after the heads", ctx.task.hf_class, m.name));
      values.push_back(m.value);
      names.push_back(m.name);
    }
  }
  graph.set_outputs(values, names);
  return names;
}

std::string color_name(ColorLayout c) { return c == ColorLayout::BGR ? "BGR" : "RGB"; }

}  // namespace

AppliedTask apply_task(ir::Graph& graph, const TaskContext& ctx, const std::string& target_name, TargetOptions& target) {
  const TaskSpec& task = ctx.task;
  const HeadOptions& options = ctx.options;
  AppliedTask applied;
  if (options.image_input != "image" && options.image_input != "tensor")
    throw std::runtime_error(fmt::format("--image-input {}: expected 'image' or 'tensor'", options.image_input));

  // Inputs.
  std::map<std::string, std::function<ir::Value*(ir::Graph&, const ir::Value*)>> replace;
  for (const ir::Value* in : graph.inputs()) {
    auto spec = std::find_if(task.inputs.begin(), task.inputs.end(), [&](const InputSpec& s) { return s.name == in->name; });
    if (spec != task.inputs.end() && !spec->description.empty()) target.input_descriptions[in->name] = spec->description;
    if (in->type.rank() == 4 && ir::is_float(in->type.dtype) && applied.image_hw[0] == 0 &&
        (!ctx.preprocessor || ctx.preprocessor->input == in->name))
      applied.image_hw = {in->type.shape[2], in->type.shape[3]};
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
    if (!ctx.preprocessor || ctx.preprocessor->input != in->name) continue;
    const InputDeclaration decl =
        ctx.preprocessor->declare(PreprocessRequest{ctx.model, task, in->name, in->type, target_name, options});
    applied.inputs[in->name] = decl;
    if (decl.kind == InputDeclaration::Kind::Tensor) continue;
    if (in->type.rank() != 4 || in->type.shape[1] != 3)
      throw std::runtime_error(fmt::format("input '{}': declared as an image, but it is {}, not [B, 3, H, W]", in->name,
                                           in->type.to_string()));
    const std::vector<float> mean(decl.mean.begin(), decl.mean.end()), stdev(decl.std.begin(), decl.std.end());
    if (decl.kind == InputDeclaration::Kind::CoreMLImage) {
      ImageInputOptions img;
      img.color_space = color_name(decl.color);
      const bool equal_std = decl.std[0] == decl.std[1] && decl.std[1] == decl.std[2];
      if (equal_std) {
        img.scale = static_cast<float>(decl.rescale / decl.std[0]);
        for (int c = 0; c < 3; ++c) img.bias.push_back(static_cast<float>(-decl.mean[c] / decl.std[0]));
      } else {
        // Core ML has one scale: subtract the mean there, divide per channel
        // inside the model.
        img.scale = static_cast<float>(decl.rescale);
        for (int c = 0; c < 3; ++c) img.bias.push_back(static_cast<float>(-decl.mean[c]));
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
      applied.inputs[in->name].pixels = true;
      continue;
    }
    // An image tensor: NHWC and / or pixel values with the normalisation inside.
    if (decl.nhwc || decl.pixels) {
      replace[in->name] = [decl, mean, stdev](ir::Graph& g, const ir::Value* old) {
        const ir::Shape& s = old->type.shape;
        ir::Value* x = g.add_input(old->name, {old->type.dtype, decl.nhwc ? ir::Shape{s[0], s[2], s[3], s[1]} : s});
        if (decl.nhwc) x = g.add1("transpose", {x}, {{"perm", std::vector<int64_t>{0, 3, 1, 2}}}, old->name + "_nchw");
        if (decl.pixels) {
          std::vector<float> scale, bias;
          for (int c = 0; c < 3; ++c) {
            scale.push_back(static_cast<float>(decl.rescale / stdev[c]));
            bias.push_back(static_cast<float>(-mean[c] / stdev[c]));
          }
          x = g.add1("mul", {x, g.constant(ir::Tensor::from_f32({1, 3, 1, 1}, scale), old->name + "_scale")}, {},
                     old->name + "_scaled");
          x = g.add1("add", {x, g.constant(ir::Tensor::from_f32({1, 3, 1, 1}, bias), old->name + "_bias")}, {},
                     old->name + "_normalized");
        }
        return x;
      };
    }
    ImageTensorOptions tensor;
    tensor.color_space = color_name(decl.color);
    for (int c = 0; c < 3; ++c) {
      // The model takes (pixel * rescale - mean) / std, i.e. (pixel - mean / rescale) / (std / rescale);
      // with the normalisation folded in, pixels go in as they are.
      tensor.mean.push_back(decl.pixels ? 0.f : static_cast<float>(mean[c] / decl.rescale));
      tensor.std.push_back(decl.pixels ? 1.f : static_cast<float>(stdev[c] / decl.rescale));
    }
    target.image_tensors[in->name] = tensor;
    target.input_descriptions[in->name] = fmt::format(
        "Input image, float32 {} {}", decl.nhwc ? "[batch, height, width, channel]" : "[batch, channel, height, width]",
        decl.pixels ? "with pixel values 0..255 (normalisation is inside the model)" : "normalised as the preprocessor does");
  }
  if (!options.attention_mask && !applied.ones_input)
    throw std::runtime_error(fmt::format("--no-attention-mask: {} takes no attention_mask", task.hf_class));
  std::map<std::string, ir::Value*> input_values;
  if (!replace.empty()) {
    graph = rebuild(graph, [&](ir::Graph& g, const ir::Value* old) -> ir::Value* {
      auto it = replace.find(old->name);
      return it != replace.end() ? it->second(g, old) : g.add_input(old->name, old->type);
    }, input_values);
  } else {
    for (ir::Value* in : graph.inputs()) input_values[in->name] = in;
  }

  // Outputs and heads.
  if (task.outputs.size() != graph.outputs().size()) {
    std::vector<std::string> declared;
    for (const auto& o : task.outputs) declared.push_back(o.name);
    throw std::runtime_error(fmt::format("{}: the plugin declares {} outputs ({}), the model returns {}", task.hf_class,
                                         task.outputs.size(), fmt::join(declared, ", "), graph.outputs().size()));
  }
  for (const auto& o : task.outputs) {
    applied.raw_outputs.push_back(o.name);
    if (!o.description.empty()) target.output_descriptions[o.name] = o.description;
  }
  HostHeadContext hc(graph, ctx, target_name, &target, applied.image_hw, [&](const std::string& name) -> ir::Value* {
    auto it = input_values.find(name);
    return it == input_values.end() ? nullptr : it->second;
  });
  const std::vector<ir::Value*> raw = graph.outputs();
  applied.outputs = apply_heads(graph, raw, ctx, hc);
  const bool coreml = target_name.rfind("coreml", 0) == 0;
  for (const auto& [output, labels] : hc.classifier_requests) {
    auto at = std::find(applied.outputs.begin(), applied.outputs.end(), output);
    if (!coreml || at == applied.outputs.end() || applied.classifier_output) continue;
    const ir::Value* v = graph.outputs()[static_cast<size_t>(at - applied.outputs.begin())];
    if (v->type.numel() != static_cast<int64_t>(labels.size())) continue;
    target.classifier = ClassifierOptions{output, labels};
    applied.classifier_output = output;
    target.output_descriptions[output] = "Probability of each class label";
    target.output_descriptions["classLabel"] = "Most likely class label";
  }
  if (!target.metadata.count("description") && !task.description.empty())
    target.metadata["description"] = task.description;
  return applied;
}

std::map<std::string, ir::Tensor> reference_heads(const TaskContext& ctx, const AppliedTask& applied,
                                                  const std::vector<ir::Tensor>& raw,
                                                  const std::map<std::string, ir::Tensor>& model_inputs) {
  if (raw.size() != ctx.task.outputs.size())
    throw std::runtime_error(fmt::format("validation: the original returns {} outputs, the task declares {}",
                                         raw.size(), ctx.task.outputs.size()));
  ir::Graph g;
  std::vector<ir::Value*> raw_values;
  std::vector<ir::Tensor> feeds = raw;
  for (size_t i = 0; i < raw.size(); ++i)
    raw_values.push_back(g.add_input("raw." + ctx.task.outputs[i].name, {raw[i].dtype(), raw[i].shape()}));
  // Model inputs become graph inputs the first time a head asks for one.
  std::map<std::string, ir::Value*> added;
  HostHeadContext hc(g, ctx, "reference", nullptr, applied.image_hw, [&](const std::string& name) -> ir::Value* {
    if (auto it = added.find(name); it != added.end()) return it->second;
    auto it = model_inputs.find(name);
    if (it == model_inputs.end()) return nullptr;
    ir::Value* v = g.add_input(name, {it->second.dtype(), it->second.shape()});
    feeds.push_back(it->second);
    return added[name] = v;
  });
  const std::vector<std::string> names = apply_heads(g, raw_values, ctx, hc);
  std::vector<ir::Tensor> values = runtime::run(g, feeds);
  std::map<std::string, ir::Tensor> out;
  for (size_t i = 0; i < names.size(); ++i) out.emplace(names[i], values.at(i));
  return out;
}

int64_t class_mismatches_beyond_ties(const ir::Tensor& scores_in, const ir::Tensor& actual, double tolerance) {
  if (!ir::is_float(scores_in.dtype()) || ir::is_float(actual.dtype())) return -1;
  const auto& s = scores_in.shape();
  if (s.size() < 2 || actual.shape().size() + 1 != s.size() || actual.shape()[0] != s[0]) return -1;
  for (size_t d = 2; d < s.size(); ++d)
    if (actual.shape()[d - 1] != s[d]) return -1;
  const ir::Tensor scores = scores_in.cast(ir::DType::F32);
  const ir::Tensor got = actual.cast(ir::DType::I64);
  int64_t plane = 1;
  for (size_t d = 2; d < s.size(); ++d) plane *= s[d];
  const int64_t classes = s[1];
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
  auto it = applied.inputs.find(name);
  if (it == applied.inputs.end() || it->second.kind == InputDeclaration::Kind::Tensor) return value;
  const InputDeclaration& info = it->second;
  if (!info.nhwc && !info.pixels) return value;
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
        if (info.pixels) v = (v * info.std[c] + info.mean[c]) / info.rescale;
        dst[info.nhwc ? (b * plane + p) * 3 + c : (b * 3 + c) * plane + p] = static_cast<float>(v);
      }
  return y;
}

ir::Tensor export_media_input(const AppliedTask& applied, const std::string& name, const PreprocessedBatch& batch) {
  auto it = applied.inputs.find(name);
  if (it == applied.inputs.end() || !it->second.pixels || batch.pixels.numel() == 0)
    return export_input(applied, name, batch.model_value);
  const InputDeclaration& info = it->second;
  if (!info.nhwc) return batch.pixels;
  const ir::Shape& s = batch.pixels.shape();
  const int64_t h = s[2], w = s[3];
  ir::Tensor y = ir::Tensor::zeros(ir::DType::F32, {s[0], h, w, 3});
  const float* src = batch.pixels.data_as<float>();
  float* dst = y.mutable_as<float>();
  for (int64_t b = 0; b < s[0]; ++b)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t p = 0; p < h * w; ++p) dst[(b * h * w + p) * 3 + c] = src[(b * 3 + c) * h * w + p];
  return y;
}

std::string describe_media_feed(const AppliedTask* applied, const std::string& name, const PreprocessedBatch& batch) {
  if (applied) {
    auto it = applied->inputs.find(name);
    if (it != applied->inputs.end() && it->second.pixels && batch.pixels.numel() > 0) {
      const ir::Shape& s = batch.pixels.shape();
      return fmt::format("the export's input '{}' gets the processed {}x{} uint8 image{} ({} channel order{})", name,
                         s[3], s[2], s[0] > 1 ? "s" : "", color_name(it->second.color), it->second.nhwc ? ", NHWC" : "");
    }
    if (it != applied->inputs.end() && it->second.nhwc)
      return fmt::format("the export's input '{}' gets {} as NHWC", name, name);
  }
  return fmt::format("the export's input '{}' gets {}", name, name);
}

}  // namespace exporters::exporting
