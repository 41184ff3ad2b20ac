package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.WaitQueueDescriptor.CAPACITY_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.FREE;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.HEAD_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.HINT_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.KEY_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.NEXT_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.NONE;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.OCCUPIED_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.OWNER_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.PREV_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.REORDERS_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.SLEEPERS_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.SLOT_BYTES_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.STATE_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.TAIL_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WAITING;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WAITING_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WAKE_SEQUENCE_OFFSET;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.NamedObject;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.BitSet;

/**
 * A wait queue's shared object (WaitQueueDescriptor) as one process sees it: the header's counts
 * and wake sequence, and the slots linked into the FIFO list of waiters, with every index and count
 * read from the region bounds-checked (a bad one throws the region's corruption exception, never an
 * IndexOutOfBoundsException).
 *
 * <p>Every method but the lock-free ones named so ({@link #lvState}, {@link #lvSequence}, {@link
 * #snapshot}) runs under the queue's list lock, which orders its plain accesses: other processes
 * read those fields only under the same lock. The state word is stored with release and read with
 * acquire because a slot's owner reads it in its scan, which may run without the lock's help on
 * other paths; the wake sequence is a futex word the kernel compares.
 */
final class WaitQueueList {
  private static final VarHandle INT = JAVA_INT.varHandle();
  private static final int KEYS_SHOWN = 4;

  private final MappedRegion region;
  private final MemorySegment memory;
  private final long base; // where the object starts in memory
  private final int capacity;
  private final String described; // "wait queue 'jobs'", for messages

  /**
   * @throws UncheckedIOException if the object's header is inconsistent with its length
   */
  WaitQueueList(MappedRegion region, NamedObject object, String described) {
    this.region = region;
    this.memory = region.segment();
    this.base = object.offset();
    this.described = described;
    // Constant after creation, so plain reads; checked against the object's length.
    int recorded = memory.get(JAVA_INT, base + CAPACITY_OFFSET);
    int slotBytes = memory.get(JAVA_INT, base + SLOT_BYTES_OFFSET);
    String problem = WaitQueueDescriptor.headerProblem(recorded, slotBytes, object.length());
    if (problem != null) {
      throw region.corruption("has a " + described + " whose " + problem);
    }
    this.capacity = recorded;
  }

  int capacity() {
    return capacity;
  }

  MemorySegment memory() {
    return memory;
  }

  long offsetOf(long headerField) {
    return base + headerField;
  }

  // ---- the wake sequence (see WaitQueueCore's overview) ----

  /** The wake sequence, as a scan reads it before looking at the slots (acquire). */
  int lvSequence() {
    return (int) INT.getAcquire(memory, base + WAKE_SEQUENCE_OFFSET);
  }

  /**
   * After marking slots: bumps the wake sequence (release, and a full fence: the RMW), so that a
   * process reading the new value sees the marks, and a process whose kernel wait compares the old
   * value was queued before the bump and is woken by the wake that follows.
   */
  void bumpSequence() {
    INT.getAndAdd(memory, base + WAKE_SEQUENCE_OFFSET, 1);
  }

  /** How many wakes chose slots that were not the head of the list (a scan of them all needed). */
  int lvReorders() {
    return (int) INT.getAcquire(memory, base + REORDERS_OFFSET);
  }

  /** Before {@link #bumpSequence}: this wake's choice is not a prefix of the list. */
  void bumpReorders() {
    INT.getAndAdd(memory, base + REORDERS_OFFSET, 1);
  }

  // ---- slots ----

  long slotAt(int slot) {
    return base + WaitQueueDescriptor.slotOffset(slot);
  }

  /** A slot's state: read by its owner's scan, by wakers, and by toString. */
  int lvState(int slot) {
    return (int) INT.getAcquire(memory, slotAt(slot) + STATE_OFFSET);
  }

  void soState(int slot, int state) {
    INT.setRelease(memory, slotAt(slot) + STATE_OFFSET, state);
  }

  /** The slot's owner pid, as the slot names it: a pid of no live process is treated as dead. */
  int owner(int slot) {
    return memory.get(JAVA_INT, slotAt(slot) + OWNER_OFFSET);
  }

  long key(int slot) {
    return memory.get(JAVA_LONG, slotAt(slot) + KEY_OFFSET);
  }

  /**
   * After a close without the list lock: the slot is nobody's, which every process treats as a dead
   * owner's (release: the state written before is seen by whoever reads 0).
   */
  void abandon(int slot) {
    INT.setRelease(memory, slotAt(slot) + OWNER_OFFSET, 0);
  }

  int head() {
    return checkedIndex(memory.get(JAVA_INT, base + HEAD_OFFSET), "head");
  }

  int tail() {
    return checkedIndex(memory.get(JAVA_INT, base + TAIL_OFFSET), "tail");
  }

  int next(int slot) {
    return checkedIndex(memory.get(JAVA_INT, slotAt(slot) + NEXT_OFFSET), "next");
  }

  int prev(int slot) {
    return checkedIndex(memory.get(JAVA_INT, slotAt(slot) + PREV_OFFSET), "prev");
  }

  int waitingCount() {
    return checkedCount(memory.get(JAVA_INT, base + WAITING_OFFSET), "waiting");
  }

  /** Lock-free, for waiting(): a snapshot, still bounds-checked. */
  int lvWaitingCount() {
    return checkedCount((int) INT.getAcquire(memory, base + WAITING_OFFSET), "waiting");
  }

  int occupied() {
    return checkedCount(memory.get(JAVA_INT, base + OCCUPIED_OFFSET), "occupied");
  }

  int nextIndex(int slot) {
    return slot + 1 == capacity ? 0 : slot + 1;
  }

  /** A FREE slot, now counted as occupied and owned by {@code pid} with {@code key}; or NONE. */
  int allocate(int pid, long key) {
    int occupied = occupied();
    if (occupied == capacity) {
      return NONE;
    }
    int hint = checkedIndex(memory.get(JAVA_INT, base + HINT_OFFSET), "allocation hint");
    for (int i = 0, slot = Math.max(hint, 0); i < capacity; i++, slot = nextIndex(slot)) {
      if (lvState(slot) == FREE) {
        memory.set(JAVA_INT, base + OCCUPIED_OFFSET, occupied + 1);
        memory.set(JAVA_INT, base + HINT_OFFSET, nextIndex(slot));
        memory.set(JAVA_INT, slotAt(slot) + OWNER_OFFSET, pid);
        memory.set(JAVA_LONG, slotAt(slot) + KEY_OFFSET, key);
        return slot;
      }
    }
    throw corrupt("records " + occupied + " occupied slots of " + capacity + ", but none is free");
  }

  /** Links an allocated slot at the tail, WAITING. */
  void linkLast(int slot) {
    int tail = tail();
    long at = slotAt(slot);
    memory.set(JAVA_INT, at + NEXT_OFFSET, NONE);
    memory.set(JAVA_INT, at + PREV_OFFSET, tail);
    if (tail == NONE) {
      memory.set(JAVA_INT, base + HEAD_OFFSET, slot);
    } else {
      memory.set(JAVA_INT, slotAt(tail) + NEXT_OFFSET, slot);
    }
    memory.set(JAVA_INT, base + TAIL_OFFSET, slot);
    memory.set(JAVA_INT, base + WAITING_OFFSET, waitingCount() + 1);
    soState(slot, WAITING);
  }

  void unlink(int slot) {
    int prev = prev(slot);
    int next = next(slot);
    int waiting = waitingCount();
    if (waiting == 0
        || (prev == NONE ? head() != slot : next(prev) != slot)
        || (next == NONE ? tail() != slot : prev(next) != slot)) {
      throw corrupt("has a broken list of waiters around slot " + slot);
    }
    if (prev == NONE) {
      memory.set(JAVA_INT, base + HEAD_OFFSET, next);
    } else {
      memory.set(JAVA_INT, slotAt(prev) + NEXT_OFFSET, next);
    }
    if (next == NONE) {
      memory.set(JAVA_INT, base + TAIL_OFFSET, prev);
    } else {
      memory.set(JAVA_INT, slotAt(next) + PREV_OFFSET, prev);
    }
    memory.set(JAVA_INT, slotAt(slot) + NEXT_OFFSET, NONE);
    memory.set(JAVA_INT, slotAt(slot) + PREV_OFFSET, NONE);
    memory.set(JAVA_INT, base + WAITING_OFFSET, waiting - 1);
  }

  /** Frees a slot that is off the list. */
  void free(int slot) {
    int occupied = occupied();
    if (occupied == 0) {
      throw corrupt("records no occupied slot, but slot " + slot + " was in use");
    }
    memory.set(JAVA_INT, slotAt(slot) + OWNER_OFFSET, 0);
    memory.set(JAVA_LONG, slotAt(slot) + KEY_OFFSET, 0L);
    soState(slot, FREE);
    memory.set(JAVA_INT, base + OCCUPIED_OFFSET, occupied - 1);
  }

  /**
   * The list lock was taken from a dead holder, which may have left the list half-updated. The list
   * is rebuilt from the slots' states: the WAITING slots reachable from the head keep their order,
   * the others are appended; the counts and the hint are recomputed. The dead holder may have
   * marked slots without bumping the wake sequence, or reordered the list: the reorder count and
   * the sequence are bumped, and the caller wakes every process.
   */
  void repair() {
    int[] order = new int[capacity]; // the WAITING slots, oldest first as far as can be told
    int waiting = 0;
    BitSet listed = new BitSet(capacity);
    int slot = memory.get(JAVA_INT, base + HEAD_OFFSET);
    while (slot >= 0 && slot < capacity && !listed.get(slot)) {
      if (lvState(slot) == WAITING) {
        listed.set(slot);
        order[waiting++] = slot;
      }
      slot = memory.get(JAVA_INT, slotAt(slot) + NEXT_OFFSET);
    }
    int occupied = 0;
    for (slot = 0; slot < capacity; slot++) {
      int state = lvState(slot);
      if (state != FREE) {
        occupied++;
      }
      if (state == WAITING && !listed.get(slot)) {
        order[waiting++] = slot;
      }
    }
    for (int i = 0; i < waiting; i++) {
      memory.set(JAVA_INT, slotAt(order[i]) + PREV_OFFSET, i == 0 ? NONE : order[i - 1]);
      memory.set(JAVA_INT, slotAt(order[i]) + NEXT_OFFSET, i == waiting - 1 ? NONE : order[i + 1]);
    }
    memory.set(JAVA_INT, base + HEAD_OFFSET, waiting == 0 ? NONE : order[0]);
    memory.set(JAVA_INT, base + TAIL_OFFSET, waiting == 0 ? NONE : order[waiting - 1]);
    memory.set(JAVA_INT, base + WAITING_OFFSET, waiting);
    memory.set(JAVA_INT, base + OCCUPIED_OFFSET, occupied);
    memory.set(JAVA_INT, base + HINT_OFFSET, 0);
    bumpReorders();
    bumpSequence();
  }

  /*
   * Benign races: read without the list lock, so the links may change under the walk. Each
   * index is bounds-checked and the walk is bounded, so the worst outcome is a stale or cut
   * list of keys, which a watchdog can live with.
   */
  /** The shared state for toString, read without the list lock. */
  String snapshot(int listLockHolder) {
    StringBuilder keys = new StringBuilder();
    int slot = memory.get(JAVA_INT, base + HEAD_OFFSET);
    for (int shown = 0; slot != NONE; shown++) {
      if (slot < 0 || slot >= capacity) {
        keys.append(" (index ").append(slot).append(" out of bounds)");
        break;
      }
      if (shown == KEYS_SHOWN) {
        keys.append(", ...");
        break;
      }
      keys.append(shown == 0 ? "" : ", ").append(memory.get(JAVA_LONG, slotAt(slot) + KEY_OFFSET));
      slot = memory.get(JAVA_INT, slotAt(slot) + NEXT_OFFSET);
    }
    return memory.get(JAVA_INT, base + WAITING_OFFSET)
        + " waiting (oldest keys: "
        + keys
        + "), "
        + memory.get(JAVA_INT, base + OCCUPIED_OFFSET)
        + " of "
        + capacity
        + " slots occupied, wake sequence "
        + memory.get(JAVA_INT, base + WAKE_SEQUENCE_OFFSET)
        + " ("
        + memory.get(JAVA_INT, base + SLEEPERS_OFFSET)
        + " processes asleep on it), list lock "
        + (listLockHolder == 0 ? "free" : "held by pid " + listLockHolder);
  }

  // ---- distrust ----

  int checkedIndex(int index, String field) {
    String problem = WaitQueueDescriptor.indexProblem(field, index, capacity);
    if (problem == null) {
      return index;
    }
    throw corrupt("has a " + problem);
  }

  private int checkedCount(int count, String field) {
    String problem = WaitQueueDescriptor.countProblem(field, count, capacity);
    if (problem == null) {
      return count;
    }
    throw corrupt("records " + problem);
  }

  UncheckedIOException badState(int slot, int state) {
    return corrupt("has " + WaitQueueDescriptor.stateProblem(slot, state));
  }

  UncheckedIOException corrupt(String finding) {
    return region.corruption("has a " + described + " that " + finding);
  }
}
