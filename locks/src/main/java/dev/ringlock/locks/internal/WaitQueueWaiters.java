package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.WaitQueueDescriptor.WAITING;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WOKEN_ALL;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WOKEN_ONE;

import dev.ringlock.core.WaitOutcome;
import dev.ringlock.locks.internal.WaitQueueCore.ScanStats;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/*
 * Overview
 *
 * A wait queue view's own waiters and the one kernel wait standing for them: the owner's side of
 * WaitQueueCore's protocol, as a QueuedPrimitive (docs/waiting.md). The base's queue holds the
 * waiters (QueueWaiter, a QueuedRequest) in the order their slots were linked (WaitQueueLocals adds
 * a by-slot index and a deadline heap); the base's Sleeper waits on the wake sequence W with this
 * process's bit; the base's PeerWatches watches the foreign slot owners (WaitQueueReaper); every
 * pass ends in the base's Effects (WaitQueueBatch under the list lock), run once outside every lock.
 *
 * The base's events, and this view's decisions on them (decide, under the monitor):
 *   ARRIVAL        a waiter's slot was linked (WaitQueueCore.enqueue, then arrive): cover arms
 *                  the sleeper, or arms it again for an earlier deadline
 *   SLEEPER_WOKEN  the wait on W ended: a scan (below), which finds nothing to do unless W moved
 *   SLEEPER_DONE   (EAGAIN) the same
 *   SLEEPER_TIMED_OUT  the re-check: a quiet one (nothing moved) re-arms without the list lock
 *                  (quietTick); else the scan also scans all, expires and sweeps for the dead
 *   PEER_EXIT      a foreign slot owner exited: WaitQueueReaper reclaims its slots
 *   RELEASE        never pumped: a wake chooses slots in shared memory, under the list lock, and
 *                  this view's own chosen waiters come back as SLEEPER_WOKEN, like any process's
 *   WITHDRAWAL     never pumped: a caller's cancel frees its slot under the list lock
 *                  (withdrawSlot)
 * What differs from a mutex: a decision on shared state needs the list lock before the monitor,
 * and the list lock may be held by a stopped process, while the events arrive on threads that must
 * never wait (the completion thread, a canceller). So a decision that needs the list lock hands a
 * WaitQueueTask to WaitQueueTasks as an effect, which runs it now or defers it; expiry is the
 * scan's (a waiter chosen before its deadline takes the wake: expireOverdue does nothing), and so
 * is failing the waiters (failAll, which frees their slots).
 *
 * The scan. When the wait ends, the view takes the list lock, reads W (acquire), completes every
 * local waiter whose slot is WOKEN_* (freeing the slot first, so that a continuation that awaits
 * again finds room) and every one whose deadline has passed, and arms the wait again with the W it
 * read, timing out at its earliest local deadline. It stops at the first WAITING slot (what a wake
 * marks is a prefix: WaitQueueCore's overview, Order), so a wake(1) loop over 100,000 waiters is
 * O(1) per wake; it scans all after the reorder count moved, and at a re-check after W moved.
 *
 * Timeouts, cancellation and close are local decisions under the list lock: the waiter's slot is
 * unlinked and freed at once. A waiter whose slot was chosen before its decision completes normally
 * (a timeout) or passes the wake on (a cancel: see Declined wakes). A scan that must be deferred
 * first fails the local waiters whose deadline passed and whose slot is still WAITING (lock-free:
 * a slot stays this view's until it releases it), so timeouts fire on time; if a waker chooses such
 * a slot before the deferred scan runs, the scan finds WOKEN_ONE on a failed future and passes the
 * wake on (jcstress: TimedOutWaiterRacingWakeOne).
 *
 * Declined wakes: a WOKEN_ONE wake the caller declined (cancelled as the scan took it) is passed
 * on, once (WaitQueuePassOns); a WOKEN_ALL wake is a grant like any other (Grants).
 *
 * Locks: the list lock, then this object's monitor (the local state), never the other way round;
 * what changes shared and local state holds both, so close() without the list lock can still read
 * the local state under the monitor alone.
 */
/** A wait queue view's waiters and its one kernel wait; see the overview in the source. */
final class WaitQueueWaiters extends QueuedPrimitive<QueueWaiter> {
  /** Every how many quiet re-checks (Sleeper.RECHECK_MILLIS each) a view sweeps for the dead. */
  private static final int SWEEP_TICKS = 4;

  private final WaitQueueCore core;
  private final WaitQueueList list;

  // ---- guarded by this (written under the list lock too; see the overview) ----
  private final WaitQueueLocals locals; // this view's waiters: the base's queue, and more
  private boolean scanPending; // the sleeper ended; its scan (which re-arms it) has not run yet
  private int lastSequence; // W at the last scan
  private int lastReorders; // the reorder count at the last scan
  private int lastFullSequence; // W at the last scan of every local waiter
  private int quietTicks; // re-checks that needed no scan; every SWEEP_TICKS-th sweeps anyway
  private long scans; // for scanStats
  private volatile ScanStats scanStats = new ScanStats(0, 0, 0); // written under both locks

  /**
   * @param sleepersAt where the region counts the processes with a kernel wait armed on W
   * @param waitBitset the sleeper's bitset: only wakes sharing a bit with it end it
   */
  WaitQueueWaiters(WaitQueueCore queue, long sleepersAt, int waitBitset) {
    super(queue.ring, queue.sequenceWord, queue.list.memory(), sleepersAt, waitBitset);
    this.core = queue;
    this.list = queue.list;
    this.locals = new WaitQueueLocals(list.capacity(), this.queue);
  }

  /** Slots this view owns (a volatile read). */
  int size() {
    return locals.size();
  }

  /** The base's pump, for the events it brings: see the overview. */
  @Override
  void decide(Event event, long arrivingDeadline, Effects<QueueWaiter> effects) {
    switch (event) {
      case ARRIVAL -> cover(arrivingDeadline, effects);
      case SLEEPER_WOKEN, SLEEPER_DONE -> sleeperEnded(false, effects);
      case SLEEPER_TIMED_OUT -> sleeperEnded(true, effects);
      case PEER_EXIT -> effects.passOn(core.reaper::reclaimAllDead);
      case RELEASE, WITHDRAWAL -> {} // a view's wakes and withdrawals take its list lock instead
    }
  }

  /** The queue's counters in the region. */
  @Override
  ObjectStats stats() {
    return core.stats;
  }

  /** Expiry is the scan's, under the list lock: a waiter chosen before its deadline is woken. */
  @Override
  void expireOverdue(Effects<QueueWaiter> effects) {}

  // ---- ARRIVAL ----

  /** Under the list lock: the waiter of a slot just linked at the tail joins the local state. */
  QueueWaiter arrive(int slot, long deadline, long timeoutNanos) {
    QueueWaiter waiter = new QueueWaiter(this, slot, deadline, timeoutNanos);
    core.stats.countAcquisitions(1); // a wait: every one queues, so it is counted exactly
    synchronized (this) {
      if (locals.isEmpty()) {
        // Nothing local to scan for: any wake from now on is news to this view.
        lastSequence = list.lvSequence();
        lastReorders = list.lvReorders();
        lastFullSequence = lastSequence;
      }
      locals.add(waiter);
    }
    return waiter;
  }

  /**
   * Event ARRIVAL, pumped after the list lock and the guard: the sleeper covers a new waiter due at
   * {@code deadline}, armed now or armed again for an earlier deadline. Never under the list lock:
   * on the syscalls backend handing a wait to a thread may take a while, and every process's wakes
   * wait for the lock.
   */
  private void cover(long deadline, Effects<QueueWaiter> effects) {
    if (scanPending || locals.isEmpty()) {
      return; // the scan arms the sleeper when it has run
    }
    if (!sleeper.isArmed()) {
      effects.armed(sleeper.arm(lastSequence, locals.earliestDeadline()));
    } else if (deadline - sleeper.deadline() < 0) { // an earlier deadline: arm again
      effects.cancel(sleeper.detach());
      effects.armed(sleeper.arm(lastSequence, deadline));
    }
  }

  /**
   * After a hold of the list lock whose scan left the sleeper disarmed (inside a guard): arms it on
   * the wake sequence the scan read, if this view still has waiters and no other scan is due.
   */
  void rearm(Effects<QueueWaiter> effects) {
    synchronized (this) {
      if (!scanPending && !locals.isEmpty() && !closed && !sleeper.isArmed()) {
        effects.armed(sleeper.arm(lastSequence, locals.earliestDeadline()));
      }
    }
  }

  // ---- SLEEPER_WOKEN, SLEEPER_DONE, SLEEPER_TIMED_OUT ----

  /**
   * Under the monitor: the sleeper's wait on W ended, woken or not ({@code timedOut}: a deadline or
   * the re-check). Usually on the ring's completion thread, which must never wait for the list
   * lock: so the scan is handed to WaitQueueTasks, now or deferred. One scan at a time: if one
   * waits for the list lock already, the view only does what it can lock-free (whileScanWaits).
   */
  private void sleeperEnded(boolean timedOut, Effects<QueueWaiter> effects) {
    if (scanPending) {
      whileScanWaits(effects);
      return;
    }
    scanPending = true;
    if (timedOut && quietTick(effects)) {
      return;
    }
    Scan scan = new Scan(timedOut);
    effects.passOn(() -> core.tasks.runNowOrDefer(scan));
  }

  /**
   * A timed-out sleeper with nothing to do needs no list lock: W and the reorder count have not
   * moved since the last scan (a waker's marks precede its bump), every scan since W last moved was
   * a full one, no local deadline has passed, and no sweep is due. Then the sleeper is armed again
   * at once and true returned. So an idle process takes its queue's list lock once per SWEEP_TICKS
   * re-checks, for the sweep, and not at every one.
   */
  private boolean quietTick(Effects<QueueWaiter> effects) {
    try {
      long earliest = locals.earliestDeadline();
      boolean quiet =
          list.lvSequence() == lastSequence
              && list.lvReorders() == lastReorders
              && lastFullSequence == lastSequence
              && !Deadlines.passed(earliest)
              && (!core.shared || ++quietTicks % SWEEP_TICKS != 0);
      if (quiet && !locals.isEmpty() && !sleeper.isArmed()) {
        effects.armed(sleeper.arm(lastSequence, earliest));
      }
      scanPending = !quiet;
      return quiet;
    } catch (RuntimeException | InternalError e) {
      return false; // the scan, under the lock, reports what is wrong
    }
  }

  /**
   * Under the monitor: a scan waits for a busy (or damaged) list lock. Meanwhile, lock-free: the
   * local waiters whose time has run out fail now if their slot is still WAITING (ours until we
   * release it; the deferred scan frees the slots, and passes on a wake that chose one meanwhile),
   * and the sleeper is armed again, on W's current value (on the old one it would end at once), so
   * that later deadlines fire on time too.
   */
  private void whileScanWaits(Effects<QueueWaiter> effects) {
    try {
      for (QueueWaiter waiter : locals.setAsideExpired()) {
        if (list.lvState(waiter.slot) == WAITING) {
          effects.expire(waiter);
        }
      }
      if (scanPending && !locals.isEmpty() && !closed && !sleeper.isArmed()) {
        effects.armed(sleeper.arm(list.lvSequence(), locals.earliestDeadline()));
      }
    } catch (RuntimeException | InternalError e) {
      // the ring refused, or a damaged region: the deferred scan (or close) settles the waiters
    }
  }

  /** whileScanWaits for a scan just deferred, or abandoned: from WaitQueueTasks, unlocked. */
  private void whileScanWaits() {
    Effects<QueueWaiter> effects = new Effects<>();
    synchronized (this) {
      if (closed) {
        return; // close() settles this view's waiters
      }
      whileScanWaits(effects);
    }
    effects.run(this);
  }

  /** Under the list lock: the sleeper's end, as the overview describes it. */
  private final class Scan implements WaitQueueTask {
    private final boolean timedOut; // a deadline or the re-check: time to sweep, and to expire

    Scan(boolean timedOut) {
      this.timedOut = timedOut;
    }

    @Override
    public void underLock(WaitQueueBatch batch) {
      int sequence = list.lvSequence(); // first: the marks of every bump up to it are visible
      int reorders = list.lvReorders();
      synchronized (WaitQueueWaiters.this) {
        scanPending = false;
        boolean all =
            reorders != lastReorders || (timedOut && sequence != lastFullSequence) || closed;
        if (all || sequence != lastSequence) {
          scanLocal(all, batch);
          lastSequence = sequence;
          lastReorders = reorders;
          if (all) {
            lastFullSequence = sequence;
          }
        }
        expire(batch);
        if (timedOut) {
          core.reaper.sweep(batch);
        }
      }
      batch.rearm = true; // after the lock: see rearm
    }

    @Override
    public void deferred() {
      whileScanWaits();
    }

    @Override
    public void abandoned(RuntimeException cause) { // a damaged lock word or list: see below
      synchronized (WaitQueueWaiters.this) {
        if (!scanPending) {
          return;
        }
      }
      whileScanWaits(); // the waiters keep waiting (close fails them), the timed ones time out
      synchronized (WaitQueueWaiters.this) {
        scanPending = false; // and the next end of the sleeper tries again
      }
    }
  }

  /** Under both locks: completes the local waiters whose slots were chosen (see the overview). */
  private void scanLocal(boolean all, WaitQueueBatch batch) {
    long start = System.nanoTime();
    int examined = 0;
    for (QueueWaiter waiter = locals.first(); waiter != null; examined++) {
      QueueWaiter next = waiter.next;
      int state = list.lvState(waiter.slot);
      if (state == WOKEN_ONE || state == WOKEN_ALL) {
        takeWake(waiter, state, batch);
      } else if (state != WAITING) {
        throw list.badState(waiter.slot, state);
      } else if (!all) {
        break; // a wake from the head marks a prefix of the local list: the rest wait
      }
      waiter = next;
    }
    long took = System.nanoTime() - start;
    scans++;
    ScanStats before = scanStats;
    scanStats =
        examined >= before.longestScan()
            ? new ScanStats(scans, examined, took)
            : new ScanStats(scans, before.longestScan(), before.longestScanNanos());
  }

  ScanStats scanStats() {
    return scanStats;
  }

  /** Under both locks: local waiters whose deadline passed time out, unless chosen first. */
  private void expire(WaitQueueBatch batch) {
    for (QueueWaiter expired; (expired = locals.pollExpired()) != null; ) {
      if (!expired.released()) {
        int state = list.lvState(expired.slot);
        if (state == WAITING) {
          list.unlink(expired.slot);
          release(expired);
          batch.expire(expired);
        } else {
          takeWake(expired, state, batch); // a wake chose it before its time ran out
        }
      }
    }
  }

  @Override
  String describe() {
    return core.describe();
  }

  @Override
  RuntimeException regionFault(InternalError fault) {
    return core.region.truncated(fault);
  }

  @Override
  String timeoutMessage(QueueWaiter waiter) {
    return core.describe() + ": no wake chose this waiter " + waiter.withinTimeout();
  }

  /**
   * The ring failed: nothing of this view can wait any more. Every local waiter fails with {@code
   * cause} (or takes the wake that chose it), under the list lock, now or deferred; never waits.
   */
  @Override
  void failAll(Throwable cause) {
    core.tasks.runNowOrDefer(new FailLocal(cause));
  }

  /** Under the list lock: every local waiter fails, or takes its wake; see failAll. */
  private final class FailLocal implements WaitQueueTask {
    private final Throwable cause;

    FailLocal(Throwable cause) {
      this.cause = cause;
    }

    @Override
    public void underLock(WaitQueueBatch batch) {
      synchronized (WaitQueueWaiters.this) {
        scanPending = false;
        for (QueueWaiter waiter = locals.first(); waiter != null; ) {
          QueueWaiter next = waiter.next;
          int state = list.lvState(waiter.slot);
          if (state == WAITING) {
            list.unlink(waiter.slot);
            release(waiter);
            batch.refuse(waiter, cause);
          } else {
            takeWake(waiter, state, batch);
          }
          waiter = next;
        }
      }
    }

    @Override
    public void abandoned(RuntimeException failure) {
      List<QueueWaiter> waiters;
      synchronized (WaitQueueWaiters.this) {
        scanPending = false;
        waiters = locals.snapshot();
      }
      for (QueueWaiter waiter : waiters) {
        waiter.fail(cause); // the ring failed: nothing of this view can wait any more
      }
    }
  }

  /**
   * Under both locks: a local waiter's slot was chosen (state WOKEN_ONE or WOKEN_ALL): free it,
   * then complete the future after unlocking; a WOKEN_ONE wake the caller declined is passed on.
   */
  private void takeWake(QueueWaiter waiter, int wokenState, Effects<QueueWaiter> effects) {
    release(waiter);
    if (wokenState == WOKEN_ONE) {
      core.passOns.offer(waiter, effects); // declined, it is passed on: WaitQueuePassOns
    } else {
      effects.grant(waiter, null);
    }
  }

  /** Under both locks: frees the waiter's slot (already off the list) and forgets it here. */
  private void release(QueueWaiter waiter) {
    list.free(waiter.slot);
    locals.remove(waiter);
  }

  // ---- WITHDRAWAL ----

  /**
   * The caller completed a pending waiter (cancel, complete, orTimeout...): free its slot, never
   * waiting for the list lock (the caller may be the ring's thread or the JDK's delayer). A slot
   * chosen already needs nothing: the scan finds its future done and passes a WOKEN_ONE wake on.
   */
  void withdrawSlot(QueueWaiter waiter) {
    core.tasks.runNowOrDefer(
        batch -> {
          synchronized (this) {
            if (!waiter.released() && list.lvState(waiter.slot) == WAITING) {
              list.unlink(waiter.slot);
              release(waiter);
            }
          }
        });
  }

  /** For the reaper, under the list lock: whether this view owns the slot. */
  synchronized boolean ownsSlot(int slot) {
    return locals.owns(slot);
  }

  /**
   * At close, under the list lock: frees every local waiter's slot (unlinking the WAITING ones)
   * into {@code released}, and those chosen for a WOKEN_ONE wake also into {@code declinable}:
   * close passes their wake on unless they took it.
   */
  synchronized void releaseAll(List<QueueWaiter> released, List<QueueWaiter> declinable) {
    for (QueueWaiter waiter = locals.first(); waiter != null; ) {
      QueueWaiter next = waiter.next;
      int state = list.lvState(waiter.slot);
      if (state == WAITING) {
        list.unlink(waiter.slot);
      } else if (state == WOKEN_ONE) {
        declinable.add(waiter);
      }
      release(waiter);
      released.add(waiter);
      waiter = next;
    }
  }

  /** At close without the list lock: forgets every local waiter, whose slots close abandons. */
  synchronized List<QueueWaiter> forgetAll() {
    return locals.removeAll();
  }

  /** At close: the sleeper's wait, detached, for the caller to cancel; or null. */
  synchronized CompletableFuture<WaitOutcome> detachSleeper() {
    try {
      return sleeper.detach();
    } catch (InternalError fault) {
      return null; // its count sits in a truncated file: nothing more to do there
    }
  }
}
