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
  private static final VarHandle HELD;

  static {
    try {
      HELD = MethodHandles.lookup().findVarHandle(SyscallWait.class, "held", int.class);
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
    this.held = entries();
    backend.waitStarted();
  }

  /** Numbers this wait, after its words are held and before it is queued (SyscallBackend). */
  void sequence(long sequence) {
    this.sequence = sequence;
  }

  long sequence() {
    return sequence;
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
    deliver(new TimeoutException("futex wait timed out after " + timeoutNanos + " ns"));
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
    Object placed = homes;
    if (placed instanceof WaitvThread home) {
      home.poke();
    } else if (placed instanceof WaitvThread[] all) {
      for (WaitvThread home : all) {
        home.poke();
      }
    } // a bitset wait's own thread notices within its slice
  }

  @Override
  public String toString() {
    return "SyscallWait[" + (targets == null ? word : targets.length + " words") + "]";
  }
}
