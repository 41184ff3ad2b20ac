package dev.ringlock.core;

import dev.ringlock.core.uring.Prep;
import dev.ringlock.core.uring.SubmissionQueue;
import dev.ringlock.core.uring.UringLayouts;
import dev.ringlock.core.uring.UserData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/*
 * Overview
 *
 * What a request may write into while the CompletionLoop takes it: SQEs of the ring's
 * submission queue, and scratch memory for the structs those SQEs point at (a timespec, a
 * futex_waitv array). One per loop, used only on the loop thread.
 *
 * The contract with a request:
 *   1. reserve(sqes, scratchBytes) first, with everything the request will write in one go. It
 *      guarantees that room, submitting what is already written when the SQ or the scratch
 *      would overflow, so a request's SQEs (a wait and its linked timeout) are never split
 *      across two io_uring_enter calls.
 *   2. Then sqe() for each SQE and scratch(bytes) for each struct, no more than reserved. An SQE
 *      must be filled completely: use a Prep helper.
 *   3. Scratch memory lives until the SQEs pointing at it are submitted, not until they
 *      complete: the kernel copies what they point at during io_uring_enter
 *      (IORING_FEAT_SUBMIT_STABLE). So the scratch is a bump allocator that the loop resets once
 *      the kernel has consumed every SQE.
 */
final class Submission {
  static final int TIMESPEC_BYTES = (int) UringLayouts.KERNEL_TIMESPEC.byteSize();
  private static final int SCRATCH_BYTES = 64 * 1024;

  private final SubmissionQueue sq;
  private final Runnable submitAll; // the loop's: submits until the SQ is empty, then resetScratch
  private final Arena arena = Arena.ofShared();
  private final MemorySegment scratch = arena.allocate(SCRATCH_BYTES, 8);
  private long scratchUsed;
  // A fire-and-forget FUTEX_WAKE's SQE, but for the word: stamped out for each such wake.
  private final MemorySegment wakeImage = arena.allocate(UringLayouts.SQE.byteSize(), 8);
  private int imageFlags = -1; // the futex2 flags, count and bitset wakeImage holds
  private int imageCount;
  private int imageBitset;

  /**
   * @param submitAll submits everything written so far, until the SQ is empty, and resets the
   *     scratch: what reserve() calls when a request would not fit
   */
  Submission(SubmissionQueue sq, Runnable submitAll) {
    this.sq = sq;
    this.submitAll = submitAll;
  }

  /** Makes room for {@code sqes} SQEs and {@code scratchBytes} of scratch; see the overview. */
  Submission reserve(int sqes, int scratchBytes) {
    if (scratchBytes > SCRATCH_BYTES || sqes > sq.entries()) {
      throw new IllegalArgumentException("a request needs more room than a submission has");
    }
    if (sq.free() < sqes || scratchUsed + scratchBytes > SCRATCH_BYTES) {
      submitAll.run();
    }
    return this;
  }

  MemorySegment sqes() {
    return sq.sqes();
  }

  /** The next SQE; reserve() made sure there is one. */
  long sqe() {
    long sqe = sq.next();
    if (sqe < 0) {
      throw new IllegalStateException("SQ full after reserve()");
    }
    return sqe;
  }

  /** Offset in {@link #scratchMemory()} of {@code bytes} bytes, 8-byte aligned. */
  long scratch(long bytes) {
    long offset = scratchUsed;
    scratchUsed += (bytes + 7) & ~7L;
    return offset;
  }

  MemorySegment scratchMemory() {
    return scratch;
  }

  long scratchAddress(long offset) {
    return scratch.address() + offset;
  }

  /** Links a LINK_TIMEOUT of {@code nanos} behind the SQE at {@code sqe}. */
  void linkTimeout(long sqe, long nanos) {
    Prep.linkNext(sqes(), sqe);
    long timespec = scratch(TIMESPEC_BYTES);
    Prep.timespec(scratch, timespec, nanos);
    long timeoutSqe = sqe();
    Prep.linkTimeout(sqes(), timeoutSqe, scratchAddress(timespec));
    Prep.userData(sqes(), timeoutSqe, UserData.encode(CompletionLoop.KIND_LINK_TIMEOUT, 0, 0));
  }

  /**
   * A FUTEX_WAKE that posts no completion when it succeeds (IOSQE_CQE_SKIP_SUCCESS); a failure
   * posts a KIND_SIGNAL completion, which is logged. Returns the SQE, for a caller that wants to
   * change its flags or user_data.
   */
  long fireAndForgetWake(FutexWord word, int count, int bitset) {
    int flags = word.futex2Flags();
    if (flags != imageFlags || count != imageCount || bitset != imageBitset) {
      Prep.futexWake(wakeImage, 0, 0L, count, bitset, flags);
      Prep.skipSuccessCompletion(wakeImage, 0);
      Prep.userData(wakeImage, 0, UserData.encode(CompletionLoop.KIND_SIGNAL, 0, 0));
      imageFlags = flags;
      imageCount = count;
      imageBitset = bitset;
    }
    long sqe = sqe();
    Prep.stamp(wakeImage, sqes(), sqe, word.address());
    return sqe;
  }

  /** A plain TIMEOUT of {@code nanos}: wakes a waiting enter. */
  void timeout(long userData, long nanos) {
    long timespec = scratch(TIMESPEC_BYTES);
    Prep.timespec(scratch, timespec, nanos);
    long sqe = sqe();
    Prep.timeout(sqes(), sqe, scratchAddress(timespec));
    Prep.userData(sqes(), sqe, userData);
  }

  /** The kernel has consumed every SQE written so far: their scratch is free again. */
  void resetScratch() {
    scratchUsed = 0;
  }

  void close() {
    arena.close();
  }
}
