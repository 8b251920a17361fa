// llama.cpp as a peer and an oracle: greedy decoding of given token ids through llama.cpp's C API
// (libllama built from llama-cpp-python's vendored source by scripts/bench/llamacpp/build.sh).
// Usage: sadi-llamacpp-greedy MODEL.gguf IDS_JSON N_NEW THREADS [REPEAT] [--logits FILE]
// IDS_JSON: a file holding a JSON list of prompt token ids (BOS included, as sadi tokenizes them).
// Prints one JSON line per repeat: {"ids": [...generated], "prompt_tokens", "prompt_ms",
// "decode_tokens", "decode_ms", "threads"}; prompt_ms: the prompt's evaluation and the first
// token's choice; decode_ms: the remaining N_NEW - 1 tokens (each one evaluation and a greedy
// choice). End-of-generation tokens are taken like any other (as sadi generate --ignore-eos).
// The KV cache is float32 (llama.cpp defaults to float16), as sadi keeps it in the model's dtype.
// --logits FILE: writes the float32 logits of the prompt's last position, then of each
// generated position but the last ([N_NEW, vocab], row-major, little-endian), first repeat only.
// (written to FILE.part and renamed when complete).
#include <llama.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "sadi-llamacpp-greedy: %s\n", msg.c_str());
  std::exit(1);
}

std::vector<llama_token> read_ids(const std::string& path) {
  std::ifstream in(path);
  if (!in) die(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  std::vector<llama_token> ids;
  std::string num;
  for (char c : s) {
    if ((c >= '0' && c <= '9') || c == '-') {
      num += c;
    } else if (!num.empty()) {
      ids.push_back(std::stoi(num));
      num.clear();
    } else if (c != '[' && c != ']' && c != ',' && c != ' ' && c != '\n') {
      die(path + ": expected a JSON list of integers, found '" + std::string(1, c) + "'");
    }
  }
  if (ids.empty()) die(path + ": no token ids");
  return ids;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

llama_token argmax(const float* logits, int n_vocab) {
  int best = 0;
  for (int i = 1; i < n_vocab; ++i)
    if (logits[i] > logits[best]) best = i;
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> pos;
  std::string logits_path;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--logits" && i + 1 < argc) logits_path = argv[++i];
    else pos.push_back(a);
  }
  if (pos.size() < 4) die("usage: MODEL.gguf IDS_JSON N_NEW THREADS [REPEAT] [--logits FILE]");
  const auto prompt = read_ids(pos[1]);
  const int n_new = std::atoi(pos[2].c_str()), threads = std::atoi(pos[3].c_str());
  const int repeat = pos.size() > 4 ? std::atoi(pos[4].c_str()) : 1;

  llama_log_set([](ggml_log_level level, const char* text, void*) {
    if (level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
  }, nullptr);
  llama_backend_init();
  auto mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  const auto load_t0 = std::chrono::steady_clock::now();
  llama_model* model = llama_model_load_from_file(pos[0].c_str(), mp);
  if (!model) die(pos[0] + ": llama.cpp cannot load it");
  const double load_ms = ms_since(load_t0);
  const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));

  for (int r = 0; r < repeat; ++r) {
    auto cp = llama_context_default_params();
    cp.n_ctx = static_cast<uint32_t>(prompt.size() + n_new + 8);
    cp.n_batch = cp.n_ubatch = static_cast<uint32_t>(std::max<size_t>(prompt.size(), 32));
    cp.n_threads = cp.n_threads_batch = threads;
    cp.no_perf = true;
    cp.type_k = cp.type_v = GGML_TYPE_F32;  // llama.cpp's default KV cache is float16; sadi's is the model's dtype
    // Flash attention (on by default) left 5e-3 logit differences from transformers on a 90-token
    // prompt (tests/python/test_llamacpp.py); the plain attention path stays within 1e-3.
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    llama_context* ctx = llama_init_from_model(model, cp);
    if (!ctx) die("llama_init_from_model failed");
    std::ofstream logits_out;
    if (r == 0 && !logits_path.empty()) logits_out.open(logits_path + ".part", std::ios::binary);

    std::vector<llama_token> in(prompt), out;
    const auto t0 = std::chrono::steady_clock::now();
    double prompt_ms = 0;
    while (static_cast<int>(out.size()) < n_new) {
      if (llama_decode(ctx, llama_batch_get_one(in.data(), static_cast<int32_t>(in.size()))) != 0)
        die("llama_decode failed");
      const float* logits = llama_get_logits_ith(ctx, -1);
      if (logits_out.is_open())
        logits_out.write(reinterpret_cast<const char*>(logits), sizeof(float) * n_vocab);
      const llama_token next = argmax(logits, n_vocab);
      out.push_back(next);
      if (out.size() == 1) prompt_ms = ms_since(t0);
      in.assign(1, next);
    }
    const double total_ms = ms_since(t0);
    if (logits_out.is_open()) {  // written whole or not at all
      logits_out.close();
      if (!logits_out || std::rename((logits_path + ".part").c_str(), logits_path.c_str()) != 0)
        die(logits_path + ": cannot write");
    }
    std::printf("{\"ids\": [");
    for (size_t i = 0; i < out.size(); ++i) std::printf("%s%d", i ? ", " : "", out[i]);
    std::printf("], \"prompt_tokens\": %zu, \"prompt_ms\": %.3f, \"decode_tokens\": %zu, \"decode_ms\": %.3f, "
                "\"threads\": %d, \"load_ms\": %.3f}\n", prompt.size(), prompt_ms, out.size() - 1, total_ms - prompt_ms,
                threads, load_ms);
    std::fflush(stdout);
    llama_free(ctx);
  }
  llama_model_free(model);
  llama_backend_free();
  return 0;
}
