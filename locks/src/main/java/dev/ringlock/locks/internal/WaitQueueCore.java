package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.WaitQueueDescriptor.NONE;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.SLEEPERS_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WAITING;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WAKE_SEQUENCE_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WOKEN_ALL;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WOKEN_ONE;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.InternalLockTimeoutException;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.NamedObject;
import dev.ringlock.core.memory.PidLock;
import dev.ringlock.locks.RegionClosedException;
import dev.ringlock.locks.WaitQueue;
import dev.ringlock.locks.WaitQueueFullException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/*
 * Overview
 *
 * One process's view of one wait queue (or of a condition variable: the same object under
 * another type), and the wait queue's protocol: which waiters a wake chooses. The shared state is
 * the object of WaitQueueDescriptor (WaitQueueList reads and writes it): a header with the list
 * lock and the wake sequence W, and a slot per waiter holding its state, owner pid, key and the
 * list links, by index. A view is made of these parts, one file each:
 *
 *   WaitQueueCore      the public calls and the protocol: occupy a slot, choose slots, send wakes
 *   WaitQueueWaiters   this view's waiters and its one kernel wait on W: the owner's side, a
 *                      QueuedPrimitive (the waiting mechanism of every primitive)
 *   WaitQueuePassOns   the WOKEN_ONE wakes its waiters declined, each passed on once
 *   WaitQueueListLock  the cross-process list lock, and the repair after a dead holder
 *   WaitQueueTasks     list-lock work from threads that must never wait: now, or deferred
 *   WaitQueueReaper    dead processes' slots, through the base's PeerWatches
 *   WaitQueueGate      the guards that let close() finish before the memory is unmapped
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
 * a nearly full queue, the owner's scan (O(its waiters)) and the rare reclaim and repair.
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
 * completion thread, never on the waker's. The owner's side (its scan, timeouts, cancellation,
 * declined wakes) is WaitQueueWaiters'.
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
 * Order. wake(n), wakeAll and pass-ons choose from the head of the list, so what they mark is a
 * prefix of each view's local list (in list order), and a scan stops at the first WAITING slot. A
 * waker whose choice is not a prefix (wakeUpTo skipping a larger key, a repaired list) bumps the
 * header's reorder count before W; a view that sees it moved scans all its waiters.
 *
 * Dead wakers. The wait never sleeps longer than Sleeper.RECHECK_MILLIS (250 ms): then it ends
 * as if timed out and the view scans if W moved. A waker killed after its bump but before its
 * FUTEX_WAKE reached the kernel therefore costs its chosen waiters at most 250 ms. One killed
 * under the list lock (between marks and bump) is replaced by the next locker, which repairs the
 * list, bumps the reorder count and W, and wakes every process. A dead process's kernel wait that
 * lingers on W for a moment cannot swallow anyone's wake: every wake wakes all.
 *
 * Never waiting. The list lock is held by a process, which can be stopped (SIGSTOP, a debugger) or
 * paused (GC) inside its critical section while alive. Threads that serve everyone must not wait
 * for it: the ring's completion thread (the sleeper's end, exit listeners, pass-ons, a condition's
 * signal from a continuation) and a thread cancelling a future (the JDK's shared delayer, for
 * orTimeout). Their work goes through WaitQueueTasks. Synchronous calls (await, wake*, signal* off
 * the completion thread) wait for the lock in WaitQueueListLock.lockFor, bounded by the region's
 * internal lock timeout (InternalLockTimeoutException), a timed await also by its own deadline,
 * and give up at once when the queue closes. Closing: WaitQueueGate.
 *
 * Process death (WaitQueueReaper). Processes die without notice (kill -9), so every process
 * distrusts the others' slots. A dead process's slot is reclaimed (unlinked if WAITING, freed, and
 * a WOKEN_ONE wake it never took is passed on) (a) whenever a waker walks the list, so wake(n) and
 * signal() choose live waiters only; (b) when a watched foreign owner exits; (c) at a re-check of
 * a view with waiters, a sweep of part of the slots; (d) when an await finds the queue full. A
 * queue in memory of this process alone (a private condition) has no other process to distrust.
 *
 * Distrust. Every index read from shared memory is bounds-checked by WaitQueueList; a bad value
 * throws the region's corruption exception (UncheckedIOException of an InvalidRegionException,
 * CORRUPT), never an IndexOutOfBoundsException.
 */
/** One process's view of a wait queue in a region; see the overview in the source. */
public final class WaitQueueCore implements WaitQueue {
  private static final long FULL_PATIENCE_NANOS =
      TimeUnit.SECONDS.toNanos(1); // a ring round trip; 100 ms was too short on a loaded 2-core VM

  private final String kind; // "wait queue", for messages
  private final String name;
  final MappedRegion region;
  final WaitQueueList list;
  private final int capacity;
  final FutexRing ring;
  private final int pid;
  final FutexWord sequenceWord; // W: what every view with waiters sleeps on
  final boolean shared; // other processes may own slots: distrust them (see the overview)
  private final AtomicLong kernelWakes = new AtomicLong();

  // the parts of a view: see the overview
  final WaitQueueGate gate;
  final WaitQueueListLock listLock;
  final WaitQueueWaiters waiters;
  final WaitQueuePassOns passOns;
  final WaitQueueTasks tasks;
  final WaitQueueReaper reaper;
  // The queue's counters, on the line after its slots (ObjectStatsDescriptor): waits, woken waits
  // and their time, dead waiters' slots reclaimed. Every wait queues, so all are exact.
  final ObjectStats stats;

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
    this.sequenceWord = FutexWord.of(list.memory(), list.offsetOf(WAKE_SEQUENCE_OFFSET), scope);
    this.shared = scope == FutexScope.SHARED;
    this.gate = new WaitQueueGate(this);
    this.listLock = new WaitQueueListLock(this, scope, lockTimeout);
    // futex_waitv has no bitsets: a bitset wait would cost a thread of its own there (overview)
    int waitBitset =
        ring.backend() == FutexRing.Backend.SYSCALLS ? FutexRing.ANY_BITSET : processBit(pid);
    this.waiters = new WaitQueueWaiters(this, list.offsetOf(SLEEPERS_OFFSET), waitBitset);
    this.passOns = new WaitQueuePassOns(this);
    this.tasks = new WaitQueueTasks(this);
    this.reaper = new WaitQueueReaper(this, pid);
    this.stats =
        new ObjectStats(
            list.memory(),
            object.offset()
                + ObjectStatsDescriptor.statsOffset(WaitQueueDescriptor.bytesFor(capacity)));
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
    return enqueue(key, Deadlines.NONE, -1);
  }

  @Override
  public CompletableFuture<Void> await(long key, Duration timeout) {
    long timeoutNanos = Deadlines.nanos(timeout);
    return enqueue(key, System.nanoTime() + timeoutNanos, timeoutNanos);
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
    gate.enterPublic();
    try {
      return list.lvWaitingCount();
    } catch (InternalError fault) {
      throw region.truncated(fault);
    } finally {
      gate.leavePublic();
    }
  }

  /** The queue's state, for watchdogs: a lock-free snapshot that never throws. */
  @Override
  public String toString() {
    String sharedState;
    try {
      sharedState = gate.isClosed() ? "closed here" : list.snapshot(listLock.holder());
    } catch (RuntimeException | InternalError e) { // unmapped by a racing close, or damaged
      sharedState = "unreadable (" + e.getMessage() + ")";
    }
    return kind
        + "['"
        + name
        + "', "
        + sharedState
        + "; this process: "
        + waiters.size()
        + " slots, "
        + gate.wakesInFlight()
        + " wakes in flight]";
  }

  /**
   * Completes when every wake this view has handed to the ring so far has been made in the kernel
   * (the wake calls themselves return before that): for benchmarks and tests.
   */
  public CompletableFuture<Void> wakesSent() {
    return gate.wakesSent();
  }

  /** Kernel wakes (FUTEX_WAKE of W) this view has made so far: for tests and benchmarks. */
  public long kernelWakes() {
    return kernelWakes.get();
  }

  /**
   * What this view's scans have cost: how many ran, and the one that examined the most local
   * waiters (a scan of all of them, usually), with its time; for tests and benchmarks.
   */
  public record ScanStats(long scans, int longestScan, long longestScanNanos) {}

  /** This view's scans so far (a snapshot). */
  public ScanStats scanStats() {
    return waiters.scanStats();
  }

  /**
   * Fails this process's waiters with {@link RegionClosedException}, frees their slots, passes on
   * the WOKEN_ONE wakes they declined, and makes sure every wake this process handed to the ring
   * has reached the kernel (WaitQueueGate). The caller unmaps the memory afterwards. Idempotent;
   * never throws.
   */
  public void close() {
    gate.close();
  }

  // ---- waiting ----

  /** {@code timeoutNanos}: the caller's time limit, for the timeout message; -1 if none. */
  private CompletableFuture<Void> enqueue(long key, long deadline, long timeoutNanos) {
    gate.enterPublic();
    WaitQueueBatch batch = new WaitQueueBatch();
    QueueWaiter waiter;
    try {
      waiter = occupySlot(key, deadline, timeoutNanos, batch);
    } catch (InternalLockTimeoutException e) {
      if (deadline != Deadlines.NONE && Deadlines.passed(deadline) && !gate.isClosed()) {
        // Its own timeout ran out first: the caller gets a TimeoutException on time, as for any
        // timed wait, and nothing was queued.
        TimeoutException timeout =
            new TimeoutException(
                describe()
                    + ": no wake chose this waiter within "
                    + Deadlines.describe(timeoutNanos)
                    + " (its list lock was held by pid "
                    + e.holderPid()
                    + " all along, so it was never queued)");
        timeout.initCause(e);
        return CompletableFuture.failedFuture(timeout);
      }
      throw e;
    } catch (InternalError fault) {
      throw region.truncated(fault); // the file shrank under the mapping: see docs/validation.md
    } finally {
      gate.leavePublic();
    }
    batch.run(waiters); // outside the guard: what its reclaims left to do
    try {
      // Event ARRIVAL, outside the guard: the sleeper armed for it may complete at once, and its
      // scan complete futures, whose continuations may call close(). A close that came first
      // makes the pump return (the base reads closed under the view's monitor).
      waiters.pump(QueuedPrimitive.Event.ARRIVAL, deadline);
    } catch (RuntimeException e) { // the ring refused the wait: this waiter is not queued
      waiters.withdrawSlot(waiter);
      throw e;
    }
    return waiter;
  }

  /** A slot of our own, linked at the tail, WAITING; or a full queue. */
  private QueueWaiter occupySlot(long key, long deadline, long timeoutNanos, WaitQueueBatch batch) {
    long patienceEnd = 0;
    for (; ; ) {
      QueueWaiter waiter = null;
      listLock.lockFor(deadline);
      try {
        int slot = list.allocate(pid, key);
        if (slot == NONE && reaper.reclaimDeadSlots(0, capacity, batch)) {
          slot = list.allocate(pid, key); // (d) in the overview's Process death
        }
        if (slot != NONE) {
          list.linkLast(slot);
          waiter = waiters.arrive(slot, deadline, timeoutNanos); // ARRIVAL
        }
      } finally {
        listLock.unlock();
      }
      send(batch); // wakes declined by dead processes whose slots were reclaimed
      if (waiter != null) {
        return waiter;
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

  /**
   * Passes on {@code count} WOKEN_ONE wakes this process consumed and will not use (a condition's
   * consumed signal), to the longest waiters. Never waits for the list lock.
   */
  void passOn(int count) {
    tasks.runNowOrDefer(batch -> choose(count, Long.MAX_VALUE, WOKEN_ONE, batch));
  }

  // ---- waking ----

  private int wakePublic(int count, long keyLimit, int wokenState) {
    gate.enterPublic();
    WaitQueueBatch batch = new WaitQueueBatch();
    int chosen;
    try {
      listLock.lockFor(Deadlines.NONE);
      try {
        chosen = choose(count, keyLimit, wokenState, batch);
      } finally {
        listLock.unlock();
      }
      TestPausePoints.afterChoosingWaiters(name);
      send(batch);
    } catch (InternalError fault) {
      throw region.truncated(fault);
    } finally {
      gate.leavePublic();
    }
    batch.run(waiters); // the waiters its reclaims passed wakes to, outside every guard
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
    gate.enterPublic(); // refused once closed, as any call
    gate.leavePublic();
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
  int choose(int count, long keyLimit, int wokenState, WaitQueueBatch batch) {
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

  /**
   * After the list lock, inside a guard: sends the batch's one wake of W (if any), which the gate
   * remembers until it has been made; and arms the view's sleeper again if a scan ran.
   */
  void send(WaitQueueBatch batch) {
    if (batch.rearm) {
      batch.rearm = false;
      waiters.rearm(batch);
    }
    if (batch.bits == 0) {
      return;
    }
    int bits = batch.bits;
    batch.bits = 0; // sent once: a batch may be sent again after more work (occupySlot's retry)
    kernelWakes.incrementAndGet();
    gate.inFlight(ring.wake(sequenceWord, FutexRing.WAKE_ALL, bits));
  }

  /** Outside the locks and guards: sends the batch's wake, then runs its effects. */
  void finish(WaitQueueBatch batch) {
    send(batch);
    batch.run(waiters);
  }

  String describe() {
    return kind + " '" + name + "'";
  }
}
