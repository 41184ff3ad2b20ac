package dev.ringlock.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeoutException;

/**
 * A wait on the syscalls backend: one word ({@link FutexRing#wait}) or up to {@value
 * FutexRing#MAX_WAIT_ANY} ({@link FutexRing#waitAny}). Its entries sit in the futex_waitv arrays of
 * one or more {@link WaitvThread}s ({@code homes}); a bitset other than all-ones gets a thread of
 * its own instead ({@link SyscallBackend#waitWithBitset}), because futex_waitv has no bitsets.
 */
final class SyscallWait extends SyscallFuture<WaitOutcome> {
  static final long NO_DEADLINE = Long.MAX_VALUE;

  private final FutexWord word; // a single-word wait's word, or null
  private final int expected;
  private final WaitTarget[] targets; // a waitAny's words, or null
  final int bitset;
  final long deadline; // System.nanoTime() (CLOCK_MONOTONIC) at which it times out, or NO_DEADLINE
  private final long timeoutNanos;
  private final AbandonedWakeHandler onAbandonedWake;
  private Object homes; // a WaitvThread holding its entries, or WaitvThread[]; set before queued
  private volatile int held; // entries still in some WaitvThread; in flight until 0
  // its place in the order of this process's waits, set before it is queued: a wake that began
  // when the sequence stood at s may hand its unused count to this wait only if sequence <= s
  private volatile long sequence;
  // Who arms a single-word wait: placement number << 2 | QUEUED, ARMED or TAKEN. A WaitvThread arms
  // the wait it drains (QUEUED -> ARMED) unless a thread blocked in join() took it first (QUEUED ->
  // TAKEN: JoinedRingWait), and then drops it unarmed; a wait handed back to the ring is queued
  // again under the next placement number, so that a stale queue entry never arms it twice.
  private volatile int arming;
  private static final int QUEUED = 0;
  private static final int ARMED = 1;
  private static final int TAKEN = 2;
  private volatile JoinedRingWait taker; // the thread blocked in join() that runs it, or null
  private static final VarHandle HELD;
  private static final VarHandle ARMING;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      HELD = lookup.findVarHandle(SyscallWait.class, "held", int.class);
      ARMING = lookup.findVarHandle(SyscallWait.class, "arming", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  SyscallWait(
      SyscallBackend backend,
      FutexWord word,
      int expected,
      WaitTarget[] targets,
      int bitset,
      long timeoutNanos,
      AbandonedWakeHandler onAbandonedWake) {
    super(backend);
    this.word = word;
    this.expected = expected;
    this.targets = targets;
    this.bitset = bitset;
    this.timeoutNanos = timeoutNanos;
    this.onAbandonedWake = onAbandonedWake;
    long now = System.nanoTime();
    this.deadline =
        timeoutNanos == WaitOp.NO_TIMEOUT || now + timeoutNanos < now
            ? NO_DEADLINE
            : now + timeoutNanos;
  }

  int entries() {
    return targets == null ? 1 : targets.length;
  }

  FutexWord word(int entry) {
    return targets == null ? word : targets[entry].word();
  }

  int expected(int entry) {
    return targets == null ? expected : targets[entry].expected();
  }

  void homes(Object homes) {
    this.homes = homes;
    // in flight from its first placement on: a wait handed back by its joiner stays counted
    if ((int) HELD.getAndSet(this, entries()) == 0) {
      backend.waitStarted();
    }
  }

  /** Numbers this wait, after its words are held and before it is queued (SyscallBackend). */
  void sequence(long sequence) {
    this.sequence = sequence;
  }

  long sequence() {
    return sequence;
  }

  /** The placement number a WaitvThread arms when it drains this wait as a whole (0: the first). */
  int placement() {
    return arming >>> 2;
  }

  /**
   * Called by the WaitvThread that drains placement {@code placement} of this wait: true if it arms
   * it, false if a joined thread took it first or it was placed again since (then the thread drops
   * it: it was never in the kernel there). A waitAny is never taken over: always true.
   */
  boolean arm(int placement) {
    return entries() > 1
        || ARMING.compareAndSet(this, placement << 2 | QUEUED, placement << 2 | ARMED);
  }

  /**
   * Taken over by {@code joiner}, if its thread has not armed it yet; the caller registered the
   * joiner with the backend first (SyscallBackend.registerJoiner).
   */
  boolean takeOver(JoinedRingWait joiner) {
    int queued = arming;
    if ((queued & 3) != QUEUED || finished()) {
      return false;
    }
    // Set before the CAS, so that abandoned() finds the joiner of a wait it sees TAKEN; if the
    // thread armed it first, the field is cleared again, and an abandon that read it meanwhile
    // only pokes this joiner once for nothing (it looks again and finds the wait not its own).
    taker = joiner;
    if (ARMING.compareAndSet(this, queued, queued & ~3 | TAKEN)) {
      return true;
    }
    taker = null;
    return false;
  }

  /** Whether a thread blocked in join() runs it now (for tests). */
  boolean takenOver() {
    return (arming & 3) == TAKEN;
  }

  /** Handed back to the ring by its joiner: the next placement, queued (before it is queued). */
  int queueAgain() {
    int next = ((arming >>> 2) + 1) << 2 | QUEUED;
    arming = next; // only the joiner writes while TAKEN
    taker = null;
    return next >>> 2;
  }

  /** The WaitvThread holding this wait, or null (none yet, or a waitAny split over several). */
  WaitvThread home() {
    Object placed = homes;
    return placed instanceof WaitvThread home
        ? home
        : placed instanceof WaitvThread[] all && all.length == 1 ? all[0] : null;
  }

  /** A WaitvThread let go of {@code entries} of its entries; the last one ends it in flight. */
  void entriesDropped(int entries) {
    if ((int) HELD.getAndAdd(this, -entries) == entries) {
      backend.waitEnded();
    }
  }

  void deliverWoken(int entry) {
    pokeOtherHomes();
    deliver(WaitOutcome.woken(entry));
  }

  void deliverValueChanged() {
    pokeOtherHomes();
    deliver(WaitOutcome.valueChanged());
  }

  void deliverTimeout() {
    pokeOtherHomes();
    deliver(timeout());
  }

  TimeoutException timeout() {
    return new TimeoutException("futex wait timed out after " + timeoutNanos + " ns");
  }

  /** A split wait is claimed: the threads holding its other entries drop them now. */
  private void pokeOtherHomes() {
    if (homes instanceof WaitvThread[] all) {
      for (WaitvThread home : all) {
        if (home.thread() != Thread.currentThread()) {
          home.poke();
        }
      }
    }
  }

  /** The wake an entry of this finished wait may have consumed goes to the handler. */
  void passOn(int entry) {
    backend.handOnConsumedWake(onAbandonedWake, word(entry), targets == null ? bitset : -1);
  }

  @Override
  void outcomeUnclaimed(Object outcome) {
    if (outcome instanceof WaitOutcome waitOutcome && waitOutcome.isWoken()) {
      int woken = waitOutcome.wokenIndex();
      passOn(woken);
      // Like an abandoned FUTEX_WAITV on io_uring: every word may have swallowed a wake.
      for (int i = 0; i < entries(); i++) {
        if (i != woken) {
          passOn(i);
        }
      }
    }
  }

  @Override
  void abandoned() {
    JoinedRingWait joiner = taker;
    if (joiner != null) {
      joiner.poke(); // it looks again, sees the wait finished and returns
    }
    Object placed = homes;
    if (placed instanceof WaitvThread home) {
      home.poke();
    } else if (placed instanceof WaitvThread[] all) {
      for (WaitvThread home : all) {
        home.poke();
      }
    } // a bitset wait's own thread notices within its slice
  }

  // ---- a thread blocked in join() or get() runs the wait itself (JoinedRingWait) ----

  @Override
  void awaitHere(boolean interruptible) throws InterruptedException {
    JoinedRingWait.awaitHere(this, interruptible);
  }

  @Override
  public String toString() {
    return "SyscallWait[" + (targets == null ? word : targets.length + " words") + "]";
  }
}
