package dev.ringlock.core;

import dev.ringlock.core.ffi.FutexFlags;
import dev.ringlock.core.uring.Prep;
import dev.ringlock.core.uring.UringLayouts;
import java.lang.foreign.MemorySegment;

/** FUTEX_WAITV on up to 128 words, with an optional linked timeout. */
final class WaitAnyOp extends RingOp<WaitOutcome> {
  private final WaitTarget[] targets;
  private final long timeoutNanos;
  private final AbandonedWakeHandler onAbandonedWake;

  WaitAnyOp(
      CompletionLoop loop,
      WaitTarget[] targets,
      long timeoutNanos,
      AbandonedWakeHandler onAbandonedWake) {
    super(loop);
    this.targets = targets;
    this.timeoutNanos = timeoutNanos;
    this.onAbandonedWake = onAbandonedWake;
  }

  @Override
  int sqeCount() {
    return timeoutNanos == WaitOp.NO_TIMEOUT ? 1 : 2;
  }

  @Override
  int scratchBytes() {
    int waitv = (int) UringLayouts.FUTEX_WAITV.byteSize() * targets.length;
    return waitv + (timeoutNanos == WaitOp.NO_TIMEOUT ? 0 : Submission.TIMESPEC_BYTES);
  }

  @Override
  void prepare(Submission submission, long userData) {
    long entryBytes = UringLayouts.FUTEX_WAITV.byteSize();
    // A byte offset, 8-aligned: the scratch before it may hold other ops' timespecs, so it is no
    // multiple of the entry size (an index computed from it pointed the entries elsewhere).
    long waitvOffset = submission.scratch(entryBytes * targets.length);
    MemorySegment scratch = submission.scratchMemory();
    for (int i = 0; i < targets.length; i++) {
      FutexWord word = targets[i].word();
      Prep.waitvEntry(
          scratch,
          waitvOffset + i * entryBytes,
          word.address(),
          targets[i].expected(),
          word.futex2Flags());
    }
    long sqe = submission.sqe();
    Prep.futexWaitv(submission.sqes(), sqe, submission.scratchAddress(waitvOffset), targets.length);
    Prep.userData(submission.sqes(), sqe, userData);
    if (timeoutNanos != WaitOp.NO_TIMEOUT) {
      submission.linkTimeout(sqe, timeoutNanos);
    }
  }

  @Override
  void completed(int result, boolean ringClosing) {
    if (result >= targets.length) { // never from a correct kernel; checked, not trusted
      deliver(new RingException("FUTEX_WAITV woke index " + result + " of " + targets.length, 0));
      return;
    }
    deliver(WaitOp.outcome(result, ringClosing, timeoutNanos, "FUTEX_WAITV"));
  }

  /**
   * Unlike a single FUTEX_WAIT, an abandoned FUTEX_WAITV may have swallowed a wake on any of its
   * words, whatever it reports. The kernel's waitv wake callback (io_uring/futex.c,
   * io_futex_wakev_fn) returns without waking anyone when the request is already claimed, by an
   * earlier wake on another word or by ASYNC_CANCEL, yet futex_wake counts that entry as woken; and
   * a claimed request stays queued on its other words until its task work unqueues them. So every
   * word gets the handler, the reported one first: a spurious wake is harmless to a futex protocol,
   * a swallowed one strands a waiter (docs/kernel-notes.md, "futex_waitv").
   */
  @Override
  void outcomeUnclaimed(Object outcome) {
    int woken =
        outcome instanceof WaitOutcome waitOutcome && waitOutcome.isWoken()
            ? waitOutcome.wokenIndex()
            : -1;
    if (woken >= 0) {
      loop.handOnConsumedWake(onAbandonedWake, targets[woken].word(), FutexFlags.BITSET_MATCH_ANY);
    }
    if (outcome instanceof WaitOutcome waitOutcome && waitOutcome.isValueChanged()) {
      return; // -EAGAIN: it never queued on any word
    }
    for (int i = 0; i < targets.length; i++) {
      if (i != woken) {
        loop.handOnConsumedWake(onAbandonedWake, targets[i].word(), FutexFlags.BITSET_MATCH_ANY);
      }
    }
  }
}
