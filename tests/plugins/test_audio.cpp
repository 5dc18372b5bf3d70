// The SDK's audio path: 16-bit PCM WAV reading (errors name the file) and
// the Wav2Vec2 feature extractor's normalisation; with the shared fixtures,
// the wav2vec2 fixture's example_audio_0.wav through the SDK preprocessor
// gives its reference.safetensors input_values.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "tests/fixtures_lib/temp_dir.hpp"
#include "core/io/safetensors.hpp"
#include "exporters/preprocessing.hpp"

using namespace exporters;
namespace fs = std::filesystem;

namespace {

void put16(std::string& s, uint16_t v) { s += char(v & 0xff), s += char(v >> 8); }
void put32(std::string& s, uint32_t v) { put16(s, v & 0xffff), put16(s, v >> 16); }

std::string wav(uint16_t format, uint16_t channels, uint32_t rate, uint16_t bits, const std::vector<int16_t>& samples) {
  std::string data;
  for (int16_t v : samples) put16(data, static_cast<uint16_t>(v));
  std::string s = "RIFF";
  put32(s, 36 + data.size());
  s += "WAVEfmt ";
  put32(s, 16);
  put16(s, format), put16(s, channels), put32(s, rate), put32(s, rate * channels * bits / 8);
  put16(s, channels * bits / 8), put16(s, bits);
  s += "data";
  put32(s, data.size());
  return s + data;
}

fs::path write(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

}  // namespace

TEST_CASE("a 16-bit mono WAV reads as sample / 32768") {
  testing::TempDir tmp;
  auto s = preprocessing::read_wav_mono16(write(tmp / "a.wav", wav(1, 1, 16000, 16, {0, 16384, -32768, 32767})));
  REQUIRE(s.size() == 4);
  CHECK(s[1] == 0.5f);
  CHECK(s[2] == -1.0f);
  CHECK(s[3] == 32767.0f / 32768.0f);
}

TEST_CASE("WAV files the feature extractor cannot take are one error naming the file") {
  testing::TempDir tmp;
  const fs::path stereo = write(tmp / "stereo.wav", wav(1, 2, 16000, 16, {1, 2}));
  CHECK_THROWS_WITH(preprocessing::read_wav_mono16(stereo), doctest::Contains((stereo.string() + ": 2 channels").c_str()));
  const fs::path rate = write(tmp / "rate.wav", wav(1, 1, 8000, 16, {1, 2}));
  CHECK_THROWS_WITH(preprocessing::read_wav_mono16(rate), doctest::Contains("sampled at 8000 Hz"));
  const fs::path flt = write(tmp / "float.wav", wav(3, 1, 16000, 16, {1, 2}));
  CHECK_THROWS_WITH(preprocessing::read_wav_mono16(flt), doctest::Contains("is not PCM"));
  const fs::path text = write(tmp / "text.wav", "hello");
  CHECK_THROWS_WITH(preprocessing::read_wav_mono16(text), doctest::Contains((text.string() + ": not a WAV file").c_str()));
  std::string cut = wav(1, 1, 16000, 16, {1, 2, 3, 4});
  cut.resize(cut.size() - 3);
  const fs::path truncated = write(tmp / "cut.wav", cut);
  CHECK_THROWS_WITH(preprocessing::read_wav_mono16(truncated), doctest::Contains("truncated"));
}

TEST_CASE("zero mean, unit variance") {
  auto y = preprocessing::zero_mean_unit_variance({1.f, 2.f, 3.f, 4.f});
  double mean = 0, var = 0;
  for (float v : y) mean += v;
  for (float v : y) var += v * v;
  CHECK(std::abs(mean) < 1e-6);
  CHECK(var / 4 == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(y[0] == doctest::Approx(-1.5 / std::sqrt(1.25 + 1e-7)));
}

TEST_CASE("the wav2vec2 fixture's example_audio_0.wav gives its reference input_values") {
  const char* root = std::getenv("EXPORTERS_SOURCE_ROOT");
  const fs::path dir = fs::path(root ? root : ".") / ".." / "shared" / "fixtures" / "hf-families" / "wav2vec2_model";
  if (!fs::is_directory(dir)) {
    std::cerr << "the shared fixtures are absent (" << dir.string() << "): skipped\n";
    std::exit(77);
  }
  ModelFolder folder;
  folder.dir = dir;
  folder.preprocessor = JsonView::read_file(dir / "preprocessor_config.json");
  const Preprocessor p = preprocessing::wav2vec2_feature_extractor();
  const PreprocessedBatch batch = p.load(folder, {dir / "example_audio_0.wav"});
  const auto ref = io::read_safetensors(dir / "reference.safetensors");
  const ir::Tensor& want = ref.at("input.input_values");
  REQUIRE(batch.model_value.shape() == want.shape());
  const ir::Tensor w = want.cast(ir::DType::F32);
  double worst = 0;
  for (int64_t i = 0; i < w.numel(); ++i)
    worst = std::max(worst, std::abs(double(batch.model_value.data_as<float>()[i]) - w.data_as<float>()[i]));
  MESSAGE("max |difference| to transformers' input_values: " << worst);
  CHECK(worst <= 1e-6);
}
