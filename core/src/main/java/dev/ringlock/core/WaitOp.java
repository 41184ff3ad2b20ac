package dev.ringlock.core;

import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.uring.Prep;
import java.util.concurrent.TimeoutException;

/** FUTEX_WAIT on one word, with an optional linked timeout. */
final class WaitOp extends RingOp<WaitOutcome> {
  static final long NO_TIMEOUT = -1;

  private final FutexWord word;
  private final int expected;
  private final int bitset;
  private final long timeoutNanos; // NO_TIMEOUT, or a relative timeout
  private final AbandonedWakeHandler onAbandonedWake;

  WaitOp(
      CompletionLoop loop,
      FutexWord word,
      int expected,
      int bitset,
      long timeoutNanos,
      AbandonedWakeHandler onAbandonedWake) {
    super(loop);
    this.word = word;
    this.expected = expected;
    this.bitset = bitset;
    this.timeoutNanos = timeoutNanos;
    this.onAbandonedWake = onAbandonedWake;
  }

  @Override
  int sqeCount() {
    return timeoutNanos == NO_TIMEOUT ? 1 : 2;
  }

  @Override
  int scratchBytes() {
    return timeoutNanos == NO_TIMEOUT ? 0 : Submission.TIMESPEC_BYTES;
  }

  @Override
  void prepare(Submission submission, long userData) {
    long sqe = submission.sqe();
    Prep.futexWait(submission.sqes(), sqe, word.address(), expected, bitset, word.futex2Flags());
    Prep.userData(submission.sqes(), sqe, userData);
    if (timeoutNanos != NO_TIMEOUT) {
      submission.linkTimeout(sqe, timeoutNanos);
    }
  }

  @Override
  void completed(int result, boolean ringClosing) {
    deliver(outcome(result, ringClosing, timeoutNanos, "FUTEX_WAIT"));
  }

  @Override
  void outcomeUnclaimed(Object outcome) {
    if (outcome instanceof WaitOutcome waitOutcome && waitOutcome.isWoken()) {
      loop.handOnConsumedWake(onAbandonedWake, word, bitset);
    }
  }

  /** The outcome of a FUTEX_WAIT or FUTEX_WAITV completion: a WaitOutcome, or a Throwable. */
  static Object outcome(int result, boolean ringClosing, long timeoutNanos, String opcode) {
    if (result >= 0 && result < FutexRing.MAX_WAIT_ANY) {
      return WaitOutcome.woken(result);
    }
    if (result == -Errno.EAGAIN) {
      return WaitOutcome.valueChanged();
    }
    if (result == -Errno.ECANCELED) {
      if (ringClosing) {
        return new RingClosedException("the ring was closed while the futex wait was pending");
      }
      if (timeoutNanos != NO_TIMEOUT) {
        return new TimeoutException("futex wait timed out after " + timeoutNanos + " ns");
      }
    }
    return new RingException(opcode + " completed with " + result, result < 0 ? -result : 0);
  }
}
