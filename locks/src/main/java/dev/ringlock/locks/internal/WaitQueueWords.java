package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.WaitQueueDescriptor.CAPACITY_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.HEAD_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.HINT_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.KEY_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.LIST_LOCK_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.NEXT_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.OCCUPIED_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.OWNER_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.PREV_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.REORDERS_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.SLEEPERS_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.SLOT_BYTES_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.STATE_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.TAIL_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WAITING_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WAKE_SEQUENCE_OFFSET;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/*
 * Overview
 *
 * A flyweight over one wait queue object (WaitQueueDescriptor: a header line, then its slots): the
 * one reader and writer of its fields, shared by WaitQueueList (the list protocol), the read-only
 * RegionSnapshot and the tests. As MutexWords: a slice of the object's bytes, bounds checked once
 * when it is built, so an index that escapes it throws IndexOutOfBoundsException rather than
 * touching a neighbour; static final VarHandles at constant offsets; the access mode in each name
 * (lp plain load, la acquire load, sp plain store, sr release store, inc an atomic add of one).
 *
 * The slice bounds only the memory. Whether an index read from a header or a link names a slot of
 * this queue (below its recorded capacity) is the caller's check (WaitQueueDescriptor.indexProblem,
 * applied by WaitQueueList and RegionSnapshot) before it is used as a slot number.
 *
 * Why each field's mode is enough is WaitQueueList's and WaitQueueCore's overview: plain under the
 * list lock, acquire/release for the slot states and the wake sequence, which are also read
 * without it, and acquire for every field a lock-free reader (inspect, toString) looks at.
 */
/** One wait queue's header and slots in a region, by access mode. */
public final class WaitQueueWords {
  private static final VarHandle INT = JAVA_INT.varHandle();

  private final MemorySegment object; // the queue's bytes, as the directory records them

  /**
   * @param region the mapped region (or any segment holding the object)
   * @param offset where the queue starts in it (64-byte aligned)
   * @param length the object's bytes: at least the header; its slots are checked against the
   *     recorded capacity by the caller ({@link WaitQueueDescriptor#headerProblem})
   * @throws IndexOutOfBoundsException if the object does not fit in {@code region}
   */
  public WaitQueueWords(MemorySegment region, long offset, long length) {
    this.object = region.asSlice(offset, length);
  }

  /** The object's bytes (the list lock and the wake sequence are futex words in it). */
  public MemorySegment object() {
    return object;
  }

  // ---- header: constant after creation ----

  public int lpCapacity() {
    return object.get(JAVA_INT, CAPACITY_OFFSET);
  }

  public int lpSlotBytes() {
    return object.get(JAVA_INT, SLOT_BYTES_OFFSET);
  }

  /** Before publication only (the creator), or a test. */
  public void spCapacity(int capacity) {
    object.set(JAVA_INT, CAPACITY_OFFSET, capacity);
  }

  /** Before publication only (the creator), or a test. */
  public void spSlotBytes(int slotBytes) {
    object.set(JAVA_INT, SLOT_BYTES_OFFSET, slotBytes);
  }

  // ---- header: the list lock's word (PidLock owns its protocol) ----

  public int laListLock() {
    return (int) INT.getAcquire(object, LIST_LOCK_OFFSET);
  }

  /** A plain store: for a test that plants a lock word, never for the protocol (PidLock's). */
  public void spListLock(int word) {
    object.set(JAVA_INT, LIST_LOCK_OFFSET, word);
  }

  // ---- header: under the list lock ----

  public int lpHead() {
    return object.get(JAVA_INT, HEAD_OFFSET);
  }

  public int laHead() {
    return (int) INT.getAcquire(object, HEAD_OFFSET);
  }

  public void spHead(int slot) {
    object.set(JAVA_INT, HEAD_OFFSET, slot);
  }

  public int lpTail() {
    return object.get(JAVA_INT, TAIL_OFFSET);
  }

  public int laTail() {
    return (int) INT.getAcquire(object, TAIL_OFFSET);
  }

  public void spTail(int slot) {
    object.set(JAVA_INT, TAIL_OFFSET, slot);
  }

  public int lpWaiting() {
    return object.get(JAVA_INT, WAITING_OFFSET);
  }

  public int laWaiting() {
    return (int) INT.getAcquire(object, WAITING_OFFSET);
  }

  public void spWaiting(int count) {
    object.set(JAVA_INT, WAITING_OFFSET, count);
  }

  public int lpOccupied() {
    return object.get(JAVA_INT, OCCUPIED_OFFSET);
  }

  public int laOccupied() {
    return (int) INT.getAcquire(object, OCCUPIED_OFFSET);
  }

  public void spOccupied(int count) {
    object.set(JAVA_INT, OCCUPIED_OFFSET, count);
  }

  public int lpHint() {
    return object.get(JAVA_INT, HINT_OFFSET);
  }

  public int laHint() {
    return (int) INT.getAcquire(object, HINT_OFFSET);
  }

  public void spHint(int slot) {
    object.set(JAVA_INT, HINT_OFFSET, slot);
  }

  // ---- header: the wake sequence (a futex word), the sleepers and reorders counts ----

  public int laWakeSequence() {
    return (int) INT.getAcquire(object, WAKE_SEQUENCE_OFFSET);
  }

  /** An atomic add of one: release, and a full fence (see WaitQueueList.bumpSequence). */
  public void incWakeSequence() {
    INT.getAndAdd(object, WAKE_SEQUENCE_OFFSET, 1);
  }

  public int laSleepers() {
    return (int) INT.getAcquire(object, SLEEPERS_OFFSET);
  }

  public int laReorders() {
    return (int) INT.getAcquire(object, REORDERS_OFFSET);
  }

  public void incReorders() {
    INT.getAndAdd(object, REORDERS_OFFSET, 1);
  }

  // ---- slot i, at WaitQueueDescriptor.slotOffset(i) ----

  public int laState(int slot) {
    return (int) INT.getAcquire(object, slotAt(slot) + STATE_OFFSET);
  }

  public void srState(int slot, int state) {
    INT.setRelease(object, slotAt(slot) + STATE_OFFSET, state);
  }

  /** A plain store: for a test that plants a state, never for the protocol. */
  public void spState(int slot, int state) {
    object.set(JAVA_INT, slotAt(slot) + STATE_OFFSET, state);
  }

  public int lpOwner(int slot) {
    return object.get(JAVA_INT, slotAt(slot) + OWNER_OFFSET);
  }

  public int laOwner(int slot) {
    return (int) INT.getAcquire(object, slotAt(slot) + OWNER_OFFSET);
  }

  public void spOwner(int slot, int pid) {
    object.set(JAVA_INT, slotAt(slot) + OWNER_OFFSET, pid);
  }

  public void srOwner(int slot, int pid) {
    INT.setRelease(object, slotAt(slot) + OWNER_OFFSET, pid);
  }

  public long lpKey(int slot) {
    return object.get(JAVA_LONG, slotAt(slot) + KEY_OFFSET);
  }

  public void spKey(int slot, long key) {
    object.set(JAVA_LONG, slotAt(slot) + KEY_OFFSET, key);
  }

  public int lpNext(int slot) {
    return object.get(JAVA_INT, slotAt(slot) + NEXT_OFFSET);
  }

  public int laNext(int slot) {
    return (int) INT.getAcquire(object, slotAt(slot) + NEXT_OFFSET);
  }

  public void spNext(int slot, int next) {
    object.set(JAVA_INT, slotAt(slot) + NEXT_OFFSET, next);
  }

  public int lpPrev(int slot) {
    return object.get(JAVA_INT, slotAt(slot) + PREV_OFFSET);
  }

  public int laPrev(int slot) {
    return (int) INT.getAcquire(object, slotAt(slot) + PREV_OFFSET);
  }

  public void spPrev(int slot, int prev) {
    object.set(JAVA_INT, slotAt(slot) + PREV_OFFSET, prev);
  }

  private static long slotAt(int slot) {
    return WaitQueueDescriptor.slotOffset(slot);
  }
}
