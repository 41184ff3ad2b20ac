package dev.ringlock.core;

import java.util.concurrent.atomic.AtomicLongArray;

/*
 * Overview
 *
 * A process-wide record of the futex wakes this process makes by system call, so that a
 * futex_waitv thread of the syscalls backend can tell, for a word only this process can wake (a
 * PRIVATE word), whether a wake of it may have happened while it slept.
 *
 * Why: futex_waitv reports one woken entry, the last in array order. An earlier entry on another
 * word whose value did not change may have been woken too (a second wake that reached the thread
 * before it left the kernel) or not, and the kernel does not say which (see WaitvThread). A
 * PRIVATE word can only be woken from this process, and every wake this library makes by system
 * call goes through begin/end here; so if no wake of the entry's stripe began after the thread's
 * snapshot (taken before it entered the kernel, with none in flight), that entry was not woken.
 *
 * The record: per stripe (a hash of the word's address), a count of wakes begun and a count of
 * wakes ended. A waker bumps `begun` before its system call and `ended` after it. A snapshot reads
 * `ended` first, then `begun`: when both are equal, every wake begun up to that point had made its
 * system call, so any wake that can reach a wait armed after the snapshot bumps `begun` again;
 * when they differ, a wake is in flight and may land after the arming: the snapshot is UNSETTLED.
 * Both counters are volatile (AtomicLongArray); a stripe shared by two words only makes an answer
 * "maybe woken" more often, never "not woken" wrongly.
 *
 * An io_uring ring's wakes go through the kernel's FUTEX_WAKE opcode, not through here: once a
 * process has opened one (untrackedWakers), every wake is possible and mayHaveWoken answers "maybe"
 * for every word. A bitset wait of the syscalls backend also asks, between two slices of its wait,
 * whether a wake of its word began since (begunSince): a wake there may have found it out of the
 * kernel.
 */
final class InProcessWakes {
  /** A snapshot taken while a wake of the stripe was in flight: it proves nothing. */
  static final long UNSETTLED = -1;

  private static final int STRIPES = 4096; // a power of two
  private static final AtomicLongArray BEGUN = new AtomicLongArray(STRIPES);
  private static final AtomicLongArray ENDED = new AtomicLongArray(STRIPES);
  private static volatile boolean untrackedWakers; // an io_uring ring is (or was) open here

  private InProcessWakes() {}

  static int stripe(long address) {
    return (int) ((address >>> 2) * 0x9E3779B97F4A7C15L >>> 52) & (STRIPES - 1);
  }

  /** Before a wake system call of {@code address}. */
  static void begin(long address) {
    BEGUN.incrementAndGet(stripe(address));
  }

  /** After that system call returned. */
  static void end(long address) {
    ENDED.incrementAndGet(stripe(address));
  }

  /** This process opened an io_uring ring, whose wakes are not recorded here. */
  static void untrackedWakersExist() {
    untrackedWakers = true;
  }

  /** Taken before a wait on {@code address} enters the kernel; see {@link #mayHaveWoken}. */
  static long snapshot(long address) {
    int stripe = stripe(address);
    long ended = ENDED.get(stripe); // first: see the overview
    long begun = BEGUN.get(stripe);
    return begun == ended ? begun : UNSETTLED;
  }

  /**
   * Whether a wake of {@code address} made by this process may have reached a wait armed after
   * {@code snapshot} was taken. Called after that wait returned from the kernel.
   */
  static boolean mayHaveWoken(long address, long snapshot) {
    return untrackedWakers || begunSince(address, snapshot);
  }

  /**
   * Whether this process began a wake of {@code address} by system call since {@code snapshot} (or
   * one was in flight when it was taken), ignoring io_uring rings: a bitset wait between two slices
   * asks this (SyscallBackend.BitsetWait), and must not end woken at every slice just because the
   * process has a ring.
   */
  static boolean begunSince(long address, long snapshot) {
    return snapshot == UNSETTLED || BEGUN.get(stripe(address)) != snapshot;
  }
}
