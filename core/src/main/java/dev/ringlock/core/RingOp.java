package dev.ringlock.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/*
 * Overview
 *
 * One request to the ring, and the future its caller holds: the same object, so a request
 * allocates nothing beyond the future. It is also a LoopRequest (a node of the loop's request
 * stack, pushed to submit it and again to cancel it) and, when futures complete on an
 * executor, the Runnable that completes it.
 *
 * States (state, CAS'd by the loop and by whoever abandons the future):
 *
 *   QUEUED --loop takes it, writes its SQEs--> IN_KERNEL --its CQE--> DONE
 *   QUEUED --abandoned--> ABANDONED_QUEUED --loop takes it--> DONE (never submitted)
 *   IN_KERNEL --abandoned--> CANCEL_REQUESTED (pushed again, as a cancel request)
 *             --loop takes it--> ASYNC_CANCEL sent; its CQE--> DONE
 *   QUEUED, ABANDONED_QUEUED --the loop closed first (refused)--> DONE, failed RingClosed
 *
 * takenBy() is the loop's side of the diagram, switching on the state it finds, and refused()
 * its ending when the ring closes before taking it. A CANCEL_REQUESTED op that is refused needs
 * nothing: the closing loop cancels everything it has in the kernel.
 *
 * "Abandoned" means completed by anyone but the ring: cancel, complete,
 * completeExceptionally, and so orTimeout and completeOnTimeout. Each of those first wins the
 * completion through CompletableFuture, then calls completedByCaller() (BackendFuture), so the
 * kernel-side wait is cancelled rather than left to swallow a wake.
 *
 * The race that matters: a wake reaches the kernel wait after the future was abandoned but
 * before the ASYNC_CANCEL does. The kernel then completes the wait with 0 (woken) and the
 * cancel with -ENOENT (docs/kernel-notes.md, "Cancellation and linked timeouts"). The loop tries to complete the future with WOKEN, loses (it is already
 * complete), and hands the consumed wake to the op's AbandonedWakeHandler. The same path
 * covers a wake that completes just before the user cancels, and an executor that runs the
 * completion after a cancel: whoever loses the completion race with a WOKEN result passes the
 * wake on. So no wake is lost to an abandoned wait, on any path.
 *
 * A request is pushed onto the stack at most twice (submit, then cancel), and the second push
 * happens only after the loop has taken it off the stack and moved it to IN_KERNEL, so next
 * is never written by two parties at once: the loop reads next before its CAS to IN_KERNEL,
 * the canceller writes it only after its CAS from IN_KERNEL.
 */
abstract class RingOp<T> extends BackendFuture<T> implements LoopRequest {
  static final int QUEUED = 0;
  static final int IN_KERNEL = 1;
  static final int ABANDONED_QUEUED = 2;
  static final int CANCEL_REQUESTED = 3;
  static final int DONE = 4;

  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(RingOp.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final CompletionLoop loop;
  private LoopRequest next; // request-stack link; see the overview for who may write it
  private volatile int state; // QUEUED, IN_KERNEL, ABANDONED_QUEUED, CANCEL_REQUESTED, DONE
  long userData; // loop thread only: the user_data of this op's main SQE

  RingOp(CompletionLoop loop) {
    this.loop = loop;
  }

  // ---- what each kind of request does ----

  /** SQEs the request needs in one submission (2 with a linked timeout). */
  int sqeCount() {
    return 1;
  }

  /** Bytes of scratch memory its SQEs point at, which must live until io_uring_enter returns. */
  int scratchBytes() {
    return 0;
  }

  /** Writes its SQEs; {@code userData} goes into the main one. Loop thread. */
  abstract void prepare(Submission submission, long userData);

  /** Its main CQE arrived with {@code result}; deliver a value or a failure. Loop thread. */
  abstract void completed(int result, boolean ringClosing);

  /** The request was abandoned before it reached the kernel, or the ring closed first. */
  void dropped() {}

  // ---- as a request of the loop's ----

  @Override
  public final LoopRequest next() {
    return next;
  }

  @Override
  public final void setNext(LoopRequest next) {
    this.next = next;
  }

  @Override
  public final void takenBy(CompletionLoop loop) {
    switch (state) {
      case QUEUED -> loop.prepare(this);
      case ABANDONED_QUEUED -> {
        setDone();
        dropped();
      }
      case CANCEL_REQUESTED -> loop.cancel(userData);
      default -> {} // DONE: completed before its cancel request was taken
    }
  }

  @Override
  public final void refused(Throwable cause) {
    int current = state;
    if (current == QUEUED || current == ABANDONED_QUEUED) {
      failClosed(cause);
    }
  }

  // ---- state transitions ----

  boolean casRequestState(int expected, int next) {
    return STATE.compareAndSet(this, expected, next);
  }

  void setDone() {
    state = DONE;
  }

  @Override
  final boolean onOwnCompletionThread() {
    return loop.inLoopThread();
  }

  @Override
  final void completedByCaller() {
    if (casRequestState(QUEUED, ABANDONED_QUEUED)) {
      return;
    }
    if (casRequestState(IN_KERNEL, CANCEL_REQUESTED)) {
      loop.submit(this);
    }
  }

  // ---- completion by the ring ----

  /** Completes with {@code outcome} (a value, or a Throwable), here or on the executor. */
  final void deliver(Object outcome) {
    stage(outcome); // before the hand-off: the executor may run this at once
    if (!loop.deliverOnExecutor(this)) {
      loop.userCode.enter(); // the continuations run here: the blocked-thread checker times them
      try {
        run();
      } finally {
        loop.userCode.leave();
      }
    }
  }

  /** Fails the request because the ring is closed; it never reached the kernel. */
  final void failClosed(Throwable cause) {
    setDone();
    dropped();
    boolean here = loop.inLoopThread(); // closing: the continuations run on the loop thread
    if (here) {
      loop.userCode.enter();
    }
    try {
      completeByBackend(loop.closedException(cause));
    } finally {
      if (here) {
        loop.userCode.leave();
      }
    }
  }
}
