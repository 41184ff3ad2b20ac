package dev.ringlock.locks.internal;

import dev.ringlock.core.AbandonedWakeHandler;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.WaitOutcome;
import dev.ringlock.core.thread.ThreadWaiter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The one kernel wait a process keeps on a lock's or semaphore's word for its whole request queue,
 * and the region's count of processes that have one armed. Guarded by the owner's monitor.
 *
 * <p>The wait's linked timeout is the queue's earliest deadline, so one wait also serves as the
 * timer of every timed request. A wait that is cancelled after consuming a wake passes the wake on
 * ({@link AbandonedWakeHandler#PASS_ON}).
 *
 * <p>No wait sleeps longer than {@link #RECHECK_MILLIS}: then it completes as if timed out and its
 * owner looks at the word again. This is the one re-check of the locks layer: every kernel wait
 * takes its timeout from {@link #timeoutFor} (lockAny's FUTEX_WAITV too). That bounds what a lost
 * wake costs. Wakes are lost to processes that die: one killed between freeing a word and waking a
 * sleeper, or one whose kernel wait outlives it briefly and consumes a wake meant for a live
 * sleeper (docs/backends.md, Close; the ring's close cancels its own waits first). The first is
 * also caught at once by the exit watches in the owner's PeerWatches (the processes it waits on; a
 * mutex's are dropped whenever its wait is forgotten); the second only by the re-check.
 */
final class Sleeper {
  /** The longest a kernel wait sleeps before its owner looks at the word again, woken or not. */
  static final int RECHECK_MILLIS = 250;

  private static final Duration RECHECK = Duration.ofMillis(RECHECK_MILLIS);
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

  private final FutexRing ring;
  private final FutexWord word;
  private final MemorySegment memory;
  private final long countAt; // the region's count of processes with a kernel wait armed
  private final int bitset; // the wait's: only wakes sharing a bit with it end it
  private final PeerWatches peers; // the processes the armed wait depends on, or null

  private CompletableFuture<WaitOutcome> wait; // armed (a ring wait or a JoinedWait), or null
  private long deadline = Deadlines.NONE; // the armed wait's timeout, as a deadline
  private boolean untilRecheck; // the armed wait's timeout is the re-check, not a deadline
  private FutexWord armedWord; // the armed wait's word (the primitive's, or arm(other...)'s)
  private int armedExpected; // ... and the value it sleeps on
  private long armedUntil; // ... and System.nanoTime() when its timeout comes

  // The thread blocked in join() on the head request that runs this sleeper's waits itself
  // (QueuedPrimitive.joinHere), and that request; null: the ring runs them.
  private ThreadWaiter joiner;
  private QueuedRequest<?, ?> joinerRequest;

  // Written under the owner's monitor, read anywhere (tests, and later the region's counters).
  private volatile long recheckTimeouts; // waits ended by the re-check's timeout
  private volatile long rescues; // ... whose re-check then granted: a wake should have come

  Sleeper(FutexRing ring, FutexWord word, MemorySegment memory, long countAt) {
    this(ring, word, memory, countAt, FutexRing.ANY_BITSET, null);
  }

  /**
   * A sleeper whose armed wait depends on the processes watched in {@code peers}: they are
   * unwatched whenever the wait is forgotten (a mutex's, whose owner is watched for each wait).
   */
  Sleeper(FutexRing ring, FutexWord word, MemorySegment memory, long countAt, PeerWatches peers) {
    this(ring, word, memory, countAt, FutexRing.ANY_BITSET, peers);
  }

  /**
   * A sleeper whose wait carries {@code bitset}: a wait queue's, so that a wake aimed at other
   * processes passes it by (where the backend supports bitsets on a shared thread; see
   * WaitQueueCore).
   */
  Sleeper(FutexRing ring, FutexWord word, MemorySegment memory, long countAt, int bitset) {
    this(ring, word, memory, countAt, bitset, null);
  }

  private Sleeper(
      FutexRing ring,
      FutexWord word,
      MemorySegment memory,
      long countAt,
      int bitset,
      PeerWatches peers) {
    this.ring = ring;
    this.word = word;
    this.memory = memory;
    this.countAt = countAt;
    this.bitset = bitset;
    this.peers = peers;
  }

  /**
   * Why a kernel wait completed, from its future's failure: null if it completed normally (woken,
   * or the word differed), a TimeoutException for its deadline or the re-check, else what failed.
   */
  static Throwable causeOf(Throwable failure) {
    return failure instanceof CompletionException ? failure.getCause() : failure;
  }

  boolean isArmed() {
    return wait != null;
  }

  /**
   * The ring this sleeper's waits go through: its completion thread completes the queue's grants.
   */
  FutexRing ring() {
    return ring;
  }

  /** The armed wait's deadline; Deadlines.NONE if it has none, or none is armed. */
  long deadline() {
    return deadline;
  }

  /**
   * Arms a wait on the word for as long as it holds {@code expected}, timing out at {@code
   * deadline} (Deadlines.NONE: never) or at the re-check, whichever comes first. The caller hooks
   * its completion up outside the monitor.
   */
  CompletableFuture<WaitOutcome> arm(int expected, long deadline) {
    return arm(word, expected, deadline);
  }

  /**
   * As {@link #arm(int, long)}, on {@code other} instead of the primitive's word: a read-write
   * writer that stands back for another process's mark sleeps on that process's reader record
   * (ReadWriteDecisions.standBack). Counted as a wait on the word all the same.
   */
  CompletableFuture<WaitOutcome> arm(FutexWord other, int expected, long deadline) {
    INT.getAndAdd(memory, countAt, 1);
    Duration timeout = timeoutFor(deadline);
    armedWord = other;
    armedExpected = expected;
    armedUntil = System.nanoTime() + timeout.toNanos();
    this.deadline = deadline;
    untilRecheck = timeout == RECHECK;
    if (joiner != null && joinerRequest.queued) {
      // the head's joined thread runs it: no ring request, and the kernel wakes that thread
      wait = new JoinedWait(ring, other, expected, bitset, armedUntil, joiner);
    } else {
      wait = ring.wait(other, expected, bitset, timeout, AbandonedWakeHandler.PASS_ON);
    }
    return wait;
  }

  // ---- the joined thread's take-over (QueuedPrimitive.joinHere) ----

  /**
   * Under the owner's monitor: {@code here}, blocked in join() on {@code request} at the head of
   * the queue, runs this sleeper's waits from now on. If a ring wait is armed and still pending it
   * is replaced by a {@link JoinedWait} on the same word, value and timeout (the count of sleeping
   * processes does not move: the process keeps one wait), and returned for the caller to cancel
   * outside the monitor; else null.
   */
  CompletableFuture<WaitOutcome> takeOver(ThreadWaiter here, QueuedRequest<?, ?> request) {
    joiner = here;
    joinerRequest = request;
    CompletableFuture<WaitOutcome> replaced = wait;
    if (replaced == null || replaced instanceof JoinedWait || replaced.isDone()) {
      return null; // none armed, or it completed: its completion decides, and may arm for us
    }
    // The re-check's window starts again here, as on a hand-back: the ring's wait may have been
    // armed long ago, and a JoinedWait ending at once by that stale timeout would be counted as a
    // re-check that rescued a wake when the word had only just been freed.
    Duration timeout = timeoutFor(deadline);
    armedUntil = System.nanoTime() + timeout.toNanos();
    untilRecheck = timeout == RECHECK;
    wait = new JoinedWait(ring, armedWord, armedExpected, bitset, armedUntil, here);
    return replaced;
  }

  /** Under the owner's monitor: whether a joined thread runs this sleeper's waits. */
  boolean hasJoiner() {
    return joiner != null;
  }

  /** Under the owner's monitor: the armed wait if the joined thread runs it, else null. */
  JoinedWait joinedWait() {
    return wait instanceof JoinedWait joined && !joined.isDone() ? joined : null;
  }

  /**
   * Under the owner's monitor, as the joined thread leaves: waits are the ring's again. If its
   * {@link JoinedWait} is still armed, the same wait (word, value, deadline) is armed on the ring
   * in its place and returned for the caller to hook up and to retire the JoinedWait; else null. A
   * wake that came while neither slept changed the word first, so the ring's wait sees the change.
   */
  CompletableFuture<WaitOutcome> handBack() {
    joiner = null;
    joinerRequest = null;
    if (!(wait instanceof JoinedWait joined) || joined.isDone()) {
      return null;
    }
    Duration timeout = timeoutFor(deadline);
    armedUntil = System.nanoTime() + timeout.toNanos();
    untilRecheck = timeout == RECHECK;
    wait = ring.wait(armedWord, armedExpected, bitset, timeout, AbandonedWakeHandler.PASS_ON);
    return wait;
  }

  /**
   * The timeout of a kernel wait for a request due at {@code deadline} (Deadlines.NONE: never):
   * until the deadline, but never longer than the re-check. The one place every kernel wait of the
   * locks layer (a Sleeper's, lockAny's FUTEX_WAITV) gets its timeout.
   */
  static Duration timeoutFor(long deadline) {
    Duration untilDeadline = Deadlines.timeoutUntil(deadline);
    return untilDeadline != null && untilDeadline.compareTo(RECHECK) < 0 ? untilDeadline : RECHECK;
  }

  /**
   * Whether the armed wait times out at the re-check rather than at a request's deadline: if it
   * ends by its timeout, its owner's next look is the re-check. Read before {@link #completed}.
   */
  boolean armedUntilRecheck() {
    return wait != null && untilRecheck;
  }

  /**
   * Under the owner's monitor: a wait ended by the re-check's timeout; {@code rescued} if the
   * decision that followed granted a request. Nobody sleeps with the lock free: every kernel wait
   * is armed on a word whose waiters bit is set, and whoever frees what a sleeper waits for changes
   * the word and then wakes. So a grant at the re-check means a wake that should have come did not
   * (or came only after the timeout): a missed wake the re-check rescued, or a process killed
   * between its release and its wake.
   */
  void recheckEnded(boolean rescued) {
    recheckTimeouts++;
    if (rescued) {
      rescues++;
    }
  }

  /** Waits of this sleeper that ended by the re-check's timeout (a snapshot). */
  long recheckTimeouts() {
    return recheckTimeouts;
  }

  /** Waits of this sleeper rescued by the re-check: see {@link #recheckEnded} (a snapshot). */
  long rescues() {
    return rescues;
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
    armedWord = null;
    deadline = Deadlines.NONE;
    untilRecheck = false;
    // Under the owner's monitor, then PeerWatches's (see there). An exit listener already running
    // may still call back; the owner treats that as spurious.
    if (peers != null) {
      peers.unwatchAll();
    }
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

  /**
   * Processes other than this one with a kernel wait armed on the word, as the region counts them
   * (a snapshot, never negative). A process killed while its wait was armed stays counted: see
   * QueuedPrimitive.queueLength for how callers discount it.
   */
  int otherProcessesSleeping() {
    return Math.max(0, processesSleeping() - (wait != null ? 1 : 0));
  }

  /** Whether a process other than this one has a kernel wait armed (a snapshot). */
  boolean othersSleeping() {
    return processesSleeping() - (wait != null ? 1 : 0) > 0;
  }
}
