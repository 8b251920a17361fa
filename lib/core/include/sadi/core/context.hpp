#pragma once
// What the program was doing when an exception that is not a sadi::Error (a library's bare
// std::out_of_range "map::at", a c10::Error, a JSON-library or filebuf exception) went by: each
// operation that touches a user's file or a model opens an OperationContext naming the operation
// and the file; main reports a foreign exception with the innermost one it passed through
// (docs/errors.md, "Internal errors"). Costs one string per operation, nothing per element.
#include <string>

namespace sadi {

class OperationContext {
 public:
  explicit OperationContext(std::string what);  // e.g. "loading the model out/m/model.ts"
  ~OperationContext();
  OperationContext(const OperationContext&) = delete;
  OperationContext& operator=(const OperationContext&) = delete;

 private:
  std::string what_;
  int uncaught_;
};

// The innermost operation that a propagating exception left since the last call (then cleared);
// empty when none did.
std::string take_failed_operation();

// A fault point for the tests: throws std::out_of_range("map::at") when the environment
// variable SADI_FAULT equals `name` (tests/cli/catalogue.sh injects foreign exceptions so).
void fault_point(const char* name);
// A pause point for the tests: the first time the process passes here with the environment
// variable SADI_PAUSE equal to `name`, it stops itself (SIGSTOP), so that a test can signal it at
// a known place (tests/python/test_slurm_cluster.py cancels an eval after its first batch so);
// continued, it waits up to a minute for an interrupt (interrupt.hpp) before going on.
void pause_point(const char* name);

}  // namespace sadi
