// The interrupt watch: a signal while it lives sets the flag and nothing else; the next one finds
// the handler that was there before; its end restores that handler too.
#include "core/interrupt.h"

#include <csignal>

#include <gtest/gtest.h>

#include "core/error.h"

namespace r50 {
namespace {

void (*current_handler(int signal))(int) {
  struct sigaction action {};
  sigaction(signal, nullptr, &action);
  return action.sa_handler;
}

TEST(InterruptWatch, ASignalSetsTheFlagAndTheNextOneFindsTheOldHandler) {
  signal(SIGINT, SIG_DFL);
  {
    InterruptWatch watch;
    EXPECT_EQ(interrupt_signal(), 0);
    EXPECT_NE(current_handler(SIGINT), SIG_DFL);
    std::raise(SIGINT);  // the process lives on
    EXPECT_EQ(interrupt_signal(), SIGINT);
    EXPECT_EQ(current_handler(SIGINT), SIG_DFL);
  }
  EXPECT_EQ(current_handler(SIGINT), SIG_DFL);
}

TEST(InterruptWatch, TermIsCaughtTooAndEachWatchStartsClear) {
  {
    InterruptWatch watch;
    std::raise(SIGTERM);
    EXPECT_EQ(interrupt_signal(), SIGTERM);
  }
  InterruptWatch again;
  EXPECT_EQ(interrupt_signal(), 0);
}

TEST(InterruptWatch, OnlyOneWatchesAtATime) {
  InterruptWatch watch;
  EXPECT_THROW(InterruptWatch second, Error);
}

}  // namespace
}  // namespace r50
