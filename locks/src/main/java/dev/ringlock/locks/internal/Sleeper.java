package dev.ringlock.locks.internal;

import dev.ringlock.core.AbandonedWakeHandler;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.ProcessWatch;
import dev.ringlock.core.WaitOutcome;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The one kernel wait a process keeps on a lock's or semaphore's word for its whole request queue,
 * and the region's count of processes that have one armed. Guarded by the owner's monitor.
 *
 * <p>The wait's linked timeout is the queue's earliest deadline, so one wait also serves as the
 * timer of every timed request. A wait that is cancelled after consuming a wake passes the wake on
 * ({@link AbandonedWakeHandler#PASS_ON}).
 *
 * <p>No wait sleeps longer than {@link #RECHECK_MILLIS}: then it completes as if timed out and its
 * owner looks at the word again. That bounds what a lost wake costs. Wakes are lost to processes
 * that die: one killed between freeing a word and waking a sleeper, or one whose kernel wait
 * outlives it briefly and consumes a wake meant for a live sleeper (docs/backends.md, Close; the
 * ring's close cancels its own waits first). The first is also caught at once by the exit watches a
 * wait carries (the processes it waits on); the second only by the re-check.
 */
final class Sleeper {
  /** The longest a kernel wait sleeps before its owner looks at the word again, woken or not. */
  static final int RECHECK_MILLIS = 250;

  private static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(RECHECK_MILLIS);
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

  private final FutexRing ring;
  private final FutexWord word;
  private final MemorySegment memory;
  private final long countAt; // the region's count of processes with a kernel wait armed
  private final int bitset; // the wait's: only wakes sharing a bit with it end it

  private CompletableFuture<WaitOutcome> wait; // armed, or null
  private long deadline = Deadlines.NONE; // the armed wait's timeout, as a deadline
  private List<ProcessWatch.Subscription> exitWatches = List.of(); // cancelled with the wait

  Sleeper(FutexRing ring, FutexWord word, MemorySegment memory, long countAt) {
    this(ring, word, memory, countAt, FutexRing.ANY_BITSET);
  }

  /**
   * A sleeper whose wait carries {@code bitset}: a wait queue's, so that a wake aimed at other
   * processes passes it by (where the backend supports bitsets on a shared thread; see
   * WaitQueueCore).
   */
  Sleeper(FutexRing ring, FutexWord word, MemorySegment memory, long countAt, int bitset) {
    this.ring = ring;
    this.word = word;
    this.memory = memory;
    this.countAt = countAt;
    this.bitset = bitset;
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
    return arm(expected, deadline, List.of());
  }

  /**
   * As {@link #arm(int, long)}, carrying {@code exitWatches}: subscriptions to the exit of the
   * processes this wait depends on, cancelled when the wait is forgotten.
   */
  CompletableFuture<WaitOutcome> arm(
      int expected, long deadline, List<ProcessWatch.Subscription> exitWatches) {
    INT.getAndAdd(memory, countAt, 1);
    Duration untilDeadline = Deadlines.timeoutUntil(deadline);
    Duration recheck = Duration.ofNanos(RECHECK_NANOS);
    wait =
        ring.wait(
            word,
            expected,
            bitset,
            untilDeadline != null && untilDeadline.compareTo(recheck) < 0 ? untilDeadline : recheck,
            AbandonedWakeHandler.PASS_ON);
    this.deadline = deadline;
    this.exitWatches = exitWatches;
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
    // Under the owner's monitor, then ProcessWatch's: the order MutexCore.addExitWatch explains.
    // A listener already running may still call back; the owner treats that as spurious.
    for (ProcessWatch.Subscription exitWatch : exitWatches) {
      exitWatch.cancel();
    }
    exitWatches = List.of();
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
