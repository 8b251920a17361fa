#pragma once
// Device and dtype names used on the command line and in manifest.json.
#include <string>

#include <torch/script.h>

namespace sadi {

// "cpu", "cuda", "cuda:N", or "auto" (CUDA when this build and machine have it, else the CPU).
// Throws sadi::Error (usage) for other names or when CUDA is asked for and absent.
torch::Device parse_device(const std::string& name);
// "float32" | "float16" | "bfloat16" (also "fp32", "fp16", "bf16").
torch::ScalarType parse_dtype(const std::string& name);
std::string dtype_name(torch::ScalarType t);

}  // namespace sadi
