package dev.ringlock.core.memory;

import static dev.ringlock.core.memory.RegionDescriptor.DIRECTORY_LOCK_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.LOCK_OWNER_MASK;
import static dev.ringlock.core.memory.RegionDescriptor.LOCK_WAITERS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.ringlock.core.RingException;
import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.FutexFlags;
import dev.ringlock.core.ffi.Syscalls;
import dev.ringlock.core.uring.UringLayouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/*
 * Overview
 *
 * The lock that serialises inserts into a region's directory, across every thread and process
 * that maps the region. Lookups never take it. It is one 32-bit word in header line 1:
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
 * A holder that dies (kill -9, a crash) never unlocks, and no kernel robust list can help: glibc
 * owns the one per thread. So every sleep is bounded (RECHECK_NANOS) and each time one ends
 * without a wake, the sleeper asks whether the owner's pid is still alive. If not, it takes the
 * lock over with compareAndSet(word -> ourPid | LOCK_WAITERS); the compareAndSet fails if
 * anyone else took it first. Taking over is safe because an insert becomes visible only at its
 * last step, the release store of the entry count (see Directory): a dead inserter left at
 * most an unpublished entry slot and dirty bytes past the data cursor (both rewritten by the
 * next insert) or, had it died between its two release stores, an advanced cursor (a leaked
 * object's worth of data space, nothing more).
 *
 * Limits, all shared with a POSIX process-shared mutex: processes sharing a region must share a
 * PID namespace (a pid from another namespace looks dead, and two inserters would run at once),
 * and trust each other. A dead owner whose pid was reused by an unrelated live process keeps
 * the lock until that process exits.
 *
 * The futex is shared (keyed by inode and offset) for a file mapping and PRIVATE for an
 * in-memory region, which no other process can map.
 */
final class DirectoryLock {
  private static final VarHandle INT = JAVA_INT.varHandle();

  /** How long a contended locker sleeps before it checks whether the owner is still alive. */
  private static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private final MemorySegment region;
  private final Path file; // null in memory; for error messages
  private final long wordAddress;
  private final int futex2Flags;
  private final int ownPid;

  DirectoryLock(MemorySegment region, Path file, boolean sharedWithOtherProcesses) {
    this.region = region;
    this.file = file;
    this.wordAddress = region.address() + DIRECTORY_LOCK_OFFSET;
    this.futex2Flags =
        sharedWithOtherProcesses ? FutexFlags.SIZE_U32 : FutexFlags.SIZE_U32 | FutexFlags.PRIVATE;
    long pid = ProcessHandle.current().pid();
    if (pid <= 0 || pid > LOCK_OWNER_MASK) {
      throw new IllegalStateException(
          "this process's pid " + pid + " does not fit the 30 bits of a region's lock word");
    }
    this.ownPid = (int) pid;
  }

  void lock() {
    if (casLock(0, ownPid)) {
      return;
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment deadline = arena.allocate(UringLayouts.KERNEL_TIMESPEC);
      lockContended(deadline);
    }
  }

  private void lockContended(MemorySegment deadline) {
    for (; ; ) {
      int observed = lvLock();
      int owner = ownerOf(observed);
      if (owner == 0) {
        // Free: take it with the bit set, since other sleepers may remain (see the overview).
        if (casLock(observed, ownPid | LOCK_WAITERS)) {
          return;
        }
        continue;
      }
      if ((observed & LOCK_WAITERS) == 0) {
        if (!casLock(observed, observed | LOCK_WAITERS)) {
          continue; // unlocked or changed hands meanwhile: look again
        }
        observed |= LOCK_WAITERS;
      }
      int result = sleepWhileHolds(observed, deadline);
      if (result == -Errno.ETIMEDOUT
          && !isAlive(owner)
          && casLock(observed, ownPid | LOCK_WAITERS)) {
        return; // the owner died holding the lock; see the overview for why this is safe
      }
    }
  }

  /** futex_wait for at most RECHECK_NANOS: 0, -EAGAIN, -EINTR or -ETIMEDOUT. */
  private int sleepWhileHolds(int expected, MemorySegment deadline) {
    // System.nanoTime is CLOCK_MONOTONIC on Linux, the clock futex_wait's deadline is read on.
    long at = System.nanoTime() + RECHECK_NANOS;
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
          "futex_wait on the directory lock of " + Directory.describe(file) + " failed", -result);
    }
    return result;
  }

  void unlock() {
    int previous = xchgLock(0);
    if (ownerOf(previous) != ownPid) {
      throw Directory.corrupt(
          file,
          "had its directory lock taken from this process (pid "
              + ownPid
              + ") while it inserted; the lock word held 0x"
              + Integer.toHexString(previous)
              + ". Processes sharing a region must share a PID namespace");
    }
    if ((previous & LOCK_WAITERS) != 0) {
      int woken = Syscalls.futexWake(wordAddress, FutexFlags.BITSET_MATCH_ANY, 1, futex2Flags);
      if (woken < 0) {
        throw new RingException(
            "futex_wake on the directory lock of " + Directory.describe(file) + " failed", -woken);
      }
    }
  }

  /** The owner's pid, or 0 when free; a word with bits no ringlock sets is corruption. */
  private int ownerOf(int word) {
    if ((word & ~(LOCK_OWNER_MASK | LOCK_WAITERS)) != 0) {
      throw Directory.corrupt(
          file,
          "has a directory lock word of 0x"
              + Integer.toHexString(word)
              + ", which no ringlock writes");
    }
    return word & LOCK_OWNER_MASK;
  }

  private static boolean isAlive(int pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  private int lvLock() {
    return (int) INT.getAcquire(region, DIRECTORY_LOCK_OFFSET);
  }

  private boolean casLock(int expected, int replacement) {
    return INT.compareAndSet(region, DIRECTORY_LOCK_OFFSET, expected, replacement);
  }

  private int xchgLock(int replacement) {
    return (int) INT.getAndSet(region, DIRECTORY_LOCK_OFFSET, replacement);
  }
}
