package dev.ringlock.jcstress;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.WaitOutcome;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The one ring every test instance in a forked jcstress VM shares, and the word helpers the tests
 * use.
 *
 * <p>jcstress creates thousands of @State instances per second, so a ring (a kernel object plus a
 * completion thread) per instance would measure ring setup, not futex races. The ring is never
 * closed: its thread is a daemon and the forked VM exits when the run is over. It is not {@link
 * FutexRing#defaultRing()} on purpose: that one closes from a shutdown hook, and a VM that jcstress
 * force-exits after a STALE result must not hang in a hook waiting on a stuck ring.
 */
final class SharedRing {
  /**
   * What a fork prints to its stderr, followed by its ring's {@link FutexRing#backend()}: jcstress
   * keeps that stream with the fork's result, and {@link GatedMain} checks every fork ran on the
   * backend -Dringlock.backend asked for.
   */
  static final String BACKEND_REPORT = "ringlock jcstress fork ring backend: ";

  static final FutexRing RING = openAndReportBackend();

  // coordinates (segment, offset); volatile access modes only, as the futex protocol needs
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

  private SharedRing() {}

  private static FutexRing openAndReportBackend() {
    FutexRing ring = FutexRing.open(FutexRing.options().threadName("jcstress-shared-ring"));
    System.err.println(BACKEND_REPORT + ring.backend());
    return ring;
  }

  /**
   * A fresh 0 word per test instance. An automatic arena frees it once unreachable; a wait that is
   * still in the kernel keeps it reachable, because the ring holds the op and the op its word.
   */
  static MemorySegment newWord() {
    return Arena.ofAuto().allocate(ValueLayout.JAVA_INT);
  }

  static int lvWord(MemorySegment word) {
    return (int) INT.getVolatile(word, 0L);
  }

  static void svWord(MemorySegment word, int value) {
    INT.setVolatile(word, 0L, value);
  }

  /**
   * 1 if {@code wait} ends woken within 5 s, else 0 (cancelled if it is still pending then: a wake
   * that passed it by leaves it asleep, and the test's answer is that it was not woken).
   */
  static int wokenWithin5s(CompletableFuture<WaitOutcome> wait) {
    try {
      return wait.get(5, TimeUnit.SECONDS).isWoken() ? 1 : 0;
    } catch (TimeoutException passedBy) {
      wait.cancel(false);
      return 0;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
