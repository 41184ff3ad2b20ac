package dev.ringlock.core.uring;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/*
 * Overview
 *
 * The completion side of a ring, for one reaping thread. The kernel writes CQEs and then
 * stores the tail; we read CQEs between our head and that tail, then store the head to give
 * the slots back.
 *
 * Ordering, as liburing does it (src/include/liburing.h, liburing 2.9):
 *   - tail() loads the kernel's tail with acquire (__io_uring_peek_cqe:
 *     io_uring_smp_load_acquire(ring->cq.ktail)), so the CQE contents are visible before we
 *     read them;
 *   - advance() stores the head with release (io_uring_cq_advance:
 *     io_uring_smp_store_release(cq->khead, *cq->khead + nr)), so our reads of the CQEs finish
 *     before the kernel may overwrite them.
 */
public final class CompletionQueue {
  private static final VarHandle INT = JAVA_INT.varHandle();

  private final MemorySegment ring;
  private final long headOffset;
  private final long tailOffset;
  private final long cqesOffset;
  private final int mask;
  private final int entries;

  private int head; // only the reaping thread writes the shared head, so a local copy is exact

  CompletionQueue(MemorySegment ring, MemorySegment params) {
    this.ring = ring;
    long off = UringLayouts.PARAMS_CQ_OFF;
    this.headOffset = params.get(JAVA_INT, off + UringLayouts.CQ_OFF_HEAD);
    this.tailOffset = params.get(JAVA_INT, off + UringLayouts.CQ_OFF_TAIL);
    this.cqesOffset = params.get(JAVA_INT, off + UringLayouts.CQ_OFF_CQES);
    this.mask = ring.get(JAVA_INT, params.get(JAVA_INT, off + UringLayouts.CQ_OFF_RING_MASK));
    this.entries = ring.get(JAVA_INT, params.get(JAVA_INT, off + UringLayouts.CQ_OFF_RING_ENTRIES));
    this.head = (int) INT.getAcquire(ring, headOffset);
  }

  public int entries() {
    return entries;
  }

  /** The first unread CQE's sequence number. */
  public int head() {
    return head;
  }

  /** One past the last CQE the kernel has posted. */
  public int tail() {
    return (int) INT.getAcquire(ring, tailOffset);
  }

  public long userData(int sequence) {
    return ring.get(JAVA_LONG, cqe(sequence) + UringLayouts.CQE_USER_DATA);
  }

  public int result(int sequence) {
    return ring.get(JAVA_INT, cqe(sequence) + UringLayouts.CQE_RES);
  }

  /** Gives every CQE before {@code newHead} back to the kernel. */
  public void advance(int newHead) {
    head = newHead;
    INT.setRelease(ring, headOffset, newHead);
  }

  private long cqe(int sequence) {
    return cqesOffset + ((long) (sequence & mask) << UringLayouts.CQE_SHIFT);
  }
}
