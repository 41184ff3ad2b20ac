package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.SemaphoreDescriptor.MAX_PERMITS;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.PERMITS_MASK;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.WAITERS;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.WaitOutcome;
import dev.ringlock.core.WakeSignal;
import dev.ringlock.locks.Semaphore;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/*
 * Overview
 *
 * One process's view of one semaphore. The shared state is the object of SemaphoreDescriptor: the
 * word (permits in bits 0..30 | WAITERS in bit 31) and the count of processes sleeping in the
 * kernel. The local state is built like MutexCore's: a FIFO RequestQueue of this process's pending
 * requests (SemaphoreRequests, each the caller's future) and at most one kernel wait, the Sleeper,
 * standing for the whole queue; QueuedPrimitive holds both, and the plumbing around them.
 *
 * Acquiring. A request takes its permits with one CAS (word - n; WAITERS stays as it was) if they
 * are available and nothing of this process is queued; otherwise it is queued and the queue is
 * pumped. The pump, under the monitor:
 *   1. fails the requests whose deadline has passed (TimeoutException);
 *   2. takes permits for the head while the word covers it (CAS word - head's n), unlinking each
 *      such request as it takes its permits; it stops at the first request that does not fit, so
 *      a request for 5 is never overtaken by later requests for 1 of this process;
 *   3. if requests remain and no sleeper is armed (or one just arrived with a deadline earlier
 *      than the sleeper's timeout), sets WAITERS with a CAS on the value v it decided on, and arms
 *      FUTEX_WAIT(word, v | WAITERS) with the earliest deadline in the queue as linked timeout.
 * The granted requests are completed after the monitor is released, through Grants: a
 * continuation that releases permits pumps again, and the trampoline keeps that from nesting.
 *
 * An armed sleeper stands for the queue until it completes, and it always completes after the
 * word changes: it was armed with WAITERS in its expected value, so either the word still has
 * WAITERS and the next release will wake it, or a release has cleared the bit and owes a wake,
 * issued after the clearing; then the wait is woken if it is in the kernel, or fails with EAGAIN
 * when it gets there (the value differs), which the ring reports as value-changed. So a pump that
 * finds it armed need not arm another. Its completion (woken, value changed or timed out) pumps;
 * the pump re-arms if the head still cannot proceed.
 *
 * Releasing: one CAS adds n to the permits and CLEARS WAITERS in the same step; if the old word
 * had WAITERS, one FUTEX_WAKE of every sleeper (FutexRing.WAKE_ALL) goes out as a WakeSignal. A
 * sleeper's CAS that set the bit before the release is seen by it; one after it fails (the value
 * changed) or sees the new value, so no wake is lost. Each process has at most one sleeper per
 * semaphore, so "every sleeper" is at most one per waiting process: each woken process grants as
 * many of its requests as the permits now cover, and sets WAITERS again and sleeps if its head
 * still cannot proceed. Why not wake only n sleepers: a count-limited wake can reach a process
 * whose head needs more than is available; it goes back to sleep while a process that could
 * proceed was never woken, a lost wakeup. Passing such a wake on instead livelocks: two
 * processes whose heads cannot proceed can hand it back and forth forever. Waking every process
 * costs one SQE, and a woken process that cannot proceed only re-arms. Then the releaser pumps its
 * own queue: local waiters proceed without a kernel round trip.
 *
 * The wake is a WakeSignal: fire-and-forget, batched with everything else the ring submits in
 * that iteration, and coalesced while queued, which the protocol allows (a queued wake reaches the
 * kernel after every release that asked for it).
 *
 * drainPermits sets the permits to 0 and keeps WAITERS: nothing was added, so no sleeper is owed
 * a wake, and the bit must stay for the next release to wake them.
 *
 * Cancel safety. Permits leave the word only in step 2, for a request unlinked in the same
 * critical section, or in a direct CAS whose caller gets a completed future. A request completed
 * by its caller (cancel, complete, orTimeout) that is still queued is unlinked and never takes
 * permits; if it was withdrawn as its head position let the next request fit, the queue is pumped
 * again. A grant that loses the race with the caller's completion (Grants sees grant() fail)
 * releases the permits it carried. An expired request is unlinked before it takes anything. So
 * every permit is in the word or held by exactly one successfully completed future.
 *
 * A sleeper that is no longer needed (the queue emptied) is cancelled; a wake it consumed in that
 * race is passed on by the ring (AbandonedWakeHandler.PASS_ON). With wake-all nobody needed it
 * (every sleeper of that moment was woken), so it is only a spurious wake-up elsewhere.
 *
 * Fairness: none across processes. Any process may take released permits, so a process whose
 * head needs many can starve while others keep taking few (as in java.util.concurrent.Semaphore's
 * non-fair mode). The descriptor reserves a word should bounded barging, as the mutex has it, be
 * added.
 *
 * Memory ordering: the word is changed only with CAS (volatile, full fence), so actions before a
 * release happen-before actions after the acquire that takes its permits, in any process. The
 * sleepers count is a plain atomic add: diagnostics only.
 *
 * Locking: `this` guards the queue and the sleeper. Futures are completed, and sleepers
 * cancelled, only after the monitor is released, because completion runs user continuations.
 */
public final class SemaphoreCore extends QueuedPrimitive<SemaphoreRequest> implements Semaphore {
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  private static final CompletableFuture<Void> ACQUIRED = new Acquired();

  private final String name;
  private final MemorySegment memory;
  private final long wordAt;
  private final FutexWord word;
  private final WakeSignal wakeAll;

  /**
   * @param memory the region
   * @param offset where the semaphore object starts (SemaphoreDescriptor.SIZE bytes, 64-byte
   *     aligned), initialised by {@link #initialize}
   */
  public SemaphoreCore(
      String name, MemorySegment memory, long offset, FutexScope scope, FutexRing ring) {
    FutexWord word = FutexWord.of(memory, offset + SemaphoreDescriptor.WORD_OFFSET, scope);
    super(new Sleeper(ring, word, memory, offset + SemaphoreDescriptor.SLEEPERS_OFFSET));
    this.name = name;
    this.memory = memory;
    this.wordAt = offset + SemaphoreDescriptor.WORD_OFFSET;
    this.word = word;
    this.wakeAll = ring.wakeSignal(word, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
  }

  /**
   * Writes a new semaphore object's initial state: {@code initialPermits} and no waiters. Runs in
   * the region's creating initializer only, before any other process can see the object (which
   * arrives zeroed, so the reserved fields are zero).
   *
   * @throws IllegalArgumentException if {@code initialPermits} is negative
   */
  public static void initialize(MemorySegment object, int initialPermits) {
    object.set(ValueLayout.JAVA_INT, SemaphoreDescriptor.WORD_OFFSET, checkInitial(initialPermits));
  }

  /** Returns {@code initialPermits} if it is a valid initial count (0 is). */
  public static int checkInitial(int initialPermits) {
    if (initialPermits < 0) {
      throw new IllegalArgumentException(
          "a semaphore's initial permits must be 0 or more, not " + initialPermits);
    }
    return initialPermits;
  }

  // ---- shared memory, access mode in the name ----

  private int lvWord() {
    return (int) INT.getVolatile(memory, wordAt);
  }

  private boolean casWord(int expected, int next) {
    return INT.compareAndSet(memory, wordAt, expected, next);
  }

  // ---- Semaphore ----

  @Override
  public String name() {
    return name;
  }

  @Override
  public CompletableFuture<Void> acquire(int permits) {
    return acquire(checkPermits(permits), SemaphoreRequest.NO_DEADLINE);
  }

  @Override
  public CompletableFuture<Void> acquire(int permits, Duration timeout) {
    checkPermits(permits);
    return acquire(permits, Deadlines.after(timeout));
  }

  @Override
  public boolean tryAcquire(int permits) {
    checkPermits(permits);
    checkOpen();
    return queue.length() == 0 && tryTake(permits);
  }

  @Override
  public void release(int permits) {
    checkPermits(permits);
    checkOpen();
    add(permits, true);
  }

  @Override
  public int availablePermits() {
    checkOpen();
    return lvWord() & PERMITS_MASK;
  }

  @Override
  public int drainPermits() {
    checkOpen();
    for (int v = lvWord(); ; v = lvWord()) {
      int available = v & PERMITS_MASK;
      // keeps WAITERS: nothing was added, and the next release must still wake the sleepers
      if (available == 0 || casWord(v, v & WAITERS)) {
        return available;
      }
    }
  }

  @Override
  public String toString() {
    if (closed) {
      return "Semaphore['" + name + "', closed]";
    }
    int v = lvWord();
    String local;
    synchronized (this) {
      SemaphoreRequest head = queue.head();
      local =
          ", "
              + queue.length()
              + " queued here"
              + (head != null ? " (the oldest wants " + head.permits + ")" : "")
              + (sleeper.isArmed() ? ", a kernel wait armed" : "");
    }
    return "Semaphore['"
        + name
        + "', "
        + (v & PERMITS_MASK)
        + " permits available"
        + ((v & WAITERS) != 0 ? " with waiters" : "")
        + local
        + ", sleeping processes "
        + sleeper.processesSleeping()
        + "]";
  }

  // ---- acquiring ----

  private CompletableFuture<Void> acquire(int permits, long deadline) {
    checkOpen();
    if (queue.length() == 0 && tryTake(permits)) {
      return ACQUIRED;
    }
    SemaphoreRequest request = new SemaphoreRequest(this, permits, deadline);
    if (link(request)) {
      pump(deadline);
    }
    return request;
  }

  /** Takes {@code permits} from the word if it has that many; keeps WAITERS as it is. */
  private boolean tryTake(int permits) {
    for (int v = lvWord(); (v & PERMITS_MASK) >= permits; v = lvWord()) {
      if (casWord(v, v - permits)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Moves the queue forward: expires overdue requests, grants the oldest ones while the permits
   * cover them, and keeps a sleeper armed while requests remain (see the overview).
   *
   * @param arrivingDeadline the deadline of a request just queued (NO_DEADLINE otherwise): only an
   *     arrival can make the queue's earliest deadline earlier than the sleeper's timeout
   */
  private void pump(long arrivingDeadline) {
    List<SemaphoreRequest> expired;
    List<SemaphoreRequest> granted = null;
    CompletableFuture<WaitOutcome> cancelled = null;
    CompletableFuture<WaitOutcome> armed = null;
    synchronized (this) {
      if (closed) {
        return;
      }
      expired = queue.unlinkOverdue();
      // Every `continue` follows a change of the word, ours (a grant) or another's (a failed
      // CAS): deciding afresh on the new value is always safe.
      for (int v = lvWord(); ; v = lvWord()) {
        SemaphoreRequest head = queue.head();
        if (head == null) {
          cancelled = sleeper.detach();
          break;
        }
        if ((v & PERMITS_MASK) >= head.permits) {
          if (casWord(v, v - head.permits)) {
            if (granted == null) {
              granted = new ArrayList<>();
            }
            granted.add(queue.unlink(head));
          }
          continue;
        }
        if (sleeper.isArmed() && arrivingDeadline >= sleeper.deadline()) {
          break; // it completes after the next release (see the overview), and pumps then
        }
        int expected = v | WAITERS;
        if (v != expected && !casWord(v, expected)) {
          continue;
        }
        cancelled = sleeper.detach(); // armed with a later timeout than the new arrival's
        armed = sleeper.arm(expected, queue.earliestDeadline());
        break;
      }
    }
    finish(expired, cancelled);
    if (armed != null) {
      watch(armed);
    }
    if (granted != null) {
      for (SemaphoreRequest request : granted) {
        Grants.grant(request, null);
      }
    }
  }

  /** Woken, the word changed before it slept, or the earliest deadline came: look again. */
  @Override
  void sleeperCompleted(boolean woken) {
    pump(SemaphoreRequest.NO_DEADLINE);
  }

  /** A request completed by its caller (cancel, orTimeout...): take it out of the queue. */
  void withdraw(SemaphoreRequest request) {
    CompletableFuture<WaitOutcome> cancelled = null;
    boolean headLeft = false;
    synchronized (this) {
      if (!request.queued) {
        // Already unlinked for a grant: that grant fails and gives the permits back (Grants).
        // Or unlinked as expired, or never queued (the region closed first).
        return;
      }
      headLeft = queue.head() == request;
      queue.unlink(request);
      if (queue.isEmpty()) {
        cancelled = sleeper.detach();
        headLeft = false;
      }
    }
    finish(null, cancelled);
    if (headLeft) {
      pump(SemaphoreRequest.NO_DEADLINE); // the next request may fit where this one did not
    }
  }

  // ---- releasing ----

  /**
   * Gives back the permits of a grant that lost to its request's withdrawal. Never throws: it runs
   * inside another caller's grant loop. If the region is closed the permits go with the mapping.
   */
  void giveBack(int permits) {
    if (!closed) {
      try {
        add(permits, false);
      } catch (IllegalStateException e) {
        // closed meanwhile (RegionClosedException, or the memory's arena): nothing to give back to
      }
    }
  }

  /**
   * Adds permits, clearing WAITERS in the same CAS, wakes every sleeper if the bit was set, and
   * pumps this process's queue.
   *
   * @param refuseOverflow throw IllegalArgumentException, changing nothing, if the count would
   *     exceed MAX_PERMITS; else add what fits (only a grant's give-back does that, and only when
   *     other releases filled the word meanwhile)
   */
  private void add(int permits, boolean refuseOverflow) {
    int old;
    for (old = lvWord(); ; old = lvWord()) {
      int available = old & PERMITS_MASK;
      int room = MAX_PERMITS - available;
      if (permits > room && refuseOverflow) {
        throw new IllegalArgumentException(
            "releasing "
                + permits
                + " permits to semaphore '"
                + name
                + "', which has "
                + available
                + " available, would exceed the maximum of "
                + MAX_PERMITS
                + "; release fewer");
      }
      if (casWord(old, available + Math.min(permits, room))) {
        break;
      }
    }
    if ((old & WAITERS) != 0) {
      wakeAll.signal();
    }
    // Requests queued here: some may fit now. Dekker-style with acquire: it writes the queue's
    // length then reads the word (in the pump), we wrote the word then read the length, both with
    // full fences, so one of us sees the other.
    if (queue.length() > 0) {
      pump(SemaphoreRequest.NO_DEADLINE);
    }
  }

  // ---- closing ----

  /**
   * Fails every queued request and withdraws the sleeper. Releases nothing: a semaphore has no
   * owner. Wakes by direct system call: the mapping goes away next.
   */
  public void close() {
    if (closeQueue()) {
      // Stands in for a WakeSignal still queued: it would reach an unmapped word.
      Futex.wake(word, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
    }
  }

  @Override
  String describe() {
    return "semaphore '" + name + "'";
  }

  @Override
  String timeoutMessage(SemaphoreRequest request) {
    return describe() + ": " + request.permits + " permits were not acquired within the timeout";
  }

  private int checkPermits(int permits) {
    if (permits <= 0) {
      throw new IllegalArgumentException(
          "semaphore '" + name + "': a permit count must be positive, not " + permits);
    }
    return permits;
  }

  /**
   * The future every immediate acquire returns: completed, and shared, so its result cannot be
   * replaced.
   */
  private static final class Acquired extends CompletableFuture<Void> {
    Acquired() {
      super.complete(null);
    }

    @Override
    public void obtrudeValue(Void value) {
      throw new UnsupportedOperationException("an acquire's result cannot be replaced");
    }

    @Override
    public void obtrudeException(Throwable failure) {
      throw new UnsupportedOperationException("an acquire's result cannot be replaced");
    }
  }
}
