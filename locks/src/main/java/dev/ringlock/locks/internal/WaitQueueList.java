package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.WaitQueueDescriptor.FREE;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.NONE;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WAITING;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.NamedObject;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
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
  private static final int KEYS_SHOWN = 4;

  private final MappedRegion region;
  private final MemorySegment memory;
  private final long base; // where the object starts in memory
  private final WaitQueueWords words; // its fields, by access mode
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
    this.words = new WaitQueueWords(memory, base, object.length());
    // Constant after creation, so plain reads; checked against the object's length.
    int recorded = words.lpCapacity();
    int slotBytes = words.lpSlotBytes();
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
    return words.laWakeSequence();
  }

  /**
   * After marking slots: bumps the wake sequence (release, and a full fence: the RMW), so that a
   * process reading the new value sees the marks, and a process whose kernel wait compares the old
   * value was queued before the bump and is woken by the wake that follows.
   */
  void bumpSequence() {
    words.incWakeSequence();
  }

  /** How many wakes chose slots that were not the head of the list (a scan of them all needed). */
  int lvReorders() {
    return words.laReorders();
  }

  /** Before {@link #bumpSequence}: this wake's choice is not a prefix of the list. */
  void bumpReorders() {
    words.incReorders();
  }

  // ---- slots ----

  /** A slot's state: read by its owner's scan, by wakers, and by toString. */
  int lvState(int slot) {
    return words.laState(slot);
  }

  void soState(int slot, int state) {
    words.srState(slot, state);
  }

  /** The slot's owner pid, as the slot names it: a pid of no live process is treated as dead. */
  int owner(int slot) {
    return words.lpOwner(slot);
  }

  long key(int slot) {
    return words.lpKey(slot);
  }

  /**
   * After a close without the list lock: the slot is nobody's, which every process treats as a dead
   * owner's (release: the state written before is seen by whoever reads 0).
   */
  void abandon(int slot) {
    words.srOwner(slot, 0);
  }

  int head() {
    return checkedIndex(words.lpHead(), "head");
  }

  int tail() {
    return checkedIndex(words.lpTail(), "tail");
  }

  int next(int slot) {
    return checkedIndex(words.lpNext(slot), "next");
  }

  int prev(int slot) {
    return checkedIndex(words.lpPrev(slot), "prev");
  }

  int waitingCount() {
    return checkedCount(words.lpWaiting(), "waiting");
  }

  /** Lock-free, for waiting(): a snapshot, still bounds-checked. */
  int lvWaitingCount() {
    return checkedCount(words.laWaiting(), "waiting");
  }

  int occupied() {
    return checkedCount(words.lpOccupied(), "occupied");
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
    int hint = checkedIndex(words.lpHint(), "allocation hint");
    for (int i = 0, slot = Math.max(hint, 0); i < capacity; i++, slot = nextIndex(slot)) {
      if (lvState(slot) == FREE) {
        words.spOccupied(occupied + 1);
        words.spHint(nextIndex(slot));
        words.spOwner(slot, pid);
        words.spKey(slot, key);
        return slot;
      }
    }
    throw corrupt("records " + occupied + " occupied slots of " + capacity + ", but none is free");
  }

  /** Links an allocated slot at the tail, WAITING. */
  void linkLast(int slot) {
    int tail = tail();
    words.spNext(slot, NONE);
    words.spPrev(slot, tail);
    if (tail == NONE) {
      words.spHead(slot);
    } else {
      words.spNext(tail, slot);
    }
    words.spTail(slot);
    words.spWaiting(waitingCount() + 1);
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
      words.spHead(next);
    } else {
      words.spNext(prev, next);
    }
    if (next == NONE) {
      words.spTail(prev);
    } else {
      words.spPrev(next, prev);
    }
    words.spNext(slot, NONE);
    words.spPrev(slot, NONE);
    words.spWaiting(waiting - 1);
  }

  /** Frees a slot that is off the list. */
  void free(int slot) {
    int occupied = occupied();
    if (occupied == 0) {
      throw corrupt("records no occupied slot, but slot " + slot + " was in use");
    }
    words.spOwner(slot, 0);
    words.spKey(slot, 0L);
    soState(slot, FREE);
    words.spOccupied(occupied - 1);
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
    int slot = words.lpHead();
    while (slot >= 0 && slot < capacity && !listed.get(slot)) {
      if (lvState(slot) == WAITING) {
        listed.set(slot);
        order[waiting++] = slot;
      }
      slot = words.lpNext(slot);
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
      words.spPrev(order[i], i == 0 ? NONE : order[i - 1]);
      words.spNext(order[i], i == waiting - 1 ? NONE : order[i + 1]);
    }
    words.spHead(waiting == 0 ? NONE : order[0]);
    words.spTail(waiting == 0 ? NONE : order[waiting - 1]);
    words.spWaiting(waiting);
    words.spOccupied(occupied);
    words.spHint(0);
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
    int slot = words.lpHead();
    for (int shown = 0; slot != NONE; shown++) {
      if (slot < 0 || slot >= capacity) {
        keys.append(" (index ").append(slot).append(" out of bounds)");
        break;
      }
      if (shown == KEYS_SHOWN) {
        keys.append(", ...");
        break;
      }
      keys.append(shown == 0 ? "" : ", ").append(words.lpKey(slot));
      slot = words.lpNext(slot);
    }
    return words.lpWaiting()
        + " waiting (oldest keys: "
        + keys
        + "), "
        + words.lpOccupied()
        + " of "
        + capacity
        + " slots occupied, wake sequence "
        + words.laWakeSequence()
        + " ("
        + words.laSleepers()
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
