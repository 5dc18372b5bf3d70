// .mlpackage / model.mlmodel -> IR (one table row per MIL op type), and the
// summary behind `exporters inspect`. Every malformed input is a CoreMLError
// naming the file and the problem.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <numeric>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>
#include <google/protobuf/stubs/logging.h>
#include <nlohmann/json.hpp>

#include "blob_storage.hpp"
#include "core/io/json_config.hpp"
#include "coreml.hpp"
#include "coreml_model.pb.h"
#include "exporters/ir/ops.hpp"
#include "mil_builder.hpp"

namespace exporters::coreml {

namespace fs = std::filesystem;
namespace Spec = ::CoreML::Specification;
using ir::DType;
using ir::Shape;

namespace {

struct Package {
  fs::path model_file;
  fs::path weight_file;
  Spec::Model model;
};

fs::path model_path_in(const fs::path& dir) {
  const fs::path manifest = dir / "Manifest.json";
  std::ifstream in(manifest);
  if (!in) throw CoreMLError(dir.string() + ": not an .mlpackage (no Manifest.json)");
  nlohmann::json j;
  try {
    std::stringstream text;
    text << in.rdbuf();
    j = io::parse_json(text.str());
    const std::string root = j.at("rootModelIdentifier").get<std::string>();
    const std::string rel = j.at("itemInfoEntries").at(root).at("path").get<std::string>();
    // The model lives inside the package: no absolute path, no way out of Data/.
    const fs::path relative(rel);
    if (rel.empty() || relative.is_absolute() ||
        std::any_of(relative.begin(), relative.end(), [](const fs::path& part) { return part == ".."; }))
      throw CoreMLError(manifest.string() + ": model path '" + rel + "' is not inside the package");
    return dir / "Data" / relative;
  } catch (const nlohmann::json::exception& e) {
    throw CoreMLError(manifest.string() + ": malformed manifest: " + e.what());
  }
}

Package load(const fs::path& path) {
  Package p;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    p.model_file = model_path_in(path);
  } else if (fs::is_regular_file(path, ec)) {
    p.model_file = path;
  } else {
    throw CoreMLError(path.string() + ": no such file or directory");
  }
  p.weight_file = p.model_file.parent_path() / "weights" / "weight.bin";
  std::ifstream in(p.model_file, std::ios::binary);
  if (!in) throw CoreMLError(p.model_file.string() + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  google::protobuf::LogSilencer quiet;  // malformed input is reported once, as a CoreMLError
  if (!p.model.ParseFromString(ss.str()))
    throw CoreMLError(p.model_file.string() + ": not a Core ML model (protobuf parse failed)");
  return p;
}

DType ir_dtype(MIL::DataType d, const std::string& where) {
  switch (d) {
    case MIL::FLOAT32: case MIL::FLOAT64: return DType::F32;
    case MIL::FLOAT16: return DType::F16;
    case MIL::INT32: case MIL::INT64: case MIL::INT16: case MIL::UINT16: return DType::I32;
    case MIL::BOOL: return DType::Bool;
    case MIL::INT8: return DType::I8;
    case MIL::UINT8: return DType::U8;
    default: break;
  }
  throw CoreMLError(where + ": unsupported MIL data type " + MIL::DataType_Name(d));
}

// Declared tensor type; `known` is false when a dimension is not constant.
ir::TensorType tensor_type(const MIL::ValueType& vt, const std::string& where, bool* known = nullptr) {
  if (!vt.has_tensortype()) throw CoreMLError(where + ": expected a tensor type");
  const auto& t = vt.tensortype();
  ir::TensorType out{ir_dtype(t.datatype(), where), {}};
  if (known) *known = true;
  for (const auto& d : t.dimensions()) {
    if (!d.has_constant()) {
      if (known) { *known = false; out.shape.push_back(-1); continue; }
      throw CoreMLError(where + ": flexible (unknown) dimensions are not supported");
    }
    out.shape.push_back(static_cast<int64_t>(d.constant().size()));
  }
  // Bound every size so element counts cannot overflow (2^40 elements).
  double numel = 1;
  for (int64_t d : out.shape) {
    if (d < 0 || d > (int64_t{1} << 40)) throw CoreMLError(where + ": dimension " + std::to_string(d) + " is out of range");
    numel *= static_cast<double>(std::max<int64_t>(d, 1));
  }
  if (numel > static_cast<double>(int64_t{1} << 40)) throw CoreMLError(where + ": tensor type is implausibly large");
  return out;
}

class ProgramReader;
using ReadFn = std::function<void(ProgramReader&, const MIL::Operation&)>;
const std::unordered_map<std::string, ReadFn>& read_table();

class ProgramReader {
 public:
  ProgramReader(const Package& p) : pkg_(p), file_(p.model_file.string()) {}

  ir::Graph g;

  [[noreturn]] void fail(const MIL::Operation& op, const std::string& why) const {
    throw CoreMLError(file_ + ": op '" + op.type() + "' (" + op_name(op) + "): " + why);
  }
  static std::string op_name(const MIL::Operation& op) {
    auto it = op.attributes().find("name");
    if (it != op.attributes().end() && it->second.immediatevalue().tensor().strings().values_size())
      return it->second.immediatevalue().tensor().strings().values(0);
    return op.outputs_size() ? op.outputs(0).name() : std::string("?");
  }

  // ── values ────────────────────────────────────────────────────────────
  struct Entry {
    ir::Value* value = nullptr;
    std::optional<ir::Tensor> constant;
    std::optional<std::string> text;
  };

  ir::Tensor decode(const MIL::Value& v, const std::string& where) {
    if (!v.has_type()) throw CoreMLError(where + ": value without a type");
    const ir::TensorType type = tensor_type(v.type(), where);
    if (v.has_blobfilevalue()) {
      const auto& blob = v.blobfilevalue();
      if (blob.filename() != kWeightFileName)
        throw CoreMLError(where + ": unsupported weight file '" + blob.filename() + "'");
      if (!blobs_) blobs_ = std::make_unique<BlobStorageReader>(pkg_.weight_file);
      return blobs_->read(blob.offset(), type.dtype, type.shape);
    }
    if (!v.has_immediatevalue() || !v.immediatevalue().has_tensor())
      throw CoreMLError(where + ": unsupported (non-tensor) value");
    const auto& tv = v.immediatevalue().tensor();
    const int64_t n = type.numel();
    auto check = [&](int64_t got) {
      if (got != n) throw CoreMLError(where + ": value holds " + std::to_string(got) + " elements, its type needs " + std::to_string(n));
    };
    // Check the payload size before allocating anything of the declared size.
    const int64_t payload = tv.has_floats() ? tv.floats().values_size()
                            : tv.has_doubles() ? tv.doubles().values_size()
                            : tv.has_ints() ? tv.ints().values_size()
                            : tv.has_longints() ? tv.longints().values_size()
                            : tv.has_bools() ? tv.bools().values_size()
                            : tv.has_bytes() ? static_cast<int64_t>(tv.bytes().values().size() / ir::dtype_size(type.dtype))
                                             : -1;
    if (payload >= 0 && payload != n) check(payload);
    ir::Tensor t = ir::Tensor::zeros(type.dtype, type.shape);
    if (tv.has_floats()) {
      check(tv.floats().values_size());
      if (type.dtype != DType::F32) throw CoreMLError(where + ": float data for a non-fp32 type");
      std::copy(tv.floats().values().begin(), tv.floats().values().end(), t.mutable_as<float>());
    } else if (tv.has_doubles()) {
      check(tv.doubles().values_size());
      if (type.dtype != DType::F32) throw CoreMLError(where + ": double data for a non-float type");
      for (int64_t i = 0; i < n; ++i) t.mutable_as<float>()[i] = static_cast<float>(tv.doubles().values(static_cast<int>(i)));
    } else if (tv.has_ints() || tv.has_longints()) {
      const int64_t got = tv.has_ints() ? tv.ints().values_size() : tv.longints().values_size();
      check(got);
      if (type.dtype != DType::I32) throw CoreMLError(where + ": integer data for a non-integer type");
      for (int64_t i = 0; i < n; ++i) {
        const int64_t e = tv.has_ints() ? tv.ints().values(static_cast<int>(i)) : tv.longints().values(static_cast<int>(i));
        t.mutable_as<int32_t>()[i] = static_cast<int32_t>(std::clamp<int64_t>(e, INT32_MIN, INT32_MAX));
      }
    } else if (tv.has_bools()) {
      check(tv.bools().values_size());
      if (type.dtype != DType::Bool) throw CoreMLError(where + ": bool data for a non-bool type");
      for (int64_t i = 0; i < n; ++i) t.mutable_as<uint8_t>()[i] = tv.bools().values(static_cast<int>(i)) ? 1 : 0;
    } else if (tv.has_bytes()) {
      const std::string& b = tv.bytes().values();
      if (b.size() != t.nbytes())
        throw CoreMLError(where + ": " + std::to_string(b.size()) + " bytes of data, its type needs " + std::to_string(t.nbytes()));
      std::memcpy(t.mutable_data(), b.data(), b.size());
    } else {
      throw CoreMLError(where + ": value has no data");
    }
    return t;
  }

  Entry& entry(const std::string& name, const MIL::Operation& op) {
    auto it = values_.find(name);
    if (it == values_.end()) fail(op, "uses undefined value '" + name + "'");
    return it->second;
  }

  const MIL::Argument* arg(const MIL::Operation& op, const std::string& key) const {
    auto it = op.inputs().find(key);
    return it == op.inputs().end() || it->second.arguments_size() == 0 ? nullptr : &it->second;
  }
  bool has(const MIL::Operation& op, const std::string& key) const { return arg(op, key) != nullptr; }

  ir::Value* materialize(Entry& e) {
    if (!e.value) e.value = g.constant(*e.constant);
    return e.value;
  }

  ir::Value* binding_value(const MIL::Argument::Binding& bnd, const MIL::Operation& op, const std::string& key) {
    if (bnd.has_value()) return g.constant(decode(bnd.value(), file_ + ": op " + op_name(op) + " input " + key));
    Entry& e = entry(bnd.name(), op);
    if (e.text) fail(op, "input '" + key + "' is a string");
    return materialize(e);
  }

  ir::Value* x(const MIL::Operation& op, const std::string& key = "x") {
    const MIL::Argument* a = arg(op, key);
    if (!a) fail(op, "missing input '" + key + "'");
    if (a->arguments_size() != 1) fail(op, "input '" + key + "' must be a single value");
    return binding_value(a->arguments(0), op, key);
  }
  ir::Value* opt(const MIL::Operation& op, const std::string& key) { return has(op, key) ? x(op, key) : nullptr; }
  // Parameter `key` in the dtype of `like` (iOS17 ops accept fp16 weights
  // with fp32 activations and vice versa; the IR wants equal dtypes).
  ir::Value* x_as(const MIL::Operation& op, const std::string& key, const ir::Value* like) {
    return has(op, key) ? x_like(op, key, like) : nullptr;
  }
  ir::Value* x_like(const MIL::Operation& op, const std::string& key, const ir::Value* like) {
    ir::Value* v = x(op, key);
    if (v->type.dtype == like->type.dtype || !ir::is_float(v->type.dtype) || !ir::is_float(like->type.dtype)) return v;
    return g.add1("cast", {v}, {{"dtype", std::string(ir::dtype_name(like->type.dtype))}});
  }

  std::vector<ir::Value*> xs(const MIL::Operation& op, const std::string& key) {
    const MIL::Argument* a = arg(op, key);
    if (!a) fail(op, "missing input '" + key + "'");
    std::vector<ir::Value*> out;
    for (const auto& bnd : a->arguments()) out.push_back(binding_value(bnd, op, key));
    return out;
  }

  // Constant parameter (const op or inline value); nullptr when absent.
  std::optional<ir::Tensor> param(const MIL::Operation& op, const std::string& key) {
    const MIL::Argument* a = arg(op, key);
    if (!a) return std::nullopt;
    const auto& bnd = a->arguments(0);
    if (bnd.has_value()) return decode(bnd.value(), file_ + ": op " + op_name(op) + " input " + key);
    Entry& e = entry(bnd.name(), op);
    if (!e.constant) fail(op, "input '" + key + "' must be a constant");
    return e.constant;
  }
  std::vector<int64_t> ints(const MIL::Operation& op, const std::string& key, std::optional<std::vector<int64_t>> fallback = std::nullopt) {
    auto t = param(op, key);
    if (!t) {
      if (fallback) return *fallback;
      fail(op, "missing input '" + key + "'");
    }
    std::vector<int64_t> v(static_cast<size_t>(t->numel()));
    for (int64_t i = 0; i < t->numel(); ++i) v[static_cast<size_t>(i)] = t->element_as_int(i);
    return v;
  }
  int64_t i(const MIL::Operation& op, const std::string& key, std::optional<int64_t> fallback = std::nullopt) {
    auto t = param(op, key);
    if (!t) {
      if (fallback) return *fallback;
      fail(op, "missing input '" + key + "'");
    }
    if (t->numel() != 1) fail(op, "input '" + key + "' must be a scalar");
    return t->element_as_int(0);
  }
  double f(const MIL::Operation& op, const std::string& key, std::optional<double> fallback = std::nullopt) {
    auto t = param(op, key);
    if (!t) {
      if (fallback) return *fallback;
      fail(op, "missing input '" + key + "'");
    }
    if (t->numel() != 1) fail(op, "input '" + key + "' must be a scalar");
    return t->element_as_double(0);
  }
  bool flag(const MIL::Operation& op, const std::string& key, bool fallback) { return i(op, key, fallback ? 1 : 0) != 0; }
  std::string s(const MIL::Operation& op, const std::string& key, std::optional<std::string> fallback = std::nullopt) {
    const MIL::Argument* a = arg(op, key);
    if (!a) {
      if (fallback) return *fallback;
      fail(op, "missing input '" + key + "'");
    }
    const auto& bnd = a->arguments(0);
    if (bnd.has_value()) {
      const auto& tv = bnd.value().immediatevalue().tensor();
      if (tv.strings().values_size() == 1) return tv.strings().values(0);
      fail(op, "input '" + key + "' must be a string");
    }
    Entry& e = entry(bnd.name(), op);
    if (!e.text) fail(op, "input '" + key + "' must be a constant string");
    return *e.text;
  }

  // Scalar constant in `dtype` (f32/f16/i32).
  ir::Value* scalar(double v, DType dtype) {
    ir::Tensor t = ir::Tensor::scalar_f32(static_cast<float>(v));
    return g.constant(dtype == DType::F32 ? t : t.cast(dtype));
  }

  ir::Value* add(const std::string& op, std::vector<ir::Value*> in, ir::Attrs attrs = {}) {
    return g.add1(op, std::move(in), std::move(attrs));
  }

  // Binds output `k` of `op`, checking it against the declared type.
  void define(const MIL::Operation& op, ir::Value* v, int k = 0) {
    if (k >= op.outputs_size()) fail(op, "has fewer outputs than expected");
    const auto& out = op.outputs(k);
    bool known = true;
    const ir::TensorType declared = tensor_type(out.type(), file_ + ": op " + op_name(op) + " output", &known);
    if (declared.dtype != v->type.dtype || (known && declared.shape != v->type.shape))
      fail(op, "declares output " + declared.to_string() + " but computes " + v->type.to_string());
    if (values_.count(out.name())) fail(op, "redefines value '" + out.name() + "'");
    values_[out.name()].value = v;
  }
  // Binds output `k` without a type check (outputs IR cannot type, e.g.
  // classify's label string and probability dictionary).
  void define_as(const MIL::Operation& op, ir::Value* v, int k) {
    if (k >= op.outputs_size()) fail(op, "has fewer outputs than expected");
    const std::string& name = op.outputs(k).name();
    if (values_.count(name)) fail(op, "redefines value '" + name + "'");
    values_[name].value = v;
  }
  const Shape& shape(ir::Value* v) const { return v->type.shape; }
  // Declared shape of output k when fully known.
  std::optional<Shape> declared_shape(const MIL::Operation& op, int k = 0) {
    bool known = true;
    if (k >= op.outputs_size()) return std::nullopt;
    ir::TensorType t = tensor_type(op.outputs(k).type(), file_, &known);
    return known ? std::optional<Shape>(t.shape) : std::nullopt;
  }

  void read_const(const MIL::Operation& op) {
    auto it = op.attributes().find("val");
    if (it == op.attributes().end() || op.outputs_size() != 1) fail(op, "const needs one output and a 'val' attribute");
    const std::string& name = op.outputs(0).name();
    if (values_.count(name)) fail(op, "redefines value '" + name + "'");
    const MIL::Value& v = it->second;
    if (v.type().tensortype().datatype() == MIL::STRING) {
      const auto& strs = v.immediatevalue().tensor().strings();
      if (strs.values_size() != 1) fail(op, "string const must hold one string");
      values_[name].text = strs.values(0);
      return;
    }
    values_[name].constant = decode(v, file_ + ": const '" + name + "'");
  }

  void read_block(const MIL::Function& fn, const MIL::Block& block) {
    for (const auto& in : fn.inputs()) {
      const std::string where = file_ + ": input '" + in.name() + "'";
      values_[in.name()].value = g.add_input(in.name(), tensor_type(in.type(), where));
    }
    const auto& table = read_table();
    for (const auto& op : block.operations()) {
      auto it = table.find(op.type());
      if (op.type() != "const" && it == table.end()) fail(op, "this MIL op is not supported by the reader");
      try {
        if (op.type() == "const") read_const(op);
        else it->second(*this, op);
      } catch (const CoreMLError&) {
        throw;
      } catch (const std::exception& e) {  // IrError, out_of_range from malformed parameters
        fail(op, e.what());
      }
    }
    for (const auto& name : block.outputs()) {
      auto it = values_.find(name);
      if (it == values_.end()) throw CoreMLError(file_ + ": block output '" + name + "' is not defined");
      if (it->second.text) throw CoreMLError(file_ + ": block output '" + name + "' is a string");
      g.add_output(materialize(it->second), name);
    }
  }

 private:
  const Package& pkg_;
  std::string file_;
  std::unordered_map<std::string, Entry> values_;
  std::unique_ptr<BlobStorageReader> blobs_;
};

using R = ProgramReader;
using Op = MIL::Operation;

std::vector<int64_t> normalized(std::vector<int64_t> axes, int64_t rank) {
  for (auto& a : axes) a = ir::normalize_axis(a, rank);
  return axes;
}

// MIL interleaved pads -> IR [begin..., end...]; pad_type resolved.
std::vector<int64_t> conv_pads(R& r, const Op& op, const Shape& in, const std::vector<int64_t>& kernel,
                               const std::vector<int64_t>& strides, const std::vector<int64_t>& dil) {
  const size_t n = kernel.size();
  const std::string type = r.s(op, "pad_type", op.type() == "conv" || op.type() == "conv_transpose" ? "valid" : "valid");
  std::vector<int64_t> out(2 * n, 0);
  if (type == "custom") {
    const auto p = r.ints(op, "pad", std::vector<int64_t>(2 * n, 0));
    if (p.size() != 2 * n) r.fail(op, "pad needs " + std::to_string(2 * n) + " values");
    for (size_t i = 0; i < n; ++i) {
      out[i] = p[2 * i];
      out[n + i] = p[2 * i + 1];
    }
  } else if (type == "same" || type == "same_lower") {
    for (size_t i = 0; i < n; ++i) {
      const int64_t x = in[2 + i], s = strides[i];
      const int64_t o = (x + s - 1) / s;
      const int64_t total = std::max<int64_t>((o - 1) * s + (kernel[i] - 1) * dil[i] + 1 - x, 0);
      out[i] = type == "same" ? total / 2 : total - total / 2;
      out[n + i] = total - out[i];
    }
  } else if (type != "valid") {
    r.fail(op, "unknown pad_type '" + type + "'");
  }
  return out;
}

void binary(R& r, const Op& op, const char* ir_op) { r.define(op, r.add(ir_op, {r.x(op, "x"), r.x(op, "y")})); }
void unary(R& r, const Op& op, const char* ir_op) { r.define(op, r.add(ir_op, {r.x(op)})); }

void eps_unary(R& r, const Op& op, const char* ir_op, double default_eps) {
  ir::Value* x = r.x(op);
  const double eps = r.f(op, "epsilon", default_eps);
  ir::Value* v = eps == 0.0 ? x : r.add("add", {x, r.scalar(eps, x->type.dtype)});
  r.define(op, r.add(ir_op, {v}));
}

void reduce(R& r, const Op& op, const char* ir_op) {
  ir::Value* x = r.x(op);
  const auto axes = normalized(r.ints(op, "axes", std::vector<int64_t>{}), x->type.rank());
  r.define(op, r.add(ir_op, {x}, {{"axes", axes}, {"keepdims", int64_t{r.flag(op, "keep_dims", false)}}}));
}

void arg_reduce(R& r, const Op& op, const char* ir_op) {
  ir::Value* x = r.x(op);
  const int64_t axis = ir::normalize_axis(r.i(op, "axis", -1), x->type.rank());
  ir::Value* a = r.add(ir_op, {x}, {{"axis", axis}, {"keepdims", int64_t{r.flag(op, "keep_dims", false)}}});
  r.define(op, r.add("cast", {a}, {{"dtype", std::string("i32")}}));  // MIL returns int32
}

void pool(R& r, const Op& op, const char* ir_op) {
  ir::Value* x = r.x(op);
  const auto kernel = r.ints(op, "kernel_sizes");
  const auto strides = r.ints(op, "strides", std::vector<int64_t>(kernel.size(), 1));
  if (x->type.rank() < 3 || kernel.size() != static_cast<size_t>(x->type.rank() - 2) || strides.size() != kernel.size())
    r.fail(op, "kernel_sizes/strides must have one value per spatial axis of x");
  const auto pads = conv_pads(r, op, x->type.shape, kernel, strides, std::vector<int64_t>(kernel.size(), 1));
  ir::Attrs a{{"kernel", kernel}, {"strides", strides}, {"pads", pads},
              {"ceil_mode", int64_t{r.flag(op, "ceil_mode", false)}}};
  if (op.type() == "avg_pool") a.set("count_include_pad", int64_t{!r.flag(op, "exclude_padding_from_average", false)});
  r.define(op, r.add(ir_op, {x}, a));
}

size_t spatial_rank(R& r, const Op& op, const ir::Value* x, const ir::Value* w) {
  if (x->type.rank() < 3 || w->type.rank() != x->type.rank())
    r.fail(op, "x and weight must have the same rank (>= 3)");
  return static_cast<size_t>(w->type.rank() - 2);
}

void check_sizes(R& r, const Op& op, size_t n, std::initializer_list<const std::vector<int64_t>*> params) {
  for (const auto* p : params)
    if (p->size() != n) r.fail(op, "strides/dilations need one value per spatial axis");
}

void require_rank4(R& r, const Op& op, const ir::Value* x) {
  if (x->type.rank() != 4) r.fail(op, "x must have rank 4");
}

void reshape_to_declared(R& r, const Op& op, ir::Value* x, Shape computed) {
  auto d = r.declared_shape(op);
  r.define(op, r.add("reshape", {x}, {{"shape", d ? *d : computed}}));
}

ir::Value* resize_to(R& r, const Op& op, ir::Value* x, const std::string& mode, int64_t h, int64_t w, bool align) {
  return r.add("resize", {x}, {{"mode", mode}, {"sizes", std::vector<int64_t>{h, w}}, {"align_corners", int64_t{align}}});
}

const std::unordered_map<std::string, ReadFn>& read_table() {
  static const std::unordered_map<std::string, ReadFn> table = [] {
    std::unordered_map<std::string, ReadFn> t;
    const std::pair<const char*, const char*> binaries[] = {
        {"add", "add"}, {"sub", "sub"}, {"mul", "mul"}, {"real_div", "div"}, {"floor_div", "floor_div"},
        {"mod", "mod"}, {"pow", "pow"}, {"maximum", "maximum"}, {"minimum", "minimum"}, {"equal", "equal"},
        {"not_equal", "not_equal"}, {"less", "less"}, {"less_equal", "less_equal"}, {"greater", "greater"},
        {"greater_equal", "greater_equal"}, {"logical_and", "logical_and"}, {"logical_or", "logical_or"},
        {"logical_xor", "logical_xor"}};
    // Not a structured binding: clang 14 cannot capture one in a lambda.
    for (const auto& b : binaries) t[b.first] = [ir_op = b.second](R& r, const Op& op) { binary(r, op, ir_op); };
    const char* unaries[] = {"abs", "exp", "sqrt", "sin", "cos", "tanh", "sigmoid", "erf", "floor", "ceil",
                             "round", "sign", "relu", "silu", "logical_not", "identity"};
    for (const char* u : unaries) t[u] = [u](R& r, const Op& op) { unary(r, op, u); };
    t["log"] = [](R& r, const Op& op) { eps_unary(r, op, "log", 0.0); };
    t["rsqrt"] = [](R& r, const Op& op) { eps_unary(r, op, "rsqrt", 1e-12); };
    t["inverse"] = [](R& r, const Op& op) { eps_unary(r, op, "reciprocal", 1e-4); };
    t["square"] = [](R& r, const Op& op) { ir::Value* x = r.x(op); r.define(op, r.add("mul", {x, x})); };
    t["relu6"] = [](R& r, const Op& op) { r.define(op, r.add("clamp", {r.x(op)}, {{"min", 0.0}, {"max", 6.0}})); };
    t["gelu"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      const std::string mode = r.s(op, "mode", "EXACT");
      if (mode == "SIGMOID_APPROXIMATION") {
        ir::Value* s = r.add("sigmoid", {r.add("mul", {x, r.scalar(1.702, x->type.dtype)})});
        r.define(op, r.add("mul", {x, s}));
        return;
      }
      r.define(op, r.add("gelu", {x}, {{"approximate", std::string(mode == "TANH_APPROXIMATION" ? "tanh" : "none")}}));
    };
    t["softplus"] = [](R& r, const Op& op) {
      r.define(op, r.add("softplus", {r.x(op)}, {{"beta", 1.0}, {"threshold", 3.0e38}}));
    };
    t["sigmoid_hard"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      const double alpha = r.f(op, "alpha", 0.2), beta = r.f(op, "beta", 0.5);
      ir::Value* y = r.add("add", {r.add("mul", {x, r.scalar(alpha, x->type.dtype)}), r.scalar(beta, x->type.dtype)});
      r.define(op, r.add("clamp", {y}, {{"min", 0.0}, {"max", 1.0}}));
    };
    t["clip"] = [](R& r, const Op& op) {
      r.define(op, r.add("clamp", {r.x(op)}, {{"min", r.f(op, "alpha")}, {"max", r.f(op, "beta")}}));
    };
    t["leaky_relu"] = [](R& r, const Op& op) { r.define(op, r.add("leaky_relu", {r.x(op)}, {{"alpha", r.f(op, "alpha", 0.01)}})); };
    t["elu"] = [](R& r, const Op& op) { r.define(op, r.add("elu", {r.x(op)}, {{"alpha", r.f(op, "alpha", 1.0)}})); };
    t["cast"] = [](R& r, const Op& op) {
      static const std::map<std::string, std::string> names = {
          {"fp32", "f32"}, {"fp64", "f32"}, {"fp16", "f16"}, {"int32", "i32"}, {"int64", "i32"}, {"int16", "i32"},
          {"uint16", "i32"}, {"bool", "bool"}, {"int8", "i8"}, {"uint8", "u8"}};
      const std::string to = r.s(op, "dtype");
      auto it = names.find(to);
      if (it == names.end()) r.fail(op, "unsupported cast dtype '" + to + "'");
      r.define(op, r.add("cast", {r.x(op)}, {{"dtype", it->second}}));
    };
    t["select"] = [](R& r, const Op& op) { r.define(op, r.add("where", {r.x(op, "cond"), r.x(op, "a"), r.x(op, "b")})); };
    t["matmul"] = [](R& r, const Op& op) {
      ir::Value* a = r.x(op, "x");
      ir::Value* b = r.x_like(op, "y", a);
      auto swap_last = [&](ir::Value* v) {
        std::vector<int64_t> perm(static_cast<size_t>(v->type.rank()));
        std::iota(perm.begin(), perm.end(), 0);
        if (perm.size() < 2) r.fail(op, "transposed operand must have rank >= 2");
        std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
        return r.add("transpose", {v}, {{"perm", perm}});
      };
      if (r.flag(op, "transpose_x", false)) a = swap_last(a);
      if (r.flag(op, "transpose_y", false)) b = swap_last(b);
      r.define(op, r.add("matmul", {a, b}));
    };
    t["linear"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      r.define(op, r.add("linear", {x, r.x_like(op, "weight", x), r.x_as(op, "bias", x)}));
    };
    t["conv"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      ir::Value* w = r.x_like(op, "weight", x);
      const size_t n = spatial_rank(r, op, x, w);
      std::vector<int64_t> kernel(w->type.shape.begin() + 2, w->type.shape.end());
      const auto strides = r.ints(op, "strides", std::vector<int64_t>(n, 1));
      const auto dil = r.ints(op, "dilations", std::vector<int64_t>(n, 1));
      check_sizes(r, op, n, {&strides, &dil});
      const auto pads = conv_pads(r, op, x->type.shape, kernel, strides, dil);
      r.define(op, r.add("conv", {x, w, r.x_as(op, "bias", x)},
                         {{"strides", strides}, {"dilations", dil}, {"pads", pads}, {"groups", r.i(op, "groups", 1)}}));
    };
    t["conv_transpose"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      ir::Value* w = r.x_like(op, "weight", x);
      const size_t n = spatial_rank(r, op, x, w);
      const auto strides = r.ints(op, "strides", std::vector<int64_t>(n, 1));
      const auto dil = r.ints(op, "dilations", std::vector<int64_t>(n, 1));
      check_sizes(r, op, n, {&strides, &dil});
      const std::string type = r.s(op, "pad_type", "valid");
      if (type != "custom" && type != "valid") r.fail(op, "pad_type '" + type + "' is not supported");
      std::vector<int64_t> pads(2 * n, 0);
      if (type == "custom") {
        const auto p = r.ints(op, "pad");
        if (p.size() != 2 * n) r.fail(op, "pad needs two values per spatial axis");
        for (size_t i = 0; i < n; ++i) { pads[i] = p[2 * i]; pads[n + i] = p[2 * i + 1]; }
      }
      std::vector<int64_t> out_pad(n, 0);
      if (auto d = r.declared_shape(op); d && d->size() == n + 2) {
        for (size_t i = 0; i < n; ++i) {
          const int64_t base = (x->type.shape[2 + i] - 1) * strides[i] - pads[i] - pads[n + i] +
                               dil[i] * (w->type.shape[2 + i] - 1) + 1;
          out_pad[i] = (*d)[2 + i] - base;
        }
      }
      r.define(op, r.add("conv_transpose", {x, w, r.x_as(op, "bias", x)},
                         {{"strides", strides}, {"dilations", dil}, {"pads", pads}, {"output_padding", out_pad},
                          {"groups", r.i(op, "groups", 1)}}));
    };
    t["layer_norm"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      auto axes = normalized(r.ints(op, "axes", std::vector<int64_t>{}), x->type.rank());
      if (axes.empty()) axes = std::vector<int64_t>{};
      std::sort(axes.begin(), axes.end());
      r.define(op, r.add("layer_norm", {x, r.x_as(op, "gamma", x), r.x_as(op, "beta", x)},
                         {{"axes", axes}, {"epsilon", r.f(op, "epsilon", 1e-5)}}));
    };
    t["instance_norm"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      r.define(op, r.add("group_norm", {x, r.x_as(op, "gamma", x), r.x_as(op, "beta", x)},
                         {{"groups", x->type.shape.at(1)}, {"epsilon", r.f(op, "epsilon", 1e-5)}}));
    };
    t["batch_norm"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      r.define(op, r.add("batch_norm", {x, r.x_like(op, "mean", x), r.x_like(op, "variance", x), r.x_as(op, "gamma", x), r.x_as(op, "beta", x)},
                         {{"epsilon", r.f(op, "epsilon", 1e-5)}}));
    };
    t["softmax"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      r.define(op, r.add("softmax", {x}, {{"axis", ir::normalize_axis(r.i(op, "axis", -1), x->type.rank())}}));
    };
    for (const char* red : {"reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod"})
      t[red] = [red](R& r, const Op& op) { reduce(r, op, red); };
    t["reduce_log_sum_exp"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      auto axes = normalized(r.ints(op, "axes", std::vector<int64_t>{}), x->type.rank());
      const bool keep = r.flag(op, "keep_dims", false);
      ir::Value* m = r.add("reduce_max", {x}, {{"axes", axes}, {"keepdims", int64_t{1}}});
      ir::Value* s = r.add("reduce_sum", {r.add("exp", {r.add("sub", {x, m})})}, {{"axes", axes}, {"keepdims", int64_t{1}}});
      ir::Value* y = r.add("add", {r.add("log", {s}), m});
      if (!keep) {
        Shape out;
        for (int64_t i = 0; i < x->type.rank(); ++i)
          if ((axes.empty()) || std::find(axes.begin(), axes.end(), i) == axes.end()) out.push_back(x->type.shape[static_cast<size_t>(i)]);
        if (axes.empty()) out.clear();
        y = r.add("reshape", {y}, {{"shape", out}});
      }
      r.define(op, y);
    };
    t["reduce_sum_square"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      const auto axes = normalized(r.ints(op, "axes", std::vector<int64_t>{}), x->type.rank());
      r.define(op, r.add("reduce_sum", {r.add("mul", {x, x})}, {{"axes", axes}, {"keepdims", int64_t{r.flag(op, "keep_dims", false)}}}));
    };
    t["reduce_argmax"] = [](R& r, const Op& op) { arg_reduce(r, op, "argmax"); };
    t["reduce_argmin"] = [](R& r, const Op& op) { arg_reduce(r, op, "argmin"); };
    t["cumsum"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      r.define(op, r.add("cumsum", {x}, {{"axis", ir::normalize_axis(r.i(op, "axis", 0), x->type.rank())},
                                         {"exclusive", int64_t{r.flag(op, "exclusive", false)}},
                                         {"reverse", int64_t{r.flag(op, "reverse", false)}}}));
    };
    t["reshape"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      auto shape = r.ints(op, "shape");
      int64_t known = 1, infer = -1;
      for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == -1) infer = static_cast<int64_t>(i);
        else known *= shape[i];
      }
      if (infer >= 0 && known > 0) shape[static_cast<size_t>(infer)] = x->type.numel() / known;
      reshape_to_declared(r, op, x, shape);
    };
    t["expand_dims"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      auto axes = r.ints(op, "axes");
      const int64_t rank = x->type.rank() + static_cast<int64_t>(axes.size());
      axes = normalized(axes, rank);
      std::sort(axes.begin(), axes.end());
      Shape s = x->type.shape;
      for (int64_t a : axes) s.insert(s.begin() + a, 1);
      reshape_to_declared(r, op, x, s);
    };
    t["squeeze"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      auto axes = normalized(r.ints(op, "axes", std::vector<int64_t>{}), x->type.rank());
      Shape s;
      for (int64_t i = 0; i < x->type.rank(); ++i) {
        const bool drop = axes.empty() ? x->type.shape[static_cast<size_t>(i)] == 1
                                       : std::find(axes.begin(), axes.end(), i) != axes.end();
        if (!drop) s.push_back(x->type.shape[static_cast<size_t>(i)]);
      }
      reshape_to_declared(r, op, x, s);
    };
    t["transpose"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      r.define(op, r.add("transpose", {x}, {{"perm", normalized(r.ints(op, "perm"), x->type.rank())}}));
    };
    t["slice_by_index"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      const size_t rank = static_cast<size_t>(x->type.rank());
      const auto begin = r.ints(op, "begin"), end = r.ints(op, "end");
      const auto stride = r.ints(op, "stride", std::vector<int64_t>(rank, 1));
      auto mask = [&](const char* key) {
        auto v = r.ints(op, key, std::vector<int64_t>(rank, 0));
        if (v.size() != rank) r.fail(op, std::string(key) + " needs one value per axis");
        return v;
      };
      const auto bm = mask("begin_mask"), em = mask("end_mask"), sm = mask("squeeze_mask");
      if (begin.size() != rank || end.size() != rank || stride.size() != rank) r.fail(op, "begin/end/stride need one value per axis");
      std::vector<int64_t> axes, starts, ends, steps;
      Shape squeezed;
      for (size_t a = 0; a < rank; ++a) {
        const int64_t dim = x->type.shape[a];
        if (stride[a] <= 0) r.fail(op, "negative or zero strides are not supported");
        int64_t b = bm[a] ? 0 : begin[a], e = em[a] ? dim : end[a];
        if (b < 0) b += dim;
        if (e < 0) e += dim;
        b = std::clamp<int64_t>(b, 0, dim);
        e = std::clamp<int64_t>(e, 0, dim);
        if (sm[a]) e = std::min(b + 1, dim);
        if (e < b) e = b;
        if (b != 0 || e != dim || stride[a] != 1) {
          axes.push_back(static_cast<int64_t>(a));
          starts.push_back(b);
          ends.push_back(e);
          steps.push_back(stride[a]);
        }
        if (!sm[a]) squeezed.push_back((e - b + stride[a] - 1) / stride[a]);
      }
      ir::Value* y = axes.empty() ? x : r.add("slice", {x}, {{"axes", axes}, {"starts", starts}, {"ends", ends}, {"steps", steps}});
      if (std::any_of(sm.begin(), sm.end(), [](int64_t v) { return v != 0; })) y = r.add("reshape", {y}, {{"shape", squeezed}});
      else if (axes.empty()) y = r.add("identity", {y});
      r.define(op, y);
    };
    t["slice_by_size"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      const auto begin = r.ints(op, "begin"), size = r.ints(op, "size");
      if (begin.size() != x->type.shape.size() || size.size() != begin.size()) r.fail(op, "begin/size need one value per axis");
      std::vector<int64_t> axes, starts, ends;
      for (size_t a = 0; a < begin.size() && a < x->type.shape.size(); ++a) {
        const int64_t dim = x->type.shape[a];
        const int64_t b = begin[a] < 0 ? begin[a] + dim : begin[a];
        const int64_t e = size[a] < 0 ? dim : std::min(b + size[a], dim);
        axes.push_back(static_cast<int64_t>(a));
        starts.push_back(b);
        ends.push_back(e);
      }
      r.define(op, r.add("slice", {x}, {{"axes", axes}, {"starts", starts}, {"ends", ends},
                                        {"steps", std::vector<int64_t>(axes.size(), 1)}}));
    };
    t["concat"] = [](R& r, const Op& op) {
      auto values = r.xs(op, "values");
      if (r.flag(op, "interleave", false)) r.fail(op, "interleaved concat is not supported");
      r.define(op, r.add("concat", values, {{"axis", ir::normalize_axis(r.i(op, "axis"), values.at(0)->type.rank())}}));
    };
    t["stack"] = [](R& r, const Op& op) {
      auto values = r.xs(op, "values");
      const int64_t axis = ir::normalize_axis(r.i(op, "axis", 0), values.at(0)->type.rank() + 1);
      for (auto& v : values) {
        Shape s = v->type.shape;
        s.insert(s.begin() + axis, 1);
        v = r.add("reshape", {v}, {{"shape", s}});
      }
      r.define(op, r.add("concat", values, {{"axis", axis}}));
    };
    t["split"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      const int64_t axis = ir::normalize_axis(r.i(op, "axis"), x->type.rank());
      const int64_t dim = x->type.shape[static_cast<size_t>(axis)];
      std::vector<int64_t> sizes = r.ints(op, "split_sizes", std::vector<int64_t>{});
      if (sizes.empty()) {
        const int64_t n = r.i(op, "num_splits", op.outputs_size());
        if (n <= 0 || dim % n != 0) r.fail(op, "cannot split evenly");
        sizes.assign(static_cast<size_t>(n), dim / n);
      }
      if (static_cast<int>(sizes.size()) != op.outputs_size()) r.fail(op, "split sizes do not match the outputs");
      int64_t start = 0;
      for (size_t k = 0; k < sizes.size(); ++k) {
        r.define(op, r.add("slice", {x}, {{"axes", std::vector<int64_t>{axis}}, {"starts", std::vector<int64_t>{start}},
                                          {"ends", std::vector<int64_t>{start + sizes[k]}}, {"steps", std::vector<int64_t>{1}}}),
                 static_cast<int>(k));
        start += sizes[k];
      }
    };
    t["tile"] = [](R& r, const Op& op) { r.define(op, r.add("tile", {r.x(op)}, {{"repeats", r.ints(op, "reps")}})); };
    t["reverse"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      auto axes = normalized(r.ints(op, "axes", std::vector<int64_t>{}), x->type.rank());
      if (axes.empty()) { axes.resize(static_cast<size_t>(x->type.rank())); std::iota(axes.begin(), axes.end(), 0); }
      r.define(op, r.add("flip", {x}, {{"axes", axes}}));
    };
    t["gather"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      if (r.i(op, "batch_dims", 0) != 0) r.fail(op, "batch_dims is not supported");
      r.define(op, r.add("gather", {x, r.x(op, "indices")}, {{"axis", ir::normalize_axis(r.i(op, "axis", 0), x->type.rank())}}));
    };
    t["gather_along_axis"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      r.define(op, r.add("gather_elements", {x, r.x(op, "indices")}, {{"axis", ir::normalize_axis(r.i(op, "axis", 0), x->type.rank())}}));
    };
    t["scatter_along_axis"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op, "data");
      if (r.s(op, "mode", "add") != "update") r.fail(op, "only mode 'update' is supported");
      r.define(op, r.add("scatter_elements", {x, r.x(op, "indices"), r.x(op, "updates")},
                         {{"axis", ir::normalize_axis(r.i(op, "axis", 0), x->type.rank())}}));
    };
    t["pad"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      const auto p = r.ints(op, "pad");
      const size_t rank = static_cast<size_t>(x->type.rank()), n = p.size() / 2;
      if (p.size() % 2 || n > rank) r.fail(op, "pad must hold two values per padded axis");
      std::vector<int64_t> pads(2 * rank, 0);
      for (size_t k = 0; k < n; ++k) {
        pads[rank - n + k] = p[2 * k];
        pads[2 * rank - n + k] = p[2 * k + 1];
      }
      r.define(op, r.add("pad", {x}, {{"pads", pads}, {"mode", r.s(op, "mode", "constant")}, {"value", r.f(op, "constant_val", 0.0)}}));
    };
    t["upsample_nearest_neighbor"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      require_rank4(r, op, x);
      const Shape& s = x->type.shape;
      auto d = r.declared_shape(op);
      if (d && d->size() != 4) d.reset();
      const int64_t h = d ? (*d)[2] : static_cast<int64_t>(std::floor(s[2] * r.f(op, "scale_factor_height", 1.0)));
      const int64_t w = d ? (*d)[3] : static_cast<int64_t>(std::floor(s[3] * r.f(op, "scale_factor_width", 1.0)));
      r.define(op, resize_to(r, op, x, "nearest", h, w, false));
    };
    t["resize_nearest_neighbor"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      require_rank4(r, op, x);
      r.define(op, resize_to(r, op, x, "nearest", r.i(op, "target_size_height", 1), r.i(op, "target_size_width", 1), false));
    };
    t["upsample_bilinear"] = [](R& r, const Op& op) {
      ir::Value* x = r.x(op);
      require_rank4(r, op, x);
      const Shape& s = x->type.shape;
      auto d = r.declared_shape(op);
      if (d && d->size() != 4) d.reset();
      const int64_t h = d ? (*d)[2] : static_cast<int64_t>(std::floor(s[2] * r.f(op, "scale_factor_height", 1.0)));
      const int64_t w = d ? (*d)[3] : static_cast<int64_t>(std::floor(s[3] * r.f(op, "scale_factor_width", 1.0)));
      r.define(op, resize_to(r, op, x, "linear", h, w, r.flag(op, "align_corners", true)));
    };
    t["resize_bilinear"] = [](R& r, const Op& op) {
      const std::string mode = r.s(op, "sampling_mode", "DEFAULT");
      bool align = false;
      if (mode == "ALIGN_CORNERS" || mode == "STRICT_ALIGN_CORNERS") align = true;
      else if (mode != "UNALIGN_CORNERS") r.fail(op, "sampling_mode '" + mode + "' is not supported");
      ir::Value* x = r.x(op);
      require_rank4(r, op, x);
      r.define(op, resize_to(r, op, x, "linear", r.i(op, "target_size_height", 1), r.i(op, "target_size_width", 1), align));
    };
    t["scaled_dot_product_attention"] = [](R& r, const Op& op) {
      // softmax(q @ k^T / sqrt(d) + mask) @ v; a bool mask keeps where true.
      ir::Value* q = r.x(op, "query");
      ir::Value* k = r.x(op, "key");
      ir::Value* v = r.x(op, "value");
      const DType dt = q->type.dtype;
      const int64_t rank = k->type.rank();
      if (rank < 2) r.fail(op, "key must have rank >= 2");
      std::vector<int64_t> perm(static_cast<size_t>(rank));
      std::iota(perm.begin(), perm.end(), 0);
      std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
      ir::Value* s = r.add("matmul", {q, r.add("transpose", {k}, {{"perm", perm}})});
      s = r.add("mul", {s, r.scalar(1.0 / std::sqrt(static_cast<double>(q->type.shape.back())), dt)});
      if (ir::Value* mask = r.opt(op, "attn_mask")) {
        if (mask->type.dtype == DType::Bool)
          s = r.add("where", {mask, s, r.scalar(-std::numeric_limits<float>::infinity(), dt)});
        else
          s = r.add("add", {s, mask->type.dtype == dt ? mask : r.add("cast", {mask}, {{"dtype", std::string(ir::dtype_name(dt))}})});
      }
      ir::Value* p = r.add("softmax", {s}, {{"axis", s->type.rank() - 1}});
      r.define(op, r.add("matmul", {p, v}));
    };
    t["classify"] = [](R& r, const Op& op) {
      // IR has no strings or dictionaries: the label becomes the index of the
      // most probable class (i32) and the dictionary the probability tensor.
      ir::Value* p = r.x(op, "probabilities");
      ir::Value* flat = r.add("reshape", {p}, {{"shape", std::vector<int64_t>{p->type.numel()}}});
      ir::Value* idx = r.add("argmax", {flat}, {{"axis", int64_t{0}}, {"keepdims", int64_t{0}}});
      r.define_as(op, r.add("cast", {idx}, {{"dtype", std::string("i32")}}), 0);
      r.define_as(op, r.add("identity", {p}), 1);
    };
    t["max_pool"] = [](R& r, const Op& op) { pool(r, op, "max_pool"); };
    t["avg_pool"] = [](R& r, const Op& op) { pool(r, op, "avg_pool"); };
    return t;
  }();
  return table;
}

const MIL::Block& main_block(const Package& p, const MIL::Function** fn_out) {
  const std::string& file = p.model_file.string();
  if (!p.model.has_mlprogram()) throw CoreMLError(file + ": not an ML Program (no mlProgram in the model)");
  const auto& prog = p.model.mlprogram();
  if (prog.version() != 1) throw CoreMLError(file + ": unsupported ML Program version " + std::to_string(prog.version()));
  auto it = prog.functions().find("main");
  if (it == prog.functions().end()) throw CoreMLError(file + ": ML Program has no 'main' function");
  const MIL::Function& fn = it->second;
  if (fn.block_specializations().empty()) throw CoreMLError(file + ": function 'main' has no block");
  auto b = fn.block_specializations().find(fn.opset());
  if (b == fn.block_specializations().end()) b = fn.block_specializations().begin();
  *fn_out = &fn;
  return b->second;
}

std::string feature_type_string(const Spec::FeatureType& t) {
  if (t.has_multiarraytype()) {
    const auto& a = t.multiarraytype();
    std::string dt = Spec::ArrayFeatureType::ArrayDataType_Name(a.datatype());
    if (dt.empty()) dt = std::to_string(a.datatype());
    std::vector<std::string> dims;
    for (int64_t d : a.shape()) dims.push_back(std::to_string(d));
    return fmt::format("MultiArray {} [{}]", dt, fmt::join(dims, ", "));
  }
  if (t.has_imagetype()) {
    const auto& im = t.imagetype();
    return fmt::format("Image {} {}x{}", Spec::ImageFeatureType::ColorSpace_Name(im.colorspace()), im.width(), im.height());
  }
  if (t.has_int64type()) return "Int64";
  if (t.has_doubletype()) return "Double";
  if (t.has_stringtype()) return "String";
  if (t.has_dictionarytype()) return "Dictionary";
  if (t.has_sequencetype()) return "Sequence";
  if (t.has_statetype()) return "State";
  return "unknown";
}

void count_ops(const MIL::Block& block, std::map<std::string, int64_t>& hist) {
  for (const auto& op : block.operations()) {
    ++hist[op.type()];
    for (const auto& nested : op.blocks()) count_ops(nested, hist);
  }
}

}  // namespace

ir::Graph read_mlpackage(const fs::path& path) {
  Package pkg = load(path);
  const MIL::Function* fn = nullptr;
  const MIL::Block& block = main_block(pkg, &fn);
  ProgramReader reader(pkg);
  reader.read_block(*fn, block);
  const auto& md = pkg.model.description().metadata();
  if (!md.author().empty()) reader.g.metadata["author"] = md.author();
  if (!md.license().empty()) reader.g.metadata["license"] = md.license();
  if (!md.versionstring().empty()) reader.g.metadata["version"] = md.versionstring();
  if (!md.shortdescription().empty()) reader.g.metadata["description"] = md.shortdescription();
  for (const auto& [k, v] : md.userdefined()) reader.g.metadata[k] = v;
  return std::move(reader.g);
}

ModelSummary summarize_mlpackage(const fs::path& path) {
  Package pkg = load(path);
  ModelSummary s;
  const auto& m = pkg.model;
  s.specification_version = m.specificationversion();
  for (const auto& f : m.description().input()) s.inputs.push_back({f.name(), feature_type_string(f.type()), f.shortdescription()});
  for (const auto& f : m.description().output()) s.outputs.push_back({f.name(), feature_type_string(f.type()), f.shortdescription()});
  const auto& md = m.description().metadata();
  s.author = md.author();
  s.license = md.license();
  s.version = md.versionstring();
  s.short_description = md.shortdescription();
  for (const auto& [k, v] : md.userdefined()) s.user_defined[k] = v;
  if (m.has_mlprogram()) {
    s.model_type = "mlProgram";
    const MIL::Function* fn = nullptr;
    const MIL::Block& block = main_block(pkg, &fn);
    s.opset = fn->opset();
    count_ops(block, s.op_histogram);
  } else {
    s.model_type = "other (field " + std::to_string(static_cast<int>(m.Type_case())) + ")";
  }
  std::error_code ec;
  if (fs::is_regular_file(pkg.weight_file, ec)) {
    BlobStorageReader blobs(pkg.weight_file);
    s.weight_file_bytes = static_cast<int64_t>(blobs.size());
    s.blob_count = blobs.count();
    s.blob_data_bytes = static_cast<int64_t>(blobs.data_bytes());
  }
  return s;
}

std::string format_summary(const ModelSummary& s) {
  std::string out = fmt::format("Core ML model: {}, specification version {}{}\n", s.model_type, s.specification_version,
                                s.opset.empty() ? "" : ", opset " + s.opset);
  auto features = [&](const char* title, const std::vector<FeatureSummary>& fs) {
    out += fmt::format("{}:\n", title);
    for (const auto& f : fs)
      out += fmt::format("  {}: {}{}\n", f.name, f.type, f.description.empty() ? "" : "  (" + f.description + ")");
  };
  features("Inputs", s.inputs);
  features("Outputs", s.outputs);
  out += "Metadata:\n";
  if (!s.author.empty()) out += fmt::format("  author: {}\n", s.author);
  if (!s.license.empty()) out += fmt::format("  license: {}\n", s.license);
  if (!s.version.empty()) out += fmt::format("  version: {}\n", s.version);
  if (!s.short_description.empty()) out += fmt::format("  description: {}\n", s.short_description);
  for (const auto& [k, v] : s.user_defined) out += fmt::format("  {}: {}\n", k, v);
  out += "Ops:\n";
  for (const auto& [k, v] : s.op_histogram) out += fmt::format("  {:<28} {}\n", k, v);
  out += fmt::format("Weights: {} bytes in weight.bin, {} blobs, {} bytes of data\n", s.weight_file_bytes, s.blob_count,
                     s.blob_data_bytes);
  return out;
}

}  // namespace exporters::coreml
