// Unit tests of lib/core: strings, JSON views with located errors, atomic writes.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

#include "sadi/core/error.hpp"
#include "sadi/core/fs.hpp"
#include "sadi/core/interrupt.hpp"
#include "sadi/core/json.hpp"
#include "sadi/core/strings.hpp"
#include "sadi/core/site.hpp"

using namespace sadi;

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Strings, SplitJoinTrim) {
  EXPECT_EQ(split("a,b,,c", ','), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(join({"x", "y"}, ", "), "x, y");
  EXPECT_EQ(trim("  a b \n"), "a b");
  EXPECT_EQ(str("k=", 3, "/", 1.5), "k=3/1.5");
  EXPECT_EQ(list_str(std::vector<int>{1, 2}), "[1, 2]");
}

TEST(Json, ErrorsNameOriginKeyExpectedAndFound) {
  Json j = parse_json(R"({"a": {"n": -2, "s": 5}})", "m.json");
  JsonView v(j, "m.json");
  auto a = v.object("a");
  EXPECT_EQ(error_of([&] { a.positive("n"); }), "m.json: key 'a.n': expected a positive integer, found -2");
  EXPECT_EQ(error_of([&] { a.string("s"); }), "m.json: key 'a.s': expected a string, found 5");
  EXPECT_EQ(error_of([&] { a.integer("zz"); }), "m.json: key 'a.zz': expected an integer, found nothing (key missing)");
  auto msg = error_of([] { parse_json("{\"a\": \n oops}", "f.json"); });
  EXPECT_NE(msg.find("f.json: malformed JSON"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 2"), std::string::npos) << msg;
}

TEST(Fs, AtomicWriteReplacesAndLeavesNoTemp) {
  auto dir = fs::temp_directory_path() / str("sadi-core-", ::getpid());
  fs::create_directories(dir);
  auto target = dir / "out.txt";
  write_file_atomic(target, "one");
  write_file_atomic(target, "two");
  EXPECT_EQ(read_text_file(target), "two");
  size_t n = 0;
  for (auto& e : fs::directory_iterator(dir)) n += e.is_regular_file();
  EXPECT_EQ(n, 1u);
  {
    AtomicOutput out(dir / "never.txt");
    std::ofstream(out.temp_path()) << "partial";
  }  // not committed: removed
  EXPECT_FALSE(fs::exists(dir / "never.txt"));
  n = 0;
  for (auto& e : fs::directory_iterator(dir)) n += e.is_regular_file();
  EXPECT_EQ(n, 1u);
  auto msg = error_of([&] { write_file_atomic(dir / "missing" / "x.txt", "z"); });
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(Interrupt, FirstSignalOnlySetsTheFlag) {
  sadi::install_interrupt_handlers();
  EXPECT_FALSE(sadi::interrupted());
  std::raise(SIGTERM);  // handled: the process goes on
  EXPECT_TRUE(sadi::interrupted());
  EXPECT_EQ(sadi::interrupt_signal(), SIGTERM);
  EXPECT_EQ(sadi::signal_name(SIGTERM), "SIGTERM");
  EXPECT_EQ(sadi::Interrupted(SIGINT, "x").exit_code(), 130);
  sadi::request_interrupt(0);
  EXPECT_FALSE(sadi::interrupted());
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

TEST(Sites, ParseNamesAndRejectUnknown) {
  EXPECT_EQ(parse_sites("head, residual"), (std::vector<Site>{Site::kHead, Site::kResidual}));
  EXPECT_EQ(error_of([] { parse_site("heads"); }),
            "unknown site 'heads': expected one of head, neuron, hidden, residual");
  EXPECT_NE(error_of([] { parse_sites("head,head"); }).find("listed twice"), std::string::npos);
}

#include "sadi/core/sha256.hpp"

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(std::string(1000, 'a')), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");  // sha256sum
}
