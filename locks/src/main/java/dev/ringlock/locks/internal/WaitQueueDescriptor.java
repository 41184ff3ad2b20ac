package dev.ringlock.locks.internal;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.function.Consumer;

/**
 * The layout of a wait queue in a region (and of a condition variable, which is one), defined once:
 * a 64-byte header line, then {@code capacity} slots of 32 bytes, one per waiter. Slots are linked
 * into a FIFO list by index, not by pointer (as PostgreSQL's proclist does), since every process
 * maps the region at its own address. Nobody sleeps on a slot: each process with waiters sleeps on
 * the header's wake sequence, which every waker bumps after marking its slots (since layout version
 * 3). See {@link WaitQueueCore} for the protocol.
 *
 * <pre>
 * header (64 bytes)
 * offset  size  field
 *      0     4  list_lock        PidLock word: 0 = free, else holder pid | LOCK_WAITERS (bit 30)
 *      4     4  head             the longest-waiting slot, or NONE (-1)
 *      8     4  tail             the newest slot, or NONE
 *     12     4  waiting          slots on the list (state WAITING)
 *     16     4  capacity         slots; constant after creation
 *     20     4  slot_bytes       SLOT_BYTES; constant, checked on attach
 *     24     4  occupied         slots not FREE
 *     28     4  allocation_hint  where the next scan for a FREE slot starts
 *     32     4  wake_sequence    futex word: bumped by every waker after it marks its slots
 *     36     4  sleepers         processes with a kernel wait armed on wake_sequence
 *     40     4  reorders         bumped by a waker whose choice is not the list's head (wakeUpTo)
 *     44    20  reserved         (zero)
 *
 * slot i at 64 + 32 * i
 *      0     4  state            FREE, WAITING, WOKEN_ONE or WOKEN_ALL
 *      4     4  owner_pid        the process that allocated it (0 when FREE)
 *      8     8  key              what the owner passed to await (wakeUpTo compares it, signed)
 *     16     4  next             the next newer slot on the list, or NONE
 *     20     4  prev             the next older slot on the list, or NONE
 *     24     8  reserved         (zero)
 * </pre>
 *
 * <p>{@link #HEADER} and {@link #SLOT} are the one definition of these offsets: every constant
 * below is derived from them, {@link WaitQueueWords} reads and writes through them, and a unit test
 * pins each to the table above (docs/region-format.md).
 *
 * <p>Every field is written only under the list lock. The wake sequence is also read by the kernel
 * (FUTEX_WAIT compares it); a slot's state by its owner's scan (acquire) and, for diagnostics,
 * without the lock; the sleepers count is changed by each process as it arms and ends its wait.
 */
public final class WaitQueueDescriptor {
  /** An index that names no slot: the end of the list. */
  public static final int NONE = -1;

  /** A slot nobody owns. */
  public static final int FREE = 0;

  /** On the list, waiting for a wake to choose it. */
  public static final int WAITING = 1;

  /** Chosen by wake(count): meant for one waiter, so a waiter that declines passes it on. */
  public static final int WOKEN_ONE = 2;

  /** Chosen by wakeUpTo or wakeAll: a waiter that declines passes nothing on. */
  public static final int WOKEN_ALL = 3;

  /** The largest capacity: 512 MiB of slots, half the largest region. */
  public static final int MAX_CAPACITY = 1 << 24;

  public static final StructLayout HEADER =
      structLayout(
          JAVA_INT.withName("list_lock"),
          JAVA_INT.withName("head"),
          JAVA_INT.withName("tail"),
          JAVA_INT.withName("waiting"),
          JAVA_INT.withName("capacity"),
          JAVA_INT.withName("slot_bytes"),
          JAVA_INT.withName("occupied"),
          JAVA_INT.withName("allocation_hint"),
          JAVA_INT.withName("wake_sequence"),
          JAVA_INT.withName("sleepers"),
          JAVA_INT.withName("reorders"),
          paddingLayout(20));

  public static final StructLayout SLOT =
      structLayout(
          JAVA_INT.withName("state"),
          JAVA_INT.withName("owner_pid"),
          JAVA_LONG.withName("key"),
          JAVA_INT.withName("next"),
          JAVA_INT.withName("prev"),
          paddingLayout(8));

  public static final int HEADER_BYTES = (int) HEADER.byteSize();
  public static final int SLOT_BYTES = (int) SLOT.byteSize();

  public static final long LIST_LOCK_OFFSET = offset(HEADER, "list_lock");
  public static final long HEAD_OFFSET = offset(HEADER, "head");
  public static final long TAIL_OFFSET = offset(HEADER, "tail");
  public static final long WAITING_OFFSET = offset(HEADER, "waiting");
  public static final long CAPACITY_OFFSET = offset(HEADER, "capacity");
  public static final long SLOT_BYTES_OFFSET = offset(HEADER, "slot_bytes");
  public static final long OCCUPIED_OFFSET = offset(HEADER, "occupied");
  public static final long HINT_OFFSET = offset(HEADER, "allocation_hint");
  public static final long WAKE_SEQUENCE_OFFSET = offset(HEADER, "wake_sequence");
  public static final long SLEEPERS_OFFSET = offset(HEADER, "sleepers");
  public static final long REORDERS_OFFSET = offset(HEADER, "reorders");

  public static final long STATE_OFFSET = offset(SLOT, "state");
  public static final long OWNER_OFFSET = offset(SLOT, "owner_pid");
  public static final long KEY_OFFSET = offset(SLOT, "key");
  public static final long NEXT_OFFSET = offset(SLOT, "next");
  public static final long PREV_OFFSET = offset(SLOT, "prev");

  private WaitQueueDescriptor() {}

  /**
   * The bytes of a queue with {@code capacity} slots.
   *
   * @throws IllegalArgumentException if the capacity is outside 1..{@value #MAX_CAPACITY}
   */
  public static int bytesFor(int capacity) {
    checkCapacity(capacity);
    return HEADER_BYTES + capacity * SLOT_BYTES;
  }

  /**
   * The bytes a queue with {@code capacity} slots is created with: its own ({@link #bytesFor}),
   * then its stats line (ObjectStatsDescriptor).
   *
   * @throws IllegalArgumentException if the capacity is outside 1..{@value #MAX_CAPACITY}
   */
  public static int objectBytesFor(int capacity) {
    return ObjectStatsDescriptor.withStats(bytesFor(capacity));
  }

  /** Where slot {@code index} starts, from the start of the queue object. */
  public static long slotOffset(int index) {
    return HEADER_BYTES + (long) index * SLOT_BYTES;
  }

  /**
   * @throws IllegalArgumentException if the capacity is outside 1..{@value #MAX_CAPACITY}
   */
  public static void checkCapacity(int capacity) {
    if (capacity < 1 || capacity > MAX_CAPACITY) {
      throw new IllegalArgumentException(
          "a wait queue's capacity must be 1.." + MAX_CAPACITY + " waiters, not " + capacity);
    }
  }

  /**
   * Writes an empty queue of {@code capacity} slots into a zeroed object of {@link
   * #bytesFor}(capacity) bytes: the initializer for the region's findOrCreate, which runs it once,
   * before any other process can see the object.
   */
  public static Consumer<MemorySegment> initializer(int capacity) {
    checkCapacity(capacity);
    return object -> {
      WaitQueueWords words = new WaitQueueWords(object, 0, bytesFor(capacity));
      words.spHead(NONE);
      words.spTail(NONE);
      words.spCapacity(capacity);
      words.spSlotBytes(SLOT_BYTES);
      for (int i = 0; i < capacity; i++) {
        words.spNext(i, NONE);
        words.spPrev(i, NONE);
      }
    };
  }

  // ---- validation, shared by WaitQueueCore and the read-only RegionSnapshot ----
  // Each rule holds for every single field at every instant, even while a list lock holder is
  // half-way through an update: writers only ever store values that pass. So a reader without the
  // lock (inspect) can apply them without false alarms.

  /**
   * What is wrong with a queue header's shape, or null if its slots, then its stats line, fit the
   * object's bytes.
   */
  public static String headerProblem(int capacity, int slotBytes, long objectBytes) {
    if (slotBytes == SLOT_BYTES
        && capacity >= 1
        && capacity <= MAX_CAPACITY
        && ObjectStatsDescriptor.withStats(HEADER_BYTES + (long) capacity * SLOT_BYTES)
            <= objectBytes) {
      return null;
    }
    return ("header records a capacity of %s slots of %s bytes, which with its stats line does"
            + " not fit its %d bytes")
        .formatted(
            Integer.toUnsignedString(capacity), Integer.toUnsignedString(slotBytes), objectBytes);
  }

  /** What is wrong with a slot index (head, tail, next, prev, hint), or null: NONE or a slot. */
  public static String indexProblem(String field, int index, int capacity) {
    return index == NONE || (index >= 0 && index < capacity)
        ? null
        : "%s index of %d, outside its %d slots".formatted(field, index, capacity);
  }

  /** What is wrong with a count of slots (waiting, occupied), or null: 0..capacity. */
  public static String countProblem(String field, int count, int capacity) {
    return count >= 0 && count <= capacity
        ? null
        : "%d %s slots, outside 0..%d".formatted(count, field, capacity);
  }

  /** What is wrong with a slot's state word, or null if it is one of the four states. */
  public static String stateProblem(int slot, int state) {
    return state >= FREE && state <= WOKEN_ALL
        ? null
        : "slot %d in state %d, which no ringlock writes there".formatted(slot, state);
  }

  private static long offset(StructLayout layout, String field) {
    return layout.byteOffset(groupElement(field));
  }
}
