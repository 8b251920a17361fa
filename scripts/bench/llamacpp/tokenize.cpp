// llama.cpp's own tokenization of texts with a GGUF file's vocabulary (the tokenizer oracle of
// tests/python/test_gguf.py). Loads the vocabulary only.
// Usage: sadi-llamacpp-tokenize MODEL.gguf TEXTS.hex
// TEXTS.hex: one text per line, its UTF-8 bytes in hexadecimal (so any text fits on one line).
// Prints one line per text: its token ids separated by spaces (BOS where the GGUF asks for it,
// special tokens written in the text parsed as such, as sadi and Hugging Face tokenizers do).
#include <llama.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "sadi-llamacpp-tokenize: %s\n", msg.c_str());
  std::exit(1);
}

std::string from_hex(const std::string& hex, const std::string& where) {
  if (hex.size() % 2) die(where + ": odd number of hex digits");
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const std::string byte = hex.substr(i, 2);
    if (byte.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) die(where + ": not hex: " + byte);
    out += static_cast<char>(std::stoi(byte, nullptr, 16));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) die("usage: MODEL.gguf TEXTS.hex");
  llama_log_set([](ggml_log_level level, const char* text, void*) {
    if (level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
  }, nullptr);
  llama_backend_init();
  auto mp = llama_model_default_params();
  mp.vocab_only = true;
  llama_model* model = llama_model_load_from_file(argv[1], mp);
  if (!model) die(std::string(argv[1]) + ": llama.cpp cannot load it");
  const llama_vocab* vocab = llama_model_get_vocab(model);
  std::ifstream in(argv[2]);
  if (!in) die(std::string(argv[2]) + ": cannot open");
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const std::string text = from_hex(line, std::string(argv[2]) + ":" + std::to_string(n));
    std::vector<llama_token> ids(text.size() + 8);
    int32_t k = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), ids.data(),
                               static_cast<int32_t>(ids.size()), true, true);
    if (k < 0) die(std::string(argv[2]) + ":" + std::to_string(n) + ": llama_tokenize failed");
    for (int32_t i = 0; i < k; ++i) std::printf("%s%d", i ? " " : "", ids[static_cast<size_t>(i)]);
    std::printf("\n");
  }
  llama_model_free(model);
  llama_backend_free();
  return 0;
}
