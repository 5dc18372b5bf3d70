// Weight quantisation of the lowered model. float16: float32 constants are
// stored as fp16 and widened by DEQUANTIZE ops at the top of the graph.
// dynamic-int8: FULLY_CONNECTED and CONV_2D weights become symmetric int8
// per output channel (axis 0); the runtime's hybrid kernels quantise the
// float activations on the fly.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "lowering.hpp"

namespace exporters::tflite {

namespace {

using Op = fb::BuiltinOperator;

void to_float16(TflModel& m) {
  std::unordered_map<int32_t, int32_t> widened;  // f32 const -> dequantized f32 tensor
  std::vector<TflOp> dequant;
  for (auto& op : m.ops)
    for (auto& t : op.inputs) {
      if (t < 0) continue;
      const TflTensor& c = m.tensors[t];
      if (!c.is_const() || c.type != TflType::F32 || c.data->numel() < 2) continue;
      auto it = widened.find(t);
      if (it == widened.end()) {
        TflTensor half;
        half.name = c.name + "/fp16";
        half.type = TflType::F16;
        half.shape = c.shape;
        half.data = c.data;
        half.f16_from_f32 = true;
        TflTensor wide;
        wide.name = c.name + "/dequantized";
        wide.type = TflType::F32;
        wide.shape = c.shape;
        int32_t h = m.add_tensor(std::move(half));
        int32_t w = m.add_tensor(std::move(wide));
        TflOp d;
        d.code = Op::BuiltinOperator_DEQUANTIZE;
        d.inputs = {h};
        d.outputs = {w};
        dequant.push_back(std::move(d));
        it = widened.emplace(t, w).first;
      }
      t = it->second;
    }
  m.ops.insert(m.ops.begin(), std::make_move_iterator(dequant.begin()), std::make_move_iterator(dequant.end()));
}

int32_t quantize_per_channel(TflModel& m, int32_t t) {
  const TflTensor& w = m.tensors[t];
  const int64_t channels = w.shape.at(0);
  const int64_t per = w.data->numel() / std::max<int64_t>(channels, 1);
  TflTensor q;
  q.name = w.name + "/int8";
  q.type = TflType::I8;
  q.shape = w.shape;
  ir::Tensor data = ir::Tensor::zeros(ir::DType::I8, w.shape);
  const float* src = w.data->data_as<float>();
  int8_t* dst = data.mutable_as<int8_t>();
  for (int64_t c = 0; c < channels; ++c) {
    float maxabs = 0;
    for (int64_t i = 0; i < per; ++i) maxabs = std::max(maxabs, std::fabs(src[c * per + i]));
    float scale = maxabs > 0 ? maxabs / 127.0f : 1.0f;
    for (int64_t i = 0; i < per; ++i)
      dst[c * per + i] = static_cast<int8_t>(std::clamp<float>(std::nearbyint(src[c * per + i] / scale), -127, 127));
    q.quant.scale.push_back(scale);
    q.quant.zero_point.push_back(0);
  }
  q.quant.quantized_dimension = 0;
  q.data = std::move(data);
  return m.add_tensor(std::move(q));
}

void to_dynamic_int8(TflModel& m) {
  std::unordered_map<int32_t, int32_t> done;
  for (auto& op : m.ops) {
    if (op.code != Op::BuiltinOperator_FULLY_CONNECTED && op.code != Op::BuiltinOperator_CONV_2D) continue;
    if (op.inputs.size() < 2 || op.inputs[1] < 0) continue;
    int32_t w = op.inputs[1];
    const TflTensor& wt = m.tensors[w];
    if (!wt.is_const() || wt.type != TflType::F32 || m.tensors[op.inputs[0]].type != TflType::F32) continue;
    auto it = done.find(w);
    if (it == done.end()) it = done.emplace(w, quantize_per_channel(m, w)).first;
    op.inputs[1] = it->second;
    // Hybrid (float activations, int8 weights) kernels with per-channel scales.
    if (op.code == Op::BuiltinOperator_FULLY_CONNECTED) op.options.set("asymmetric_quantize_inputs", int64_t(1));
  }
}

}  // namespace

void quantize_weights(TflModel& model, Quantization q) {
  if (q == Quantization::Float16) to_float16(model);
  if (q == Quantization::DynamicInt8) to_dynamic_int8(model);
}

}  // namespace exporters::tflite
