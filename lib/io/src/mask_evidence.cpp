#include "mask_evidence.hpp"

#include "h5.hpp"

namespace sadi {
using namespace h5;
namespace {

void write_iti(hid_t site_group, const SiteScores& s, const std::string& where) {
  const ItiScores& t = s.iti;
  H5Handle g = create_group(site_group, "iti", where);
  const std::string gw = where + "/iti";
  const auto l = static_cast<hsize_t>(s.n_layers), u = static_cast<hsize_t>(s.units);
  write_int_attr(g.get(), "train_pairs", t.train_pairs, gw);
  write_int_attr(g.get(), "val_pairs", t.val_pairs, gw);
  write_dataset(g.get(), "direction", t.direction, {l, u * static_cast<hsize_t>(s.group)}, H5T_IEEE_F32LE,
                H5T_NATIVE_FLOAT, gw);
  write_dataset(g.get(), "sigma", t.sigma, {l, u}, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, gw);
  write_dataset(g.get(), "probe_accuracy", t.probe_accuracy, {l, u}, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, gw);
  write_dataset(g.get(), "ranking", t.ranking, {l * u, 2}, H5T_STD_I32LE, H5T_NATIVE_INT32, gw);
  if (!t.val_index.empty()) {
    write_dataset(g.get(), "val_index", t.val_index, {static_cast<hsize_t>(t.val_index.size())}, H5T_STD_I32LE,
                  H5T_NATIVE_INT32, gw);
  }
}

void read_iti(hid_t site_group, SiteScores& s, const std::string& where) {
  H5Handle g = open_group(site_group, "iti", where);
  const std::string gw = where + "/iti";
  const auto l = static_cast<hsize_t>(s.n_layers), u = static_cast<hsize_t>(s.units);
  ItiScores& t = s.iti;
  t.train_pairs = read_int_attr(g.get(), "train_pairs", gw);
  t.val_pairs = read_int_attr(g.get(), "val_pairs", gw);
  t.direction = read_dataset<float>(g.get(), "direction", {l, u * static_cast<hsize_t>(s.group)}, H5T_NATIVE_FLOAT, gw);
  t.sigma = read_dataset<float>(g.get(), "sigma", {l, u}, H5T_NATIVE_FLOAT, gw);
  t.probe_accuracy = read_dataset<float>(g.get(), "probe_accuracy", {l, u}, H5T_NATIVE_FLOAT, gw);
  t.ranking = read_dataset<int32_t>(g.get(), "ranking", {l * u, 2}, H5T_NATIVE_INT32, gw);
  for (size_t i = 0; i < t.ranking.size(); i += 2) {
    if (t.ranking[i] < 0 || t.ranking[i] >= s.n_layers || t.ranking[i + 1] < 0 || t.ranking[i + 1] >= s.units) {
      throw_input(str(gw, ": dataset 'ranking': entry ", i / 2, " (", t.ranking[i], ", ", t.ranking[i + 1],
                      ") lies outside [", s.n_layers, ", ", s.units, "]"));
    }
  }
  if (!exists(g.get(), "val_index")) return;  // masks written before the held-out pairs were recorded
  t.val_index = read_dataset<int32_t>(g.get(), "val_index", {static_cast<hsize_t>(t.val_pairs)}, H5T_NATIVE_INT32, gw);
  for (size_t i = 0; i < t.val_index.size(); ++i) {
    if (t.val_index[i] < 0 || t.val_index[i] >= t.train_pairs + t.val_pairs || (i > 0 && t.val_index[i] <= t.val_index[i - 1])) {
      throw_input(str(gw, ": dataset 'val_index': entry ", i, " (", t.val_index[i], ") is not an increasing pair index below ",
                      t.train_pairs + t.val_pairs));
    }
  }
}

void write_stability(hid_t site_group, const SiteScores& s, const std::string& where) {
  const Stability& b = s.stability;
  H5Handle g = create_group(site_group, "stability", where);
  const std::string gw = where + "/stability";
  write_int_attr(g.get(), "resamples", b.resamples, gw);
  write_int_attr(g.get(), "seed", static_cast<int64_t>(b.seed), gw);
  write_int_attr(g.get(), "frequency_k", b.frequency_k, gw);
  const auto n = static_cast<hsize_t>(b.k.size());
  write_dataset(g.get(), "k", b.k, {n}, H5T_STD_I64LE, H5T_NATIVE_INT64, gw);
  write_dataset(g.get(), "overlap_mean", b.overlap_mean, {n}, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, gw);
  write_dataset(g.get(), "overlap_sd", b.overlap_sd, {n}, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, gw);
  write_dataset(g.get(), "frequency", b.frequency, {static_cast<hsize_t>(s.n_layers), static_cast<hsize_t>(s.units)},
                H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, gw);
}

hsize_t length_of(hid_t g, const std::string& name, const std::string& where) {
  H5Handle ds(H5Dopen2(g, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.ok()) throw_input(str(where, ": dataset '", name, "' not found"));
  H5Handle space(H5Dget_space(ds.get()), H5Sclose);
  if (H5Sget_simple_extent_ndims(space.get()) != 1) throw_input(str(where, ": dataset '", name, "': expected a list"));
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  return n;
}

void read_stability(hid_t site_group, SiteScores& s, const std::string& where) {
  H5Handle g = open_group(site_group, "stability", where);
  const std::string gw = where + "/stability";
  Stability& b = s.stability;
  b.resamples = read_int_attr(g.get(), "resamples", gw);
  b.seed = static_cast<uint64_t>(read_int_attr(g.get(), "seed", gw));
  b.frequency_k = read_int_attr(g.get(), "frequency_k", gw);
  const hsize_t n = length_of(g.get(), "k", gw);
  b.k = read_dataset<int64_t>(g.get(), "k", {n}, H5T_NATIVE_INT64, gw);
  b.overlap_mean = read_dataset<float>(g.get(), "overlap_mean", {n}, H5T_NATIVE_FLOAT, gw);
  b.overlap_sd = read_dataset<float>(g.get(), "overlap_sd", {n}, H5T_NATIVE_FLOAT, gw);
  b.frequency = read_dataset<float>(g.get(), "frequency",
                                    {static_cast<hsize_t>(s.n_layers), static_cast<hsize_t>(s.units)}, H5T_NATIVE_FLOAT, gw);
}

}  // namespace

void write_evidence(hid_t group, const SiteScores& s, const std::string& where) {
  const auto l = static_cast<hsize_t>(s.n_layers), u = static_cast<hsize_t>(s.units);
  if (!s.zscore.empty()) write_dataset(group, "zscore", s.zscore, {l, u}, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, where);
  if (!s.iti.empty()) write_iti(group, s, where);
  if (s.stability.resamples > 0) write_stability(group, s, where);
}

void read_evidence(hid_t group, SiteScores& s, const std::string& where) {
  const auto l = static_cast<hsize_t>(s.n_layers), u = static_cast<hsize_t>(s.units);
  if (exists(group, "zscore")) s.zscore = read_dataset<float>(group, "zscore", {l, u}, H5T_NATIVE_FLOAT, where);
  if (exists(group, "iti")) read_iti(group, s, where);
  if (exists(group, "stability")) read_stability(group, s, where);
}

}  // namespace sadi
