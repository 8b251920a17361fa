// A tiny C ABI around sentencepiece, built as its own shared object and loaded with
// dlopen(RTLD_LOCAL | RTLD_DEEPBIND) by lib/model/src/tokenizer.cpp.
//
// Why: Debian's libsentencepiece.so carries a private copy of protobuf-lite whose exported
// symbols collide with the libprotobuf.so that Debian's libtorch links; linking both into one
// process crashes during static initialisation. Loading sentencepiece in its own symbol scope
// keeps the two protobufs apart. (docs/dependencies.md)
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sentencepiece_processor.h>

extern "C" {

struct sadi_spm {
  sentencepiece::SentencePieceProcessor sp;
  std::string error;
};

// Returns a handle, or null with *error set to a malloc'ed message.
__attribute__((visibility("default"))) sadi_spm* sadi_spm_load(const char* path, char** error) {
  auto* h = new sadi_spm();
  auto status = h->sp.Load(path);
  if (!status.ok()) {
    *error = strdup(status.ToString().c_str());
    delete h;
    return nullptr;
  }
  return h;
}

__attribute__((visibility("default"))) void sadi_spm_free(sadi_spm* h) { delete h; }

__attribute__((visibility("default"))) int sadi_spm_size(sadi_spm* h) { return h->sp.GetPieceSize(); }

// Encodes text; *ids is malloc'ed (caller frees with free()). Returns 0 or -1 (see sadi_spm_error).
__attribute__((visibility("default"))) int sadi_spm_encode(sadi_spm* h, const char* text, size_t len,
                                                          int** ids, size_t* n) {
  std::vector<int> out;
  auto status = h->sp.Encode(std::string(text, len), &out);
  if (!status.ok()) {
    h->error = status.ToString();
    return -1;
  }
  *n = out.size();
  *ids = static_cast<int*>(std::malloc(sizeof(int) * (out.empty() ? 1 : out.size())));
  std::memcpy(*ids, out.data(), sizeof(int) * out.size());
  return 0;
}

// Decodes ids; *text is malloc'ed (caller frees). Returns 0 or -1.
__attribute__((visibility("default"))) int sadi_spm_decode(sadi_spm* h, const int* ids, size_t n, char** text,
                                                          size_t* len) {
  std::string out;
  auto status = h->sp.Decode(std::vector<int>(ids, ids + n), &out);
  if (!status.ok()) {
    h->error = status.ToString();
    return -1;
  }
  *len = out.size();
  *text = static_cast<char*>(std::malloc(out.size() + 1));
  std::memcpy(*text, out.data(), out.size());
  (*text)[out.size()] = '\0';
  return 0;
}

// The most printable ASCII bytes (0x21-0x7E) one piece stands for (the printable ASCII characters
// of the piece; "<0x41>" counts 6 for 1 byte, which only loosens the bound), or -1 when some
// printable ASCII character has no piece of its own and there is no byte fallback: such
// characters become unknown pieces, which sentencepiece may fuse into one.
__attribute__((visibility("default"))) int sadi_spm_max_piece_bytes(sadi_spm* h) {
  bool bytes = false;
  int most = 1;
  for (int i = 0; i < h->sp.GetPieceSize(); ++i) {
    bytes = bytes || h->sp.IsByte(i);
    int n = 0;
    for (const char c : h->sp.IdToPiece(i)) n += (c > 0x20 && c < 0x7F) ? 1 : 0;
    most = std::max(most, n);
  }
  for (char c = 0x21; c < 0x7F && !bytes; ++c) {
    if (h->sp.PieceToId(std::string(1, c)) == h->sp.unk_id()) return -1;
  }
  return most;
}

__attribute__((visibility("default"))) const char* sadi_spm_error(sadi_spm* h) { return h->error.c_str(); }

}  // extern "C"
