#include "sadi/io/mask_file.hpp"

#include <algorithm>
#include <cstring>

#include "h5.hpp"
#include "mask_evidence.hpp"

#include "sadi/core/context.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/log.hpp"
#include "sadi/core/sha256.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {
using namespace h5;

namespace {
// The first bytes of a mask file are an HDF5 user block (ignored by HDF5) holding a SHA-256 of
// every byte after it, checked before libhdf5 parses anything: libhdf5 1.10 can crash on a
// corrupted file (the soak test found crashes in its attribute code), so a damaged or edited
// mask is refused by sadi with a message instead.
constexpr hsize_t kUserBlock = 512;
constexpr std::string_view kChecksumMagic = "SADI mask file\nsha256 ";
constexpr std::string_view kHdf5Signature = "\x89HDF\r\n\x1a\n";

// The in-memory image starts at the superblock (the core driver leaves the user block out; the
// superblock records it as the base address): the file is the stamped block, then the image.
std::string with_checksum(const std::string& image, const std::string& where) {
  if (image.compare(0, kHdf5Signature.size(), kHdf5Signature) != 0) {
    throw_runtime(str(where, ": HDF5: the in-memory file image does not start with a superblock"));
  }
  const std::string stamp = std::string(kChecksumMagic) + sha256_hex(image) + "\n";
  std::string file(kUserBlock, '\0');
  std::copy(stamp.begin(), stamp.end(), file.begin());
  return file + image;
}

// A file with its superblock after a user block was written by a sadi that stamps a checksum:
// the stamp must be there and match. A file with the superblock at byte 0 is an older mask
// (no checksum; read as before).
void verify_checksum(const std::filesystem::path& path) {
  const std::string where = path.string();
  const std::string bytes = read_text_file(path);
  if (bytes.compare(0, kHdf5Signature.size(), kHdf5Signature) == 0) return;  // older mask: no user block
  if (bytes.size() <= kUserBlock || bytes.compare(kUserBlock, kHdf5Signature.size(), kHdf5Signature) != 0) {
    if (bytes.compare(0, kChecksumMagic.size(), kChecksumMagic) != 0) return;  // not ours: HDF5 decides below
    throw_input(str(where, ": the HDF5 superblock after the checksum header is missing (the file is corrupt "
                           "or truncated)"));
  }
  if (bytes.compare(0, kChecksumMagic.size(), kChecksumMagic) != 0) {
    throw_input(str(where, ": the checksum header (the file's first ", kUserBlock, " bytes) is damaged: the file is "
                           "corrupt"));
  }
  const std::string want = bytes.substr(kChecksumMagic.size(), 64);
  const std::string got = sha256_hex(std::string_view(bytes).substr(kUserBlock));
  if (want != got) {
    throw_input(str(where, ": checksum mismatch (header ", want.substr(0, 12), "..., contents ", got.substr(0, 12),
                    "...): the file is corrupt or was modified after sadi wrote it"));
  }
}
}  // namespace

namespace {
// The bytes of an HDF5 file built in memory (the core driver, no backing store): HDF5 never
// touches the disk, so a full disk or a write error is met by write_file_atomic, which removes
// its temporary file and names the path, instead of by HDF5 at close or at exit.
class MemoryFile {
 public:
  explicit MemoryFile(const std::string& where) : where_(where), fapl_(H5Pcreate(H5P_FILE_ACCESS), H5Pclose) {
    H5Handle fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
    if (!fapl_.ok() || !fcpl.ok() || H5Pset_fapl_core(fapl_.get(), size_t{1} << 20, /*backing_store=*/false) < 0 ||
        H5Pset_userblock(fcpl.get(), kUserBlock) < 0) {
      throw_runtime(str(where, ": HDF5: cannot set up an in-memory file"));
    }
    file_ = H5Fcreate("sadi-mask-in-memory.h5", H5F_ACC_TRUNC, fcpl.get(), fapl_.get());
    if (file_ < 0) throw_runtime(str(where, ": HDF5: cannot create an in-memory file"));
  }
  ~MemoryFile() {
    if (file_ >= 0) H5Fclose(file_);
  }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  hid_t get() const { return file_; }
  std::string bytes() {  // [size] the file image; closes the file
    if (H5Fflush(file_, H5F_SCOPE_GLOBAL) < 0) throw_runtime(str(where_, ": HDF5: flush failed"));
    const ssize_t n = H5Fget_file_image(file_, nullptr, 0);
    std::string image(n > 0 ? static_cast<size_t>(n) : 0, '\0');
    if (n <= 0 || H5Fget_file_image(file_, image.data(), image.size()) != n) {
      throw_runtime(str(where_, ": HDF5: cannot take the file image"));
    }
    const hid_t f = file_;
    file_ = -1;
    if (H5Fclose(f) < 0) throw_runtime(str(where_, ": HDF5: close failed"));
    return image;
  }

 private:
  std::string where_;
  H5Handle fapl_;
  hid_t file_ = -1;
};
}  // namespace

namespace {
template <typename T>
void hash_vec(Sha256& h, const std::vector<T>& v) {
  const uint64_t n = v.size();
  h.update(&n, sizeof(n));
  if (!v.empty()) h.update(v.data(), v.size() * sizeof(T));
}
}  // namespace

// "sha256:<hex>" over every site's numbers (datasets and their shape attributes), sites in
// `order`: written as the root attribute content_sha256 and checked on reading, so a mask whose
// numbers changed after identify wrote them (a flipped bit, a hand edit) is noticed.
std::string mask_content_sha256(const MaskFile& mask, const std::vector<Site>& order) {
  Sha256 h;
  for (Site site : order) {
    const SiteScores* found = mask.find(site);
    if (found == nullptr) continue;
    const SiteScores& s = *found;
    h.update(site_name(s.site));
    for (int64_t v : {s.n_layers, s.units, s.group, s.count, s.top_k}) h.update(&v, sizeof(v));
    hash_vec(h, s.mean_diff);
    hash_vec(h, s.std);
    hash_vec(h, s.mean_diff_full);
    hash_vec(h, s.ranking);
    hash_vec(h, s.ranking_score);
    hash_vec(h, s.mask);
    hash_vec(h, s.zscore);
    hash_vec(h, s.iti.direction);
    hash_vec(h, s.iti.sigma);
    hash_vec(h, s.iti.probe_accuracy);
    hash_vec(h, s.iti.ranking);
    if (!s.iti.val_index.empty()) hash_vec(h, s.iti.val_index);  // older masks' hashes stay what they were
    hash_vec(h, s.stability.overlap_mean);
    hash_vec(h, s.stability.overlap_sd);
    hash_vec(h, s.stability.frequency);
    if (s.has_stats()) {  // sharded masks only: older masks' hashes stay what they were
      hash_vec(h, s.stat_mean);
      hash_vec(h, s.stat_m2);
      hash_vec(h, s.stat_full_sum);
    }
  }
  return "sha256:" + h.hex();
}

// kAllSites order, the order read_mask_file returns sites in, whatever order the writer had
// them in (identify keeps the order of --sites).
std::string mask_content_sha256(const MaskFile& mask) {
  return mask_content_sha256(mask, {kAllSites.begin(), kAllSites.end()});
}

// Masks written before the order was fixed were stamped in the order of their --sites: the
// recorded hash matches one ordering of the sites present (at most 4! = 24 to try). Sorted,
// the sites are in kAllSites order (the enum's), so the current stamp is the first one tried.
bool mask_content_hash_matches(const MaskFile& mask, const std::string& recorded) {
  std::vector<Site> order;
  for (const auto& s : mask.sites) order.push_back(s.site);
  std::sort(order.begin(), order.end());
  do {
    if (recorded == mask_content_sha256(mask, order)) return true;
  } while (std::next_permutation(order.begin(), order.end()));
  return false;
}

void write_mask_file(const std::filesystem::path& path, const MaskFile& mask) {
  static Silence silence;
  const std::string where = path.string();
  std::string image;
  {
    MemoryFile file(where);
    const MaskAttributes attrs = mask_attributes(mask.provenance);
    write_int_attr(file.get(), "format_version", kMaskFormatVersion, where);
    for (const auto& [k, v] : attrs.text) {
      if (k != "content_sha256") write_text_attr(file.get(), k, v, where);
    }
    write_text_attr(file.get(), "content_sha256", mask_content_sha256(mask), where);
    for (const auto& [k, v] : attrs.integer) {
      if (k != "format_version") write_int_attr(file.get(), k, v, where);  // the writer's own, above
    }
    for (const auto& s : mask.sites) {
      const std::string name = site_name(s.site);
      H5Handle g = create_group(file.get(), "/" + name, where);
      const std::string gw = str(where, ": /", name);
      const auto l = static_cast<hsize_t>(s.n_layers), u = static_cast<hsize_t>(s.units);
      write_int_attr(g.get(), "n_layers", s.n_layers, gw);
      write_int_attr(g.get(), "units", s.units, gw);
      write_int_attr(g.get(), "group", s.group, gw);
      write_int_attr(g.get(), "count", s.count, gw);
      write_int_attr(g.get(), "top_k", s.top_k, gw);
      write_dataset(g.get(), "mean_diff", s.mean_diff, {l, u}, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, gw);
      write_dataset(g.get(), "std", s.std, {l, u}, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, gw);
      write_dataset(g.get(), "ranking", s.ranking, {l * u, 2}, H5T_STD_I32LE, H5T_NATIVE_INT32, gw);
      write_dataset(g.get(), "ranking_score", s.ranking_score, {l * u}, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, gw);
      if (!s.mean_diff_full.empty()) {
        write_dataset(g.get(), "mean_diff_full", s.mean_diff_full, {l, u * static_cast<hsize_t>(s.group)},
                      H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, gw);
      }
      if (s.top_k > 0) write_dataset(g.get(), "mask", s.mask, {l, u}, H5T_STD_U8LE, H5T_NATIVE_UINT8, gw);
      if (s.has_stats()) {
        write_dataset(g.get(), "stat_mean", s.stat_mean, {l, u}, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, gw);
        write_dataset(g.get(), "stat_m2", s.stat_m2, {l, u}, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, gw);
        if (!s.stat_full_sum.empty()) {
          write_dataset(g.get(), "stat_full_sum", s.stat_full_sum, {l, u * static_cast<hsize_t>(s.group)},
                        H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, gw);
        }
      }
      write_evidence(g.get(), s, gw);
    }
    image = file.bytes();
  }
  write_file_atomic(path, with_checksum(image, path.string()));
}

namespace {

// Root attribute `i` into the provenance, by type (fixed-length strings; variable-length strings
// of older masks; integers). Every HDF5 return code checked.
void read_root_attribute(hid_t file, hsize_t i, const std::string& where, MaskAttributes& p) {
  H5Handle attr(H5Aopen_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.ok()) throw_input(str(where, ": cannot read root attribute ", i, " (corrupt file?)"));
  char name[256] = {0};
  if (H5Aget_name(attr.get(), sizeof(name), name) < 0) throw_input(str(where, ": cannot read the name of root attribute ", i));
  H5Handle type(H5Aget_type(attr.get()), H5Tclose);
  if (!type.ok()) throw_input(str(where, ": cannot read the type of attribute '", name, "'"));
  const H5T_class_t cls = H5Tget_class(type.get());
  const htri_t variable = cls == H5T_STRING ? H5Tis_variable_str(type.get()) : 0;
  if (variable < 0) throw_input(str(where, ": cannot read the type of attribute '", name, "'"));
  if (cls == H5T_STRING && variable == 0) {  // fixed length
    const size_t n = std::max<size_t>(H5Tget_size(type.get()), 1);
    H5Handle mem(utf8_fixed_type(n), H5Tclose);
    std::string value(n, '\0');
    if (H5Aread(attr.get(), mem.get(), value.data()) < 0) throw_input(str(where, ": cannot read attribute '", name, "'"));
    value.resize(std::min(value.size(), std::strlen(value.c_str())));
    p.text[name] = value;
  } else if (cls == H5T_STRING) {  // variable length: older masks
    H5Handle mem(utf8_type(), H5Tclose);
    char* value = nullptr;
    if (H5Aread(attr.get(), mem.get(), &value) < 0) throw_input(str(where, ": cannot read attribute '", name, "'"));
    if (value) {
      p.text[name] = value;
      H5free_memory(value);
    }
  } else if (cls == H5T_INTEGER) {
    int64_t v = 0;
    if (H5Aread(attr.get(), H5T_NATIVE_INT64, &v) < 0) throw_input(str(where, ": cannot read attribute '", name, "'"));
    p.integer[name] = v;
  }
}

MaskProvenance read_provenance(hid_t file, const std::string& where) {
  H5O_info_t oinfo;
#if H5_VERSION_GE(1, 12, 0)
  const herr_t got = H5Oget_info3(file, &oinfo, H5O_INFO_NUM_ATTRS);
#else
  const herr_t got = H5Oget_info(file, &oinfo);
#endif
  if (got < 0) throw_input(str(where, ": cannot read the root group's attributes (corrupt file?)"));
  MaskAttributes a;
  for (hsize_t i = 0; i < oinfo.num_attrs; ++i) read_root_attribute(file, i, where, a);
  return provenance_from_attributes(a);
}

// Every ranking entry names an element inside [n_layers, units], each element once (the ranking
// is an order of all of them: a repeated entry would give a top K of fewer than K elements).
void check_ranking(const SiteScores& s, const std::string& gw) {
  std::vector<int64_t> first(static_cast<size_t>(s.n_layers * s.units), -1);  // element -> its entry
  for (size_t i = 0; i < s.ranking.size(); i += 2) {
    const int64_t layer = s.ranking[i], unit = s.ranking[i + 1], entry = static_cast<int64_t>(i / 2);
    if (layer < 0 || layer >= s.n_layers || unit < 0 || unit >= s.units) {
      throw_input(str(gw, ": dataset 'ranking': entry ", entry, " (", layer, ", ", unit, ") lies outside [",
                      s.n_layers, ", ", s.units, "]"));
    }
    int64_t& seen = first[static_cast<size_t>(layer * s.units + unit)];
    if (seen >= 0) {
      throw_input(str(gw, ": dataset 'ranking': entry ", entry, " (", layer, ", ", unit, ") repeats entry ", seen,
                      "; expected every element once"));
    }
    seen = entry;
  }
}

// The group /NAME of `site` (which exists).
SiteScores read_site(hid_t file, Site site, const std::string& where) {
  const std::string name = site_name(site);
  H5Handle g = open_group(file, name, where);
  const std::string gw = str(where, ": /", name);
  SiteScores s;
  s.site = site;
  s.n_layers = read_int_attr(g.get(), "n_layers", gw);
  s.units = read_int_attr(g.get(), "units", gw);
  s.group = read_int_attr(g.get(), "group", gw);
  s.count = read_int_attr(g.get(), "count", gw);
  s.top_k = read_int_attr(g.get(), "top_k", gw);
  if (s.n_layers <= 0 || s.units <= 0 || s.group <= 0) throw_input(str(gw, ": n_layers, units and group must be positive"));
  const auto l = static_cast<hsize_t>(s.n_layers), u = static_cast<hsize_t>(s.units);
  const auto full = u * static_cast<hsize_t>(s.group);
  s.mean_diff = read_dataset<float>(g.get(), "mean_diff", {l, u}, H5T_NATIVE_FLOAT, gw);
  s.std = read_dataset<float>(g.get(), "std", {l, u}, H5T_NATIVE_FLOAT, gw);
  s.ranking = read_dataset<int32_t>(g.get(), "ranking", {l * u, 2}, H5T_NATIVE_INT32, gw);
  s.ranking_score = read_dataset<float>(g.get(), "ranking_score", {l * u}, H5T_NATIVE_FLOAT, gw);
  if (exists(g.get(), "mean_diff_full")) s.mean_diff_full = read_dataset<float>(g.get(), "mean_diff_full", {l, full}, H5T_NATIVE_FLOAT, gw);
  if (s.top_k > 0) s.mask = read_dataset<uint8_t>(g.get(), "mask", {l, u}, H5T_NATIVE_UINT8, gw);
  if (exists(g.get(), "stat_mean")) {
    s.stat_mean = read_dataset<double>(g.get(), "stat_mean", {l, u}, H5T_NATIVE_DOUBLE, gw);
    s.stat_m2 = read_dataset<double>(g.get(), "stat_m2", {l, u}, H5T_NATIVE_DOUBLE, gw);
    if (exists(g.get(), "stat_full_sum")) s.stat_full_sum = read_dataset<double>(g.get(), "stat_full_sum", {l, full}, H5T_NATIVE_DOUBLE, gw);
  }
  check_ranking(s, gw);
  read_evidence(g.get(), s, gw);
  return s;
}

}  // namespace

MaskFile read_mask_file(const std::filesystem::path& path) {
  static Silence silence;
  const std::string where = path.string();
  OperationContext context(str("reading the mask ", where));
  fault_point("mask");
  check_readable_file(path);
  verify_checksum(path);
  if (H5Fis_hdf5(path.c_str()) <= 0) throw_input(str(where, ": not an HDF5 file"));
  H5Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) throw_input(str(where, ": cannot open HDF5 file"));
  MaskFile m;
  const int64_t version = read_int_attr(file.get(), "format_version", where);
  if (version > kMaskFormatVersion) {
    throw_input(str(where, ": attribute 'format_version': this sadi reads mask format ", kMaskFormatVersion,
                    " or below, found ", version, " (written by a newer sadi)"));
  }
  m.provenance = read_provenance(file.get(), where);
  for (Site site : kAllSites) {
    if (exists(file.get(), site_name(site))) m.sites.push_back(read_site(file.get(), site, where));
  }
  if (m.sites.empty()) throw_input(str(where, ": no site groups (/head, /neuron, /hidden, /residual)"));
  const auto& recorded = m.provenance.content_sha256;
  if (recorded && !mask_content_hash_matches(m, *recorded)) {
    log::warn(str(where, ": its numbers do not match the content_sha256 that sadi identify recorded: the file was "
                  "edited or corrupted after it was written (used as it is now)"));
  }
  return m;
}

}  // namespace sadi
