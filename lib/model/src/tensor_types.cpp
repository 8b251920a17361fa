#include "sadi/model/tensor_types.hpp"

#include <torch/cuda.h>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/model/cuda_backend.hpp"

namespace sadi {

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw_field(ErrorKind::kUsage, "device", str(" ", name, ": CUDA is not available (CUDA backend ",
                                                   cuda_backend_status(), ")"));
    }
    try {
      torch::Device d(name);
      if (d.has_index() && d.index() >= static_cast<int>(torch::cuda::device_count())) {
        throw_field(ErrorKind::kUsage, "device", str(" ", name, ": only ", torch::cuda::device_count(), " CUDA device(s) present"));
      }
      return d;
    } catch (const c10::Error&) {
      throw_field(ErrorKind::kUsage, "device", str(": expected auto, cpu, cuda or cuda:N, found '", name, "'"));
    }
  }
  throw_field(ErrorKind::kUsage, "device", str(": expected auto, cpu, cuda or cuda:N, found '", name, "'"));
}

torch::ScalarType parse_dtype(const std::string& name) {
  if (name == "float32" || name == "fp32") return torch::kFloat32;
  if (name == "float16" || name == "fp16") return torch::kFloat16;
  if (name == "bfloat16" || name == "bf16") return torch::kBFloat16;
  throw_field(ErrorKind::kUsage, "dtype", str(": expected float32, float16 or bfloat16, found '", name, "'"));
}

std::string dtype_name(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return "float32";
    case torch::kFloat16: return "float16";
    case torch::kBFloat16: return "bfloat16";
    default: return c10::toString(t);
  }
}

}  // namespace sadi
