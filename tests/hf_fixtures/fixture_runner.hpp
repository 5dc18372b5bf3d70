// The acceptance test of the TorchScript path: every HF fixture goes through
// frontend -> verify -> default passes -> verify -> interpreter, and every
// output must match the LibTorch references within 1e-4 (scaled for large
// values). One doctest case per fixture is generated from index.json.
#pragma once

#include <string>
#include <vector>

namespace exporters::testing {

// Runs one fixture by name (as listed in index.json); fails the current
// doctest case on any load, verify, run or accuracy problem.
void run_hf_fixture(const std::string& name);

// The fixture names the build generated a case for (from index.json).
const std::vector<std::string>& generated_fixture_names();

}  // namespace exporters::testing
