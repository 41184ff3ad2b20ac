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
 * <p>A signal from another thread while the completion thread sleeps (every request it took is then
 * in the kernel) is a direct FUTEX_WAKE system call instead. Queuing it would cost the same one
 * system call (the doorbell's wake) and add the completion thread's wake-up, tens of microseconds
 * on a VM, before the wake reached the kernel: on a cross-process handover that wake-up was a third
 * of the latency. While the completion thread is awake, signals still queue and join its next batch
 * for free.
 *
 * <p>A signal the ring accepted is always delivered: if the ring closes with it still queued, the
 * closing thread makes the wake with a direct system call. When the ring is already closed, {@code
 * signal()} makes the direct system call itself.
 */
public final class WakeSignal {
  private final FutexWord word;
  private final int count;
  private final int bitset;
  private final CompletionLoop loop; // null on the syscalls backend: every signal is a direct wake
  private final SyscallBackend syscalls; // the syscalls backend, or null on io_uring
  private final QueuedWake queuedWake; // this signal's node in the loop's request stack

  /** {@code loop} null: no ring, every signal is a direct system call of {@code syscalls}. */
  WakeSignal(CompletionLoop loop, SyscallBackend syscalls, FutexWord word, int count, int bitset) {
    this.loop = loop;
    this.syscalls = syscalls;
    this.word = word;
    this.count = count;
    this.bitset = bitset;
    this.queuedWake = loop == null ? null : new QueuedWake(word, count, bitset);
  }

  /**
   * The word this signal wakes waiters of.
   *
   * @return the word
   */
  public FutexWord word() {
    return word;
  }

  /**
   * How many waiters each signal wakes at most.
   *
   * @return the most waiters one signal wakes
   */
  public int count() {
    return count;
  }

  /**
   * Wakes up to {@code count} waiters on the word: through the ring's next submission, or by a
   * direct system call when the completion thread sleeps. Never blocks and never fails; on the
   * ring's completion thread the wake joins the current batch.
   */
  public void signal() {
    if (loop == null) {
      syscalls.wakeInOrder(word, count, bitset);
    } else if (Thread.currentThread() == loop.thread()) {
      // Written straight into the batch, not taken as the queued request: that may be on the
      // stack right now, and taking it here would let another signal push it a second time.
      if (loop.isClosing()) {
        SyscallBackend.wakeDirectly(word, count, bitset);
      } else {
        loop.submission().reserve(1, 0).fireAndForgetWake(word, count, bitset);
      }
    } else if (loop.isAsleep()) {
      // Correct whatever the loop does meanwhile: every wait it took is in the kernel (it submits
      // before it reads as asleep), so this wake reaches them even if it changes no word; a signal
      // still queued from before is delivered by the loop or, on close, by its refusal.
      SyscallBackend.wakeDirectly(word, count, bitset);
    } else if (queuedWake.tryQueue()) { // else one is queued and not yet written: it serves this
      loop.submit(queuedWake);
    }
  }

  @Override
  public String toString() {
    return "WakeSignal[" + word + ", count " + count + "]";
  }

  /**
   * The fire-and-forget FUTEX_WAKE as the loop's request stack carries it: the wake's fields, a
   * link and a flag; no future, no result. The flag keeps it on the stack at most once (the
   * contract of {@link LoopRequest}): only the signal that sets it pushes it, and the loop clears
   * it when it takes it.
   */
  private static final class QueuedWake extends LinkedRequest {
    private static final VarHandle QUEUED;

    static {
      try {
        QUEUED = MethodHandles.lookup().findVarHandle(QueuedWake.class, "queued", int.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    private final FutexWord word;
    private final int count;
    private final int bitset;
    private volatile int queued; // 1 from the push that set it until the loop takes or refuses it

    QueuedWake(FutexWord word, int count, int bitset) {
      this.word = word;
      this.count = count;
      this.bitset = bitset;
    }

    /** True for the one signal that must push it; false while it is queued and not yet written. */
    boolean tryQueue() {
      return QUEUED.compareAndSet(this, 0, 1);
    }

    @Override
    public void takenBy(CompletionLoop loop) {
      // Cleared before the SQE is written: a signal from now on must queue again, as this SQE
      // may reach the kernel before that signaller's change to the word.
      queued = 0;
      loop.submission().reserve(1, 0).fireAndForgetWake(word, count, bitset);
    }

    /** The ring closed first: a signal the ring accepted is delivered, ring or no ring. */
    @Override
    public void refused(Throwable cause) {
      queued = 0;
      SyscallBackend.wakeDirectly(word, count, bitset);
    }
  }
}
