// Loads a TorchScript archive with LibTorch, freezes and inlines it, and
// translates its graph node by node through the converter table. The only
// translation unit of the frontend that includes LibTorch.
#include <algorithm>
#include <cstring>
#include <string_view>
#include <chrono>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/runtime/operator.h>
#include <torch/script.h>

#include <caffe2/serialize/read_adapter_interface.h>

#include "core/io/zip_archive.hpp"
#include "core/runtime/interpreter.hpp"
#include "mapped_module.hpp"
#include "torchscript_frontend.hpp"

namespace exporters::frontend {
namespace {

namespace fs = std::filesystem;
using TsValue = torch::jit::Value;
using TsNode = torch::jit::Node;

// First line of a LibTorch error, without the C++ backtrace.
std::string short_error(const std::exception& e) {
  std::string text;
  if (const auto* c10e = dynamic_cast<const c10::Error*>(&e)) {
    text = c10e->what_without_backtrace();
  } else {
    text = e.what();
  }
  auto eol = text.find('\n');
  if (eol != std::string::npos) text.resize(eol);
  return text;
}

// LibTorch reads model.pt through this adapter over the mapped file. Reads
// of large stored tensor records ("<archive>/data/<n>") are not copied: the
// adapter remembers the destination, and once the module is loaded each such
// storage is re-pointed at the record's bytes in the (copy-on-write)
// mapping. Loading a base-sized model then costs its pickles and code, not
// a copy of every weight.
class MappedReadAdapter final : public caffe2::serialize::ReadAdapterInterface {
 public:
  static constexpr size_t kMinDeferredBytes = 64 * 1024;

  MappedReadAdapter(std::shared_ptr<const io::MappedZip> zip, bool defer) : zip_(std::move(zip)), defer_(defer) {}

  size_t size() const override { return static_cast<size_t>(zip_->size()); }

  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= zip_->size()) return 0;
    n = static_cast<size_t>(std::min<uint64_t>(n, zip_->size() - pos));
    if (defer_ && n >= kMinDeferredBytes) {
      const io::ZipEntry* e = zip_->stored_entry_at(pos);
      // Only 64-byte aligned records: LibTorch's own buffers are, and
      // vectorised kernels may rely on it.
      if (e && e->size == n && e->data_offset % 64 == 0 && is_data_record(e->name)) {
        deferred_[buf] = e;
        return n;
      }
    }
    std::memcpy(buf, zip_->data() + pos, n);
    return n;
  }

  // Storage data pointer -> the record whose bytes it should hold.
  std::unordered_map<void*, const io::ZipEntry*>& deferred() const { return deferred_; }

 private:
  static bool is_data_record(const std::string& name) {
    const auto slash = name.find('/');
    return slash != std::string::npos && name.compare(slash, 6, "/data/") == 0;
  }

  std::shared_ptr<const io::MappedZip> zip_;
  bool defer_;
  mutable std::unordered_map<void*, const io::ZipEntry*> deferred_;
};

// Classes with __setstate__ run code on their tensors while loading; such
// archives are read with plain copies.
bool runs_code_while_loading(const io::MappedZip& zip) {
  static constexpr std::string_view kSetState = "__setstate__";
  for (const io::ZipEntry& e : zip.entries()) {
    const std::string_view name = e.name;
    if (name.find("/code/") == std::string_view::npos || !name.ends_with(".py")) continue;
    if (zip.read(e).find(kSetState) != std::string::npos) return true;  // code is usually deflated
  }
  return false;
}

// Re-points every deferred storage reachable from the module at the mapped
// file. Returns false when a deferred record was not reached (its storage
// is then not known to be alive), and the caller loads again with copies.
bool attach_deferred_storages(const torch::jit::Module& module, const std::shared_ptr<const io::MappedZip>& zip,
                              std::unordered_map<void*, const io::ZipEntry*>& deferred, uint64_t& attached) {
  std::vector<c10::IValue> stack{module._ivalue()};
  std::unordered_set<const void*> seen;
  while (!stack.empty() && !deferred.empty()) {
    c10::IValue v = std::move(stack.back());
    stack.pop_back();
    if (v.isTensor()) {
      const at::Tensor& t = v.toTensor();
      if (!t.defined() || !t.has_storage()) continue;
      const c10::Storage& storage = t.storage();
      auto it = deferred.find(storage.data());
      if (it == deferred.end()) continue;
      auto* keep = new std::shared_ptr<const io::MappedZip>(zip);
      void* bytes = const_cast<uint8_t*>(zip->data() + it->second->data_offset);
      storage.set_data_ptr(c10::DataPtr(
          bytes, keep, [](void* ctx) { delete static_cast<std::shared_ptr<const io::MappedZip>*>(ctx); },
          c10::Device(c10::DeviceType::CPU)));  // frees the untouched buffer LibTorch allocated
      attached += it->second->size;
      deferred.erase(it);
    } else if (v.isObject()) {
      auto obj = v.toObject();
      if (!seen.insert(obj.get()).second) continue;
      for (const c10::IValue& slot : obj->slots()) stack.push_back(slot);
    } else if (v.isTuple()) {
      for (const c10::IValue& e : v.toTupleRef().elements()) stack.push_back(e);
    } else if (v.isList()) {
      for (const c10::IValue& e : v.toListRef()) stack.push_back(e);
    } else if (v.isGenericDict()) {
      for (const auto& kv : v.toGenericDict()) stack.push_back(kv.value());
    }
  }
  return deferred.empty();
}

torch::jit::Module load_module(const fs::path& path, std::shared_ptr<const io::MappedZip> zip,
                               uint64_t* mapped_bytes) {
  try {
    auto adapter = std::make_shared<MappedReadAdapter>(zip, !runs_code_while_loading(*zip));
    torch::jit::Module module = torch::jit::load(adapter);
    uint64_t attached = 0;
    if (attach_deferred_storages(module, zip, adapter->deferred(), attached)) {
      if (mapped_bytes) *mapped_bytes = attached;
      return module;
    }
    return torch::jit::load(std::make_shared<MappedReadAdapter>(zip, /*defer=*/false));
  } catch (const std::exception& e) {
    throw FrontendError(fmt::format("{}: not a loadable TorchScript archive ({})", path.string(),
                                    short_error(e)));
  }
}

// forward()'s arguments without `self`, as the Python names of the trace.
std::vector<std::string> forward_argument_names(const torch::jit::Module& module,
                                                const fs::path& path) {
  auto method = module.find_method("forward");
  if (!method) throw FrontendError(fmt::format("{}: the module has no forward() method", path.string()));
  std::vector<std::string> names;
  const auto& args = method->function().getSchema().arguments();
  for (size_t i = 1; i < args.size(); ++i) names.push_back(args[i].name());
  return names;
}

std::optional<ir::DType> ir_dtype(c10::ScalarType t) {
  switch (t) {
    case c10::ScalarType::Float: return ir::DType::F32;
    case c10::ScalarType::Half: return ir::DType::F16;
    case c10::ScalarType::Int: return ir::DType::I32;
    case c10::ScalarType::Long: return ir::DType::I64;
    case c10::ScalarType::Bool: return ir::DType::Bool;
    case c10::ScalarType::Char: return ir::DType::I8;
    case c10::ScalarType::Byte: return ir::DType::U8;
    default: return std::nullopt;
  }
}

// Where a node comes from in the Python that was traced. A trace records the
// whole Python stack; the innermost frame is often inside torch.nn, so the
// first frame of the user's code is named first.
struct SourceLocation {
  std::string user;    // "/path/model.py:42", may be empty
  std::string inner;   // innermost frame when it differs from `user`

  std::string str() const {
    if (user.empty()) return inner;
    if (inner.empty()) return user;
    return fmt::format("{} (in {})", user, inner);
  }
};

bool is_torch_library_file(const std::string& file) {
  return file.find("/torch/nn/") != std::string::npos || file.find("/torch/functional.py") != std::string::npos ||
         file.find("/torch/_tensor.py") != std::string::npos || file.find("/torch/jit/") != std::string::npos ||
         file.find("/torch/_jit_internal.py") != std::string::npos ||
         file.find("/torch/overrides.py") != std::string::npos;
}

SourceLocation source_location(const TsNode* node) {
  SourceLocation loc;
  torch::jit::SourceRange range = node->sourceRange();
  if (!range.source()) return loc;
  // A loaded archive maps its serialized code back to the traced Python stack.
  if (auto original = range.findSourceRangeThatGenerated()) range = *original;
  std::string text;
  try {
    text = range.text().str();
  } catch (...) {
  }
  // Trace stacks read "path(line): function", one frame per line.
  std::istringstream lines(text);
  std::string line;
  std::vector<std::string> frames;
  while (std::getline(lines, line)) {
    auto open = line.rfind("(", line.find("): "));
    auto close = line.find("): ");
    if (open == std::string::npos || close == std::string::npos || close < open) continue;
    std::string file = line.substr(0, open);
    std::string lineno = line.substr(open + 1, close - open - 1);
    if (file.empty() || lineno.empty() ||
        lineno.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    frames.push_back(file + ":" + lineno);
  }
  if (!frames.empty()) {
    for (const std::string& f : frames) {
      if (!is_torch_library_file(f.substr(0, f.rfind(':')))) {
        loc.user = f;
        break;
      }
    }
    if (frames.front() != loc.user) loc.inner = frames.front();
    return loc;
  }
  if (auto flc = range.file_line_col()) {
    loc.user = fmt::format("{}:{}", std::get<0>(*flc), std::get<1>(*flc));
  }
  return loc;
}

// "file:line" plus the text of that line when the file is readable.
std::string with_source_text(const std::string& location) {
  auto colon = location.rfind(':');
  if (colon == std::string::npos) return location;
  std::string file = location.substr(0, colon);
  int64_t lineno = 0;
  try {
    lineno = std::stoll(location.substr(colon + 1));
  } catch (...) {
    return location;
  }
  std::ifstream in(file);
  std::string line;
  for (int64_t i = 0; in && i < lineno; ++i) {
    if (!std::getline(in, line)) return location;
  }
  if (!in) return location;
  auto first = line.find_first_not_of(" \t");
  if (first == std::string::npos) return location;
  return fmt::format("{}: `{}`", location, line.substr(first));
}

std::string node_schema(const TsNode* node) {
  if (const c10::FunctionSchema* schema = node->maybeSchema()) {
    return torch::jit::canonicalSchemaString(*schema);
  }
  return node->kind().toQualString();
}

// Evaluates small subgraphs whose inputs are all constants so that shape
// arithmetic traced as tensor ops (NumToTensor -> mul -> Int) folds.
class SmallConstantFolder {
 public:
  static constexpr int64_t kMaxElements = 64;

  std::optional<ir::Tensor> evaluate(ir::Value* value) {
    if (value->producer == nullptr) return std::nullopt;
    if (value->producer->is_constant()) return value->producer->constant();
    if (value->type.numel() > kMaxElements) return std::nullopt;
    if (auto it = cache_.find(value); it != cache_.end()) return it->second;
    ir::Node* node = value->producer;
    std::optional<ir::Tensor> result;
    std::vector<ir::Tensor> inputs;
    bool ok = true;
    for (ir::Value* in : node->inputs) {
      if (in == nullptr) {
        inputs.emplace_back();
        continue;
      }
      auto t = evaluate(in);
      if (!t) {
        ok = false;
        break;
      }
      inputs.push_back(*t);
    }
    if (ok) {
      try {
        std::vector<ir::Tensor> outs = runtime::evaluate_node(*node, inputs);
        for (size_t i = 0; i < outs.size() && i < node->outputs.size(); ++i) {
          cache_[node->outputs[i]] = outs[i];
        }
        result = outs.at(static_cast<size_t>(value->output_index));
      } catch (const std::exception&) {
        result = std::nullopt;  // left to the runtime; folding is only an optimisation
      }
    }
    if (!result) cache_[value] = std::nullopt;
    return result;
  }

  void clear() { cache_.clear(); }

 private:
  std::unordered_map<const ir::Value*, std::optional<ir::Tensor>> cache_;
};

struct Unsupported {
  std::string kind;
  std::string schema;
  std::string source;
  size_t count = 0;
};

class Translator {
 public:
  Translator(const fs::path& path, const TorchScriptOptions& options, ir::Graph& graph)
      : path_(path), options_(options), graph_(graph), ctx_(graph) {}

  void add_input(const TsValue* value, ir::Value* ir_value) { env_[value] = ir_value; }

  void translate(torch::jit::Block* block) {
    for (TsNode* node : block->nodes()) translate_node(node);
    if (!unsupported_.empty()) throw FrontendError(unsupported_message());
  }

  // Graph outputs: tuples and lists are flattened in order.
  void collect_outputs(const TsValue* value, std::vector<ir::Value*>& out) {
    const TsNode* producer = value->node();
    const auto kind = producer->kind();
    if (kind == c10::prim::TupleConstruct || kind == c10::prim::ListConstruct) {
      for (const TsValue* in : producer->inputs()) collect_outputs(in, out);
      return;
    }
    if (kind == c10::prim::DictConstruct) {  // key, value, key, value, ...: the values in order
      for (size_t i = 1; i < producer->inputs().size(); i += 2) collect_outputs(producer->inputs()[i], out);
      return;
    }
    auto it = env_.find(value);
    if (it == env_.end()) {
      throw FrontendError(fmt::format("{}: output %{} could not be translated", path_.string(),
                                      value->debugName()));
    }
    const Operand& op = it->second;
    if (const auto* v = std::get_if<ir::Value*>(&op); v && *v) {
      out.push_back(*v);
    } else if (const auto* list = std::get_if<std::vector<ir::Value*>>(&op)) {
      for (ir::Value* v : *list) {
        if (v == nullptr) throw FrontendError(fmt::format("{}: an output is None", path_.string()));
        out.push_back(v);
      }
    } else if (const auto* ints = std::get_if<std::vector<int64_t>>(&op)) {
      out.push_back(graph_.constant(ir::Tensor::from_i64({static_cast<int64_t>(ints->size())}, *ints)));
    } else if (std::holds_alternative<int64_t>(op) || std::holds_alternative<double>(op) ||
               std::holds_alternative<bool>(op)) {
      out.push_back(number_to_tensor(op));
    } else {
      throw FrontendError(fmt::format("{}: output %{} is a {}, expected tensors", path_.string(),
                                      value->debugName(), operand_kind(op)));
    }
  }

 private:
  ir::Value* number_to_tensor(const Operand& op) {
    ir::DType dtype = std::holds_alternative<double>(op) ? ir::DType::F32
                      : std::holds_alternative<bool>(op) ? ir::DType::Bool
                                                         : ir::DType::I64;
    return ctx_.as_value(op, dtype);
  }

  std::string where(const TsNode* node) const {
    std::string loc = source_location(node).str();
    return loc.empty() ? std::string() : " at " + loc;
  }

  const OpConverter* find_converter(const std::string& kind) const {
    if (auto it = options_.extra_converters.find(kind); it != options_.extra_converters.end() && it->second) {
      return &it->second;
    }
    const auto& table = builtin_converters();
    if (auto it = table.find(kind); it != table.end() && it->second) return &it->second;
    return nullptr;
  }

  void translate_node(TsNode* node) {
    const auto kind = node->kind();
    if (kind == c10::prim::Constant) return translate_constant(node);
    if (kind == c10::prim::ListConstruct || kind == c10::prim::TupleConstruct) return translate_construct(node);
    if (kind == c10::prim::ListUnpack || kind == c10::prim::TupleUnpack) return translate_unpack(node);
    if (kind == c10::prim::TupleIndex) return translate_tuple_index(node);
    if (kind == c10::prim::If) return translate_if(node);
    if (kind == c10::prim::DictConstruct) {
      opaque_[node->output()] = "a dict (only supported as the model's output)";
      return;
    }

    const std::string kind_name = kind.toQualString();
    std::vector<Operand> inputs;
    bool blocked = false;
    for (const TsValue* in : node->inputs()) {
      auto it = env_.find(in);
      if (it == env_.end()) {
        check_not_opaque(node, in);
        blocked = true;  // downstream of an unsupported op
        break;
      }
      inputs.push_back(it->second);
    }
    const OpConverter* converter = node->blocks().empty() ? find_converter(kind_name) : nullptr;
    if (converter == nullptr) {
      record_unsupported(node, kind_name);
      return;
    }
    if (blocked) return;

    NodeView view;
    view.kind = kind_name;
    view.schema = node_schema(node);
    SourceLocation loc = source_location(node);
    view.source = loc.str();
    view.inputs = std::move(inputs);
    view.num_outputs = node->outputs().size();

    const size_t first_new = graph_.nodes().size();
    std::vector<Operand> outputs;
    try {
      outputs = (*converter)(ctx_, view);
      if (outputs.size() != node->outputs().size()) {
        throw ConversionError(fmt::format("the converter returned {} outputs, the node has {}",
                                          outputs.size(), node->outputs().size()));
      }
      for (size_t i = 0; i < outputs.size(); ++i) outputs[i] = coerce(node->outputs()[i], outputs[i]);
    } catch (const std::exception& e) {
      std::string at = view.source.empty() ? std::string() : " at " + with_source_text(loc.user.empty() ? loc.inner : loc.user);
      throw FrontendError(fmt::format("{}: cannot convert {}{}: {} [schema: {}]", path_.string(),
                                      kind_name, at, e.what(), view.schema));
    }
    fold_new_nodes(first_new, outputs);
    const std::string node_name = loc.user.empty() ? loc.inner : loc.user;
    for (size_t i = first_new; i < graph_.nodes().size(); ++i) {
      ir::Node* n = graph_.nodes()[i].get();
      if (n->name.empty()) n->name = node_name;
    }
    for (size_t i = 0; i < outputs.size(); ++i) env_[node->outputs()[i]] = std::move(outputs[i]);
    if (!rederiving_ && view_kind(node) != ViewKind::None) view_nodes_.push_back(node);
    if (mutates_first_argument(node)) {
      try {
        propagate_mutation(node);
      } catch (const std::exception& e) {
        throw FrontendError(fmt::format("{}: cannot convert the in-place {}{}: {}", path_.string(), kind_name,
                                        where(node), e.what()));
      }
    }
  }

  // ── In-place ops through views ──────────────────────────────────────────
  // Converters translate in-place ops functionally. When the mutated tensor
  // is a view (x[:, 0] = v traces to select + copy_), the new contents are
  // written back into each base along the chain of views, and views taken
  // earlier from an updated tensor are derived again.

  enum class ViewKind { None, Slice, Select, Narrow, Reshape, Transpose, Permute, Identity, Expand };

  static ViewKind view_kind(const TsNode* node) {
    const std::string kind = node->kind().toQualString();
    if (kind == "aten::slice") return ViewKind::Slice;
    if (kind == "aten::select") return ViewKind::Select;
    if (kind == "aten::narrow") return ViewKind::Narrow;
    // Always views (reshape / flatten may copy, so they are not tracked).
    if (kind == "aten::view" || kind == "aten::unsqueeze" || kind == "aten::squeeze" || kind == "aten::view_as" ||
        kind == "aten::_unsafe_view" || kind == "aten::unflatten") {
      return ViewKind::Reshape;
    }
    if (kind == "aten::transpose" || kind == "aten::t") return ViewKind::Transpose;
    if (kind == "aten::permute") return ViewKind::Permute;
    if (kind == "aten::detach" || kind == "aten::alias") return ViewKind::Identity;
    if (kind == "aten::expand" || kind == "aten::expand_as") return ViewKind::Expand;
    return ViewKind::None;
  }

  static bool mutates_first_argument(const TsNode* node) {
    const c10::FunctionSchema* schema = node->maybeSchema();
    if (schema == nullptr || schema->arguments().empty()) return false;
    const c10::AliasInfo* alias = schema->arguments()[0].alias_info();
    return alias != nullptr && alias->isWrite() && node->outputs().size() == 1 &&
           node->inputs()[0]->type()->kind() == c10::TypeKind::TensorType;
  }

  ir::Value* env_tensor(const TsValue* value) {
    auto it = env_.find(value);
    if (it == env_.end()) throw ConversionError("a view's base has no translation");
    const auto* v = std::get_if<ir::Value*>(&it->second);
    if (v == nullptr || *v == nullptr) throw ConversionError("a view's base is not a tensor");
    return *v;
  }

  int64_t env_int(const TsNode* node, size_t index, int64_t fallback) {
    if (index >= node->inputs().size()) return fallback;
    auto it = env_.find(node->inputs()[index]);
    if (it == env_.end() || std::holds_alternative<NoneValue>(it->second)) return fallback;
    if (const auto* i = std::get_if<int64_t>(&it->second)) return *i;
    if (const auto* b = std::get_if<bool>(&it->second)) return *b ? 1 : 0;
    throw ConversionError(fmt::format("{} argument {} is not an int", node->kind().toQualString(), index));
  }

  // base with its view region (as `view` selected it) replaced by `update`.
  ir::Value* write_back(const TsNode* view, ir::Value* base, ir::Value* update) {
    ir::Graph& g = graph_;
    update = cast_if_needed(update, base->type.dtype);
    const int64_t rank = base->type.rank();
    auto normalize = [&](int64_t dim) {
      if (dim < -rank || dim >= rank) throw ConversionError(fmt::format("dim {} out of range", dim));
      return dim < 0 ? dim + rank : dim;
    };
    auto concat_around = [&](int64_t dim, int64_t start, int64_t end, ir::Value* middle) {
      std::vector<ir::Value*> pieces;
      const int64_t size = base->type.shape[dim];
      auto piece = [&](int64_t b, int64_t e) {
        return g.add1("slice", {base}, {{"axes", std::vector<int64_t>{dim}}, {"starts", std::vector<int64_t>{b}},
                                        {"ends", std::vector<int64_t>{e}}, {"steps", std::vector<int64_t>{1}}});
      };
      if (start > 0) pieces.push_back(piece(0, start));
      if (middle->type.shape[dim] > 0) pieces.push_back(middle);
      if (end < size) pieces.push_back(piece(end, size));
      if (pieces.size() == 1) return pieces[0];
      return g.add1("concat", pieces, {{"axis", dim}});
    };
    switch (view_kind(view)) {
      case ViewKind::Slice:
      case ViewKind::Narrow: {
        const int64_t dim = normalize(env_int(view, 1, 0));
        const int64_t size = base->type.shape[dim];
        int64_t start, end, step = 1;
        if (view_kind(view) == ViewKind::Narrow) {
          start = env_int(view, 2, 0);
          if (start < 0) start += size;
          end = start + env_int(view, 3, 0);
        } else {
          start = env_int(view, 2, 0);
          end = env_int(view, 3, std::numeric_limits<int64_t>::max());
          step = env_int(view, 4, 1);
          if (start < 0) start += size;
          if (end < 0) end += size;
        }
        start = std::clamp<int64_t>(start, 0, size);
        end = std::clamp<int64_t>(end, start, size);
        if (step == 1) return concat_around(dim, start, end, update);
        // Strided: gather the update to every position of dim, keep the base
        // where the position is not in the slice.
        std::vector<int64_t> index(static_cast<size_t>(size), 0);
        ir::Tensor mask = ir::Tensor::zeros(ir::DType::Bool, {size});
        for (int64_t p = start; p < end; p += step) {
          index[static_cast<size_t>(p)] = (p - start) / step;
          static_cast<uint8_t*>(mask.mutable_data())[p] = 1;
        }
        ir::Value* gathered = g.add1("gather", {update, g.constant(ir::Tensor::from_i64({size}, index))},
                                     {{"axis", dim}});
        ir::Shape mask_shape(static_cast<size_t>(rank), 1);
        mask_shape[static_cast<size_t>(dim)] = size;
        ir::Value* m = g.constant(mask.reshaped(mask_shape));
        return g.add1("where", {m, gathered, base});
      }
      case ViewKind::Select: {
        const int64_t dim = normalize(env_int(view, 1, 0));
        int64_t index = env_int(view, 2, 0);
        if (index < 0) index += base->type.shape[dim];
        ir::Shape shape = update->type.shape;
        shape.insert(shape.begin() + dim, 1);
        ir::Value* middle = g.add1("reshape", {update}, {{"shape", shape}});
        return concat_around(dim, index, index + 1, middle);
      }
      case ViewKind::Reshape:
        return update->type.shape == base->type.shape
                   ? update
                   : g.add1("reshape", {update}, {{"shape", base->type.shape}});
      case ViewKind::Transpose: {
        std::vector<int64_t> perm(static_cast<size_t>(rank));
        for (int64_t i = 0; i < rank; ++i) perm[i] = i;
        if (rank >= 2) {
          const int64_t a = view->kind() == c10::aten::t ? 0 : normalize(env_int(view, 1, 0));
          const int64_t b = view->kind() == c10::aten::t ? 1 : normalize(env_int(view, 2, 1));
          std::swap(perm[a], perm[b]);  // its own inverse
        }
        return g.add1("transpose", {update}, {{"perm", perm}});
      }
      case ViewKind::Permute: {
        auto it = env_.find(view->inputs()[1]);
        const auto* dims = it == env_.end() ? nullptr : std::get_if<std::vector<int64_t>>(&it->second);
        if (dims == nullptr || static_cast<int64_t>(dims->size()) != rank) throw ConversionError("bad permute dims");
        std::vector<int64_t> inverse(static_cast<size_t>(rank));
        for (int64_t i = 0; i < rank; ++i) inverse[static_cast<size_t>(normalize((*dims)[i]))] = i;
        return g.add1("transpose", {update}, {{"perm", inverse}});
      }
      case ViewKind::Identity:
        return update;
      case ViewKind::Expand:
        throw ConversionError("writing through an expanded (broadcast) view is not supported");
      case ViewKind::None:
        break;
    }
    throw ConversionError("not a view");
  }

  ir::Value* cast_if_needed(ir::Value* v, ir::DType dtype) {
    if (v->type.dtype == dtype) return v;
    return graph_.add1("cast", {v}, {{"dtype", std::string(ir::dtype_name(dtype))}});
  }

  void propagate_mutation(const TsNode* node) {
    const TsValue* value = node->inputs()[0];
    ir::Value* updated_value = env_tensor(node->output());
    env_[value] = updated_value;  // later uses of self see the new contents
    std::unordered_set<const TsValue*> fresh{value, node->output()};
    std::unordered_set<const TsNode*> chain;
    const TsValue* v = value;
    while (view_kind(v->node()) != ViewKind::None && env_.count(v->node()->inputs()[0])) {
      const TsNode* view = v->node();
      const TsValue* base = view->inputs()[0];
      ir::Value* new_base = write_back(view, env_tensor(base), updated_value);
      env_[base] = new_base;
      fresh.insert(base);
      chain.insert(view);
      v = base;
      updated_value = new_base;
    }
    // Views taken earlier from an updated tensor are derived again when they
    // (or views taken from them) are used after this node.
    std::unordered_set<const TsValue*> needed;
    for (auto it = view_nodes_.rbegin(); it != view_nodes_.rend(); ++it) {
      const TsValue* out = (*it)->output();
      bool used_later = needed.count(out) != 0;
      for (const torch::jit::Use& use : out->uses()) used_later = used_later || use.user->isAfter(node);
      if (used_later) {
        needed.insert(out);
        needed.insert((*it)->inputs()[0]);
      }
    }
    const std::vector<TsNode*> views = view_nodes_;
    rederiving_ = true;
    for (TsNode* view : views) {
      if (chain.count(view) || !fresh.count(view->inputs()[0]) || !needed.count(view->output())) continue;
      translate_node(view);
      fresh.insert(view->output());
    }
    rederiving_ = false;
  }


  // Scripted code branches on shapes; with static shapes the condition is a
  // constant and only the taken block is translated.
  void translate_if(TsNode* node) {
    auto it = env_.find(node->inputs()[0]);
    if (it == env_.end()) {
      check_not_opaque(node, node->inputs()[0]);
      return;
    }
    std::optional<int64_t> condition = element_int(it->second);
    if (!condition) {
      record_unsupported(node, "prim::If");
      return;
    }
    torch::jit::Block* block = node->blocks()[*condition != 0 ? 0 : 1];
    for (TsNode* inner : block->nodes()) translate_node(inner);
    for (size_t i = 0; i < node->outputs().size(); ++i) {
      auto out = env_.find(block->outputs()[i]);
      if (out != env_.end()) env_[node->outputs()[i]] = out->second;
    }
  }

  void check_not_opaque(const TsNode* node, const TsValue* in) {
    if (auto it = opaque_.find(in); it != opaque_.end()) {
      throw FrontendError(fmt::format("{}: {}{} uses {}, which the frontend cannot represent",
                                      path_.string(), node->kind().toQualString(), where(node), it->second));
    }
    if (unsupported_.empty()) {
      throw FrontendError(fmt::format("{}: {}{} uses %{}, which has no translation", path_.string(),
                                      node->kind().toQualString(), where(node), in->debugName()));
    }
  }

  void record_unsupported(const TsNode* node, const std::string& kind_name) {
    std::string schema = node->blocks().empty()
                             ? node_schema(node)
                             : kind_name + " (control flow on a value computed from the model's inputs)";
    for (Unsupported& u : unsupported_) {
      if (u.schema == schema) {
        ++u.count;
        return;
      }
    }
    SourceLocation loc = source_location(node);
    std::string source = with_source_text(loc.user.empty() ? loc.inner : loc.user);
    if (!loc.user.empty() && !loc.inner.empty()) source += fmt::format(" (in {})", loc.inner);
    unsupported_.push_back({kind_name, schema, source, 1});
  }

  std::string unsupported_message() const {
    const size_t n = unsupported_.size();
    std::string msg = fmt::format("{}: {} op{} no converter:", path_.string(), n, n == 1 ? " has" : "s have");
    for (const Unsupported& u : unsupported_) {
      msg += fmt::format("\n  {}: {}", u.kind, u.schema);
      msg += u.source.empty() ? std::string("\n    at <unknown source line>") : "\n    at " + u.source;
      if (u.count > 1) msg += fmt::format(" (and {} more use{})", u.count - 1, u.count > 2 ? "s" : "");
    }
    return msg;
  }

  // Makes a converter's result match the TorchScript type of the output.
  Operand coerce(const TsValue* value, Operand result) {
    const auto type_kind = value->type()->kind();
    if (type_kind == c10::TypeKind::TensorType) {
      if (std::holds_alternative<int64_t>(result) || std::holds_alternative<double>(result) ||
          std::holds_alternative<bool>(result)) {
        return number_to_tensor(result);
      }
      // None stands for an output the converter does not compute (e.g. pooling
      // indices); using it later is an error at the consumer.
      if (std::holds_alternative<NoneValue>(result)) return result;
      if (const auto* v = std::get_if<ir::Value*>(&result); !v || !*v) {
        throw ConversionError(fmt::format("the converter returned {} for a Tensor output", operand_kind(result)));
      }
    } else if (type_kind == c10::TypeKind::IntType || type_kind == c10::TypeKind::FloatType ||
               type_kind == c10::TypeKind::BoolType || type_kind == c10::TypeKind::NumberType) {
      if (const auto* v = std::get_if<ir::Value*>(&result); v && *v) {
        const ir::Tensor* t = ctx_.constant_data(*v);
        if (t == nullptr || t->numel() != 1) {
          throw ConversionError("a number output depends on the model's inputs (not foldable)");
        }
        if (type_kind == c10::TypeKind::IntType) return t->element_as_int(0);
        if (type_kind == c10::TypeKind::BoolType) return t->element_as_int(0) != 0;
        return t->element_as_double(0);
      }
    }
    return result;
  }

  // Replaces small converter results computable from constants by constants
  // and drops the nodes that computed them.
  void fold_new_nodes(size_t first_new, std::vector<Operand>& outputs) {
    if (graph_.nodes().size() == first_new) return;
    const size_t end = graph_.nodes().size();
    auto fold = [&](ir::Value*& v) {
      if (v == nullptr || v->producer == nullptr || v->producer->is_constant()) return;
      if (auto t = folder_.evaluate(v)) v = graph_.constant(*t);
    };
    for (Operand& op : outputs) {
      if (auto* v = std::get_if<ir::Value*>(&op)) fold(*v);
      if (auto* list = std::get_if<std::vector<ir::Value*>>(&op)) {
        for (ir::Value*& v : *list) fold(v);
      }
    }
    // Nodes of this batch can only be used by later nodes of the batch or
    // by the results.
    std::unordered_set<const ir::Value*> used;
    auto mark = [&](const Operand& op) {
      if (const auto* v = std::get_if<ir::Value*>(&op)) used.insert(*v);
      if (const auto* list = std::get_if<std::vector<ir::Value*>>(&op)) used.insert(list->begin(), list->end());
    };
    for (const Operand& op : outputs) mark(op);
    std::unordered_set<const ir::Node*> dead;
    for (size_t i = graph_.nodes().size(); i-- > first_new;) {
      const ir::Node* n = graph_.nodes()[i].get();
      bool live = false;
      for (const ir::Value* out : n->outputs) live = live || used.count(out) != 0;
      if (!live && i < end) {
        dead.insert(n);
        continue;
      }
      for (const ir::Value* in : n->inputs) used.insert(in);
    }
    if (!dead.empty()) {
      graph_.remove_nodes_if([&](const ir::Node& n) { return dead.count(&n) != 0; });
      folder_.clear();  // removed values may be freed and their addresses reused
    }
  }

  void translate_constant(const TsNode* node) {
    const TsValue* out = node->output();
    std::optional<c10::IValue> iv = torch::jit::toIValue(out);
    if (!iv) {
      opaque_[out] = "a constant without a value";
      return;
    }
    try {
      if (auto op = constant_operand(*iv)) {
        env_[out] = std::move(*op);
      } else {
        opaque_[out] = fmt::format("a constant of type {}", out->type()->str());
      }
    } catch (const std::exception& e) {
      throw FrontendError(fmt::format("{}: constant %{}{}: {}", path_.string(), out->debugName(), where(node),
                                      short_error(e)));
    }
  }

  // Tensor constants borrow their bytes: the at::Tensor (made contiguous
  // once) is owned by the IR tensor's keepalive.
  ir::Value* tensor_constant(const at::Tensor& tensor) {
    if (!tensor.defined()) return nullptr;
    if (tensor.is_sparse() || tensor.is_quantized() || !tensor.device().is_cpu()) {
      throw FrontendError(fmt::format("unsupported tensor constant ({})", tensor.toString()));
    }
    auto key = tensor.unsafeGetTensorImpl();
    if (auto it = tensor_constants_.find(key); it != tensor_constants_.end()) return it->second;
    at::Tensor t = tensor;
    std::optional<ir::DType> dtype = ir_dtype(t.scalar_type());
    if (!dtype) {
      switch (t.scalar_type()) {
        case c10::ScalarType::Double:
        case c10::ScalarType::BFloat16: t = t.to(c10::ScalarType::Float); dtype = ir::DType::F32; break;
        case c10::ScalarType::Short: t = t.to(c10::ScalarType::Int); dtype = ir::DType::I32; break;
        default:
          throw FrontendError(fmt::format("tensor constant of dtype {} has no IR equivalent",
                                          c10::toString(t.scalar_type())));
      }
    }
    auto owner = std::make_shared<at::Tensor>(t.contiguous());
    ir::Shape shape(owner->sizes().begin(), owner->sizes().end());
    ir::Value* v = graph_.constant(ir::Tensor::borrow(*dtype, shape, owner->data_ptr(), owner));
    tensor_constants_[key] = v;
    return v;
  }

  std::optional<Operand> constant_operand(const c10::IValue& iv) {
    if (iv.isNone()) return Operand(NoneValue{});
    if (iv.isTensor()) {
      ir::Value* v = tensor_constant(iv.toTensor());
      if (v == nullptr) return Operand(NoneValue{});
      return Operand(v);
    }
    if (iv.isInt()) return Operand(iv.toInt());
    if (iv.isDouble()) return Operand(iv.toDouble());
    if (iv.isBool()) return Operand(iv.toBool());
    if (iv.isString()) return Operand(iv.toStringRef());
    if (iv.isDevice()) return Operand(iv.toDevice().str());
    if (iv.isIntList()) return Operand(iv.toIntVector());
    if (iv.isDoubleList()) return Operand(iv.toDoubleVector());
    if (iv.isBoolList()) {
      std::vector<bool> b;
      for (bool x : iv.toBoolList()) b.push_back(x);
      return Operand(b);
    }
    if (iv.isTensorList()) {
      std::vector<ir::Value*> list;
      for (const at::Tensor& t : iv.toTensorVector()) list.push_back(tensor_constant(t));
      return Operand(list);
    }
    if (iv.isList()) {  // e.g. Tensor?[] of a constant index
      std::vector<ir::Value*> tensors;
      std::vector<int64_t> ints;
      std::vector<double> doubles;
      for (const c10::IValue& e : iv.toListRef()) {
        if (e.isTensor()) tensors.push_back(tensor_constant(e.toTensor()));
        else if (e.isNone()) tensors.push_back(nullptr);
        else if (e.isInt()) ints.push_back(e.toInt());
        else if (e.isDouble()) doubles.push_back(e.toDouble());
        else return std::nullopt;
      }
      const size_t n = iv.toListRef().size();
      if (tensors.size() == n) return Operand(tensors);
      if (ints.size() == n) return Operand(ints);
      if (doubles.size() == n) return Operand(doubles);
    }
    return std::nullopt;
  }

  // Element i of a list/tuple being built, as an int (ints arrive as ints
  // or as folded one-element tensors).
  std::optional<int64_t> element_int(const Operand& op) {
    if (const auto* i = std::get_if<int64_t>(&op)) return *i;
    if (const auto* b = std::get_if<bool>(&op)) return *b ? 1 : 0;
    if (const auto* v = std::get_if<ir::Value*>(&op); v && *v) {
      if (const ir::Tensor* t = ctx_.constant_data(*v); t && t->numel() == 1) return t->element_as_int(0);
    }
    return std::nullopt;
  }

  void translate_construct(const TsNode* node) {
    std::vector<Operand> elements;
    for (const TsValue* in : node->inputs()) {
      auto it = env_.find(in);
      if (it == env_.end()) {
        check_not_opaque(node, in);
        return;  // downstream of an unsupported op
      }
      elements.push_back(it->second);
    }
    const TsValue* out = node->output();
    aggregates_[out] = elements;

    c10::TypePtr element_type;
    if (node->kind() == c10::prim::ListConstruct) {
      element_type = out->type()->expectRef<c10::ListType>().getElementType();
    } else {
      // A tuple maps to a list when its elements share one kind.
      const auto& types = out->type()->expectRef<c10::TupleType>().elements();
      if (types.empty()) {
        env_[out] = std::vector<int64_t>{};
        return;
      }
      element_type = types[0];
      for (const auto& t : types) {
        if (t->kind() != element_type->kind()) {
          opaque_[out] = "a tuple of mixed element types";
          return;
        }
      }
    }
    const auto ek = element_type->kind();
    if (ek == c10::TypeKind::TensorType || ek == c10::TypeKind::OptionalType) {
      std::vector<ir::Value*> list;
      for (const Operand& e : elements) {
        if (const auto* v = std::get_if<ir::Value*>(&e)) {
          list.push_back(*v);
        } else if (std::holds_alternative<NoneValue>(e)) {
          list.push_back(nullptr);
        } else if (ek == c10::TypeKind::TensorType) {
          list.push_back(number_to_tensor(e));
        } else {
          opaque_[out] = fmt::format("a list of {}", element_type->str());
          return;
        }
      }
      env_[out] = std::move(list);
    } else if (ek == c10::TypeKind::IntType) {
      std::vector<int64_t> list;
      for (const Operand& e : elements) {
        auto i = element_int(e);
        if (!i) {
          throw FrontendError(fmt::format("{}: {}{}: element of an int list is not known at export time ({})",
                                          path_.string(), node->kind().toQualString(), where(node),
                                          operand_kind(e)));
        }
        list.push_back(*i);
      }
      env_[out] = std::move(list);
    } else if (ek == c10::TypeKind::FloatType || ek == c10::TypeKind::NumberType) {
      std::vector<double> list;
      for (const Operand& e : elements) {
        if (const auto* d = std::get_if<double>(&e)) list.push_back(*d);
        else if (auto i = element_int(e)) list.push_back(static_cast<double>(*i));
        else {
          opaque_[out] = "a float list with a non-constant element";
          return;
        }
      }
      env_[out] = std::move(list);
    } else if (ek == c10::TypeKind::BoolType) {
      std::vector<bool> list;
      for (const Operand& e : elements) {
        auto i = element_int(e);
        if (!i) {
          opaque_[out] = "a bool list with a non-constant element";
          return;
        }
        list.push_back(*i != 0);
      }
      env_[out] = std::move(list);
    } else {
      opaque_[out] = fmt::format("a list of {}", element_type->str());
    }
  }

  std::optional<std::vector<Operand>> elements_of(const TsValue* value) {
    if (auto it = aggregates_.find(value); it != aggregates_.end()) return it->second;
    auto it = env_.find(value);
    if (it == env_.end()) return std::nullopt;
    return std::visit(
        [](const auto& v) -> std::optional<std::vector<Operand>> {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<double>> ||
                        std::is_same_v<T, std::vector<ir::Value*>>) {
            return std::vector<Operand>(v.begin(), v.end());
          } else if constexpr (std::is_same_v<T, std::vector<bool>>) {
            std::vector<Operand> r;
            for (bool b : v) r.emplace_back(b);
            return r;
          } else {
            return std::nullopt;
          }
        },
        it->second);
  }

  void translate_unpack(const TsNode* node) {
    auto elements = elements_of(node->input());
    if (!elements) {
      check_not_opaque(node, node->input());
      if (env_.count(node->input())) {
        throw FrontendError(fmt::format("{}: {}{}: cannot unpack a {}", path_.string(), node->kind().toQualString(),
                                        where(node), operand_kind(env_.at(node->input()))));
      }
      return;
    }
    if (elements->size() != node->outputs().size()) {
      throw FrontendError(fmt::format("{}: {}{}: unpacks {} values from a sequence of {}", path_.string(),
                                      node->kind().toQualString(), where(node), node->outputs().size(),
                                      elements->size()));
    }
    for (size_t i = 0; i < elements->size(); ++i) env_[node->outputs()[i]] = (*elements)[i];
  }

  void translate_tuple_index(const TsNode* node) {
    auto elements = elements_of(node->inputs()[0]);
    auto index_it = env_.find(node->inputs()[1]);
    if (!elements || index_it == env_.end()) {
      check_not_opaque(node, node->inputs()[0]);
      return;
    }
    auto index = element_int(index_it->second);
    const auto n = static_cast<int64_t>(elements->size());
    if (!index || *index < -n || *index >= n) {
      throw FrontendError(fmt::format("{}: prim::TupleIndex{}: bad index", path_.string(), where(node)));
    }
    env_[node->output()] = (*elements)[static_cast<size_t>(*index < 0 ? *index + n : *index)];
  }

  const fs::path& path_;
  const TorchScriptOptions& options_;
  ir::Graph& graph_;
  ConversionContext ctx_;
  SmallConstantFolder folder_;
  std::unordered_map<const TsValue*, Operand> env_;
  std::unordered_map<const TsValue*, std::vector<Operand>> aggregates_;
  std::unordered_map<const TsValue*, std::string> opaque_;
  std::unordered_map<const void*, ir::Value*> tensor_constants_;
  std::vector<Unsupported> unsupported_;
  std::vector<TsNode*> view_nodes_;
  bool rederiving_ = false;
};

struct LoadedModule {
  torch::jit::Module module;
  std::shared_ptr<torch::jit::Graph> graph;
};

}  // namespace

torch::jit::Module load_mapped_module(const std::filesystem::path& path, uint64_t* mapped_bytes) {
  return load_module(path, open_trace_zip(path), mapped_bytes);
}

struct TorchScriptArchive::Impl {
  fs::path path;
  torch::jit::Module module;
  std::vector<std::string> names;
  double load_seconds = 0;
  uint64_t mapped_bytes = 0;
  bool translated = false;
};

TorchScriptArchive::TorchScriptArchive(const std::filesystem::path& model_pt)
    : TorchScriptArchive(model_pt, open_trace_zip(model_pt)) {}

TorchScriptArchive::TorchScriptArchive(const std::filesystem::path& model_pt, std::shared_ptr<const io::MappedZip> zip)
    : impl_(std::make_unique<Impl>()) {
  const auto start = std::chrono::steady_clock::now();
  impl_->path = model_pt;
  impl_->module = load_module(model_pt, std::move(zip), &impl_->mapped_bytes);
  impl_->names = forward_argument_names(impl_->module, model_pt);
  impl_->load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TorchScriptArchive::~TorchScriptArchive() = default;
TorchScriptArchive::TorchScriptArchive(TorchScriptArchive&&) noexcept = default;
TorchScriptArchive& TorchScriptArchive::operator=(TorchScriptArchive&&) noexcept = default;

const std::filesystem::path& TorchScriptArchive::path() const { return impl_->path; }
const std::vector<std::string>& TorchScriptArchive::input_names() const { return impl_->names; }
double TorchScriptArchive::load_seconds() const { return impl_->load_seconds; }
uint64_t TorchScriptArchive::mapped_bytes() const { return impl_->mapped_bytes; }

std::vector<std::string> torchscript_input_names(const std::filesystem::path& model_pt) {
  return TorchScriptArchive(model_pt).input_names();
}

TorchScriptModel load_torchscript(const std::filesystem::path& model_pt, const TorchScriptOptions& options) {
  return TorchScriptArchive(model_pt).translate(options);
}

TorchScriptModel TorchScriptArchive::translate(const TorchScriptOptions& options) {
  if (impl_->translated) throw FrontendError(fmt::format("{}: translated twice", impl_->path.string()));
  impl_->translated = true;
  const auto start = std::chrono::steady_clock::now();
  const fs::path& model_pt = impl_->path;
  auto loaded = std::make_shared<LoadedModule>();
  torch::jit::Module module = std::move(impl_->module);
  const std::vector<std::string>& names = impl_->names;

  // Every input needs a shape; name all that are missing at once.
  std::vector<std::string> missing;
  for (const std::string& name : names) {
    if (!options.input_shapes.count(name)) missing.push_back(fmt::format("--shape {}=d0,d1,...", name));
  }
  if (!missing.empty()) {
    throw FrontendError(fmt::format("{}: input shape{} missing (a trace does not record its input shapes): {}",
                                    model_pt.string(), missing.size() == 1 ? " is" : "s are",
                                    fmt::join(missing, ", ")));
  }
  for (const auto& [name, shape] : options.input_shapes) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      throw FrontendError(fmt::format("{}: --shape {}: the model has no input named '{}' (inputs: {})",
                                      model_pt.string(), name, name, fmt::join(names, ", ")));
    }
    for (int64_t d : shape) {
      if (d <= 0) {
        throw FrontendError(fmt::format("--shape {}: dimensions must be positive, got {}", name,
                                        ir::shape_to_string(shape)));
      }
    }
  }

  for (const auto& entry : options.input_dtypes) {
    if (std::find(names.begin(), names.end(), entry.first) == names.end()) {
      throw FrontendError(fmt::format("{}: a dtype is given for '{}', but the model has no such input (inputs: {})",
                                      model_pt.string(), entry.first, fmt::join(names, ", ")));
    }
  }

  try {
    module.eval();
    loaded->module = torch::jit::freeze_module(module);
    loaded->graph = loaded->module.get_method("forward").graph();
    torch::jit::Inline(*loaded->graph);
    torch::jit::EliminateDeadCode(loaded->graph);
  } catch (const std::exception& e) {
    throw FrontendError(fmt::format("{}: cannot freeze the module ({})", model_pt.string(), short_error(e)));
  }
  torch::jit::Graph& ts_graph = *loaded->graph;

  TorchScriptModel model;
  model.keepalive = loaded;
  Translator translator(model_pt, options, model.graph);
  const auto inputs = ts_graph.inputs();
  for (size_t i = 1; i < inputs.size(); ++i) {
    const std::string& name = names.at(i - 1);
    const TsValue* value = inputs[i];
    if (value->type()->kind() != c10::TypeKind::TensorType) {
      throw FrontendError(fmt::format("{}: input '{}' is a {}, only tensor inputs are supported",
                                      model_pt.string(), name, value->type()->str()));
    }
    ir::DType dtype = ir::DType::F32;
    if (auto it = options.input_dtypes.find(name); it != options.input_dtypes.end()) {
      dtype = it->second;
    } else if (auto tt = value->type()->cast<c10::TensorType>()) {
      if (auto st = tt->scalarType()) {
        if (auto d = ir_dtype(*st)) dtype = *d;
      }
    }
    ir::Value* v = model.graph.add_input(name, ir::TensorType{dtype, options.input_shapes.at(name)});
    translator.add_input(value, v);
    model.input_names.push_back(name);
  }

  translator.translate(ts_graph.block());

  std::vector<ir::Value*> outputs;
  for (const TsValue* out : ts_graph.outputs()) translator.collect_outputs(out, outputs);
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::string name = fmt::format("output_{}", i);
    model.graph.add_output(outputs[i], name);
    model.output_names.push_back(name);
  }
  model.load_seconds = impl_->load_seconds;
  model.mapped_bytes = impl_->mapped_bytes;
  model.translate_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return model;
}

}  // namespace exporters::frontend
