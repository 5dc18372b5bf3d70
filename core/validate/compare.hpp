// Numerical comparison of an export's outputs with the original model's.
#pragma once

#include <string>
#include <vector>

#include "exporters/ir/tensor.hpp"

namespace exporters::validate {

struct Tolerance {
  // Pass when max|a - b| <= abs_tol * max(1, max|expected|): absolute for
  // small outputs, relative to the output's scale for large ones.
  double abs_tol = 1e-4;
};

struct OutputComparison {
  std::string name;
  double max_abs_error = 0;
  double max_rel_error = 0;    // max_abs_error / max(1e-12, max|expected|)
  double expected_scale = 0;   // max|expected|
  double allowed = 0;          // the bound max_abs_error was held to
  bool exact_dtype = false;    // integer/bool outputs (argmax, class ids) must agree exactly
  int64_t mismatches = 0;      // for exact outputs
  bool near_ties = false;      // every mismatch is a near tie of the reference's scores (reduced precision)
  bool shape_ok = true;
  bool pass = false;
};

struct ValidationReport {
  std::vector<OutputComparison> outputs;
  bool pass() const;
  std::string to_string() const;  // one line per output, then PASS/FAIL
};

OutputComparison compare_tensor(const std::string& name, const ir::Tensor& expected, const ir::Tensor& actual,
                                const Tolerance& tolerance);

ValidationReport compare_outputs(const std::vector<std::string>& names, const std::vector<ir::Tensor>& expected,
                                 const std::vector<ir::Tensor>& actual, const Tolerance& tolerance);

}  // namespace exporters::validate
