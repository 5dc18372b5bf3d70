#include "exporters/ir/tensor.hpp"

#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <type_traits>

namespace exporters::ir {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::I32: return 4;
    case DType::I64: return 8;
    case DType::Bool: return 1;
    case DType::I8: return 1;
    case DType::U8: return 1;
  }
  return 0;
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::I32: return "i32";
    case DType::I64: return "i64";
    case DType::Bool: return "bool";
    case DType::I8: return "i8";
    case DType::U8: return "u8";
  }
  return "?";
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (DType d : {DType::F32, DType::F16, DType::I32, DType::I64, DType::Bool, DType::I8, DType::U8})
    if (dtype_name(d) == name) return d;
  return std::nullopt;
}

bool is_float(DType dtype) { return dtype == DType::F32 || dtype == DType::F16; }
bool is_integer(DType dtype) {
  return dtype == DType::I32 || dtype == DType::I64 || dtype == DType::I8 || dtype == DType::U8;
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  // Shapes come from files too (TFLite, Core ML readers): a product that
  // overflows is an error, not undefined behaviour.
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n))
      throw std::overflow_error("shape [" + shape_to_string(shape) + "] has more elements than fit in 64 bits");
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::string out;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += 'x';
    out += std::to_string(shape[i]);
  }
  return out;
}

std::string TensorType::to_string() const {
  return std::string(dtype_name(dtype)) + "[" + shape_to_string(shape) + "]";
}

namespace {
void check_shape(const Shape& shape) {
  for (int64_t d : shape)
    if (d < 0) throw std::invalid_argument("tensor shape has a negative dimension: " + shape_to_string(shape));
}
}  // namespace

Tensor Tensor::zeros(DType dtype, Shape shape) {
  check_shape(shape);
  Tensor t;
  t.type_ = {dtype, std::move(shape)};
  size_t n = t.nbytes();
  std::shared_ptr<uint8_t[]> bytes(new uint8_t[n == 0 ? 1 : n]());
  t.data_ = bytes.get();
  t.owner_ = std::shared_ptr<const void>(bytes, bytes.get());
  t.writable_ = true;
  return t;
}

Tensor Tensor::copy_of(DType dtype, Shape shape, const void* bytes) {
  Tensor t = zeros(dtype, std::move(shape));
  if (t.nbytes()) std::memcpy(const_cast<void*>(t.data_), bytes, t.nbytes());
  return t;
}

Tensor Tensor::borrow(DType dtype, Shape shape, const void* data, std::shared_ptr<const void> keepalive) {
  check_shape(shape);
  Tensor t;
  t.type_ = {dtype, std::move(shape)};
  t.data_ = data;
  t.owner_ = std::move(keepalive);
  t.writable_ = false;
  return t;
}

Tensor Tensor::scalar_f32(float v) { return copy_of(DType::F32, {}, &v); }
Tensor Tensor::scalar_i64(int64_t v) { return copy_of(DType::I64, {}, &v); }

Tensor Tensor::from_f32(Shape shape, const std::vector<float>& values) {
  if (static_cast<int64_t>(values.size()) != shape_numel(shape))
    throw std::invalid_argument("from_f32: value count does not match shape " + shape_to_string(shape));
  return copy_of(DType::F32, std::move(shape), values.data());
}

Tensor Tensor::from_i64(Shape shape, const std::vector<int64_t>& values) {
  if (static_cast<int64_t>(values.size()) != shape_numel(shape))
    throw std::invalid_argument("from_i64: value count does not match shape " + shape_to_string(shape));
  return copy_of(DType::I64, std::move(shape), values.data());
}

void* Tensor::mutable_data() {
  if (!writable_) throw std::logic_error("mutable_data() on a borrowed (read-only) tensor");
  return const_cast<void*>(data_);
}

double Tensor::element_as_double(int64_t i) const {
  switch (dtype()) {
    case DType::F32: return data_as<float>()[i];
    case DType::F16: return half_to_float(data_as<uint16_t>()[i]);
    case DType::I32: return data_as<int32_t>()[i];
    case DType::I64: return static_cast<double>(data_as<int64_t>()[i]);
    case DType::Bool: return data_as<uint8_t>()[i] ? 1.0 : 0.0;
    case DType::I8: return data_as<int8_t>()[i];
    case DType::U8: return data_as<uint8_t>()[i];
  }
  return 0;
}

int64_t Tensor::element_as_int(int64_t i) const {
  switch (dtype()) {
    case DType::F32:
    case DType::F16: return static_cast<int64_t>(element_as_double(i));
    case DType::I32: return data_as<int32_t>()[i];
    case DType::I64: return data_as<int64_t>()[i];
    case DType::Bool: return data_as<uint8_t>()[i] ? 1 : 0;
    case DType::I8: return data_as<int8_t>()[i];
    case DType::U8: return data_as<uint8_t>()[i];
  }
  return 0;
}

namespace {
template <class Dst>
void cast_into(const Tensor& src, Dst* dst) {
  const int64_t n = src.numel();
  switch (src.dtype()) {
    case DType::F32: { auto s = src.data_as<float>(); for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<Dst>(s[i]); break; }
    case DType::I32: { auto s = src.data_as<int32_t>(); for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<Dst>(s[i]); break; }
    case DType::I64: { auto s = src.data_as<int64_t>(); for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<Dst>(s[i]); break; }
    case DType::I8: { auto s = src.data_as<int8_t>(); for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<Dst>(s[i]); break; }
    case DType::U8: { auto s = src.data_as<uint8_t>(); for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<Dst>(s[i]); break; }
    case DType::Bool: { auto s = src.data_as<uint8_t>(); for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<Dst>(s[i] != 0); break; }
    case DType::F16: {
      auto s = src.data_as<uint16_t>();
      if constexpr (std::is_same_v<Dst, float>) {
        halves_to_floats(s, dst, static_cast<size_t>(n));
      } else {
        for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<Dst>(half_to_float(s[i]));
      }
      break;
    }
  }
}
}  // namespace

Tensor Tensor::cast(DType to) const {
  Tensor out = zeros(to, shape());
  const int64_t n = numel();
  switch (to) {
    case DType::F32: cast_into(*this, out.mutable_as<float>()); break;
    case DType::I32: cast_into(*this, out.mutable_as<int32_t>()); break;
    case DType::I64: cast_into(*this, out.mutable_as<int64_t>()); break;
    case DType::I8: cast_into(*this, out.mutable_as<int8_t>()); break;
    case DType::U8: cast_into(*this, out.mutable_as<uint8_t>()); break;
    case DType::Bool: {
      auto* d = out.mutable_as<uint8_t>();
      for (int64_t i = 0; i < n; ++i) d[i] = element_as_double(i) != 0.0 ? 1 : 0;
      break;
    }
    case DType::F16: {
      auto* d = out.mutable_as<uint16_t>();
      if (dtype() == DType::F16) std::memcpy(d, data_, nbytes());
      else if (dtype() == DType::F32) floats_to_halves(data_as<float>(), d, static_cast<size_t>(n));
      else for (int64_t i = 0; i < n; ++i) d[i] = float_to_half(static_cast<float>(element_as_double(i)));
      break;
    }
  }
  return out;
}

Tensor Tensor::reshaped(Shape shape) const {
  if (shape_numel(shape) != numel())
    throw std::invalid_argument("reshaped: " + type_.to_string() + " to " + shape_to_string(shape) +
                                " changes the element count");
  Tensor t = *this;
  t.type_.shape = std::move(shape);
  return t;
}

uint16_t float_to_half(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t mag = x & 0x7fffffffu;
  if (mag >= 0x7f800000u) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00u | (mag > 0x7f800000u ? 0x200u : 0u));
  }
  if (mag >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (mag < 0x38800000u) {  // subnormal or zero in half
    if (mag < 0x33000000u) return static_cast<uint16_t>(sign);  // below half of min subnormal
    uint32_t exp = mag >> 23;
    uint32_t mant = (mag & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - exp;  // value = mant * 2^(exp-150) = (mant >> shift) * 2^-24
    uint32_t result = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1u);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (result & 1u))) ++result;
    return static_cast<uint16_t>(sign | result);
  }
  uint32_t exp = ((mag >> 23) - 112) << 10;
  uint32_t mant = (mag >> 13) & 0x3ffu;
  uint32_t result = exp | mant;
  uint32_t rem = mag & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (result & 1u))) ++result;
  return static_cast<uint16_t>(sign | result);
}

float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do { ++e; mant <<= 1; } while ((mant & 0x400u) == 0);
      bits = sign | ((112u - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(bits);
}

namespace {

uint16_t float_to_half_saturated(float f) {
  if (std::isfinite(f)) f = std::clamp(f, -65504.0f, 65504.0f);
  return float_to_half(f);
}

// 8 lanes at a time; vcvtps2ph with round-to-nearest-even matches
// float_to_half bit for bit (NaN payloads aside).
__attribute__((target("avx2,f16c"))) void floats_to_halves_f16c(const float* src, uint16_t* dst, size_t n,
                                                               bool saturate) {
  const __m256 hi = _mm256_set1_ps(65504.0f), lo = _mm256_set1_ps(-65504.0f);
  const __m256 inf = _mm256_set1_ps(INFINITY);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 x = _mm256_loadu_ps(src + i);
    if (saturate) {
      // max/min return their second operand for NaN, so NaN passes; then
      // infinities are put back.
      __m256 c = _mm256_min_ps(hi, _mm256_max_ps(lo, x));
      __m256 is_inf = _mm256_cmp_ps(_mm256_and_ps(x, abs_mask), inf, _CMP_EQ_OQ);
      x = _mm256_blendv_ps(c, x, is_inf);
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) dst[i] = saturate ? float_to_half_saturated(src[i]) : float_to_half(src[i]);
}

__attribute__((target("avx2,f16c"))) void halves_to_floats_f16c(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; ++i) dst[i] = half_to_float(src[i]);
}

bool has_f16c() {
  // CPUID directly: clang 14's __builtin_cpu_supports does not know "f16c".
  static const bool yes = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    const bool f16c = c & bit_F16C, avx = c & bit_AVX, osxsave = c & bit_OSXSAVE;
    if (!f16c || !avx || !osxsave) return false;
    unsigned lo = 0, hi = 0;  // XGETBV 0: the OS saves the XMM and YMM registers
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0x6) != 0x6) return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return (b & bit_AVX2) != 0;
  }();
  return yes;
}

}  // namespace

void floats_to_halves(const float* src, uint16_t* dst, size_t n, bool saturate) {
  if (has_f16c()) return floats_to_halves_f16c(src, dst, n, saturate);
  for (size_t i = 0; i < n; ++i) dst[i] = saturate ? float_to_half_saturated(src[i]) : float_to_half(src[i]);
}

void halves_to_floats(const uint16_t* src, float* dst, size_t n) {
  if (has_f16c()) return halves_to_floats_f16c(src, dst, n);
  for (size_t i = 0; i < n; ++i) dst[i] = half_to_float(src[i]);
}

}  // namespace exporters::ir
