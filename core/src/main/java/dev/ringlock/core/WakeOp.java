package dev.ringlock.core;

import dev.ringlock.core.uring.Prep;

/** FUTEX_WAKE: completes with the number of waiters woken. */
final class WakeOp extends RingOp<Integer> {
  private final FutexWord word;
  private final int count;
  private final int bitset;

  WakeOp(CompletionLoop loop, FutexWord word, int count, int bitset) {
    super(loop);
    this.word = word;
    this.count = count;
    this.bitset = bitset;
  }

  @Override
  void prepare(Submission submission, long userData) {
    long sqe = submission.sqe();
    Prep.futexWake(submission.sqes(), sqe, word.address(), count, bitset, word.futex2Flags());
    Prep.userData(submission.sqes(), sqe, userData);
  }

  @Override
  void completed(int result, boolean ringClosing) {
    deliver(
        result >= 0
            ? Integer.valueOf(result)
            : new RingException("FUTEX_WAKE of " + word + " failed", -result));
  }
}
