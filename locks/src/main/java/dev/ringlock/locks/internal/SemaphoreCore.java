package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.SemaphoreDescriptor.MAX_UNDO_PERMITS;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.PERMITS_MASK;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.REPAIR;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.UNDO_PERMITS_MASK;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.WAITERS;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.WakeSignal;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.Semaphore;
import dev.ringlock.locks.SemaphoreHoldersFullException;
import dev.ringlock.locks.SemaphoreOptions;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/*
 * Overview
 *
 * One process's view of one semaphore: the primitive's decisions on the word, on top of the
 * waiting mechanism (QueuedPrimitive: the in-process FIFO queue of SemaphoreRequests, the one
 * Sleeper armed for them, peer watches, deadlines and effects). The shared object is
 * SemaphoreDescriptor's: the word (permits in bits 0..30 | WAITERS in bit 31), the count of
 * processes sleeping in the kernel and, for undo on exit, the holder table (docs/protocols.md).
 *
 * Acquiring. A request takes its permits with one CAS (word - n; WAITERS stays as it was) if they
 * are available and nothing of this process is queued; failing that, it retries the same move for
 * up to spinTries spins while nothing here is queued (acquireContended says why); otherwise it is
 * queued and the queue is pumped. The pump, under the monitor:
 *   1. fails the requests whose deadline has passed (TimeoutException);
 *   2. takes permits for the head while the word covers it (CAS word - head's n), unlinking each
 *      such request as it takes its permits; it stops at the first request that does not fit, so
 *      a request for 5 is never overtaken by later requests for 1 of this process;
 *   2b. with undo on exit, if the head does not fit, returns dead holders' permits (see below);
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
 * still cannot proceed. Not n sleepers: a count-limited wake can reach a process whose head needs
 * more than is available while one that could proceed is never woken (a lost wakeup), and passing
 * such a wake on livelocks two processes whose heads cannot proceed. Waking every process costs
 * one SQE. Then the releaser pumps its own queue: local waiters proceed without a kernel round
 * trip. The wake is a WakeSignal: fire-and-forget, batched per ring iteration, and coalesced while
 * queued, which the protocol allows.
 *
 * drainPermits sets the permits to 0 and keeps WAITERS: nothing was added, so no sleeper is owed
 * a wake, and the bit must stay for the next release to wake them. Without undo on exit every move
 * is one CAS of the word (PlainPermits); with it, a recorded move (SemaphoreUndo, below).
 *
 * Cancel safety. Permits leave the word only in step 2, for a request unlinked in the same
 * critical section, or in a direct CAS whose caller gets a completed future (with undo on exit,
 * recorded in the same move: see below; a request whose entry cannot be claimed takes nothing and
 * fails). A request completed by its caller (cancel, complete, orTimeout) that is still queued is
 * unlinked and never takes permits; if it was withdrawn as its head position let the next request
 * fit, the queue is pumped again. A grant that loses the race with the caller's completion (Grants sees grant() fail)
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
 * Undo on exit (on unless the semaphore was created with SemaphoreOptions.undoOnExit(false), which
 * the descriptor's flags record) makes permits ownership: every move is recorded in this view's
 * holder entry, and a dead holder's permits come back. Those moves, the sweep for dead holders and
 * the waits for a repair are SemaphoreUndo's (its overview: steps 1 to 3, who notices a death);
 * the repair itself is SemaphoreRepair's (R1 to R6). Here they appear as `undo` calls where the
 * word would otherwise be CASed directly; without undo, `undo` is null and every path above is
 * exactly as described: one CAS of the word.
 *
 * Locking: `this` guards the queue, the sleeper and the exit subscriptions. Futures are
 * completed, and sleepers cancelled, only after the monitor is released, because completion runs
 * user continuations. Watches are made and cancelled under it: PeerWatches runs the exit event
 * outside its own monitor, so the order is always this, then PeerWatches, then ProcessWatch.
 * SemaphoreUndo's per-view lock (BUSY on the view's holder entry) is taken inside `this` (a grant
 * in the pump) or alone, never the other way.
 */
public final class SemaphoreCore extends QueuedPrimitive<SemaphoreRequest> implements Semaphore {
  private static final CompletableFuture<Void> ACQUIRED = new Acquired();

  private final String name;
  private final SemaphoreWords words; // the object's fields, by access mode
  private final FutexWord word;
  private final WakeSignal wakeAll;
  private final MappedRegion region;
  private final SemaphoreUndo undo; // null: undo on exit is off
  private final int spinTries; // before a contended acquire queues (acquireContended)
  // The semaphore's counters, on the line after its holder table (ObjectStatsDescriptor): the
  // fast path's acquires are counted per view without an atomic and published in batches.
  final ObjectStats stats;

  /**
   * @param offset where the semaphore object starts (SemaphoreDescriptor.SIZE bytes, 64-byte
   *     aligned), initialised by {@link #initialize}
   * @param pid this process's id, as holder entries record it
   * @param spinTries spins a contended acquire tries before it queues (RegionOptions.spinTries)
   * @throws UncheckedIOException of an InvalidRegionException (CORRUPT) if the object's flags have
   *     a bit this version does not know, or its total is not one a creator writes
   */
  public SemaphoreCore(
      String name,
      MappedRegion region,
      long offset,
      FutexScope scope,
      FutexRing ring,
      int pid,
      int spinTries) {
    MemorySegment memory = region.segment();
    FutexWord word = FutexWord.of(memory, offset + SemaphoreDescriptor.WORD_OFFSET, scope);
    super(ring, word, memory, offset + SemaphoreDescriptor.SLEEPERS_OFFSET, false);
    this.name = name;
    this.region = region;
    this.spinTries = spinTries;
    SemaphoreWords words = new SemaphoreWords(memory, offset);
    this.words = words;
    this.word = word;
    this.wakeAll = ring.wakeSignal(word, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
    this.stats =
        new ObjectStats(
            memory, offset + ObjectStatsDescriptor.statsOffset(SemaphoreDescriptor.SIZE));
    this.undo = SemaphoreUndo.open(region, words, pid, describe(), wakeAll, peers, stats);
  }

  /**
   * Writes a new semaphore object's initial state: {@code initialPermits}, no waiters, the flags of
   * {@code options}. Runs in the region's creating initializer only, before any other process can
   * see the object (which arrives zeroed, so the holder table is empty and the rest zero).
   *
   * @throws IllegalArgumentException if {@code initialPermits} is negative
   */
  public static void initialize(
      MemorySegment object, int initialPermits, SemaphoreOptions options) {
    checkInitial(initialPermits, options);
    SemaphoreWords words = new SemaphoreWords(object, 0);
    words.spWord(initialPermits);
    words.spFlags(options.undoOnExit() ? 0 : SemaphoreDescriptor.FLAG_NO_UNDO);
    if (options.undoOnExit()) {
      words.spTotal(initialPermits);
    }
  }

  /**
   * Returns {@code initialPermits} if it is a valid initial count (0 is) for a semaphore of {@code
   * options}: at most MAX_UNDO_PERMITS with undo on exit (its word gives a bit to REPAIR).
   */
  public static int checkInitial(int initialPermits, SemaphoreOptions options) {
    if (initialPermits < 0) {
      throw new IllegalArgumentException(
          "a semaphore's initial permits must be 0 or more, not " + initialPermits);
    }
    if (options.undoOnExit() && initialPermits > MAX_UNDO_PERMITS) {
      throw new IllegalArgumentException(
          "a semaphore with undo on exit holds at most "
              + MAX_UNDO_PERMITS
              + " permits, not "
              + initialPermits
              + "; ask for fewer, or create it with SemaphoreOptions.builder().undoOnExit(false)");
    }
    return initialPermits;
  }

  /**
   * Refuses {@code options} that disagree with those the semaphore was created with: two processes
   * must not disagree on whether a dead holder's permits come back.
   *
   * @throws IllegalStateException if they disagree
   */
  public void checkOptions(SemaphoreOptions options) {
    if (options.undoOnExit() != (undo != null)) {
      throw new IllegalStateException(
          describe()
              + " was created with undoOnExit "
              + (undo != null)
              + ", and this call asks for "
              + options
              + ": a semaphore's options are fixed when it is created. Pass the options it was"
              + " created with (every process must), or use another name");
    }
  }

  // ---- shared memory, access mode in the name ----

  private int lvWord() {
    return words.lvWord();
  }

  /** Read first, then CAS: a CAS on a vanished page kills the JVM (SemaphoreWords says why). */
  private boolean casWord(int expected, int next) {
    return words.casWord(expected, next);
  }

  // ---- Semaphore ----

  @Override
  public String name() {
    return name;
  }

  // Every public entry that reads the region turns a fault on its memory (InternalError: the file
  // shrank under the mapping) into InvalidRegionException(TRUNCATED); see regionFaulted.

  @Override
  public CompletableFuture<Void> acquire(int permits) {
    checkPermits(permits);
    try {
      return acquire(permits, Deadlines.NONE, -1);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public CompletableFuture<Void> acquire(int permits, Duration timeout) {
    checkPermits(permits);
    long deadline = Deadlines.after(timeout);
    try {
      return acquire(permits, deadline, Deadlines.nanos(timeout));
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public boolean tryAcquire(int permits) {
    checkPermits(permits);
    checkOpen();
    try {
      return tryAcquireChecked(permits);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  private boolean tryAcquireChecked(int permits) {
    if (queue.length() > 0) {
      return false;
    }
    if (undo == null ? PlainPermits.tryTake(words, permits) : undo.tryAcquire(permits)) {
      stats.countFastAcquisition();
      return true;
    }
    return false;
  }

  @Override
  public void release(int permits) {
    checkPermits(permits);
    checkOpen();
    try {
      releaseChecked(permits);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  private void releaseChecked(int permits) {
    if (undo == null) {
      add(permits, true);
      return;
    }
    undo.release(permits);
    pumpIfQueued();
  }

  @Override
  public int queueLength() {
    checkOpen();
    try {
      return queueLength((lvWord() & WAITERS) != 0);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public int availablePermits() {
    checkOpen();
    try {
      return lvWord() & (undo == null ? PERMITS_MASK : UNDO_PERMITS_MASK);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public int drainPermits() {
    checkOpen();
    try {
      return drainChecked();
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  private int drainChecked() {
    if (undo != null) {
      return undo.drain();
    }
    return PlainPermits.drain(words);
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
        + (v & (undo == null ? PERMITS_MASK : UNDO_PERMITS_MASK))
        + " permits available"
        + ((v & WAITERS) != 0 ? " with waiters" : "")
        + (undo != null && (v & REPAIR) != 0 ? ", being repaired" : "")
        + local
        + ", sleeping processes "
        + sleeper.processesSleeping()
        + (undo == null ? ", undo on exit off" : undo.describeRecords())
        + "]";
  }

  // ---- acquiring ----

  private CompletableFuture<Void> acquire(int permits, long deadline, long timeoutNanos) {
    checkOpen();
    if (queue.length() == 0) {
      CompletableFuture<Void> taken = takeNow(permits);
      if (taken != null) {
        return taken;
      }
    }
    return acquireContended(permits, deadline, timeoutNanos);
  }

  /**
   * The permits were not there at once: spin a little while nothing here is queued, then queue. The
   * spin is for the in-process contended case, where the holder's release comes within nanoseconds:
   * the first request of a queue arms a kernel wait through the ring (with undo on exit, after a
   * sweep of the holder table), which then costs the release a wake and the ring's thread a
   * completion, where a spin costs only this thread's time. Each try is the fast path's move, so
   * the spin changes no order: it takes nothing while requests are queued here (FIFO within the
   * process), and across processes the semaphore is not fair anyway.
   */
  private CompletableFuture<Void> acquireContended(int permits, long deadline, long timeoutNanos) {
    for (int i = 0; i < spinTries && queue.length() == 0; i++) {
      Thread.onSpinWait();
      CompletableFuture<Void> taken = takeNow(permits);
      if (taken != null) {
        return taken;
      }
    }
    SemaphoreRequest request = new SemaphoreRequest(this, permits, deadline, timeoutNanos);
    arrive(request);
    return request;
  }

  /**
   * The fast path's move: {@code permits} taken from the word (recorded, with undo on exit) if it
   * has them. Both moves read the word first and leave it as it was when it has too few (or is
   * being repaired), so a spin of them writes nothing while it waits.
   *
   * @return ACQUIRED, a failed future (nothing was taken: the holder table is full or damaged), or
   *     null if the permits were not there
   */
  private CompletableFuture<Void> takeNow(int permits) {
    if (undo == null) {
      if (PlainPermits.tryTake(words, permits)) {
        stats.countFastAcquisition();
        return ACQUIRED;
      }
      return null;
    }
    try {
      if (undo.take(permits, false, false) == SemaphoreUndo.TAKEN) {
        stats.countFastAcquisition();
        return ACQUIRED;
      }
    } catch (SemaphoreHoldersFullException | UncheckedIOException refused) {
      return CompletableFuture.failedFuture(refused); // nothing was taken
    }
    return null;
  }

  /**
   * After permits were added outside the pump: requests queued here may fit now. Dekker-style with
   * acquire: it writes the queue's length then reads the word (in the pump), we wrote the word then
   * read the length, both with full fences, so one of us sees the other.
   */
  private void pumpIfQueued() {
    if (queue.length() > 0) {
      released();
    }
  }

  /**
   * The decision on the word (under the monitor; overdue requests have expired): grants the oldest
   * requests while the permits cover them, returns dead holders' permits when the head does not
   * fit, and keeps a sleeper armed while requests remain (see the overview).
   *
   * <p>PEER_EXIT: a watched holder process has exited, so the holder table is swept even though a
   * sleeper is armed.
   */
  @Override
  void decide(Event event, long arrivingDeadline, Effects<SemaphoreRequest> effects) {
    // Sweep at most once a pump, and only when it may find what nobody else will report: before
    // arming a sleeper (every sleeper completion pumps with none armed), or on a holder's exit.
    // An armed sleeper's pumps (local releases, arrivals) rely on the watches made then.
    boolean sweep = undo != null && (event == Event.PEER_EXIT || !sleeper.isArmed());
    // Every `continue` follows a change of the word, ours (a grant, returned permits) or
    // another's (a failed CAS): deciding afresh on the new value is always safe.
    for (int v = lvWord(); ; v = lvWord()) {
      SemaphoreRequest head = queue.head();
      if (head == null) {
        leaveEmpty(effects);
        break;
      }
      if (undo == null) {
        if ((v & PERMITS_MASK) >= head.permits) {
          if (casWord(v, v - head.permits)) {
            queue.unlink(head);
            effects.grant(head, null);
          }
          continue;
        }
      } else if (SemaphoreUndo.fits(v, head.permits)) {
        try {
          if (undo.take(head.permits, false, true) == SemaphoreUndo.TAKEN) {
            queue.unlink(head);
            effects.grant(head, null);
          }
        } catch (SemaphoreHoldersFullException | UncheckedIOException refusal) {
          queue.unlink(head); // nothing was taken: the request fails with the reason
          effects.refuse(head, refusal);
        }
        continue;
      }
      if (sweep) {
        sweep = false;
        try {
          // A dead holder's entry, or a repair left by a dead repairer: repair now. A live
          // repairer's R5 wakes the sleeper armed below (on REPAIR | WAITERS).
          if (undo.sweepAndRepair(v)) {
            continue;
          }
        } catch (UncheckedIOException e) {
          effects.failQueued(e); // the holder table is damaged: fail the queue with it
          peers.unwatchAll();
          break;
        }
      }
      if (sleeper.isArmed() && arrivingDeadline >= sleeper.deadline()) {
        break; // it completes after the next release (see the overview), and pumps then
      }
      int expected = v | WAITERS;
      if (v != expected && !casWord(v, expected)) {
        continue;
      }
      effects.cancel(sleeper.detach()); // armed with a later timeout than the new arrival's
      effects.armed(sleeper.arm(expected, queue.earliestDeadline()));
      break;
    }
  }

  // ---- releasing ----

  /**
   * Gives back the permits of a grant that lost to its request's withdrawal: they were recorded as
   * this process's holding, and leave it again. Never throws: it runs inside another caller's grant
   * loop. If the region is closed the permits go with the mapping.
   */
  void giveBack(int permits) {
    if (!closed) {
      try {
        if (undo == null) {
          add(permits, false);
          return;
        }
        if (!undo.giveBack(permits)) {
          return; // still recorded as this view's holding: they return when this process exits
        }
        pumpIfQueued();
      } catch (IllegalStateException e) {
        // closed meanwhile (RegionClosedException, or the memory's arena): nothing to give back to
      } catch (UncheckedIOException corrupt) {
        // a damaged holder table: reported to the next caller that reads it; the permits stay
        // recorded as this view's (the move did not happen)
      }
    }
  }

  /** Adds permits without undo (PlainPermits.add) and pumps this process's queue. */
  private void add(int permits, boolean refuseOverflow) {
    PlainPermits.add(words, wakeAll, permits, refuseOverflow, name);
    pumpIfQueued();
  }

  // ---- closing ----

  /**
   * Fails every queued request and withdraws the sleeper. Releases nothing: a semaphore has no
   * owner. Wakes by direct system call: the mapping goes away next.
   */
  public void close() {
    stats.publish(); // before the mapping goes: this view's uncounted fast acquires
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
    return describe()
        + ": "
        + request.permits
        + " permits were not acquired "
        + request.withinTimeout();
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
  private static final class Acquired extends UnreplaceableFuture<Void> {
    Acquired() {
      super.complete(null);
    }

    @Override
    String kind() {
      return "an acquire";
    }
  }

  @Override
  RuntimeException regionFault(InternalError fault) {
    return region.truncated(fault);
  }

  @Override
  final ObjectStats stats() {
    return stats;
  }
}
