package dev.ringlock.core;

import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/*
 * Overview
 *
 * The syscalls backend's completion thread: the one thread where its futures complete (unless a
 * completion executor is set) and its AbandonedWakeHandlers run, as on the io_uring backend's
 * completion thread. The futex_waitv threads hand it their outcomes and go straight back into the
 * kernel, so that no continuation ever keeps their other waits out of the kernel.
 *
 * Hand-off: a lock-free queue and park/unpark. The producer adds, then reads `sleeping`; this
 * thread sets `sleeping`, then polls the queue once more before it parks: one of the two sees
 * the other (both volatile), so no task waits for a later one.
 *
 * Close: it runs until the backend is closing, every other backend thread has ended, and the
 * queue is empty: the failures those threads deliver on their way out are run too. A task added
 * after that (a request made on a closed ring) runs on its producer: the producer adds, then
 * reads `exited`; this thread sets `exited`, then looks at the queue once more.
 *
 * Every task is user code (a future's continuations, an AbandonedWakeHandler): each run is marked
 * on `userCode` for the blocked-thread checker (BlockedThreadChecker).
 */
final class SyscallCompleter implements Runnable {
  private static final long CLOSING_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  private final SyscallBackend backend;
  private final Thread thread;
  private final BlockedThreadChecker.Watch userCode; // marks each task's run on this thread
  private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private volatile boolean sleeping;
  private volatile boolean exited; // the loop has ended: a late task runs on its producer

  SyscallCompleter(SyscallBackend backend, String name, Duration blockedThreadWarning) {
    this.backend = backend;
    this.thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this);
    this.userCode = BlockedThreadChecker.watch(thread, blockedThreadWarning);
  }

  void start() {
    thread.start();
  }

  Thread thread() {
    return thread;
  }

  boolean idle() {
    return sleeping && tasks.isEmpty();
  }

  /** Runs {@code task} on this thread: at once if called here, else soon. */
  void execute(Runnable task) {
    if (Thread.currentThread() == thread) {
      userCode.enter();
      try {
        task.run();
      } finally {
        userCode.leave();
      }
      return;
    }
    tasks.add(task);
    if (exited) { // closed already (a request made after close): run it here
      drain();
    } else if (sleeping) {
      LockSupport.unpark(thread);
    }
  }

  private void drain() {
    Runnable task;
    while ((task = tasks.poll()) != null) {
      runSafely(task);
    }
  }

  @Override
  public void run() {
    SyscallBackend.markBackendThread(backend);
    userCode.activate();
    try {
      completeUntilClosed();
    } finally {
      userCode.cancel();
    }
  }

  private void completeUntilClosed() {
    for (; ; ) {
      Runnable task = tasks.poll();
      if (task != null) {
        userCode.enter();
        try {
          runSafely(task);
        } finally {
          userCode.leave();
        }
        continue;
      }
      if (backend.isClosing() && backend.othersEnded()) {
        exited = true; // then look again: a producer that missed this flag added before it
        if (tasks.isEmpty()) {
          return;
        }
        exited = false;
        continue;
      }
      sleeping = true;
      if (tasks.isEmpty()) {
        if (backend.isClosing()) {
          LockSupport.parkNanos(this, CLOSING_PARK_NANOS);
        } else {
          LockSupport.park(this);
        }
      }
      sleeping = false;
    }
  }

  private static void runSafely(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException | Error e) {
      System.getLogger(FutexRing.class.getName())
          .log(System.Logger.Level.ERROR, "a FutexRing completion failed", e);
    }
  }
}
