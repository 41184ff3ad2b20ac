package dev.ringlock.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.RejectedExecutionException;

/*
 * Overview
 *
 * The future of one request to the syscalls backend (SyscallBackend), and the claim that decides
 * who completes it. Several backend threads may hold parts of one request (a waitAny whose words
 * sit on two waitv threads), and the caller may complete it too (cancel, complete, orTimeout):
 *
 *   - a backend thread that sees an outcome first CASes claimed 0 -> 1 and delivers it; a thread
 *     that loses the claim drops its part;
 *   - delivery completes the CompletableFuture (here or on the completion executor). When the
 *     caller got there first, the outcome is unclaimed: a wait hands the wake it consumed to its
 *     AbandonedWakeHandler (outcomeUnclaimed), as RingOp does on the io_uring backend;
 *   - a completion by anyone but the backend "abandons" the request: abandoned() tells the
 *     threads that hold it, so that they take it out of the kernel.
 *
 * finished() (claimed, or completed by the caller) is what a backend thread reads to drop a
 * request: a volatile read each, and a request once finished never comes back.
 */
abstract class SyscallFuture<T> extends BackendFuture<T> {
  private static final VarHandle CLAIMED;

  static {
    try {
      CLAIMED = MethodHandles.lookup().findVarHandle(SyscallFuture.class, "claimed", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final SyscallBackend backend;
  private volatile int claimed; // 0, then 1 once a backend thread owns the outcome

  SyscallFuture(SyscallBackend backend) {
    this.backend = backend;
  }

  /** True for the one backend thread that may deliver an outcome; false if claimed already. */
  final boolean claim() {
    return claimed == 0 && CLAIMED.compareAndSet(this, 0, 1);
  }

  /** Claimed by the backend, or completed by the caller: nothing more will come of it. */
  final boolean finished() {
    return claimed != 0 || isDone();
  }

  /** Completed by the caller rather than by the backend. */
  final boolean abandonedByCaller() {
    return claimed == 0 && isDone();
  }

  /** Completes with {@code outcome} (a value, or a Throwable) here or on the executor. Claimed. */
  final void deliver(Object outcome) {
    backend.countCompletion();
    java.util.concurrent.Executor executor = backend.completionExecutor();
    stage(outcome); // before the hand-off: the executor may run this at once
    if (executor != null) {
      try {
        executor.execute(this);
        return;
      } catch (RejectedExecutionException e) {
        // a shut-down executor must not strand the future: complete it on the completer
      }
    }
    backend.completer().execute(this);
  }

  @Override
  final boolean onOwnCompletionThread() {
    return backend.inCompletionThread();
  }

  /** The caller completed the future: take the request out of the kernel soon. */
  abstract void abandoned();

  @Override
  final void completedByCaller() {
    if (claimed == 0) {
      abandoned();
    }
  }
}
