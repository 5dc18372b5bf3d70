// IR graph -> ops of the MIL `main` block. One table row per IR op
// (mil_lowering.cpp); each emitter produces exactly the inputs, dtypes and
// parameters of the Core ML op definitions, decomposing where MIL lacks an op.
#pragma once

#include <functional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "coreml.hpp"
#include "mil_builder.hpp"

namespace exporters::coreml {

class MilLowering {
 public:
  MilLowering(MilBuilder& builder, const CoreMLOptions& options);

  MilBuilder& b;
  const CoreMLOptions& options;

  int os() const { return static_cast<int>(options.target) + 15; }  // 15..18

  // The MIL value of input `i` of `node` (const ops of IR constants are
  // emitted on first use). Throws when the optional input is absent.
  MVal in(const ir::Node& node, size_t i);
  bool has(const ir::Node& node, size_t i) const;
  // The IR constant feeding input `i`, or nullptr.
  const ir::Tensor* constant_of(const ir::Node& node, size_t i) const;
  // MIL type and reserved name of output `i`.
  ir::TensorType out_type(const ir::Node& node, size_t i = 0) const;
  std::string out_name(const ir::Node& node, size_t i = 0);
  // Emits `type` as the op producing output `i` of `node`.
  MVal finish(const ir::Node& node, const std::string& type, const Args& args, size_t i = 0);
  void bind(const ir::Value* v, MVal m) { values_[v] = std::move(m); }
  // Value known for an IR value (graph inputs are bound by the writer).
  MVal value(const ir::Value* v);
  void reserve_name(const ir::Value* v, std::string name) { reserved_[v] = std::move(name); }

  [[noreturn]] void fail(const ir::Node& node, const std::string& why) const;

  void lower(const ir::Node& node);

 private:
  std::unordered_map<const ir::Value*, MVal> values_;
  std::unordered_map<const ir::Value*, std::string> reserved_;
};

using MilEmitter = void (*)(MilLowering&, const ir::Node&);
struct MilLoweringRow {
  std::string_view ir_op;
  MilEmitter emit;
};
const std::vector<MilLoweringRow>& mil_lowering_table();
const MilLoweringRow* find_mil_lowering(std::string_view ir_op);

}  // namespace exporters::coreml
