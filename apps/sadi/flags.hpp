#pragma once
// Each command's flags: declared in flags_COMMAND.cpp and mapped there to the command's library
// job; cmd_COMMAND.cpp runs the job and writes what it returns.
#include <cxxopts.hpp>

#include "sadi/eval/job.hpp"
#include "sadi/generate/job.hpp"
#include "sadi/identify/job.hpp"

namespace sadi::app {

void add_identify_options(cxxopts::Options& opts);
IdentifyJob identify_job_from_flags(const cxxopts::ParseResult& r);

void add_eval_options(cxxopts::Options& opts);
// The scoring options and the items (read before the model is loaded: bad input fails fast).
EvalJob eval_job_from_flags(const cxxopts::ParseResult& r);

void add_generate_options(cxxopts::Options& opts);
GenerateJob generate_job_from_flags(const cxxopts::ParseResult& r);
SteeringRequest steering_from_flags(const cxxopts::ParseResult& r);

}  // namespace sadi::app
