package dev.ringlock.core.uring;

import static dev.ringlock.core.uring.UringLayouts.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemorySegment;

/*
 * Overview
 *
 * One prep helper per opcode, each going through one raw filler, as liburing's
 * io_uring_prep_rw does. The filler writes every field of the SQE, so an SQE slot needs no
 * zeroing before reuse and a helper writes only what its opcode needs beyond that.
 *
 * An SQE is addressed as (the SQE array, a byte offset into it) rather than as a slice, so
 * preparing one allocates nothing. The writes are plain: the kernel reads an SQE only after
 * SubmissionQueue publishes the tail with a release store.
 *
 * Values and masks are 32-bit unsigned on the kernel side: a sign-extended Java int (-1L) would
 * be -EINVAL, so every one is widened with Integer.toUnsignedLong (docs/kernel-notes.md, "The
 * io_uring futex operations").
 */
public final class Prep {
  private Prep() {}

  /** The raw filler: every field of the SQE at {@code sqe} in {@code sqes}. */
  static void rw(MemorySegment sqes, long sqe, byte opcode, int fd, long addr, int len, long off) {
    sqes.set(JAVA_BYTE, sqe + SQE_OPCODE, opcode);
    sqes.set(JAVA_BYTE, sqe + SQE_FLAGS, (byte) 0);
    sqes.set(JAVA_SHORT, sqe + SQE_IOPRIO, (short) 0);
    sqes.set(JAVA_INT, sqe + SQE_FD, fd);
    sqes.set(JAVA_LONG, sqe + SQE_OFF, off);
    sqes.set(JAVA_LONG, sqe + SQE_ADDR, addr);
    sqes.set(JAVA_INT, sqe + SQE_LEN, len);
    sqes.set(JAVA_INT, sqe + SQE_OP_FLAGS, 0);
    sqes.set(JAVA_SHORT, sqe + SQE_BUF_INDEX, (short) 0);
    sqes.set(JAVA_SHORT, sqe + SQE_PERSONALITY, (short) 0);
    sqes.set(JAVA_INT, sqe + SQE_FILE_INDEX, 0);
    sqes.set(JAVA_LONG, sqe + SQE_ADDR3, 0L);
    sqes.set(JAVA_LONG, sqe + SQE_PAD2, 0L);
  }

  public static void nop(MemorySegment sqes, long sqe) {
    rw(sqes, sqe, IoUringAbi.OP_NOP, -1, 0L, 0, 0L);
  }

  /** Completes 0 when woken, -EAGAIN when the word did not hold {@code expected}. */
  public static void futexWait(
      MemorySegment sqes, long sqe, long address, int expected, int bitset, int futex2Flags) {
    rw(
        sqes,
        sqe,
        IoUringAbi.OP_FUTEX_WAIT,
        futex2Flags,
        address,
        0,
        Integer.toUnsignedLong(expected));
    sqes.set(JAVA_LONG, sqe + SQE_ADDR3, Integer.toUnsignedLong(bitset));
  }

  /** Completes with the number of waiters woken. */
  public static void futexWake(
      MemorySegment sqes, long sqe, long address, int count, int bitset, int futex2Flags) {
    rw(sqes, sqe, IoUringAbi.OP_FUTEX_WAKE, futex2Flags, address, 0, Integer.toUnsignedLong(count));
    sqes.set(JAVA_LONG, sqe + SQE_ADDR3, Integer.toUnsignedLong(bitset));
  }

  /**
   * Completes with the index of the woken entry. {@code waitv} is a struct futex_waitv[count]; the
   * kernel copies it at submission (IORING_FEAT_SUBMIT_STABLE), so it need only live until
   * io_uring_enter returns.
   */
  public static void futexWaitv(MemorySegment sqes, long sqe, long waitv, int count) {
    rw(sqes, sqe, IoUringAbi.OP_FUTEX_WAITV, 0, waitv, count, 0L);
  }

  /**
   * A timeout for the request linked before it (IOSQE_IO_LINK). {@code timespec} is a relative
   * struct __kernel_timespec, copied at submission.
   */
  public static void linkTimeout(MemorySegment sqes, long sqe, long timespec) {
    rw(sqes, sqe, IoUringAbi.OP_LINK_TIMEOUT, -1, timespec, 1, 0L);
  }

  /**
   * A plain timeout: completes -ETIME after the relative {@code timespec}, copied at submission.
   */
  public static void timeout(MemorySegment sqes, long sqe, long timespec) {
    rw(sqes, sqe, IoUringAbi.OP_TIMEOUT, -1, timespec, 1, 0L);
  }

  /** Cancels the request whose user_data is {@code targetUserData}, or with flags, many. */
  public static void asyncCancel(
      MemorySegment sqes, long sqe, long targetUserData, int cancelFlags) {
    rw(sqes, sqe, IoUringAbi.OP_ASYNC_CANCEL, -1, targetUserData, 0, 0L);
    sqes.set(JAVA_INT, sqe + SQE_OP_FLAGS, cancelFlags);
  }

  /** A one-shot poll: completes with the ready events of {@code fd}. */
  public static void pollAdd(MemorySegment sqes, long sqe, int fd, int events) {
    rw(sqes, sqe, IoUringAbi.OP_POLL_ADD, fd, 0L, 0, 0L);
    sqes.set(JAVA_INT, sqe + SQE_OP_FLAGS, events);
  }

  /** read(2) of {@code length} bytes into {@code buffer}, at the file's current position. */
  public static void read(MemorySegment sqes, long sqe, int fd, long buffer, int length) {
    rw(sqes, sqe, IoUringAbi.OP_READ, fd, buffer, length, -1L);
  }

  /**
   * Copies {@code image}, a whole SQE prepared by the helpers above (at offset 0), into the SQE at
   * {@code sqe}, with {@code address} in place of its addr: one bulk copy and one store, where
   * filling the fields costs a store each. For runs of requests that differ only in the word they
   * act on, such as the FUTEX_WAKEs of a wakeEach.
   */
  public static void stamp(MemorySegment image, MemorySegment sqes, long sqe, long address) {
    MemorySegment.copy(image, 0, sqes, sqe, SQE.byteSize());
    sqes.set(JAVA_LONG, sqe + SQE_ADDR, address);
  }

  public static void userData(MemorySegment sqes, long sqe, long userData) {
    sqes.set(JAVA_LONG, sqe + SQE_USER_DATA, userData);
  }

  /** Links the next SQE to this one: it starts only when this one completes. */
  public static void linkNext(MemorySegment sqes, long sqe) {
    sqes.set(
        JAVA_BYTE,
        sqe + SQE_FLAGS,
        (byte) (sqes.get(JAVA_BYTE, sqe + SQE_FLAGS) | IoUringAbi.IOSQE_IO_LINK));
  }

  /** Posts no CQE when the operation succeeds (IOSQE_CQE_SKIP_SUCCESS); a failure still posts. */
  public static void skipSuccessCompletion(MemorySegment sqes, long sqe) {
    sqes.set(
        JAVA_BYTE,
        sqe + SQE_FLAGS,
        (byte) (sqes.get(JAVA_BYTE, sqe + SQE_FLAGS) | IoUringAbi.IOSQE_CQE_SKIP_SUCCESS));
  }

  /** Undoes {@link #skipSuccessCompletion}: the operation posts its completion again. */
  public static void postCompletion(MemorySegment sqes, long sqe) {
    sqes.set(
        JAVA_BYTE,
        sqe + SQE_FLAGS,
        (byte) (sqes.get(JAVA_BYTE, sqe + SQE_FLAGS) & ~IoUringAbi.IOSQE_CQE_SKIP_SUCCESS));
  }

  /** Writes one struct futex_waitv entry at byte {@code entry} of {@code memory}. */
  public static void waitvEntry(
      MemorySegment memory, long entry, long address, int expected, int futex2Flags) {
    memory.set(JAVA_LONG, entry + WAITV_VAL, Integer.toUnsignedLong(expected));
    memory.set(JAVA_LONG, entry + WAITV_UADDR, address);
    memory.set(JAVA_INT, entry + WAITV_FLAGS, futex2Flags);
    memory.set(JAVA_INT, entry + WAITV_RESERVED, 0);
  }

  /** Writes a relative struct __kernel_timespec of {@code nanos}. */
  public static void timespec(MemorySegment memory, long offset, long nanos) {
    memory.set(JAVA_LONG, offset + TIMESPEC_SEC, nanos / 1_000_000_000L);
    memory.set(JAVA_LONG, offset + TIMESPEC_NSEC, nanos % 1_000_000_000L);
  }
}
