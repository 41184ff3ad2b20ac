package dev.ringlock.locks.internal;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.RingClosedException;
import dev.ringlock.core.WaitOutcome;
import dev.ringlock.core.thread.ThreadWaiter;
import dev.ringlock.locks.RegionClosedException;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/*
 * Overview
 *
 * The waiting mechanism every primitive stands on whose waiters queue in this process behind one
 * kernel wait (MutexCore, SemaphoreCore; docs/waiting.md), as AbstractQueuedSynchronizer is for
 * java.util.concurrent. It owns:
 *   - the in-process FIFO queue of pending requests (RequestQueue, through the requests);
 *   - the one kernel wait per process standing for the queue (Sleeper), whose timeout is the
 *     queue's earliest deadline or the re-check, whichever comes first (Sleeper.timeoutFor);
 *   - deadlines (Deadlines: expired requests fail with TimeoutException at every pump);
 *   - the processes the queue waits on, watched for their exit (PeerWatches);
 *   - cancellation (a request completed by its caller is withdrawn) and close;
 *   - the effects of every decision (Effects).
 *
 * Events. The queue moves only on named events, never on positional flags:
 *   ARRIVAL        a request was queued (arrive)
 *   SLEEPER_DONE   the armed kernel wait completed without a wake: the word had changed
 *   SLEEPER_TIMED_OUT  ... or its timeout came: the queue's earliest deadline, or the re-check
 *   SLEEPER_WOKEN  the armed kernel wait was woken: the kernel chose this process
 *   RELEASE        this process released with requests queued here (released)
 *   PEER_EXIT      a watched process exited (PeerWatches, on the ring's completion thread)
 *   WITHDRAWAL     the oldest request was withdrawn by its caller
 * Each takes the monitor, expires overdue requests and asks the primitive for its one decision on
 * the word (decide): which requests to grant or refuse, whether to take a dead owner's word over,
 * which sleeper to cancel or arm and on which value, whom to watch. A primitive supplies only that
 * (and queueEmptied, for its own per-queue state); everything around it is here.
 *
 * Effects. Completing a future runs its caller's continuations, which may lock, release or wait, and
 * a cancelled kernel wait may pass a wake on; so nothing of that happens under the monitor. A
 * decision gathers its effects (the sleeper to cancel, the sleeper to hook up, grants, refusals,
 * expiries, wakes to pass on) in one Effects, run once after the monitor is released, in one order.
 * Withdrawal, failAll and close end the same way: the queue's one ending is leaveEmpty, then
 * Effects.run.
 *
 *         caller / ring completion thread
 *                      |
 *   ARRIVAL  SLEEPER_*  RELEASE  PEER_EXIT  WITHDRAWAL
 *                      |
 *                      v
 *   +----------------- monitor (this) ------------------+
 *   | closed? stop.  expire overdue requests            |
 *   | decide(event): grant / refuse / take over / arm   |
 *   |   queue empty -> leaveEmpty: detach the sleeper,  |
 *   |                  unwatch peers, queueEmptied      |
 *   +----------------------------------------------------+
 *                      |
 *                      v  Effects.run, outside the monitor
 *   cancel detached sleeper, fail expired, hook the armed sleeper up (-> SLEEPER_*),
 *   grants (Grants), wakes passed on, refusals, fail what is still queued
 *
 * A wait queue's view (WaitQueueWaiters) is one too: its waiters are the queue, its Sleeper waits
 * on the queue's wake sequence with the process's bit, and the events above move it. What differs
 * is that its slots live in shared memory under a cross-process list lock, taken before the
 * monitor and possibly held by a stopped process: so it expires its waiters in its own scan under
 * that lock (expireOverdue), fails them there too (failAll), and its decisions on a sleeper's end
 * hand the scan to WaitQueueTasks, which runs it now or defers it (docs/waiting.md, The wait queue
 * on the base).
 *
 * Join take-over (joinHere; docs/threading.md, Who is woken). A platform thread blocked in join()
 * or get() on the head request runs the queue's kernel wait itself, so that the thread the kernel
 * wakes is the one that goes on: Sleeper.takeOver swaps the armed ring wait for a JoinedWait with
 * the same word, value and timeout (the ring's is cancelled outside the monitor; a wake it had
 * consumed is passed on), and while the request heads the queue every later arm is a JoinedWait
 * too. The thread sleeps in futex_waitv on the word and its own nudge word (core's ThreadWaiter)
 * and completes the JoinedWait as the ring completes a wait, so the SLEEPER_* event, the decision
 * and the grant run on it. States of the sleeper: ring wait | JoinedWait run by the joiner | none.
 * Races, each resolved under this monitor or by a nudge:
 *   - a decision elsewhere detaches the JoinedWait: its cancel nudges the joiner, which looks again
 *     (a new JoinedWait, or none: then it leaves); a wake it consumed meanwhile is passed on;
 *   - the request completes on another thread (grant, cancel, failure): QueuedRequest nudges the
 *     joiner, which leaves; a JoinedWait still armed goes back to the ring (Sleeper.handBack),
 *     on the same value: a wake in between changed the word first, so the ring's wait sees it;
 *   - a nudge racing the joiner's look: it reads the nudge word before it looks, and sleeps on
 *     that value, so a nudge after the look ends the sleep at once.
 * Virtual threads, get(timeout), and requests that do not head the queue keep parking.
 *
 * Monitor rule: `this` guards the queue, the sleeper and the primitive's decision state; it is * Monitor rule: `this` guards the queue, the sleeper and the primitive's decision state; it is
 * taken before PeerWatches's, which is taken before ProcessWatch's. Futures are completed, and
 * sleepers cancelled, only outside it.
 */
/** The waiting mechanism of the queued primitives; see the overview in the source. */
abstract class QueuedPrimitive<R extends QueuedRequest<?, R>> {
  // ---- guarded by this (the queue's length may be read anywhere) ----
  final RequestQueue<R> queue = new RequestQueue<>();
  final Sleeper sleeper; // the kernel wait standing for the queue
  final PeerWatches peers; // the processes the queue waits on, watched for their exit

  volatile boolean closed;

  /** What moves a queue: every pump is called for one of these, never for positional flags. */
  enum Event {
    /** A request was queued: its deadline may be earlier than the armed wait's timeout. */
    ARRIVAL,
    /** The armed kernel wait completed without a wake: the word had changed (EAGAIN). */
    SLEEPER_DONE,
    /**
     * The armed kernel wait completed without a wake: its timeout came (the queue's earliest
     * deadline, or the re-check). A mutex or semaphore treats it as SLEEPER_DONE; a wait queue's
     * view makes it its re-check (expiries, a full scan, the sweep for dead owners).
     */
    SLEEPER_TIMED_OUT,
    /** The armed kernel wait was woken by a FUTEX_WAKE: the kernel chose this process. */
    SLEEPER_WOKEN,
    /** This process released (a lock, permits) with requests queued here. */
    RELEASE,
    /** A process in {@link #peers} exited: it may have died holding what the queue waits for. */
    PEER_EXIT,
    /** The oldest request was withdrawn by its caller: the next one may fit where it did not. */
    WITHDRAWAL;

    /** Whether the armed kernel wait completed, woken or not. */
    boolean sleeperDone() {
      return this == SLEEPER_DONE || this == SLEEPER_TIMED_OUT || this == SLEEPER_WOKEN;
    }
  }

  /**
   * @param sleepersAt where the region counts the processes with a kernel wait armed on {@code
   *     word}
   * @param watchesPerWait whether the processes watched belong to the armed wait (a mutex: the
   *     owner it waits for), and are unwatched whenever it is forgotten; else the primitive keeps
   *     them as long as it needs them (a semaphore: the holders of its permits), and leaveEmpty
   *     drops them
   */
  QueuedPrimitive(
      FutexRing ring,
      FutexWord word,
      MemorySegment memory,
      long sleepersAt,
      boolean watchesPerWait) {
    this.peers = new PeerWatches(ring.processes(), this::peerExited);
    this.sleeper =
        watchesPerWait
            ? new Sleeper(ring, word, memory, sleepersAt, peers)
            : new Sleeper(ring, word, memory, sleepersAt);
  }

  /**
   * A primitive whose one kernel wait carries {@code bitset} (only wakes sharing a bit with it end
   * it) and whose watched processes are its own to keep: a wait queue's view (WaitQueueWaiters).
   */
  QueuedPrimitive(
      FutexRing ring, FutexWord word, MemorySegment memory, long sleepersAt, int bitset) {
    this.peers = new PeerWatches(ring.processes(), this::peerExited);
    this.sleeper = new Sleeper(ring, word, memory, sleepersAt, bitset);
  }

  // ---- what a primitive supplies ----

  /**
   * The primitive's one decision on the word, under the monitor, after overdue requests expired:
   * grant, refuse, take over, or keep (or arm) a sleeper, with {@link #leaveEmpty} once the queue
   * is empty. Everything it leaves to do goes into {@code effects}.
   *
   * @param arrivingDeadline the deadline of a request just queued (Deadlines.NONE otherwise): only
   *     an arrival can make the queue's earliest deadline earlier than the sleeper's timeout
   */
  abstract void decide(Event event, long arrivingDeadline, Effects<R> effects);

  /**
   * Under the monitor, at every pump before {@link #decide}: fails the requests whose deadline has
   * passed. A primitive whose requests hold shared state that decides their fate (a wait queue's
   * slot, which a waker may have chosen first) expires them in its own decision instead.
   */
  void expireOverdue(Effects<R> effects) {
    effects.expired(queue.unlinkOverdue());
  }

  /**
   * Under the monitor, just after {@code request} was linked on arrival: true if the decision on it
   * would change nothing, because what the queue waits for is held in this process, whose release
   * hands on or pumps (MutexCore: the in-process contended path). Then the arrival makes no
   * decision and leaves no effects. Default: false, decide.
   */
  boolean queuedBehindOwnHold(R request) {
    return false;
  }

  /** Under the monitor, as the queue empties: ends the primitive's own per-queue state. */
  void queueEmptied(Effects<R> effects) {}

  /** The message of the TimeoutException an expired request fails with. */
  abstract String timeoutMessage(R request);

  /** How messages name this primitive, e.g. {@code mutex 'orders'}. */
  abstract String describe();

  /** The object's counters in the region (ObjectStatsDescriptor's line). */
  abstract ObjectStats stats();

  /**
   * The ringlock exception for a fault on the region's memory (an InternalError: the file shrank
   * under the mapping), naming the region: MappedRegion.truncated.
   */
  abstract RuntimeException regionFault(InternalError fault);

  // ---- introspection ----

  /**
   * The requests queued in this process, plus the other processes with a kernel wait armed on the
   * word if {@code othersMaySleep}: java.util.concurrent's getQueueLength, an estimate. The caller
   * passes whether the word's WAITERS bit is set: every kernel wait is armed on a value with that
   * bit, and a release that clears it ends them all, or all but the one the kernel woke, for a
   * moment; so while it is clear no live process sleeps for long, and the region's count, which a
   * process killed during its wait leaves one too high for good, is not read.
   */
  final int queueLength(boolean othersMaySleep) {
    synchronized (this) {
      return queue.length() + (othersMaySleep ? sleeper.otherProcessesSleeping() : 0);
    }
  }

  /**
   * Kernel waits of this view that ended by the re-check's timeout (Sleeper.RECHECK_MILLIS): long
   * waits, rescued or not. Internal: for tests, and for the region's per-object counters.
   */
  public final long recheckTimeouts() {
    return sleeper.recheckTimeouts();
  }

  /**
   * Kernel waits of this view rescued by the re-check: it ended by the re-check's timeout and the
   * decision that followed granted a request, so a wake that should have ended it earlier never
   * came (Sleeper.recheckEnded). Zero in a run where no process dies. Internal, as above.
   */
  public final long recheckRescues() {
    return sleeper.rescues();
  }

  // ---- events ----

  /**
   * Event ARRIVAL: queues {@code request} and moves the queue; or fails it with
   * RegionClosedException if the region is closed. Decided under the monitor: once linked, another
   * thread's pump may unlink the request for a grant before the caller looks again, and must not
   * find it failed as if the region had closed.
   */
  final void arrive(R request) {
    Effects<R> effects = null;
    synchronized (this) {
      if (!closed) {
        // Linked and decided in one monitor section, as a pump would decide right after: one
        // monitor enter per arrival, not two, on the in-process contended path. Nothing another
        // thread could do between the link and the decision is lost by closing that gap: the
        // decision reads the word and the queue as they are now.
        queue.link(request);
        if (queuedBehindOwnHold(request)) {
          return;
        }
        effects = new Effects<>();
        expireOverdue(effects);
        decide(Event.ARRIVAL, request.deadline, effects);
      }
    }
    if (effects != null) {
      effects.run(this);
    } else {
      request.fail(closedException()); // outside the monitor: it runs the caller's continuations
    }
  }

  /**
   * Event RELEASE: this process released with requests queued here; they may proceed now. A caller
   * that reads the queue's length after writing the word (full fences both) cannot miss a request
   * that wrote its link before reading the word.
   */
  final void released() {
    pump(Event.RELEASE, Deadlines.NONE);
  }

  /** Event PEER_EXIT, from PeerWatches on the ring's completion thread. */
  private void peerExited(int exitedPid) {
    try {
      pump(Event.PEER_EXIT, Deadlines.NONE);
    } catch (InternalError fault) {
      regionFaulted(fault); // the file shrank: the queue fails with TRUNCATED
    }
  }

  /** Hooks a sleeper just armed up to the SLEEPER_* events; outside the monitor. */
  final void watch(CompletableFuture<WaitOutcome> armed) {
    armed.whenComplete((outcome, failure) -> sleeperDone(armed, outcome, failure));
  }

  private void sleeperDone(
      CompletableFuture<WaitOutcome> done, WaitOutcome outcome, Throwable failure) {
    // On the ring's thread. A fault on the region's memory (the file shrank: the sleeper's count,
    // the word) fails the queue with TRUNCATED, never with the InternalError itself.
    try {
      boolean untilRecheck;
      synchronized (this) {
        untilRecheck = sleeper.armedUntilRecheck(); // before completed() forgets the wait
        if (!sleeper.completed(done)) {
          return; // cancelled by us: the ring passes on any wake it consumed
        }
      }
      Throwable cause = Sleeper.causeOf(failure);
      if (cause == null || cause instanceof TimeoutException) {
        Event event =
            cause != null
                ? Event.SLEEPER_TIMED_OUT
                : outcome.isWoken() ? Event.SLEEPER_WOKEN : Event.SLEEPER_DONE;
        if (event == Event.SLEEPER_WOKEN) {
          TestPausePoints.afterWokenWait(this);
        }
        pump(event, Deadlines.NONE, event == Event.SLEEPER_TIMED_OUT && untilRecheck);
      } else if (cause instanceof InternalError fault) {
        regionFaulted(fault);
      } else {
        failAll(cause); // the ring closed or failed: nothing can wait any more
      }
    } catch (InternalError fault) {
      regionFaulted(fault);
    }
  }

  /**
   * Moves the queue forward on {@code event}: expires overdue requests and asks {@link #decide},
   * under the monitor; then runs the effects, outside it.
   */
  final void pump(Event event, long arrivingDeadline) {
    pump(event, arrivingDeadline, false);
  }

  /**
   * {@code recheck}: the event is the end of a kernel wait by the re-check's timeout; whether the
   * decision granted is counted (Sleeper.recheckEnded: a grant there is a rescued missed wake).
   */
  private void pump(Event event, long arrivingDeadline, boolean recheck) {
    Effects<R> effects = new Effects<>();
    synchronized (this) {
      if (closed) {
        return;
      }
      expireOverdue(effects);
      decide(event, arrivingDeadline, effects);
      if (recheck) {
        boolean rescued = effects.grantsAny();
        sleeper.recheckEnded(rescued);
        if (rescued) {
          stats().countRescuedWait(); // where inspect and other processes see it
        }
      }
    }
    effects.run(this);
  }

  // ---- the joined thread's take-over ----

  /**
   * The longest one system call of a joined thread lasts (docs/threading.md: no ringlock wait stays
   * in the kernel longer than a tick): between two it notices an interrupt (get()) or a closed
   * ring.
   */
  static final long JOIN_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  /**
   * From {@code request}'s join() or get() ({@code interruptible}) on a platform thread that is not
   * a completion thread: if the request heads the queue, this thread runs the queue's kernel wait
   * itself until the request is done, so that the thread the kernel wakes is the one that goes on,
   * and the queue's decision (and so the grant) runs here. Returns when the request is done, or as
   * soon as the take-over is not possible or must end (no wait armed: the lock is held in this
   * process, whose release will grant; an interrupt; futex_waitv refused); the caller then blocks
   * as before. See the overview's "Join take-over".
   */
  final void joinHere(R request, boolean interruptible) {
    ThreadWaiter here = ThreadWaiter.current();
    if (here == null) {
      return;
    }
    CompletableFuture<WaitOutcome> replaced;
    JoinedWait taken;
    synchronized (this) {
      if (closed || !request.queued || queue.head() != request || sleeper.hasJoiner()) {
        return;
      }
      replaced = sleeper.takeOver(here, request);
      taken = sleeper.joinedWait();
    }
    request.joiner = here; // a completion from another thread now nudges us (QueuedRequest)
    try {
      if (replaced != null) {
        watch(taken);
        // If the ring's wait completed first, woken, its completion found the sleeper moved on and
        // dropped it: the wake it consumed goes on (a spurious wake is harmless, a lost one not).
        if (!replaced.cancel(false)
            && !replaced.isCompletedExceptionally()
            && replaced.getNow(null) instanceof WaitOutcome outcome
            && outcome.isWoken()) {
          sleeper.ring().wake(taken.word, 1, taken.bitset);
        }
      }
      runJoinedWaits(request, here, interruptible);
    } catch (InternalError fault) {
      regionFaulted(fault); // the file shrank: the queue, this request too, fails with TRUNCATED
    } finally {
      request.joiner = null;
    }
  }

  private void runJoinedWaits(R request, ThreadWaiter here, boolean interruptible) {
    for (; ; ) {
      int nudges = here.nudgeSnapshot(); // before looking: a later nudge ends the wait at once
      JoinedWait joined;
      CompletableFuture<WaitOutcome> handedBack = null;
      boolean leave;
      synchronized (this) {
        joined = sleeper.joinedWait();
        leave =
            request.isDone()
                || joined == null
                || closed
                || (interruptible && Thread.currentThread().isInterrupted());
        if (leave) {
          handedBack = sleeper.handBack();
        }
      }
      if (leave) {
        handedBackOutside(joined, handedBack);
        return;
      }
      long now = System.nanoTime();
      long until =
          joined.timesOutAt - now < JOIN_SLICE_NANOS ? joined.timesOutAt : now + JOIN_SLICE_NANOS;
      ThreadWaiter.Result result = here.await(joined.word, joined.expected, nudges, until);
      if (result == null) {
        JoinedWait armed;
        synchronized (this) {
          armed = sleeper.joinedWait();
          handedBack = sleeper.handBack(); // futex_waitv refused here: the ring waits from now on
        }
        handedBackOutside(armed, handedBack);
        return;
      }
      switch (result) {
        case WOKEN -> joined.woken(); // the decision runs here, through watch(): maybe our grant
        case VALUE_CHANGED -> joined.complete(WaitOutcome.valueChanged());
        case TIMED_OUT -> {
          if (System.nanoTime() - joined.timesOutAt >= 0) {
            joined.completeExceptionally(new TimeoutException("the queue's kernel wait timed out"));
          } else if (sleeper.ring().isClosed()) {
            joined.completeExceptionally(
                new RingClosedException("the ring closed while a joined thread waited"));
          }
        }
        case NUDGED -> {} // look again
      }
    }
  }

  /**
   * Outside the monitor, as the joined thread leaves: the JoinedWait it left armed was replaced by
   * the ring's {@code handedBack} (Sleeper.handBack; null: none was armed), which is hooked up
   * here.
   */
  private void handedBackOutside(JoinedWait joined, CompletableFuture<WaitOutcome> handedBack) {
    if (handedBack != null) {
      joined.retire(); // its completion finds the sleeper moved on: nothing happens
      watch(handedBack);
    }
  }

  /**
   * A request completed by its caller (cancel, orTimeout...): takes it out of the queue. If it was
   * the oldest, the queue moves (WITHDRAWAL): the next request may fit where it did not.
   *
   * <p>If a grant was already on its way to it (unlinked for the grant under the monitor, delivered
   * after), that grant's complete() fails, and what it carried is given back once, here or by the
   * granting thread, whichever comes first, and neither returns before it is done
   * (QueuedRequest.giveBack): a request cancelled successfully never holds anything afterwards, and
   * the release that made the grant does not return with it held either (jcstress
   * CancelRacingGrant, ReadWriteMutexRaces.CancelledClaimAgainstRelease).
   */
  final void withdraw(R request) {
    Effects<R> effects = new Effects<>();
    boolean headLeft;
    Object lost;
    synchronized (this) {
      if (!request.queued) {
        lost = request.takeGrantOnItsWay();
        if (lost == QueuedRequest.NO_GRANT) {
          return; // unlinked as expired, or never queued (the region closed first)
        }
        headLeft = false;
      } else {
        lost = QueuedRequest.NO_GRANT;
        headLeft = queue.head() == request;
        queue.unlink(request);
        if (queue.isEmpty()) {
          headLeft = false;
          leaveEmpty(effects);
        }
      }
    }
    if (lost != QueuedRequest.NO_GRANT) {
      request.giveBack(lost); // the grant it lost, handed on (here or by the granter) first
      return;
    }
    effects.run(this);
    if (headLeft) {
      pump(Event.WITHDRAWAL, Deadlines.NONE);
    }
  }

  /**
   * The queue's one ending, under the monitor, once it is empty: the sleeper is detached (to be
   * cancelled), the watched processes are dropped, and the primitive ends its own state.
   */
  final void leaveEmpty(Effects<R> effects) {
    effects.cancel(sleeper.detach());
    peers.unwatchAll();
    queueEmptied(effects);
  }

  // ---- failures and close ----

  /**
   * A fault on the region's memory was caught: nothing queued here can ever be granted, so every
   * queued request fails with the ringlock exception, which is returned for the caller to throw.
   * Only on that path, so the hot paths pay nothing (a catch clause costs nothing until thrown).
   */
  final RuntimeException regionFaulted(InternalError fault) {
    RuntimeException failure = regionFault(fault);
    try {
      failAll(failure);
    } catch (InternalError again) {
      // queueEmptied may read the word after the queue was failed: the queue is failed already
    }
    return failure;
  }

  /**
   * Fails every queued request with {@code cause}, and ends the queue. A primitive whose requests
   * hold shared state (a wait queue's slots) overrides it to free that state as they fail.
   */
  void failAll(Throwable cause) {
    Effects<R> effects = new Effects<>();
    try {
      synchronized (this) {
        effects.refuseAll(queue.unlinkAll(), cause);
        leaveEmpty(effects);
      }
    } finally {
      // leaveEmpty touches the region (the sleepers count), which may fault on a truncated file:
      // the requests are unlinked by then, and must fail all the same
      effects.run(this);
    }
  }

  /**
   * Marks this closed, fails every queued request with RegionClosedException and cancels the
   * sleeper.
   *
   * @return false if it was closed already
   */
  final boolean closeQueue() {
    Effects<R> effects = new Effects<>();
    try {
      synchronized (this) {
        if (closed) {
          return false;
        }
        closed = true;
        effects.refuseAll(queue.unlinkAll(), closedException());
        leaveEmpty(effects);
      }
    } finally {
      effects.run(this); // the refusals run even if leaveEmpty faulted on the region, as in failAll
    }
    return true;
  }

  final void checkOpen() {
    if (closed) {
      throw closedException();
    }
  }

  final RegionClosedException closedException() {
    return new RegionClosedException(
        describe() + " belongs to a closed SharedRegion; open the region again to use it");
  }
}
