#pragma once
// Steered text generation with a KV cache: batched prompts (left-padded), greedy or seeded
// sampling, stop strings, streaming. Which tokens are steered and what the cache then holds is
// documented in docs/generate.md.
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "sadi/model/model.hpp"
#include "sadi/model/prefix_cache.hpp"
#include "sadi/model/tokenizer.hpp"
#include "sadi/steer/intervention.hpp"

namespace sadi {

struct GenerateOptions {
  int64_t max_new_tokens = 64;
  double temperature = 0.0;  // 0: greedy
  double top_p = 1.0;
  int64_t top_k = 0;         // 0: no top-k filter
  uint64_t seed = 0;
  std::vector<std::string> stop;
  bool ignore_eos = false;
  // Throw sadi::Interrupted at the next token once SIGINT/SIGTERM arrived (sadi generate). Off
  // where the caller polls between batches itself (eval's generate-em saves a partial result).
  bool stop_on_interrupt = false;
  // Decode with the model's fixed-shape step (Model::decode_step: static device buffers updated
  // in place, the whole cache attended to), the form CUDA graphs capture; else forward() per step.
  bool static_decode = false;
  // On CUDA, in a build with CUDA graphs (DecodeGraph::available()): the fixed-shape step captured
  // once per batch and replayed (implies static_decode). Ignored elsewhere.
  bool cuda_graphs = true;
};

struct Prompt {
  std::string id;
  std::string text;
  int64_t index = 0;  // position in the input: seeds this prompt's sampler, so batching never changes it
};

struct Generation {
  std::string output;
  std::vector<int64_t> tokens;  // generated ids (the EOS that ended it excluded)
  int64_t prompt_tokens = 0;
  std::string stop_reason;      // eos | stop | length
};

// Where a generation's time went (wall clock, summed over calls): the prefill forward of the
// prompts and the decode steps after it.
struct GenerateTiming {
  double prefill_ms = 0, decode_ms = 0;
  int64_t prompt_tokens = 0;     // real prompt tokens prefilled (padding excluded)
  int64_t decoded_tokens = 0;    // tokens produced by decode steps (rows x steps that were live)
  void add(const GenerateTiming& o);
};

// Receives each row's newly final text as it is produced.
using StreamFn = std::function<void(size_t row, const std::string& text)>;

// Prompts whose K/V (every token but the last) a PrefixCache already holds: prompt i is entry
// entries[i] (the same token ids). The batch then runs only each prompt's last token before
// decoding; rows steered inside the prompt (prompt-all, all) cannot start this way.
struct SharedPrompts {
  const PrefixCache* cache = nullptr;
  std::vector<size_t> entries;
};

// Steering per prompt: steer[i] is prompt i's intervention (null or method none: unsteered); an
// empty vector steers nothing. Steered rows share mode and positions. Checks every prompt's
// length first and throws sadi::Error (input) naming the prompt.
std::vector<Generation> generate_batch(Model& model, const Tokenizer& tok, const std::vector<Prompt>& prompts,
                                       const GenerateOptions& opts, const std::vector<const Intervention*>& steer = {},
                                       const StreamFn& stream = {}, GenerateTiming* timing = nullptr,
                                       const SharedPrompts* shared = nullptr);

// Picks the next token from logits [V] (float32, CPU): argmax when temperature is 0, else
// temperature, top-k and top-p filtering and a draw from `rng`.
int64_t sample_token(const torch::Tensor& logits, const GenerateOptions& opts, std::mt19937_64& rng);

}  // namespace sadi
