#include "converter_table.hpp"

#include "torchscript_frontend.hpp"

namespace exporters::frontend {

const std::map<std::string, OpConverter>& builtin_converters() {
  static const ConverterTable table = [] {
    ConverterTable t;
    add_elementwise_converters(t);
    add_reduction_converters(t);
    add_shape_converters(t);
    add_creation_converters(t);
    add_nn_converters(t);
    // Last: it wraps rows such as aten::add so that scalar-only nodes fold.
    add_scalar_converters(t);
    return t;
  }();
  return table;
}

}  // namespace exporters::frontend
