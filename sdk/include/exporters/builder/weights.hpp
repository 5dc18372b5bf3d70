// Typed access to a checkpoint's tensors by their transformers names, under
// a module prefix, for graph builders. Errors are WeightError naming the
// checkpoint file(s) and the full tensor name.
#pragma once

#include <string>
#include <vector>

#include "exporters/graph_builder.hpp"

namespace exporters::builder {

class Weights {
 public:
  explicit Weights(const WeightSource& source, std::string prefix = {});

  // The weights of a submodule: scope("encoder.layer.0") reads
  // "<prefix>encoder.layer.0.<name>".
  Weights scope(const std::string& module) const;
  const std::string& prefix() const { return prefix_; }
  const WeightSource& source() const { return *source_; }

  std::string full_name(const std::string& name) const { return prefix_ + name; }
  bool has(const std::string& name) const;
  // Float tensors as float32 (F16/BF16 converted, F32 borrowed); throws
  // WeightError "<file>: no tensor '<prefix><name>'" when absent.
  ir::Tensor tensor(const std::string& name) const;
  // Same, and the stored shape must be `shape` (WeightError naming both).
  ir::Tensor tensor(const std::string& name, const ir::Shape& shape) const;
  // The first of `names` that exists (old checkpoints: LayerNorm gamma/beta
  // for weight/bias); the error names the first.
  ir::Tensor first_of(const std::vector<std::string>& names, const ir::Shape& shape) const;

 private:
  const WeightSource* source_;
  std::string prefix_;
};

// Where the base model's tensors sit. A head model's checkpoint stores them
// under transformers' base_model_prefix ("bert.encoder..."), a base model
// saved alone without it ("encoder..."); transformers loads either way, and
// so does this: it probes "<base_model_prefix>.<probe>" and then "<probe>".
// Throws WeightError naming the file and both names when neither exists.
Weights base_model_weights(const WeightSource& source, const std::string& base_model_prefix,
                           const std::string& probe);

// The head's tensors of `hf_class` (full names) must all be in the
// checkpoint. One WeightError naming the missing ones; when the checkpoint
// holds a base model alone (`base` has no prefix), it says so and that
// the head weights are missing, instead of failing on the first tensor.
void require_head_weights(const WeightSource& source, const Weights& base, const std::string& hf_class,
                          const std::vector<std::string>& names);

// An output projection transformers ties to the input embeddings
// (config tie_word_embeddings, default true): with tying on, the embedding
// table is used whether or not the file repeats it, as transformers'
// tie_weights() does; with tying off, the file must hold `name` itself.
ir::Tensor tied_weight(const Weights& head, const std::string& name, const Weights& embeddings,
                       const std::string& embedding_name, bool tie_word_embeddings, const ir::Shape& shape);

}  // namespace exporters::builder
