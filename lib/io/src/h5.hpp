#pragma once
// HDF5 helpers shared by the mask file's reader and writer (lib/io internal).
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <hdf5.h>

#include <string>
#include <vector>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi::h5 {

// Closes an HDF5 handle on scope exit.
class H5Handle {
 public:
  H5Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~H5Handle() {
    if (id_ >= 0) close_(id_);
  }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  H5Handle(H5Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

struct Silence {  // HDF5 prints its own error stack by default; we report errors ourselves
  Silence() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
};

inline hid_t utf8_type() {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

// A fixed-length UTF-8 string type of n bytes (n >= 1).
inline hid_t utf8_fixed_type(size_t n) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, n);
  H5Tset_strpad(t, H5T_STR_NULLPAD);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

// Text attributes are fixed-length strings, stored in the object header, not in the global heap,
// whose corruption crashed HDF5's reader (found by the soak: a flipped bit in a variable-length
// string's heap entry, SIGSEGV inside H5HG_read, libhdf5 1.10.8).
inline void write_text_attr(hid_t obj, const std::string& name, const std::string& value, const std::string& where) {
  H5Handle type(utf8_fixed_type(std::max<size_t>(value.size(), 1)), H5Tclose);
  H5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  H5Handle attr(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  const std::string padded = value.empty() ? std::string(1, '\0') : value;
  if (!attr.ok() || H5Awrite(attr.get(), type.get(), padded.data()) < 0) {
    throw_io(str(where, ": cannot write attribute '", name, "'"));
  }
}

inline void write_int_attr(hid_t obj, const std::string& name, int64_t value, const std::string& where) {
  H5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  H5Handle attr(H5Acreate2(obj, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.ok() || H5Awrite(attr.get(), H5T_NATIVE_INT64, &value) < 0) {
    throw_io(str(where, ": cannot write attribute '", name, "'"));
  }
}

// Creation properties without modification times, so that the same data make the same bytes
// (docs/determinism.md). `cls`: H5P_DATASET_CREATE or H5P_GROUP_CREATE.
inline H5Handle untimed(hid_t cls) {
  H5Handle p(H5Pcreate(cls), H5Pclose);
  if (!p.ok() || H5Pset_obj_track_times(p.get(), false) < 0) throw_runtime("HDF5: cannot set creation properties");
  return p;
}

template <typename T>
void write_dataset(hid_t group, const std::string& name, const std::vector<T>& data, std::vector<hsize_t> dims,
                   hid_t file_type, hid_t mem_type, const std::string& where) {
  H5Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  H5Handle dcpl = untimed(H5P_DATASET_CREATE);
  H5Handle ds(H5Dcreate2(group, name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT), H5Dclose);
  if (!ds.ok() || H5Dwrite(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0) {
    throw_io(str(where, ": cannot write dataset '", name, "'"));
  }
}

template <typename T>
std::vector<T> read_dataset(hid_t group, const std::string& name, std::vector<hsize_t> want, hid_t mem_type,
                            const std::string& where) {
  H5Handle ds(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.ok()) throw_input(str(where, ": dataset '", name, "' not found"));
  H5Handle space(H5Dget_space(ds.get()), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  if (dims != want) {
    throw_input(str(where, ": dataset '", name, "': expected shape ", list_str(want), ", found ", list_str(dims)));
  }
  size_t n = 1;
  for (auto d : dims) n *= d;
  std::vector<T> out(n);
  if (H5Dread(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) {
    throw_input(str(where, ": cannot read dataset '", name, "'"));
  }
  if constexpr (std::is_floating_point_v<T>) {  // a NaN or inf would steer or rank silently wrong
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(out[i])) {
        throw_input(str(where, ": dataset '", name, "': expected finite numbers, found ", out[i], " at flat index ", i,
                        " (a corrupt or hand-edited mask; re-run sadi identify)"));
      }
    }
  }
  return out;
}

inline int64_t read_int_attr(hid_t obj, const std::string& name, const std::string& where) {
  H5Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
  int64_t v = 0;
  if (!attr.ok() || H5Aread(attr.get(), H5T_NATIVE_INT64, &v) < 0) {
    throw_input(str(where, ": attribute '", name, "' missing or not an integer"));
  }
  return v;
}


inline bool exists(hid_t obj, const std::string& name) { return H5Lexists(obj, name.c_str(), H5P_DEFAULT) > 0; }

// Creates (untimed) or opens a group; throws naming `where`.
inline H5Handle create_group(hid_t parent, const std::string& name, const std::string& where) {
  H5Handle gcpl = untimed(H5P_GROUP_CREATE);
  H5Handle g(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), H5Gclose);
  if (!g.ok()) throw_io(str(where, ": cannot create group ", name));
  return g;
}

inline H5Handle open_group(hid_t parent, const std::string& name, const std::string& where) {
  H5Handle g(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose);
  if (!g.ok()) throw_input(str(where, ": cannot open group ", name));
  return g;
}

}  // namespace sadi::h5
