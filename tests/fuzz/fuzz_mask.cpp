// Mask files (HDF5) as sadi generate/eval read them: read_mask_file + check_mask_matches_model.
//
// Structured: the input drives the *content* of a well-formed HDF5 file (which attributes and
// datasets exist, their types, shapes and values), written with the HDF5 API, then read back.
// That exercises sadi's own validation; flipping raw bytes would mostly fuzz the HDF5 library's
// parser, which is not sadi's code (docs/testing.md).
#include <hdf5.h>

#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz_common.hpp"
#include "sadi/model/mask_check.hpp"
#include "sadi/io/mask_file.hpp"

namespace {

const char* kFingerprint = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

// The model masks are checked against: 2 layers, 2 heads of 4, FFN 6, d 8.
sadi::ModelInfo model() {
  sadi::ModelInfo m;
  m.dir = "fuzz-model";
  m.n_layers = 2;
  m.n_heads = 2;
  m.head_dim = 4;
  m.d_model = 8;
  m.d_ffn = 6;
  m.fingerprint = kFingerprint;
  m.sites = {{sadi::Site::kHead, {2, 2, 4}, 8, 2, 4, ""},
             {sadi::Site::kNeuron, {2, 6}, 6, 6, 1, ""},
             {sadi::Site::kHidden, {2, 8}, 8, 8, 1, ""},
             {sadi::Site::kResidual, {2, 8}, 8, 8, 1, ""}};
  return m;
}

void int_attr(hid_t obj, const std::string& name, int64_t v) {
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  if (a >= 0) {
    H5Awrite(a, H5T_NATIVE_INT64, &v);
    H5Aclose(a);
  }
  H5Sclose(space);
}

void text_attr(hid_t obj, const std::string& name, const std::string& v) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name.c_str(), t, space, H5P_DEFAULT, H5P_DEFAULT);
  const char* p = v.c_str();
  if (a >= 0) {
    H5Awrite(a, t, &p);
    H5Aclose(a);
  }
  H5Sclose(space);
  H5Tclose(t);
}

void dataset(hid_t g, const std::string& name, FuzzedDataProvider& fdp) {
  const int rank = fdp.ConsumeIntegralInRange(1, 3);
  hsize_t dims[3];
  size_t n = 1;
  for (int i = 0; i < rank; ++i) {
    dims[i] = fdp.ConsumeIntegralInRange<hsize_t>(0, 16);
    n *= dims[i];
  }
  const hid_t types[] = {H5T_NATIVE_FLOAT, H5T_NATIVE_INT32, H5T_NATIVE_UINT8, H5T_NATIVE_DOUBLE};
  const hid_t type = types[fdp.ConsumeIntegralInRange(0, 3)];
  std::vector<uint8_t> bytes = fdp.ConsumeBytes<uint8_t>(n * H5Tget_size(type));
  bytes.resize(n * H5Tget_size(type));
  hid_t space = H5Screate_simple(rank, dims, nullptr);
  hid_t d = H5Dcreate2(g, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (d >= 0) {
    if (n > 0) H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
    H5Dclose(d);
  }
  H5Sclose(space);
}

int64_t small_int(FuzzedDataProvider& fdp) {
  switch (fdp.ConsumeIntegralInRange(0, 3)) {
    case 0: return fdp.ConsumeIntegralInRange<int64_t>(-2, 9);
    case 1: return fdp.ConsumeIntegral<int64_t>();
    case 2: return int64_t{1} << fdp.ConsumeIntegralInRange(20, 62);
    default: return fdp.ConsumeIntegralInRange<int64_t>(0, 3);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  FuzzedDataProvider fdp(data, size);
  const auto path = sadi::fuzz::scratch() / "mask.h5";
  {
    hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return 0;
    if (fdp.ConsumeBool()) int_attr(f, "format_version", fdp.ConsumeBool() ? 1 : small_int(fdp));
    if (fdp.ConsumeBool()) text_attr(f, "model_fingerprint", fdp.ConsumeBool() ? kFingerprint : fdp.ConsumeRandomLengthString(80));
    for (int i = fdp.ConsumeIntegralInRange(0, 3); i > 0; --i) {
      const std::string name = fdp.ConsumeRandomLengthString(12);
      if (fdp.ConsumeBool()) {
        text_attr(f, name, fdp.ConsumeRandomLengthString(40));
      } else {
        int_attr(f, name, small_int(fdp));
      }
    }
    for (const char* site : {"head", "neuron", "hidden", "residual"}) {
      if (!fdp.ConsumeBool()) continue;
      hid_t g = H5Gcreate2(f, site, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      if (g < 0) continue;
      for (const char* a : {"n_layers", "units", "group", "count", "top_k"}) {
        if (fdp.ConsumeIntegralInRange(0, 7) != 0) int_attr(g, a, small_int(fdp));
      }
      for (const char* d : {"mean_diff", "std", "ranking", "ranking_score", "mean_diff_full", "mask"}) {
        if (fdp.ConsumeIntegralInRange(0, 5) != 0) dataset(g, d, fdp);
      }
      H5Gclose(g);
    }
    H5Fclose(f);
  }
  sadi::fuzz::expect_clean([&] {
    const sadi::MaskFile mask = sadi::read_mask_file(path);
    sadi::check_mask_matches_model(mask, path, model());
  });
  return 0;
}
