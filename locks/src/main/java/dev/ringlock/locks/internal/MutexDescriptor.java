package dev.ringlock.locks.internal;

/**
 * The layout of a mutex in a region: one 64-byte object, so one cache line, shared by every process
 * that maps the region. All of it is written only with atomic or release accesses (see {@link
 * MutexCore}).
 *
 * <pre>
 * offset  size  field
 *      0     4  word       0 = free; else owner pid (bits 0..29) | WAITERS (bit 30) | OWNER_DIED (31)
 *      4     4  reserved   (zero)
 *      8     8  fence      the last fence issued; only the holder writes it
 *     16     4  sleepers   processes with a kernel wait armed on the word
 *     20    12  reserved   (zero)
 *     32    32  starving   STARVING_SLOTS pids of processes whose oldest waiter starved (0 = none)
 * </pre>
 *
 * <p>The word's states: 0 or WAITERS is free; {@code pid [| WAITERS]} is held by {@code pid};
 * {@code pid | OWNER_DIED [| WAITERS]} is held by a process that took it over from an owner that
 * died, and has not yet marked it consistent; {@code OWNER_DIED [| WAITERS]} with no pid is not
 * recoverable, for good. A pid read from the word is never used as an index: it is only compared
 * and asked about (is that process alive?), so any value is safe to read.
 *
 * <p>Starving processes are recorded by pid, not counted, so that one that dies can be found and
 * removed: a count cannot tell whose share is stale. A process claims a zero slot with a CAS and
 * clears its own on the way out; anyone may clear the slot of a dead process.
 */
public final class MutexDescriptor {
  public static final int WORD_OFFSET = 0;
  public static final int FENCE_OFFSET = 8;
  public static final int SLEEPERS_OFFSET = 16;
  public static final int STARVING_OFFSET = 32;

  /** How many processes can be marked starving at once; more simply wait unmarked. */
  public static final int STARVING_SLOTS = 8;

  public static final int SIZE = 64;

  /** The owner's process id: PIDs are below 2^22 (pid_max), so 30 bits hold any of them. */
  public static final int PID_MASK = (1 << 30) - 1;

  /** Set while some waiter may be asleep in the kernel: the releaser must wake one. */
  public static final int WAITERS = 1 << 30;

  /**
   * With a pid: the holder took the mutex over from a dead owner and has not marked it consistent.
   * Without one: the mutex is not recoverable.
   */
  public static final int OWNER_DIED = 1 << 31;

  /**
   * The largest pid Linux hands out: pids are below pid_max, which is at most 2^22 (the kernel's
   * PID_MAX_LIMIT on 64-bit). A pid above it in the word or the starving table is corruption.
   */
  public static final int MAX_PID = (1 << 22) - 1;

  /**
   * The largest fence a mutex may record: the next acquisition adds one, which must stay positive.
   * No real mutex gets there (2^63 acquisitions), so a fence beyond it is corruption.
   */
  public static final long MAX_FENCE = Long.MAX_VALUE - 1;

  private MutexDescriptor() {}

  // ---- validation, shared by MutexCore and the read-only RegionReport: one rule, one message ----

  /** What is wrong with a lock word read from the region, or null if it is one ringlock writes. */
  public static String wordProblem(int word) {
    int owner = ownerOf(word);
    return owner <= MAX_PID
        ? null
        : "lock word 0x%08x names pid %d, above the largest pid %d".formatted(word, owner, MAX_PID);
  }

  /** What is wrong with a starving slot's pid, or null if it is 0 (empty) or a possible pid. */
  public static String starvingProblem(int slot, int pid) {
    return pid >= 0 && pid <= MAX_PID
        ? null
        : "starving slot %d holds %d, not a pid (0 or 1..%d)".formatted(slot, pid, MAX_PID);
  }

  /** What is wrong with the recorded fence, or null if the next acquisition can add one. */
  public static String fenceProblem(long fence) {
    return fence >= 0 && fence <= MAX_FENCE
        ? null
        : "last fence is %d, outside 0..%d (the next fence would overflow)"
            .formatted(fence, MAX_FENCE);
  }

  /** The word's owner pid, 0 when free or not recoverable. */
  public static int ownerOf(int word) {
    return word & PID_MASK;
  }

  /** Whether the word says nobody can ever hold the mutex again. */
  public static boolean notRecoverable(int word) {
    return (word & (PID_MASK | OWNER_DIED)) == OWNER_DIED;
  }
}
