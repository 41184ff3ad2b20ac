package dev.ringlock.core;

/**
 * How a futex wait ended normally: woken (and for {@link FutexRing#waitAny}, which word), or not
 * started because a word no longer held its expected value (EAGAIN). Both are ordinary results: a
 * value change means "re-check the word". Timeouts, cancellation and a closed ring complete the
 * future exceptionally instead.
 *
 * <p>Instances are shared constants, so a completion allocates nothing.
 */
public final class WaitOutcome {
  private static final WaitOutcome VALUE_CHANGED = new WaitOutcome(-1);
  private static final WaitOutcome[] WOKEN = new WaitOutcome[FutexRing.MAX_WAIT_ANY];

  static {
    for (int i = 0; i < WOKEN.length; i++) {
      WOKEN[i] = new WaitOutcome(i);
    }
  }

  private final int wokenIndex; // -1 = value changed

  private WaitOutcome(int wokenIndex) {
    this.wokenIndex = wokenIndex;
  }

  /**
   * Woken through the word at {@code index} (0 for a single-word wait).
   *
   * @param index the index of the word woken, 0 to 127
   * @return the outcome
   */
  public static WaitOutcome woken(int index) {
    if (index < 0 || index >= WOKEN.length) {
      throw new IllegalArgumentException(
          "woken index " + index + " is outside 0.." + (WOKEN.length - 1));
    }
    return WOKEN[index];
  }

  /**
   * The wait did not start: a word did not hold its expected value.
   *
   * @return the outcome
   */
  public static WaitOutcome valueChanged() {
    return VALUE_CHANGED;
  }

  /**
   * Whether a wake ended the wait ({@link #wokenIndex()} says through which word).
   *
   * @return true if a wake ended the wait
   */
  public boolean isWoken() {
    return wokenIndex >= 0;
  }

  /**
   * Whether the wait did not start because a word no longer held its expected value.
   *
   * @return true if a word did not hold its expected value
   */
  public boolean isValueChanged() {
    return wokenIndex < 0;
  }

  /**
   * The index of the word whose wake ended the wait.
   *
   * @return the woken word's index in the wait's list (0 for a single-word wait)
   * @throws IllegalStateException if the wait ended because a value changed
   */
  public int wokenIndex() {
    if (wokenIndex < 0) {
      throw new IllegalStateException("the wait was not woken: a word's value had changed");
    }
    return wokenIndex;
  }

  @Override
  public String toString() {
    return wokenIndex < 0 ? "VALUE_CHANGED" : "WOKEN[" + wokenIndex + "]";
  }
}
