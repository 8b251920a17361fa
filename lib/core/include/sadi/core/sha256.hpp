#pragma once
// SHA-256 (FIPS 180-4), for provenance: the hash of input files recorded in outputs.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace sadi {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hex();  // finishes; the object must not be updated afterwards

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

std::string sha256_hex(std::string_view data);
// "sha256:<hex>" of a file's bytes; throws sadi::Error (io) naming the file.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace sadi
