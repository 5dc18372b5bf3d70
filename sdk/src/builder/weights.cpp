#include "exporters/builder/weights.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace exporters::builder {

Weights::Weights(const WeightSource& source, std::string prefix) : source_(&source), prefix_(std::move(prefix)) {}

Weights Weights::scope(const std::string& module) const { return Weights(*source_, prefix_ + module + "."); }

bool Weights::has(const std::string& name) const { return source_->has(full_name(name)); }

ir::Tensor Weights::tensor(const std::string& name) const {
  const std::string full = full_name(name);
  if (!source_->has(full)) throw WeightError(fmt::format("{}: no tensor '{}'", source_->describe(), full));
  return source_->get(full);
}

ir::Tensor Weights::tensor(const std::string& name, const ir::Shape& shape) const {
  ir::Tensor t = tensor(name);
  if (t.shape() != shape)
    throw WeightError(fmt::format("{}: tensor '{}' is [{}], the config says [{}]", source_->describe(),
                                  full_name(name), fmt::join(t.shape(), ", "), fmt::join(shape, ", ")));
  return t;
}

ir::Tensor Weights::first_of(const std::vector<std::string>& names, const ir::Shape& shape) const {
  for (const auto& n : names)
    if (has(n)) return tensor(n, shape);
  return tensor(names.front(), shape);  // throws naming the usual name
}

Weights base_model_weights(const WeightSource& source, const std::string& base_model_prefix, const std::string& probe) {
  const std::string prefixed = base_model_prefix + "." + probe;
  if (source.has(prefixed)) return Weights(source, base_model_prefix + ".");
  if (source.has(probe)) return Weights(source, "");
  throw WeightError(fmt::format("{}: no tensor '{}' (or '{}' in a base model saved alone): not a checkpoint of this "
                                "model family",
                                source.describe(), prefixed, probe));
}

void require_head_weights(const WeightSource& source, const Weights& base, const std::string& hf_class,
                          const std::vector<std::string>& names) {
  std::vector<std::string> missing;
  for (const auto& n : names)
    if (!source.has(n)) missing.push_back("'" + n + "'");
  if (missing.empty()) return;
  if (base.prefix().empty())
    throw WeightError(fmt::format("{}: holds a base model alone (no head weights); {} needs its head: no tensor {}",
                                  source.describe(), hf_class, fmt::join(missing, ", ")));
  throw WeightError(fmt::format("{}: {} needs its head: no tensor {}", source.describe(), hf_class,
                                fmt::join(missing, ", ")));
}

ir::Tensor tied_weight(const Weights& head, const std::string& name, const Weights& embeddings,
                       const std::string& embedding_name, bool tie_word_embeddings, const ir::Shape& shape) {
  if (tie_word_embeddings) return embeddings.tensor(embedding_name, shape);
  if (!head.has(name))
    throw WeightError(fmt::format("{}: no tensor '{}' (config.json sets tie_word_embeddings false, so it is not "
                                  "'{}')",
                                  head.source().describe(), head.full_name(name), embeddings.full_name(embedding_name)));
  return head.tensor(name, shape);
}

}  // namespace exporters::builder
