package dev.ringlock.bench;

import dev.ringlock.core.FutexWord;

/** How one side of a {@link PingPong} sleeps on a word and wakes the other side. */
interface Signalling {
  /**
   * Returns once woken, or at once if {@code word} no longer holds {@code seen}. May return
   * spuriously: callers re-read the word.
   */
  void awaitChange(FutexWord word, int seen);

  /** Wakes one waiter on {@code word}; need not wait for the wake to reach it. */
  void wakeOne(FutexWord word);
}
