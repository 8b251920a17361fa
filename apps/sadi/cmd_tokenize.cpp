// sadi tokenize: token ids of text with a model's tokenizer (or a tokenizer file), for checking
// prompts and for the tokenizer benchmark (scripts/bench/tokenizer_bench.sh).
#include <chrono>
#include <fstream>
#include <iostream>

#include "commands.hpp"
#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/json.hpp"
#include "sadi/core/log.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/model/manifest.hpp"
#include "sadi/model/tokenizer.hpp"

namespace sadi::app {
namespace {

// A model directory (its manifest's tokenizer), or a tokenizer.json / tokenizer.model file.
std::unique_ptr<Tokenizer> open_tokenizer(const std::string& path, bool& add_bos) {
  if (fs::is_directory(path)) {
    const ModelInfo info = load_manifest(path);
    add_bos = add_bos && info.tokenizer.add_bos;
    return load_tokenizer(info);
  }
  add_bos = false;  // a bare file knows no BOS id
  if (path.size() >= 5 && path.substr(path.size() - 5) == ".json") return load_hf_tokenizer(path, {});
  if (path.size() >= 6 && path.substr(path.size() - 6) == ".model") return load_sentencepiece(path, {});
  throw_usage(str("sadi tokenize: '", path, "': expected a model directory, a tokenizer.json or a tokenizer.model"));
}

}  // namespace

int cmd_tokenize(const Args& args) {
  cxxopts::Options opts(args[0], "Print the token ids of text (one JSON list per input line).");
  opts.add_options()
      ("tokenizer", "model directory, tokenizer.json or tokenizer.model", cxxopts::value<std::string>())
      ("text", "one text (default: read --input)", cxxopts::value<std::string>())
      ("input", "text file: one string per line, or JSON Lines of strings with --jsonl", cxxopts::value<std::string>())
      ("jsonl", "each --input line is a JSON string")
      ("no-bos", "do not prepend the model's BOS token")
      ("decode", "also print the decoded text of each line's ids")
      ("bench", "tokenize the input this many times and print tokens/s on stderr instead of ids",
       cxxopts::value<int64_t>()->default_value("0"));
  opts.parse_positional({"tokenizer"});
  opts.positional_help("MODEL_DIR|TOKENIZER_FILE");
  add_common_options(opts);
  cxxopts::ParseResult r;
  if (!parse_common(opts, args, r)) return 0;
  if (!r.count("tokenizer")) throw_usage("sadi tokenize: missing MODEL_DIR or tokenizer file (see sadi tokenize --help)");
  bool add_bos = !r.count("no-bos");
  auto tok = open_tokenizer(r["tokenizer"].as<std::string>(), add_bos);
  std::vector<std::string> texts;
  if (r.count("text")) {
    texts.push_back(r["text"].as<std::string>());
  } else if (r.count("input")) {
    const std::string path = r["input"].as<std::string>();
    const std::string content = read_text_file(path);
    int64_t n = 0;
    for (const auto& line : split(content, '\n')) {
      ++n;
      if (line.empty()) continue;  // blank lines are skipped
      if (r.count("jsonl")) {
        const Json j = parse_json(line, str(path, ":", n));
        if (!j.is_string()) throw_input(str(path, ":", n, ": expected a JSON string, found ", dump_json(j)));
        texts.push_back(j.get<std::string>());
      } else {
        texts.push_back(line);
      }
    }
  } else {
    throw_usage("sadi tokenize: give --text or --input");
  }
  const int64_t repeat = r["bench"].as<int64_t>();
  if (repeat > 0) {
    int64_t tokens = 0, bytes = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t k = 0; k < repeat; ++k) {
      for (const auto& t : texts) {
        tokens += static_cast<int64_t>(tok->encode(t, add_bos).size());
        bytes += static_cast<int64_t>(t.size());
      }
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cerr << "tokenize: " << tokens << " tokens (" << bytes << " bytes) in " << s << " s: "
              << static_cast<int64_t>(static_cast<double>(tokens) / s) << " tokens/s\n";
    return 0;
  }
  for (const auto& t : texts) {
    const auto ids = tok->encode(t, add_bos);
    Json line = Json(ids);
    if (r.count("decode")) line = {{"ids", ids}, {"text", tok->decode(ids)}};
    std::cout << dump_json(line) << "\n";
  }
  return 0;
}

}  // namespace sadi::app
