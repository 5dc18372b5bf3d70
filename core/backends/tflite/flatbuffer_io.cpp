// TflModel <-> flatbuffer bytes. Encoding writes TFL3 / schema version 3
// with buffer 0 as the empty sentinel and constant data 16-byte aligned;
// decoding verifies the whole buffer before touching it and checks every
// index the runtime would, so a malformed file is one clear error.
#include <fmt/format.h>

#include <cstring>
#include <map>
#include <tuple>

#include "builtin_table.hpp"
#include "core/io/zip_archive.hpp"
#include "model.hpp"

namespace exporters::tflite {

std::string tfl_type_name(int8_t type) {
  if (type >= fb::TensorType_MIN && type <= fb::TensorType_MAX)
    return fb::EnumNameTensorType(static_cast<fb::TensorType>(type));
  return fmt::format("TensorType({})", type);
}

std::optional<ir::DType> ir_dtype_of(TflType type) {
  switch (type) {
    case TflType::F32: return ir::DType::F32;
    case TflType::F16: return ir::DType::F16;
    case TflType::I32: return ir::DType::I32;
    case TflType::I64: return ir::DType::I64;
    case TflType::Bool: return ir::DType::Bool;
    case TflType::I8: return ir::DType::I8;
    case TflType::U8: return ir::DType::U8;
    default: return std::nullopt;
  }
}

TflType tfl_type_of(ir::DType dtype) {
  switch (dtype) {
    case ir::DType::F32: return TflType::F32;
    case ir::DType::F16: return TflType::F16;
    case ir::DType::I32: return TflType::I32;
    case ir::DType::I64: return TflType::I64;
    case ir::DType::Bool: return TflType::Bool;
    case ir::DType::I8: return TflType::I8;
    case ir::DType::U8: return TflType::U8;
  }
  throw TfliteError("tflite: unknown IR dtype");
}

std::vector<uint8_t> encode_model(const TflModel& m) {
  const flatbuffers::DetachedBuffer b = encode_model_buffer(m);
  return std::vector<uint8_t>(b.data(), b.data() + b.size());
}

flatbuffers::DetachedBuffer encode_model_buffer(const TflModel& m) {
  // Reserve everything up front: growing the builder copies the whole
  // model into a 1.5x larger block, briefly holding both.
  size_t reserve = m.buffer_bytes + (size_t{1} << 20);
  reserve += 16 * m.tensors.size();  // alignment padding of constant buffers
  for (const auto& t : m.tensors) reserve += 96 + t.name.size() + 8 * t.shape.size() + 4 * t.quant.scale.size() + 8 * t.quant.zero_point.size();
  for (const auto& op : m.ops) reserve += 96 + 4 * (op.inputs.size() + op.outputs.size());
  for (const auto& [name, value] : m.metadata) reserve += 32 + name.size() + value.size();
  flatbuffers::FlatBufferBuilder b(reserve);
  std::vector<flatbuffers::Offset<fb::Buffer>> buffers;
  buffers.push_back(fb::CreateBuffer(b));  // the empty sentinel

  auto data_buffer = [&](const void* bytes, size_t n) {
    b.ForceVectorAlignment(n, sizeof(uint8_t), 16);
    auto v = b.CreateVector(static_cast<const uint8_t*>(bytes), n);
    io::release_mapped_pages(bytes, n);
    buffers.push_back(fb::CreateBuffer(b, v));
    return static_cast<uint32_t>(buffers.size() - 1);
  };
  // float32 values stored as float16, converted in place in the builder;
  // finite values beyond the half range saturate (masks stay finite).
  auto half_buffer = [&](const ir::Tensor& values) {
    const size_t count = static_cast<size_t>(values.numel());
    b.ForceVectorAlignment(count * 2, sizeof(uint8_t), 16);
    uint8_t* dst = nullptr;
    auto v = b.CreateUninitializedVector(count * 2, sizeof(uint8_t), &dst);
    ir::floats_to_halves(values.data_as<float>(), reinterpret_cast<uint16_t*>(dst), count, /*saturate=*/true);
    io::release_mapped_pages(values.data(), values.nbytes());
    buffers.push_back(fb::CreateBuffer(b, v));
    return static_cast<uint32_t>(buffers.size() - 1);
  };

  // Constants that share storage share one buffer.
  std::map<std::tuple<const void*, size_t, bool>, uint32_t> by_storage;
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  for (const auto& t : m.tensors) {
    uint32_t buf = 0;
    if (t.data && t.data->nbytes() > 0) {
      auto key = std::tuple{t.data->data(), t.data->nbytes(), t.f16_from_f32};
      auto it = by_storage.find(key);
      if (it != by_storage.end()) buf = it->second;
      else buf = by_storage[key] = t.f16_from_f32 ? half_buffer(*t.data) : data_buffer(t.data->data(), t.data->nbytes());
    }
    std::vector<int32_t> shape(t.shape.begin(), t.shape.end());
    flatbuffers::Offset<fb::QuantizationParameters> q = 0;
    if (!t.quant.empty())
      q = fb::CreateQuantizationParametersDirect(b, nullptr, nullptr, &t.quant.scale, &t.quant.zero_point,
                                                 fb::QuantizationDetails_NONE, 0, t.quant.quantized_dimension);
    tensors.push_back(fb::CreateTensorDirect(b, &shape, static_cast<fb::TensorType>(t.type), buf, t.name.c_str(), q,
                                             false, nullptr, /*has_rank=*/true));
  }

  std::map<std::pair<int32_t, int32_t>, uint32_t> code_index;
  std::vector<flatbuffers::Offset<fb::OperatorCode>> codes;
  std::vector<flatbuffers::Offset<fb::Operator>> ops;
  for (const auto& op : m.ops) {
    const BuiltinRow* row = find_builtin(op.code);
    if (!row) throw TfliteError(fmt::format("tflite writer: no options row for builtin {}", op.code));
    auto key = std::pair{op.code, op.version};
    auto it = code_index.find(key);
    if (it == code_index.end()) {
      // deprecated_builtin_code is an int8 capped at 127 (PLACEHOLDER_FOR_GREATER_OP_CODES).
      codes.push_back(fb::CreateOperatorCode(b, static_cast<int8_t>(std::min(op.code, 127)), 0, op.version,
                                             static_cast<fb::BuiltinOperator>(op.code)));
      it = code_index.emplace(key, static_cast<uint32_t>(codes.size() - 1)).first;
    }
    auto [tag, options] = row->write(b, op.options);
    ops.push_back(fb::CreateOperatorDirect(b, it->second, &op.inputs, &op.outputs, tag, options));
  }
  auto subgraph = fb::CreateSubGraphDirect(b, &tensors, &m.inputs, &m.outputs, &ops, "main");

  std::vector<flatbuffers::Offset<fb::Metadata>> metadata;
  for (const auto& [name, value] : m.metadata) {
    uint32_t buf = data_buffer(value.data(), value.size());
    metadata.push_back(fb::CreateMetadataDirect(b, name.c_str(), buf));
  }
  std::vector<flatbuffers::Offset<fb::SignatureDef>> sigs;
  for (const auto& s : m.signatures) {
    auto maps = [&](const std::vector<std::pair<std::string, int32_t>>& v) {
      std::vector<flatbuffers::Offset<fb::TensorMap>> out;
      for (const auto& [name, idx] : v) out.push_back(fb::CreateTensorMapDirect(b, name.c_str(), idx));
      return out;
    };
    auto in = maps(s.inputs), out = maps(s.outputs);
    sigs.push_back(fb::CreateSignatureDefDirect(b, &in, &out, s.key.c_str(), 0));
  }
  std::vector<flatbuffers::Offset<fb::SubGraph>> subgraphs{subgraph};
  auto model = fb::CreateModelDirect(b, m.version, &codes, &subgraphs,
                                     m.description.empty() ? nullptr : m.description.c_str(), &buffers, nullptr,
                                     &metadata, &sigs);
  fb::FinishModelBuffer(b, model);
  if (b.GetSize() >= (size_t{1} << 31))
    throw TfliteError("tflite writer: the model exceeds the 2 GiB flatbuffer limit");
  return b.Release();
}

namespace {

size_t element_bytes(int8_t type) {
  switch (type) {
    case 0: case 2: case 15: return 4;
    case 1: case 7: case 16: case 18: return 2;
    case 3: case 6: case 9: return 1;
    case 4: case 8: case 10: case 12: return 8;
    case 11: return 16;
    default: return 0;
  }
}

}  // namespace

TflModel decode_model(const uint8_t* data, size_t size, const std::string& what,
                      std::shared_ptr<const void> keepalive) {
  auto fail = [&](const std::string& msg) { return TfliteError(fmt::format("{}: {}", what, msg)); };
  if (size < 8) throw fail(fmt::format("not a TFLite file: {} bytes is too short for a flatbuffer", size));
  if (!fb::ModelBufferHasIdentifier(data))
    throw fail(fmt::format("not a TFLite file: file identifier is '{}', expected 'TFL3'",
                           std::string(reinterpret_cast<const char*>(data) + 4, 4)));
  if (size >= (size_t{1} << 31)) throw fail("flatbuffers larger than 2 GiB are not supported");
  flatbuffers::Verifier verifier(data, size);
  if (!fb::VerifyModelBuffer(verifier))
    throw fail("malformed TFLite flatbuffer (truncated, or an offset points outside the file)");
  const fb::Model* model = fb::GetModel(data);

  TflModel m;
  m.version = model->version();
  if (model->description()) m.description = model->description()->str();
  const auto* buffers = model->buffers();
  const size_t nbuf = buffers ? buffers->size() : 0;
  m.buffers = nbuf;
  auto buffer_bytes = [&](uint32_t index, const std::string& owner) -> std::pair<const uint8_t*, size_t> {
    if (index >= nbuf) throw fail(fmt::format("{} refers to buffer {} but the file has {}", owner, index, nbuf));
    const fb::Buffer* buf = buffers->Get(index);
    if (buf->offset() > 1) {
      if (buf->offset() > size || buf->size() > size - buf->offset())
        throw fail(fmt::format("{}: buffer {} lies outside the file (offset {}, size {})", owner, index,
                               buf->offset(), buf->size()));
      return {data + buf->offset(), static_cast<size_t>(buf->size())};
    }
    if (!buf->data()) return {nullptr, 0};
    return {buf->data()->data(), buf->data()->size()};
  };
  for (size_t i = 0; i < nbuf; ++i) m.buffer_bytes += buffer_bytes(static_cast<uint32_t>(i), "model").second;
  if (model->metadata())
    for (const auto* md : *model->metadata()) {
      std::string name = md->name() ? md->name()->str() : "";
      auto [p, n] = buffer_bytes(md->buffer(), fmt::format("metadata '{}'", name));
      m.metadata.emplace_back(name, std::string(reinterpret_cast<const char*>(p), n));
    }

  const auto* subgraphs = model->subgraphs();
  if (!subgraphs || subgraphs->size() == 0) throw fail("the model has no subgraph");
  const fb::SubGraph* sg = subgraphs->Get(0);
  const size_t ntensors = sg->tensors() ? sg->tensors()->size() : 0;
  if (sg->tensors())
    for (size_t i = 0; i < ntensors; ++i) {
      const fb::Tensor* t = sg->tensors()->Get(i);
      TflTensor out;
      out.name = t->name() ? t->name()->str() : fmt::format("tensor_{}", i);
      out.type = static_cast<TflType>(t->type());
      if (t->shape())
        for (int32_t d : *t->shape()) {
          if (d < 0) throw fail(fmt::format("tensor '{}' has a negative dimension", out.name));
          out.shape.push_back(d);
        }
      if (const auto* q = t->quantization(); q && q->scale() && q->scale()->size() > 0) {
        out.quant.scale.assign(q->scale()->begin(), q->scale()->end());
        if (q->zero_point()) out.quant.zero_point.assign(q->zero_point()->begin(), q->zero_point()->end());
        out.quant.quantized_dimension = q->quantized_dimension();
      }
      auto [p, n] = buffer_bytes(t->buffer(), fmt::format("tensor '{}'", out.name));
      if (p && n > 0) {
        auto dt = ir_dtype_of(out.type);
        size_t eb = element_bytes(static_cast<int8_t>(out.type));
        int64_t numel = ir::shape_numel(out.shape);
        size_t need = 0;
        if (eb && (__builtin_mul_overflow(static_cast<size_t>(numel), eb, &need) || need != n))
          throw fail(fmt::format("tensor '{}' ({} {}) needs {} bytes but its buffer holds {}", out.name,
                                 tfl_type_name(static_cast<int8_t>(out.type)), ir::shape_to_string(out.shape),
                                 numel * eb, n));
        if (dt) out.data = ir::Tensor::borrow(*dt, out.shape, p, keepalive);
        else out.data = ir::Tensor::borrow(ir::DType::U8, {static_cast<int64_t>(n)}, p, keepalive);  // opaque
      }
      m.tensors.push_back(std::move(out));
    }
  auto check_index = [&](int32_t idx, bool optional, const std::string& where) {
    if (idx == -1 && optional) return;
    if (idx < 0 || static_cast<size_t>(idx) >= ntensors)
      throw fail(fmt::format("{} refers to tensor {} but subgraph 0 has {}", where, idx, ntensors));
  };
  if (sg->inputs())
    for (int32_t i : *sg->inputs()) {
      check_index(i, false, "subgraph input");
      m.inputs.push_back(i);
    }
  if (sg->outputs())
    for (int32_t i : *sg->outputs()) {
      check_index(i, false, "subgraph output");
      m.outputs.push_back(i);
    }
  const auto* codes = model->operator_codes();
  const size_t ncodes = codes ? codes->size() : 0;
  if (sg->operators())
    for (size_t k = 0; k < sg->operators()->size(); ++k) {
      const fb::Operator* op = sg->operators()->Get(k);
      if (op->opcode_index() >= ncodes)
        throw fail(fmt::format("operator {} uses opcode_index {} but the model has {} operator codes", k,
                               op->opcode_index(), ncodes));
      const fb::OperatorCode* oc = codes->Get(op->opcode_index());
      TflOp out;
      out.code = std::max<int32_t>(oc->builtin_code(), oc->deprecated_builtin_code());
      out.version = oc->version();
      if (out.code == fb::BuiltinOperator_CUSTOM)
        throw fail(fmt::format("operator {} is the custom op '{}', which is not supported", k,
                               oc->custom_code() ? oc->custom_code()->str() : ""));
      const std::string where = fmt::format("operator {} ({})", k, builtin_name(out.code));
      if (op->inputs())
        for (int32_t i : *op->inputs()) {
          check_index(i, true, where);
          out.inputs.push_back(i);
        }
      if (op->outputs())
        for (int32_t i : *op->outputs()) {
          check_index(i, false, where);
          out.outputs.push_back(i);
        }
      if (const BuiltinRow* row = find_builtin(out.code)) out.options = row->read(*op);
      m.ops.push_back(std::move(out));
    }
  if (model->signature_defs())
    for (const auto* s : *model->signature_defs()) {
      TflSignature sig;
      sig.key = s->signature_key() ? s->signature_key()->str() : "";
      auto maps = [&](const flatbuffers::Vector<flatbuffers::Offset<fb::TensorMap>>* v,
                      std::vector<std::pair<std::string, int32_t>>& out) {
        if (!v) return;
        for (const auto* tm : *v) out.emplace_back(tm->name() ? tm->name()->str() : "", tm->tensor_index());
      };
      maps(s->inputs(), sig.inputs);
      maps(s->outputs(), sig.outputs);
      if (s->subgraph_index() == 0) m.signatures.push_back(std::move(sig));
      else m.signatures.push_back(TflSignature{sig.key, {}, {}});  // other subgraph: key only
    }
  return m;
}

}  // namespace exporters::tflite
