#include "core/validate/torch_runner.hpp"

#include <torch/script.h>

#include "core/frontend/torchscript/mapped_module.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace exporters::validate {

namespace {

c10::ScalarType to_torch(ir::DType d) {
  switch (d) {
    case ir::DType::F32: return c10::kFloat;
    case ir::DType::F16: return c10::kHalf;
    case ir::DType::I32: return c10::kInt;
    case ir::DType::I64: return c10::kLong;
    case ir::DType::Bool: return c10::kBool;
    case ir::DType::I8: return c10::kChar;
    case ir::DType::U8: return c10::kByte;
  }
  throw std::logic_error("unknown dtype");
}

ir::DType from_torch(c10::ScalarType t) {
  switch (t) {
    case c10::kFloat: return ir::DType::F32;
    case c10::kHalf: return ir::DType::F16;
    case c10::kInt: return ir::DType::I32;
    case c10::kLong: return ir::DType::I64;
    case c10::kBool: return ir::DType::Bool;
    case c10::kChar: return ir::DType::I8;
    case c10::kByte: return ir::DType::U8;
    default: throw std::runtime_error(fmt::format("model output has unsupported dtype {}", c10::toString(t)));
  }
}

void flatten(const c10::IValue& v, std::vector<ir::Tensor>& out) {
  if (v.isTensor()) {
    at::Tensor t = v.toTensor().contiguous();
    ir::Shape shape(t.sizes().begin(), t.sizes().end());
    out.push_back(ir::Tensor::copy_of(from_torch(t.scalar_type()), shape, t.data_ptr()));
  } else if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements()) flatten(e, out);
  } else if (v.isList()) {
    for (const auto& e : v.toListRef()) flatten(e, out);
  } else if (v.isGenericDict()) {
    for (const auto& kv : v.toGenericDict()) flatten(kv.value(), out);
  } else {
    throw std::runtime_error(fmt::format("model returned a {}, expected tensors", v.tagKind()));
  }
}

}  // namespace

std::vector<ir::Tensor> run_torchscript(const std::filesystem::path& model_pt, const std::vector<ir::Tensor>& inputs) {
  // Weights used in place from the mapped file, as the frontend loads them.
  torch::jit::Module module = frontend::load_mapped_module(model_pt);
  module.eval();
  std::vector<c10::IValue> args;
  for (const auto& in : inputs) {
    std::vector<int64_t> sizes(in.shape().begin(), in.shape().end());
    // from_blob does not copy; clone so LibTorch owns memory it may write.
    args.emplace_back(torch::from_blob(const_cast<void*>(in.data()), sizes, to_torch(in.dtype())).clone());
  }
  c10::InferenceMode guard;
  c10::IValue result;
  try {
    result = module.forward(args);
  } catch (const c10::Error& e) {
    throw std::runtime_error(fmt::format("{}: forward failed: {}", model_pt.string(), e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: forward failed: {}", model_pt.string(), e.what()));
  }
  std::vector<ir::Tensor> out;
  flatten(result, out);
  return out;
}

}  // namespace exporters::validate
