// The SDK's common heads (exporters/heads.hpp): IR appended after a model
// output, plus what the written file declares about it.
#include "exporters/heads.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <stdexcept>

namespace exporters::heads {

namespace {

void require_float(const ir::Value* v, const OutputSpec& spec, const char* head, int64_t min_rank) {
  if (!ir::is_float(v->type.dtype) || v->type.rank() < min_rank)
    throw std::runtime_error(fmt::format("{} head on output '{}': needs a float tensor of rank >= {}, got {}", head,
                                         spec.name, min_rank, v->type.to_string()));
}

ir::Value* softmax_last(HeadContext& ctx, ir::Value* v, const OutputSpec& spec, const char* head) {
  require_float(v, spec, head, 1);
  return ctx.graph().add1("softmax", {v}, {{"axis", v->type.rank() - 1}}, spec.name + "_softmax");
}

std::string labels_json(const std::vector<std::string>& labels) { return nlohmann::json(labels).dump(); }

}  // namespace

std::vector<std::string> class_labels(const JsonView& config) {
  std::map<int64_t, std::string> by_id;
  for (const auto& [key, value] : config.string_map("id2label")) {
    size_t used = 0;
    int64_t id = 0;
    try {
      id = std::stoll(key, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != key.size() || key.empty()) config.reject("id2label", fmt::format("key '{}' is not an integer", key));
    by_id[id] = value;
  }
  std::vector<std::string> labels;
  std::set<std::string> used;
  int64_t expect = 0;
  for (const auto& [id, label] : by_id) {
    if (id != expect++) config.reject("id2label", "ids are not 0..N-1");
    std::string l = label;
    for (int k = 1; used.count(l); ++k) l = fmt::format("{}_{}", label, k);
    used.insert(l);
    labels.push_back(l);
  }
  return labels;
}

Head softmax() {
  return [](HeadContext& ctx, ir::Value* raw, const OutputSpec& spec) -> std::vector<HeadOutput> {
    return {{spec.name, softmax_last(ctx, raw, spec, "softmax")}};
  };
}

Head classifier() {
  return [](HeadContext& ctx, ir::Value* raw, const OutputSpec& spec) -> std::vector<HeadOutput> {
    ir::Value* p = softmax_last(ctx, raw, spec, "classifier");
    const auto& labels = ctx.task().labels;
    if (!labels.empty()) {
      ctx.set_classifier(spec.name, labels);
      ctx.set_metadata("labels", labels_json(labels));
    }
    return {{spec.name, p}};
  };
}

Head sigmoid() {
  return [](HeadContext& ctx, ir::Value* raw, const OutputSpec& spec) -> std::vector<HeadOutput> {
    require_float(raw, spec, "sigmoid", 1);
    const auto& labels = ctx.task().labels;
    if (!labels.empty()) ctx.set_metadata("labels", labels_json(labels));
    return {{spec.name, ctx.graph().add1("sigmoid", {raw}, {}, spec.name + "_sigmoid")}};
  };
}

Head token_classifier() {
  return [](HeadContext& ctx, ir::Value* raw, const OutputSpec& spec) -> std::vector<HeadOutput> {
    ir::Value* p = softmax_last(ctx, raw, spec, "token classifier");
    const auto& labels = ctx.task().labels;
    if (!labels.empty()) ctx.set_metadata("classes", fmt::format("{}", fmt::join(labels, ",")));
    return {{spec.name, p}};
  };
}

Head segmentation() {
  return [](HeadContext& ctx, ir::Value* v, const OutputSpec& spec) -> std::vector<HeadOutput> {
    if (v->type.rank() != 4 || !ir::is_float(v->type.dtype))
      throw std::runtime_error(fmt::format("segmentation head on output '{}': needs float [B, C, h, w] logits, got {}",
                                           spec.name, v->type.to_string()));
    const auto hw = ctx.image_size();
    if (hw[0] == 0)
      throw std::runtime_error(fmt::format("{}: segmentation needs an image input", ctx.task().hf_class));
    const HeadOptions& o = ctx.options();
    ir::Graph& g = ctx.graph();
    if (o.upsample && (v->type.shape[2] != hw[0] || v->type.shape[3] != hw[1]))
      v = g.add1("resize", {v},
                 {{"mode", std::string("linear")},
                  {"sizes", std::vector<int64_t>{hw[0], hw[1]}},
                  {"align_corners", int64_t{0}}},
                 spec.name + "_upsample");
    if (o.argmax) {
      v = g.add1("argmax", {v}, {{"axis", int64_t{1}}, {"keepdims", int64_t{0}}}, spec.name + "_argmax");
      // Class indices as int32: what Core ML and TFLite models return.
      v = g.add1("cast", {v}, {{"dtype", std::string("i32")}}, spec.name + "_classes");
    }
    if (!(o.upsample && o.argmax))
      ctx.describe_output(spec.name, fmt::format("{} of every {} (class axis 1)", o.argmax ? "Class index" : "Class scores",
                                                 o.upsample ? "pixel" : "cell of the logits grid"));
    const auto& labels = ctx.task().labels;
    if (!labels.empty()) {
      ctx.set_metadata("classes", fmt::format("{}", fmt::join(labels, ",")));
      ctx.set_metadata("com.apple.coreml.model.preview.type", "imageSegmenter");
      ctx.set_metadata("com.apple.coreml.model.preview.params", nlohmann::json({{"labels", labels}}).dump());
    }
    return {{spec.name, v}};
  };
}

Head mean_pooling(bool l2_normalize, std::string name) {
  return [l2_normalize, name](HeadContext& ctx, ir::Value* h, const OutputSpec& spec) -> std::vector<HeadOutput> {
    if (h->type.rank() != 3 || !ir::is_float(h->type.dtype))
      throw std::runtime_error(fmt::format("mean pooling head on output '{}': needs float [B, S, H] hidden states, got {}",
                                           spec.name, h->type.to_string()));
    ir::Graph& g = ctx.graph();
    ir::Value* mask = ctx.model_input("attention_mask");
    if (mask->type.rank() != 2 || mask->type.shape[0] != h->type.shape[0] || mask->type.shape[1] != h->type.shape[1])
      throw std::runtime_error(fmt::format("mean pooling head on output '{}': attention_mask is {}, the hidden states {}",
                                           spec.name, mask->type.to_string(), h->type.to_string()));
    const std::string p = name + "_";
    // sum(h * m) / max(sum(m), 1e-9), as sentence-transformers' Pooling does.
    ir::Value* m = g.add1("cast", {mask}, {{"dtype", std::string(ir::dtype_name(h->type.dtype))}}, p + "mask");
    m = g.add1("reshape", {m}, {{"shape", std::vector<int64_t>{h->type.shape[0], h->type.shape[1], 1}}}, p + "mask3");
    ir::Value* summed = g.add1("reduce_sum", {g.add1("mul", {h, m}, {}, p + "masked")},
                               {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}}, p + "sum");
    ir::Value* count = g.add1("reduce_sum", {m}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}}, p + "count");
    count = g.add1("clamp", {count}, {{"min", 1e-9}}, p + "count_clamped");
    ir::Value* out = g.add1("div", {summed, count}, {}, p + "mean");
    if (l2_normalize) {
      // x / max(||x||, 1e-12), torch.nn.functional.normalize.
      ir::Value* sq = g.add1("reduce_sum", {g.add1("mul", {out, out}, {}, p + "sq")},
                             {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{1}}}, p + "sqsum");
      ir::Value* norm = g.add1("clamp", {g.add1("sqrt", {sq}, {}, p + "norm")}, {{"min", 1e-12}}, p + "norm_clamped");
      out = g.add1("div", {out, norm}, {}, p + "normalized");
    }
    ctx.describe_output(name, fmt::format("Sentence embedding: mean of the token vectors over the attention mask{}",
                                          l2_normalize ? ", L2-normalised" : ""));
    return {{name, out}};
  };
}

Head ctc(std::vector<std::string> vocabulary, std::string ids_name) {
  return [vocabulary, ids_name](HeadContext& ctx, ir::Value* logits, const OutputSpec& spec) -> std::vector<HeadOutput> {
    if (logits->type.rank() != 3 || !ir::is_float(logits->type.dtype))
      throw std::runtime_error(fmt::format("ctc head on output '{}': needs float [B, T, V] logits, got {}", spec.name,
                                           logits->type.to_string()));
    ir::Graph& g = ctx.graph();
    ir::Value* ids = g.add1("argmax", {logits}, {{"axis", int64_t{2}}, {"keepdims", int64_t{0}}}, ids_name + "_argmax");
    ids = g.add1("cast", {ids}, {{"dtype", std::string("i32")}}, ids_name);
    ctx.describe_output(ids_name, "Greedy CTC decoding: the most likely token id per frame (collapse repeats, drop the "
                                  "blank/pad id to get the text)");
    if (!vocabulary.empty()) ctx.set_metadata("vocabulary", nlohmann::json(vocabulary).dump());
    return {{spec.name, logits}, {ids_name, ids}};
  };
}

Head detection_scores() {
  return [](HeadContext& ctx, ir::Value* raw, const OutputSpec& spec) -> std::vector<HeadOutput> {
    ir::Value* p = softmax_last(ctx, raw, spec, "detection");
    const auto& labels = ctx.task().labels;
    if (!labels.empty()) ctx.set_metadata("classes", fmt::format("{}", fmt::join(labels, ",")));
    return {{spec.name, p}};
  };
}

Head detection_boxes() {
  return [](HeadContext& ctx, ir::Value* raw, const OutputSpec& spec) -> std::vector<HeadOutput> {
    if (raw->type.rank() != 3 || raw->type.shape[2] != 4)
      throw std::runtime_error(fmt::format("detection boxes head on output '{}': needs [B, Q, 4] boxes, got {}",
                                           spec.name, raw->type.to_string()));
    ctx.set_metadata("box_format", "cxcywh");
    return {{spec.name, raw}};
  };
}

}  // namespace exporters::heads
