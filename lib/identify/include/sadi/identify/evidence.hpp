#pragma once
// What identification can say beyond the mean difference: ITI's per-head probe statistics and
// the ranking's stability over bootstrap resamples of the pairs. Plain tensor functions of the
// per-pair activations, so tests can check them against an independent computation.
#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "sadi/core/mask_scores.hpp"

namespace sadi {

// ITI (Li et al. 2023, honest_llama) from the head activations at the read position of each
// pair's positive and negative sequence, pos/neg [N, L, H*Dh] float (CPU):
//  - theta_h: mean over pairs of pos - neg for head h (mass-mean shift), unit length;
//  - sigma_h: population std of all 2N activations projected on theta_h;
//  - probe_accuracy: an L2-regularised logistic probe per head (C = 1, intercept; sklearn's
//    LogisticRegression defaults, solved by Newton's method) trained on the pairs outside a
//    seeded held-out fraction, accuracy on the held-out pairs' 2 * n_val sequences (their
//    indices in val_index, ascending).
// Heads are ranked by probe accuracy, best first; ties as honest_llama's np.argsort(acc)[::-1]
// with a stable sort: the higher (layer, head) first. Needs N >= 2.
ItiScores iti_scores(const torch::Tensor& pos, const torch::Tensor& neg, int64_t heads, double val_fraction,
                     uint64_t seed);

// The ranking's stability: `resamples` bootstrap resamples of the pairs' differences
// diffs [N, E] (E = L * units, score level), each ranked like the full set (abs or signed mean,
// descending, ties by index). For K in `ks`: mean and sd over resamples of
// |top-K(resample) ∩ top-K(all)| / K; `frequency` the share of resamples with each element in
// their top-`frequency_k`.
Stability bootstrap_stability(const torch::Tensor& diffs, bool rank_abs, int64_t resamples, uint64_t seed,
                              const std::vector<int64_t>& ks, int64_t frequency_k);

}  // namespace sadi
