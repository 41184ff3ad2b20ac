package dev.ringlock.core;

import java.util.Objects;

/**
 * One entry of {@link FutexRing#waitAny}: sleep while {@code word} holds {@code expected}.
 *
 * @param word the word to wait on
 * @param expected the value it must hold for the wait to start
 */
public record WaitTarget(FutexWord word, int expected) {
  /** Checks that {@code word} is not null. */
  public WaitTarget {
    Objects.requireNonNull(word, "word");
  }
}
