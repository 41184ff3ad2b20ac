package dev.ringlock.locks.internal;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.WaitOutcome;
import dev.ringlock.core.WaitTarget;
import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.NotRecoverableException;
import dev.ringlock.locks.RegionClosedException;
import dev.ringlock.locks.internal.jfr.ContendedAcquisitionEvent;
import dev.ringlock.locks.internal.jfr.LockEvents;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

/*
 * Overview
 *
 * lockAny: one request for whichever of up to 128 mutexes comes free first, waiting on all their
 * words with one FUTEX_WAITV. It is its own future, and it is not queued in any mutex's
 * in-process queue; it competes for the words directly, like a process of its own:
 *
 *   1. try the candidates in list order, as tryLock does (so it never overtakes requests queued
 *      in this process, nor a starving process);
 *   2. none free: set WAITERS on every word (a CAS on the value it then sleeps on, as a mutex
 *      sleeper does), count itself among each mutex's sleeping processes (which bounds the
 *      in-process handoffs that could otherwise keep a word from it), and submit one FUTEX_WAITV
 *      expecting those values;
 *   3. woken on word i: take i if it is free, whatever the barging rules say (the kernel chose
 *      this waiter, the longest sleeper), keeping WAITERS set as every woken mutex3 sleeper does;
 *      failing that, try the others as in 1; failing that, go to 2.
 *
 * It holds at most one mutex at any moment: it takes one word with a CAS and then stops.
 *
 * Swallowed wakes. A FUTEX_WAITV can consume a wake without using it: the wake on word i when
 * this request ends up with another mutex or is cancelled, and, worse, wakes on its other words
 * that the kernel counts but delivers to nobody (once the request is claimed by a first wake or
 * a cancel, it stays queued on the other words until its completion runs; see FutexRing.waitAny).
 * With one wake per release (mutex3), a swallowed wake strands a sleeper. So after every wait
 * that did not fail on a changed value (woken, timed out; for a cancelled one, when the ring
 * reports that the kernel is done with it), each candidate that has sleepers is repaired: a free
 * word gets one wake, a held word gets WAITERS so that its holder's release wakes one
 * (LockAnyCandidate.repairAfterWaitv). The price is at most one spurious wake per candidate.
 *
 * Owner death: a candidate held by a process that is not alive is taken over as tryLock does
 * (LockAnyCandidate.tryAcquire). While the FUTEX_WAITV sleeps, the owners of its words are watched
 * (PeerWatches, as a mutex's sleeper watches its owner): an exit cancels the wait and the next
 * attempt takes that mutex over. The wait also never sleeps longer than Sleeper.RECHECK_MILLIS
 * before looking again, which bounds what a lost wake costs.
 *
 * Not covered by the starvation bound: it never marks a mutex as starving, so heavy barging on
 * every candidate can keep it waiting. It is woken in kernel FIFO order like any sleeper.
 *
 * JFR: a request that sleeps is timed as a ContendedAcquisitionEvent from its first FUTEX_WAITV
 * to the word it takes (ended before settle runs the caller's continuations).
 *
 * Threads: steps run on the caller's thread first, then on the ring's completion thread. The
 * monitor guards `waiting`, so a cancel that races an arming wait cancels it, and the take with
 * what it took (`inFlight`), so a cancel either stops the take or unlocks what it took, before
 * cancel() returns.
 */
public final class AnyMutex extends WithdrawableFuture<MutexGuard> {
  private final LockAnyCandidate[] candidates;
  private final FutexRing ring;
  private final long deadline;
  private final long timeoutNanos; // the caller's time limit, for the timeout message; -1: none
  // The candidates' foreign owners, watched while a FUTEX_WAITV sleeps: made at the first one, so
  // that a request that never waits on another process allocates nothing for it. Written and read
  // by the attempt's thread of the moment (the caller's, then the completion thread's, in turn).
  private PeerWatches owners;
  private CompletableFuture<WaitOutcome> waiting; // guarded by this
  // guarded by this: the mutex taken for this request, set in the same monitor as the take, so a
  // withdrawal either stops the take or finds what it took and unlocks it before cancel() returns
  private Guard inFlight;
  private boolean ownerExited; // guarded by this: a watched owner exited since the wait was armed
  // The JFR event timing a request that had to wait: begun at its first sleep if a recording
  // enables it, with the candidates' owners of that moment. Used by the attempt's thread of the
  // moment, as `owners` is.
  private ContendedAcquisitionEvent contention;
  private int[] ownersAtStart;
  private boolean sleptBefore; // the event was asked for at the first sleep

  private AnyMutex(LockAnyCandidate[] candidates, long deadline, long timeoutNanos) {
    this.candidates = candidates;
    this.ring = candidates[0].ring();
    this.deadline = deadline;
    this.timeoutNanos = timeoutNanos;
  }

  /** See {@link Mutex#lockAny(List)}. */
  public static CompletableFuture<MutexGuard> lockAny(List<? extends Mutex> candidates) {
    AnyMutex request = new AnyMutex(checked(candidates), Deadlines.NONE, -1);
    request.attempt(-1);
    return request;
  }

  /** See {@link Mutex#lockAny(List, Duration)}. */
  public static CompletableFuture<MutexGuard> lockAny(
      List<? extends Mutex> candidates, Duration timeout) {
    long timeoutNanos = Deadlines.nanos(timeout);
    long deadline = System.nanoTime() + timeoutNanos;
    AnyMutex request = new AnyMutex(checked(candidates), deadline, timeoutNanos);
    request.attempt(-1);
    return request;
  }

  private static LockAnyCandidate[] checked(List<? extends Mutex> candidates) {
    Objects.requireNonNull(candidates, "candidates");
    if (candidates.isEmpty() || candidates.size() > FutexRing.MAX_WAIT_ANY) {
      throw new IllegalArgumentException(
          "lockAny takes 1 to "
              + FutexRing.MAX_WAIT_ANY
              + " mutexes (the FUTEX_WAITV limit), not "
              + candidates.size());
    }
    LockAnyCandidate[] cores = new LockAnyCandidate[candidates.size()];
    Map<MutexCore, Boolean> seen = new IdentityHashMap<>();
    for (int i = 0; i < cores.length; i++) {
      Mutex candidate = Objects.requireNonNull(candidates.get(i), "a lockAny candidate is null");
      if (!(candidate instanceof MutexCore core)) {
        throw new IllegalArgumentException(
            candidate + " is not a mutex of a SharedRegion; lockAny waits on region mutexes only");
      }
      if (seen.put(core, Boolean.TRUE) != null) {
        throw new IllegalArgumentException("mutex '" + core.name() + "' is a candidate twice");
      }
      if (i > 0 && core.ring != cores[0].ring()) {
        throw new IllegalArgumentException(
            "lockAny candidates must wait through one ring, but mutex '"
                + core.name()
                + "' uses "
                + core.ring
                + " and mutex '"
                + cores[0].mutex().name()
                + "' uses "
                + cores[0].ring()
                + "; open their regions with the same RegionOptions.ring");
      }
      core.checkOpen();
      cores[i] = core.lockAnyCandidate();
    }
    return cores;
  }

  /**
   * Steps 1 to 3 of the overview.
   *
   * @param wokenIndex the candidate whose word woke the FUTEX_WAITV, or -1
   */
  private void attempt(int wokenIndex) {
    for (; ; ) {
      if (isDone()) {
        return; // cancelled while the wake was on its way: waitEnded repairs the words
      }
      Guard taken;
      boolean timedOut = false;
      List<WaitTarget> targets = null;
      try {
        synchronized (this) {
          if (isDone()) {
            return; // cancelled: waitEnded repairs the words
          }
          taken = take(wokenIndex);
          // From here a withdrawal gives it back (withdrawn), if it completes this future first
          inFlight = taken;
        }
        // One look at the clock: counted sleep targets must be armed (or uncounted), never dropped.
        timedOut = taken == null && timedOutNow();
        if (taken == null && !timedOut) {
          targets = sleepTargets();
        }
      } catch (RegionClosedException | NotRecoverableException e) {
        settleExceptionally(e);
        return;
      }
      if (taken != null) {
        if (contention != null && !isDone()) {
          // committed before the future completes, so whoever waits for it finds the event; the
          // wait ends at the take, not after the continuations settle runs
          contention.end();
          recordContention(taken);
        }
        settle(taken); // false: cancelled meanwhile, and withdrawn() unlocks it
        return;
      }
      wokenIndex = -1;
      if (timedOut) {
        settleExceptionally(timedOut());
        return;
      }
      if (targets == null) {
        continue; // a word came free or changed under us: look again
      }
      if (!watchOwners(targets)) {
        endWait(candidates.length);
        continue; // an owner has exited already: look again, and take its mutex over
      }
      if (!sleptBefore) {
        sleptBefore = true;
        beginContention(targets);
      }
      arm(targets);
      return;
    }
  }

  /** The first sleep: begins the contended-acquisition event, if a recording enables it. */
  private void beginContention(List<WaitTarget> targets) {
    contention = LockEvents.beginContended(null, MutexOwnership.TYPE_NAME, "lockAny", 0);
    if (contention != null) {
      ownersAtStart = new int[candidates.length];
      for (int i = 0; i < candidates.length; i++) {
        ownersAtStart[i] = MutexDescriptor.ownerOf(targets.get(i).expected());
      }
    }
  }

  /** Commits the event of a request that waited, naming the mutex it got and its owner then. */
  private void recordContention(Guard taken) {
    for (int i = 0; i < candidates.length; i++) {
      if (candidates[i].mutex() == taken.mutex()) {
        contention.objectName = taken.mutex().name();
        contention.ownerPidAtStart = ownersAtStart[i];
        contention.granted(taken.fence(), taken.ownerDied());
        return;
      }
    }
  }

  /** Takes a candidate: the woken one first (see the overview), then in list order. */
  private Guard take(int wokenIndex) {
    Guard taken = wokenIndex >= 0 ? candidates[wokenIndex].tryAcquire(true) : null;
    for (int i = 0; taken == null && i < candidates.length; i++) {
      taken = candidates[i].tryAcquire(false);
    }
    return taken;
  }

  /** Step 2's values, each counted as a sleeper; null (nothing counted) if one came free. */
  private List<WaitTarget> sleepTargets() {
    List<WaitTarget> targets = new ArrayList<>(candidates.length);
    try {
      for (LockAnyCandidate candidate : candidates) {
        int expected = candidate.sleepValue(this);
        if (expected == -1) {
          endWait(targets.size());
          return null;
        }
        targets.add(new WaitTarget(candidate.word(), expected));
      }
    } catch (RegionClosedException | NotRecoverableException e) {
      endWait(targets.size());
      throw e;
    }
    return targets;
  }

  /**
   * Watches the owner of every word the FUTEX_WAITV is about to sleep on (other processes only), so
   * that an owner's death ends the wait at once rather than at its re-check; false, with nothing
   * left watched, if one has exited already.
   */
  private boolean watchOwners(List<WaitTarget> targets) {
    for (int i = 0; i < candidates.length; i++) {
      int owner = MutexDescriptor.ownerOf(targets.get(i).expected());
      if (owner == 0 || candidates[i].isThisProcess(owner)) {
        continue;
      }
      if (owners == null) {
        owners = new PeerWatches(ring.processes(), exitedPid -> ownerExited());
      }
      if (!owners.watch(owner)) {
        owners.unwatchAll();
        return false;
      }
    }
    return true;
  }

  /**
   * Event, on the ring's completion thread: a watched owner exited. The wait is cancelled and the
   * next attempt takes the dead owner's mutex over (waitEnded); a wait not yet recorded is
   * cancelled as arm() records it.
   */
  private void ownerExited() {
    CompletableFuture<WaitOutcome> wait;
    synchronized (this) {
      ownerExited = true;
      wait = waiting;
      waiting = null;
    }
    if (wait != null) {
      wait.cancel(false); // the ring hands the wait's words to abandonedWake, which repairs them
    }
  }

  private boolean timedOutNow() {
    return Deadlines.passed(deadline);
  }

  private void arm(List<WaitTarget> targets) {
    // Never longer than the re-check, as every kernel wait: a lost wake costs at most that.
    CompletableFuture<WaitOutcome> wait =
        ring.waitAny(targets, Sleeper.timeoutFor(deadline), this::abandonedWake);
    boolean cancelled;
    synchronized (this) {
      cancelled = isDone() || ownerExited; // withdrawn, or an owner exited before we recorded it
      if (!cancelled) {
        waiting = wait;
      }
    }
    wait.whenComplete(this::waitEnded);
    if (cancelled) {
      wait.cancel(false);
    }
  }

  private void waitEnded(WaitOutcome outcome, Throwable failure) {
    endWait(candidates.length);
    if (owners != null) {
      owners.unwatchAll();
    }
    boolean afterOwnerExit;
    synchronized (this) {
      waiting = null;
      afterOwnerExit = ownerExited;
      ownerExited = false;
    }
    Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
    if (afterOwnerExit && cause instanceof CancellationException) {
      attempt(-1); // cancelled by ownerExited: abandonedWake repairs the words
      return;
    }
    if (cause == null) {
      attempt(outcome.isWoken() ? outcome.wokenIndex() : -1);
    } else if (cause instanceof TimeoutException) {
      attempt(-1); // a re-check, or a last look: fails with TimeoutException once it is overdue
    } else {
      if (!isDone()) {
        settleExceptionally(cause); // the ring closed or failed
      }
      return; // cancelled by us: abandonedWake repairs once the kernel is done with the wait
    }
    if (outcome == null || !outcome.isValueChanged()) {
      repairAll(); // woken or timed out: it may have swallowed wakes (see the overview)
    }
  }

  /** An abandoned wait is over in the kernel: called once for each of its words. */
  private void abandonedWake(FutexRing ignored, FutexWord word, int bitset) {
    for (LockAnyCandidate candidate : candidates) {
      if (candidate.word().equals(word)) {
        candidate.repairAfterWaitv();
      }
    }
  }

  private void repairAll() {
    for (LockAnyCandidate candidate : candidates) {
      candidate.repairAfterWaitv();
    }
  }

  private void endWait(int counted) {
    for (int i = 0; i < counted; i++) {
      candidates[i].waitEnded(this);
    }
  }

  private TimeoutException timedOut() {
    return new TimeoutException(
        "none of the "
            + candidates.length
            + " lockAny candidates was acquired within "
            + Deadlines.describe(timeoutNanos));
  }

  /** Called by a candidate's close(): nothing can be acquired through a closed region. */
  void regionClosed(RegionClosedException failure) {
    completeExceptionally(failure); // as the caller would: withdraws the wait
  }

  // ---- completion by the caller withdraws the request ----

  @Override
  FutexRing boundRing() {
    return ring;
  }

  @Override
  String refusalName() {
    return "a lockAny request of " + candidates.length + " mutexes";
  }

  @Override
  void withdrawn() {
    CompletableFuture<WaitOutcome> wait;
    Guard taken;
    synchronized (this) {
      wait = waiting;
      waiting = null;
      taken = inFlight;
      inFlight = null;
    }
    if (taken != null) {
      Guard.unlockUnwanted(taken); // taken as the caller completed this: never held by nobody
    }
    if (wait != null) {
      wait.cancel(false); // the ring hands the wait's words to abandonedWake
    }
  }
}
