// Reductions over axes (sum, mean, max, min, prod), argmax/argmin, cumsum and
// softmax/log_softmax. Float sums accumulate in double, integers in int64
// (wrapping to the element type at the end); bool reduces as 0/1.
#include <algorithm>
#include <limits>

#include "kernel.hpp"

namespace exporters::runtime {

namespace {

enum class Reduce { sum, mean, max, min, prod };

template <class T> using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

template <class T> T from_acc(Acc<T> v) {
  if constexpr (std::is_same_v<T, bool>) return v != 0;
  else return static_cast<T>(v);
}

template <Reduce R, class A> A combine(A acc, A x) {
  if constexpr (R == Reduce::sum || R == Reduce::mean) {
    if constexpr (std::is_integral_v<A>) return static_cast<A>(static_cast<uint64_t>(acc) + static_cast<uint64_t>(x));
    else return acc + x;
  } else if constexpr (R == Reduce::prod) {
    if constexpr (std::is_integral_v<A>) return static_cast<A>(static_cast<uint64_t>(acc) * static_cast<uint64_t>(x));
    else return acc * x;
  } else if constexpr (R == Reduce::max) {
    if constexpr (std::is_floating_point_v<A>)
      if (std::isnan(x)) return x;
    return x > acc ? x : acc;
  } else {
    if constexpr (std::is_floating_point_v<A>)
      if (std::isnan(x)) return x;
    return x < acc ? x : acc;
  }
}

template <Reduce R, class A> A identity() {
  if constexpr (R == Reduce::sum || R == Reduce::mean) return A{0};
  else if constexpr (R == Reduce::prod) return A{1};
  else if constexpr (R == Reduce::max)
    return std::is_floating_point_v<A> ? -std::numeric_limits<A>::infinity() : std::numeric_limits<A>::lowest();
  else
    return std::is_floating_point_v<A> ? std::numeric_limits<A>::infinity() : std::numeric_limits<A>::max();
}

// Walks the input once in memory order; each element folds into the
// accumulator of its output position (stride 0 along reduced axes).
template <Reduce R>
std::vector<Tensor> k_reduce(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  const Shape& xs = x.shape();
  const int64_t rank = static_cast<int64_t>(xs.size());
  std::vector<int64_t> axes = args.attrs().ints("axes", {});
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  std::vector<bool> reduced(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    if (a < 0 || a >= rank) kernel_error("axis " + std::to_string(a) + " out of range");
    reduced[a] = true;
  }
  if ((R == Reduce::max || R == Reduce::min) && x.numel() == 0)
    kernel_error("max/min of an empty tensor");
  Shape kept;  // output shape with keepdims
  int64_t count = 1;
  for (int64_t i = 0; i < rank; ++i) {
    kept.push_back(reduced[i] ? 1 : xs[i]);
    if (reduced[i]) count *= xs[i];
  }
  std::vector<int64_t> out_strides = contiguous_strides(kept);
  for (int64_t i = 0; i < rank; ++i)
    if (reduced[i]) out_strides[i] = 0;
  Tensor out = new_tensor(args.outputs.at(0));
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = Acc<T>;
    if constexpr (std::is_same_v<T, bool> && R == Reduce::mean) {
      kernel_error("mean is not defined for bool");
    } else {
      std::vector<A> acc(static_cast<size_t>(out.numel()), identity<R, A>());
      const T* px = x.data_as<T>();
      std::array<std::vector<int64_t>, 2> strides{contiguous_strides(xs), out_strides};
      strided_loop<2>(xs, strides, [&](const auto& off, const auto& inc, int64_t n) {
        const T* src = px + off[0];
        A* dst = acc.data() + off[1];
        if (inc[1] == 0) {
          A a = dst[0];
          for (int64_t i = 0; i < n; ++i) a = combine<R, A>(a, static_cast<A>(src[i * inc[0]]));
          dst[0] = a;
        } else if (inc[0] == 1 && inc[1] == 1) {
          for (int64_t i = 0; i < n; ++i) dst[i] = combine<R, A>(dst[i], static_cast<A>(src[i]));
        } else {
          for (int64_t i = 0; i < n; ++i)
            dst[i * inc[1]] = combine<R, A>(dst[i * inc[1]], static_cast<A>(src[i * inc[0]]));
        }
      });
      T* po = out.mutable_as<T>();
      for (size_t i = 0; i < acc.size(); ++i) {
        if constexpr (R == Reduce::mean) {
          if constexpr (std::is_floating_point_v<A>) po[i] = static_cast<T>(acc[i] / static_cast<double>(count));
          else po[i] = count ? static_cast<T>(acc[i] / count) : T{0};
        } else {
          po[i] = from_acc<T>(acc[i]);
        }
      }
    }
  });
  return {out};
}

// argmax/argmin: the first index of the extreme value; NaN counts as the
// extreme (as in PyTorch).
template <bool kMax>
std::vector<Tensor> k_argreduce(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  const AxisSplit s = split_at(x.shape(), args.attrs().i("axis"));
  if (s.n == 0) kernel_error("argmax/argmin over an empty axis");
  Tensor out = new_tensor(args.outputs.at(0));
  int64_t* po = out.mutable_as<int64_t>();
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data_as<T>();
    std::vector<T> best(static_cast<size_t>(s.inner));
    for (int64_t o = 0; o < s.outer; ++o) {
      const T* base = px + o * s.n * s.inner;
      int64_t* idx = po + o * s.inner;
      std::copy(base, base + s.inner, best.begin());
      std::fill(idx, idx + s.inner, 0);
      for (int64_t j = 1; j < s.n; ++j) {
        const T* row = base + j * s.inner;
        for (int64_t i = 0; i < s.inner; ++i) {
          const T v = row[i];
          bool better = kMax ? v > best[i] : v < best[i];
          if constexpr (std::is_floating_point_v<T>) better = better || (std::isnan(v) && !std::isnan(best[i]));
          if (better) {
            best[i] = v;
            idx[i] = j;
          }
        }
      }
    }
  });
  return {out};
}

std::vector<Tensor> k_cumsum(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  const AxisSplit s = split_at(x.shape(), args.attrs().i("axis"));
  const bool exclusive = args.attrs().i("exclusive", 0) != 0;
  const bool reverse = args.attrs().i("reverse", 0) != 0;
  Tensor out = new_tensor(args.outputs.at(0));
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = Acc<T>;
    if constexpr (std::is_same_v<T, bool>) {
      kernel_error("cumsum is not defined for bool");
    } else {
      const T* px = x.data_as<T>();
      T* po = out.mutable_as<T>();
      std::vector<A> acc(static_cast<size_t>(s.inner));
      for (int64_t o = 0; o < s.outer; ++o) {
        std::fill(acc.begin(), acc.end(), A{0});
        for (int64_t step = 0; step < s.n; ++step) {
          const int64_t j = reverse ? s.n - 1 - step : step;
          const T* src = px + (o * s.n + j) * s.inner;
          T* dst = po + (o * s.n + j) * s.inner;
          for (int64_t i = 0; i < s.inner; ++i) {
            const A next = combine<Reduce::sum, A>(acc[i], static_cast<A>(src[i]));
            dst[i] = static_cast<T>(exclusive ? acc[i] : next);
            acc[i] = next;
          }
        }
      }
    }
  });
  return {out};
}

template <bool kLog>
std::vector<Tensor> k_softmax(const KernelArgs& args) {
  const Tensor& x = args.in(0);
  if (x.dtype() != DType::F32) kernel_error("softmax needs a float input");
  const AxisSplit s = x.shape().empty() ? AxisSplit{} : split_at(x.shape(), args.attrs().i("axis"));
  Tensor out = new_tensor(args.outputs.at(0));
  const float* px = x.data_as<float>();
  float* po = out.mutable_as<float>();
  std::vector<float> mx(static_cast<size_t>(s.inner));
  std::vector<double> sum(static_cast<size_t>(s.inner));
  for (int64_t o = 0; o < s.outer; ++o) {
    const float* base = px + o * s.n * s.inner;
    float* obase = po + o * s.n * s.inner;
    std::fill(mx.begin(), mx.end(), -std::numeric_limits<float>::infinity());
    std::fill(sum.begin(), sum.end(), 0.0);
    for (int64_t j = 0; j < s.n; ++j)
      for (int64_t i = 0; i < s.inner; ++i) mx[i] = std::max(mx[i], base[j * s.inner + i]);
    for (int64_t j = 0; j < s.n; ++j)
      for (int64_t i = 0; i < s.inner; ++i) {
        const float e = std::exp(base[j * s.inner + i] - mx[i]);
        sum[i] += e;
        if (!kLog) obase[j * s.inner + i] = e;
      }
    // kLog: shift = max + log(sum); otherwise scale = 1 / sum.
    for (int64_t i = 0; i < s.inner; ++i)
      mx[i] = kLog ? mx[i] + static_cast<float>(std::log(sum[i])) : static_cast<float>(1.0 / sum[i]);
    for (int64_t j = 0; j < s.n; ++j)
      for (int64_t i = 0; i < s.inner; ++i) {
        if (kLog) obase[j * s.inner + i] = base[j * s.inner + i] - mx[i];
        else obase[j * s.inner + i] *= mx[i];
      }
  }
  return {out};
}

const std::vector<KernelRow> kRows = {
    {"reduce_sum", k_reduce<Reduce::sum>},
    {"reduce_mean", k_reduce<Reduce::mean>},
    {"reduce_max", k_reduce<Reduce::max>},
    {"reduce_min", k_reduce<Reduce::min>},
    {"reduce_prod", k_reduce<Reduce::prod>},
    {"argmax", k_argreduce<true>},
    {"argmin", k_argreduce<false>},
    {"cumsum", k_cumsum},
    {"softmax", k_softmax<false>},
    {"log_softmax", k_softmax<true>},
};

}  // namespace

const std::vector<KernelRow>& reduce_kernels() { return kRows; }

}  // namespace exporters::runtime
