#include "core/validate/compare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace exporters::validate {

OutputComparison compare_tensor(const std::string& name, const ir::Tensor& expected, const ir::Tensor& actual,
                                const Tolerance& tolerance) {
  OutputComparison c;
  c.name = name;
  c.exact_dtype = !ir::is_float(expected.dtype());
  if (expected.numel() != actual.numel() ||
      (expected.shape() != actual.shape() && expected.shape().size() == actual.shape().size())) {
    c.shape_ok = false;
    c.pass = false;
    return c;
  }
  const int64_t n = expected.numel();
  double scale = 0, max_abs = 0;
  bool nan_mismatch = false;
  for (int64_t i = 0; i < n; ++i) {
    double e = expected.element_as_double(i);
    double a = actual.element_as_double(i);
    if (std::isnan(e) != std::isnan(a)) nan_mismatch = true;
    if (std::isnan(e) || std::isnan(a)) continue;
    if (std::isinf(e) || std::isinf(a)) {
      if (e != a) nan_mismatch = true;
      continue;
    }
    scale = std::max(scale, std::fabs(e));
    double d = std::fabs(e - a);
    max_abs = std::max(max_abs, d);
    if (c.exact_dtype && e != a) ++c.mismatches;
  }
  c.expected_scale = scale;
  c.max_abs_error = max_abs;
  c.max_rel_error = max_abs / std::max(1e-12, scale);
  c.allowed = c.exact_dtype ? 0.0 : tolerance.abs_tol * std::max(1.0, scale);
  c.pass = !nan_mismatch && (c.exact_dtype ? c.mismatches == 0 : max_abs <= c.allowed);
  if (nan_mismatch) c.max_abs_error = std::numeric_limits<double>::infinity();
  return c;
}

ValidationReport compare_outputs(const std::vector<std::string>& names, const std::vector<ir::Tensor>& expected,
                                 const std::vector<ir::Tensor>& actual, const Tolerance& tolerance) {
  if (expected.size() != actual.size() || names.size() != expected.size())
    throw std::runtime_error(fmt::format("validation: the original model has {} outputs, the export {}",
                                         expected.size(), actual.size()));
  ValidationReport report;
  for (size_t i = 0; i < expected.size(); ++i)
    report.outputs.push_back(compare_tensor(names[i], expected[i], actual[i], tolerance));
  return report;
}

bool ValidationReport::pass() const {
  return std::all_of(outputs.begin(), outputs.end(), [](const OutputComparison& c) { return c.pass; });
}

std::string ValidationReport::to_string() const {
  std::string out;
  for (const auto& c : outputs) {
    if (!c.shape_ok) {
      out += fmt::format("  {:<28} shape mismatch  FAIL\n", c.name);
    } else if (c.exact_dtype) {
      out += fmt::format("  {:<28} exact  mismatches {:<8}{} {}\n", c.name, c.mismatches,
                         c.near_ties && c.mismatches ? " (all near ties of the reference's top classes)" : "",
                         c.pass ? "PASS" : "FAIL");
    } else {
      out += fmt::format("  {:<28} max abs {:.3e}  max rel {:.3e}  allowed {:.3e}  {}\n", c.name, c.max_abs_error,
                         c.max_rel_error, c.allowed, c.pass ? "PASS" : "FAIL");
    }
  }
  out += pass() ? "validation: PASS\n" : "validation: FAIL\n";
  return out;
}

}  // namespace exporters::validate
