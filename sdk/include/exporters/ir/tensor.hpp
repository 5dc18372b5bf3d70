// Typed tensors of the IR: dtypes, shapes and constant data that may borrow
// its bytes from the loaded model (weights are never copied on the way to a
// backend).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exporters::ir {

enum class DType : uint8_t { F32, F16, I32, I64, Bool, I8, U8 };

size_t dtype_size(DType dtype);
// Stable short names used by the printer: f32 f16 i32 i64 bool i8 u8.
std::string_view dtype_name(DType dtype);
std::optional<DType> dtype_from_name(std::string_view name);
bool is_float(DType dtype);
bool is_integer(DType dtype);  // i32 i64 i8 u8 (not bool)

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
std::string shape_to_string(const Shape& shape);  // "1x16x32", "" for scalars

struct TensorType {
  DType dtype = DType::F32;
  Shape shape;

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  int64_t numel() const { return shape_numel(shape); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype); }
  std::string to_string() const;  // "f32[1x16x32]", "i64[]"
  bool operator==(const TensorType&) const = default;
};

// Dense, C-contiguous, little-endian tensor data. Either owns its bytes or
// borrows them from an owner kept alive by a shared_ptr (e.g. a LibTorch
// tensor or a memory-mapped file); copies of a Tensor share the bytes.
class Tensor {
 public:
  Tensor() = default;

  // Zero-initialised, owned.
  static Tensor zeros(DType dtype, Shape shape);
  // Owned copy of `bytes` (must be exactly numel * dtype_size bytes).
  static Tensor copy_of(DType dtype, Shape shape, const void* bytes);
  // Borrowed: `data` stays valid while `keepalive` lives. Read-only.
  static Tensor borrow(DType dtype, Shape shape, const void* data,
                       std::shared_ptr<const void> keepalive);
  // Scalars and small vectors, owned.
  static Tensor scalar_f32(float v);
  static Tensor scalar_i64(int64_t v);
  static Tensor from_f32(Shape shape, const std::vector<float>& values);
  static Tensor from_i64(Shape shape, const std::vector<int64_t>& values);

  bool defined() const { return data_ != nullptr || type_.numel() == 0; }
  const TensorType& type() const { return type_; }
  DType dtype() const { return type_.dtype; }
  const Shape& shape() const { return type_.shape; }
  int64_t numel() const { return type_.numel(); }
  size_t nbytes() const { return type_.nbytes(); }
  bool borrowed() const { return !writable_; }

  const void* data() const { return data_; }
  // Only for owned tensors; throws std::logic_error on a borrowed one.
  void* mutable_data();

  template <class T> const T* data_as() const { return static_cast<const T*>(data_); }
  template <class T> T* mutable_as() { return static_cast<T*>(mutable_data()); }

  // Element i converted to double / int64 (any dtype; f16 decoded).
  double element_as_double(int64_t i) const;
  int64_t element_as_int(int64_t i) const;

  // New owned tensor with another dtype (rounding as a C++ static_cast would;
  // f16 round-to-nearest-even).
  Tensor cast(DType to) const;
  // Same bytes, another shape of equal numel (shares storage).
  Tensor reshaped(Shape shape) const;

 private:
  TensorType type_;
  std::shared_ptr<const void> owner_;
  const void* data_ = nullptr;
  bool writable_ = false;
};

// IEEE half conversions (round to nearest even).
uint16_t float_to_half(float f);
float half_to_float(uint16_t h);

// Bulk forms of the two above (F16C when the CPU has it; same results, NaN
// payloads aside). With `saturate`, finite values beyond the half range
// become +-65504 instead of +-inf, so "float32 min" attention masks stay
// finite; infinities and NaN pass through.
void floats_to_halves(const float* src, uint16_t* dst, size_t n, bool saturate = false);
void halves_to_floats(const uint16_t* src, float* dst, size_t n);

}  // namespace exporters::ir
