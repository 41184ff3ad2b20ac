package dev.ringlock.core;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Pause points for tests that must hold a backend thread at one exact step, such as a futex_waitv
 * thread of the syscalls backend that has left the kernel and not yet re-armed (the instant a pure
 * wake can find none of its entries queued). Off unless the JVM was started with {@value
 * #HOLD_AFTER_KERNEL_RETURN_PROPERTY}{@code =true}; the check is a static final, so the JIT drops
 * it otherwise. Even when on, a thread is held only once a test armed the point ({@link
 * #holdNext}).
 */
final class TestPausePoints {
  /** Enables {@link #afterKernelReturn}: the syscalls backend's threads look at the point. */
  static final String HOLD_AFTER_KERNEL_RETURN_PROPERTY = "dev.ringlock.test.holdAfterKernelReturn";

  static final boolean HOLD_AFTER_KERNEL_RETURN =
      Boolean.getBoolean(HOLD_AFTER_KERNEL_RETURN_PROPERTY);

  // name parts armed; each holds the next thread whose name contains it, once
  private static final Set<String> ARMED = ConcurrentHashMap.newKeySet();
  private static final Object LOCK = new Object();
  private static final Set<Thread> HELD = new HashSet<>(); // guarded by LOCK
  private static final Set<Thread> RELEASED = new HashSet<>(); // guarded by LOCK

  private TestPausePoints() {}

  /**
   * A backend thread returned from its futex call and has not yet said so (a futex_waitv thread
   * still reads as `sleeping`). Holds it here if a test armed the point for its name.
   */
  static void afterKernelReturn() {
    holdIfArmed();
  }

  /**
   * A thread blocked in join() on a ring wait of the syscalls backend has taken the wait over and
   * is about to sleep on it, not yet in the kernel (JoinedRingWait). Holds it here if a test armed
   * the point for its name.
   */
  static void beforeJoinerSleeps() {
    holdIfArmed();
  }

  /**
   * An io_uring completion loop swung its head to SLEEPING and has not yet entered the kernel to
   * sleep: a lone wake from another thread now goes straight to the kernel. Holds it here if a test
   * armed the point for its name.
   */
  static void beforeSleep() {
    holdIfArmed();
  }

  private static void holdIfArmed() {
    if (ARMED.isEmpty()) {
      return;
    }
    Thread current = Thread.currentThread();
    String wanted = null;
    for (String part : ARMED) {
      if (current.getName().contains(part) && ARMED.remove(part)) {
        wanted = part;
        break;
      }
    }
    if (wanted == null) {
      return;
    }
    synchronized (LOCK) {
      HELD.add(current);
      LOCK.notifyAll();
      boolean interrupted = false;
      while (!RELEASED.remove(current)) {
        try {
          LOCK.wait();
        } catch (InterruptedException e) {
          interrupted = true; // held until released: the point is this exact step
        }
      }
      HELD.remove(current);
      if (interrupted) {
        current.interrupt();
      }
    }
  }

  /**
   * The next backend thread whose name contains {@code threadNamePart} to reach a point holds
   * there. Several parts may be armed at once.
   */
  static void holdNext(String threadNamePart) {
    if (!HOLD_AFTER_KERNEL_RETURN) {
      throw new IllegalStateException(
          "start the JVM with -D" + HOLD_AFTER_KERNEL_RETURN_PROPERTY + "=true");
    }
    ARMED.add(threadNamePart);
  }

  /** Takes back {@link #holdNext} for {@code threadNamePart} if no thread was held for it yet. */
  static void disarm(String threadNamePart) {
    ARMED.remove(threadNamePart);
  }

  /** Waits until a thread is held at a point; false if none was within {@code timeoutMillis}. */
  static boolean awaitHeld(long timeoutMillis) throws InterruptedException {
    return awaitHeld("", timeoutMillis);
  }

  /**
   * Waits until a thread whose name contains {@code threadNamePart} is held; false if none was
   * within {@code timeoutMillis}.
   */
  static boolean awaitHeld(String threadNamePart, long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    synchronized (LOCK) {
      while (HELD.stream().noneMatch(t -> t.getName().contains(threadNamePart))) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(LOCK, left);
      }
      return true;
    }
  }

  /** Lets every held thread go on. */
  static void release() {
    release("");
  }

  /** Lets the held threads whose name contains {@code threadNamePart} go on. */
  static void release(String threadNamePart) {
    synchronized (LOCK) {
      for (Thread thread : HELD) {
        if (thread.getName().contains(threadNamePart)) {
          RELEASED.add(thread);
        }
      }
      LOCK.notifyAll();
    }
  }
}
