#pragma once
// Helpers shared by the model tests: fixture paths, Python reference tensors, temp copies.
#include <filesystem>
#include <map>
#include <string>

#include <torch/script.h>

#include "sadi/core/json.hpp"

namespace sadi::test {

std::filesystem::path testdata(const std::string& name);  // SADI_TESTDATA/name
// Buffers of the TorchScript container written by tests/fixtures/make_reference.py.
std::map<std::string, torch::Tensor> load_reference(const std::string& model);
Json load_reference_json(const std::string& model);
// A fresh copy of a fixture model directory under the system temp dir (removed by the caller).
std::filesystem::path copy_model(const std::string& model, const std::string& tag);
// Rewrites one JSON key (dotted path) of DIR/manifest.json, or erases it when value is null.
void patch_manifest(const std::filesystem::path& dir, const std::string& dotted_key, const Json& value);
double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b);
// tests/tolerances.json[dtype][name]: the one tolerance table (also the Python tests' and
// scripts/gpu/parity.py's).
double tolerance(const std::string& dtype, const std::string& name);

}  // namespace sadi::test
