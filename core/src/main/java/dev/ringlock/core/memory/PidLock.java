package dev.ringlock.core.memory;

import static dev.ringlock.core.memory.RegionDescriptor.LOCK_WAITERS;
import static dev.ringlock.core.memory.RegionDescriptor.PID_MASK;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.ringlock.core.InternalLockTimeoutException;
import dev.ringlock.core.ProcessWatch;
import dev.ringlock.core.RingException;
import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.FutexFlags;
import dev.ringlock.core.ffi.Syscalls;
import dev.ringlock.core.uring.UringLayouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/*
 * Overview
 *
 * A short lock held by a process, in one 32-bit word of a region, across every thread and process
 * that maps it: the region's directory lock (inserts), and the list lock of each wait queue. It
 * guards only short critical sections. The word:
 *
 *   0                      free
 *   pid                    held by process pid
 *   pid | LOCK_WAITERS     held, and someone may be asleep on the word
 *
 * lock() is a compareAndSet(0 -> pid). A contended locker sets LOCK_WAITERS (compareAndSet, so
 * it never marks a word that just became free) and sleeps in futex_wait while the word holds
 * that value. After sleeping it takes a free lock as pid | LOCK_WAITERS rather than pid, since
 * other sleepers may remain and only a set bit makes the next unlock wake one of them (the
 * "state 2" of Drepper's "Futexes Are Tricky", mutex 3). The cost is at most one spurious
 * futex_wake per contended episode.
 *
 * unlock() is getAndSet(0) (a volatile write: everything the holder wrote happens-before the
 * next holder's compareAndSet), then one futex_wake if the bit was set.
 *
 * Nobody waits for ever. A holder may be stopped (SIGSTOP, a debugger) or paused (a long GC) inside
 * its critical section, and it is alive all that time. So:
 *   - lock(timeout) gives up after its bound with InternalLockTimeoutException, naming the holder
 *     (the bound is the caller's: RegionOptions.internalLockTimeout for public calls);
 *   - tryLock() never waits, for threads that must not (a ring's completion thread). A caller that
 *     cannot take it defers its work and waits asynchronously: waitValue() sets LOCK_WAITERS
 *     exactly as a sleeper does and returns the value to FUTEX_WAIT on (through a ring); when that
 *     wait ends it calls tryLockAfterWait() (pid | LOCK_WAITERS, like every woken sleeper) or, if the
 *     wait timed out, takeOverIfDead(). The async waiter obeys the same protocol as a sleeping one,
 *     so unlock() needs no change and its release path costs nothing more.
 *
 * Threads of one process contend like processes do: the word names the process, not the
 * thread, so the lock is not reentrant and a thread that locks twice waits forever.
 *
 * A holder that dies (kill -9, a crash) never unlocks, and no kernel robust list can help: glibc
 * owns the one per thread. So every sleep is bounded (RECHECK_NANOS) and each time one ends
 * without a wake, the sleeper asks whether the owner's pid is still alive. If not, it takes the
 * lock over with compareAndSet(word -> ourPid | LOCK_WAITERS); the compareAndSet fails if
 * anyone else took it first. lock() returns true then, because whatever the lock guards may be
 * half-updated: the directory's inserts are safe to take over as they are (see Directory); a
 * wait queue repairs its list.
 *
 * Limits, all shared with a POSIX process-shared mutex: processes sharing a region must share a
 * PID namespace (a pid from another namespace looks dead, and two holders would run at once),
 * and trust each other. A dead owner whose pid was reused by an unrelated live process keeps
 * the lock until that process exits.
 *
 * The futex is shared (keyed by inode and offset) for a file mapping and PRIVATE for an
 * in-memory region, which no other process can map.
 */
/** A pid-owned futex lock in one word of a region; see the overview in the source. */
public final class PidLock {
  private static final VarHandle INT = JAVA_INT.varHandle();

  /** How long a contended locker sleeps before it checks whether the owner is still alive. */
  private static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  /**
   * How long a synchronous call waits for a live holder by default before it gives up: far above
   * any critical section (the longest, a wakeAll of 100,000 waiters, holds the lock for tens of
   * milliseconds), far below "hung".
   */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  private final MemorySegment memory;
  private final long wordOffset;
  private final Path file; // null in memory; for error messages
  private final String guarded; // what the lock guards, for error messages: "directory"
  private final long wordAddress;
  private final int futex2Flags;
  private final int ownPid;

  /**
   * @param memory the region's memory
   * @param wordOffset where the lock word is in {@code memory}, 4-byte aligned
   * @param file the region file, or null in memory (error messages name it)
   * @param guarded what the lock guards, as error messages name it: "directory", "wait queue
   *     'jobs'"
   */
  public PidLock(MemorySegment memory, long wordOffset, Path file, String guarded) {
    this.memory = Objects.requireNonNull(memory, "memory");
    if (wordOffset < 0 || wordOffset > memory.byteSize() - Integer.BYTES || wordOffset % 4 != 0) {
      throw new IllegalArgumentException(
          "lock word offset " + wordOffset + " is not an aligned word of the region");
    }
    this.wordOffset = wordOffset;
    this.file = file;
    this.guarded = Objects.requireNonNull(guarded, "guarded");
    this.wordAddress = memory.address() + wordOffset;
    // A file mapping may be shared with other processes; memory of this process never is.
    this.futex2Flags =
        file != null ? FutexFlags.SIZE_U32 : FutexFlags.SIZE_U32 | FutexFlags.PRIVATE;
    long pid = ProcessHandle.current().pid();
    if (pid <= 0 || pid > PID_MASK) {
      throw new IllegalStateException(
          "this process's pid " + pid + " does not fit the 30 bits of a region's lock word");
    }
    this.ownPid = (int) pid;
  }

  /**
   * Takes the lock, sleeping while another thread or process holds it, for at most {@link
   * #DEFAULT_TIMEOUT}.
   *
   * @return true if the lock was taken over from a dead owner: what it guards may be half-updated
   * @throws InternalLockTimeoutException if a live process held it all that time
   * @throws java.io.UncheckedIOException wrapping an InvalidRegionException (CORRUPT) if the word
   *     holds a value no ringlock writes
   */
  public boolean lock() {
    return lock(DEFAULT_TIMEOUT.toNanos(), () -> false);
  }

  /**
   * Takes the lock, sleeping while another thread or process holds it, for at most {@code
   * timeoutNanos} (0: one try, with a dead owner's lock taken over) or until {@code giveUp} says so
   * (asked every few milliseconds while waiting).
   *
   * @return true if the lock was taken over from a dead owner: what it guards may be half-updated
   * @throws InternalLockTimeoutException if the time ran out or {@code giveUp} said so, the lock
   *     still held
   * @throws java.io.UncheckedIOException wrapping an InvalidRegionException (CORRUPT) if the word
   *     holds a value no ringlock writes
   */
  public boolean lock(long timeoutNanos, BooleanSupplier giveUp) {
    if (casLock(0, ownPid)) {
      return false;
    }
    long start = System.nanoTime();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment deadline = arena.allocate(UringLayouts.KERNEL_TIMESPEC);
      return lockContended(deadline, start, Math.max(0, timeoutNanos), giveUp);
    }
  }

  private boolean lockContended(
      MemorySegment deadline, long start, long timeoutNanos, BooleanSupplier giveUp) {
    for (; ; ) {
      int observed = lvLock();
      int owner = ownerOf(observed);
      if (owner == 0) {
        // Free: take it with the bit set, since other sleepers may remain (see the overview).
        if (casLock(observed, ownPid | LOCK_WAITERS)) {
          return false;
        }
        continue;
      }
      long left = timeoutNanos - (System.nanoTime() - start);
      if (left <= 0 || giveUp.getAsBoolean()) {
        // A last look for a dead owner: a zero timeout still takes over a crashed holder's lock.
        if (!isAlive(owner) && casLock(observed, ownPid | LOCK_WAITERS)) {
          return true;
        }
        throw new InternalLockTimeoutException(
            guarded, file, owner, Duration.ofNanos(System.nanoTime() - start));
      }
      if ((observed & LOCK_WAITERS) == 0) {
        if (!casLock(observed, observed | LOCK_WAITERS)) {
          continue; // unlocked or changed hands meanwhile: look again
        }
        observed |= LOCK_WAITERS;
      }
      int result = sleepWhileHolds(observed, deadline, Math.min(left, RECHECK_NANOS));
      if (result == -Errno.ETIMEDOUT
          && !isAlive(owner)
          && casLock(observed, ownPid | LOCK_WAITERS)) {
        return true; // the owner died holding the lock; see the overview
      }
    }
  }

  /** One attempt that never waits: true if the lock was free and is now held by this process. */
  public boolean tryLock() {
    return casLock(0, ownPid);
  }

  /**
   * For an asynchronous waiter, after its wait on {@link #waitValue()} ended: one attempt, taking a
   * free lock as {@code pid | LOCK_WAITERS} as every woken sleeper does (see the overview).
   */
  public boolean tryLockAfterWait() {
    return casLock(0, ownPid | LOCK_WAITERS);
  }

  /**
   * For an asynchronous waiter: announces it (LOCK_WAITERS) and returns the value to FUTEX_WAIT on,
   * so that the holder's unlock wakes it; or 0 if the lock is free now (try it again).
   *
   * @throws java.io.UncheckedIOException wrapping an InvalidRegionException (CORRUPT) if the word
   *     holds a value no ringlock writes
   */
  public int waitValue() {
    for (; ; ) {
      int observed = lvLock();
      if (ownerOf(observed) == 0) {
        return 0;
      }
      if ((observed & LOCK_WAITERS) != 0 || casLock(observed, observed | LOCK_WAITERS)) {
        return observed | LOCK_WAITERS;
      }
    }
  }

  /**
   * For an asynchronous waiter whose wait on {@code observed} timed out: takes the lock over if its
   * owner is dead and the word is unchanged. True then: what it guards may be half-updated.
   */
  public boolean takeOverIfDead(int observed) {
    int owner = observed & PID_MASK;
    return owner != 0 && !isAlive(owner) && casLock(observed, ownPid | LOCK_WAITERS);
  }

  /** futex_wait for at most {@code nanos}: 0, -EAGAIN, -EINTR or -ETIMEDOUT. */
  private int sleepWhileHolds(int expected, MemorySegment deadline, long nanos) {
    // System.nanoTime is CLOCK_MONOTONIC on Linux, the clock futex_wait's deadline is read on.
    long at = System.nanoTime() + nanos;
    deadline.set(JAVA_LONG, UringLayouts.TIMESPEC_SEC, at / 1_000_000_000L);
    deadline.set(JAVA_LONG, UringLayouts.TIMESPEC_NSEC, at % 1_000_000_000L);
    int result =
        Syscalls.futexWait(
            wordAddress, expected, FutexFlags.BITSET_MATCH_ANY, futex2Flags, deadline);
    if (result < 0
        && result != -Errno.EAGAIN
        && result != -Errno.EINTR
        && result != -Errno.ETIMEDOUT) {
      throw new RingException(
          "futex_wait on the " + guarded + " lock of " + Directory.describe(file) + " failed",
          -result);
    }
    return result;
  }

  /**
   * Releases the lock, waking one sleeper if any may be waiting.
   *
   * @throws java.io.UncheckedIOException wrapping an InvalidRegionException (CORRUPT) if another
   *     process took the lock from this one
   */
  public void unlock() {
    int previous = xchgLock(0);
    if (ownerOf(previous) != ownPid) {
      throw Directory.corrupt(
          file,
          "had its "
              + guarded
              + " lock taken from this process (pid "
              + ownPid
              + ") while it held it; the lock word held 0x"
              + Integer.toHexString(previous)
              + ". Processes sharing a region must share a PID namespace");
    }
    if ((previous & LOCK_WAITERS) != 0) {
      int woken = Syscalls.futexWake(wordAddress, FutexFlags.BITSET_MATCH_ANY, 1, futex2Flags);
      if (woken < 0) {
        throw new RingException(
            "futex_wake on the " + guarded + " lock of " + Directory.describe(file) + " failed",
            -woken);
      }
    }
  }

  /** The holder's pid, or 0 when free: a snapshot, for diagnostics. Never throws. */
  public int holder() {
    return lvLock() & PID_MASK;
  }

  /** The owner's pid, or 0 when free; a word with bits no ringlock sets is corruption. */
  private int ownerOf(int word) {
    String problem = wordProblem(word);
    if (problem != null) {
      throw Directory.corrupt(file, "has a " + guarded + " " + problem);
    }
    return word & PID_MASK;
  }

  /**
   * What is wrong with a lock word read from a region, or null if it is one a PidLock writes: the
   * one rule lock() applies and inspection tools report.
   */
  public static String wordProblem(int word) {
    return (word & ~(PID_MASK | LOCK_WAITERS)) == 0
        ? null
        : "lock word of 0x%08x, which no ringlock writes".formatted(word);
  }

  /**
   * Whether process {@code pid} (a pid from shared memory, checked for its owner) is alive, as
   * ProcessWatch defines it: a zombie has exited (ProcessHandle.isAlive and kill(pid, 0) would
   * still say alive, and a lock held by a zombie would never be taken over), and a question it
   * cannot answer (out of file descriptors) means alive, never a live holder robbed.
   */
  public static boolean isAlive(int pid) {
    return pid > 0 && ProcessWatch.isAliveNowOrUnknown(pid);
  }

  private int lvLock() {
    return (int) INT.getAcquire(memory, wordOffset);
  }

  /**
   * Read first, then CAS (test-and-test-and-set): on a page that the file no longer covers (shrunk
   * under the mapping) a compareAndSet kills the JVM with SIGBUS, where the read throws
   * InternalError, which the public API turns into InvalidRegionException(TRUNCATED). A value that
   * differs would fail the CAS anyway. See docs/validation.md, the CAS audit.
   */
  private boolean casLock(int expected, int replacement) {
    return lvLock() == expected && INT.compareAndSet(memory, wordOffset, expected, replacement);
  }

  private int xchgLock(int replacement) {
    return (int) INT.getAndSet(memory, wordOffset, replacement);
  }
}
