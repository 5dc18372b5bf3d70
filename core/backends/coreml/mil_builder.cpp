#include "mil_builder.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "coreml.hpp"

namespace exporters::coreml {

MIL::DataType mil_dtype(ir::DType dtype) {
  switch (dtype) {
    case ir::DType::F32: return MIL::FLOAT32;
    case ir::DType::F16: return MIL::FLOAT16;
    case ir::DType::I32: return MIL::INT32;
    case ir::DType::I64: return MIL::INT32;  // ML Programs have no int64 tensors
    case ir::DType::Bool: return MIL::BOOL;
    case ir::DType::I8: return MIL::INT8;
    case ir::DType::U8: return MIL::UINT8;
  }
  return MIL::UNUSED_TYPE;
}

void set_tensor_type(MIL::ValueType* out, const ir::TensorType& type) {
  auto* t = out->mutable_tensortype();
  t->set_datatype(mil_dtype(type.dtype));
  t->set_rank(type.rank());
  for (int64_t d : type.shape) t->add_dimensions()->mutable_constant()->set_size(static_cast<uint64_t>(d));
}

MIL::Value string_value(const std::string& s) {
  MIL::Value v;
  v.mutable_type()->mutable_tensortype()->set_datatype(MIL::STRING);
  v.mutable_immediatevalue()->mutable_tensor()->mutable_strings()->add_values(s);
  return v;
}

namespace {

bool valid_identifier(std::string_view s) {
  if (s.empty()) return false;
  auto head = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
  if (!head(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return head(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '@';
  });
}

std::string sanitize(std::string_view wanted) {
  std::string s;
  for (char c : wanted) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    s += ok ? c : '_';
  }
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) s = "var_" + s;
  return s;
}

uint16_t to_half_clamped(float v) {
  if (v > 65504.0f) v = 65504.0f;
  if (v < -65504.0f) v = -65504.0f;
  return ir::float_to_half(v);
}

int32_t to_i32_clamped(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max()));
}

// Immediate value of `t` stored as `dtype` (a MIL dtype).
void fill_immediate(MIL::TensorValue* tv, const ir::Tensor& t, ir::DType dtype) {
  const int64_t n = t.numel();
  switch (dtype) {
    case ir::DType::F32: {
      auto* f = tv->mutable_floats();
      for (int64_t i = 0; i < n; ++i) f->add_values(static_cast<float>(t.element_as_double(i)));
      return;
    }
    case ir::DType::F16: {
      std::string bytes(static_cast<size_t>(n) * 2, '\0');
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = t.dtype() == ir::DType::F16 ? t.data_as<uint16_t>()[i]
                                                       : to_half_clamped(static_cast<float>(t.element_as_double(i)));
        bytes[2 * i] = static_cast<char>(h & 0xff);
        bytes[2 * i + 1] = static_cast<char>(h >> 8);
      }
      tv->mutable_bytes()->set_values(std::move(bytes));
      return;
    }
    case ir::DType::I32: {
      auto* f = tv->mutable_ints();
      for (int64_t i = 0; i < n; ++i) f->add_values(to_i32_clamped(t.element_as_int(i)));
      return;
    }
    case ir::DType::Bool: {
      auto* f = tv->mutable_bools();
      for (int64_t i = 0; i < n; ++i) f->add_values(t.element_as_int(i) != 0);
      return;
    }
    case ir::DType::I8:
    case ir::DType::U8:
      tv->mutable_bytes()->set_values(std::string(t.data_as<char>(), t.nbytes()));
      return;
    case ir::DType::I64: break;
  }
  throw CoreMLError("const: unsupported dtype " + std::string(ir::dtype_name(dtype)));
}

}  // namespace

MilBuilder::MilBuilder(MIL::Block* block, BlobStorageWriter* blobs, bool float16)
    : block_(block), blobs_(blobs), float16_(float16) {}

ir::DType MilBuilder::compute_dtype(ir::DType dtype) const {
  if (dtype == ir::DType::I64) return ir::DType::I32;
  if (dtype == ir::DType::F32 && float16_) return ir::DType::F16;
  return dtype;
}

std::string MilBuilder::unique_name(std::string_view wanted) {
  std::string base = wanted.empty() ? "var" : std::string(wanted);
  if (!valid_identifier(base)) base = sanitize(base);
  std::string name = base;
  while (used_.count(name)) name = base + "_" + std::to_string(++counter_);
  used_.insert(name);
  return name;
}

std::vector<MVal> MilBuilder::emit_multi(const std::string& type, const Args& args,
                                         const std::vector<ir::TensorType>& outs,
                                         const std::vector<std::string>& names) {
  MIL::Operation* op = block_->add_operations();
  op->set_type(type);
  for (const auto& [key, arg] : args) {
    MIL::Argument& a = (*op->mutable_inputs())[key];
    for (const MVal& v : arg.values) a.add_arguments()->set_name(v.name);
  }
  std::vector<MVal> result;
  for (size_t i = 0; i < outs.size(); ++i) {
    std::string name = i < names.size() && !names[i].empty() ? names[i] : unique_name("var_" + std::to_string(counter_++));
    auto* o = op->add_outputs();
    o->set_name(name);
    set_tensor_type(o->mutable_type(), outs[i]);
    result.push_back({name, outs[i]});
  }
  (*op->mutable_attributes())["name"] = string_value(result.empty() ? type : result[0].name);
  return result;
}

MVal MilBuilder::emit(const std::string& type, const Args& args, const ir::TensorType& out,
                      const std::string& name) {
  return emit_multi(type, args, {out}, {name})[0];
}

MVal MilBuilder::constant(const ir::Tensor& t, const std::string& wanted) {
  return constant_as(t, compute_dtype(t.dtype()), wanted);
}

MVal MilBuilder::constant_as(const ir::Tensor& t, ir::DType dtype, const std::string& wanted) {
  const ir::TensorType type{dtype, t.shape()};
  const std::string name = wanted.empty() ? unique_name("const_" + std::to_string(counter_++)) : wanted;

  MIL::Operation* op = block_->add_operations();
  op->set_type("const");
  auto* o = op->add_outputs();
  o->set_name(name);
  set_tensor_type(o->mutable_type(), type);
  (*op->mutable_attributes())["name"] = string_value(name);
  MIL::Value& val = (*op->mutable_attributes())["val"];
  set_tensor_type(val.mutable_type(), type);

  const bool blob_dtype = dtype == ir::DType::F32 || dtype == ir::DType::F16 ||
                          dtype == ir::DType::U8 || dtype == ir::DType::I8;
  if (blobs_ && blob_dtype && t.numel() >= kMinBlobElements) {
    const uint64_t offset = blobs_->append(t, dtype == ir::DType::F16 && t.dtype() == ir::DType::F32);
    auto* blob = val.mutable_blobfilevalue();
    blob->set_filename(std::string(kWeightFileName));
    blob->set_offset(offset);
    ++blobs_written_;
  } else {
    fill_immediate(val.mutable_immediatevalue()->mutable_tensor(), t, dtype);
  }
  return {name, type};
}

MVal MilBuilder::i32(int64_t v) {
  return constant(ir::Tensor::from_i64({}, {v}));
}

MVal MilBuilder::i32s(const std::vector<int64_t>& v) {
  return constant(ir::Tensor::from_i64({static_cast<int64_t>(v.size())}, v));
}

MVal MilBuilder::boolean(bool v) {
  ir::Tensor t = ir::Tensor::zeros(ir::DType::Bool, {});
  *t.mutable_as<uint8_t>() = v ? 1 : 0;
  return constant(t);
}

MVal MilBuilder::str(const std::string& s) {
  const std::string name = unique_name("const_" + std::to_string(counter_++));
  MIL::Operation* op = block_->add_operations();
  op->set_type("const");
  auto* o = op->add_outputs();
  o->set_name(name);
  o->mutable_type()->mutable_tensortype()->set_datatype(MIL::STRING);
  (*op->mutable_attributes())["name"] = string_value(name);
  (*op->mutable_attributes())["val"] = string_value(s);
  // Strings have no IR dtype; the type field of MVal is unused for them.
  return {name, {ir::DType::U8, {}}};
}

MVal MilBuilder::scalar(double v, ir::DType dtype) {
  ir::Tensor t;
  switch (dtype) {
    case ir::DType::F32: t = ir::Tensor::scalar_f32(static_cast<float>(v)); break;
    case ir::DType::F16: {
      t = ir::Tensor::zeros(ir::DType::F16, {});
      *t.mutable_as<uint16_t>() = to_half_clamped(static_cast<float>(v));
      break;
    }
    case ir::DType::I32:
    case ir::DType::I64: t = ir::Tensor::scalar_i64(static_cast<int64_t>(v)); break;
    default: throw CoreMLError("scalar constant of dtype " + std::string(ir::dtype_name(dtype)));
  }
  // Under float16 precision an explicit f32 request must stay f32.
  return constant_as(t, dtype == ir::DType::I64 ? ir::DType::I32 : dtype);
}


}  // namespace exporters::coreml
