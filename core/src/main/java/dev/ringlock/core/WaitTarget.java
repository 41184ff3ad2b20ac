package dev.ringlock.core;

import java.util.Objects;

/** One entry of {@link FutexRing#waitAny}: sleep while {@code word} holds {@code expected}. */
public record WaitTarget(FutexWord word, int expected) {
  public WaitTarget {
    Objects.requireNonNull(word, "word");
  }
}
