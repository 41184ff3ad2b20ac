package dev.ringlock.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A reusable, fire-and-forget FUTEX_WAKE of one word: what a lock's release needs.
 *
 * <p>{@link #signal()} asks the ring to wake up to {@code count} waiters on the word. It allocates
 * nothing and has no result: the SQE carries IOSQE_CQE_SKIP_SUCCESS, so a successful wake posts no
 * completion at all. Signals that arrive while an earlier one is still queued (not yet written to
 * the submission queue) coalesce into it. That is exactly right for the futex protocol "change the
 * word, then wake": the queued wake reaches the kernel after every change made before the coalesced
 * signal, so it serves them all.
 *
 * <p>A signal from another thread while the completion thread sleeps is a direct FUTEX_WAKE system
 * call instead. Queuing it would cost the same one system call (the doorbell's wake) and add the
 * completion thread's wake-up, tens of microseconds on a VM, before the wake reached the kernel: on
 * a cross-process handover that wake-up was a third of the latency. While the completion thread is
 * awake, signals still queue and join its next batch for free.
 *
 * <p>A signal the ring accepted is always delivered: if the ring closes with it still queued, the
 * closing thread makes the wake with a direct system call. When the ring is already closed, {@code
 * signal()} makes the direct system call itself.
 */
public final class WakeSignal {
  private static final VarHandle QUEUED;

  static {
    try {
      QUEUED = MethodHandles.lookup().findVarHandle(WakeSignal.class, "queued", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final FutexWord word;
  private final int count;
  private final int bitset;
  private final Request request; // null on the syscalls backend: every signal is a direct wake
  private final SyscallBackend syscalls; // the syscalls backend, or null on io_uring
  private volatile int queued; // 1 while the request sits in the loop's request stack

  /** {@code loop} null: no ring, every signal is a direct system call of {@code syscalls}. */
  WakeSignal(CompletionLoop loop, SyscallBackend syscalls, FutexWord word, int count, int bitset) {
    this.syscalls = syscalls;
    this.word = word;
    this.count = count;
    this.bitset = bitset;
    this.request = loop == null ? null : new Request(loop, this);
  }

  public FutexWord word() {
    return word;
  }

  public int count() {
    return count;
  }

  /**
   * Wakes up to {@code count} waiters on the word: through the ring's next submission, or by a
   * direct system call when the completion thread sleeps. Never blocks and never fails; on the
   * ring's completion thread the wake joins the current batch.
   */
  public void signal() {
    if (request == null) {
      syscalls.wakeInOrder(word, count, bitset);
      return;
    }
    CompletionLoop loop = request.loop;
    if (Thread.currentThread() == loop.thread()) {
      if (loop.isClosing()) {
        wakeDirectly();
      } else {
        loop.prepareSignal(this);
      }
      return;
    }
    if (loop.isAsleep()) {
      // Correct whatever the loop does meanwhile: a direct wake made after the word's change
      // serves it (the syscall orders it after the change), and a signal still queued from
      // before is delivered by the loop or, on close, by dropped().
      wakeDirectly();
      return;
    }
    // Losing this CAS means a signal is queued and not yet written: it will serve this one too.
    if (QUEUED.compareAndSet(this, 0, 1) && !loop.pushSignal(request)) {
      queued = 0;
      wakeDirectly();
    }
  }

  /** The loop took the request off its stack: later signals must queue it again. */
  void dequeued() {
    queued = 0;
  }

  void prepare(CompletionLoop.Submission submission) {
    submission.fireAndForgetWake(word, count, bitset);
  }

  void wakeDirectly() {
    CompletionLoop.wakeBySyscall(word, count, bitset);
  }

  @Override
  public String toString() {
    return "WakeSignal[" + word + ", count " + count + "]";
  }

  /** The request-stack node: a stack holds RingOps, so the signal travels inside one. */
  static final class Request extends RingOp<Void> {
    final WakeSignal signal;

    Request(CompletionLoop loop, WakeSignal signal) {
      super(loop);
      this.signal = signal;
    }

    @Override
    void prepare(CompletionLoop.Submission submission, long userData) {
      signal.prepare(submission);
    }

    @Override
    void completed(int result, boolean ringClosing) {}

    /** Still queued when the ring closed: an accepted signal is delivered, ring or no ring. */
    @Override
    void dropped() {
      signal.dequeued();
      signal.wakeDirectly();
    }
  }
}
