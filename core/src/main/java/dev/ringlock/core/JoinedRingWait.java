package dev.ringlock.core;

import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.FutexFlags;
import dev.ringlock.core.ffi.Syscalls;
import dev.ringlock.core.thread.ThreadWaiter;
import dev.ringlock.core.uring.Prep;
import dev.ringlock.core.uring.UringLayouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedQueue;

/*
 * Overview
 *
 * A ring wait of the syscalls backend run by the platform thread blocked in join() or get() on it,
 * instead of by a futex_waitv thread: the thread a FUTEX_WAKE ends is then the thread that goes on,
 * one wake-up per hop instead of three (the futex_waitv thread's, the completer's, the joined
 * thread's). The ring's contract is kept whole: a wake of this process made after wait() returned
 * reaches the wait, counts it, and in order.
 *
 * When: join() or get() (not get(timeout)) of a pending single-word wait with ANY_BITSET, on a
 * platform thread that is none of a backend's own, on a ring without a completion executor, with
 * ThreadWaiter.current() available (not a virtual thread, which would pin its carrier; futex_waitv
 * allowed; -Dringlock.joinTakeover not false), and only while:
 *   - the wait's futex_waitv thread has not armed it yet (SyscallWait.takeOver: QUEUED -> TAKEN,
 *     raced with the thread's QUEUED -> ARMED). The usual case: join() right after wait(), while
 *     the thread poked by wait() is still waking up. Later, the thread runs it as before. The
 *     thread drops a taken wait unarmed, so one wait is never queued in the kernel twice.
 *   - it is the only wait of its backend on its word (SyscallBackend.registerJoiner). A wait placed
 *     on the word afterwards first takes this one back (handBackAndAwait, from placed()), so that
 *     all of one word's waits sit in one futex_waitv array again, oldest first: the order of the
 *     ring's contract. Registration and placement each write their map, then read the other's, so
 *     at least one of them sees the other.
 *
 * Sleeping: futex_waitv(2) on [control, word, sentinel]: a private control word of this thread's
 * first, then the word with the wait's expected value, then a private sentinel that nobody wakes,
 * as a futex_waitv thread's array is laid out (WaitvThread): a return of 1 means the word's wake was
 * consumed here, even if a poke came too (futex_waitv reports the last entry woken), and the
 * sentinel queued proves the word queued (settled(): a wake of this process waits for that, as it
 * waits for the futex_waitv threads, so it is ordered after the wait). Anything that must make it
 * look again (a handover, the wait's completion by its caller, a hand-back request, the ring's
 * close) changes its state, then pokes: control += 1, then a private FUTEX_WAKE of it. The thread
 * reads the control word before it looks at its state and sleeps only while it still holds that
 * value, so no poke is missed. No call lasts longer than a tick (NativeWaitTick), after which it
 * looks at the deadline, an interrupt (get() only) and the ring's close.
 *
 * Wakes of this process (handovers). Registered with its backend before the take-over, the joiner
 * is found by every wake of this process of its word (SyscallBackend.wakeSettled), exactly as a
 * futex_waitv thread holding the word: when the kernel woke fewer than asked, the rest of the count
 * is handed to the joiner, which completes its wait WOKEN if it is still pending and was placed
 * before the wake began (its sequence), and says how many it used; the wake adds that to its count.
 * While it was queued in the kernel the wake would have taken it (a futex_waitv entry matches every
 * bitset), so a handover reaches it only when it was not: out of the kernel (taking over, between
 * two ticks), or already woken by that very wake, whose outcome it takes first. A joiner is never
 * counted as provably queued: handing over costs the waker a wait for this thread, which is awake
 * anyway in both cases. So a pure wake never misses the wait and no wait is counted twice.
 *
 * Handing back (an interrupt of get(), another wait on the word): the thread, out of the kernel,
 * answers the handovers it holds, queues its wait again on a futex_waitv thread (a new placement
 * number, the same sequence), and only then stops answering for it: a handover that reaches it
 * later is passed to that thread, behind the wait (forward). wakeSettled hands over to joiners
 * before threads for the same reason: a thread's handover made after the joiner answered comes
 * after the wait in the thread's queue.
 *
 * Completion: on this thread (non-async dependents run here, as with a lock request's take-over);
 * an exception thrown by a dependent is CompletableFuture's to keep in the dependent's future. The
 * joiner unregisters first, so that a dependent that waits on the same word is placed on a thread
 * at once. A wake consumed after the caller completed the wait (cancel, complete, orTimeout) goes to
 * the wait's AbandonedWakeHandler, as a ring wait's does.
 */
final class JoinedRingWait {
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  private static final long CONTROL = 0; // int, this thread's private word: poke() bumps it
  private static final long SENTINEL = 4; // int, always 0, never woken: queued last (settled())
  private static final long WAITV = 8; // struct futex_waitv[3]: [control, word, sentinel]
  private static final long ENTRY = UringLayouts.FUTEX_WAITV.byteSize();
  private static final long DEADLINE = WAITV + 3 * ENTRY; // struct __kernel_timespec
  private static final long SIZE = DEADLINE + UringLayouts.KERNEL_TIMESPEC.byteSize();
  private static final int CONTROL_FLAGS = FutexFlags.SIZE_U32 | FutexFlags.PRIVATE;

  // One per platform thread. Freed with the last joiner that holds it: a poker holds its joiner,
  // so the memory outlives every poke (Arena.ofAuto). A late poke of an earlier joiner of the same
  // thread only makes the current one look again.
  private static final ThreadLocal<MemorySegment> MEMORY =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(SIZE, 8));

  private final SyscallWait op;
  private final SyscallBackend backend;
  private final MemorySegment memory;
  private final MemorySegment waitv;
  private final MemorySegment deadlineSpec;
  private final ConcurrentLinkedQueue<WaitvThread.Handover> handovers =
      new ConcurrentLinkedQueue<>();
  private volatile boolean handBackAsked;
  // no longer answers for the wait: it finished, or went back to `handedBackTo` (then forward)
  private volatile boolean exited;
  private volatile WaitvThread handedBackTo;
  private volatile long armGeneration; // bumped before each futex_waitv, before `sleeping`
  private volatile boolean sleeping; // in (or about to enter) futex_waitv

  private JoinedRingWait(SyscallWait op, MemorySegment memory) {
    this.op = op;
    this.backend = op.backend;
    this.memory = memory;
    this.waitv = memory.asSlice(WAITV, 3 * ENTRY);
    this.deadlineSpec = memory.asSlice(DEADLINE);
  }

  /**
   * Runs {@code op} on the calling thread until it is done, if it can be taken over (see the
   * overview); returns at once otherwise. Called by join() and get() of a pending wait.
   *
   * @throws InterruptedException {@code interruptible} (get()) and the thread was interrupted: the
   *     wait went back to the ring, still pending
   */
  static void awaitHere(SyscallWait op, boolean interruptible) throws InterruptedException {
    if (op.entries() != 1
        || op.bitset != FutexRing.ANY_BITSET
        || op.backend.completionExecutor() != null
        || op.backend.isClosing()
        || SyscallBackend.onAnyBackendThread()
        || !ThreadWaiter.mayWaitHere()) {
      return;
    }
    JoinedRingWait joiner = new JoinedRingWait(op, MEMORY.get());
    if (!op.backend.registerJoiner(joiner)) {
      return;
    }
    if (!op.takeOver(joiner)) {
      op.backend.unregisterJoiner(joiner);
      joiner.exit();
      return;
    }
    joiner.run(interruptible);
  }

  SyscallWait ringWait() {
    return op;
  }

  /**
   * In the kernel with its wait queued, or done with it: a wake of this process orders itself after
   * every wait made before it (SyscallBackend.awaitSettled), and a wait run here is one. Proved as
   * a futex_waitv thread proves it: its sentinel, the last entry, is queued (a FUTEX_REQUEUE of it
   * onto itself counts its waiters), read between two reads of the generation.
   */
  boolean settled() {
    if (exited) {
      return true;
    }
    long generation = armGeneration;
    return sleeping
        && Syscalls.futexCountWaiters(memory.address() + SENTINEL, true) >= 1
        && sleeping
        && armGeneration == generation;
  }

  /** Makes the thread look at its state again; any thread, after changing that state. */
  void poke() {
    INT.getAndAdd(memory, CONTROL, 1); // full fence: the change is visible first
    Syscalls.futexWakeBitset(memory.address() + CONTROL, 1, FutexRing.ANY_BITSET, true);
  }

  private void run(boolean interruptible) throws InterruptedException {
    FutexWord word = op.word(0);
    int expected = op.expected(0);
    boolean interrupted = false;
    try {
      for (; ; ) {
        int controlValue = (int) INT.getAcquire(memory, CONTROL); // before looking: see overview
        answerHandovers();
        if (op.finished()) {
          return; // completed by a handover here, or by its caller
        }
        if (handBackAsked) {
          handBack();
          return;
        }
        if (backend.isClosing()) {
          finish(backend.closedException());
          return;
        }
        long now = System.nanoTime();
        if (op.deadline - now <= 0) {
          finish(op.timeout());
          return;
        }
        if (interruptible && Thread.interrupted()) {
          interrupted = true;
          handBack();
          return;
        }
        Prep.waitvEntry(memory, WAITV, memory.address() + CONTROL, controlValue, CONTROL_FLAGS);
        Prep.waitvEntry(memory, WAITV + ENTRY, word.address(), expected, word.futex2Flags());
        memory.set(ValueLayout.JAVA_INT, SENTINEL, 0);
        Prep.waitvEntry(memory, WAITV + 2 * ENTRY, memory.address() + SENTINEL, 0, CONTROL_FLAGS);
        long until = Math.min(op.deadline - now, NativeWaitTick.NANOS) + now;
        memory.set(
            ValueLayout.JAVA_LONG, DEADLINE + UringLayouts.TIMESPEC_SEC, until / 1_000_000_000L);
        memory.set(
            ValueLayout.JAVA_LONG, DEADLINE + UringLayouts.TIMESPEC_NSEC, until % 1_000_000_000L);
        if (TestPausePoints.HOLD_AFTER_KERNEL_RETURN) {
          TestPausePoints.beforeJoinerSleeps(); // taken over, not in the kernel
        }
        armGeneration++; // single writer; before `sleeping`: see settled()
        sleeping = true;
        int result = Syscalls.futexWaitv(waitv, 3, deadlineSpec);
        sleeping = false;
        if (result == 1) {
          // If its caller completed it first, run() passes the wake on (outcomeUnclaimed)
          finish(WaitOutcome.woken(0));
          return;
        }
        if (result == -Errno.EAGAIN && holdsOther(word, expected)) {
          finish(WaitOutcome.valueChanged());
          return;
        }
        if (result < 0
            && result != -Errno.EAGAIN
            && result != -Errno.ETIMEDOUT
            && result != -Errno.EINTR) {
          finish(new RingException("futex_waitv failed", -result));
          return;
        } // the control word, a tick, a signal: nothing consumed; look again
      }
    } finally {
      exit();
      if (interrupted) {
        throw new InterruptedException();
      }
    }
  }

  private static boolean holdsOther(FutexWord word, int expected) {
    try {
      return word.getAcquire() != expected;
    } catch (InternalError | IllegalStateException e) { // unmapped or shrunk: let the waiter see
      return true;
    }
  }

  /**
   * Completes the wait here with {@code outcome} (a WaitOutcome or a Throwable), if no one did:
   * unregistered first, so that the dependents it runs here find the word free of joiners.
   */
  private void finish(Object outcome) {
    if (op.claim()) { // only this thread claims a wait it took over
      exit();
      op.entriesDropped(1);
      backend.countCompletion();
      op.stage(outcome);
      op.run(); // completes it here; if its caller completed it first, a wake is passed on
    }
  }

  /** No longer answers for the wait: unregisters, then answers what is queued (see forward). */
  private void exit() {
    if (!exited) {
      exited = true;
      backend.unregisterJoiner(this);
    }
    answerHandovers();
  }

  /** Queues the wait on a futex_waitv thread again, then stops answering for it (overview). */
  private void handBack() {
    answerHandovers(); // while it still holds the wait: a handover may complete it here
    if (op.finished()) {
      return;
    }
    op.queueAgain();
    try {
      backend.placeAgain(op);
    } catch (WaitCapacityException e) {
      finish(e); // every thread is full: the wait cannot go back, and must not be lost unseen
      return;
    }
    handedBackTo = op.home(); // set before exited: a late handover is forwarded there
    exit();
  }

  /**
   * Asks the thread to hand its wait back to the ring, and waits, bounded, until it has (or the
   * wait finished); past {@code patienceNanos} the caller goes on (placed() then places its wait
   * beside this one: in order, unless this thread is stalled for that long).
   */
  void handBackAndAwait(long patienceNanos) {
    handBackAsked = true;
    poke();
    long deadline = System.nanoTime() + patienceNanos;
    for (int spins = 0; !exited && System.nanoTime() - deadline < 0; spins++) {
      SyscallBackend.pause(spins);
    }
  }

  /**
   * A wake of this process that the kernel did not use wholly: completes the wait as woken if it is
   * eligible (see the overview) and returns how many it used (0 or 1); waits, bounded, for this
   * thread to answer. Called by SyscallBackend.wakeSettled, and by a futex_waitv thread that
   * dropped the wait unarmed and was handed the wake (WaitvThread.complete).
   */
  int handOver(long address, FutexScope scope, int count, long wakeSequence, long patienceNanos) {
    if (scope != op.word(0).scope()) {
      return 0; // another futex at the same address (mapped twice): not this wait's
    }
    WaitvThread.Handover handover = new WaitvThread.Handover(address, scope, count, wakeSequence);
    handovers.add(handover);
    poke();
    if (exited) {
      answerHandovers(); // it stopped answering before it saw this one
    }
    long deadline = System.nanoTime() + patienceNanos;
    for (int spins = 0; ; spins++) {
      int used = handover.used;
      if (used >= 0) {
        return used;
      }
      if (System.nanoTime() - deadline > 0) {
        return 0; // stalled: it completes the wait later, uncounted (spurious, not lost)
      }
      SyscallBackend.pause(spins);
    }
  }

  /** Answers every queued handover: from this thread while it holds the wait, or once it left. */
  private void answerHandovers() {
    WaitvThread.Handover handover;
    while ((handover = handovers.poll()) != null) {
      if (!exited) {
        boolean eligible = op.sequence() <= handover.wakeSequence && !op.finished();
        handover.used = eligible ? 1 : 0; // set before finish runs dependents, which may block
        if (eligible) {
          finish(WaitOutcome.woken(0));
        }
      } else {
        handover.used = forward(handover);
      }
    }
  }

  /** A handover that came after the wait went back to a futex_waitv thread goes there. */
  private int forward(WaitvThread.Handover handover) {
    WaitvThread thread = handedBackTo;
    if (thread == null || thread.thread() == Thread.currentThread()) {
      return 0; // it finished here; or asked by that very thread, which looked at its own waits
    }
    WaitvThread.Handover again =
        new WaitvThread.Handover(
            handover.address, handover.scope, handover.count, handover.wakeSequence);
    thread.add(again);
    return thread.awaitTaken(again, SyscallBackend.HANDOVER_PATIENCE_NANOS);
  }
}
