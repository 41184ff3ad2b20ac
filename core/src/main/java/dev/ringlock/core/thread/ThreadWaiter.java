package dev.ringlock.core.thread;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.FutexFlags;
import dev.ringlock.core.ffi.Syscalls;
import dev.ringlock.core.uring.Prep;
import dev.ringlock.core.uring.UringLayouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/*
 * Overview
 *
 * A futex wait made on the calling thread itself, for a thread that would otherwise park until a
 * ring's completion thread completes its future: the thread the kernel wakes is then the thread
 * that goes on, one wake-up per hop instead of two (the completion thread's, then the joined
 * thread's). The locks layer uses it for a platform thread blocked in join() at the head of a
 * queue (QueuedPrimitive.joinHere); docs/threading.md says who is woken.
 *
 * One per platform thread (a ThreadLocal), with its own private native memory: a NUDGE word and a
 * two-entry struct futex_waitv array, [nudge, word], plus the deadline's timespec. The thread
 * sleeps in futex_waitv(2) (Linux 5.16; allowed wherever the syscalls backend runs) on both.
 * Another thread makes it look at its state again with nudge(): NUDGE += 1, then a private
 * FUTEX_WAKE of it.
 *
 * Why the nudge is entry 0. futex_waitv returns the highest index among the entries woken before
 * it unqueued them all, so with the word at index 1 a return of 1 means the word's wake was
 * consumed here (and maybe a nudge too: harmless, the caller looks at its state after any return),
 * and a return of 0 means the word's entry was still queued: no wake on it was consumed. With the
 * order reversed a nudge would hide a consumed wake, which the caller could then not pass on.
 *
 * Lost nudges. A nudger changes what the sleeper would look at (completes a future) and then
 * nudges; the sleeper reads NUDGE (nudgeSnapshot) before it looks, and waits on that value: a
 * nudge after the read makes the wait return at once (EAGAIN), a nudge before it is seen by the
 * look. EAGAIN is told apart by re-reading NUDGE.
 *
 * No call blocks longer than the caller's deadline, which callers keep within a tick
 * (docs/threading.md: no ringlock wait stays in one system call longer than 20 ms), so an
 * interrupt, a closed ring or a JVM exit is noticed within a tick. EINTR returns as a timeout.
 */
/** A futex wait on the calling platform thread, that other threads can nudge; see the source. */
public final class ThreadWaiter {
  /** How {@link #await} ended. */
  public enum Result {
    /** A FUTEX_WAKE on the word ended it: a wake was consumed here. */
    WOKEN,
    /** The word did not hold the expected value: nothing was consumed. */
    VALUE_CHANGED,
    /** {@link #nudge()} was called since the snapshot: nothing was consumed on the word. */
    NUDGED,
    /** The deadline passed (or a signal ended the call): nothing was consumed. */
    TIMED_OUT
  }

  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  private static final long NUDGE = 0; // int: bumped by nudge()
  private static final long WAITV = 8; // struct futex_waitv[2]: [nudge, word]
  private static final long ENTRY = UringLayouts.FUTEX_WAITV.byteSize();
  private static final long DEADLINE = WAITV + 2 * ENTRY; // struct __kernel_timespec
  private static final long SIZE = DEADLINE + UringLayouts.KERNEL_TIMESPEC.byteSize();

  /**
   * The system property that turns the take-over off ({@code -Dringlock.joinTakeover=false}): a
   * joined thread then parks until the ring's completion thread completes its future, as before.
   * For measuring one against the other; on by default.
   */
  public static final String PROPERTY = "ringlock.joinTakeover";

  private static final boolean ENABLED =
      !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim());

  // set once futex_waitv was refused (ENOSYS, a seccomp filter): nobody takes waits over then
  private static volatile boolean unavailable;

  private static final ThreadLocal<ThreadWaiter> CURRENT =
      ThreadLocal.withInitial(ThreadWaiter::new);

  // Freed with this object: a nudger holds it while it may still nudge, so the memory outlives
  // every nudge (Arena.ofAuto).
  private final MemorySegment memory = Arena.ofAuto().allocate(SIZE, 8);
  private final MemorySegment waitv = memory.asSlice(WAITV, 2 * ENTRY);
  private final MemorySegment deadline = memory.asSlice(DEADLINE);
  private final Thread owner = Thread.currentThread();

  private ThreadWaiter() {}

  /**
   * The calling thread's waiter; null for a virtual thread (a blocking system call would pin its
   * carrier), where futex_waitv is refused, or with {@link #PROPERTY} false: then the caller waits
   * as it did before.
   *
   * @return this thread's waiter, or null where the thread must wait as before
   */
  public static ThreadWaiter current() {
    if (!ENABLED || unavailable || Thread.currentThread().isVirtual()) {
      return null;
    }
    return CURRENT.get();
  }

  /**
   * Whether the calling thread may run a futex wait itself: as {@link #current()}, without making
   * its waiter.
   */
  public static boolean mayWaitHere() {
    return ENABLED && !unavailable && !Thread.currentThread().isVirtual();
  }

  /**
   * Whether the calling thread is the one this waiter belongs to.
   *
   * @return true on the owning thread
   */
  public boolean isCurrentThread() {
    return Thread.currentThread() == owner;
  }

  /**
   * The nudge count as it is now: read before looking at the state a nudge announces, then awaited
   * on.
   *
   * @return the snapshot to pass to {@link #await}
   */
  public int nudgeSnapshot() {
    return (int) INT.getAcquire(memory, NUDGE);
  }

  /**
   * Makes the owner's {@link #await} with an older snapshot return NUDGED, from any thread: call it
   * after changing what the owner looks at. One private FUTEX_WAKE system call.
   */
  public void nudge() {
    INT.getAndAdd(memory, NUDGE, 1); // full fence: the caller's change is visible first
    Syscalls.futexWakeBitset(memory.address() + NUDGE, 1, FutexRing.ANY_BITSET, true);
  }

  /**
   * Sleeps on this thread until {@code word} is woken while it holds {@code expected}, or {@link
   * #nudge()} is called after {@code nudgeSnapshot} was read, or {@code deadlineNanos} (a {@link
   * System#nanoTime()} value) passes. Only from the thread that owns this waiter.
   *
   * @param word the futex word to sleep on
   * @param expected the value {@code word} must hold for the sleep to begin
   * @param nudgeSnapshot what {@link #nudgeSnapshot()} returned before the caller looked
   * @param deadlineNanos when to give up, as a {@link System#nanoTime()} value
   * @return WOKEN only if a wake on the word was consumed: a caller that does not use it must pass
   *     it on; null if futex_waitv is refused here (then nothing was waited, and {@link #current()}
   *     answers null from now on)
   */
  public Result await(FutexWord word, int expected, int nudgeSnapshot, long deadlineNanos) {
    if (Thread.currentThread() != owner) {
      throw new IllegalStateException("a ThreadWaiter waits only on the thread that owns it");
    }
    int wordFlags =
        FutexFlags.SIZE_U32 | (word.scope() == FutexScope.PRIVATE ? FutexFlags.PRIVATE : 0);
    Prep.waitvEntry(
        memory,
        WAITV,
        memory.address() + NUDGE,
        nudgeSnapshot,
        FutexFlags.SIZE_U32 | FutexFlags.PRIVATE);
    Prep.waitvEntry(memory, WAITV + ENTRY, word.address(), expected, wordFlags);
    deadline.set(ValueLayout.JAVA_LONG, UringLayouts.TIMESPEC_SEC, deadlineNanos / 1_000_000_000L);
    deadline.set(ValueLayout.JAVA_LONG, UringLayouts.TIMESPEC_NSEC, deadlineNanos % 1_000_000_000L);
    int result = Syscalls.futexWaitv(waitv, 2, deadline);
    if (result == 1) {
      return Result.WOKEN;
    }
    if (result == 0) {
      return Result.NUDGED;
    }
    return switch (-result) {
      case Errno.EAGAIN -> nudgeSnapshot() != nudgeSnapshot ? Result.NUDGED : Result.VALUE_CHANGED;
      case Errno.ETIMEDOUT, Errno.EINTR -> Result.TIMED_OUT;
      default -> {
        unavailable = true; // ENOSYS, EPERM from a filter: keep the old path from now on
        yield null;
      }
    };
  }
}
