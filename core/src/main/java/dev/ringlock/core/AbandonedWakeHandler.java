package dev.ringlock.core;

/**
 * What to do with a wake that an abandoned wait consumed.
 *
 * <p>A wait is abandoned when its future is completed by anyone but the ring: {@code cancel},
 * {@code complete}, {@code completeExceptionally}, {@code orTimeout}. The ring then sends an
 * ASYNC_CANCEL to the kernel, but a wake may reach the wait first: the kernel reports the wait as
 * woken and the cancel as not found. That wake was meant for a live waiter, and nobody wants it any
 * more; unless it is passed on, a live waiter may sleep forever. The ring calls this handler in
 * that case, once, with the word that was woken.
 *
 * <p>It runs on the ring's completion thread (or the completion executor, if one is set) and must
 * not block.
 */
@FunctionalInterface
public interface AbandonedWakeHandler {
  /** Passes the wake on to the next waiter on the same word with the same bitset. */
  AbandonedWakeHandler PASS_ON = (ring, word, bitset) -> ring.wake(word, 1, bitset);

  /**
   * Called when an abandoned wait had consumed a wake on {@code word}.
   *
   * @param bitset the bitset the wait was armed with (all ones for waitAny)
   * @param ring the ring the abandoned wait was made on, to make the wake through
   * @param word the word whose wake the abandoned wait consumed
   */
  void wakeConsumed(FutexRing ring, FutexWord word, int bitset);
}
