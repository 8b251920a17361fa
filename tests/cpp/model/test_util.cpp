#include "test_util.hpp"

#include <unistd.h>

#include <fstream>

#include "sadi/core/fs.hpp"
#include "sadi/core/strings.hpp"

namespace sadi::test {

std::filesystem::path testdata(const std::string& name) { return std::filesystem::path(SADI_TESTDATA) / name; }

std::map<std::string, torch::Tensor> load_reference(const std::string& model) {
  auto m = torch::jit::load(testdata("ref-" + model + ".pt").string());
  std::map<std::string, torch::Tensor> out;
  for (const auto& b : m.named_buffers()) out[b.name] = b.value;
  return out;
}

Json load_reference_json(const std::string& model) {
  return parse_json(read_text_file(testdata("ref-" + model + ".json")), "reference");
}

std::filesystem::path copy_model(const std::string& model, const std::string& tag) {
  auto dst = std::filesystem::temp_directory_path() / str("sadi-test-", tag, "-", ::getpid());
  std::filesystem::remove_all(dst);
  std::filesystem::copy(testdata(model), dst, std::filesystem::copy_options::recursive);
  return dst;
}

void patch_manifest(const std::filesystem::path& dir, const std::string& dotted_key, const Json& value) {
  auto path = dir / "manifest.json";
  Json j = parse_json(read_text_file(path), path.string());
  Json* cur = &j;
  auto parts = split(dotted_key, '.');
  for (size_t i = 0; i + 1 < parts.size(); ++i) cur = &(*cur)[parts[i]];
  if (value.is_null()) {
    cur->erase(parts.back());
  } else {
    (*cur)[parts.back()] = value;
  }
  write_file_atomic(path, j.dump(2));
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat32) - b.to(torch::kFloat32)).abs().max().item<double>();
}

double tolerance(const std::string& dtype, const std::string& name) {
  static const Json table = parse_json(read_text_file(std::string(SADI_SOURCE_DIR) + "/tests/tolerances.json"),
                                       "tests/tolerances.json");
  return table.at(dtype).at(name).get<double>();
}

}  // namespace sadi::test
