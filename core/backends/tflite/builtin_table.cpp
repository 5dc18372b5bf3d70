// The builtin operator table. Options are carried as IR attributes named
// after the schema fields; every op that has an options table always gets
// one written (TFLite zero-initialises params when it is missing).
#include "builtin_table.hpp"

#include <unordered_map>

namespace exporters::tflite {

namespace {

using B = flatbuffers::FlatBufferBuilder;
using Opts = std::pair<fb::BuiltinOptions, flatbuffers::Offset<void>>;

int64_t gi(const ir::Attrs& a, const char* k, int64_t d = 0) { return a.i(k, d); }
float gf(const ir::Attrs& a, const char* k, double d = 0) { return static_cast<float>(a.f(k, d)); }
fb::ActivationFunctionType act(const ir::Attrs& a) {
  return static_cast<fb::ActivationFunctionType>(gi(a, "fused_activation_function"));
}
fb::Padding padding(const ir::Attrs& a) { return static_cast<fb::Padding>(gi(a, "padding")); }
fb::TensorType ttype(const ir::Attrs& a, const char* k) { return static_cast<fb::TensorType>(gi(a, k)); }

std::vector<int32_t> ints32(const ir::Attrs& a, const char* k) {
  std::vector<int32_t> v;
  for (int64_t x : a.ints(k, {})) v.push_back(static_cast<int32_t>(x));
  return v;
}
std::vector<int64_t> to64(const flatbuffers::Vector<int32_t>* v) {
  std::vector<int64_t> out;
  if (v)
    for (int32_t x : *v) out.push_back(x);
  return out;
}

template <class T>
Opts opts(fb::BuiltinOptions tag, flatbuffers::Offset<T> off) {
  return {tag, off.Union()};
}

// Ops with no options table.
BuiltinRow plain(int32_t code, const char* name) {
  return {code, name, [](B&, const ir::Attrs&) { return Opts{fb::BuiltinOptions_NONE, 0}; },
          [](const fb::Operator&) { return ir::Attrs{}; }};
}

// Ops whose options table has no fields.
template <class T, class Builder>
BuiltinRow empty_table(int32_t code, const char* name, fb::BuiltinOptions tag, Builder make) {
  return {code, name, [tag, make](B& b, const ir::Attrs&) { return opts(tag, make(b)); },
          [](const fb::Operator&) { return ir::Attrs{}; }};
}

#define EMPTY(CODE, T) \
  empty_table<fb::T>(fb::BuiltinOperator_##CODE, #CODE, fb::BuiltinOptions_##T, [](B& b) { return fb::Create##T(b); })

std::vector<BuiltinRow> rows() {
  std::vector<BuiltinRow> r;
  auto act_only = [&](int32_t code, const char* name, fb::BuiltinOptions tag, auto make, auto get) {
    r.push_back({code, name, [tag, make](B& b, const ir::Attrs& a) { return opts(tag, make(b, act(a))); },
                 [tag, get](const fb::Operator& op) {
                   ir::Attrs a;
                   if (auto* o = get(op)) a.set("fused_activation_function", int64_t(o->fused_activation_function()));
                   return a;
                 }});
  };
  act_only(fb::BuiltinOperator_ADD, "ADD", fb::BuiltinOptions_AddOptions,
           [](B& b, fb::ActivationFunctionType f) { return fb::CreateAddOptions(b, f); },
           [](const fb::Operator& op) { return op.builtin_options_as_AddOptions(); });
  act_only(fb::BuiltinOperator_SUB, "SUB", fb::BuiltinOptions_SubOptions,
           [](B& b, fb::ActivationFunctionType f) { return fb::CreateSubOptions(b, f); },
           [](const fb::Operator& op) { return op.builtin_options_as_SubOptions(); });
  act_only(fb::BuiltinOperator_MUL, "MUL", fb::BuiltinOptions_MulOptions,
           [](B& b, fb::ActivationFunctionType f) { return fb::CreateMulOptions(b, f); },
           [](const fb::Operator& op) { return op.builtin_options_as_MulOptions(); });
  act_only(fb::BuiltinOperator_DIV, "DIV", fb::BuiltinOptions_DivOptions,
           [](B& b, fb::ActivationFunctionType f) { return fb::CreateDivOptions(b, f); },
           [](const fb::Operator& op) { return op.builtin_options_as_DivOptions(); });
  act_only(fb::BuiltinOperator_L2_NORMALIZATION, "L2_NORMALIZATION", fb::BuiltinOptions_L2NormOptions,
           [](B& b, fb::ActivationFunctionType f) { return fb::CreateL2NormOptions(b, f); },
           [](const fb::Operator& op) { return op.builtin_options_as_L2NormOptions(); });

  r.push_back({fb::BuiltinOperator_FULLY_CONNECTED, "FULLY_CONNECTED",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_FullyConnectedOptions,
                             fb::CreateFullyConnectedOptions(b, act(a), fb::FullyConnectedOptionsWeightsFormat_DEFAULT,
                                                             gi(a, "keep_num_dims") != 0,
                                                             gi(a, "asymmetric_quantize_inputs") != 0));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 if (auto* o = op.builtin_options_as_FullyConnectedOptions()) {
                   a.set("fused_activation_function", int64_t(o->fused_activation_function()));
                   a.set("keep_num_dims", int64_t(o->keep_num_dims()));
                   a.set("weights_format", int64_t(o->weights_format()));
                 }
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_BATCH_MATMUL, "BATCH_MATMUL",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_BatchMatMulOptions,
                             fb::CreateBatchMatMulOptions(b, gi(a, "adj_x") != 0, gi(a, "adj_y") != 0));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 if (auto* o = op.builtin_options_as_BatchMatMulOptions()) {
                   a.set("adj_x", int64_t(o->adj_x()));
                   a.set("adj_y", int64_t(o->adj_y()));
                 }
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_SOFTMAX, "SOFTMAX",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_SoftmaxOptions, fb::CreateSoftmaxOptions(b, gf(a, "beta", 1.0)));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_SoftmaxOptions();
                 a.set("beta", double(o ? o->beta() : 0.0f));
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_CONCATENATION, "CONCATENATION",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_ConcatenationOptions,
                             fb::CreateConcatenationOptions(b, int32_t(gi(a, "axis")), act(a)));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 if (auto* o = op.builtin_options_as_ConcatenationOptions()) {
                   a.set("axis", int64_t(o->axis()));
                   a.set("fused_activation_function", int64_t(o->fused_activation_function()));
                 }
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_CONV_2D, "CONV_2D",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_Conv2DOptions,
                             fb::CreateConv2DOptions(b, padding(a), gi(a, "stride_w", 1), gi(a, "stride_h", 1), act(a),
                                                     gi(a, "dilation_w_factor", 1), gi(a, "dilation_h_factor", 1)));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_Conv2DOptions();
                 a.set("padding", int64_t(o ? o->padding() : 0));
                 a.set("stride_w", int64_t(o ? o->stride_w() : 0));
                 a.set("stride_h", int64_t(o ? o->stride_h() : 0));
                 a.set("dilation_w_factor", int64_t(o ? o->dilation_w_factor() : 0));
                 a.set("dilation_h_factor", int64_t(o ? o->dilation_h_factor() : 0));
                 a.set("fused_activation_function", int64_t(o ? o->fused_activation_function() : 0));
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_DEPTHWISE_CONV_2D, "DEPTHWISE_CONV_2D",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_DepthwiseConv2DOptions,
                             fb::CreateDepthwiseConv2DOptions(b, padding(a), gi(a, "stride_w", 1), gi(a, "stride_h", 1),
                                                              gi(a, "depth_multiplier", 1), act(a),
                                                              gi(a, "dilation_w_factor", 1),
                                                              gi(a, "dilation_h_factor", 1)));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_DepthwiseConv2DOptions();
                 a.set("padding", int64_t(o ? o->padding() : 0));
                 a.set("stride_w", int64_t(o ? o->stride_w() : 0));
                 a.set("stride_h", int64_t(o ? o->stride_h() : 0));
                 a.set("depth_multiplier", int64_t(o ? o->depth_multiplier() : 0));
                 a.set("dilation_w_factor", int64_t(o ? o->dilation_w_factor() : 0));
                 a.set("dilation_h_factor", int64_t(o ? o->dilation_h_factor() : 0));
                 a.set("fused_activation_function", int64_t(o ? o->fused_activation_function() : 0));
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_TRANSPOSE_CONV, "TRANSPOSE_CONV",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_TransposeConvOptions,
                             fb::CreateTransposeConvOptions(b, padding(a), gi(a, "stride_w", 1), gi(a, "stride_h", 1),
                                                            act(a)));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_TransposeConvOptions();
                 a.set("padding", int64_t(o ? o->padding() : 0));
                 a.set("stride_w", int64_t(o ? o->stride_w() : 0));
                 a.set("stride_h", int64_t(o ? o->stride_h() : 0));
                 a.set("fused_activation_function", int64_t(o ? o->fused_activation_function() : 0));
                 return a;
               }});
  for (auto [code, name] : {std::pair{fb::BuiltinOperator_AVERAGE_POOL_2D, "AVERAGE_POOL_2D"},
                            std::pair{fb::BuiltinOperator_MAX_POOL_2D, "MAX_POOL_2D"}}) {
    r.push_back({code, name,
                 [](B& b, const ir::Attrs& a) {
                   return opts(fb::BuiltinOptions_Pool2DOptions,
                               fb::CreatePool2DOptions(b, padding(a), gi(a, "stride_w", 1), gi(a, "stride_h", 1),
                                                       gi(a, "filter_width"), gi(a, "filter_height"), act(a)));
                 },
                 [](const fb::Operator& op) {
                   ir::Attrs a;
                   auto* o = op.builtin_options_as_Pool2DOptions();
                   a.set("padding", int64_t(o ? o->padding() : 0));
                   a.set("stride_w", int64_t(o ? o->stride_w() : 0));
                   a.set("stride_h", int64_t(o ? o->stride_h() : 0));
                   a.set("filter_width", int64_t(o ? o->filter_width() : 0));
                   a.set("filter_height", int64_t(o ? o->filter_height() : 0));
                   a.set("fused_activation_function", int64_t(o ? o->fused_activation_function() : 0));
                   return a;
                 }});
  }
  for (auto [code, name] : {std::pair{fb::BuiltinOperator_MEAN, "MEAN"}, std::pair{fb::BuiltinOperator_SUM, "SUM"},
                            std::pair{fb::BuiltinOperator_REDUCE_MAX, "REDUCE_MAX"},
                            std::pair{fb::BuiltinOperator_REDUCE_MIN, "REDUCE_MIN"},
                            std::pair{fb::BuiltinOperator_REDUCE_PROD, "REDUCE_PROD"}}) {
    r.push_back({code, name,
                 [](B& b, const ir::Attrs& a) {
                   return opts(fb::BuiltinOptions_ReducerOptions, fb::CreateReducerOptions(b, gi(a, "keep_dims") != 0));
                 },
                 [](const fb::Operator& op) {
                   ir::Attrs a;
                   auto* o = op.builtin_options_as_ReducerOptions();
                   a.set("keep_dims", int64_t(o ? o->keep_dims() : 0));
                   return a;
                 }});
  }
  r.push_back({fb::BuiltinOperator_GATHER, "GATHER",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_GatherOptions,
                             fb::CreateGatherOptions(b, int32_t(gi(a, "axis")), int32_t(gi(a, "batch_dims"))));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_GatherOptions();
                 a.set("axis", int64_t(o ? o->axis() : 0));
                 a.set("batch_dims", int64_t(o ? o->batch_dims() : 0));
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_STRIDED_SLICE, "STRIDED_SLICE",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_StridedSliceOptions,
                             fb::CreateStridedSliceOptions(b, gi(a, "begin_mask"), gi(a, "end_mask"),
                                                           gi(a, "ellipsis_mask"), gi(a, "new_axis_mask"),
                                                           gi(a, "shrink_axis_mask"), gi(a, "offset") != 0));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 if (auto* o = op.builtin_options_as_StridedSliceOptions()) {
                   a.set("begin_mask", int64_t(o->begin_mask()));
                   a.set("end_mask", int64_t(o->end_mask()));
                   a.set("ellipsis_mask", int64_t(o->ellipsis_mask()));
                   a.set("new_axis_mask", int64_t(o->new_axis_mask()));
                   a.set("shrink_axis_mask", int64_t(o->shrink_axis_mask()));
                   a.set("offset", int64_t(o->offset()));
                 }
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_RESHAPE, "RESHAPE",
               [](B& b, const ir::Attrs& a) {
                 // The shape travels as the second input; the legacy field stays empty.
                 return opts(fb::BuiltinOptions_ReshapeOptions, fb::CreateReshapeOptions(b));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 if (auto* o = op.builtin_options_as_ReshapeOptions(); o && o->new_shape())
                   a.set("new_shape", to64(o->new_shape()));
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_SQUEEZE, "SQUEEZE",
               [](B& b, const ir::Attrs& a) {
                 auto dims = ints32(a, "squeeze_dims");
                 return opts(fb::BuiltinOptions_SqueezeOptions, fb::CreateSqueezeOptionsDirect(b, &dims));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_SqueezeOptions();
                 a.set("squeeze_dims", to64(o ? o->squeeze_dims() : nullptr));
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_GELU, "GELU",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_GeluOptions, fb::CreateGeluOptions(b, gi(a, "approximate") != 0));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_GeluOptions();
                 a.set("approximate", int64_t(o ? o->approximate() : 0));
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_LEAKY_RELU, "LEAKY_RELU",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_LeakyReluOptions, fb::CreateLeakyReluOptions(b, gf(a, "alpha")));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_LeakyReluOptions();
                 a.set("alpha", double(o ? o->alpha() : 0.0f));
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_MIRROR_PAD, "MIRROR_PAD",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_MirrorPadOptions,
                             fb::CreateMirrorPadOptions(b, static_cast<fb::MirrorPadMode>(gi(a, "mode"))));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_MirrorPadOptions();
                 a.set("mode", int64_t(o ? o->mode() : 0));
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_RESIZE_BILINEAR, "RESIZE_BILINEAR",
               [](B& b, const ir::Attrs& a) {
                 fb::ResizeBilinearOptionsBuilder o(b);
                 o.add_align_corners(gi(a, "align_corners") != 0);
                 o.add_half_pixel_centers(gi(a, "half_pixel_centers") != 0);
                 return opts(fb::BuiltinOptions_ResizeBilinearOptions, o.Finish());
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_ResizeBilinearOptions();
                 a.set("align_corners", int64_t(o ? o->align_corners() : 0));
                 a.set("half_pixel_centers", int64_t(o ? o->half_pixel_centers() : 0));
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_RESIZE_NEAREST_NEIGHBOR, "RESIZE_NEAREST_NEIGHBOR",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_ResizeNearestNeighborOptions,
                             fb::CreateResizeNearestNeighborOptions(b, gi(a, "align_corners") != 0,
                                                                    gi(a, "half_pixel_centers") != 0));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_ResizeNearestNeighborOptions();
                 a.set("align_corners", int64_t(o ? o->align_corners() : 0));
                 a.set("half_pixel_centers", int64_t(o ? o->half_pixel_centers() : 0));
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_ARG_MAX, "ARG_MAX",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_ArgMaxOptions, fb::CreateArgMaxOptions(b, ttype(a, "output_type")));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_ArgMaxOptions();
                 a.set("output_type", int64_t(o ? o->output_type() : 0));
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_ARG_MIN, "ARG_MIN",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_ArgMinOptions, fb::CreateArgMinOptions(b, ttype(a, "output_type")));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_ArgMinOptions();
                 a.set("output_type", int64_t(o ? o->output_type() : 0));
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_CAST, "CAST",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_CastOptions,
                             fb::CreateCastOptions(b, ttype(a, "in_data_type"), ttype(a, "out_data_type")));
               },
               [](const fb::Operator&) { return ir::Attrs{}; }});
  r.push_back({fb::BuiltinOperator_CUMSUM, "CUMSUM",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_CumsumOptions,
                             fb::CreateCumsumOptions(b, gi(a, "exclusive") != 0, gi(a, "reverse") != 0));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_CumsumOptions();
                 a.set("exclusive", int64_t(o ? o->exclusive() : 0));
                 a.set("reverse", int64_t(o ? o->reverse() : 0));
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_PACK, "PACK",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_PackOptions,
                             fb::CreatePackOptions(b, int32_t(gi(a, "values_count")), int32_t(gi(a, "axis"))));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_PackOptions();
                 a.set("values_count", int64_t(o ? o->values_count() : 0));
                 a.set("axis", int64_t(o ? o->axis() : 0));
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_UNPACK, "UNPACK",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_UnpackOptions,
                             fb::CreateUnpackOptions(b, int32_t(gi(a, "num")), int32_t(gi(a, "axis"))));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_UnpackOptions();
                 a.set("num", int64_t(o ? o->num() : 0));
                 a.set("axis", int64_t(o ? o->axis() : 0));
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_SPLIT, "SPLIT",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_SplitOptions, fb::CreateSplitOptions(b, int32_t(gi(a, "num_splits"))));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_SplitOptions();
                 a.set("num_splits", int64_t(o ? o->num_splits() : 0));
                 return a;
               }});
  r.push_back({fb::BuiltinOperator_SPLIT_V, "SPLIT_V",
               [](B& b, const ir::Attrs& a) {
                 return opts(fb::BuiltinOptions_SplitVOptions, fb::CreateSplitVOptions(b, int32_t(gi(a, "num_splits"))));
               },
               [](const fb::Operator& op) {
                 ir::Attrs a;
                 auto* o = op.builtin_options_as_SplitVOptions();
                 a.set("num_splits", int64_t(o ? o->num_splits() : 0));
                 return a;
               }});

  // Options tables without fields.
  r.push_back(EMPTY(LOG_SOFTMAX, LogSoftmaxOptions));
  r.push_back(EMPTY(TRANSPOSE, TransposeOptions));
  r.push_back(EMPTY(GATHER_ND, GatherNdOptions));
  r.push_back(EMPTY(SLICE, SliceOptions));
  r.push_back(EMPTY(SQUARED_DIFFERENCE, SquaredDifferenceOptions));
  r.push_back(EMPTY(SQUARE, SquareOptions));
  r.push_back(EMPTY(POW, PowOptions));
  r.push_back(EMPTY(EXP, ExpOptions));
  r.push_back(EMPTY(ABS, AbsOptions));
  r.push_back(EMPTY(NEG, NegOptions));
  r.push_back(EMPTY(COS, CosOptions));
  r.push_back(empty_table<fb::MaximumMinimumOptions>(fb::BuiltinOperator_MAXIMUM, "MAXIMUM",
                                                     fb::BuiltinOptions_MaximumMinimumOptions,
                                                     [](B& b) { return fb::CreateMaximumMinimumOptions(b); }));
  r.push_back(empty_table<fb::MaximumMinimumOptions>(fb::BuiltinOperator_MINIMUM, "MINIMUM",
                                                     fb::BuiltinOptions_MaximumMinimumOptions,
                                                     [](B& b) { return fb::CreateMaximumMinimumOptions(b); }));
  r.push_back(EMPTY(PAD, PadOptions));
  r.push_back(EMPTY(PADV2, PadV2Options));
  r.push_back(EMPTY(DEQUANTIZE, DequantizeOptions));
  r.push_back(EMPTY(QUANTIZE, QuantizeOptions));
  r.push_back(EMPTY(HARD_SWISH, HardSwishOptions));
  r.push_back(EMPTY(SELECT, SelectOptions));
  r.push_back(EMPTY(SELECT_V2, SelectV2Options));
  r.push_back(EMPTY(WHERE, WhereOptions));
  r.push_back(EMPTY(BROADCAST_TO, BroadcastToOptions));
  r.push_back(EMPTY(EXPAND_DIMS, ExpandDimsOptions));
  r.push_back(EMPTY(TILE, TileOptions));
  r.push_back(EMPTY(LESS, LessOptions));
  r.push_back(EMPTY(LESS_EQUAL, LessEqualOptions));
  r.push_back(EMPTY(GREATER, GreaterOptions));
  r.push_back(EMPTY(GREATER_EQUAL, GreaterEqualOptions));
  r.push_back(EMPTY(EQUAL, EqualOptions));
  r.push_back(EMPTY(NOT_EQUAL, NotEqualOptions));
  r.push_back(EMPTY(LOGICAL_AND, LogicalAndOptions));
  r.push_back(EMPTY(LOGICAL_OR, LogicalOrOptions));
  r.push_back(EMPTY(LOGICAL_NOT, LogicalNotOptions));
  r.push_back(EMPTY(FLOOR_DIV, FloorDivOptions));
  r.push_back(EMPTY(FLOOR_MOD, FloorModOptions));
  r.push_back(EMPTY(SIGN, SignOptions));
  r.push_back(EMPTY(TOPK_V2, TopKV2Options));
  r.push_back(EMPTY(ZEROS_LIKE, ZerosLikeOptions));
  r.push_back(EMPTY(FILL, FillOptions));
  r.push_back(EMPTY(RANGE, RangeOptions));
  r.push_back(EMPTY(DYNAMIC_UPDATE_SLICE, DynamicUpdateSliceOptions));

  // No options table at all.
  for (auto [code, name] :
       {std::pair{fb::BuiltinOperator_TANH, "TANH"}, std::pair{fb::BuiltinOperator_LOGISTIC, "LOGISTIC"},
        std::pair{fb::BuiltinOperator_RSQRT, "RSQRT"}, std::pair{fb::BuiltinOperator_SQRT, "SQRT"},
        std::pair{fb::BuiltinOperator_LOG, "LOG"}, std::pair{fb::BuiltinOperator_SIN, "SIN"},
        std::pair{fb::BuiltinOperator_RELU, "RELU"}, std::pair{fb::BuiltinOperator_RELU6, "RELU6"},
        std::pair{fb::BuiltinOperator_RELU_N1_TO_1, "RELU_N1_TO_1"}, std::pair{fb::BuiltinOperator_ELU, "ELU"},
        std::pair{fb::BuiltinOperator_PRELU, "PRELU"}, std::pair{fb::BuiltinOperator_EMBEDDING_LOOKUP, "EMBEDDING_LOOKUP"},
        std::pair{fb::BuiltinOperator_FLOOR, "FLOOR"}, std::pair{fb::BuiltinOperator_CEIL, "CEIL"},
        std::pair{fb::BuiltinOperator_ROUND, "ROUND"}})
    r.push_back(plain(code, name));
  return r;
}

const std::unordered_map<int32_t, BuiltinRow>& table() {
  static const auto t = [] {
    std::unordered_map<int32_t, BuiltinRow> m;
    for (auto& row : rows()) m.emplace(row.code, std::move(row));
    return m;
  }();
  return t;
}

}  // namespace

const BuiltinRow* find_builtin(int32_t code) {
  auto it = table().find(code);
  return it == table().end() ? nullptr : &it->second;
}

const char* builtin_name(int32_t code) {
  if (const auto* row = find_builtin(code)) return row->name;
  // Names of codes outside our table still come from the schema enum when known.
  if (code >= fb::BuiltinOperator_MIN && code <= fb::BuiltinOperator_MAX) {
    const char* n = fb::EnumNameBuiltinOperator(static_cast<fb::BuiltinOperator>(code));
    if (n && *n) return n;
  }
  static thread_local std::string buf;
  buf = "BUILTIN_" + std::to_string(code);
  return buf.c_str();
}

}  // namespace exporters::tflite
