#include "core/interrupt.h"

#include <atomic>
#include <csignal>

#include "core/error.h"

namespace r50 {
namespace {

std::atomic<int> requested{0};
static_assert(std::atomic<int>::is_always_lock_free, "the flag is set from a signal handler");

struct sigaction previous_int, previous_term;
std::atomic<bool> watching{false};

void on_signal(int signal) {
  requested.store(signal);
  // The next one ends the process: restore what was there before (the default, usually).
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);
}

}  // namespace

InterruptWatch::InterruptWatch() {
  R50_CHECK(!watching.exchange(true), "InterruptWatch: one is already watching");
  requested.store(0);
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previous_int);
  sigaction(SIGTERM, &action, &previous_term);
}

InterruptWatch::~InterruptWatch() {
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);
  watching.store(false);
}

int interrupt_signal() { return requested.load(); }

void request_interrupt(int signal) { requested.store(signal); }

}  // namespace r50
