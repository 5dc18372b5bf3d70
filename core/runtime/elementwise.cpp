// Elementwise kernels: binary arithmetic, comparisons, logic, unary math and
// activations, cast, where, constant and identity. Binary ops broadcast
// numpy-style through strided_loop; inner runs get contiguous fast paths.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernel.hpp"

namespace exporters::runtime {

namespace {

template <class T> constexpr bool is_signed_int = std::is_integral_v<T> && std::is_signed_v<T>;
template <class T> constexpr bool is_int = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// Wrapping integer arithmetic (no signed-overflow UB).
template <class T, class F> T wrap(T a, T b, F f) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(f(static_cast<U>(a), static_cast<U>(b)));
}

// ── Binary ops: each defines which dtypes it accepts and the scalar function.

struct Add {
  template <class T> static constexpr bool ok = true;
  template <class T> static T f(T a, T b) {
    if constexpr (std::is_same_v<T, bool>) return a || b;
    else if constexpr (is_int<T>) return wrap(a, b, [](auto x, auto y) { return x + y; });
    else return a + b;
  }
};
struct Sub {
  template <class T> static constexpr bool ok = !std::is_same_v<T, bool>;
  template <class T> static T f(T a, T b) {
    if constexpr (is_int<T>) return wrap(a, b, [](auto x, auto y) { return x - y; });
    else return a - b;
  }
};
struct Mul {
  template <class T> static constexpr bool ok = true;
  template <class T> static T f(T a, T b) {
    if constexpr (std::is_same_v<T, bool>) return a && b;
    else if constexpr (is_int<T>) return wrap(a, b, [](auto x, auto y) { return x * y; });
    else return a * b;
  }
};
template <class T> void check_nonzero(T b) {
  if (b == 0) kernel_error("integer division by zero");
}
struct Div {
  template <class T> static constexpr bool ok = !std::is_same_v<T, bool>;
  template <class T> static T f(T a, T b) {
    if constexpr (is_int<T>) {
      check_nonzero(b);
      if constexpr (is_signed_int<T>)
        if (b == -1) return wrap(T{0}, a, [](auto x, auto y) { return x - y; });
      return static_cast<T>(a / b);  // C++ truncates toward zero
    } else {
      return a / b;
    }
  }
};
struct FloorDiv {
  template <class T> static constexpr bool ok = !std::is_same_v<T, bool>;
  template <class T> static T f(T a, T b) {
    if constexpr (is_int<T>) {
      check_nonzero(b);
      if constexpr (is_signed_int<T>)
        if (b == -1) return wrap(T{0}, a, [](auto x, auto y) { return x - y; });
      return floor_div_int(a, b);
    } else {
      if (b == 0) return a / b;
      // Exact floor of the true quotient, as Python's float // computes it.
      T mod = std::fmod(a, b);
      T div = (a - mod) / b;
      if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1;
      if (div == 0) return std::copysign(T{0}, a / b);
      T fl = std::floor(div);
      if (div - fl > T(0.5)) fl += 1;
      return fl;
    }
  }
};
struct Mod {
  template <class T> static constexpr bool ok = !std::is_same_v<T, bool>;
  template <class T> static T f(T a, T b) {
    if constexpr (is_int<T>) {
      check_nonzero(b);
      if constexpr (is_signed_int<T>)
        if (b == -1) return T{0};
      T r = static_cast<T>(a % b);
      if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
      return r;
    } else {
      T r = std::fmod(a, b);
      if (r != 0 && ((b < 0) != (r < 0))) r += b;
      return r;
    }
  }
};
struct Pow {
  template <class T> static constexpr bool ok = !std::is_same_v<T, bool>;
  template <class T> static T f(T a, T b) {
    if constexpr (is_int<T>) {
      if constexpr (is_signed_int<T>)
        if (b < 0) kernel_error("integers to negative integer powers are not allowed");
      using U = std::make_unsigned_t<T>;
      U result = 1, base = static_cast<U>(a);
      for (auto e = static_cast<uint64_t>(b); e; e >>= 1) {
        if (e & 1) result = static_cast<U>(result * base);
        base = static_cast<U>(base * base);
      }
      return static_cast<T>(result);
    } else {
      return std::pow(a, b);
    }
  }
};
struct Maximum {
  template <class T> static constexpr bool ok = true;
  template <class T> static T f(T a, T b) {
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
    return a > b ? a : b;
  }
};
struct Minimum {
  template <class T> static constexpr bool ok = true;
  template <class T> static T f(T a, T b) {
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
    return a < b ? a : b;
  }
};

#define EXPORTERS_COMPARE(Name, expr)                               \
  struct Name {                                                     \
    template <class T> static constexpr bool ok = true;             \
    template <class T> static bool f(T a, T b) { return expr; }     \
  };
EXPORTERS_COMPARE(Equal, a == b)
EXPORTERS_COMPARE(NotEqual, a != b)
EXPORTERS_COMPARE(Less, a < b)
EXPORTERS_COMPARE(LessEqual, a <= b)
EXPORTERS_COMPARE(Greater, a > b)
EXPORTERS_COMPARE(GreaterEqual, a >= b)
EXPORTERS_COMPARE(LogicalAnd, static_cast<bool>(a) && static_cast<bool>(b))
EXPORTERS_COMPARE(LogicalOr, static_cast<bool>(a) || static_cast<bool>(b))
EXPORTERS_COMPARE(LogicalXor, static_cast<bool>(a) != static_cast<bool>(b))
#undef EXPORTERS_COMPARE

template <class TIn, class TOut, class F>
void apply_binary(const Tensor& x, const Tensor& y, Tensor& out, F f) {
  const Shape& os = out.shape();
  const TIn* px = x.data_as<TIn>();
  const TIn* py = y.data_as<TIn>();
  TOut* po = out.mutable_as<TOut>();
  std::array<std::vector<int64_t>, 3> strides{contiguous_strides(os), broadcast_strides(x.shape(), os),
                                              broadcast_strides(y.shape(), os)};
  strided_loop<3>(os, strides, [&](const auto& off, const auto& inc, int64_t n) {
    TOut* o = po + off[0];
    const TIn* a = px + off[1];
    const TIn* b = py + off[2];
    if (inc[1] == 1 && inc[2] == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
    } else if (inc[1] == 1 && inc[2] == 0) {
      const TIn bv = b[0];
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], bv);
    } else if (inc[1] == 0 && inc[2] == 1) {
      const TIn av = a[0];
      for (int64_t i = 0; i < n; ++i) o[i] = f(av, b[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i * inc[1]], b[i * inc[2]]);
    }
  });
}

template <class Op>
std::vector<Tensor> binary(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  const Tensor& y = args.in(1);
  if (x.dtype() != y.dtype())
    kernel_error("operands have different dtypes (" + dtype_str(x.dtype()) + ", " +
                 dtype_str(y.dtype()) + ")");
  Tensor out = new_tensor(args.outputs.at(0));
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using R = decltype(Op::template f<T>(T{}, T{}));
    if constexpr (Op::template ok<T>) {
      if (ir::dtype_size(out.dtype()) != sizeof(R)) kernel_error("unexpected output dtype");
      apply_binary<T, R>(x, y, out, [](T a, T b) { return Op::template f<T>(a, b); });
    } else {
      kernel_error("not defined for dtype " + dtype_str(x.dtype()));
    }
  });
  return {out};
}

template <class Op>
std::vector<Tensor> logic_binary(const KernelArgs& args) {
  for (size_t i = 0; i < 2; ++i)
    if (args.in(i).dtype() != DType::Bool) kernel_error("logical ops take bool inputs");
  return binary<Op>(args);
}

// ── Unary ops.

template <class F>
std::vector<Tensor> map_float(const KernelArgs& args, F f) {
  const Tensor& x = args.in(0);
  if (x.dtype() != DType::F32) kernel_error("expects a float input, got " + dtype_str(x.dtype()));
  Tensor out = new_tensor(args.outputs.at(0));
  const float* px = x.data_as<float>();
  float* po = out.mutable_as<float>();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) po[i] = f(px[i]);
  return {out};
}

// Applies f to every numeric dtype (f takes and returns T).
template <class F>
std::vector<Tensor> map_any(const KernelArgs& args, F f, bool allow_bool = false) {
  const Tensor& x = args.in(0);
  Tensor out = new_tensor(args.outputs.at(0));
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      if (!allow_bool) kernel_error("not defined for bool");
    }
    const T* px = x.data_as<T>();
    T* po = out.mutable_as<T>();
    for (int64_t i = 0, n = x.numel(); i < n; ++i) po[i] = static_cast<T>(f(px[i]));
  });
  return {out};
}

float sigmoidf(float x) { return 1.0f / (1.0f + std::exp(-x)); }

#define EXPORTERS_FLOAT_UNARY(fn_name, expr)                                  \
  std::vector<Tensor> fn_name(const KernelArgs& args) {                       \
    return map_float(args, [](float x) -> float { return expr; });            \
  }
EXPORTERS_FLOAT_UNARY(k_exp, std::exp(x))
EXPORTERS_FLOAT_UNARY(k_log, std::log(x))
EXPORTERS_FLOAT_UNARY(k_sqrt, std::sqrt(x))
EXPORTERS_FLOAT_UNARY(k_rsqrt, 1.0f / std::sqrt(x))
EXPORTERS_FLOAT_UNARY(k_reciprocal, 1.0f / x)
EXPORTERS_FLOAT_UNARY(k_sin, std::sin(x))
EXPORTERS_FLOAT_UNARY(k_cos, std::cos(x))
EXPORTERS_FLOAT_UNARY(k_tanh, std::tanh(x))
EXPORTERS_FLOAT_UNARY(k_sigmoid, sigmoidf(x))
EXPORTERS_FLOAT_UNARY(k_erf, std::erf(x))
EXPORTERS_FLOAT_UNARY(k_silu, x / (1.0f + std::exp(-x)))
EXPORTERS_FLOAT_UNARY(k_hardswish, x * std::min(std::max(x + 3.0f, 0.0f), 6.0f) / 6.0f)
EXPORTERS_FLOAT_UNARY(k_hardsigmoid, std::min(std::max(x + 3.0f, 0.0f), 6.0f) / 6.0f)
#undef EXPORTERS_FLOAT_UNARY

// Rounding ops are the identity on integers.
std::vector<Tensor> k_floor(const KernelArgs& args) {
  return map_any(args, [](auto x) {
    if constexpr (std::is_floating_point_v<decltype(x)>) return std::floor(x);
    else return x;
  });
}
std::vector<Tensor> k_ceil(const KernelArgs& args) {
  return map_any(args, [](auto x) {
    if constexpr (std::is_floating_point_v<decltype(x)>) return std::ceil(x);
    else return x;
  });
}
std::vector<Tensor> k_round(const KernelArgs& args) {
  // nearbyint rounds half to even in the default rounding mode.
  return map_any(args, [](auto x) {
    if constexpr (std::is_floating_point_v<decltype(x)>) return std::nearbyint(x);
    else return x;
  });
}
std::vector<Tensor> k_neg(const KernelArgs& args) {
  return map_any(args, [](auto x) {
    using T = decltype(x);
    if constexpr (is_int<T>) return wrap(T{0}, x, [](auto a, auto b) { return a - b; });
    else return -x;
  });
}
std::vector<Tensor> k_abs(const KernelArgs& args) {
  return map_any(args, [](auto x) {
    using T = decltype(x);
    if constexpr (std::is_unsigned_v<T>) return x;
    else if constexpr (is_int<T>) return x < 0 ? wrap(T{0}, x, [](auto a, auto b) { return a - b; }) : x;
    else return std::fabs(x);
  });
}
std::vector<Tensor> k_sign(const KernelArgs& args) {
  return map_any(args, [](auto x) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(x)) return x;
    return static_cast<T>((T{0} < x) - (x < T{0}));
  });
}
std::vector<Tensor> k_relu(const KernelArgs& args) {
  return map_any(args, [](auto x) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(x)) return x;
    return x > T{0} ? x : T{0};
  });
}
std::vector<Tensor> k_logical_not(const KernelArgs& args) {
  if (args.in(0).dtype() != DType::Bool) kernel_error("logical_not takes a bool input");
  return map_any(args, [](auto x) { return !static_cast<bool>(x); }, true);
}
std::vector<Tensor> k_identity(const KernelArgs& args) { return {args.in(0)}; }
std::vector<Tensor> k_constant(const KernelArgs& args) { return {args.node.constant()}; }

std::vector<Tensor> k_gelu(const KernelArgs& args) {
  const std::string mode = args.attrs().s("approximate", "none");
  if (mode == "none")
    return map_float(args, [](float x) {
      return x * 0.5f * (1.0f + std::erf(x * static_cast<float>(M_SQRT1_2)));
    });
  if (mode == "tanh")
    return map_float(args, [](float x) {
      const float k = static_cast<float>(M_SQRT2 * M_2_SQRTPI * 0.5);  // sqrt(2/pi)
      const float inner = k * (x + 0.044715f * x * x * x);
      return 0.5f * x * (1.0f + std::tanh(inner));
    });
  kernel_error("unknown approximate mode '" + mode + "'");
}
std::vector<Tensor> k_softplus(const KernelArgs& args) {
  const auto beta = static_cast<float>(args.attrs().f("beta", 1.0));
  const auto threshold = static_cast<float>(args.attrs().f("threshold", 20.0));
  return map_float(args, [=](float x) {
    return x * beta > threshold ? x : std::log1p(std::exp(x * beta)) / beta;
  });
}
std::vector<Tensor> k_leaky_relu(const KernelArgs& args) {
  const auto alpha = static_cast<float>(args.attrs().f("alpha", 0.01));
  return map_float(args, [=](float x) { return x > 0.0f ? x : x * alpha; });
}
std::vector<Tensor> k_elu(const KernelArgs& args) {
  const auto alpha = static_cast<float>(args.attrs().f("alpha", 1.0));
  return map_float(args, [=](float x) { return x > 0.0f ? x : alpha * std::expm1(x); });
}
std::vector<Tensor> k_clamp(const KernelArgs& args) {
  const ir::Attrs& a = args.attrs();
  const bool has_lo = a.has("min"), has_hi = a.has("max");
  const double lo = has_lo ? a.f("min") : 0.0, hi = has_hi ? a.f("max") : 0.0;
  return map_any(args, [=](auto x) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(x)) return x;
      if (has_lo && x < static_cast<T>(lo)) x = static_cast<T>(lo);
      if (has_hi && x > static_cast<T>(hi)) x = static_cast<T>(hi);
      return x;
    } else {
      // Compare in double so that bounds outside T's range behave.
      double v = static_cast<double>(x);
      if (has_lo && v < lo) v = std::ceil(lo);
      if (has_hi && v > hi) v = std::floor(hi);
      return static_cast<T>(v);
    }
  });
}

// ── cast: any dtype to any dtype, f16 handled here directly.

template <class To, class From> To convert(From v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != From{0};
  } else if constexpr (std::is_floating_point_v<To>) {
    return static_cast<To>(v);
  } else if constexpr (std::is_floating_point_v<From>) {
    // float -> int truncates; out-of-range and NaN are defined here (no UB):
    // through int64 so narrow types wrap as PyTorch's CPU casts do.
    if (std::isnan(v)) return To{0};
    const double d = std::trunc(static_cast<double>(v));
    if (d >= 9.2233720368547758e18) return static_cast<To>(std::numeric_limits<int64_t>::max());
    if (d <= -9.2233720368547758e18) return static_cast<To>(std::numeric_limits<int64_t>::min());
    return static_cast<To>(static_cast<int64_t>(d));
  } else {
    return static_cast<To>(v);
  }
}

std::vector<Tensor> k_cast(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  Tensor out = new_tensor(args.outputs.at(0));
  const DType from = x.dtype(), to = out.dtype();
  const int64_t n = x.numel();
  if (from == to) return {x};
  // f16 goes through float on either side.
  Tensor src = x;
  if (from == DType::F16) {
    src = Tensor::zeros(DType::F32, x.shape());
    float* d = src.mutable_as<float>();
    const auto* h = x.data_as<uint16_t>();
    ir::halves_to_floats(h, d, static_cast<size_t>(n));
    if (to == DType::F32) return {src};
  }
  Tensor dst = to == DType::F16 ? Tensor::zeros(DType::F32, x.shape()) : out;
  if (src.dtype() != dst.dtype()) {
    visit_dtype(src.dtype(), [&](auto from_tag) {
      using F = decltype(from_tag);
      visit_dtype(dst.dtype(), [&](auto to_tag) {
        using T = decltype(to_tag);
        const F* ps = src.data_as<F>();
        T* pd = dst.mutable_as<T>();
        for (int64_t i = 0; i < n; ++i) pd[i] = convert<T>(ps[i]);
      });
    });
  } else {
    std::memcpy(dst.mutable_data(), src.data(), src.nbytes());
  }
  if (to == DType::F16) {
    const float* s = dst.data_as<float>();
    auto* h = out.mutable_as<uint16_t>();
    ir::floats_to_halves(s, h, static_cast<size_t>(n));
  }
  return {out};
}

// ── where(cond, a, b): moves elements of any width.
std::vector<Tensor> k_where(const KernelArgs& args) {
  const Tensor& c = args.in(0);
  const Tensor& a = args.in(1);
  const Tensor& b = args.in(2);
  if (c.dtype() != DType::Bool) kernel_error("condition must be bool, got " + dtype_str(c.dtype()));
  if (a.dtype() != b.dtype())
    kernel_error("branches have different dtypes (" + dtype_str(a.dtype()) + ", " +
                 dtype_str(b.dtype()) + ")");
  Tensor out = new_tensor(args.outputs.at(0));
  const Shape& os = out.shape();
  std::array<std::vector<int64_t>, 4> strides{contiguous_strides(os), broadcast_strides(c.shape(), os),
                                              broadcast_strides(a.shape(), os),
                                              broadcast_strides(b.shape(), os)};
  visit_width(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* po = out.mutable_as<T>();
    const auto* pc = c.data_as<uint8_t>();
    const T* pa = a.data_as<T>();
    const T* pb = b.data_as<T>();
    strided_loop<4>(os, strides, [&](const auto& off, const auto& inc, int64_t n) {
      for (int64_t i = 0; i < n; ++i)
        po[off[0] + i] = pc[off[1] + i * inc[1]] ? pa[off[2] + i * inc[2]] : pb[off[3] + i * inc[3]];
    });
  });
  return {out};
}

const std::vector<KernelRow> kRows = {
    {"constant", k_constant, HalfPolicy::native},
    {"identity", k_identity, HalfPolicy::native},
    {"add", binary<Add>},
    {"sub", binary<Sub>},
    {"mul", binary<Mul>},
    {"div", binary<Div>},
    {"floor_div", binary<FloorDiv>},
    {"mod", binary<Mod>},
    {"pow", binary<Pow>},
    {"maximum", binary<Maximum>},
    {"minimum", binary<Minimum>},
    {"equal", binary<Equal>},
    {"not_equal", binary<NotEqual>},
    {"less", binary<Less>},
    {"less_equal", binary<LessEqual>},
    {"greater", binary<Greater>},
    {"greater_equal", binary<GreaterEqual>},
    {"logical_and", logic_binary<LogicalAnd>},
    {"logical_or", logic_binary<LogicalOr>},
    {"logical_xor", logic_binary<LogicalXor>},
    {"logical_not", k_logical_not},
    {"neg", k_neg},
    {"abs", k_abs},
    {"exp", k_exp},
    {"log", k_log},
    {"sqrt", k_sqrt},
    {"rsqrt", k_rsqrt},
    {"reciprocal", k_reciprocal},
    {"sin", k_sin},
    {"cos", k_cos},
    {"tanh", k_tanh},
    {"sigmoid", k_sigmoid},
    {"erf", k_erf},
    {"floor", k_floor},
    {"ceil", k_ceil},
    {"round", k_round},
    {"sign", k_sign},
    {"relu", k_relu},
    {"silu", k_silu},
    {"hardswish", k_hardswish},
    {"hardsigmoid", k_hardsigmoid},
    {"gelu", k_gelu},
    {"softplus", k_softplus},
    {"clamp", k_clamp},
    {"leaky_relu", k_leaky_relu},
    {"elu", k_elu},
    {"cast", k_cast, HalfPolicy::native},
    {"where", k_where, HalfPolicy::native},
};

}  // namespace

const std::vector<KernelRow>& elementwise_kernels() { return kRows; }

}  // namespace exporters::runtime
