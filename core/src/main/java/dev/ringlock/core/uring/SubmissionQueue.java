package dev.ringlock.core.uring;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/*
 * Overview
 *
 * The submission side of a ring, for one submitting thread (no SQPOLL). SQEs are handed out at
 * sqeTail, a local counter; flush() publishes them to the kernel by storing the shared tail.
 * The kernel consumes SQEs from the shared head during io_uring_enter.
 *
 * Ordering, as liburing does it (src/queue.c and src/include/liburing.h, liburing 2.9):
 *   - next() reads the kernel's head with acquire before reusing a slot
 *     (_io_uring_get_sqe: io_uring_smp_load_acquire(sq->khead)), so the kernel's reads of the
 *     old SQE happen before our writes of the new one;
 *   - flush() stores the tail with release (__io_uring_flush_sq:
 *     io_uring_smp_store_release(sq->ktail, tail)), so the SQE contents are visible to the
 *     kernel before the tail that covers them. Without SQPOLL liburing uses a plain
 *     WRITE_ONCE here, because the kernel reads the tail inside our own syscall; release is
 *     no dearer on x86 and stays right if SQPOLL is ever used.
 *
 * The index array is filled once with the identity at setup, as liburing's
 * io_uring_setup_ring_pointers does, so SQE i is always slot i.
 */
public final class SubmissionQueue {
  private static final VarHandle INT = JAVA_INT.varHandle();

  private final MemorySegment ring;
  private final MemorySegment sqes;
  private final long headOffset;
  private final long tailOffset;
  private final long flagsOffset;
  private final int mask;
  private final int entries;

  private int sqeTail; // next SQE handed out; only the submitting thread touches it
  private int published; // tail value last stored into the shared tail

  SubmissionQueue(MemorySegment ring, MemorySegment sqes, MemorySegment params) {
    this.ring = ring;
    this.sqes = sqes;
    long off = UringLayouts.PARAMS_SQ_OFF;
    this.headOffset = params.get(JAVA_INT, off + UringLayouts.SQ_OFF_HEAD);
    this.tailOffset = params.get(JAVA_INT, off + UringLayouts.SQ_OFF_TAIL);
    this.flagsOffset = params.get(JAVA_INT, off + UringLayouts.SQ_OFF_FLAGS);
    this.mask = ring.get(JAVA_INT, params.get(JAVA_INT, off + UringLayouts.SQ_OFF_RING_MASK));
    this.entries = ring.get(JAVA_INT, params.get(JAVA_INT, off + UringLayouts.SQ_OFF_RING_ENTRIES));
    long array = params.get(JAVA_INT, off + UringLayouts.SQ_OFF_ARRAY);
    for (int i = 0; i < entries; i++) {
      ring.set(JAVA_INT, array + 4L * i, i);
    }
    this.sqeTail = (int) INT.getAcquire(ring, tailOffset);
    this.published = sqeTail;
  }

  /** The SQE array: prep helpers write at the offsets {@link #next()} returns. */
  public MemorySegment sqes() {
    return sqes;
  }

  public int entries() {
    return entries;
  }

  /** SQEs that can be handed out before the ring is full. */
  public int free() {
    int head = (int) INT.getAcquire(ring, headOffset);
    return entries - (sqeTail - head);
  }

  /**
   * The byte offset in {@link #sqes()} of the next SQE, or -1 when the ring is full (flush and
   * submit first). The caller must fill every field: use a {@link Prep} helper.
   */
  public long next() {
    int head = (int) INT.getAcquire(ring, headOffset);
    if (sqeTail - head >= entries) {
      return -1;
    }
    long offset = (long) (sqeTail & mask) << UringLayouts.SQE_SHIFT;
    sqeTail++;
    return offset;
  }

  /** Publishes every SQE handed out so far; returns how many the kernel has yet to consume. */
  public int flush() {
    if (published != sqeTail) {
      published = sqeTail;
      INT.setRelease(ring, tailOffset, sqeTail);
    }
    return sqeTail - (int) INT.getAcquire(ring, headOffset);
  }

  /** SQEs handed out that the kernel has not consumed (published or not). */
  public int pending() {
    return sqeTail - (int) INT.getAcquire(ring, headOffset);
  }

  /**
   * The kernel holds completions it could not fit in the CQ ring (IORING_FEAT_NODROP); an
   * io_uring_enter with GETEVENTS moves them in. liburing: cq_ring_needs_flush.
   */
  public boolean completionsOverflowed() {
    return ((int) INT.getVolatile(ring, flagsOffset) & IoUringAbi.SQ_CQ_OVERFLOW) != 0;
  }
}
