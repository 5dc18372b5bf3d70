#include <fmt/format.h>

#include <sstream>

#include "exporters/ir/graph.hpp"

namespace exporters::ir {

namespace {

std::string format_double(double v) {
  // Shortest text that reads back to the same double keeps goldens stable.
  return fmt::format("{}", v);
}

template <class T>
std::string join(const std::vector<T>& values, std::string (*fmt_one)(T)) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    out += fmt_one(values[i]);
  }
  return out + "]";
}

std::string int_text(int64_t v) { return std::to_string(v); }

std::string tensor_text(const Tensor& t) {
  if (t.numel() > 8) return fmt::format("<{} data>", t.type().to_string());
  std::string out = t.type().to_string() + " {";
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (i) out += ", ";
    out += is_float(t.dtype()) ? format_double(t.element_as_double(i)) : std::to_string(t.element_as_int(i));
  }
  return out + "}";
}

std::string attr_text(const Attr& attr) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) return std::to_string(v);
        else if constexpr (std::is_same_v<T, double>) return format_double(v);
        else if constexpr (std::is_same_v<T, std::string>) return "\"" + v + "\"";
        else if constexpr (std::is_same_v<T, std::vector<int64_t>>) return join<int64_t>(v, int_text);
        else if constexpr (std::is_same_v<T, std::vector<double>>) return join<double>(v, format_double);
        else return tensor_text(v);
      },
      attr);
}

std::string ref(const Value* v) { return v ? "%" + std::to_string(v->id) : "none"; }

}  // namespace

std::string print(const Graph& graph) {
  std::ostringstream out;
  out << "graph(";
  for (size_t i = 0; i < graph.inputs().size(); ++i) {
    const Value* v = graph.inputs()[i];
    out << (i ? ", " : "") << ref(v) << ": " << v->type.to_string() << " \"" << v->name << "\"";
  }
  out << ") {\n";
  for (const auto& node : graph.nodes()) {
    out << "  ";
    for (size_t i = 0; i < node->outputs.size(); ++i)
      out << (i ? ", " : "") << ref(node->outputs[i]) << ": " << node->outputs[i]->type.to_string();
    out << " = " << node->op << "(";
    for (size_t i = 0; i < node->inputs.size(); ++i) out << (i ? ", " : "") << ref(node->inputs[i]);
    out << ")";
    if (!node->attrs.entries().empty()) {
      out << " {";
      bool first = true;
      for (const auto& [key, value] : node->attrs.entries()) {
        out << (first ? "" : ", ") << key << "=" << attr_text(value);
        first = false;
      }
      out << "}";
    }
    out << "\n";
  }
  out << "  return";
  for (size_t i = 0; i < graph.outputs().size(); ++i)
    out << (i ? ", " : " ") << ref(graph.outputs()[i]) << " \"" << graph.output_names()[i] << "\"";
  out << "\n}\n";
  return out.str();
}

}  // namespace exporters::ir
