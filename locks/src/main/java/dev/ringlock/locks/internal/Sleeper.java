package dev.ringlock.locks.internal;

import dev.ringlock.core.AbandonedWakeHandler;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.WaitOutcome;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;

/**
 * The one kernel wait a process keeps on a lock's or semaphore's word for its whole request queue,
 * and the region's count of processes that have one armed. Guarded by the owner's monitor.
 *
 * <p>The wait's linked timeout is the queue's earliest deadline, so one wait also serves as the
 * timer of every timed request. A wait that is cancelled after consuming a wake passes the wake on
 * ({@link AbandonedWakeHandler#PASS_ON}).
 */
final class Sleeper {
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

  private final FutexRing ring;
  private final FutexWord word;
  private final MemorySegment memory;
  private final long countAt; // the region's count of processes with a kernel wait armed

  private CompletableFuture<WaitOutcome> wait; // armed, or null
  private long deadline = Deadlines.NONE; // the armed wait's timeout, as a deadline

  Sleeper(FutexRing ring, FutexWord word, MemorySegment memory, long countAt) {
    this.ring = ring;
    this.word = word;
    this.memory = memory;
    this.countAt = countAt;
  }

  boolean isArmed() {
    return wait != null;
  }

  /** The armed wait's deadline; NO_DEADLINE if it has none, or none is armed. */
  long deadline() {
    return deadline;
  }

  /**
   * Arms a wait on the word for as long as it holds {@code expected}, timing out at {@code
   * deadline} (NO_DEADLINE: never). The caller hooks its completion up outside the monitor.
   */
  CompletableFuture<WaitOutcome> arm(int expected, long deadline) {
    INT.getAndAdd(memory, countAt, 1);
    wait =
        ring.wait(
            word,
            expected,
            FutexRing.ANY_BITSET,
            Deadlines.timeoutUntil(deadline),
            AbandonedWakeHandler.PASS_ON);
    this.deadline = deadline;
    return wait;
  }

  /** Forgets the armed wait, for the caller to cancel outside the monitor; null if none. */
  CompletableFuture<WaitOutcome> detach() {
    CompletableFuture<WaitOutcome> detached = wait;
    if (detached != null) {
      forget();
    }
    return detached;
  }

  /**
   * A wait completed: true if it is the armed one, which is then forgotten; false if it was
   * detached before (cancelled by the owner, which has moved on).
   */
  boolean completed(CompletableFuture<WaitOutcome> done) {
    if (wait != done) {
      return false;
    }
    forget();
    return true;
  }

  private void forget() {
    wait = null;
    deadline = Deadlines.NONE;
    INT.getAndAdd(memory, countAt, -1);
  }

  /**
   * Counts a kernel wait this process arms on the word by other means in ({@code +1}) or out
   * ({@code -1}): lockAny's FUTEX_WAITV, which is no Sleeper but must bound in-process handoffs as
   * one does.
   */
  void countOtherWait(int delta) {
    INT.getAndAdd(memory, countAt, delta);
  }

  /** Processes with a kernel wait armed on the word, as the region counts them (a snapshot). */
  int processesSleeping() {
    return (int) INT.getVolatile(memory, countAt);
  }

  /** Whether a process other than this one has a kernel wait armed (a snapshot). */
  boolean othersSleeping() {
    return processesSleeping() - (wait != null ? 1 : 0) > 0;
  }
}
