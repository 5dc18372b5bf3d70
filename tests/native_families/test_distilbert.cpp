// DistilBERT from config.json + model.safetensors through the distilbert
// plugin's graph builder (transformers 4.36 modeling_distilbert.py).
#include "native_check.hpp"

using namespace exporters::testing::native;

namespace {

json small_distilbert() {
  return {{"model_type", "distilbert"}, {"vocab_size", 40}, {"max_position_embeddings", 20}, {"dim", 16},
          {"n_layers", 2},              {"n_heads", 2},     {"hidden_dim", 24},               {"activation", "gelu"},
          {"sinusoidal_pos_embds", false}};
}

json with(json c, const std::string& key, const json& value) {
  c[key] = value;
  return c;
}

}  // namespace

TEST_SUITE("distilbert") {
  TEST_CASE("the HF fixtures distilbert_qa and distilbert_seqcls, natively") {
    check_fixture("distilbert_qa");
    check_fixture("distilbert_seqcls");
  }

  TEST_CASE("the PyTorch reference agrees with transformers on distilbert_seqcls and distilbert_qa") {
    check_reference_against_fixture("distilbert", "distilbert_seqcls");
    check_reference_against_fixture("distilbert", "distilbert_qa");
  }

  TEST_CASE("every class the plugin serves") {
    require_fixtures();
    for (const char* cls : {"DistilBertModel", "DistilBertForMaskedLM", "DistilBertForSequenceClassification",
                            "DistilBertForTokenClassification", "DistilBertForQuestionAnswering",
                            "DistilBertForMultipleChoice"}) {
      CAPTURE(cls);
      const bool qa = std::string(cls) == "DistilBertForQuestionAnswering";
      check_variant("distilbert", "distilbert", cls, qa ? small_distilbert() : with(small_distilbert(), "num_labels", 3));
    }
  }

  TEST_CASE("sinusoidal_pos_embds: the table made when the checkpoint leaves it out") {
    require_fixtures();
    check_variant("distilbert", "distilbert", "DistilBertModel", with(small_distilbert(), "sinusoidal_pos_embds", true));
  }

  TEST_CASE("activation: other ACT2FN names, in the FFN and the masked-LM head") {
    require_fixtures();
    for (const char* a : {"relu", "gelu_new", "gelu_python", "mish", "relu2", "relu6"}) {
      CAPTURE(a);
      check_variant("distilbert", "distilbert", "DistilBertForMaskedLM", with(small_distilbert(), "activation", a));
    }
    check_variant("distilbert", "distilbert", "DistilBertForMaskedLM",
                  with(small_distilbert(), "tie_word_embeddings", false));
  }

  TEST_CASE("qa_dropout and seq_classif_dropout change nothing") {
    require_fixtures();
    check_variant("distilbert", "distilbert", "DistilBertForSequenceClassification",
                  with(with(small_distilbert(), "seq_classif_dropout", 0.9), "qa_dropout", 0.7));
  }

  TEST_CASE("unsupported config values are one error naming the key and value") {
    check_rejected("distilbert_seqcls", "activation", "gelu_17");
    check_rejected("distilbert_seqcls", "n_heads", 5, "'dim' = 32: not a multiple of n_heads 5");
    check_rejected("distilbert_seqcls", "dim", 0);
    check_rejected("distilbert_qa", "num_labels", 3);
  }
}
