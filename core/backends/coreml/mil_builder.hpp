// Builds the operations of one MIL block: const values (inline or in the
// weight blob file), ops with named arguments, unique valid identifiers.
// Internal to the backend (exposes generated protobuf types).
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "blob_storage.hpp"
#include "coreml_mil.pb.h"
#include "exporters/ir/graph.hpp"

namespace exporters::coreml {

namespace MIL = ::CoreML::Specification::MILSpec;

inline constexpr std::string_view kWeightFileName = "@model_path/weights/weight.bin";
// coremltools' convention: constants with at least this many elements (and
// a float / 8-bit dtype) go to weight.bin, the rest are immediate values.
inline constexpr int64_t kMinBlobElements = 10;

// A MIL value: its name and type. Types use only MIL-legal dtypes (no i64).
struct MVal {
  std::string name;
  ir::TensorType type;
};

// One op argument: a single value, or several for a tuple parameter.
struct Arg {
  Arg(MVal v) : values{std::move(v)} {}  // NOLINT: implicit on purpose
  Arg(std::vector<MVal> vs) : values(std::move(vs)) {}  // NOLINT
  std::vector<MVal> values;
};
using Args = std::vector<std::pair<std::string, Arg>>;

MIL::DataType mil_dtype(ir::DType dtype);
void set_tensor_type(MIL::ValueType* out, const ir::TensorType& type);
MIL::Value string_value(const std::string& s);

class MilBuilder {
 public:
  MilBuilder(MIL::Block* block, BlobStorageWriter* blobs, bool float16);

  bool float16() const { return float16_; }
  // The MIL dtype an IR dtype computes in: i64 -> i32, f32 -> f16 under
  // float16 precision.
  ir::DType compute_dtype(ir::DType dtype) const;

  // A valid, unused identifier derived from `wanted`.
  std::string unique_name(std::string_view wanted);

  MVal emit(const std::string& type, const Args& args, const ir::TensorType& out,
            const std::string& name = {});
  std::vector<MVal> emit_multi(const std::string& type, const Args& args,
                               const std::vector<ir::TensorType>& outs,
                               const std::vector<std::string>& names);

  // const op holding `t` converted to compute_dtype(t.dtype()).
  MVal constant(const ir::Tensor& t, const std::string& name = {});
  // const op holding `t` stored as `dtype` (a MIL dtype).
  MVal constant_as(const ir::Tensor& t, ir::DType dtype, const std::string& name = {});
  MVal i32(int64_t v);
  MVal i32s(const std::vector<int64_t>& v);
  MVal boolean(bool v);
  MVal str(const std::string& s);
  MVal scalar(double v, ir::DType dtype);  // dtype already a MIL dtype (f32/f16/i32)

  int64_t blob_count() const { return blobs_written_; }

 private:
  MIL::Block* block_;
  BlobStorageWriter* blobs_;
  bool float16_;
  std::set<std::string> used_;
  int64_t counter_ = 0;
  int64_t blobs_written_ = 0;
};

}  // namespace exporters::coreml
