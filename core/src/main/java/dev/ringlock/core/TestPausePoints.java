package dev.ringlock.core;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

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

  private static final AtomicReference<String> ARMED = new AtomicReference<>(); // a name part
  private static final Object LOCK = new Object();
  private static Thread held; // guarded by LOCK
  private static boolean released; // guarded by LOCK

  private TestPausePoints() {}

  /**
   * A backend thread returned from its futex call and has not yet said so (a futex_waitv thread
   * still reads as `sleeping`). Holds it here if a test armed the point for its name.
   */
  static void afterKernelReturn() {
    String wanted = ARMED.get();
    Thread current = Thread.currentThread();
    if (wanted == null
        || !current.getName().contains(wanted)
        || !ARMED.compareAndSet(wanted, null)) {
      return;
    }
    synchronized (LOCK) {
      held = current;
      LOCK.notifyAll();
      boolean interrupted = false;
      while (!released) {
        try {
          LOCK.wait();
        } catch (InterruptedException e) {
          interrupted = true; // held until released: the point is this exact step
        }
      }
      released = false;
      held = null;
      if (interrupted) {
        current.interrupt();
      }
    }
  }

  /**
   * The next backend thread whose name contains {@code threadNamePart} to leave the kernel holds.
   */
  static void holdNext(String threadNamePart) {
    if (!HOLD_AFTER_KERNEL_RETURN) {
      throw new IllegalStateException(
          "start the JVM with -D" + HOLD_AFTER_KERNEL_RETURN_PROPERTY + "=true");
    }
    ARMED.set(threadNamePart);
  }

  /** Waits until a thread is held at the point; false if none was within {@code timeoutMillis}. */
  static boolean awaitHeld(long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    synchronized (LOCK) {
      while (held == null) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(LOCK, left);
      }
      return true;
    }
  }

  /** Lets the held thread go on. */
  static void release() {
    synchronized (LOCK) {
      released = held != null;
      LOCK.notifyAll();
    }
  }
}
