#include "sadi/identify/evidence.hpp"

#include <algorithm>
#include <random>

#include "sadi/core/error.hpp"
#include "sadi/core/strings.hpp"

namespace sadi {
namespace {

std::vector<float> to_vec(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// Descending order of `score` [E], ties by lower index.
torch::Tensor order_of(const torch::Tensor& score) {
  return std::get<1>(score.sort(/*stable=*/true, /*dim=*/-1, /*descending=*/true));
}

// Batched L2-regularised logistic regression (sklearn's objective with C = 1: 0.5|w|^2 +
// sum log-loss, intercept not penalised), Newton's method. x [P, n, D], y [n] (0/1) ->
// weights [P, D + 1] (last: intercept), all float64.
torch::Tensor fit_probes(const torch::Tensor& x, const torch::Tensor& y) {
  const int64_t p = x.size(0), n = x.size(1), d = x.size(2);
  auto xa = torch::cat({x, torch::ones({p, n, 1}, x.options())}, 2);  // [P, n, D+1]
  auto w = torch::zeros({p, d + 1, 1}, x.options());
  auto reg = torch::eye(d + 1, x.options());
  reg[d][d] = 0.0;
  auto yy = y.to(x.dtype()).view({1, n, 1});
  for (int it = 0; it < 50; ++it) {
    auto prob = torch::sigmoid(xa.bmm(w));                                     // [P, n, 1]
    auto grad = xa.transpose(1, 2).bmm(prob - yy) + reg.matmul(w);            // [P, D+1, 1]
    auto s = prob * (1 - prob);                                                // [P, n, 1]
    auto hess = xa.transpose(1, 2).bmm(xa * s) + reg + 1e-10 * torch::eye(d + 1, x.options());  // [P, D+1, D+1]
    auto step = torch::linalg_solve(hess, grad);
    w = w - step;
    if (step.abs().max().item<double>() < 1e-10) break;
  }
  return w.squeeze(-1);
}

}  // namespace

ItiScores iti_scores(const torch::Tensor& pos, const torch::Tensor& neg, int64_t heads, double val_fraction,
                     uint64_t seed) {
  const int64_t n = pos.size(0), layers = pos.size(1), width = pos.size(2), dh = width / heads;
  if (n < 2) throw_input(str("ITI needs at least 2 pairs (one to train a probe, one to test it), found ", n));
  auto p = pos.to(torch::kFloat64).view({n, layers, heads, dh});
  auto q = neg.to(torch::kFloat64).view({n, layers, heads, dh});
  ItiScores out;
  // theta [L, H, Dh]: the mass-mean shift, unit length (a zero shift stays zero).
  auto shift = (p - q).mean(0);
  auto norm = shift.norm(2, -1, /*keepdim=*/true);
  auto theta = torch::where(norm > 0, shift / norm.clamp_min(1e-300), torch::zeros_like(shift));
  auto all = torch::cat({p, q}, 0);                                     // [2N, L, H, Dh]
  auto proj = (all * theta.unsqueeze(0)).sum(-1);                       // [2N, L, H]
  auto sigma = proj.std(0, /*unbiased=*/false);                         // [L, H]
  // The held-out pairs: a seeded shuffle, the first n_val of it.
  int64_t n_val = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(n) * val_fraction + 0.5));
  n_val = std::min(n_val, n - 1);
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) idx[static_cast<size_t>(i)] = i;
  std::mt19937_64 rng(seed);
  std::shuffle(idx.begin(), idx.end(), rng);
  auto val_i = torch::tensor(std::vector<int64_t>(idx.begin(), idx.begin() + n_val), torch::kInt64);
  auto train_i = torch::tensor(std::vector<int64_t>(idx.begin() + n_val, idx.end()), torch::kInt64);
  auto feats = [&](const torch::Tensor& rows) {  // -> x [L*H, 2r, Dh], y [2r]
    auto x = torch::cat({p.index_select(0, rows), q.index_select(0, rows)}, 0);  // [2r, L, H, Dh]
    x = x.permute({1, 2, 0, 3}).reshape({layers * heads, x.size(0), dh});
    auto y = torch::cat({torch::ones({rows.size(0)}), torch::zeros({rows.size(0)})});
    return std::make_pair(x, y);
  };
  auto [xt, yt] = feats(train_i);
  auto [xv, yv] = feats(val_i);
  auto w = fit_probes(xt, yt);                                                     // [LH, Dh+1]
  auto logit = xv.bmm(w.slice(1, 0, dh).unsqueeze(-1)).squeeze(-1) + w.slice(1, dh).view({-1, 1});  // [LH, 2v]
  auto acc = ((logit > 0).to(torch::kFloat64) == yv.to(torch::kFloat64).unsqueeze(0)).to(torch::kFloat64).mean(1);
  out.direction = to_vec(theta.reshape({layers, width}));
  out.sigma = to_vec(sigma);
  out.probe_accuracy = to_vec(acc.view({layers, heads}));
  // honest_llama: np.argsort(accs)[::-1], i.e. ascending then reversed: among equal accuracies
  // the later head (higher layer, then higher head) first, as a stable ascending sort reversed.
  auto order = std::get<1>(acc.to(torch::kFloat32).sort(/*stable=*/true, /*dim=*/-1, /*descending=*/false)).flip(0);
  auto oa = order.accessor<int64_t, 1>();
  for (int64_t i = 0; i < order.size(0); ++i) {
    out.ranking.push_back(static_cast<int32_t>(oa[i] / heads));
    out.ranking.push_back(static_cast<int32_t>(oa[i] % heads));
  }
  for (int64_t i = 0; i < n_val; ++i) out.val_index.push_back(static_cast<int32_t>(idx[static_cast<size_t>(i)]));
  std::sort(out.val_index.begin(), out.val_index.end());
  out.train_pairs = n - n_val;
  out.val_pairs = n_val;
  return out;
}

Stability bootstrap_stability(const torch::Tensor& diffs, bool rank_abs, int64_t resamples, uint64_t seed,
                              const std::vector<int64_t>& ks, int64_t frequency_k) {
  const int64_t n = diffs.size(0), e = diffs.size(1);
  auto d = diffs.to(torch::kFloat64);
  auto score = [&](const torch::Tensor& mean) { return rank_abs ? mean.abs() : mean; };
  auto full = order_of(score(d.mean(0)).to(torch::kFloat32));  // [E]
  // counts [R, N]: how often each pair is drawn in each resample.
  auto counts = torch::zeros({resamples, n}, torch::kFloat64);
  auto ca = counts.accessor<double, 2>();
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pick(0, n - 1);
  for (int64_t r = 0; r < resamples; ++r) {
    for (int64_t i = 0; i < n; ++i) ca[r][pick(rng)] += 1.0;
  }
  auto orders = order_of(score(counts.matmul(d) / static_cast<double>(n)).to(torch::kFloat32));  // [R, E]
  Stability st;
  st.resamples = resamples;
  st.seed = seed;
  auto in_top = [&](int64_t k) {  // [R, E] bool: element in the resample's top-K
    auto m = torch::zeros({resamples, e}, torch::kBool);
    m.scatter_(1, orders.slice(1, 0, k), true);
    return m;
  };
  for (int64_t k : ks) {
    if (k <= 0 || k > e) continue;
    auto ref = torch::zeros({e}, torch::kBool);
    ref.index_fill_(0, full.slice(0, 0, k), true);
    auto overlap = (in_top(k) & ref.unsqueeze(0)).sum(1).to(torch::kFloat64) / static_cast<double>(k);  // [R]
    st.k.push_back(k);
    st.overlap_mean.push_back(static_cast<float>(overlap.mean().item<double>()));
    st.overlap_sd.push_back(static_cast<float>(resamples > 1 ? overlap.std().item<double>() : 0.0));
  }
  st.frequency_k = std::clamp<int64_t>(frequency_k, 1, e);
  st.frequency = to_vec(in_top(st.frequency_k).to(torch::kFloat64).mean(0));
  return st;
}

}  // namespace sadi
