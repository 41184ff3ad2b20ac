package dev.ringlock.core;

import java.util.concurrent.TimeUnit;

/*
 * Overview
 *
 * How long a ringlock thread may stay in one blocking system call: io_uring_enter (the
 * completion loop asleep), futex_waitv and poll of pidfds (the syscalls backend). A bitset wait's
 * thread on that backend keeps its 50 ms slice (SyscallBackend.BITSET_SLICE_NANOS): each slice's
 * end may complete the wait spuriously, and 50 ms still keeps an exit well under HotSpot's 300 ms.
 *
 * Why there is a bound at all: HotSpot's exit (Runtime.halt, and System.exit after its hooks)
 * is a VM operation that, at its final safepoint, waits while any other Java thread is in
 * native code (VM_Exit::wait_for_threads_in_native_to_block: it polls the threads' states,
 * sleeping up to 10 ms between polls, for up to UserThreadWaitAttemptsAtExit x 10 ms, 300 ms by
 * default). A Foreign Function downcall that blocks is native code. Only the state
 * _thread_in_native is counted, and a downcall cannot be made in another state that may block
 * (a critical downcall keeps the thread in Java, and then the safepoint itself never comes), so
 * the way out is to return: a thread that leaves the kernel at the end of a tick stops at the
 * safepoint and no longer counts. With the tick below, an exit waits about one tick more than a
 * JVM without a ring, instead of 300 ms; measured in docs/owner-death.md.
 *
 * The price is a wake-up per tick of each sleeping thread: an idle ring's completion thread
 * returns from io_uring_enter with -ETIME and enters again, and does nothing else (its doorbell
 * stays armed). Measured on a loaded 2-core VM, an idle ring's completion thread used 0.9 % of a
 * core at 20 ms and 1.1 % at 10 ms, about twice a bare parkNanos loop at the same period; 20 ms
 * keeps an exit within about one tick of a JVM without a ring at half the wake-ups of 10 ms
 * (docs/threading.md). FutexRing.Stats do not move while a ring idles: on io_uring a sleep that
 * ticks counts as the one call that began it; on the syscalls backend a call that a tick ended
 * with nothing to do is not counted.
 */
final class NativeWaitTick {
  /** The longest a ringlock thread sleeps in one blocking system call. */
  static final long NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  /** The tick in whole milliseconds, for poll(2). */
  static final int MILLIS = (int) TimeUnit.NANOSECONDS.toMillis(NANOS);

  private NativeWaitTick() {}
}
