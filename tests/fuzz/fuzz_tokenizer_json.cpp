// tokenizer.json files (Hugging Face's format; lib/model/src/hf_tokenizer.cpp): parsing, then a
// few encodes and decodes with whatever the file describes.
#include "fuzz_common.hpp"
#include "sadi/model/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = sadi::fuzz::write_input("tokenizer.json", data, size);
  sadi::fuzz::expect_clean([&] {
    auto tok = sadi::load_hf_tokenizer(path.string(), {1});
    for (const char* text : {"Hello world", " a  b\n\tc", "caf\xc3\xa9 \xe2\x82\xac 1234", "\xff\xfe broken"}) {
      const auto ids = tok->encode(text, true);
      for (auto id : ids) {
        if (id < 0 || id >= tok->vocab_size()) __builtin_trap();  // ids index the embedding table
      }
      (void)tok->decode(ids);
    }
  });
  return 0;
}
