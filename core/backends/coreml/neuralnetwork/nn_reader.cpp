// NeuralNetwork .mlmodel -> IR. NN blobs are float at run time; the reader
// keeps that meaning: every numeric layer works on f32 values, comparison and
// logical layers yield bool, and index inputs (gather) are cast to i32.
#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "coreml_model.pb.h"
#include "core/backends/coreml/neuralnetwork/nn_model.hpp"
#include "exporters/ir/ops.hpp"

namespace exporters::coreml {

namespace fs = std::filesystem;
namespace spec = CoreML::Specification;
using ir::DType;
using ir::Shape;
using ir::Tensor;
using ir::Value;

namespace {

using Layer = spec::NeuralNetworkLayer;

spec::Model parse_model(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw CoreMLError(fmt::format("{}: cannot open", path.string()));
  std::ostringstream ss;
  ss << f.rdbuf();
  spec::Model model;
  if (!model.ParseFromString(ss.str())) throw CoreMLError(fmt::format("{}: not a Core ML model (protobuf parse failed)", path.string()));
  return model;
}

class NnReader {
 public:
  NnReader(ir::Graph& g, std::string file) : g_(g), file_(std::move(file)) {}

  [[noreturn]] void fail(const Layer& l, const std::string& why) const {
    throw CoreMLError(fmt::format("{}: layer '{}': {}", file_, l.name(), why));
  }

  void define(const std::string& blob, Value* v) { blobs_[blob] = v; }
  Value* blob(const Layer& l, int i) {
    if (i >= l.input_size()) fail(l, fmt::format("expects at least {} inputs", i + 1));
    auto it = blobs_.find(l.input(i));
    if (it == blobs_.end()) fail(l, fmt::format("input '{}' is not defined before use", l.input(i)));
    return it->second;
  }
  Value* blob_named(const std::string& name) {
    auto it = blobs_.find(name);
    if (it == blobs_.end()) throw CoreMLError(fmt::format("{}: output '{}' is not produced by any layer", file_, name));
    return it->second;
  }

  Value* as(Value* v, DType d) {
    if (v->type.dtype == d) return v;
    auto key = std::make_pair(v, d);
    auto it = casts_.find(key);
    if (it != casts_.end()) return it->second;
    return casts_[key] = g_.add1("cast", {v}, {{"dtype", std::string(ir::dtype_name(d))}});
  }
  Value* f(Value* v) { return as(v, DType::F32); }
  Value* b(Value* v) { return as(v, DType::Bool); }
  Value* idx(Value* v) { return ir::is_integer(v->type.dtype) ? v : as(v, DType::I32); }
  Value* fin(const Layer& l, int i) { return f(blob(l, i)); }

  Value* scalar(float v) { return g_.constant(Tensor::scalar_f32(v)); }
  Value* constant(const std::vector<float>& v, Shape shape) { return g_.constant(Tensor::from_f32(std::move(shape), v)); }

  std::vector<float> weights(const Layer& l, const spec::WeightParams& w, int64_t expected, const char* what) {
    std::vector<float> out;
    if (w.floatvalue_size() > 0) {
      out.assign(w.floatvalue().begin(), w.floatvalue().end());
    } else if (!w.float16value().empty()) {
      const std::string& bytes = w.float16value();
      if (bytes.size() % 2) fail(l, fmt::format("{}: float16Value has an odd byte count", what));
      out.resize(bytes.size() / 2);
      for (size_t i = 0; i < out.size(); ++i) {
        uint16_t h;
        std::memcpy(&h, &bytes[2 * i], 2);
        out[i] = ir::half_to_float(h);
      }
    } else {
      fail(l, fmt::format("{}: no floatValue or float16Value payload (quantized weights are not supported)", what));
    }
    if (expected >= 0 && static_cast<int64_t>(out.size()) != expected)
      fail(l, fmt::format("{}: {} values, expected {}", what, out.size(), expected));
    return out;
  }

  Value* add(const std::string& op, std::vector<Value*> ins, ir::Attrs attrs = {}) {
    return g_.add1(op, std::move(ins), std::move(attrs));
  }

  void read(const Layer& l);

  ir::Graph& g_;
  std::string file_;

 private:
  std::unordered_map<std::string, Value*> blobs_;
  std::map<std::pair<Value*, DType>, Value*> casts_;
};

int64_t rank_of(Value* v) { return v->type.rank(); }

std::vector<int64_t> u64s(const google::protobuf::RepeatedField<uint64_t>& r) { return {r.begin(), r.end()}; }

void read_reduce(NnReader& r, const Layer& l, const std::string& op, const auto& p) {
  Value* x = r.fin(l, 0);
  std::vector<int64_t> axes;
  if (!p.reduceall()) {
    for (auto a : p.axes()) axes.push_back(ir::normalize_axis(a, rank_of(x)));
    if (axes.empty()) r.fail(l, "reduce without axes and without reduceAll");
  }
  r.define(l.output(0), r.add(op, {x}, {{"axes", axes}, {"keepdims", int64_t(p.keepdims() ? 1 : 0)}}));
}

void NnReader::read(const Layer& l) {
  if (l.output_size() != 1) fail(l, "expects exactly one output");
  const std::string& o = l.output(0);
  auto bin = [&](const std::string& op) { define(o, add(op, {fin(l, 0), fin(l, 1)})); };
  auto un = [&](const std::string& op) { define(o, add(op, {fin(l, 0)})); };
  auto cmp = [&](const std::string& op, float alpha) {
    Value* a = fin(l, 0);
    Value* c = l.input_size() > 1 ? fin(l, 1) : scalar(alpha);
    define(o, add(op, {a, c}));
  };
  auto logic = [&](const std::string& op) { define(o, add(op, {b(blob(l, 0)), b(blob(l, 1))})); };
  using U = spec::UnaryFunctionLayerParams;
  switch (l.layer_case()) {
    case Layer::kActivation: {
      const auto& a = l.activation();
      Value* x = fin(l, 0);
      switch (a.NonlinearityType_case()) {
        case spec::ActivationParams::kLinear: {
          const float alpha = a.linear().alpha(), beta = a.linear().beta();
          Value* y = x;
          if (alpha == -1.0f) y = add("neg", {x});
          else if (alpha != 1.0f) y = add("mul", {x, scalar(alpha)});
          if (beta != 0.0f) y = add("add", {y, scalar(beta)});
          if (y == x) y = add("identity", {x});
          define(o, y);
          break;
        }
        case spec::ActivationParams::kReLU: define(o, add("relu", {x})); break;
        case spec::ActivationParams::kTanh: define(o, add("tanh", {x})); break;
        case spec::ActivationParams::kSigmoid: define(o, add("sigmoid", {x})); break;
        case spec::ActivationParams::kLeakyReLU:
          define(o, add("leaky_relu", {x}, {{"alpha", double(a.leakyrelu().alpha())}}));
          break;
        case spec::ActivationParams::kELU: define(o, add("elu", {x}, {{"alpha", double(a.elu().alpha())}})); break;
        case spec::ActivationParams::kSoftplus:
          define(o, add("softplus", {x}, {{"beta", 1.0}, {"threshold", 20.0}}));
          break;
        case spec::ActivationParams::kSigmoidHard: {
          Value* y = add("add", {add("mul", {x, scalar(a.sigmoidhard().alpha())}), scalar(a.sigmoidhard().beta())});
          define(o, add("clamp", {y}, {{"min", 0.0}, {"max", 1.0}}));
          break;
        }
        default: fail(l, "unsupported activation kind");
      }
      break;
    }
    case Layer::kAddBroadcastable: bin("add"); break;
    case Layer::kSubtractBroadcastable: bin("sub"); break;
    case Layer::kMultiplyBroadcastable: bin("mul"); break;
    case Layer::kDivideBroadcastable: bin("div"); break;
    case Layer::kPowBroadcastable: bin("pow"); break;
    case Layer::kMaxBroadcastable: bin("maximum"); break;
    case Layer::kMinBroadcastable: bin("minimum"); break;
    case Layer::kFloorDivBroadcastable: bin("floor_div"); break;
    case Layer::kModBroadcastable: bin("mod"); break;
    case Layer::kEqual: cmp("equal", l.equal().alpha()); break;
    case Layer::kNotEqual: cmp("not_equal", l.notequal().alpha()); break;
    case Layer::kLessThan: cmp("less", l.lessthan().alpha()); break;
    case Layer::kLessEqual: cmp("less_equal", l.lessequal().alpha()); break;
    case Layer::kGreaterThan: cmp("greater", l.greaterthan().alpha()); break;
    case Layer::kGreaterEqual: cmp("greater_equal", l.greaterequal().alpha()); break;
    case Layer::kLogicalAnd: logic("logical_and"); break;
    case Layer::kLogicalOr: logic("logical_or"); break;
    case Layer::kLogicalXor: logic("logical_xor"); break;
    case Layer::kLogicalNot: define(o, add("logical_not", {b(blob(l, 0))})); break;
    case Layer::kUnary: {
      const auto& p = l.unary();
      Value* x = fin(l, 0);
      const float scale = p.scale() == 0.0f ? 1.0f : p.scale();
      if (scale != 1.0f) x = add("mul", {x, scalar(scale)});
      if (p.shift() != 0.0f) x = add("add", {x, scalar(p.shift())});
      const float eps = p.epsilon() == 0.0f ? 1e-6f : p.epsilon();
      switch (p.type()) {
        case U::SQRT: define(o, add("sqrt", {x})); break;
        case U::RSQRT: define(o, add("rsqrt", {add("add", {x, scalar(eps)})})); break;
        case U::INVERSE: define(o, add("reciprocal", {add("add", {x, scalar(eps)})})); break;
        case U::POWER: define(o, add("pow", {x, scalar(p.alpha())})); break;
        case U::EXP: define(o, add("exp", {x})); break;
        case U::LOG: define(o, add("log", {x})); break;
        case U::ABS: define(o, add("abs", {x})); break;
        case U::THRESHOLD: define(o, add("maximum", {x, scalar(p.alpha())})); break;
        default: fail(l, "unknown unary function");
      }
      break;
    }
    case Layer::kSin: un("sin"); break;
    case Layer::kCos: un("cos"); break;
    case Layer::kTanh: un("tanh"); break;
    case Layer::kErf: un("erf"); break;
    case Layer::kFloor: un("floor"); break;
    case Layer::kCeil: un("ceil"); break;
    case Layer::kSign: un("sign"); break;
    case Layer::kRound: un("round"); break;
    case Layer::kGelu: {
      const auto mode = l.gelu().mode();
      if (mode == spec::GeluLayerParams::SIGMOID_APPROXIMATION) fail(l, "gelu SIGMOID_APPROXIMATION is not supported");
      define(o, add("gelu", {fin(l, 0)},
                    {{"approximate", std::string(mode == spec::GeluLayerParams::EXACT ? "none" : "tanh")}}));
      break;
    }
    case Layer::kClip:
      define(o, add("clamp", {fin(l, 0)}, {{"min", double(l.clip().minval())}, {"max", double(l.clip().maxval())}}));
      break;
    case Layer::kWhereBroadcastable:
      define(o, add("where", {b(blob(l, 0)), fin(l, 1), fin(l, 2)}));
      break;
    case Layer::kBatchedMatmul: {
      const auto& p = l.batchedmatmul();
      if (l.input_size() == 1) {
        const int64_t k = p.weightmatrixfirstdimension(), n = p.weightmatrixseconddimension();
        if (p.transposea() || p.transposeb()) fail(l, "transposed inputs with a weight matrix are not supported");
        Value* w = constant(weights(l, p.weights(), k * n, "weights"), {n, k});  // column-major [k, n] = row-major [n, k]
        std::vector<Value*> ins = {fin(l, 0), w};
        if (p.hasbias()) ins.push_back(constant(weights(l, p.bias(), n, "bias"), {n}));
        define(o, add("linear", ins));
      } else {
        auto t = [&](Value* v) {
          std::vector<int64_t> perm(rank_of(v));
          for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int64_t>(i);
          std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
          return add("transpose", {v}, {{"perm", perm}});
        };
        Value* a = fin(l, 0);
        Value* c = fin(l, 1);
        if (p.transposea()) a = t(a);
        if (p.transposeb()) c = t(c);
        define(o, add("matmul", {a, c}));
      }
      break;
    }
    case Layer::kConvolution: {
      const auto& p = l.convolution();
      Value* x = fin(l, 0);
      if (rank_of(x) != 4) fail(l, "convolution input must have rank 4");
      if (l.input_size() != 1) fail(l, "weights as a second input are not supported");
      auto k = u64s(p.kernelsize());
      auto s = u64s(p.stride());
      auto d = u64s(p.dilationfactor());
      if (k.empty()) k = {3, 3};
      if (s.empty()) s = {1, 1};
      if (d.empty()) d = {1, 1};
      if (k.size() != 2 || s.size() != 2 || d.size() != 2) fail(l, "kernelSize, stride and dilationFactor must have 2 values");
      const int64_t groups = p.ngroups() == 0 ? 1 : p.ngroups();
      std::vector<int64_t> pads = {0, 0, 0, 0};
      if (!p.has_valid()) fail(l, "only valid (explicit) padding is supported");
      if (p.valid().paddingamounts().borderamounts_size() > 0) {
        const auto& ba = p.valid().paddingamounts().borderamounts();
        if (ba.size() != 2) fail(l, "paddingAmounts must have 2 entries");
        pads = {int64_t(ba[0].startedgesize()), int64_t(ba[1].startedgesize()), int64_t(ba[0].endedgesize()),
                int64_t(ba[1].endedgesize())};
      }
      const int64_t out_c = p.outputchannels(), kc = p.kernelchannels();
      Shape wshape = p.isdeconvolution() ? Shape{kc, out_c / groups, k[0], k[1]} : Shape{out_c, kc, k[0], k[1]};
      Value* w = constant(weights(l, p.weights(), ir::shape_numel(wshape), "weights"), wshape);
      Value* bias = p.hasbias() ? constant(weights(l, p.bias(), out_c, "bias"), {out_c}) : nullptr;
      if (p.isdeconvolution()) {
        if (p.outputshape_size() > 0) fail(l, "deconvolution with an explicit outputShape is not supported");
        define(o, add("conv_transpose", {x, w, bias},
                      {{"strides", s}, {"dilations", std::vector<int64_t>{1, 1}}, {"pads", pads},
                       {"output_padding", std::vector<int64_t>{0, 0}}, {"groups", groups}}));
      } else {
        define(o, add("conv", {x, w, bias}, {{"strides", s}, {"dilations", d}, {"pads", pads}, {"groups", groups}}));
      }
      break;
    }
    case Layer::kPooling: {
      const auto& p = l.pooling();
      Value* x = fin(l, 0);
      if (rank_of(x) != 4) fail(l, "pooling input must have rank 4");
      const bool is_max = p.type() == spec::PoolingLayerParams::MAX;
      if (p.type() == spec::PoolingLayerParams::L2) fail(l, "L2 pooling is not supported");
      if (p.globalpooling()) {
        define(o, add(is_max ? "adaptive_max_pool" : "adaptive_avg_pool", {x}, {{"sizes", std::vector<int64_t>{1, 1}}}));
        break;
      }
      if (!p.has_valid()) fail(l, "only valid (explicit) padding is supported");
      std::vector<int64_t> pads = {0, 0, 0, 0};
      const auto& ba = p.valid().paddingamounts().borderamounts();
      if (ba.size() == 2)
        pads = {int64_t(ba[0].startedgesize()), int64_t(ba[1].startedgesize()), int64_t(ba[0].endedgesize()),
                int64_t(ba[1].endedgesize())};
      ir::Attrs attrs = {{"kernel", u64s(p.kernelsize())}, {"strides", u64s(p.stride())}, {"pads", pads},
                         {"ceil_mode", int64_t(0)}};
      if (!is_max) attrs.set("count_include_pad", int64_t(p.avgpoolexcludepadding() ? 0 : 1));
      define(o, add(is_max ? "max_pool" : "avg_pool", {x}, attrs));
      break;
    }
    case Layer::kLayerNormalization: {
      const auto& p = l.layernormalization();
      Value* x = fin(l, 0);
      const int64_t k = p.normalizedshape_size(), rank = rank_of(x);
      if (k == 0 || k > rank) fail(l, "normalizedShape must name 1..rank trailing dims");
      Shape ns(p.normalizedshape().begin(), p.normalizedshape().end());
      std::vector<int64_t> axes;
      for (int64_t i = rank - k; i < rank; ++i) axes.push_back(i);
      Value* gamma = constant(weights(l, p.gamma(), ir::shape_numel(ns), "gamma"), ns);
      Value* beta = constant(weights(l, p.beta(), ir::shape_numel(ns), "beta"), ns);
      define(o, add("layer_norm", {x, gamma, beta}, {{"axes", axes}, {"epsilon", double(p.eps())}}));
      break;
    }
    case Layer::kBatchnorm: {
      const auto& p = l.batchnorm();
      if (p.computemeanvar()) fail(l, "computeMeanVar is not supported");
      const int64_t c = p.channels();
      Value* x = fin(l, 0);
      define(o, add("batch_norm",
                    {x, constant(weights(l, p.mean(), c, "mean"), {c}), constant(weights(l, p.variance(), c, "variance"), {c}),
                     constant(weights(l, p.gamma(), c, "gamma"), {c}), constant(weights(l, p.beta(), c, "beta"), {c})},
                    {{"epsilon", double(p.epsilon() == 0.0f ? 1e-5f : p.epsilon())}}));
      break;
    }
    case Layer::kSoftmaxND: {
      Value* x = fin(l, 0);
      define(o, add("softmax", {x}, {{"axis", ir::normalize_axis(l.softmaxnd().axis(), rank_of(x))}}));
      break;
    }
    case Layer::kReduceSum: read_reduce(*this, l, "reduce_sum", l.reducesum()); break;
    case Layer::kReduceMean: read_reduce(*this, l, "reduce_mean", l.reducemean()); break;
    case Layer::kReduceMax: read_reduce(*this, l, "reduce_max", l.reducemax()); break;
    case Layer::kReduceMin: read_reduce(*this, l, "reduce_min", l.reducemin()); break;
    case Layer::kReduceProd: read_reduce(*this, l, "reduce_prod", l.reduceprod()); break;
    case Layer::kArgMax:
    case Layer::kArgMin: {
      const bool mx = l.layer_case() == Layer::kArgMax;
      Value* x = fin(l, 0);
      const int64_t axis = mx ? l.argmax().axis() : l.argmin().axis();
      const bool remove = mx ? l.argmax().removedim() : l.argmin().removedim();
      define(o, add(mx ? "argmax" : "argmin", {x},
                    {{"axis", ir::normalize_axis(axis, rank_of(x))}, {"keepdims", int64_t(remove ? 0 : 1)}}));
      break;
    }
    case Layer::kCumSum: {
      Value* x = fin(l, 0);
      const auto& p = l.cumsum();
      define(o, add("cumsum", {x},
                    {{"axis", ir::normalize_axis(p.axis(), rank_of(x))}, {"exclusive", int64_t(p.excludefinalsum())},
                     {"reverse", int64_t(p.reverse())}}));
      break;
    }
    case Layer::kReshapeStatic: {
      Shape s(l.reshapestatic().targetshape().begin(), l.reshapestatic().targetshape().end());
      for (auto d : s)
        if (d <= 0) fail(l, "targetShape with 0 or -1 entries is not supported");
      define(o, add("reshape", {fin(l, 0)}, {{"shape", s}}));
      break;
    }
    case Layer::kTranspose: {
      std::vector<int64_t> perm(l.transpose().axes().begin(), l.transpose().axes().end());
      define(o, add("transpose", {fin(l, 0)}, {{"perm", perm}}));
      break;
    }
    case Layer::kSliceStatic: {
      const auto& p = l.slicestatic();
      Value* x = fin(l, 0);
      const Shape& s = x->type.shape;
      const int64_t rank = rank_of(x);
      if (p.beginids_size() != rank || p.endids_size() != rank || p.strides_size() != rank)
        fail(l, "beginIds, endIds and strides must have one entry per axis");
      for (bool m : p.squeezemasks())
        if (m) fail(l, "squeezeMasks are not supported");
      std::vector<int64_t> axes, starts, ends, steps;
      for (int64_t a = 0; a < rank; ++a) {
        const int64_t st = p.strides(a);
        if (st <= 0) fail(l, "only positive strides are supported");
        int64_t bgn = (a < p.beginmasks_size() && p.beginmasks(a)) ? 0 : p.beginids(a);
        int64_t end = (a < p.endmasks_size() && p.endmasks(a)) ? s[a] : p.endids(a);
        if (bgn < 0) bgn += s[a];
        if (end < 0) end += s[a];
        bgn = std::clamp<int64_t>(bgn, 0, s[a]);
        end = std::clamp<int64_t>(end, bgn, s[a]);
        if (bgn == 0 && end == s[a] && st == 1) continue;
        axes.push_back(a);
        starts.push_back(bgn);
        ends.push_back(end);
        steps.push_back(st);
      }
      if (axes.empty()) define(o, add("identity", {x}));
      else define(o, add("slice", {x}, {{"axes", axes}, {"starts", starts}, {"ends", ends}, {"steps", steps}}));
      break;
    }
    case Layer::kConcatND: {
      std::vector<Value*> ins;
      for (int i = 0; i < l.input_size(); ++i) ins.push_back(fin(l, i));
      if (l.concatnd().interleave()) fail(l, "interleave is not supported");
      define(o, add("concat", ins, {{"axis", ir::normalize_axis(l.concatnd().axis(), rank_of(ins.at(0)))}}));
      break;
    }
    case Layer::kBroadcastToStatic: {
      Shape s(l.broadcasttostatic().targetshape().begin(), l.broadcasttostatic().targetshape().end());
      define(o, add("expand", {fin(l, 0)}, {{"shape", s}}));
      break;
    }
    case Layer::kTile: define(o, add("tile", {fin(l, 0)}, {{"repeats", u64s(l.tile().reps())}})); break;
    case Layer::kReverse: {
      std::vector<int64_t> axes;
      for (int i = 0; i < l.reverse().reversedim_size(); ++i)
        if (l.reverse().reversedim(i)) axes.push_back(i);
      define(o, add("flip", {fin(l, 0)}, {{"axes", axes}}));
      break;
    }
    case Layer::kGather: {
      Value* x = fin(l, 0);
      define(o, add("gather", {x, idx(blob(l, 1))}, {{"axis", ir::normalize_axis(l.gather().axis(), rank_of(x))}}));
      break;
    }
    case Layer::kGatherAlongAxis: {
      Value* x = fin(l, 0);
      define(o, add("gather_elements", {x, idx(blob(l, 1))},
                    {{"axis", ir::normalize_axis(l.gatheralongaxis().axis(), rank_of(x))}}));
      break;
    }
    case Layer::kScatterAlongAxis: {
      if (l.scatteralongaxis().mode() != spec::SCATTER_UPDATE) fail(l, "only SCATTER_UPDATE is supported");
      Value* x = fin(l, 0);
      define(o, add("scatter_elements", {x, idx(blob(l, 1)), fin(l, 2)},
                    {{"axis", ir::normalize_axis(l.scatteralongaxis().axis(), rank_of(x))}}));
      break;
    }
    case Layer::kConstantPad: {
      const auto& p = l.constantpad();
      Value* x = fin(l, 0);
      const int64_t rank = rank_of(x);
      if (p.padtogivenoutputsizemode()) fail(l, "padToGivenOutputSizeMode is not supported");
      if (p.padamounts_size() != 2 * rank) fail(l, "padAmounts must have 2 entries per axis");
      std::vector<int64_t> pads(2 * rank);
      for (int64_t a = 0; a < rank; ++a) {
        pads[a] = p.padamounts(2 * a);
        pads[a + rank] = p.padamounts(2 * a + 1);
      }
      define(o, add("pad", {x}, {{"pads", pads}, {"mode", std::string("constant")}, {"value", double(p.value())}}));
      break;
    }
    case Layer::kPadding: {
      const auto& p = l.padding();
      Value* x = fin(l, 0);
      const int64_t rank = rank_of(x);
      const auto& ba = p.paddingamounts().borderamounts();
      if (ba.size() != 2 || rank < 3) fail(l, "padding needs 2 border amounts and a rank >= 3 input");
      std::vector<int64_t> pads(2 * rank, 0);
      for (int i = 0; i < 2; ++i) {
        pads[rank - 2 + i] = ba[i].startedgesize();
        pads[2 * rank - 2 + i] = ba[i].endedgesize();
      }
      std::string mode = p.has_reflection() ? "reflect" : p.has_replication() ? "replicate" : "constant";
      define(o, add("pad", {x}, {{"pads", pads}, {"mode", mode}, {"value", double(p.has_constant() ? p.constant().value() : 0.0f)}}));
      break;
    }
    case Layer::kUpsample: {
      const auto& p = l.upsample();
      Value* x = fin(l, 0);
      if (rank_of(x) != 4) fail(l, "upsample input must have rank 4");
      const Shape& s = x->type.shape;
      std::vector<int64_t> sizes(2);
      for (int i = 0; i < 2; ++i) {
        if (p.fractionalscalingfactor_size() == 2)
          sizes[i] = static_cast<int64_t>(std::floor(s[2 + i] * static_cast<double>(p.fractionalscalingfactor(i))));
        else if (p.scalingfactor_size() == 2) sizes[i] = s[2 + i] * static_cast<int64_t>(p.scalingfactor(i));
        else sizes[i] = s[2 + i];
      }
      if (p.mode() == spec::UpsampleLayerParams::NN) {
        define(o, add("resize", {x}, {{"mode", std::string("nearest")}, {"sizes", sizes}, {"align_corners", int64_t(0)}}));
      } else {
        const auto m = p.linearupsamplemode();
        if (m == spec::UpsampleLayerParams::DEFAULT) fail(l, "bilinear upsample in DEFAULT mode is not supported");
        define(o, add("resize", {x},
                      {{"mode", std::string("linear")}, {"sizes", sizes},
                       {"align_corners", int64_t(m == spec::UpsampleLayerParams::ALIGN_CORNERS_TRUE ? 1 : 0)}}));
      }
      break;
    }
    case Layer::kResizeBilinear: {
      const auto& p = l.resizebilinear();
      Value* x = fin(l, 0);
      if (rank_of(x) != 4) fail(l, "resizeBilinear input must have rank 4");
      if (p.mode().samplingmethod() != spec::SamplingMode::STRICT_ALIGN_ENDPOINTS_MODE)
        fail(l, "only STRICT_ALIGN_ENDPOINTS_MODE is supported");
      define(o, add("resize", {x},
                    {{"mode", std::string("linear")}, {"sizes", u64s(p.targetsize())}, {"align_corners", int64_t(1)}}));
      break;
    }
    case Layer::kLoadConstantND: {
      Shape s(l.loadconstantnd().shape().begin(), l.loadconstantnd().shape().end());
      define(o, constant(weights(l, l.loadconstantnd().data(), ir::shape_numel(s), "data"), s));
      break;
    }
    default:
      fail(l, fmt::format("layer kind (field {}) is not supported by this reader", static_cast<int>(l.layer_case())));
  }
}

template <class NN>
void read_network(NnReader& r, const spec::Model& model, const NN& nn, const std::string& file) {
  ir::Graph& g = r.g_;
  const auto& desc = model.description();
  for (const auto& in : desc.input()) {
    const auto& t = in.type();
    if (t.has_multiarraytype()) {
      const auto& a = t.multiarraytype();
      Shape s(a.shape().begin(), a.shape().end());
      if (s.empty()) throw CoreMLError(fmt::format("{}: input '{}' has no shape", file, in.name()));
      DType d = a.datatype() == spec::ArrayFeatureType::INT32 ? DType::I32 : DType::F32;
      r.define(in.name(), g.add_input(in.name(), {d, s}));
    } else if (t.has_imagetype()) {
      const auto& im = t.imagetype();
      const int64_t c = im.colorspace() == spec::ImageFeatureType::GRAYSCALE ? 1 : 3;
      Value* x = g.add_input(in.name(), {DType::F32, {1, c, im.height(), im.width()}});
      for (const auto& pre : nn.preprocessing()) {
        if (pre.featurename() != in.name() || !pre.has_scaler()) continue;
        const auto& s = pre.scaler();
        std::vector<float> bias = c == 1 ? std::vector<float>{s.graybias()}
                                  : im.colorspace() == spec::ImageFeatureType::BGR
                                      ? std::vector<float>{s.bluebias(), s.greenbias(), s.redbias()}
                                      : std::vector<float>{s.redbias(), s.greenbias(), s.bluebias()};
        const float scale = s.channelscale();
        x = r.add("add", {r.add("mul", {x, r.scalar(scale)}), r.constant(bias, {1, c, 1, 1})});
      }
      r.define(in.name(), x);
    } else {
      throw CoreMLError(fmt::format("{}: input '{}' is neither a multiarray nor an image", file, in.name()));
    }
  }
  for (const auto& layer : nn.layers()) r.read(layer);
}

ir::Graph read(const fs::path& path) {
  const std::string file = path.string();
  spec::Model model = parse_model(path);
  ir::Graph g;
  NnReader r(g, file);
  const auto& desc = model.description();
  std::string prob_blob;
  if (model.has_neuralnetwork()) {
    read_network(r, model, model.neuralnetwork(), file);
  } else if (model.has_neuralnetworkclassifier()) {
    read_network(r, model, model.neuralnetworkclassifier(), file);
    prob_blob = model.neuralnetworkclassifier().labelprobabilitylayername();
  } else {
    throw CoreMLError(fmt::format("{}: not a NeuralNetwork model (model kind field {})", file,
                                  static_cast<int>(model.Type_case())));
  }
  for (const auto& out : desc.output()) {
    const auto& t = out.type();
    if (t.has_multiarraytype()) {
      Value* v = r.blob_named(out.name());
      DType d = t.multiarraytype().datatype() == spec::ArrayFeatureType::INT32 ? DType::I32 : DType::F32;
      g.add_output(r.as(v, d), out.name());
    } else if (t.has_dictionarytype() && !prob_blob.empty()) {
      g.add_output(r.f(r.blob_named(prob_blob)), out.name());
    }
    // The classifier's label output (string / int64) has no IR form.
  }
  ir::verify(g);
  return g;
}

}  // namespace

ir::Graph read_mlmodel(const fs::path& path) {
  try {
    return read(path);
  } catch (const ir::IrError& e) {
    throw CoreMLError(fmt::format("{}: {}", path.string(), e.what()));
  }
}

namespace {

std::string feature_type(const spec::FeatureType& t) {
  if (t.has_multiarraytype()) {
    const auto& a = t.multiarraytype();
    std::string dt = a.datatype() == spec::ArrayFeatureType::INT32     ? "INT32"
                     : a.datatype() == spec::ArrayFeatureType::DOUBLE  ? "DOUBLE"
                     : a.datatype() == spec::ArrayFeatureType::FLOAT16 ? "FLOAT16"
                                                                       : "FLOAT32";
    std::vector<std::string> dims;
    for (auto d : a.shape()) dims.push_back(std::to_string(d));
    std::string joined;
    for (size_t i = 0; i < dims.size(); ++i) joined += (i ? ", " : "") + dims[i];
    return fmt::format("MultiArray {} [{}]", dt, joined);
  }
  if (t.has_imagetype()) {
    const auto& im = t.imagetype();
    return fmt::format("Image {} {}x{}", spec::ImageFeatureType::ColorSpace_Name(im.colorspace()), im.width(), im.height());
  }
  if (t.has_int64type()) return "Int64";
  if (t.has_doubletype()) return "Double";
  if (t.has_stringtype()) return "String";
  if (t.has_dictionarytype()) return t.dictionarytype().has_stringkeytype() ? "Dictionary (String -> Double)" : "Dictionary (Int64 -> Double)";
  return "unknown";
}

}  // namespace

ModelSummary summarize_mlmodel(const fs::path& path) {
  const spec::Model model = parse_model(path);
  const LegacyModelInfo info = inspect_mlmodel(path);
  ModelSummary s;
  s.specification_version = info.specification_version;
  s.model_type = info.classifier ? "neuralNetworkClassifier" : "neuralNetwork";
  const auto& d = model.description();
  for (const auto& f : d.input()) s.inputs.push_back({f.name(), feature_type(f.type()), f.shortdescription()});
  for (const auto& f : d.output()) s.outputs.push_back({f.name(), feature_type(f.type()), f.shortdescription()});
  const auto& md = d.metadata();
  s.author = md.author();
  s.license = md.license();
  s.version = md.versionstring();
  s.short_description = md.shortdescription();
  for (const auto& [k, v] : md.userdefined()) s.user_defined[k] = v;
  s.op_histogram = info.layer_histogram;
  return s;
}

LegacyModelInfo inspect_mlmodel(const fs::path& path) {
  spec::Model model = parse_model(path);
  LegacyModelInfo info;
  info.specification_version = model.specificationversion();
  const google::protobuf::RepeatedPtrField<Layer>* layers = nullptr;
  if (model.has_neuralnetwork()) layers = &model.neuralnetwork().layers();
  if (model.has_neuralnetworkclassifier()) {
    layers = &model.neuralnetworkclassifier().layers();
    info.classifier = true;
  }
  if (!layers) throw CoreMLError(fmt::format("{}: not a NeuralNetwork model", path.string()));
  const auto* d = Layer::descriptor();
  for (const auto& l : *layers) {
    const auto* field = d->FindFieldByNumber(static_cast<int>(l.layer_case()));
    info.layer_histogram[field ? field->name() : "unknown"]++;
  }
  return info;
}

}  // namespace exporters::coreml
