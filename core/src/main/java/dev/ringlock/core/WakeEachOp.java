package dev.ringlock.core;

import dev.ringlock.core.uring.Prep;

/**
 * One FUTEX_WAKE of one waiter on each of many words, as one request: every SQE is written in the
 * same drain, so they reach the kernel in one io_uring_enter (more only when they overflow the SQ).
 * All but the last carry IOSQE_CQE_SKIP_SUCCESS, so a batch of N posts one completion, not N; the
 * last one's completion completes the future. Wakes are never lost: a batch that does not reach the
 * kernel (the ring closed, or the future was abandoned first) is made with direct system calls.
 */
final class WakeEachOp extends RingOp<Void> {
  private final FutexWord[] words;

  WakeEachOp(CompletionLoop loop, FutexWord[] words) {
    super(loop);
    this.words = words;
  }

  @Override
  void prepare(Submission submission, long userData) {
    int last = words.length - 1;
    for (int i = 0; i <= last; i++) {
      if (i > 0) {
        submission.reserve(1, 0); // submits what is written when the SQ is full
      }
      long sqe = submission.fireAndForgetWake(words[i], 1, FutexRing.ANY_BITSET);
      if (i == last) { // the one completion of the batch: it completes the future
        Prep.postCompletion(submission.sqes(), sqe);
        Prep.userData(submission.sqes(), sqe, userData);
      }
    }
  }

  @Override
  void completed(int result, boolean ringClosing) {
    deliver(result >= 0 ? null : failure(words[words.length - 1], -result));
  }

  static RingException failure(FutexWord word, int errno) {
    return new RingException("FUTEX_WAKE of " + word + " failed", errno);
  }

  @Override
  void dropped() {
    for (FutexWord word : words) {
      SyscallBackend.wakeDirectly(word, 1, FutexRing.ANY_BITSET);
    }
  }
}
