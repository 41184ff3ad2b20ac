package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.WaitQueueDescriptor.LIST_LOCK_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.NONE;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.SLEEPERS_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WAITING;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WAKE_SEQUENCE_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WOKEN_ALL;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WOKEN_ONE;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.InternalLockTimeoutException;
import dev.ringlock.core.WaitOutcome;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.NamedObject;
import dev.ringlock.core.memory.PidLock;
import dev.ringlock.locks.RegionClosedException;
import dev.ringlock.locks.WaitQueue;
import dev.ringlock.locks.WaitQueueFullException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/*
 * Overview
 *
 * One process's view of one wait queue (or of a condition variable: the same object under
 * another type). The shared state is the object of WaitQueueDescriptor (WaitQueueList reads and
 * writes it): a header with the list lock and the wake sequence W, and a slot per waiter holding
 * its state, owner pid, key and the list links, by index. The local state is, per slot this view
 * owns, its QueueWaiter, kept by WaitQueueLocals: by slot, in the order the slots were linked, and
 * by deadline.
 *
 * Slot states:
 *
 *   FREE --await--> WAITING --a waker chooses it--> WOKEN_ONE (wake(n)) | WOKEN_ALL (the others)
 *   WAITING --cancel, timeout, close, or a waker of this very view--> FREE
 *   WOKEN_* --its owner's scan--> FREE
 *
 * Every transition happens under the list lock (a PidLock in the header word: one holder among
 * all threads of all processes), and so does every read or write of the header, the links and the
 * keys. The critical sections are O(1), except the wakers' walks (O(waiting)), a free-slot scan in
 * a nearly full queue, the owner's scan (O(its waiters), below) and the rare reclaim and repair.
 *
 * One kernel wait per process per queue. Nobody sleeps on a slot. Each view with waiters keeps
 * one Sleeper: a kernel wait on W, armed with the value of W at its last scan. A waker
 *
 *   under the list lock: chooses slots (the first n; every key <= k; all), unlinks them and stores
 *          WOKEN_* in each; then bumps W once (an atomic add: release, and a full fence);
 *   unlocks, then: one FUTEX_WAKE(W, all) whose bitset is the OR of the chosen owners' process
 *          bits (bit = a hash of the pid into 0..31): one SQE on io_uring, one futex_wake on the
 *          syscalls backend, however many waiters in however many processes it chose.
 *
 * A waker's own view is woken the same way, through the kernel: futures complete on the ring's
 * completion thread, never on the waker's.
 *
 * The owner's side. When its wait ends (woken, EAGAIN, timed out), the view takes the list lock,
 * reads W (acquire), completes every local waiter whose slot is WOKEN_* (freeing the slot first,
 * so that a continuation that awaits again finds room) and every one whose deadline has passed,
 * and arms the wait again with the W it read, timing out at its earliest local deadline.
 *
 * No wake is lost. A waker's marks precede its bump of W, and both happen under the list lock.
 * A view either reads W after the bump (then its scan, under the same lock, sees the marks), or
 * it read W before, so its wait compares the old value: the kernel either queued that wait before
 * the bump (and the waker's FUTEX_WAKE, which follows the bump, finds and wakes it) or compares
 * after it (and the wait ends at once with EAGAIN). Bit collisions only make a process wake up
 * for nothing: it finds W moved, scans, finds nothing WOKEN and sleeps again. The syscalls
 * backend's futex_waitv has no bitsets, so there a view waits with every bit and is woken by every
 * wake of the queue (a bitset wait would cost a thread of its own there); io_uring's waits carry
 * the view's bit.
 *
 * What a scan costs. It reads the state of this view's waiters: O(local waiters), no system
 * call. A scan happens only if W moved since the last one. wake(n), wakeAll and pass-ons choose
 * from the head of the list, and the local list is in list order, so what they mark is a prefix of
 * the local list: the scan stops at the first WAITING slot, and a wake(1) loop over 100,000
 * waiters costs O(1) per wake, not O(n). A waker whose choice is not a prefix (wakeUpTo skipping a
 * larger key, a repaired list) bumps the header's reorder count before W; a view that sees it
 * moved scans all its waiters. And every re-check (below) that finds W moved since the last full
 * scan scans all, which bounds what any ordering surprise costs to RECHECK_MILLIS.
 *
 * Timeouts, cancellation and close are local decisions, under the list lock: the waiter's slot
 * is unlinked and freed at once. A waiter whose slot was chosen before its decision completes
 * normally (a timeout) or passes the wake on (a cancel: see Declined wakes).
 *
 * Dead wakers. The wait never sleeps longer than Sleeper.RECHECK_MILLIS (250 ms): then it ends
 * as if timed out and the view scans if W moved (a re-check that finds nothing to do re-arms at
 * once, without the list lock: quietTick). A waker killed after its bump but before its
 * FUTEX_WAKE reached the kernel therefore costs its chosen waiters at most 250 ms. One killed
 * under the list lock (between marks and bump) is replaced by the next locker, which repairs the
 * list, bumps the reorder count and W, and wakes every process. A dead process's kernel wait that
 * lingers on W for a moment cannot swallow anyone's wake: every wake wakes all.
 *
 * Declined wakes. A WOKEN_ONE wake was meant for one waiter. If the caller cancelled the future
 * (or close failed it) before the scan could complete it, the wake is passed on: wake(1) to the
 * next longest waiter. Exactly one party passes it on: the scan (when its complete() fails) or
 * close, whichever wins QueueWaiter.claimPassOn. WOKEN_ALL wakes are not passed on.
 *
 * Never waiting. The list lock is held by a process, which can be stopped (SIGSTOP, a debugger) or
 * paused (GC) inside its critical section while alive. Threads that serve everyone must not wait
 * for it: the ring's completion thread (the sleeper's end, exit listeners, pass-ons, a condition's
 * signal from a continuation) and a thread cancelling a future (the JDK's shared delayer, for
 * orTimeout). Their work is a WaitQueueTask: tryNow() runs it if the lock is free and no deferred work
 * is queued (to keep the order); else it joins `deferred`, and one server per queue
 * (deferredServed) submits a FUTEX_WAIT on the lock word through the ring after setting
 * LOCK_WAITERS (PidLock.waitValue), exactly as a sleeping locker does, so the holder's unlock
 * wakes it; the wait times out after LIST_LOCK_RECHECK so that a dead holder is taken over
 * (PidLock.takeOverIfDead, then repair). When it gets the lock it runs every queued task in order
 * under one hold, sends their wakes, and completes their futures after unlocking. A scan that must
 * be deferred first fails the local waiters whose deadline passed and whose slot is still WAITING
 * (lock-free: a slot stays this view's until it releases it), so timeouts fire on time; if a waker
 * chooses such a slot before the deferred scan runs, the scan finds WOKEN_ONE on a failed future
 * and passes the wake on (jcstress: TimedOutWaiterRacingWakeOne). Synchronous calls (await,
 * wake*, signal* off the completion thread) wait for the lock in PidLock.lock, bounded by the
 * region's internal lock timeout (InternalLockTimeoutException), a timed await also by its own
 * deadline, and give up at once when the queue closes.
 *
 * Locks. The list lock, then this object's monitor, never the other way round. The monitor guards
 * the local state: the WaitQueueLocals, the sleeper, the scan flags; what changes both shared and
 * local state holds both, so close() without the list lock can still read the local state under
 * the monitor alone.
 *
 * Guards: public calls count themselves in publicCalls, internal ones (completions, withdrawals)
 * in internalCalls, so that close() can wait for both to leave the shared memory before it is
 * unmapped. No future is completed inside a guard or under the list lock: a continuation may
 * call close().
 *
 * Closing. close() fails this view's waiters with RegionClosedException, frees their slots under
 * the list lock, cancels the sleeper, passes on the WOKEN_ONE wakes they declined, and makes sure
 * every wake this view handed to the ring reaches the kernel before the memory is unmapped (else
 * it wakes W by system call). close() must finish whatever the queue's state, so it waits for the
 * list lock at most min(lock timeout, CLOSE_PATIENCE) (one try on the completion thread, which
 * never waits for another process), and a damaged lock word or list is no reason to stop. Without
 * the lock (closeWithoutLock) it fails every local waiter and writes owner 0 into each slot it
 * still has. Every process treats owner 0 as a dead process: a waker skips and reclaims such a
 * slot and a WOKEN_ONE stored in it is passed on. A declined wake whose slot was already freed
 * (passOnsUnsettled) cannot be passed on without the lock: the one loss, which needs a stalled
 * holder and that race at once (docs/internal-locks.md).
 *
 * Process death. Processes die without notice (kill -9), so every process distrusts the others'
 * slots, using this ring's ProcessWatch (a map lookup once a pid is watched). Under the list lock
 * a slot's owner cannot change, so the pid read from it needs no second read after the question.
 * Reclaiming a dead process's slot: unlink it if it was WAITING, free it, and if it was WOKEN_ONE
 * (a wake it never took), pass the wake on: wake(1) to the longest live waiter. This happens
 *   (a) whenever a waker walks the list: a dead waiter is reclaimed and skipped, so wake(n) and
 *       signal() choose live waiters only, and no dead one is counted;
 *   (b) when a watched process exits: every foreign owner this view examines is subscribed to
 *       with onExit, once per queue and pid, until it exits or the queue closes; its listener (a
 *       WaitQueueTask) reclaims the dead process's slots. This covers a waiter that died after a waker
 *       chose it: the waker subscribed when it chose it;
 *   (c) at a re-check of a view with waiters (at least every SWEEP_TICKS-th, about once a
 *       second): it sweeps SWEEP_SLOTS slots from a cursor, subscribing to the live owners it
 *       meets, for the case where the waker closed or died too;
 *   (d) when an await finds the queue full: every slot is examined.
 * A pid is asked about again after its exit listener has run, so a reused pid names the new
 * process and its slots stay. One case no check catches (as with every pid-owned lock): a process
 * that dies and whose pid is reused before anyone asks looks alive until the new one exits. A
 * queue in memory of this process alone (a private condition) has no other process to distrust.
 *
 * Distrust. Every index read from shared memory is bounds-checked by WaitQueueList; a bad value
 * throws the region's corruption exception (UncheckedIOException of an InvalidRegionException,
 * CORRUPT), never an IndexOutOfBoundsException.
 */
/** One process's view of a wait queue in a region; see the overview in the source. */
public final class WaitQueueCore implements WaitQueue {
  private static final long CLOSE_PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(2);

  /** Every how many quiet re-checks (Sleeper.RECHECK_MILLIS each) a view sweeps for the dead. */
  private static final int SWEEP_TICKS = 4;

  private static final long FULL_PATIENCE_NANOS =
      TimeUnit.SECONDS.toNanos(1); // a ring round trip; 100 ms was too short on a loaded 2-core VM

  private final String kind; // "wait queue", for messages
  private final String name;
  private final MappedRegion region;
  private final WaitQueueList list;
  private final int capacity;
  private final FutexRing ring;
  private final int pid;
  private final int processBit; // this process's bit in a wake's bitset
  private final PidLock listLock;
  private final FutexWord listLockWord; // for deferred work's ring wait on the lock
  private final FutexWord sequenceWord; // W: what every view with waiters sleeps on
  private final long lockTimeoutNanos; // how long a synchronous call waits for a live holder
  private final boolean shared; // other processes may own slots: distrust them (see the overview)

  // ---- local state: guarded by this (written under the list lock too; see the overview) ----
  private final WaitQueueLocals locals; // this view's waiters
  private final Sleeper sleeper; // the one kernel wait on W
  private boolean scanPending; // the sleeper ended; its scan (which re-arms it) has not run yet
  private int lastSequence; // W at the last scan
  private int lastReorders; // the reorder count at the last scan
  private int lastFullSequence; // W at the last scan of every local waiter
  private int quietTicks; // re-checks that needed no scan; every SWEEP_TICKS-th sweeps anyway
  private long scans; // for scanStats
  private volatile ScanStats scanStats = new ScanStats(0, 0, 0); // written under both locks

  // released WOKEN_ONE waiters whose pass-on (if they decline) is not settled yet
  private final Set<QueueWaiter> passOnsUnsettled = ConcurrentHashMap.newKeySet();
  // claimed pass-ons (settlePassOn) not yet chosen: close() chooses them if they never run
  private final AtomicInteger passOnsOwed = new AtomicInteger();
  private final Set<CompletableFuture<Integer>> wakesInFlight = ConcurrentHashMap.newKeySet();
  private final AtomicLong kernelWakes = new AtomicLong();
  private final AtomicInteger publicCalls = new AtomicInteger();
  private final AtomicInteger internalCalls = new AtomicInteger();
  private final WaitQueueTasks tasks;

  private final WaitQueueReaper reaper; // dead processes' slots: see the overview, Process death

  private volatile int localWaiters; // slots this view owns; written under both locks
  private volatile boolean closed; // public calls refused
  private volatile boolean drained; // internal calls refused too: the memory is about to go

  /**
   * Attaches to a queue object the region's findOrCreate made with {@link
   * WaitQueueDescriptor#initializer}.
   *
   * @param kind what the object is, as messages name it: "wait queue", "condition variable"
   * @throws UncheckedIOException if the object's header is inconsistent with its length
   */
  public WaitQueueCore(
      String kind,
      String name,
      MappedRegion region,
      NamedObject object,
      FutexScope scope,
      FutexRing ring,
      int pid) {
    this(kind, name, region, object, scope, ring, pid, PidLock.DEFAULT_TIMEOUT);
  }

  /**
   * @param lockTimeout how long a synchronous call waits for another live process holding the list
   *     lock before it fails with {@link InternalLockTimeoutException}
   */
  public WaitQueueCore(
      String kind,
      String name,
      MappedRegion region,
      NamedObject object,
      FutexScope scope,
      FutexRing ring,
      int pid,
      Duration lockTimeout) {
    this.kind = Objects.requireNonNull(kind, "kind");
    this.name = Objects.requireNonNull(name, "name");
    this.region = region;
    this.list = new WaitQueueList(region, object, describe());
    this.capacity = list.capacity();
    this.ring = ring;
    this.pid = pid;
    this.processBit = processBit(pid);
    this.listLock =
        new PidLock(list.memory(), list.offsetOf(LIST_LOCK_OFFSET), region.file(), describe());
    this.listLockWord = FutexWord.of(list.memory(), list.offsetOf(LIST_LOCK_OFFSET), scope);
    this.sequenceWord = FutexWord.of(list.memory(), list.offsetOf(WAKE_SEQUENCE_OFFSET), scope);
    this.lockTimeoutNanos = lockTimeout.toNanos();
    this.shared = scope == FutexScope.SHARED;
    this.locals = new WaitQueueLocals(capacity);
    // futex_waitv has no bitsets: a bitset wait would cost a thread of its own there (overview)
    int waitBitset =
        ring.backend() == FutexRing.Backend.SYSCALLS ? FutexRing.ANY_BITSET : processBit;
    this.sleeper =
        new Sleeper(ring, sequenceWord, list.memory(), list.offsetOf(SLEEPERS_OFFSET), waitBitset);
    this.tasks = new WaitQueueTasks(this);
    this.reaper = new WaitQueueReaper(this, list, ring, pid, shared);
  }

  /** A pid's bit in a wake's bitset: a multiplicative hash, so that neighbouring pids differ. */
  static int processBit(int pid) {
    return 1 << ((pid * 0x9E3779B9) >>> 27);
  }

  // ---- WaitQueue ----

  @Override
  public String name() {
    return name;
  }

  @Override
  public int capacity() {
    return capacity;
  }

  @Override
  public CompletableFuture<Void> await(long key) {
    return enqueue(key, Deadlines.NONE);
  }

  @Override
  public CompletableFuture<Void> await(long key, Duration timeout) {
    return enqueue(key, Deadlines.after(timeout));
  }

  @Override
  public int wakeUpTo(long key) {
    return wakePublic(Integer.MAX_VALUE, key, WOKEN_ALL);
  }

  @Override
  public int wake(int count) {
    if (count < 0) {
      throw new IllegalArgumentException("wake count must be 0 or more, not " + count);
    }
    return count == 0 ? 0 : wakePublic(count, Long.MAX_VALUE, WOKEN_ONE);
  }

  @Override
  public int wakeAll() {
    return wakePublic(Integer.MAX_VALUE, Long.MAX_VALUE, WOKEN_ALL);
  }

  @Override
  public int waiting() {
    enterPublic();
    try {
      return list.lvWaitingCount();
    } catch (InternalError fault) {
      throw region.truncated(fault);
    } finally {
      publicCalls.decrementAndGet();
    }
  }

  /** The queue's state, for watchdogs: a lock-free snapshot that never throws. */
  @Override
  public String toString() {
    String sharedState;
    try {
      sharedState = closed ? "closed here" : list.snapshot(listLock.holder());
    } catch (RuntimeException | InternalError e) { // unmapped by a racing close, or damaged
      sharedState = "unreadable (" + e.getMessage() + ")";
    }
    return kind
        + "['"
        + name
        + "', "
        + sharedState
        + "; this process: "
        + localWaiters
        + " slots, "
        + wakesInFlight.size()
        + " wakes in flight]";
  }

  /**
   * Completes when every wake this view has handed to the ring so far has been made in the kernel
   * (the wake calls themselves return before that): for benchmarks and tests.
   */
  public CompletableFuture<Void> wakesSent() {
    return CompletableFuture.allOf(wakesInFlight.toArray(CompletableFuture[]::new));
  }

  /** Kernel wakes (FUTEX_WAKE of W) this view has made so far: for tests and benchmarks. */
  public long kernelWakes() {
    return kernelWakes.get();
  }

  // ---- waiting ----

  private CompletableFuture<Void> enqueue(long key, long deadline) {
    enterPublic();
    Occupied occupied;
    try {
      occupied = occupySlot(key, deadline);
    } catch (InternalLockTimeoutException e) {
      if (deadline != Deadlines.NONE && Deadlines.passed(deadline) && !closed) {
        // Its own timeout ran out first: the caller gets a TimeoutException on time, as for any
        // timed wait, and nothing was queued.
        TimeoutException timeout =
            new TimeoutException(
                describe()
                    + ": no wake chose this waiter in time (its list lock was held by pid "
                    + e.holderPid()
                    + " all along, so it was never queued)");
        timeout.initCause(e);
        return CompletableFuture.failedFuture(timeout);
      }
      throw e;
    } catch (InternalError fault) {
      throw region.truncated(fault); // the file shrank under the mapping: see docs/validation.md
    } finally {
      publicCalls.decrementAndGet();
    }
    occupied.change.apply(this); // outside the guard: the sleeper may complete at once
    return occupied.waiter;
  }

  private record Occupied(QueueWaiter waiter, SleeperChange change) {}

  /** A slot of our own, linked at the tail, WAITING, and the sleeper armed; or a full queue. */
  private Occupied occupySlot(long key, long deadline) {
    long patienceEnd = 0;
    for (; ; ) {
      WaitQueueBatch batch = new WaitQueueBatch();
      QueueWaiter waiter = null;
      lockListFor(deadline);
      try {
        int slot = list.allocate(pid, key);
        if (slot == NONE && reaper.reclaimDeadSlots(0, capacity, batch)) {
          slot = list.allocate(pid, key); // (d) in the overview's Process death
        }
        if (slot != NONE) {
          list.linkLast(slot);
          waiter = new QueueWaiter(this, slot, deadline);
          addLocal(waiter);
        }
      } finally {
        unlockList();
      }
      finish(batch); // wakes declined by dead processes whose slots were reclaimed
      if (waiter != null) {
        try {
          return new Occupied(waiter, coverWith(waiter));
        } catch (RuntimeException e) { // the ring refused the wait: this waiter is not queued
          withdraw(waiter);
          throw e;
        }
      }
      // Full. If this view has cancels still deferred behind a busy list lock, they free slots
      // soon: wait for them, briefly; not on the completion thread, which serves them.
      long now = System.nanoTime();
      if (patienceEnd == 0) {
        patienceEnd = now + FULL_PATIENCE_NANOS;
      }
      if (!tasks.pending() || ring.inCompletionThread() || now - patienceEnd > 0) {
        throw new WaitQueueFullException(describe(), capacity);
      }
      LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50));
    }
  }

  /** Under the list lock: the new waiter joins the local state. */
  private void addLocal(QueueWaiter waiter) {
    synchronized (this) {
      if (locals.isEmpty()) {
        // Nothing local to scan for: any wake from now on is news to this view.
        lastSequence = list.lvSequence();
        lastReorders = list.lvReorders();
        lastFullSequence = lastSequence;
      }
      locals.add(waiter);
      localWaiters = locals.size();
    }
  }

  /**
   * After the list lock (inside a guard): makes sure the sleeper covers a new waiter, arming it or
   * arming it again for an earlier deadline. Never under the list lock: on the syscalls backend
   * handing a wait to a thread may take a while, and every process's wakes wait for the lock.
   */
  private SleeperChange coverWith(QueueWaiter waiter) {
    synchronized (this) {
      if (scanPending || closed || waiter.released) {
        return SleeperChange.NONE; // the scan arms the sleeper when it has run
      }
      if (!sleeper.isArmed()) {
        return new SleeperChange(sleeper.arm(lastSequence, locals.earliestDeadline()), null);
      }
      if (waiter.deadline - sleeper.deadline() < 0) { // an earlier deadline: arm again
        CompletableFuture<WaitOutcome> replaced = sleeper.detach();
        return new SleeperChange(sleeper.arm(lastSequence, waiter.deadline), replaced);
      }
      return SleeperChange.NONE;
    }
  }

  /**
   * After a hold of the list lock whose scan left the sleeper disarmed (inside a guard): arms it on
   * the wake sequence the scan read, if this view still has waiters and no other scan is due.
   */
  void rearm(WaitQueueBatch batch) {
    SleeperChange change = SleeperChange.NONE;
    synchronized (this) {
      if (!scanPending && !locals.isEmpty() && !closed && !sleeper.isArmed()) {
        change = new SleeperChange(sleeper.arm(lastSequence, locals.earliestDeadline()), null);
      }
    }
    if (change.armed() != null) {
      SleeperChange armed = change;
      batch.then(() -> armed.apply(this));
    }
  }

  /** What to do with the sleeper once the locks are left: watch the new wait, cancel the old. */
  private record SleeperChange(
      CompletableFuture<WaitOutcome> armed, CompletableFuture<WaitOutcome> cancelled) {
    static final SleeperChange NONE = new SleeperChange(null, null);

    void apply(WaitQueueCore queue) {
      if (cancelled != null) {
        cancelled.cancel(false); // the ring passes on any wake it consumed: harmless, see Sleeper
      }
      if (armed != null) {
        armed.whenComplete((outcome, failure) -> queue.sleeperDone(armed, failure));
      }
    }
  }

  /**
   * The sleeper's wait ended: woken, EAGAIN, timed out (a deadline or the re-check), or the ring
   * failed. Usually on the ring's completion thread, which must never wait for the list lock.
   */
  private void sleeperDone(CompletableFuture<WaitOutcome> done, Throwable failure) {
    Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
    if (!enterInternal()) {
      return; // closed: close() settled this view's waiters
    }
    boolean scanWaiting;
    try {
      synchronized (this) {
        if (!sleeper.completed(done)) {
          return; // replaced or cancelled by us
        }
        scanWaiting = scanPending;
        scanPending = true;
      }
    } catch (InternalError fault) { // the sleepers count sits in a truncated file
      scanWaiting = false;
      cause = region.truncated(fault);
    } finally {
      internalCalls.decrementAndGet();
    }
    if (cause != null && !(cause instanceof TimeoutException)) {
      tasks.runNowOrDefer(new FailLocal(cause));
    } else if (scanWaiting) {
      whileScanWaits(); // one scan waits for the list lock already: one is enough
    } else if (cause == null || !quietTick()) {
      tasks.runNowOrDefer(new Scan(cause != null));
    }
  }

  /**
   * A timed-out sleeper with nothing to do needs no list lock: W and the reorder count have not
   * moved since the last scan (a waker's marks precede its bump), every scan since W last moved was
   * a full one, no local deadline has passed, and no sweep is due. Then the sleeper is armed again
   * at once and true returned. So an idle process takes its queue's list lock once per SWEEP_TICKS
   * re-checks, for the sweep, and not at every one.
   */
  private boolean quietTick() {
    if (!enterInternal()) {
      return true; // closed: close() settled this view's waiters
    }
    SleeperChange change = SleeperChange.NONE;
    try {
      synchronized (this) {
        long earliest = locals.earliestDeadline();
        boolean quiet =
            list.lvSequence() == lastSequence
                && list.lvReorders() == lastReorders
                && lastFullSequence == lastSequence
                && !Deadlines.passed(earliest)
                && (!shared || ++quietTicks % SWEEP_TICKS != 0);
        if (!quiet) {
          return false;
        }
        scanPending = false;
        if (!locals.isEmpty() && !closed && !sleeper.isArmed()) {
          change = new SleeperChange(sleeper.arm(lastSequence, earliest), null);
        }
      }
    } catch (RuntimeException | InternalError e) {
      return false; // the scan, under the lock, reports what is wrong
    } finally {
      internalCalls.decrementAndGet();
    }
    change.apply(this);
    return true;
  }

  /**
   * A scan waits for a busy (or damaged) list lock. Meanwhile, lock-free: local waiters whose
   * deadline has passed fail on time, and the sleeper is armed again, on W's current value (on the
   * old one it would end at once), so that later deadlines fire on time too.
   */
  private void whileScanWaits() {
    failExpiredEarly();
    SleeperChange change = SleeperChange.NONE;
    if (!enterInternal()) {
      return;
    }
    try {
      synchronized (this) {
        if (scanPending && !locals.isEmpty() && !closed && !sleeper.isArmed()) {
          change =
              new SleeperChange(sleeper.arm(list.lvSequence(), locals.earliestDeadline()), null);
        }
      }
    } catch (RuntimeException | InternalError e) {
      // the ring refused, or a truncated file: the deferred scan (or close) settles the waiters
    } finally {
      internalCalls.decrementAndGet();
    }
    change.apply(this);
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
      synchronized (WaitQueueCore.this) {
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
          reaper.sweep(batch);
        }
      }
      batch.rearm = true; // after the lock: see rearm
    }

    @Override
    public void deferred() {
      whileScanWaits();
    }

    @Override
    public void abandoned(RuntimeException cause) {
      // A damaged lock word or list. The waiters keep waiting (close fails them); the timed ones
      // still time out, and the next end of the sleeper tries again.
      synchronized (WaitQueueCore.this) {
        if (!scanPending) {
          return;
        }
      }
      whileScanWaits();
      synchronized (WaitQueueCore.this) {
        scanPending = false;
      }
    }
  }

  /** Under both locks: completes the local waiters whose slots were chosen (see the overview). */
  private void scanLocal(boolean all, WaitQueueBatch batch) {
    long start = System.nanoTime();
    int examined = 0;
    for (QueueWaiter waiter = locals.first(); waiter != null; examined++) {
      QueueWaiter next = waiter.nextLocal;
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
    if (examined >= scanStats.longestScan()) {
      scanStats = new ScanStats(scans, examined, took);
    } else {
      scanStats = new ScanStats(scans, scanStats.longestScan(), scanStats.longestScanNanos());
    }
  }

  /**
   * What this view's scans have cost: how many ran, and the one that examined the most local
   * waiters (a scan of all of them, usually), with its time; for tests and benchmarks.
   */
  public record ScanStats(long scans, int longestScan, long longestScanNanos) {}

  /** This view's scans so far (a snapshot). */
  public ScanStats scanStats() {
    return scanStats;
  }

  /** Under both locks: local waiters whose deadline passed time out, unless chosen first. */
  private void expire(WaitQueueBatch batch) {
    for (QueueWaiter expired; (expired = locals.pollExpired()) != null; ) {
      expireOne(expired, batch);
    }
  }

  private void expireOne(QueueWaiter waiter, WaitQueueBatch batch) {
    if (!waiter.released) {
      int state = list.lvState(waiter.slot);
      if (state == WAITING) {
        list.unlink(waiter.slot);
        release(waiter);
        batch.then(() -> waiter.fail(timeoutFailure()));
      } else {
        takeWake(waiter, state, batch); // a wake chose it before its time ran out
      }
    }
  }

  /**
   * The list lock is busy as the sleeper ends: fail the local waiters whose time has run out now,
   * lock-free, if their slot is still WAITING (ours until we release it); the deferred scan frees
   * the slots, and passes on a wake that chose one meanwhile.
   */
  private void failExpiredEarly() {
    List<QueueWaiter> expired = new ArrayList<>(0);
    if (!enterInternal()) {
      return;
    }
    try {
      synchronized (this) {
        for (QueueWaiter waiter : locals.setAsideExpired()) {
          if (list.lvState(waiter.slot) == WAITING) {
            expired.add(waiter);
          }
        }
      }
    } catch (RuntimeException | InternalError e) {
      return; // a damaged region: the deferred scan reports it
    } finally {
      internalCalls.decrementAndGet();
    }
    for (QueueWaiter waiter : expired) {
      waiter.fail(timeoutFailure());
    }
  }

  /** Under the list lock: the ring failed: nothing of this view can wait any more. */
  private final class FailLocal implements WaitQueueTask {
    private final Throwable cause;

    FailLocal(Throwable cause) {
      this.cause = cause;
    }

    @Override
    public void underLock(WaitQueueBatch batch) {
      synchronized (WaitQueueCore.this) {
        scanPending = false;
        for (QueueWaiter waiter = locals.first(); waiter != null; ) {
          QueueWaiter next = waiter.nextLocal;
          int state = list.lvState(waiter.slot);
          if (state == WAITING) {
            list.unlink(waiter.slot);
            release(waiter);
            QueueWaiter failed = waiter;
            batch.then(() -> failed.fail(cause));
          } else {
            takeWake(waiter, state, batch);
          }
          waiter = next;
        }
      }
    }

    @Override
    public void abandoned(RuntimeException failure) {
      List<QueueWaiter> waiters = new ArrayList<>();
      synchronized (WaitQueueCore.this) {
        scanPending = false;
        waiters.addAll(locals.snapshot());
      }
      for (QueueWaiter waiter : waiters) {
        waiter.fail(cause); // the ring failed: nothing of this view can wait any more
      }
    }
  }

  private TimeoutException timeoutFailure() {
    return new TimeoutException(describe() + ": no wake chose this waiter in time");
  }

  /**
   * Under both locks: a local waiter's slot was chosen (state WOKEN_ONE or WOKEN_ALL): free it,
   * then complete the future after unlocking; a WOKEN_ONE wake the caller declined is passed on.
   */
  private void takeWake(QueueWaiter waiter, int wokenState, WaitQueueBatch batch) {
    release(waiter);
    if (wokenState == WOKEN_ONE) {
      passOnsUnsettled.add(waiter); // before the guard is left: close() settles what is left
      batch.then(() -> settlePassOn(waiter, waiter.woken()));
    } else {
      batch.then(waiter::woken);
    }
  }

  /** Under both locks: frees the waiter's slot (already off the list) and forgets it here. */
  private void release(QueueWaiter waiter) {
    list.free(waiter.slot);
    locals.remove(waiter);
    localWaiters = locals.size();
  }

  /**
   * A released WOKEN_ONE waiter's future has been offered the wake: {@code took} says whether it
   * accepted it. If not (cancelled, or failed by close), the wake goes to the next waiter.
   */
  private void settlePassOn(QueueWaiter waiter, boolean took) {
    if (!enterInternal()) {
      return; // close() settles it: the waiter is still in passOnsUnsettled
    }
    boolean owe;
    try {
      owe = !took && waiter.claimPassOn();
      if (owe) {
        passOnsOwed.incrementAndGet(); // before leaving the guard: close() counts it if it must
      }
      passOnsUnsettled.remove(waiter);
    } finally {
      internalCalls.decrementAndGet();
    }
    if (owe) {
      tasks.runNowOrDefer(
          batch -> {
            if (passOnsOwed.getAndUpdate(owed -> Math.max(0, owed - 1)) > 0) {
              choose(1, Long.MAX_VALUE, WOKEN_ONE, batch);
            } // else close() took it over
          });
    }
  }

  /**
   * The caller completed a pending waiter (cancel, complete, orTimeout...): take it off and free
   * its slot. Never waits for the list lock: the caller may be the ring's thread or the JDK's
   * shared delayer thread. A slot already chosen needs nothing: the scan finds its future done and
   * passes a WOKEN_ONE wake on.
   */
  void withdraw(QueueWaiter waiter) {
    tasks.runNowOrDefer(
        batch -> {
          synchronized (this) {
            if (!waiter.released && list.lvState(waiter.slot) == WAITING) {
              list.unlink(waiter.slot);
              release(waiter);
            }
          }
        });
  }

  /**
   * Passes on {@code count} WOKEN_ONE wakes this process consumed and will not use (a condition's
   * consumed signal), to the longest waiters. Never waits for the list lock.
   */
  void passOn(int count) {
    tasks.runNowOrDefer(batch -> choose(count, Long.MAX_VALUE, WOKEN_ONE, batch));
  }

  // ---- waking ----

  private int wakePublic(int count, long keyLimit, int wokenState) {
    enterPublic();
    WaitQueueBatch batch = new WaitQueueBatch();
    int chosen;
    try {
      lockListFor(Deadlines.NONE);
      try {
        chosen = choose(count, keyLimit, wokenState, batch);
      } finally {
        unlockList();
      }
      TestPausePoints.afterChoosingWaiters(name);
      send(batch);
    } catch (InternalError fault) {
      throw region.truncated(fault);
    } finally {
      publicCalls.decrementAndGet();
    }
    batch.runOutcomes(); // the waiters its reclaims passed wakes to, outside every guard
    return chosen;
  }

  /**
   * A condition's signal (1) or signalAll ({@link FutexRing#WAKE_ALL}), which returns no count: on
   * the ring's completion thread (a continuation), deferred if the list lock is busy rather than
   * waited for; elsewhere as {@link #wake}, bounded by the lock timeout.
   */
  public void signal(int count) {
    int wokenState = count == 1 ? WOKEN_ONE : WOKEN_ALL;
    if (!ring.inCompletionThread()) {
      wakePublic(count, Long.MAX_VALUE, wokenState);
      return;
    }
    enterPublic(); // refused once closed, as any call
    publicCalls.decrementAndGet();
    // Outside the guard: it may run deferred work, whose outcomes complete futures. A close racing
    // this finds it refused by the internal guard, which is as if the signal came after close.
    tasks.runNowOrDefer(batch -> choose(count, Long.MAX_VALUE, wokenState, batch));
  }

  /**
   * Under the list lock: chooses up to {@code count} live waiters with keys up to {@code keyLimit},
   * oldest first, unlinks them and marks them {@code wokenState}; then bumps W once for the marks
   * and adds their owners' bits to the batch's wake. This view's own waiters are chosen the same
   * way (its scan completes them, on the ring's completion thread, where futures complete). Returns
   * how many it chose.
   */
  private int choose(int count, long keyLimit, int wokenState, WaitQueueBatch batch) {
    int chosen = 0;
    boolean skipped = false; // a live waiter with a larger key stays before a chosen one
    boolean reordered = false;
    int slot = list.head();
    for (int steps = 0; slot != NONE && chosen < count; steps++) {
      if (steps == capacity) {
        throw list.corrupt("has a cycle in its list of waiters");
      }
      int next = list.next(slot);
      int state = list.lvState(slot);
      if (state != WAITING) {
        throw list.badState(slot, state);
      }
      int owner = list.owner(slot);
      if (!reaper.ownerAlive(owner)) {
        reaper.reclaim(slot, state); // a dead waiter takes no wake: see the overview, Process death
      } else if (list.key(slot) <= keyLimit) {
        list.unlink(slot);
        list.soState(slot, wokenState); // before the bump of W: see the overview
        batch.bits |= processBit(owner);
        chosen++;
        reordered |= skipped;
      } else {
        skipped = true;
      }
      slot = next;
    }
    if (chosen > 0) {
      if (reordered) {
        list.bumpReorders(); // before W: a view that reads the new W sees it
      }
      list.bumpSequence();
    }
    return chosen;
  }

  /** Sends the batch's one wake of W (if any); for close, remembers it until it has been made. */
  void send(WaitQueueBatch batch) {
    if (batch.rearm) {
      batch.rearm = false;
      rearm(batch);
    }
    if (batch.bits == 0) {
      return;
    }
    kernelWakes.incrementAndGet();
    CompletableFuture<Integer> sent = ring.wake(sequenceWord, FutexRing.WAKE_ALL, batch.bits);
    if (!sent.isDone()) {
      wakesInFlight.add(sent); // close() makes sure these reach the kernel before it unmaps
      sent.whenComplete((ignored, failure) -> wakesInFlight.remove(sent));
    }
  }

  /** Outside the locks and guards: sends the batch's wake, then completes its futures. */
  private void finish(WaitQueueBatch batch) {
    send(batch);
    batch.runOutcomes();
  }

  // ---- closing ----

  /**
   * Fails this process's waiters with {@link RegionClosedException}, frees their slots, passes on
   * the WOKEN_ONE wakes they declined, and makes sure every wake this process handed to the ring
   * has reached the kernel. The caller unmaps the memory afterwards. Finishes in bounded time
   * whatever the state of the queue: a list lock held by a live process, or a damaged lock word or
   * list, makes it close without the lock (see the overview, Closing). Idempotent; never throws.
   */
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    awaitNone(publicCalls); // each finishes soon: a call waiting for the list lock gives way
    boolean patient = !ring.inCompletionThread();
    RegionClosedException failure = closedException();
    long patienceEnd = System.nanoTime() + (patient ? CLOSE_PATIENCE_NANOS : 0);
    // On the completion thread, one try: it never waits for another process.
    long lockNanos = patient ? Math.min(lockTimeoutNanos, CLOSE_PATIENCE_NANOS) : 0;
    List<QueueWaiter> ours = new ArrayList<>();
    List<QueueWaiter> declinable = new ArrayList<>();
    WaitQueueBatch batch = new WaitQueueBatch();
    boolean listed = lockListForClose(lockNanos);
    if (listed) {
      try {
        tasks.runDeferredLocked(batch);
        reaper.stopWatching();
        synchronized (this) {
          for (QueueWaiter waiter = locals.first(); waiter != null; ) {
            QueueWaiter next = waiter.nextLocal;
            int state = list.lvState(waiter.slot);
            if (state == WAITING) {
              list.unlink(waiter.slot);
            } else if (state == WOKEN_ONE) {
              declinable.add(waiter); // passed on below unless it took the wake
            }
            release(waiter);
            ours.add(waiter);
            waiter = next;
          }
        }
      } catch (RuntimeException | InternalError e) {
        listed = false; // a damaged list: close without it
      } finally {
        unlockForClose();
      }
    }
    CompletableFuture<WaitOutcome> sleeping;
    synchronized (this) {
      sleeping = detachSleeper();
    }
    if (sleeping != null) {
      sleeping.cancel(false);
    }
    finish(batch); // the work deferred before close, now done
    if (!listed) {
      closeWithoutLock(failure, patienceEnd);
      return;
    }
    for (QueueWaiter waiter : ours) {
      waiter.fail(failure);
    }
    drained = true;
    awaitNone(internalCalls);
    settleAfterDrain(failure, lockNanos, declinable);
    flushWakes(patient ? patienceEnd : 0);
  }

  /** Guarded by this: the sleeper's wait, detached, for the caller to cancel; or null. */
  private CompletableFuture<WaitOutcome> detachSleeper() {
    try {
      return sleeper.detach();
    } catch (InternalError fault) {
      return null; // its count sits in a truncated file: nothing more to do there
    }
  }

  /** After the drain: pass on the WOKEN_ONE wakes nobody took and nobody settled. */
  private void settleAfterDrain(
      RegionClosedException failure, long lockNanos, List<QueueWaiter> declinable) {
    List<QueueWaiter> unsettled = List.copyOf(passOnsUnsettled);
    int owed = 0;
    for (QueueWaiter waiter : unsettled) {
      waiter.fail(failure); // if it has not taken the wake yet, it never will
    }
    for (List<QueueWaiter> waiters : List.of(declinable, unsettled)) {
      for (QueueWaiter waiter : waiters) {
        if (!waiter.tookTheWake() && waiter.claimPassOn()) {
          owed++;
        }
      }
    }
    owed += passOnsOwed.getAndSet(0); // claimed, but refused by the drain or never run
    if (!lockListForClose(lockNanos)) {
      tasks.abandonDeferred(failure); // those pass-ons are lost: see the overview, Closing
      return;
    }
    WaitQueueBatch batch = new WaitQueueBatch();
    try {
      tasks.runDeferredLocked(batch); // deferred since the first pass: pass-ons, mostly
      choose(owed, Long.MAX_VALUE, WOKEN_ONE, batch);
    } catch (RuntimeException | InternalError e) {
      // A damaged list: the wakes owed cannot be passed on.
    } finally {
      unlockForClose();
    }
    finish(batch);
  }

  /**
   * close() without the list lock (held by a live process, or damaged): fails every waiter of this
   * process and makes its slots nobody's, so that any other process reclaims them as it reclaims a
   * dead process's (see the overview, Closing). Touches only this view's own slots.
   */
  private void closeWithoutLock(RegionClosedException failure, long patienceEnd) {
    drained = true;
    awaitNone(internalCalls); // from now on nothing of this process touches the list
    tasks.abandonDeferred(failure);
    reaper.stopWatching(); // this process's own bookkeeping: the list lock guards it only locally
    for (QueueWaiter waiter : passOnsUnsettled) {
      waiter.fail(failure); // a wake it declined cannot be passed on without the lock
    }
    List<QueueWaiter> owning = new ArrayList<>();
    synchronized (this) {
      owning.addAll(locals.removeAll());
      localWaiters = 0;
    }
    for (QueueWaiter waiter : owning) {
      waiter.fail(failure);
      try {
        list.abandon(waiter.slot);
      } catch (InternalError fault) {
        break; // a truncated file: nobody can use those slots anyway
      }
    }
    flushWakes(patienceEnd);
  }

  /** Releases the list lock at close, where a stolen lock (damage) is no reason to stop. */
  private void unlockForClose() {
    try {
      unlockList();
    } catch (RuntimeException | InternalError e) {
      // Another process took it from us: the region is damaged; close goes on regardless.
    }
  }

  /**
   * Every wake this view queued on the ring must reach the kernel while the memory is mapped: a
   * FUTEX_WAKE of an unmapped word fails, and its waiters, in other processes, would sleep until
   * their re-check. Joins them until {@code patienceEnd}; if any is left, wakes W by system call.
   */
  private void flushWakes(long patienceEnd) {
    boolean allSent = true;
    for (CompletableFuture<Integer> sent : wakesInFlight) {
      long left = patienceEnd == 0 ? 0 : patienceEnd - System.nanoTime();
      try {
        sent.get(Math.max(0, left), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        allSent = false;
      } catch (ExecutionException e) {
        // the ring failed or closed: it made the wake by system call
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        allSent = false;
      }
    }
    if (!allSent) {
      try {
        Futex.wake(sequenceWord, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
      } catch (RuntimeException | InternalError e) {
        // a damaged or truncated region: the others' re-checks find the marks
      }
    }
  }

  static void awaitNone(AtomicInteger calls) {
    for (int spins = 0; calls.get() > 0; spins++) {
      if (spins < 100) {
        Thread.onSpinWait();
      } else {
        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50));
      }
    }
  }

  private void enterPublic() {
    publicCalls.incrementAndGet();
    // Dekker with close(): it sets closed, then reads publicCalls; both accesses are volatile.
    if (closed) {
      publicCalls.decrementAndGet();
      throw closedException();
    }
  }

  boolean enterInternal() {
    internalCalls.incrementAndGet();
    if (drained) {
      internalCalls.decrementAndGet();
      return false;
    }
    return true;
  }

  void leaveInternal() {
    internalCalls.decrementAndGet();
  }

  RegionClosedException closedException() {
    return new RegionClosedException(
        describe() + " belongs to a closed SharedRegion; open the region again to use it");
  }

  // ---- the list lock ----

  /**
   * For a synchronous call: takes the list lock, waiting at most the lock timeout for a live holder
   * (and at most until {@code deadline}, a timed call's own); a call waiting when the queue closes
   * gives up at once.
   *
   * @throws InternalLockTimeoutException if a live process held the lock all that time
   * @throws RegionClosedException if the queue closed meanwhile
   */
  private void lockListFor(long deadline) {
    long timeout = lockTimeoutNanos;
    if (deadline != Deadlines.NONE) {
      timeout = Math.min(timeout, deadline - System.nanoTime());
    }
    boolean tookOver;
    try {
      tookOver = listLock.lock(timeout, () -> closed);
    } catch (InternalLockTimeoutException e) {
      if (closed) {
        throw closedException(); // close() waits for this call: give way
      }
      throw e;
    }
    if (tookOver) {
      repairOrUnlock();
    }
  }

  /**
   * For close(): as lockListFor, but never giving way to close and waiting at most {@code nanos}.
   */
  private boolean lockListForClose(long nanos) {
    boolean tookOver;
    try {
      tookOver = listLock.lock(nanos, () -> false);
    } catch (InternalLockTimeoutException | UncheckedIOException e) {
      return false; // a live holder, or a damaged lock word: close without it
    } catch (InternalError fault) {
      return false; // a truncated file
    }
    if (tookOver) {
      try {
        repairOrUnlock();
      } catch (RuntimeException e) {
        return false;
      }
    }
    return true;
  }

  /** After taking the lock over from a dead holder. */
  private void repairOrUnlock() {
    try {
      repair();
    } catch (RuntimeException e) {
      listLock.unlock();
      throw e;
    }
  }

  /**
   * Under the list lock taken from a dead holder: rebuilds the list, then wakes every process,
   * since the holder may have marked slots without waking their owners.
   */
  void repair() {
    list.repair();
    Futex.wake(sequenceWord, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET); // never blocks
  }

  PidLock listLock() {
    return listLock;
  }

  FutexWord listLockWord() {
    return listLockWord;
  }

  FutexRing ring() {
    return ring;
  }

  void unlockList() {
    listLock.unlock();
  }

  RuntimeException truncated(InternalError fault) {
    return region.truncated(fault);
  }

  // ---- for the reaper ----

  /** Under the list lock: whether this view owns the slot. */
  boolean ownsSlot(int slot) {
    synchronized (this) {
      return locals.owns(slot);
    }
  }

  /** Under the list lock: passes on WOKEN_ONE wakes that dead processes never took. */
  void passOnDeclined(int count, WaitQueueBatch batch) {
    choose(count, Long.MAX_VALUE, WOKEN_ONE, batch);
  }

  boolean isClosed() {
    return closed;
  }

  WaitQueueTasks tasks() {
    return tasks;
  }

  String describe() {
    return kind + " '" + name + "'";
  }
}
