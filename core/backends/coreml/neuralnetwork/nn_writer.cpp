// IR -> NeuralNetwork .mlmodel. One lowering per IR op (a table row); each
// emits one or a few layers. Constants consumed as weights are stored inline
// in the layer; other constants become loadConstantND layers on first use.
#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <unistd.h>
#include <unordered_map>

#include "core/io/staged_output.hpp"
#include "core/io/zip_archive.hpp"
#include "coreml_model.pb.h"
#include "core/backends/coreml/neuralnetwork/nn_model.hpp"

namespace exporters::coreml {

namespace fs = std::filesystem;
namespace spec = CoreML::Specification;
using ir::DType;
using ir::Node;
using ir::Shape;
using ir::Tensor;
using ir::Value;

namespace {

constexpr int kBaseSpec = 4;  // iOS 13: ND layers, exact-rank mapping

std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "v_" + out;
  return out;
}

class NnWriter {
 public:
  NnWriter(const ir::Graph& g, const LegacyOptions& o,
           google::protobuf::RepeatedPtrField<spec::NeuralNetworkLayer>* layers)
      : graph(g), options(o), layers_(layers) {
    for (auto* in : g.inputs()) used_.insert(in->name);
    for (const auto& name : g.output_names()) used_.insert(name);
    for (auto* in : g.inputs()) blob_[in] = in->name;
    for (size_t i = 0; i < g.outputs().size(); ++i)
      if (!output_name_.count(g.outputs()[i])) output_name_[g.outputs()[i]] = g.output_names()[i];
  }

  const ir::Graph& graph;
  const LegacyOptions& options;
  int spec_version = kBaseSpec;

  [[noreturn]] void fail(const Node& n, const std::string& why) const {
    throw CoreMLError(fmt::format("NeuralNetwork writer: op '{}'{}: {}", n.op,
                                  n.name.empty() ? "" : " (" + n.name + ")", why));
  }
  void need_spec(int v) { spec_version = std::max(spec_version, v); }

  std::string fresh(const std::string& base) {
    std::string b = sanitize(base), name = b;
    for (int i = 1; used_.count(name); ++i) name = fmt::format("{}_{}", b, i);
    used_.insert(name);
    return name;
  }

  const Tensor* constant_of(const Value* v) const {
    return v && v->producer && v->producer->is_constant() ? &v->producer->constant() : nullptr;
  }
  const Tensor* constant_in(const Node& n, size_t i) const {
    return i < n.inputs.size() ? constant_of(n.inputs[i]) : nullptr;
  }
  bool has(const Node& n, size_t i) const { return i < n.inputs.size() && n.inputs[i]; }

  void set_weights(spec::WeightParams* w, const float* values, size_t n) {
    if (options.precision == Precision::Float16) {
      // Keep finite values finite: -3.4e38 attention masks would become -inf.
      std::string bytes(n * 2, '\0');
      ir::floats_to_halves(values, reinterpret_cast<uint16_t*>(bytes.data()), n, /*saturate=*/true);
      w->set_float16value(std::move(bytes));
    } else {
      w->mutable_floatvalue()->Assign(values, values + n);
    }
  }
  void set_weights(spec::WeightParams* w, const std::vector<float>& values) {
    set_weights(w, values.data(), values.size());
  }
  static std::vector<float> floats(const Tensor& t) {
    std::vector<float> out(static_cast<size_t>(t.numel()));
    if (t.dtype() == DType::F32) {
      std::memcpy(out.data(), t.data(), out.size() * 4);
    } else {
      for (int64_t i = 0; i < t.numel(); ++i) out[i] = static_cast<float>(t.element_as_double(i));
    }
    return out;
  }
  // float32 weights go straight from the (mapped) tensor into the message.
  void set_weights(spec::WeightParams* w, const Tensor& t) {
    if (t.dtype() == DType::F32) {
      set_weights(w, t.data_as<float>(), static_cast<size_t>(t.numel()));
      io::release_mapped_pages(t.data(), t.nbytes());
      return;
    }
    set_weights(w, floats(t));
  }

  spec::NeuralNetworkLayer* add_layer(const std::string& kind, const std::vector<std::string>& inputs,
                                      const std::string& output) {
    auto* l = layers_->Add();
    l->set_name(fresh(output + "_" + kind));
    for (const auto& in : inputs) l->add_input(in);
    l->add_output(output);
    return l;
  }

  // Blob holding a constant (loadConstantND, cached per value).
  std::string constant_blob(const Tensor& t, const std::string& hint) {
    std::string name = fresh(hint);
    auto* l = add_layer("const", {}, name);
    auto* p = l->mutable_loadconstantnd();
    Shape shape = t.shape().empty() ? Shape{1} : t.shape();
    for (auto d : shape) p->add_shape(static_cast<uint64_t>(d));
    set_weights(p->mutable_data(), t);
    return name;
  }
  std::string scalar_blob(float v) {
    auto it = scalars_.find(v);
    if (it != scalars_.end()) return it->second;
    return scalars_[v] = constant_blob(Tensor::scalar_f32(v), "c");
  }

  std::string blob(const Value* v) {
    auto it = blob_.find(v);
    if (it != blob_.end()) return it->second;
    if (const Tensor* t = constant_of(v)) {
      std::string name = constant_blob(*t, v->name.empty() ? fmt::format("const_{}", v->id) : v->name);
      blob_[v] = name;
      return name;
    }
    throw CoreMLError(fmt::format("NeuralNetwork writer: value %{} is used before it is defined", v->id));
  }
  std::string in(const Node& n, size_t i) {
    if (!has(n, i)) fail(n, fmt::format("input {} is missing", i));
    return blob(n.inputs[i]);
  }

  // Output blob name for node output i (graph outputs keep their names).
  std::string out(const Node& n, size_t i = 0) {
    const Value* v = n.outputs.at(i);
    auto it = output_name_.find(v);
    std::string name;
    if (it != output_name_.end() && !produced_.count(it->second)) {
      name = it->second;
    } else {
      name = fresh(v->name.empty() ? fmt::format("var_{}", v->id) : v->name);
    }
    produced_.insert(name);
    blob_[v] = name;
    return name;
  }
  // The node's output is the same data as `blob` (casts the NN does not need).
  void alias(const Node& n, const std::string& b) { blob_[n.outputs.at(0)] = b; }

  // A fresh intermediate blob.
  std::string tmp(const Node& n, const std::string& what) {
    return fresh(fmt::format("var_{}_{}", n.outputs.at(0)->id, what));
  }

  // Emits a final identity for graph outputs whose blob has another name.
  void finish_outputs() {
    for (size_t i = 0; i < graph.outputs().size(); ++i) {
      const std::string& name = graph.output_names()[i];
      std::string b = blob(graph.outputs()[i]);
      if (b == name) continue;
      if (produced_.count(name)) throw CoreMLError(fmt::format("NeuralNetwork writer: output name '{}' is used twice", name));
      auto* l = add_layer("identity", {b}, name);
      auto* lin = l->mutable_activation()->mutable_linear();
      lin->set_alpha(1.0f);
      lin->set_beta(0.0f);
      produced_.insert(name);
    }
  }

  void lower(const Node& n);

 private:
  google::protobuf::RepeatedPtrField<spec::NeuralNetworkLayer>* layers_;
  std::set<std::string> used_;
  std::set<std::string> produced_;
  std::unordered_map<const Value*, std::string> blob_;
  std::unordered_map<const Value*, std::string> output_name_;
  std::map<float, std::string> scalars_;
};

using W = NnWriter;
using Lowering = std::function<void(W&, const Node&)>;
using L = spec::NeuralNetworkLayer;

const Shape& shape_of(const Node& n, size_t i) { return n.inputs.at(i)->type.shape; }
const Shape& out_shape(const Node& n) { return n.outputs.at(0)->type.shape; }
bool int_like(DType d) { return !ir::is_float(d); }

// ─ Small emitters shared by the lowerings ────────────────────────────────

L* binary_layer(W& w, const std::string& kind, const std::string& a, const std::string& b, const std::string& o) {
  L* l = w.add_layer(kind, {a, b}, o);
  if (kind == "add") l->mutable_addbroadcastable();
  else if (kind == "sub") l->mutable_subtractbroadcastable();
  else if (kind == "mul") l->mutable_multiplybroadcastable();
  else if (kind == "div") l->mutable_dividebroadcastable();
  else if (kind == "pow") l->mutable_powbroadcastable();
  else if (kind == "max") l->mutable_maxbroadcastable();
  else if (kind == "min") l->mutable_minbroadcastable();
  else if (kind == "floordiv") l->mutable_floordivbroadcastable();
  return l;
}

void unary_fn(W& w, spec::UnaryFunctionLayerParams::Operation op, const std::string& x, const std::string& o) {
  auto* p = w.add_layer("unary", {x}, o)->mutable_unary();
  p->set_type(op);
  p->set_scale(1.0f);
}

void reshape_layer(W& w, const std::string& x, const Shape& shape, const std::string& o) {
  auto* p = w.add_layer("reshape", {x}, o)->mutable_reshapestatic();
  for (auto d : (shape.empty() ? Shape{1} : shape)) p->add_targetshape(d);
}

// trunc(x) = sign(x) * floor(|x|): integer division / float->int casts.
void trunc_into(W& w, const Node& n, const std::string& x, const std::string& o) {
  std::string s = w.tmp(n, "sign"), a = w.tmp(n, "abs"), f = w.tmp(n, "floor");
  w.add_layer("sign", {x}, s)->mutable_sign();
  unary_fn(w, spec::UnaryFunctionLayerParams::ABS, x, a);
  w.add_layer("floor", {a}, f)->mutable_floor();
  binary_layer(w, "mul", s, f, o);
}

// x * c, x + c, x - c, c - x with a one-element constant c that does not
// change x's shape: one linear activation (alpha * x + beta), exact in fp32,
// instead of a loadConstantND and a broadcastable layer.
bool scalar_affine(W& w, const Node& n, const std::string& kind) {
  if (kind != "add" && kind != "sub" && kind != "mul") return false;
  for (int c = 0; c < 2; ++c) {
    const Tensor* t = w.constant_in(n, c);
    const Value* other = n.inputs.at(1 - c);
    if (!t || t->numel() != 1 || w.constant_of(other) || other->type.shape != out_shape(n)) continue;
    float v = static_cast<float>(t->element_as_double(0));
    if (w.options.precision == Precision::Float16 && std::isfinite(v)) v = std::clamp(v, -65504.0f, 65504.0f);
    float alpha = 1.0f, beta = 0.0f;
    if (kind == "mul") alpha = v;
    else if (kind == "add") beta = v;
    else if (c == 1) beta = -v;  // x - c
    else { alpha = -1.0f; beta = v; }  // c - x
    auto* lin = w.add_layer(kind, {w.blob(other)}, w.out(n))->mutable_activation()->mutable_linear();
    lin->set_alpha(alpha);
    lin->set_beta(beta);
    return true;
  }
  return false;
}

void binary(W& w, const Node& n, const std::string& kind) {
  if (scalar_affine(w, n, kind)) return;
  if (kind == "div" && int_like(n.outputs[0]->type.dtype)) {
    std::string q = w.tmp(n, "quot");
    binary_layer(w, "div", w.in(n, 0), w.in(n, 1), q);
    trunc_into(w, n, q, w.out(n));
    return;
  }
  binary_layer(w, kind, w.in(n, 0), w.in(n, 1), w.out(n));
}

void compare(W& w, const Node& n) {
  L* l = w.add_layer(n.op, {w.in(n, 0), w.in(n, 1)}, w.out(n));
  if (n.op == "equal") l->mutable_equal();
  else if (n.op == "not_equal") l->mutable_notequal();
  else if (n.op == "less") l->mutable_lessthan();
  else if (n.op == "less_equal") l->mutable_lessequal();
  else if (n.op == "greater") l->mutable_greaterthan();
  else if (n.op == "greater_equal") l->mutable_greaterequal();
  else if (n.op == "logical_and") l->mutable_logicaland();
  else if (n.op == "logical_or") l->mutable_logicalor();
  else if (n.op == "logical_xor") l->mutable_logicalxor();
}

spec::ActivationParams* activation(W& w, const Node& n, const std::string& x, const std::string& o) {
  return w.add_layer(n.op, {x}, o)->mutable_activation();
}

std::vector<int64_t> all_axes(int64_t rank) {
  std::vector<int64_t> a(rank);
  for (int64_t i = 0; i < rank; ++i) a[i] = i;
  return a;
}

// 1-D spatial ops run as 2-D with H = 1: [N, C, L] -> [N, C, 1, L].
struct Spatial {
  bool one_d = false;
  std::string x;
};
Spatial to_2d(W& w, const Node& n) {
  const Shape& s = shape_of(n, 0);
  const size_t spatial = s.size() - 2;
  if (spatial == 2) return {false, w.in(n, 0)};
  if (spatial != 1) w.fail(n, fmt::format("{}-D spatial input is not supported (1-D or 2-D)", spatial));
  std::string x4 = w.tmp(n, "as2d");
  reshape_layer(w, w.in(n, 0), {s[0], s[1], 1, s[2]}, x4);
  return {true, x4};
}
// Output blob for a 2-D op, reshaped back to the node's 1-D shape afterwards.
std::string spatial_out(W& w, const Node& n, const Spatial& sp) { return sp.one_d ? w.tmp(n, "out2d") : w.out(n); }
void spatial_finish(W& w, const Node& n, const Spatial& sp, const std::string& y) {
  if (sp.one_d) reshape_layer(w, y, out_shape(n), w.out(n));
}
// [s] -> [1, s] for 1-D, attrs as given for 2-D.
std::vector<int64_t> hw(const Spatial& sp, std::vector<int64_t> v, int64_t fill) {
  if (sp.one_d) v.insert(v.begin(), fill);
  return v;
}
// pads [begin..., end...] -> (H, W) pairs.
void set_pads(spec::BorderAmounts* b, const Spatial& sp, const std::vector<int64_t>& pads) {
  const size_t k = pads.size() / 2;
  std::vector<int64_t> begin(pads.begin(), pads.begin() + k), end(pads.begin() + k, pads.end());
  begin = hw(sp, begin, 0);
  end = hw(sp, end, 0);
  for (size_t i = 0; i < 2; ++i) {
    auto* e = b->add_borderamounts();
    e->set_startedgesize(static_cast<uint64_t>(begin[i]));
    e->set_endedgesize(static_cast<uint64_t>(end[i]));
  }
}

void conv(W& w, const Node& n) {
  const Tensor* weight = w.constant_in(n, 1);
  if (!weight) w.fail(n, "the weight must be a constant");
  const Tensor* bias = w.constant_in(n, 2);
  if (w.has(n, 2) && !bias) w.fail(n, "the bias must be a constant");
  auto sp = to_2d(w, n);
  std::string y = spatial_out(w, n, sp);
  auto* p = w.add_layer("conv", {sp.x}, y)->mutable_convolution();
  const Shape& ws = weight->shape();
  const int64_t groups = n.attrs.i("groups", 1);
  p->set_outputchannels(ws[0]);
  p->set_kernelchannels(ws[1]);
  p->set_ngroups(groups);
  for (auto k : hw(sp, {ws.begin() + 2, ws.end()}, 1)) p->add_kernelsize(k);
  for (auto s : hw(sp, n.attrs.ints("strides"), 1)) p->add_stride(s);
  for (auto d : hw(sp, n.attrs.ints("dilations"), 1)) p->add_dilationfactor(d);
  set_pads(p->mutable_valid()->mutable_paddingamounts(), sp, n.attrs.ints("pads"));
  w.set_weights(p->mutable_weights(), *weight);
  if (bias) {
    p->set_hasbias(true);
    w.set_weights(p->mutable_bias(), *bias);
  }
  spatial_finish(w, n, sp, y);
}

// Deconvolution without padding, then a crop for pads / output_padding.
void conv_transpose(W& w, const Node& n) {
  const Tensor* weight = w.constant_in(n, 1);
  if (!weight) w.fail(n, "the weight must be a constant");
  const Tensor* bias = w.constant_in(n, 2);
  if (w.has(n, 2) && !bias) w.fail(n, "the bias must be a constant");
  for (auto d : n.attrs.ints("dilations"))
    if (d != 1) w.fail(n, "dilated transposed convolution has no NeuralNetwork layer");
  auto sp = to_2d(w, n);
  const Shape& xs = shape_of(n, 0);
  const Shape& ws = weight->shape();
  const int64_t groups = n.attrs.i("groups", 1);
  auto strides = hw(sp, n.attrs.ints("strides"), 1);
  auto kernel = hw(sp, {ws.begin() + 2, ws.end()}, 1);
  std::vector<int64_t> in_hw = sp.one_d ? std::vector<int64_t>{1, xs[2]} : std::vector<int64_t>{xs[2], xs[3]};
  std::vector<int64_t> full(2);
  for (int i = 0; i < 2; ++i) full[i] = (in_hw[i] - 1) * strides[i] + kernel[i];
  Shape want = out_shape(n);
  std::vector<int64_t> want_hw = sp.one_d ? std::vector<int64_t>{1, want[2]} : std::vector<int64_t>{want[2], want[3]};
  auto pads = n.attrs.ints("pads");
  std::vector<int64_t> begin = hw(sp, {pads.begin(), pads.begin() + pads.size() / 2}, 0);
  bool crop = false;
  for (int i = 0; i < 2; ++i) {
    if (begin[i] + want_hw[i] > full[i]) w.fail(n, "output_padding beyond the full deconvolution output is not supported");
    crop = crop || begin[i] != 0 || want_hw[i] != full[i];
  }
  std::string y = crop ? w.tmp(n, "deconv") : spatial_out(w, n, sp);
  auto* p = w.add_layer("deconv", {sp.x}, y)->mutable_convolution();
  p->set_isdeconvolution(true);
  p->set_outputchannels(ws[1] * groups);
  p->set_kernelchannels(ws[0]);
  p->set_ngroups(groups);
  for (auto k : kernel) p->add_kernelsize(k);
  for (auto s : strides) p->add_stride(s);
  p->add_dilationfactor(1);
  p->add_dilationfactor(1);
  p->mutable_valid();
  w.set_weights(p->mutable_weights(), *weight);
  if (bias) {
    p->set_hasbias(true);
    w.set_weights(p->mutable_bias(), *bias);
  }
  if (crop) {
    std::string c = spatial_out(w, n, sp);
    auto* s = w.add_layer("crop", {y}, c)->mutable_slicestatic();
    for (int a = 0; a < 4; ++a) {
      int64_t b = a < 2 ? 0 : begin[a - 2];
      int64_t e = a == 0 ? xs[0] : a == 1 ? ws[1] * groups : begin[a - 2] + want_hw[a - 2];
      s->add_beginids(b);
      s->add_beginmasks(false);
      s->add_endids(e);
      s->add_endmasks(false);
      s->add_strides(1);
    }
    spatial_finish(w, n, sp, c);
  } else {
    spatial_finish(w, n, sp, y);
  }
}

void pool(W& w, const Node& n) {
  auto sp = to_2d(w, n);
  std::string y = spatial_out(w, n, sp);
  auto* p = w.add_layer(n.op, {sp.x}, y)->mutable_pooling();
  const bool is_max = n.op == "max_pool" || n.op == "adaptive_max_pool";
  p->set_type(is_max ? spec::PoolingLayerParams::MAX : spec::PoolingLayerParams::AVERAGE);
  if (n.op == "adaptive_avg_pool" || n.op == "adaptive_max_pool") {
    const Shape& s = shape_of(n, 0);
    auto sizes = n.attrs.ints("sizes");
    bool global = true;
    std::vector<int64_t> k;
    for (size_t i = 0; i < sizes.size(); ++i) {
      const int64_t in = s[2 + i];
      if (in % sizes[i] != 0) w.fail(n, fmt::format("adaptive pooling from {} to {} is not a whole kernel", in, sizes[i]));
      k.push_back(in / sizes[i]);
      global = global && sizes[i] == 1;
    }
    if (global) {
      p->set_globalpooling(true);
      p->mutable_valid();
    } else {
      for (auto v : hw(sp, k, 1)) p->add_kernelsize(v);
      for (auto v : hw(sp, k, 1)) p->add_stride(v);
      set_pads(p->mutable_valid()->mutable_paddingamounts(), sp, std::vector<int64_t>(2 * k.size(), 0));
    }
    p->set_avgpoolexcludepadding(true);
  } else {
    if (n.attrs.i("ceil_mode", 0) != 0) {
      // ceil_mode only matters when the last window would start in the input.
      const Shape& s = shape_of(n, 0);
      auto k = n.attrs.ints("kernel"), st = n.attrs.ints("strides"), pads = n.attrs.ints("pads");
      for (size_t i = 0; i < k.size(); ++i) {
        int64_t span = s[2 + i] + pads[i] + pads[i + k.size()] - k[i];
        if (span % st[i] != 0) w.fail(n, "ceil_mode pooling with a partial last window is not supported");
      }
    }
    for (auto v : hw(sp, n.attrs.ints("kernel"), 1)) p->add_kernelsize(v);
    for (auto v : hw(sp, n.attrs.ints("strides"), 1)) p->add_stride(v);
    set_pads(p->mutable_valid()->mutable_paddingamounts(), sp, n.attrs.ints("pads"));
    p->set_avgpoolexcludepadding(!is_max && n.attrs.i("count_include_pad", 1) == 0);
  }
  spatial_finish(w, n, sp, y);
}

void resize(W& w, const Node& n) {
  auto sp = to_2d(w, n);
  const Shape& s = shape_of(n, 0);
  auto sizes = hw(sp, n.attrs.ints("sizes"), 1);
  std::vector<int64_t> in_hw = sp.one_d ? std::vector<int64_t>{1, s[2]} : std::vector<int64_t>{s[2], s[3]};
  const std::string mode = n.attrs.s("mode");
  const bool align = n.attrs.i("align_corners", 0) != 0;
  std::string y = spatial_out(w, n, sp);
  if (mode == "linear" && align) {
    auto* p = w.add_layer("resize", {sp.x}, y)->mutable_resizebilinear();
    for (auto v : sizes) p->add_targetsize(v);
    p->mutable_mode()->set_samplingmethod(spec::SamplingMode::STRICT_ALIGN_ENDPOINTS_MODE);
  } else if (mode == "nearest" || mode == "linear") {
    auto* p = w.add_layer("upsample", {sp.x}, y)->mutable_upsample();
    bool integral = true;
    for (int i = 0; i < 2; ++i) integral = integral && sizes[i] % in_hw[i] == 0;
    if (mode == "nearest") {
      if (!integral) w.fail(n, "nearest resize needs whole scale factors in a NeuralNetwork");
      p->set_mode(spec::UpsampleLayerParams::NN);
    } else {
      p->set_mode(spec::UpsampleLayerParams::BILINEAR);
      p->set_linearupsamplemode(spec::UpsampleLayerParams::ALIGN_CORNERS_FALSE);
      w.need_spec(5);
    }
    for (int i = 0; i < 2; ++i) {
      if (integral) p->add_scalingfactor(sizes[i] / in_hw[i]);
      else p->add_fractionalscalingfactor(static_cast<float>(sizes[i]) / static_cast<float>(in_hw[i]));
    }
    if (!integral) {
      for (int i = 0; i < 2; ++i)
        if (std::floor(in_hw[i] * (static_cast<double>(sizes[i]) / in_hw[i])) != sizes[i])
          w.fail(n, "fractional resize factor does not reproduce the output size");
      w.need_spec(5);
    }
  } else {
    w.fail(n, fmt::format("resize mode '{}' has no NeuralNetwork layer", mode));
  }
  spatial_finish(w, n, sp, y);
}

void reduce(W& w, const Node& n) {
  L* l = w.add_layer(n.op, {w.in(n, 0)}, w.out(n));
  auto axes = n.attrs.ints("axes", {});
  const bool keep = n.attrs.i("keepdims", 0) != 0;
  auto fill = [&](auto* p) {
    if (axes.empty()) p->set_reduceall(true);
    for (auto a : axes) p->add_axes(a);
    p->set_keepdims(keep);
  };
  if (n.op == "reduce_sum") fill(l->mutable_reducesum());
  else if (n.op == "reduce_mean") fill(l->mutable_reducemean());
  else if (n.op == "reduce_max") fill(l->mutable_reducemax());
  else if (n.op == "reduce_min") fill(l->mutable_reducemin());
  else fill(l->mutable_reduceprod());
}

void linear(W& w, const Node& n) {
  const Tensor* weight = w.constant_in(n, 1);
  const Tensor* bias = w.constant_in(n, 2);
  if (!weight || (w.has(n, 2) && !bias)) w.fail(n, "weight and bias must be constants");
  auto* p = w.add_layer("linear", {w.in(n, 0)}, w.out(n))->mutable_batchedmatmul();
  // The [K, N] matrix column-major is the torch [N, K] weight row-major.
  p->set_weightmatrixfirstdimension(weight->shape()[1]);
  p->set_weightmatrixseconddimension(weight->shape()[0]);
  w.set_weights(p->mutable_weights(), *weight);
  if (bias) {
    p->set_hasbias(true);
    w.set_weights(p->mutable_bias(), *bias);
  }
}

void matmul(W& w, const Node& n) {
  const Tensor* b = w.constant_in(n, 1);
  if (b && b->shape().size() == 2) {
    const int64_t k = b->shape()[0], m = b->shape()[1];
    std::vector<float> v = W::floats(*b), colmajor(v.size());
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < m; ++j) colmajor[j * k + i] = v[i * m + j];
    auto* p = w.add_layer("matmul", {w.in(n, 0)}, w.out(n))->mutable_batchedmatmul();
    p->set_weightmatrixfirstdimension(k);
    p->set_weightmatrixseconddimension(m);
    w.set_weights(p->mutable_weights(), colmajor);
    return;
  }
  w.add_layer("matmul", {w.in(n, 0), w.in(n, 1)}, w.out(n))->mutable_batchedmatmul();
}

// The node's epsilon, kept representable (and not 0) when fp16 runs it.
double norm_epsilon(const W& w, const Node& n) {
  const double eps = n.attrs.f("epsilon");
  return w.options.precision == Precision::Float16 ? float16_safe_epsilon(eps) : eps;
}

void layer_norm(W& w, const Node& n) {
  const Shape& s = shape_of(n, 0);
  auto axes = n.attrs.ints("axes");
  Shape norm;
  for (auto a : axes) norm.push_back(s[a]);
  const Tensor* g = w.constant_in(n, 1);
  const Tensor* b = w.constant_in(n, 2);
  if ((w.has(n, 1) && !g) || (w.has(n, 2) && !b)) w.fail(n, "gamma and beta must be constants");
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] != static_cast<int64_t>(s.size() - axes.size() + i)) w.fail(n, "only trailing axes can be normalised");
  auto* p = w.add_layer("layernorm", {w.in(n, 0)}, w.out(n))->mutable_layernormalization();
  for (auto d : norm) p->add_normalizedshape(d);
  // A float field, not an fp16 blob: kept as it is (raising it moved
  // MobileViT's fp16 export past its tolerance).
  p->set_eps(static_cast<float>(n.attrs.f("epsilon")));
  const int64_t count = ir::shape_numel(norm);
  w.set_weights(p->mutable_gamma(), g ? W::floats(*g) : std::vector<float>(count, 1.0f));
  w.set_weights(p->mutable_beta(), b ? W::floats(*b) : std::vector<float>(count, 0.0f));
}

// batch_norm / group_norm through broadcastable layers on [C, 1, ...] constants.
Tensor channel_constant(const std::vector<float>& v, int64_t rank) {
  Shape s(rank - 1, 1);
  s[0] = static_cast<int64_t>(v.size());
  return Tensor::from_f32(s, v);
}

void batch_norm(W& w, const Node& n) {
  const Tensor* mean = w.constant_in(n, 1);
  const Tensor* var = w.constant_in(n, 2);
  const Tensor* g = w.constant_in(n, 3);
  const Tensor* b = w.constant_in(n, 4);
  if (!mean || !var || (w.has(n, 3) && !g) || (w.has(n, 4) && !b)) w.fail(n, "statistics and affine parameters must be constants");
  auto m = W::floats(*mean), v = W::floats(*var);
  // Folded here in double; only the scale is stored (saturated in fp16).
  const double eps = n.attrs.f("epsilon");
  std::vector<float> scale(m.size()), shift(m.size());
  auto gv = g ? W::floats(*g) : std::vector<float>(m.size(), 1.0f);
  auto bv = b ? W::floats(*b) : std::vector<float>(m.size(), 0.0f);
  for (size_t c = 0; c < m.size(); ++c) {
    scale[c] = static_cast<float>(gv[c] / std::sqrt(static_cast<double>(v[c]) + eps));
    shift[c] = static_cast<float>(bv[c] - m[c] * static_cast<double>(scale[c]));
  }
  const int64_t rank = static_cast<int64_t>(shape_of(n, 0).size());
  std::string sc = w.constant_blob(channel_constant(scale, rank), "bn_scale");
  std::string sh = w.constant_blob(channel_constant(shift, rank), "bn_shift");
  std::string t = w.tmp(n, "scaled");
  binary_layer(w, "mul", w.in(n, 0), sc, t);
  binary_layer(w, "add", t, sh, w.out(n));
}

void group_norm(W& w, const Node& n) {
  const Shape& s = shape_of(n, 0);
  const int64_t groups = n.attrs.i("groups");
  const Tensor* g = w.constant_in(n, 1);
  const Tensor* b = w.constant_in(n, 2);
  if ((w.has(n, 1) && !g) || (w.has(n, 2) && !b)) w.fail(n, "gamma and beta must be constants");
  std::string x = w.tmp(n, "grouped"), mean = w.tmp(n, "mean"), centered = w.tmp(n, "centered"), sq = w.tmp(n, "sq"),
              var = w.tmp(n, "var"), vareps = w.tmp(n, "vareps"), std_ = w.tmp(n, "std"), normed = w.tmp(n, "normed");
  reshape_layer(w, w.in(n, 0), {s[0], groups, ir::shape_numel(s) / (s[0] * groups)}, x);
  auto red = [&](const std::string& in, const std::string& o) {
    auto* p = w.add_layer("mean", {in}, o)->mutable_reducemean();
    p->add_axes(2);
    p->set_keepdims(true);
  };
  red(x, mean);
  binary_layer(w, "sub", x, mean, centered);
  binary_layer(w, "mul", centered, centered, sq);
  red(sq, var);
  binary_layer(w, "add", var, w.scalar_blob(static_cast<float>(norm_epsilon(w, n))), vareps);
  unary_fn(w, spec::UnaryFunctionLayerParams::SQRT, vareps, std_);
  binary_layer(w, "div", centered, std_, normed);
  const bool affine = g || b;
  std::string shaped = affine ? w.tmp(n, "ungrouped") : w.out(n);
  reshape_layer(w, normed, s, shaped);
  if (!affine) return;
  const int64_t rank = static_cast<int64_t>(s.size());
  std::string cur = shaped;
  if (g) {
    std::string o = b ? w.tmp(n, "scaled") : w.out(n);
    binary_layer(w, "mul", cur, w.constant_blob(channel_constant(W::floats(*g), rank), "gn_gamma"), o);
    cur = o;
  }
  if (b) binary_layer(w, "add", cur, w.constant_blob(channel_constant(W::floats(*b), rank), "gn_beta"), w.out(n));
}

void cast(W& w, const Node& n) {
  const DType from = n.inputs.at(0)->type.dtype;
  const DType to = n.outputs.at(0)->type.dtype;
  if (to == DType::Bool && from != DType::Bool) {
    auto* p = w.add_layer("tobool", {w.in(n, 0)}, w.out(n))->mutable_notequal();
    p->set_alpha(0.0f);
  } else if (ir::is_float(from) && ir::is_integer(to)) {
    trunc_into(w, n, w.in(n, 0), w.out(n));
  } else {
    w.alias(n, w.in(n, 0));  // NN blobs are float: nothing to convert
  }
}

void slice(W& w, const Node& n) {
  const Shape& s = shape_of(n, 0);
  std::vector<int64_t> b(s.size(), 0), e(s), st(s.size(), 1);
  auto axes = n.attrs.ints("axes"), starts = n.attrs.ints("starts"), ends = n.attrs.ints("ends");
  auto steps = n.attrs.ints("steps", std::vector<int64_t>(axes.size(), 1));
  for (size_t i = 0; i < axes.size(); ++i) {
    b[axes[i]] = starts[i];
    e[axes[i]] = ends[i];
    st[axes[i]] = steps[i];
  }
  auto* p = w.add_layer("slice", {w.in(n, 0)}, w.out(n))->mutable_slicestatic();
  for (size_t a = 0; a < s.size(); ++a) {
    p->add_beginids(b[a]);
    p->add_beginmasks(false);
    p->add_endids(e[a]);
    p->add_endmasks(false);
    p->add_strides(st[a]);
  }
}

void gather(W& w, const Node& n) {
  std::string idx;
  const Tensor* t = w.constant_in(n, 1);
  const int64_t axis = n.attrs.i("axis");
  if (t) {  // normalise negative constant indices
    const int64_t dim = shape_of(n, 0)[axis];
    std::vector<float> v(t->numel());
    for (int64_t i = 0; i < t->numel(); ++i) {
      int64_t k = t->element_as_int(i);
      v[i] = static_cast<float>(k < 0 ? k + dim : k);
    }
    Tensor fixed = Tensor::from_f32(t->shape(), v);
    idx = w.constant_blob(fixed, "indices");
  } else {
    idx = w.in(n, 1);
  }
  if (ir::shape_numel(shape_of(n, 1)) == 1 && shape_of(n, 1).empty()) {
    // Scalar index: gather keeps a [1] axis; reshape it away.
    std::string g = w.tmp(n, "gather1");
    w.add_layer("gather", {w.in(n, 0), idx}, g)->mutable_gather()->set_axis(axis);
    reshape_layer(w, g, out_shape(n), w.out(n));
    return;
  }
  w.add_layer("gather", {w.in(n, 0), idx}, w.out(n))->mutable_gather()->set_axis(axis);
}

void pad(W& w, const Node& n) {
  const std::string mode = n.attrs.s("mode", "constant");
  auto pads = n.attrs.ints("pads");
  const size_t rank = pads.size() / 2;
  for (auto p : pads)
    if (p < 0) w.fail(n, "negative padding is not supported");
  if (mode == "constant") {
    auto* p = w.add_layer("pad", {w.in(n, 0)}, w.out(n))->mutable_constantpad();
    p->set_value(static_cast<float>(n.attrs.f("value", 0.0)));
    for (size_t a = 0; a < rank; ++a) {
      p->add_padamounts(pads[a]);
      p->add_padamounts(pads[a + rank]);
    }
    return;
  }
  for (size_t a = 0; a + 2 < rank; ++a)
    if (pads[a] != 0 || pads[a + rank] != 0) w.fail(n, mode + " padding only on the last two axes");
  if (rank < 3) w.fail(n, mode + " padding needs a rank >= 3 input");
  auto* p = w.add_layer("pad", {w.in(n, 0)}, w.out(n))->mutable_padding();
  if (mode == "reflect") p->mutable_reflection();
  else if (mode == "replicate") p->mutable_replication();
  else w.fail(n, "unknown pad mode " + mode);
  for (size_t a = rank - 2; a < rank; ++a) {
    auto* e = p->mutable_paddingamounts()->add_borderamounts();
    e->set_startedgesize(pads[a]);
    e->set_endedgesize(pads[a + rank]);
  }
}

const std::map<std::string, Lowering>& lowerings() {
  using U = spec::UnaryFunctionLayerParams;
  static const std::map<std::string, Lowering> table = {
      {"add", [](W& w, const Node& n) { binary(w, n, "add"); }},
      {"sub", [](W& w, const Node& n) { binary(w, n, "sub"); }},
      {"mul", [](W& w, const Node& n) { binary(w, n, "mul"); }},
      {"div", [](W& w, const Node& n) { binary(w, n, "div"); }},
      {"pow", [](W& w, const Node& n) { binary(w, n, "pow"); }},
      {"maximum", [](W& w, const Node& n) { binary(w, n, "max"); }},
      {"minimum", [](W& w, const Node& n) { binary(w, n, "min"); }},
      {"floor_div", [](W& w, const Node& n) { binary(w, n, "floordiv"); }},
      {"mod", [](W& w, const Node& n) {  // a - floor(a / b) * b
         std::string q = w.tmp(n, "fdiv"), m = w.tmp(n, "prod");
         binary_layer(w, "floordiv", w.in(n, 0), w.in(n, 1), q);
         binary_layer(w, "mul", q, w.in(n, 1), m);
         binary_layer(w, "sub", w.in(n, 0), m, w.out(n));
       }},
      {"equal", compare}, {"not_equal", compare}, {"less", compare}, {"less_equal", compare},
      {"greater", compare}, {"greater_equal", compare}, {"logical_and", compare}, {"logical_or", compare},
      {"logical_xor", compare},
      {"logical_not", [](W& w, const Node& n) { w.add_layer("not", {w.in(n, 0)}, w.out(n))->mutable_logicalnot(); }},
      {"neg", [](W& w, const Node& n) {
         auto* lin = activation(w, n, w.in(n, 0), w.out(n))->mutable_linear();
         lin->set_alpha(-1.0f);
       }},
      {"abs", [](W& w, const Node& n) { unary_fn(w, U::ABS, w.in(n, 0), w.out(n)); }},
      {"exp", [](W& w, const Node& n) { unary_fn(w, U::EXP, w.in(n, 0), w.out(n)); }},
      {"log", [](W& w, const Node& n) { unary_fn(w, U::LOG, w.in(n, 0), w.out(n)); }},
      {"sqrt", [](W& w, const Node& n) { unary_fn(w, U::SQRT, w.in(n, 0), w.out(n)); }},
      {"rsqrt", [](W& w, const Node& n) {  // RSQRT adds an epsilon; sqrt then 1/x does not
         std::string s = w.tmp(n, "sqrt");
         unary_fn(w, U::SQRT, w.in(n, 0), s);
         binary_layer(w, "div", w.scalar_blob(1.0f), s, w.out(n));
       }},
      {"reciprocal", [](W& w, const Node& n) { binary_layer(w, "div", w.scalar_blob(1.0f), w.in(n, 0), w.out(n)); }},
      {"sin", [](W& w, const Node& n) { w.add_layer("sin", {w.in(n, 0)}, w.out(n))->mutable_sin(); }},
      {"cos", [](W& w, const Node& n) { w.add_layer("cos", {w.in(n, 0)}, w.out(n))->mutable_cos(); }},
      {"tanh", [](W& w, const Node& n) { activation(w, n, w.in(n, 0), w.out(n))->mutable_tanh(); }},
      {"sigmoid", [](W& w, const Node& n) { activation(w, n, w.in(n, 0), w.out(n))->mutable_sigmoid(); }},
      {"relu", [](W& w, const Node& n) { activation(w, n, w.in(n, 0), w.out(n))->mutable_relu(); }},
      {"erf", [](W& w, const Node& n) { w.add_layer("erf", {w.in(n, 0)}, w.out(n))->mutable_erf(); }},
      {"floor", [](W& w, const Node& n) { w.add_layer("floor", {w.in(n, 0)}, w.out(n))->mutable_floor(); }},
      {"ceil", [](W& w, const Node& n) { w.add_layer("ceil", {w.in(n, 0)}, w.out(n))->mutable_ceil(); }},
      {"sign", [](W& w, const Node& n) { w.add_layer("sign", {w.in(n, 0)}, w.out(n))->mutable_sign(); }},
      {"identity", [](W& w, const Node& n) { w.alias(n, w.in(n, 0)); }},
      {"round", [](W& w, const Node& n) {
         // NN's round layer does not define ties; build half-to-even:
         // r = floor(x + 0.5), minus 1 where x sits on a tie and r is odd.
         std::string sh = w.tmp(n, "shift"), r = w.tmp(n, "r"), d = w.tmp(n, "d"), tie = w.tmp(n, "tie"),
                     half = w.tmp(n, "half"), hf = w.tmp(n, "half_floor"), frac = w.tmp(n, "frac"), odd = w.tmp(n, "odd"),
                     fix = w.tmp(n, "fix");
         binary_layer(w, "add", w.in(n, 0), w.scalar_blob(0.5f), sh);
         w.add_layer("floor", {sh}, r)->mutable_floor();
         binary_layer(w, "sub", r, w.in(n, 0), d);
         w.add_layer("tie", {d}, tie)->mutable_equal()->set_alpha(0.5f);
         binary_layer(w, "mul", r, w.scalar_blob(0.5f), half);
         w.add_layer("floor", {half}, hf)->mutable_floor();
         binary_layer(w, "sub", half, hf, frac);                 // 0.5 when r is odd, else 0
         binary_layer(w, "mul", frac, w.scalar_blob(2.0f), odd);
         binary_layer(w, "mul", tie, odd, fix);
         binary_layer(w, "sub", r, fix, w.out(n));
       }},
      {"gelu", [](W& w, const Node& n) {
         auto* p = w.add_layer("gelu", {w.in(n, 0)}, w.out(n))->mutable_gelu();
         p->set_mode(n.attrs.s("approximate", "none") == "tanh" ? spec::GeluLayerParams::TANH_APPROXIMATION
                                                               : spec::GeluLayerParams::EXACT);
       }},
      {"silu", [](W& w, const Node& n) {
         std::string s = w.tmp(n, "sigmoid");
         activation(w, n, w.in(n, 0), s)->mutable_sigmoid();
         binary_layer(w, "mul", w.in(n, 0), s, w.out(n));
       }},
      {"hardsigmoid", [](W& w, const Node& n) {
         auto* p = activation(w, n, w.in(n, 0), w.out(n))->mutable_sigmoidhard();
         p->set_alpha(1.0f / 6.0f);
         p->set_beta(0.5f);
       }},
      {"hardswish", [](W& w, const Node& n) {
         std::string s = w.tmp(n, "hsig");
         auto* p = activation(w, n, w.in(n, 0), s)->mutable_sigmoidhard();
         p->set_alpha(1.0f / 6.0f);
         p->set_beta(0.5f);
         binary_layer(w, "mul", w.in(n, 0), s, w.out(n));
       }},
      {"softplus", [](W& w, const Node& n) {
         const float beta = static_cast<float>(n.attrs.f("beta", 1.0));
         if (beta == 1.0f) {
           activation(w, n, w.in(n, 0), w.out(n))->mutable_softplus();
           return;
         }
         std::string a = w.tmp(n, "scaled"), b = w.tmp(n, "softplus");
         binary_layer(w, "mul", w.in(n, 0), w.scalar_blob(beta), a);
         activation(w, n, a, b)->mutable_softplus();
         binary_layer(w, "div", b, w.scalar_blob(beta), w.out(n));
       }},
      {"clamp", [](W& w, const Node& n) {
         auto* p = w.add_layer("clip", {w.in(n, 0)}, w.out(n))->mutable_clip();
         p->set_minval(n.attrs.has("min") ? static_cast<float>(n.attrs.f("min")) : -std::numeric_limits<float>::max());
         p->set_maxval(n.attrs.has("max") ? static_cast<float>(n.attrs.f("max")) : std::numeric_limits<float>::max());
       }},
      {"leaky_relu", [](W& w, const Node& n) {
         activation(w, n, w.in(n, 0), w.out(n))->mutable_leakyrelu()->set_alpha(static_cast<float>(n.attrs.f("alpha")));
       }},
      {"elu", [](W& w, const Node& n) {
         activation(w, n, w.in(n, 0), w.out(n))->mutable_elu()->set_alpha(static_cast<float>(n.attrs.f("alpha")));
       }},
      {"cast", cast},
      {"where", [](W& w, const Node& n) {
         w.add_layer("where", {w.in(n, 0), w.in(n, 1), w.in(n, 2)}, w.out(n))->mutable_wherebroadcastable();
       }},
      {"matmul", matmul},
      {"linear", linear},
      {"conv", conv},
      {"conv_transpose", conv_transpose},
      {"layer_norm", layer_norm},
      {"group_norm", group_norm},
      {"batch_norm", batch_norm},
      {"softmax", [](W& w, const Node& n) {
         w.add_layer("softmax", {w.in(n, 0)}, w.out(n))->mutable_softmaxnd()->set_axis(n.attrs.i("axis"));
       }},
      {"log_softmax", [](W& w, const Node& n) {
         std::string s = w.tmp(n, "softmax");
         w.add_layer("softmax", {w.in(n, 0)}, s)->mutable_softmaxnd()->set_axis(n.attrs.i("axis"));
         unary_fn(w, U::LOG, s, w.out(n));
       }},
      {"reduce_sum", reduce}, {"reduce_mean", reduce}, {"reduce_max", reduce}, {"reduce_min", reduce},
      {"reduce_prod", reduce},
      {"argmax", [](W& w, const Node& n) {
         auto* p = w.add_layer("argmax", {w.in(n, 0)}, w.out(n))->mutable_argmax();
         p->set_axis(n.attrs.i("axis"));
         p->set_removedim(n.attrs.i("keepdims", 0) == 0);
       }},
      {"argmin", [](W& w, const Node& n) {
         auto* p = w.add_layer("argmin", {w.in(n, 0)}, w.out(n))->mutable_argmin();
         p->set_axis(n.attrs.i("axis"));
         p->set_removedim(n.attrs.i("keepdims", 0) == 0);
       }},
      {"cumsum", [](W& w, const Node& n) {
         auto* p = w.add_layer("cumsum", {w.in(n, 0)}, w.out(n))->mutable_cumsum();
         p->set_axis(n.attrs.i("axis"));
         p->set_excludefinalsum(n.attrs.i("exclusive", 0) != 0);
         p->set_reverse(n.attrs.i("reverse", 0) != 0);
         w.need_spec(5);
       }},
      {"reshape", [](W& w, const Node& n) { reshape_layer(w, w.in(n, 0), out_shape(n), w.out(n)); }},
      {"transpose", [](W& w, const Node& n) {
         auto* p = w.add_layer("transpose", {w.in(n, 0)}, w.out(n))->mutable_transpose();
         for (auto a : n.attrs.ints("perm")) p->add_axes(a);
       }},
      {"slice", slice},
      {"concat", [](W& w, const Node& n) {
         std::vector<std::string> ins;
         for (size_t i = 0; i < n.inputs.size(); ++i) ins.push_back(w.in(n, i));
         w.add_layer("concat", ins, w.out(n))->mutable_concatnd()->set_axis(n.attrs.i("axis"));
       }},
      {"expand", [](W& w, const Node& n) {
         auto* p = w.add_layer("broadcast", {w.in(n, 0)}, w.out(n))->mutable_broadcasttostatic();
         for (auto d : out_shape(n)) p->add_targetshape(d);
       }},
      {"tile", [](W& w, const Node& n) {
         auto* p = w.add_layer("tile", {w.in(n, 0)}, w.out(n))->mutable_tile();
         for (auto r : n.attrs.ints("repeats")) p->add_reps(r);
       }},
      {"flip", [](W& w, const Node& n) {
         auto* p = w.add_layer("flip", {w.in(n, 0)}, w.out(n))->mutable_reverse();
         std::vector<bool> dims(shape_of(n, 0).size(), false);
         for (auto a : n.attrs.ints("axes")) dims[a] = true;
         for (bool d : dims) p->add_reversedim(d);
       }},
      {"gather", gather},
      {"gather_elements", [](W& w, const Node& n) {
         w.add_layer("gather_elements", {w.in(n, 0), w.in(n, 1)}, w.out(n))->mutable_gatheralongaxis()->set_axis(n.attrs.i("axis"));
       }},
      {"scatter_elements", [](W& w, const Node& n) {
         auto* p = w.add_layer("scatter", {w.in(n, 0), w.in(n, 1), w.in(n, 2)}, w.out(n))->mutable_scatteralongaxis();
         p->set_axis(n.attrs.i("axis"));
         p->set_mode(spec::SCATTER_UPDATE);
       }},
      {"pad", pad},
      {"resize", resize},
      {"max_pool", pool}, {"avg_pool", pool}, {"adaptive_avg_pool", pool}, {"adaptive_max_pool", pool},
  };
  return table;
}

}  // namespace

bool has_legacy_lowering(std::string_view op) { return op == "constant" || lowerings().count(std::string(op)) != 0; }

namespace {

void NnWriter::lower(const Node& n) {
  if (n.is_constant()) return;  // materialised on first use
  auto it = lowerings().find(n.op);
  if (it == lowerings().end()) fail(n, "has no NeuralNetwork lowering");
  it->second(*this, n);
}

// ─ Model description ──────────────────────────────────────────────────────

void set_array(spec::FeatureType* ft, const ir::TensorType& t, bool with_shape) {
  auto* a = ft->mutable_multiarraytype();
  if (with_shape)
    for (auto d : (t.shape.empty() ? Shape{1} : t.shape)) a->add_shape(d);
  a->set_datatype(ir::is_float(t.dtype) ? spec::ArrayFeatureType::FLOAT32 : spec::ArrayFeatureType::INT32);
}

template <class NN>
void fill_network(NN* nn, const ir::Graph& graph, const LegacyOptions& options, int& spec_version) {
  nn->set_arrayinputshapemapping(spec::EXACT_ARRAY_MAPPING);
  nn->set_imageinputshapemapping(spec::RANK4_IMAGE_MAPPING);
  NnWriter w(graph, options, nn->mutable_layers());
  for (const auto& node : graph.nodes()) w.lower(*node);
  w.finish_outputs();
  for (const auto& entry : options.image_inputs) {
    // Not a structured binding: clang 14 cannot capture one in the lambda below.
    const auto& name = entry.first;
    const auto& image = entry.second;
    auto* pre = nn->add_preprocessing();
    pre->set_featurename(name);
    auto* s = pre->mutable_scaler();
    s->set_channelscale(image.scale);
    auto bias = [&](size_t i) { return i < image.bias.size() ? image.bias[i] : 0.0f; };
    if (image.color_space == ImageInput::ColorSpace::Grayscale) {
      s->set_graybias(bias(0));
    } else if (image.color_space == ImageInput::ColorSpace::RGB) {
      s->set_redbias(bias(0));
      s->set_greenbias(bias(1));
      s->set_bluebias(bias(2));
    } else {
      s->set_bluebias(bias(0));
      s->set_greenbias(bias(1));
      s->set_redbias(bias(2));
    }
  }
  spec_version = w.spec_version;
}

spec::Model build_model(const ir::Graph& graph, const LegacyOptions& options) {
  spec::Model model;
  auto* desc = model.mutable_description();
  for (auto* in : graph.inputs()) {
    auto* f = desc->add_input();
    f->set_name(in->name);
    if (auto it = options.input_descriptions.find(in->name); it != options.input_descriptions.end())
      f->set_shortdescription(it->second);
    auto img = options.image_inputs.find(in->name);
    if (img != options.image_inputs.end()) {
      const Shape& s = in->type.shape;
      const int64_t channels = img->second.color_space == ImageInput::ColorSpace::Grayscale ? 1 : 3;
      if (s.size() != 4 || s[0] != 1 || s[1] != channels || in->type.dtype != DType::F32)
        throw CoreMLError(fmt::format("NeuralNetwork writer: image input '{}' must be f32 [1, {}, H, W], not {}", in->name,
                                      channels, in->type.to_string()));
      auto* it = f->mutable_type()->mutable_imagetype();
      it->set_height(s[2]);
      it->set_width(s[3]);
      it->set_colorspace(img->second.color_space == ImageInput::ColorSpace::RGB   ? spec::ImageFeatureType::RGB
                         : img->second.color_space == ImageInput::ColorSpace::BGR ? spec::ImageFeatureType::BGR
                                                                                   : spec::ImageFeatureType::GRAYSCALE);
    } else {
      if (in->type.dtype == DType::Bool) throw CoreMLError(fmt::format("NeuralNetwork writer: bool input '{}' is not supported", in->name));
      set_array(f->mutable_type(), in->type, true);
    }
  }
  for (const auto& [name, _] : options.image_inputs) {
    bool found = false;
    for (auto* in : graph.inputs()) found = found || in->name == name;
    if (!found) throw CoreMLError(fmt::format("NeuralNetwork writer: image input '{}' is not a graph input", name));
  }
  const auto* cls = options.classifier ? &*options.classifier : nullptr;
  for (size_t i = 0; i < graph.outputs().size(); ++i) {
    const std::string& name = graph.output_names()[i];
    if (cls && name == cls->probabilities_output) continue;
    auto* f = desc->add_output();
    f->set_name(name);
    if (auto it = options.output_descriptions.find(name); it != options.output_descriptions.end())
      f->set_shortdescription(it->second);
    set_array(f->mutable_type(), graph.outputs()[i]->type, true);
  }
  int spec_version = kBaseSpec;
  if (cls) {
    bool found = false;
    for (const auto& name : graph.output_names()) found = found || name == cls->probabilities_output;
    if (!found) throw CoreMLError(fmt::format("NeuralNetwork writer: classifier probabilities '{}' is not a graph output", cls->probabilities_output));
    const bool strings = !cls->labels.empty();
    if (!strings && cls->int_labels.empty()) throw CoreMLError("NeuralNetwork writer: classifier needs labels");
    auto* label = desc->add_output();
    label->set_name(cls->label_name);
    auto* probs = desc->add_output();
    probs->set_name(cls->probabilities_name);
    if (strings) {
      label->mutable_type()->mutable_stringtype();
      probs->mutable_type()->mutable_dictionarytype()->mutable_stringkeytype();
    } else {
      label->mutable_type()->mutable_int64type();
      probs->mutable_type()->mutable_dictionarytype()->mutable_int64keytype();
    }
    desc->set_predictedfeaturename(cls->label_name);
    desc->set_predictedprobabilitiesname(cls->probabilities_name);
    auto* nn = model.mutable_neuralnetworkclassifier();
    fill_network(nn, graph, options, spec_version);
    if (strings) {
      for (const auto& l : cls->labels) nn->mutable_stringclasslabels()->add_vector(l);
    } else {
      for (auto l : cls->int_labels) nn->mutable_int64classlabels()->add_vector(l);
    }
    nn->set_labelprobabilitylayername(cls->probabilities_output);
  } else {
    fill_network(model.mutable_neuralnetwork(), graph, options, spec_version);
  }
  model.set_specificationversion(spec_version);
  auto* md = desc->mutable_metadata();
  md->set_author(options.metadata.author);
  md->set_license(options.metadata.license);
  md->set_versionstring(options.metadata.version);
  md->set_shortdescription(options.metadata.short_description);
  for (const auto& [k, v] : options.metadata.user_defined) (*md->mutable_userdefined())[k] = v;
  return model;
}

}  // namespace

void write_mlmodel(const ir::Graph& graph, const LegacyOptions& options, io::StagedOutput& staged) {
  const spec::Model model = build_model(graph, options);
  std::ofstream f(staged.path(), std::ios::binary | std::ios::trunc);
  if (!f) throw CoreMLError(io::describe_errno(staged.output(), "cannot write"));
  // Streamed: no second copy of the weights as one serialized string.
  const bool serialized = model.SerializeToOstream(&f);
  f.close();
  if (!serialized || !f) throw CoreMLError(io::describe_errno(staged.output(), "writing failed"));
}

void write_mlmodel(const ir::Graph& graph, const LegacyOptions& options, const fs::path& out) {
  // This backend's error type for callers of the backend alone.
  try {
    io::StagedOutput staged(out, io::OutputKind::File, options.overwrite);
    write_mlmodel(graph, options, staged);
    staged.commit();
  } catch (const io::OutputError& e) {
    throw CoreMLError(e.what());
  }
}

}  // namespace exporters::coreml
