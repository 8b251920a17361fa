// The mask provenance codec (mask_file.hpp): typed fields <-> the file's root attributes.
#include <cstdlib>

#include "sadi/core/strings.hpp"
#include "sadi/io/mask_file.hpp"

namespace sadi {
namespace {

using P = MaskProvenance;

template <typename T>
struct Field {
  const char* name;
  T P::*member;
};

// The one list of attribute names, by how they are stored.
const Field<P::Text> kText[] = {
    {"model_fingerprint", &P::model_fingerprint}, {"model_dir", &P::model_dir},   {"architecture", &P::architecture},
    {"dtype", &P::dtype},                         {"device", &P::device},         {"pairs_file", &P::pairs_file},
    {"pairs_sha256", &P::pairs_sha256},           {"skipped_ids", &P::skipped_ids}, {"position", &P::position},
    {"rank", &P::rank},                           {"separator", &P::separator},   {"content_sha256", &P::content_sha256},
    {"tool_version", &P::tool_version},           {"command_line", &P::command_line}};
const Field<P::Flag> kFlags[] = {
    {"strip", &P::strip}, {"batch_invariant", &P::batch_invariant}, {"prefix_sharing", &P::prefix_sharing}};
const Field<P::Int> kInts[] = {
    {"n_layers", &P::n_layers},     {"pairs_in_file", &P::pairs_in_file}, {"pairs_used", &P::pairs_used},
    {"pairs_skipped", &P::pairs_skipped}, {"max_length", &P::max_length}, {"batch_size", &P::batch_size},
    {"bootstrap", &P::bootstrap},   {"seed", &P::seed},                   {"format_version", &P::format_version}};

std::optional<bool> parse_flag(const std::string& s) {
  if (s == "true") return true;
  if (s == "false") return false;
  return std::nullopt;
}

std::optional<double> parse_double(const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_int(const std::string& s) {
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

std::optional<Shard> parse_shard_text(const std::string& s) {
  try {
    return parse_shard(s);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Removes text attribute `name` from the unclaimed ones and returns it (if present).
std::optional<std::string> claim(P& p, const char* name) {
  auto it = p.other_text.find(name);
  if (it == p.other_text.end()) return std::nullopt;
  std::string v = std::move(it->second);
  p.other_text.erase(it);
  return v;
}

// Text attribute `name` into `into` when it parses, else left unclaimed as read.
template <typename T, typename Parse>
void take(P& p, const char* name, std::optional<T>& into, Parse parse) {
  const auto text = claim(p, name);
  if (!text) return;
  if (auto v = parse(*text)) {
    into = *v;
  } else {
    p.other_text[name] = *text;
  }
}

}  // namespace

MaskAttributes mask_attributes(const MaskProvenance& p) {
  MaskAttributes a{p.other_text, p.other_integer};
  for (const auto& f : kText) {
    if (p.*f.member) a.text[f.name] = *(p.*f.member);
  }
  for (const auto& f : kFlags) {
    if (p.*f.member) a.text[f.name] = *(p.*f.member) ? "true" : "false";
  }
  for (const auto& f : kInts) {
    if (p.*f.member) a.integer[f.name] = *(p.*f.member);
  }
  if (p.iti_val_fraction) a.text["iti_val_fraction"] = str(*p.iti_val_fraction);
  if (p.shard) a.text["shard"] = p.shard->name();
  if (p.merged_shards) a.text["merged_shards"] = str(*p.merged_shards);
  return a;
}

MaskProvenance provenance_from_attributes(const MaskAttributes& a) {
  P p;  // every attribute starts unclaimed; each field claims its own
  p.other_text = a.text;
  p.other_integer = a.integer;
  for (const auto& f : kText) {
    if (auto v = claim(p, f.name)) p.*f.member = std::move(*v);
  }
  for (const auto& f : kInts) {
    auto it = p.other_integer.find(f.name);
    if (it == p.other_integer.end()) continue;
    p.*f.member = it->second;
    p.other_integer.erase(it);
  }
  for (const auto& f : kFlags) take(p, f.name, p.*f.member, parse_flag);
  take(p, "iti_val_fraction", p.iti_val_fraction, parse_double);
  take(p, "shard", p.shard, parse_shard_text);
  take(p, "merged_shards", p.merged_shards, parse_int);
  return p;
}

Json provenance_json(const MaskProvenance& p) {
  const MaskAttributes a = mask_attributes(p);
  Json j = Json::object();
  for (const auto& [k, v] : a.text) j[k] = v;
  for (const auto& [k, v] : a.integer) j[k] = v;
  return j;
}

}  // namespace sadi
