package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.WaitQueueDescriptor.CANCELLED;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.CAPACITY_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.FREE;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.HEAD_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.HINT_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.KEY_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.LIST_LOCK_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.NEXT_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.NONE;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.OCCUPIED_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.OWNER_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.PREV_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.SLOT_BYTES_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.STATE_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.TAIL_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WAITING;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WAITING_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WOKEN_ALL;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WOKEN_ONE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.ringlock.core.AbandonedWakeHandler;
import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.InternalLockTimeoutException;
import dev.ringlock.core.ProcessWatch;
import dev.ringlock.core.RingException;
import dev.ringlock.core.WaitOutcome;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.NamedObject;
import dev.ringlock.core.memory.PidLock;
import dev.ringlock.locks.RegionClosedException;
import dev.ringlock.locks.WaitQueue;
import dev.ringlock.locks.WaitQueueFullException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/*
 * Overview
 *
 * One process's view of one wait queue (or of a condition variable: the same object under
 * another type). The shared state is the object of WaitQueueDescriptor: a header with the list
 * lock, and a slot per waiter holding the waiter's own futex word (its state), owner pid, key and
 * the list links, by index. The local state is, per slot this process owns, its QueueWaiter.
 *
 * Slot states (the futex word):
 *
 *   FREE --await--> WAITING --a waker chooses it--> WOKEN_ONE (wake(n)) | WOKEN_ALL (the others)
 *   WAITING --its owner cancels, or closes the region--> CANCELLED
 *   WOKEN_*, CANCELLED --the owner's kernel wait has ended--> FREE
 *   WAITING --the owner's kernel wait timed out, or its ring failed--> FREE
 *
 * Every transition happens under the list lock (a PidLock in the header word: one holder among
 * all threads of all processes), and so does every read or write of the header, the links, the
 * keys and this process's local table. The critical sections are O(1), except the wakers' scans
 * (O(waiting)), a free-slot scan in a nearly full queue, and the rare reclaim and repair scans.
 *
 *   await: allocate a FREE slot (scanning from the allocation hint), write pid and key, link it
 *          at the tail, state WAITING; unlock; then FUTEX_WAIT(word, WAITING) through the ring,
 *          with the timeout linked in the kernel. The slot is linked before await returns, so a
 *          wake issued after that reaches it (the condition variable relies on this: it queues
 *          before it releases its mutex).
 *   wake:  choose slots (the first n; every key <= k; all), unlink them, store WOKEN_* in each
 *          word; unlock; then one ring.wakeEach(their words): every FUTEX_WAKE in one
 *          io_uring_enter. No wake is lost: the store precedes the wake, so either the kernel
 *          wait was queued before the wake came (and is woken), or its compare sees WOKEN and it
 *          completes at once with EAGAIN. Either way the slot's state, not the kernel's verdict,
 *          says what happened; a waiter that finds its slot still WAITING was woken by a stale
 *          wake (below) and waits again.
 *
 * The waiter's side. Its kernel wait's completion (on the ring's completion thread; or at once,
 * on the awaiting thread, if the ring is closed) tries the list lock and reads the state (if the
 * lock is busy, see Never waiting below):
 *   WOKEN_*    free the slot, then complete the future (free first, so that a continuation that
 *              awaits again finds room);
 *   WAITING    the timeout fired (or the ring failed): unlink, free, fail the future. A wake that
 *              chose the slot in the meantime changed the state first, so it is never lost: the
 *              waiter completes normally instead. Otherwise the wake was stale: wait again;
 *   CANCELLED  free the slot (the future was completed by whoever cancelled).
 * So timeouts are handled on the completion thread, which never waits for the list lock.
 *
 * Never waiting. The list lock is held by a process, which can be stopped (SIGSTOP, a debugger) or
 * paused (GC) inside its critical section while alive. Threads that serve everyone must not wait
 * for it: the ring's completion thread (kernel wait ends, exit listeners, pass-ons, a condition's
 * signal from a continuation), the JVM-wide timer of the periodic check, and a thread cancelling a
 * future (the JDK's shared delayer, for orTimeout). Their work is a ListTask: tryNow() runs it if
 * the lock is free and no deferred work is queued (to keep the order); else it joins `deferred`,
 * and one server per queue (deferredServed) submits a FUTEX_WAIT on the lock word through the ring
 * after setting LOCK_WAITERS (PidLock.waitValue), exactly as a sleeping locker does, so the
 * holder's unlock wakes it; the wait times out after LIST_LOCK_RECHECK so that a dead holder is
 * taken over (PidLock.takeOverIfDead, then repair). When it gets the lock it runs every queued task
 * in order under one hold, sends their wakes, and completes their futures after unlocking.
 * A kernel wait's end that finds the lock busy does, lock-free, only what concerns its own slot,
 * whose state is meaningful without the lock because the slot stays this waiter's until released:
 *   WAITING, not timed out (a stale wake or EAGAIN): re-arm the kernel wait; nothing to decide;
 *   WAITING, timed out: fail the future with TimeoutException now (timeouts fire on time), and
 *              defer the decision. If a waker chooses the slot before the decision runs, the
 *              decision finds WOKEN_ONE on a future already failed: the wake is declined and passed
 *              on (as for a cancel). jcstress: TimedOutWaiterRacingWakeOne;
 *   otherwise: defer the whole decision.
 * Synchronous calls (await, wake*, signal* off the completion thread) wait for the lock in
 * PidLock.lock, bounded by the region's internal lock timeout (InternalLockTimeoutException), a
 * timed await also by its own deadline (then a future failed with TimeoutException), and give up
 * at once when the queue closes.
 *
 * A slot is FREE only once its owner's kernel wait has ended, so at most one kernel wait, the
 * owner's, is ever queued on a slot's word: a wake of one waiter on a chosen word reaches the
 * chosen waiter and nobody else, and no cancelled waiter's wait can linger on a reused slot and
 * swallow the next occupant's wake. (The lead's sketch freed a cancelled slot at once and let
 * AbandonedWakeHandler.PASS_ON hand such a swallowed wake to the new occupant; that handler
 * would then wake through a mapping that close() may already have unmapped, so no wait is ever
 * abandoned here and PASS_ON never fires.) Cancelling therefore does not cancel the kernel
 * wait: it marks the slot CANCELLED and wakes its own word (a futex_wake system call); the wait
 * ends, woken or with EAGAIN, and its completion frees the slot one ring round trip later. An
 * await that finds the queue full while this process has such slots waits for them, briefly.
 *
 * A wake can still be stale: a waker chooses slot s, its owner's wait ends at once with EAGAIN
 * (or by timeout), s is freed and reallocated, and then the waker's FUTEX_WAKE reaches the new
 * owner. The new owner finds WAITING and waits again; nothing is lost.
 *
 * Declined wakes. A WOKEN_ONE wake was meant for one waiter. If the caller cancelled the future
 * (or close failed it) before the waiter could complete it, the wake is passed on: wake(1) to
 * the next longest waiter. Exactly one party passes it on: the completion (when its complete()
 * fails) or close, whichever wins QueueWaiter.claimPassOn. WOKEN_ALL wakes are not passed on.
 *
 * Closing. close() fails this process's waiters with RegionClosedException, takes their WAITING
 * slots off the list (CANCELLED) and wakes their words by system call, waits (up to
 * CLOSE_PATIENCE) for their kernel waits to end and free the slots, passes on declined
 * WOKEN_ONE wakes, and makes sure every wake this process handed to the ring reaches the kernel
 * before the memory is unmapped: it joins the outstanding wakeEach futures and, if any is still
 * queued, wakes every WOKEN slot's word by system call (a FUTEX_WAKE reaching an unmapped word
 * would be lost, and a waiter in another process would sleep on). A slot whose kernel wait has
 * not ended by then (always so when close runs on the ring's completion thread, which alone
 * completes them) stays reserved by this process until it exits, when other processes reclaim it
 * (see Process death). close() must finish whatever the queue's state, so it waits for the list
 * lock at most min(lock timeout, CLOSE_PATIENCE) (one try on the completion thread, which never
 * waits for another process), and a damaged lock word or list is no reason to stop. Without the
 * lock (closeWithoutLock): it drains its own calls first, so that this process's local state
 * (local[], the watches) is quiescent and may be read without the lock, fails every local waiter,
 * ends their kernel waits, and writes owner 0 into each slot it still has (abandonSlots). Every
 * process treats owner 0 as a dead process (ownerAlive), so a waker skips and reclaims such a slot
 * and a WOKEN_ONE stored in it is passed on: no wake is lost to it and the slot comes back. A
 * declined wake whose slot was already freed (passOnsUnsettled) cannot be passed on without the
 * lock: the one loss, which needs a stalled holder and that race at once (docs/internal-locks.md).
 *
 * Guards: public calls count themselves in publicCalls, internal ones (completions, withdrawals)
 * in internalCalls, so that close() can wait for both to leave the shared memory before it is
 * unmapped. No future is completed inside a guard or under the list lock: a continuation may
 * call close().
 *
 * Process death. Processes die without notice (kill -9), so every process distrusts the others'
 * slots, using this ring's ProcessWatch (one pidfd poll per other process while the queue watches
 * it: a watched pid's question is a map lookup). Under the list lock a slot's owner cannot change, so the pid read from
 * it needs no second read after the question. Reclaiming a dead process's slot: unlink it if it
 * was WAITING; wake every kernel wait on its word (below); free it; and if it was WOKEN_ONE, that
 * wake was never taken, so it is passed on: wake(1) to the longest live waiter. This happens
 *
 *   (a) whenever a waker walks the list: a slot whose owner has died is reclaimed and skipped, so
 *       wake(n) and signal() choose live waiters only, and wakeUpTo/wakeAll drop the dead ones they
 *       walk over (none is counted in waiting() afterwards, none in the returned count);
 *   (b) when a watched process exits: every foreign owner this process examines (in (a), (c) or
 *       (d)) is subscribed to with onExit, once per queue and pid, until it exits or the queue
 *       closes. Its listener (on the ring's completion thread, a ListTask as kernelWaitEnded's
 *       decision is) reclaims every slot of the dead process. This closes the race (a)
 *       leaves open: the owner was alive when a waker chose its slot, and died before its
 *       completion took the WOKEN_ONE. The waker subscribed when it chose the slot, so it learns
 *       of the death one ring completion later and passes the wake on;
 *   (c) in the periodic check (below) of every process with waiters on the queue: it sweeps
 *       SWEEP_SLOTS slots from a cursor. This covers (b)'s gap: the waker closed or died before
 *       the chosen process died, and nobody else was subscribed. The sweep subscribes to the live
 *       owners it examines, so a process with waiters soon watches every other owner, and (b)
 *       usually acts first;
 *   (d) when an await finds the queue full: every slot is examined.
 *
 * A pid is asked about again after its exit listener has run, so a reused pid names the new
 * process and its slots stay. One case no check catches (as with every pid-owned lock): a process
 * that dies and whose pid is reused before anyone asks looks alive until the new one exits. On a
 * closed ring ProcessWatch watches nothing but still answers (it probes the pidfd each time).
 *
 * Stale kernel waits. A dead process's ring may leave its kernel wait queued on the futex for about
 * a millisecond after the process is gone (docs/internal-locks.md). Every slot has a futex word of its own, and
 * a wake is always sent to the word of the slot it chose: a stale wait on a dead slot's word can
 * swallow only a wake that was meant for that dead slot, whose WOKEN_ONE state is passed on when
 * the slot is reclaimed. So the queue is immune to the hazard a mutex has, where every waiter sleeps
 * on one word and a dead waiter's stale wait can swallow a wake meant for a live one. The one way a
 * stale wait could still matter is a reclaimed slot reused by a new owner; so reclaiming wakes every
 * kernel wait on the word first (under the list lock, before the slot is FREE, and a dead process
 * submits no new wait), and the periodic check would catch even that.
 *
 * Dead wakers. A waker that dies after it chose slots and stored WOKEN_* but before its
 * FUTEX_WAKE reached the kernel (the wakes go through its ring after the list lock is released)
 * leaves the chosen waiters asleep on a WOKEN word: a lost wake. Hence the periodic check, which
 * bounds it: while a process has waiters on a queue in a shared region, every RECHECK_NANOS a
 * timer thread (one per JVM) takes the list lock, wakes the word of every local waiter whose slot
 * it finds WOKEN_* or CANCELLED for the second time (its kernel wait should have ended long ago;
 * the first sighting may be a completion on its way, and waking thousands of those by system call
 * slowed a wakeAll of 100,000 waiters twofold; a duplicate wake is harmless anyway: the wait ends
 * and its completion reads the state), and sweeps (c). So a lost wake costs at most
 * 2 * RECHECK_NANOS, and a wake swallowed by a waiter that died after being chosen costs one ring
 * completion when a process that watches it is alive (the waker, and every process whose sweep has
 * examined it), and otherwise at most RECHECK_NANOS * ceil(capacity / SWEEP_SLOTS). The check
 * is per process and queue, not per waiter: the waiters' kernel waits carry no re-check timeout, so
 * a wait costs one SQE as before and an idle waiter costs nothing. A queue in memory of this
 * process alone (a private condition) has no other process to distrust, and no check.
 *
 * A process that dies holding the list lock is replaced by the next locker (see PidLock), which
 * then repairs the list (repair()), waking every WOKEN slot's word, since the dead holder may have
 * chosen it without sending the wake.
 *
 * Distrust. Every index read from shared memory (head, tail, next, prev, hint) is bounds-checked,
 * and the counts and the capacity are checked against each other; a bad value throws the region's
 * corruption exception (UncheckedIOException of an InvalidRegionException, CORRUPT), never an
 * IndexOutOfBoundsException.
 */
/** One process's view of a wait queue in a region; see the overview in the source. */
public final class WaitQueueCore implements WaitQueue {
  private static final VarHandle INT = JAVA_INT.varHandle();
  private static final long CLOSE_PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(2);

  /**
   * How long a deferred task's ring wait on the list lock word lasts before it asks whether the
   * holder is alive (a dead holder's lock is then taken over): see the overview, Never waiting.
   */
  private static final Duration LIST_LOCK_RECHECK = Duration.ofMillis(25);

  private static final long FULL_PATIENCE_NANOS =
      TimeUnit.SECONDS.toNanos(1); // a ring round trip; 100 ms was too short on a loaded 2-core VM
  private static final int KEYS_SHOWN = 4;

  /** How often a process with waiters checks for lost wakes and dead owners (see the overview). */
  private static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

  /** Slots the periodic check examines for dead owners each time, from where the last stopped. */
  private static final int SWEEP_SLOTS = 4096;

  // what a kernel wait's completion decided
  private enum Verdict {
    WOKEN_ONE,
    WOKEN_ALL,
    TIMED_OUT,
    FAILED,
    WAIT_AGAIN,
    NOTHING
  }

  private final String kind; // "wait queue", for messages
  private final String name;
  private final MappedRegion region;
  private final MemorySegment memory;
  private final long base; // where the object starts in memory
  private final int capacity;
  private final FutexScope scope;
  private final FutexRing ring;
  private final int pid;
  private final PidLock listLock;
  private final FutexWord listLockWord; // for deferred work's ring wait on the lock
  private final long lockTimeoutNanos; // how long a synchronous call waits for a live holder
  private final boolean shared; // other processes may own slots: distrust them (see the overview)
  // per slot, made on first use; a race makes two equal immutable words, which is harmless
  private final FutexWord[] words;
  // guarded by the list lock: the waiter of this process that owns each slot
  private final QueueWaiter[] local;
  // released WOKEN_ONE waiters whose pass-on (if they decline) is not settled yet
  private final Set<QueueWaiter> passOnsUnsettled = ConcurrentHashMap.newKeySet();
  // claimed pass-ons (settlePassOn) not yet chosen: close() chooses them if they never run
  private final AtomicInteger passOnsOwed = new AtomicInteger();
  private final Set<CompletableFuture<Void>> wakesInFlight = ConcurrentHashMap.newKeySet();
  private final AtomicInteger publicCalls = new AtomicInteger();
  private final AtomicInteger internalCalls = new AtomicInteger();
  // work that needs the list lock, from threads that must not wait for it, in arrival order
  private final ArrayDeque<ListTask> deferred = new ArrayDeque<>(); // guarded by itself
  private boolean deferredServed; // guarded by deferred: a ring wait or a thread will run them

  // guarded by the list lock: foreign processes whose slots this process examined, watched for
  // their exit (see the overview, Process death (b))
  private final Map<Integer, OwnerWatch> watchedOwners = new HashMap<>();
  // guarded by the list lock: this process's waiters that own a slot, through QueueWaiter.nextLocal
  private QueueWaiter firstLocal;
  private Future<?> recheck; // guarded by the list lock: the next periodic check, or null
  private int sweepCursor; // guarded by the list lock: where the next sweep starts

  private volatile int localWaiters; // slots this process owns; written under the list lock
  private volatile int releasesPending; // of those, CANCELLED ones; written under the list lock
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
    this.memory = region.segment();
    this.base = object.offset();
    this.scope = scope;
    this.ring = ring;
    this.pid = pid;
    // Constant after creation, so plain reads; checked against the object's length.
    int recorded = memory.get(JAVA_INT, base + CAPACITY_OFFSET);
    int slotBytes = memory.get(JAVA_INT, base + SLOT_BYTES_OFFSET);
    String problem = WaitQueueDescriptor.headerProblem(recorded, slotBytes, object.length());
    if (problem != null) {
      throw region.corruption("has a " + describe() + " whose " + problem);
    }
    this.capacity = recorded;
    this.listLock = new PidLock(memory, base + LIST_LOCK_OFFSET, region.file(), describe());
    this.listLockWord = FutexWord.of(memory, base + LIST_LOCK_OFFSET, scope);
    this.lockTimeoutNanos = lockTimeout.toNanos();
    this.shared = scope == FutexScope.SHARED;
    this.words = new FutexWord[capacity];
    this.local = new QueueWaiter[capacity];
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
      return checkedCount((int) INT.getAcquire(memory, base + WAITING_OFFSET), "waiting");
    } catch (InternalError fault) {
      throw region.truncated(fault);
    } finally {
      publicCalls.decrementAndGet();
    }
  }

  /** The queue's state, for watchdogs: a lock-free snapshot that never throws. */
  @Override
  public String toString() {
    String shared;
    try {
      shared = closed ? "closed here" : sharedState();
    } catch (RuntimeException e) { // unmapped by a racing close, or damaged
      shared = "unreadable (" + e.getMessage() + ")";
    }
    return kind
        + "['"
        + name
        + "', "
        + shared
        + "; this process: "
        + localWaiters
        + " slots, "
        + releasesPending
        + " of them being released, "
        + wakesInFlight.size()
        + " wake batches in flight]";
  }

  /*
   * Benign races: read without the list lock, so the links may change under the walk. Each
   * index is bounds-checked and the walk is bounded, so the worst outcome is a stale or cut
   * list of keys, which a watchdog can live with.
   */
  private String sharedState() {
    StringBuilder keys = new StringBuilder();
    int slot = memory.get(JAVA_INT, base + HEAD_OFFSET);
    for (int shown = 0; slot != NONE; shown++) {
      if (slot < 0 || slot >= capacity) {
        keys.append(" (index ").append(slot).append(" out of bounds)");
        break;
      }
      if (shown == KEYS_SHOWN) {
        keys.append(", ...");
        break;
      }
      keys.append(shown == 0 ? "" : ", ").append(memory.get(JAVA_LONG, slotAt(slot) + KEY_OFFSET));
      slot = memory.get(JAVA_INT, slotAt(slot) + NEXT_OFFSET);
    }
    int holder = listLock.holder();
    return memory.get(JAVA_INT, base + WAITING_OFFSET)
        + " waiting (oldest keys: "
        + keys
        + "), "
        + memory.get(JAVA_INT, base + OCCUPIED_OFFSET)
        + " of "
        + capacity
        + " slots occupied, list lock "
        + (holder == 0 ? "free" : "held by pid " + holder);
  }

  // ---- waiting ----

  private CompletableFuture<Void> enqueue(long key, long deadline) {
    enterPublic();
    QueueWaiter waiter;
    CompletableFuture<WaitOutcome> wait;
    try {
      waiter = occupySlot(key, deadline);
      wait = armKernelWait(waiter);
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
    listen(waiter, wait); // outside the guard: it may complete the waiter at once
    return waiter;
  }

  /** A slot of our own, linked at the tail, WAITING; or WaitQueueFullException. */
  private QueueWaiter occupySlot(long key, long deadline) {
    long patienceEnd = 0;
    for (; ; ) {
      List<FutexWord> owedWakes = new ArrayList<>(0);
      QueueWaiter waiter = null;
      boolean ownSlotsFreeing;
      lockListFor(deadline);
      try {
        int slot = allocate(owedWakes);
        // Read with the failed allocation, under the lock: read after unlocking, it could already
        // count a release that freed a slot after we found none, and the queue would seem full
        // for good while a slot is free (seen: a capacity-1 queue refusing right after a cancel).
        ownSlotsFreeing = slot == NONE && releasesPending > 0;
        if (slot != NONE) {
          waiter = new QueueWaiter(this, slot, deadline); // the key lives in the slot
          long at = slotAt(slot);
          memory.set(JAVA_INT, at + OWNER_OFFSET, pid);
          memory.set(JAVA_LONG, at + KEY_OFFSET, key);
          linkLast(slot);
          soState(slot, WAITING);
          local[slot] = waiter;
          localWaiters++;
          addLocal(waiter);
        }
      } finally {
        unlockList();
      }
      issueWakes(owedWakes); // declined by dead processes whose slots were reclaimed
      if (waiter != null) {
        return waiter;
      }
      // Full. If some of the slots are ours, cancelled and about to be freed, wait for them;
      // not on the completion thread, which is what frees them.
      long now = System.nanoTime();
      if (patienceEnd == 0) {
        patienceEnd = now + FULL_PATIENCE_NANOS;
      }
      if (!ownSlotsFreeing || ring.inCompletionThread() || now - patienceEnd > 0) {
        throw new WaitQueueFullException(describe(), capacity);
      }
      LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50));
    }
  }

  /** Under the list lock: a FREE slot, now counted as occupied, or NONE if the queue is full. */
  private int allocate(List<FutexWord> owedWakes) {
    int occupied = occupied();
    if (occupied == capacity) {
      if (!reclaimDeadSlots(0, capacity, owedWakes)) {
        return NONE;
      }
      occupied = occupied();
    }
    int hint = checkedIndex(memory.get(JAVA_INT, base + HINT_OFFSET), "allocation hint");
    for (int i = 0, slot = Math.max(hint, 0); i < capacity; i++, slot = nextIndex(slot)) {
      if (lvState(slot) == FREE) {
        memory.set(JAVA_INT, base + OCCUPIED_OFFSET, occupied + 1);
        memory.set(JAVA_INT, base + HINT_OFFSET, nextIndex(slot));
        return slot;
      }
    }
    throw corrupt("records " + occupied + " occupied slots of " + capacity + ", but none is free");
  }

  private int nextIndex(int slot) {
    return slot + 1 == capacity ? 0 : slot + 1;
  }

  private CompletableFuture<WaitOutcome> armKernelWait(QueueWaiter waiter) {
    return ring.wait(
        word(waiter.slot),
        WAITING,
        FutexRing.ANY_BITSET,
        Deadlines.timeoutUntil(waiter.deadline),
        AbandonedWakeHandler.PASS_ON); // never fires: no wait here is abandoned (see overview)
  }

  private static void listen(QueueWaiter waiter, CompletableFuture<WaitOutcome> wait) {
    waiter.kernelWait = wait; // for a close without the list lock: see abandonSlots
    wait.whenComplete(waiter::kernelWaitEnded); // captures the waiter alone: 16 bytes a wait
  }

  /**
   * The waiter's kernel wait ended: woken, EAGAIN, timed out, or the ring failed. Usually on the
   * ring's completion thread, which must never wait for the list lock (see the overview, Never
   * waiting): if the lock is busy the decision is deferred, but a timeout fails the future now.
   */
  void kernelWaitEnded(QueueWaiter waiter, Throwable failure) {
    Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
    if (!enterInternal()) {
      return; // closed without waiting for this wait: see the overview, Closing
    }
    Decision decision = new Decision(waiter, cause);
    Runnable outcome;
    boolean deferIt = false;
    boolean timedOutNow = false;
    CompletableFuture<WaitOutcome> again = null;
    try {
      outcome = tryNow(decision);
      if (outcome == null) {
        // The list lock is busy. Lock-free, only this waiter's own slot word is read: the slot is
        // ours until this waiter releases it (see the overview), so its state is meaningful.
        int state = lvState(waiter.slot);
        boolean timedOut =
            cause instanceof TimeoutException
                || (cause == null && Deadlines.passed(waiter.deadline));
        if (state == WAITING && cause == null && !timedOut) {
          again = armKernelWait(waiter); // a stale wake or EAGAIN: nothing to decide
        } else {
          timedOutNow = state == WAITING && timedOut;
          deferIt = true; // the slot is freed (a late wake passed on) once the lock is free
        }
      }
    } catch (RuntimeException e) { // a damaged region: tell the waiter rather than the ring
      outcome = () -> waiter.fail(e);
    } catch (InternalError fault) { // a truncated file: the same, as a ringlock exception
      RuntimeException truncated = region.truncated(fault);
      outcome = () -> waiter.fail(truncated);
    } finally {
      internalCalls.decrementAndGet();
    }
    if (outcome != null) {
      outcome.run();
    } else if (again != null) {
      listen(waiter, again);
    } else if (deferIt) {
      if (timedOutNow) {
        waiter.fail(timeoutFailure()); // on time, whoever holds the list lock
      }
      defer(decision);
    }
  }

  private TimeoutException timeoutFailure() {
    return new TimeoutException(describe() + ": no wake chose this waiter in time");
  }

  /** What the end of a waiter's kernel wait means, decided under the list lock. */
  private final class Decision implements ListTask {
    private final QueueWaiter waiter;
    private final Throwable cause;

    Decision(QueueWaiter waiter, Throwable cause) {
      this.waiter = waiter;
      this.cause = cause;
    }

    @Override
    public Runnable underLock(List<FutexWord> wakes) {
      Verdict verdict = decide(waiter, cause);
      switch (verdict) {
        case WOKEN_ONE -> {
          passOnsUnsettled.add(waiter); // before the guard is left: close() settles what is left
          return () -> settlePassOn(waiter, waiter.woken());
        }
        case WOKEN_ALL -> {
          return waiter::woken;
        }
        case TIMED_OUT -> {
          return () -> waiter.fail(timeoutFailure());
        }
        case FAILED -> {
          return () -> waiter.fail(cause);
        }
        case WAIT_AGAIN -> {
          CompletableFuture<WaitOutcome> again = armKernelWait(waiter);
          return () -> listen(waiter, again);
        }
        default -> {
          return null;
        }
      }
    }

    @Override
    public void abandoned(RuntimeException failure) {
      waiter.fail(failure);
    }
  }

  /** Under the list lock: what the end of the waiter's kernel wait means (see the overview). */
  private Verdict decide(QueueWaiter waiter, Throwable cause) {
    if (waiter.released) {
      return Verdict.NOTHING; // close() gave the slot up
    }
    int slot = waiter.slot;
    int state = lvState(slot);
    switch (state) {
      case WOKEN_ONE, WOKEN_ALL -> {
        release(waiter);
        return state == WOKEN_ONE ? Verdict.WOKEN_ONE : Verdict.WOKEN_ALL;
      }
      case CANCELLED -> {
        release(waiter);
        return Verdict.NOTHING;
      }
      case WAITING -> {
        if (cause == null && !Deadlines.passed(waiter.deadline)) {
          return Verdict.WAIT_AGAIN; // a stale wake, or EAGAIN: nobody chose this slot
        }
        unlink(slot);
        release(waiter);
        return cause == null || cause instanceof TimeoutException
            ? Verdict.TIMED_OUT
            : Verdict.FAILED;
      }
      default -> throw badState(slot, state);
    }
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
      // Outside the guard: it may run deferred work, whose outcomes complete futures. Never
      // waits: this may be the ring's completion thread.
      runNowOrDefer(
          wakes -> {
            if (passOnsOwed.getAndUpdate(owed -> Math.max(0, owed - 1)) > 0) {
              choose(1, Long.MAX_VALUE, WOKEN_ONE, wakes);
            } // else close() took it over
            return null;
          });
    }
  }

  /**
   * The caller completed a pending waiter (cancel, complete, orTimeout...): take it off. Never
   * waits for the list lock: the caller may be the ring's thread or the JDK's shared delayer
   * thread.
   */
  void withdraw(QueueWaiter waiter) {
    runNowOrDefer(
        wakes -> {
          if (!waiter.released && lvState(waiter.slot) == WAITING) {
            unlink(waiter.slot);
            soState(waiter.slot, CANCELLED);
            releasesPending++;
            // Ends the kernel wait (or makes it end with EAGAIN when it arms); its completion
            // frees the slot. A WOKEN slot needs nothing: its wake is on the way, and its
            // completion passes the wake on if it was WOKEN_ONE.
            wakeOwnWord(waiter.slot);
          }
          return null;
        });
  }

  /**
   * Passes on {@code count} WOKEN_ONE wakes this process consumed and will not use (a declined
   * wake, a condition's consumed signal), to the longest waiters. Never waits for the list lock.
   */
  void passOn(int count) {
    runNowOrDefer(
        wakes -> {
          choose(count, Long.MAX_VALUE, WOKEN_ONE, wakes);
          return null;
        });
  }

  // ---- waking ----

  private int wakePublic(int count, long keyLimit, int wokenState) {
    enterPublic();
    try {
      return wakeWaiters(count, keyLimit, wokenState);
    } catch (InternalError fault) {
      throw region.truncated(fault);
    } finally {
      publicCalls.decrementAndGet();
    }
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
    runNowOrDefer(
        wakes -> {
          choose(count, Long.MAX_VALUE, wokenState, wakes);
          return null;
        });
  }

  /** Chooses up to {@code count} waiters with keys up to {@code keyLimit} and wakes them. */
  private int wakeWaiters(int count, long keyLimit, int wokenState) {
    List<FutexWord> chosen;
    lockListFor(Deadlines.NONE);
    try {
      chosen = new ArrayList<>(Math.min(count, waitingCount()));
      choose(count, keyLimit, wokenState, chosen);
    } finally {
      unlockList();
    }
    issueWakes(chosen);
    return chosen.size();
  }

  /** Under the list lock: unlinks the chosen slots, oldest first, and marks them woken. */
  private void choose(int count, long keyLimit, int wokenState, List<FutexWord> chosen) {
    int slot = head();
    for (int steps = 0; slot != NONE && chosen.size() < count; steps++) {
      if (steps == capacity) {
        throw corrupt("has a cycle in its list of waiters");
      }
      int next = next(slot);
      int state = lvState(slot);
      if (state != WAITING) {
        throw badState(slot, state);
      }
      if (!ownerAlive(owner(slot))) {
        reclaim(slot, state); // a dead waiter takes no wake: see the overview, Process death (a)
      } else if (memory.get(JAVA_LONG, slotAt(slot) + KEY_OFFSET) <= keyLimit) {
        unlink(slot);
        soState(slot, wokenState); // before the wake: see the overview
        chosen.add(word(slot));
      }
      slot = next;
    }
  }

  /** One ring request for all of them (if any): every FUTEX_WAKE in one io_uring_enter. */
  private void issueWakes(List<FutexWord> chosen) {
    if (chosen.isEmpty()) {
      return;
    }
    CompletableFuture<Void> sent = ring.wakeEach(chosen);
    if (!sent.isDone()) {
      wakesInFlight.add(sent); // close() makes sure these reach the kernel before it unmaps
      sent.whenComplete((ignored, failure) -> wakesInFlight.remove(sent));
    }
  }

  /**
   * Completes when every wake this process has handed to the ring so far has been made in the
   * kernel (the wake calls themselves return before that): for benchmarks and tests.
   */
  public CompletableFuture<Void> wakesSent() {
    return CompletableFuture.allOf(wakesInFlight.toArray(CompletableFuture[]::new));
  }

  private void wakeOwnWord(int slot) {
    Futex.wake(word(slot), 1, FutexRing.ANY_BITSET);
  }

  // ---- closing ----

  /**
   * Fails this process's waiters with {@link RegionClosedException}, frees their slots (see the
   * overview for those whose kernel wait does not end in time), passes on the WOKEN_ONE wakes they
   * declined, and makes sure every wake this process handed to the ring has reached the kernel. The
   * caller unmaps the memory afterwards. Finishes in bounded time whatever the state of the queue:
   * a list lock held by a live process, or a damaged lock word or list, makes it close without the
   * lock (see the overview, Closing). Idempotent; never throws.
   */
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    awaitNone(publicCalls); // each finishes soon: a call waiting for the list lock gives way
    boolean patient = !ring.inCompletionThread(); // only that thread completes kernel waits
    RegionClosedException failure = closedException();
    long patienceEnd = System.nanoTime() + (patient ? CLOSE_PATIENCE_NANOS : 0);
    // On the completion thread, one try: it never waits for another process.
    long lockNanos = patient ? Math.min(lockTimeoutNanos, CLOSE_PATIENCE_NANOS) : 0;
    List<QueueWaiter> ours = new ArrayList<>();
    List<Runnable> outcomes = new ArrayList<>();
    boolean listed = cancelOursUnderLock(lockNanos, ours, outcomes);
    outcomes.forEach(Runnable::run); // the work deferred before close, now done
    if (!listed) {
      closeWithoutLock(failure, patienceEnd);
      return;
    }
    for (QueueWaiter waiter : ours) {
      waiter.fail(failure);
      wakeOwnWord(waiter.slot); // ends its kernel wait, whose completion frees the slot
    }
    while (localWaiters > 0 && System.nanoTime() - patienceEnd < 0) {
      LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100));
    }
    drained = true;
    awaitNone(internalCalls);
    settleAfterDrain(failure, lockNanos, patienceEnd);
    flushWakes(patient ? patienceEnd : 0);
  }

  /**
   * Under the list lock, if it can be had within {@code lockNanos}: runs the work deferred so far,
   * stops watching other processes, and takes this process's WAITING slots off the list
   * (CANCELLED). False if the lock could not be had or the list is damaged.
   */
  private boolean cancelOursUnderLock(
      long lockNanos, List<QueueWaiter> ours, List<Runnable> outcomes) {
    if (!lockListForClose(lockNanos)) {
      return false;
    }
    List<FutexWord> wakes = new ArrayList<>(0);
    try {
      runDeferredLocked(wakes, outcomes);
      stopWatching();
      for (int slot = 0; slot < capacity; slot++) {
        QueueWaiter waiter = local[slot];
        if (waiter != null) {
          ours.add(waiter);
          if (lvState(slot) == WAITING) {
            unlink(slot);
            soState(slot, CANCELLED);
            releasesPending++;
          }
        }
      }
    } catch (RuntimeException e) {
      return false; // a damaged list: close without it
    } finally {
      unlockForClose();
    }
    issueWakes(wakes);
    return true;
  }

  /** After the drain: give up slots still ours, and pass on the wakes nobody settled. */
  private void settleAfterDrain(RegionClosedException failure, long lockNanos, long patienceEnd) {
    List<QueueWaiter> unsettled = List.copyOf(passOnsUnsettled);
    for (QueueWaiter waiter : unsettled) {
      waiter.fail(failure); // if it has not taken the wake yet, it never will
    }
    if (!lockListForClose(lockNanos)) {
      abandonDeferred(failure);
      abandonSlots(patienceEnd); // those pass-ons are lost: see the overview, Closing
      return;
    }
    List<FutexWord> wakes = new ArrayList<>(0);
    List<Runnable> outcomes = new ArrayList<>();
    try {
      runDeferredLocked(wakes, outcomes); // deferred since the first pass: pass-ons, mostly
      int owed = 0;
      for (int slot = 0; slot < capacity; slot++) {
        QueueWaiter waiter = local[slot];
        if (waiter != null) {
          // Its kernel wait has not ended: the slot stays reserved for this process (overview).
          waiter.released = true;
          if (lvState(slot) == WOKEN_ONE && !waiter.tookTheWake() && waiter.claimPassOn()) {
            owed++;
          }
        }
      }
      for (QueueWaiter waiter : unsettled) {
        if (!waiter.tookTheWake() && waiter.claimPassOn()) {
          owed++;
        }
      }
      owed += passOnsOwed.getAndSet(0); // claimed, but refused by the drain or never run
      choose(owed, Long.MAX_VALUE, WOKEN_ONE, wakes);
    } catch (RuntimeException e) {
      // A damaged list: the wakes owed cannot be passed on; the slots stay reserved as above.
    } finally {
      unlockForClose();
    }
    issueWakes(wakes);
    outcomes.forEach(Runnable::run); // completions of failed waiters: no-ops by now
  }

  /**
   * close() without the list lock (held by a live process, or damaged): fails every waiter of this
   * process and makes its slots nobody's, so that any other process reclaims them as it reclaims a
   * dead process's (see the overview, Closing). Touches only this process's own slots' words.
   */
  private void closeWithoutLock(RegionClosedException failure, long patienceEnd) {
    drained = true;
    awaitNone(internalCalls); // from now on nothing of this process touches the list
    abandonDeferred(failure);
    stopWatching(); // this process's own bookkeeping: the list lock guards it only locally
    for (QueueWaiter waiter : passOnsUnsettled) {
      waiter.fail(failure); // a wake it declined cannot be passed on without the lock
    }
    abandonSlots(patienceEnd);
    flushWakes(patienceEnd);
  }

  /**
   * After the drain, without the list lock: fails the waiters that still own a slot, ends their
   * kernel waits, and writes 0 as each slot's owner once its wait has ended (or the patience ran
   * out). Every process treats a slot owned by pid 0 as a dead process's: a waker walking the list
   * skips and reclaims it, the periodic sweep frees it, and a WOKEN_ONE wake in it is passed on.
   */
  private void abandonSlots(long patienceEnd) {
    RegionClosedException failure = closedException();
    List<QueueWaiter> owning = new ArrayList<>();
    for (int slot = 0; slot < capacity; slot++) {
      QueueWaiter waiter = local[slot];
      if (waiter != null && !waiter.released) {
        owning.add(waiter);
        waiter.released = true;
        waiter.fail(failure);
        wakeOwnWord(slot);
      }
    }
    for (QueueWaiter waiter : owning) {
      CompletableFuture<WaitOutcome> wait = waiter.kernelWait;
      while (wait != null && !wait.isDone() && System.nanoTime() - patienceEnd < 0) {
        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100));
      }
      // Release: the states and wakes this process wrote before are seen by whoever reads 0.
      INT.setRelease(memory, slotAt(waiter.slot) + OWNER_OFFSET, 0);
    }
  }

  /** Releases the list lock at close, where a stolen lock (damage) is no reason to stop. */
  private void unlockForClose() {
    try {
      unlockList();
    } catch (RuntimeException e) {
      // Another process took it from us: the region is damaged; close goes on regardless.
    }
  }

  /**
   * Every wake this process queued on the ring must reach the kernel while the memory is mapped: a
   * FUTEX_WAKE of an unmapped word fails, and its waiter, perhaps in another process, sleeps on.
   * Joins them until {@code patienceEnd}; any left are made here, by system call, for every slot
   * still WOKEN (those are exactly the waiters still owed a wake, by us or anyone). The states are
   * read without the list lock: a spurious wake is harmless, its waiter reads its state again.
   */
  private void flushWakes(long patienceEnd) {
    boolean allSent = true;
    for (CompletableFuture<Void> sent : wakesInFlight) {
      long left = patienceEnd == 0 ? 0 : patienceEnd - System.nanoTime();
      try {
        sent.get(Math.max(0, left), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        allSent = false;
      } catch (ExecutionException e) {
        // the ring failed or closed: it made the wakes by system call (FutexRing.wakeEach)
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        allSent = false;
      }
    }
    if (allSent) {
      return;
    }
    for (int slot = 0; slot < capacity; slot++) {
      int state = lvState(slot);
      if (state == WOKEN_ONE || state == WOKEN_ALL) {
        wakeOwnWord(slot);
      }
    }
  }

  private static void awaitNone(AtomicInteger calls) {
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

  private boolean enterInternal() {
    internalCalls.incrementAndGet();
    if (drained) {
      internalCalls.decrementAndGet();
      return false;
    }
    return true;
  }

  private RegionClosedException closedException() {
    return new RegionClosedException(
        describe() + " belongs to a closed SharedRegion; open the region again to use it");
  }

  // ---- work that must not wait for the list lock (see the overview, Never waiting) ----

  /** Work to do under the list lock, for a thread that must not wait for it. */
  @FunctionalInterface
  private interface ListTask {
    /**
     * Under the list lock and inside the internal guard: does the work, adds the words to wake
     * through the ring to {@code wakes}, and returns what to do once both are left (complete
     * futures: a continuation may call close()), or null.
     */
    Runnable underLock(List<FutexWord> wakes);

    /** It will never run: the region is damaged, the ring failed, or the queue closed first. */
    default void abandoned(RuntimeException cause) {}
  }

  private static final Runnable NOTHING_MORE = () -> {};

  /**
   * Inside the internal guard: runs {@code task} now if the list lock is free and no deferred work
   * waits before it (its order is kept), and returns its outcome (never null); or returns null if
   * it must be deferred. Never waits.
   */
  private Runnable tryNow(ListTask task) {
    synchronized (deferred) {
      if (deferredServed) {
        return null; // behind the work already deferred
      }
    }
    if (!listLock.tryLock()) {
      return null;
    }
    List<FutexWord> wakes = new ArrayList<>(0);
    Runnable outcome;
    try {
      outcome = task.underLock(wakes);
    } finally {
      unlockList();
    }
    issueWakes(wakes);
    return outcome == null ? NOTHING_MORE : outcome;
  }

  /**
   * Runs {@code task} under the list lock now if it is free, else defers it. Never waits. Called
   * outside every guard of this queue: serving deferred work may complete futures.
   */
  private void runNowOrDefer(ListTask task) {
    if (!enterInternal()) {
      return; // closed: close() has settled this process's waiters
    }
    Runnable outcome;
    try {
      outcome = tryNow(task);
    } catch (RuntimeException e) {
      outcome = () -> task.abandoned(e);
    } finally {
      internalCalls.decrementAndGet();
    }
    if (outcome == null) {
      defer(task); // outside the guard: it may run the deferred work, and complete futures
    } else {
      outcome.run();
    }
  }

  /** Queues {@code task} behind the deferred work, and starts serving it if nobody does. */
  private void defer(ListTask task) {
    boolean serve;
    synchronized (deferred) {
      deferred.add(task);
      serve = !deferredServed;
      deferredServed = true;
    }
    if (serve) {
      serveDeferred(0, false);
    }
  }

  /**
   * Runs the deferred work once the list lock can be taken, without ever waiting for it: while it
   * is held, a FUTEX_WAIT on the lock word goes through the ring (announced with LOCK_WAITERS, so
   * the holder's unlock wakes it), bounded by LIST_LOCK_RECHECK so that a dead holder's lock is
   * taken over. Only one server per queue at a time ({@code deferredServed}).
   *
   * @param observed the lock word the ring wait that just ended waited on, or 0
   * @param waitTimedOut whether that wait timed out: the holder may have died
   */
  private void serveDeferred(int observed, boolean waitTimedOut) {
    boolean timedOut = waitTimedOut;
    for (; ; ) {
      if (!enterInternal()) {
        abandonDeferred(closedException());
        return;
      }
      List<Runnable> outcomes = null;
      CompletableFuture<WaitOutcome> lockWait = null;
      int waitedOn = 0;
      RuntimeException broken = null;
      try {
        boolean tookOver = timedOut && listLock.takeOverIfDead(observed);
        if (tookOver || listLock.tryLockAfterWait()) {
          outcomes = new ArrayList<>();
          List<FutexWord> wakes = new ArrayList<>(0);
          try {
            if (tookOver) {
              repair();
            }
            runDeferredLocked(wakes, outcomes);
          } finally {
            unlockList();
          }
          issueWakes(wakes);
        } else {
          waitedOn = listLock.waitValue();
          if (waitedOn != 0) {
            lockWait =
                ring.wait(
                    listLockWord,
                    waitedOn,
                    FutexRing.ANY_BITSET,
                    LIST_LOCK_RECHECK,
                    AbandonedWakeHandler.PASS_ON); // never abandoned: nobody cancels it
          }
        }
      } catch (RuntimeException e) { // a damaged lock word or list, or the ring refused
        broken = e;
      } finally {
        internalCalls.decrementAndGet();
      }
      if (broken != null) {
        abandonDeferred(broken);
        return;
      }
      if (lockWait != null) {
        int expected = waitedOn;
        lockWait.whenComplete((ignored, failure) -> listLockWaitEnded(expected, failure));
        return; // the wait's end comes back here
      }
      if (outcomes != null) {
        outcomes.forEach(Runnable::run);
        synchronized (deferred) {
          if (deferred.isEmpty()) {
            deferredServed = false;
            return;
          }
        }
      }
      timedOut = false; // more work came meanwhile, or the lock was freed just now: again
    }
  }

  /** The ring wait on the list lock word ended (on the ring's completion thread). */
  private void listLockWaitEnded(int observed, Throwable failure) {
    Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
    if (cause == null || cause instanceof TimeoutException) {
      serveDeferred(observed, cause != null);
    } else {
      abandonDeferred(
          cause instanceof RuntimeException runtime
              ? runtime
              : new RingException(
                  describe() + ": the ring failed while waiting for its list lock", 0, cause));
    }
  }

  /** Under the list lock, inside the guard: runs the deferred work, in order. */
  private void runDeferredLocked(List<FutexWord> wakes, List<Runnable> outcomes) {
    for (; ; ) {
      ListTask task;
      synchronized (deferred) {
        task = deferred.poll();
      }
      if (task == null) {
        return;
      }
      try {
        Runnable outcome = task.underLock(wakes);
        if (outcome != null) {
          outcomes.add(outcome);
        }
      } catch (RuntimeException e) { // a damaged list: the task's waiter learns of it
        outcomes.add(() -> task.abandoned(e));
      }
    }
  }

  private void abandonDeferred(RuntimeException cause) {
    List<ListTask> tasks;
    synchronized (deferred) {
      tasks = List.copyOf(deferred);
      deferred.clear();
      deferredServed = false;
    }
    for (ListTask task : tasks) {
      task.abandoned(cause);
    }
  }

  // ---- the list (all under the list lock) ----

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
      repair(); // its last holder died in a critical section
    } catch (RuntimeException e) {
      listLock.unlock();
      throw e;
    }
  }

  private void unlockList() {
    listLock.unlock();
  }

  private void linkLast(int slot) {
    int tail = tail();
    long at = slotAt(slot);
    memory.set(JAVA_INT, at + NEXT_OFFSET, NONE);
    memory.set(JAVA_INT, at + PREV_OFFSET, tail);
    if (tail == NONE) {
      memory.set(JAVA_INT, base + HEAD_OFFSET, slot);
    } else {
      memory.set(JAVA_INT, slotAt(tail) + NEXT_OFFSET, slot);
    }
    memory.set(JAVA_INT, base + TAIL_OFFSET, slot);
    memory.set(JAVA_INT, base + WAITING_OFFSET, waitingCount() + 1);
  }

  private void unlink(int slot) {
    int prev = prev(slot);
    int next = next(slot);
    int waiting = waitingCount();
    if (waiting == 0
        || (prev == NONE ? head() != slot : next(prev) != slot)
        || (next == NONE ? tail() != slot : prev(next) != slot)) {
      throw corrupt("has a broken list of waiters around slot " + slot);
    }
    if (prev == NONE) {
      memory.set(JAVA_INT, base + HEAD_OFFSET, next);
    } else {
      memory.set(JAVA_INT, slotAt(prev) + NEXT_OFFSET, next);
    }
    if (next == NONE) {
      memory.set(JAVA_INT, base + TAIL_OFFSET, prev);
    } else {
      memory.set(JAVA_INT, slotAt(next) + PREV_OFFSET, prev);
    }
    memory.set(JAVA_INT, slotAt(slot) + NEXT_OFFSET, NONE);
    memory.set(JAVA_INT, slotAt(slot) + PREV_OFFSET, NONE);
    memory.set(JAVA_INT, base + WAITING_OFFSET, waiting - 1);
  }

  /** Frees the waiter's slot (already off the list) and forgets it here. */
  private void release(QueueWaiter waiter) {
    int slot = waiter.slot;
    if (lvState(slot) == CANCELLED) {
      releasesPending--;
    }
    freeSlot(slot);
    local[slot] = null;
    localWaiters--;
    removeLocal(waiter);
    waiter.released = true;
  }

  private void freeSlot(int slot) {
    int occupied = occupied();
    if (occupied == 0) {
      throw corrupt("records no occupied slot, but slot " + slot + " was in use");
    }
    memory.set(JAVA_INT, slotAt(slot) + OWNER_OFFSET, 0);
    memory.set(JAVA_LONG, slotAt(slot) + KEY_OFFSET, 0L);
    soState(slot, FREE);
    memory.set(JAVA_INT, base + OCCUPIED_OFFSET, occupied - 1);
  }

  // ---- process death (see the overview) ----

  /**
   * Under the list lock: whether a slot's owner, as the slot names it, is alive. A live foreign
   * owner is watched from now on (once per queue and pid), so that its death reclaims its slots.
   */
  private boolean ownerAlive(int owner) {
    if (owner == pid || !shared) {
      return true; // no other process maps a private queue
    }
    if (owner <= 0) {
      return false; // a slot half-freed by a list lock holder that died: nobody's
    }
    if (watchedOwners.containsKey(owner)) {
      return true; // or it has just died, and its exit listener waits for the list lock
    }
    try {
      if (closed) { // closing: ask, but leave no listener behind
        return ring.processes().isAlive(owner);
      }
      OwnerWatch watch = new OwnerWatch(owner);
      ProcessWatch.Subscription subscription = ring.processes().onExit(owner, watch);
      if (subscription == null) {
        return false;
      }
      watch.subscription = subscription;
      watchedOwners.put(owner, watch);
      return true;
    } catch (RingException e) {
      // pidfd_open failed (out of file descriptors?): never fail a wake over it, ask /proc
      return PidLock.isAlive(owner);
    }
  }

  /** A foreign owner this queue watches: its exit reclaims its slots. */
  private final class OwnerWatch implements Runnable {
    final int owner;
    ProcessWatch.Subscription subscription; // guarded by the list lock

    OwnerWatch(int owner) {
      this.owner = owner;
    }

    @Override
    public void run() {
      ownerExited(this);
    }
  }

  /** The owner exited (on the ring's completion thread): reclaim its slots, pass on its wakes. */
  private void ownerExited(OwnerWatch watch) {
    // Never waits for the list lock. A damaged region: nobody to tell on the completion thread;
    // the next call that takes the list lock reports it to its caller.
    runNowOrDefer(
        wakes -> {
          // Removed first, so that ownerAlive asks ProcessWatch again: a reused pid stays alive.
          if (watchedOwners.remove(watch.owner, watch)) {
            reclaimDeadSlots(0, capacity, wakes);
          }
          return null;
        });
  }

  /** Under the list lock, at close: no more exit listeners or periodic checks for this queue. */
  private void stopWatching() {
    for (OwnerWatch watch : watchedOwners.values()) {
      watch.subscription.cancel();
    }
    watchedOwners.clear();
    if (recheck != null) {
      recheck.cancel(false);
      recheck = null;
    }
  }

  /**
   * Under the list lock: reclaims the slots of dead processes among {@code count} slots from {@code
   * from} (wrapping around), and passes on the WOKEN_ONE wakes they did not take (into {@code
   * owedWakes}). True if any slot was freed.
   */
  private boolean reclaimDeadSlots(int from, int count, List<FutexWord> owedWakes) {
    int reclaimed = 0;
    int declined = 0;
    for (int i = 0, slot = from; i < count; i++, slot = nextIndex(slot)) {
      int state = lvState(slot);
      if (state != FREE && !ownerAlive(owner(slot))) {
        if (reclaim(slot, state)) {
          declined++;
        }
        reclaimed++;
      }
    }
    choose(declined, Long.MAX_VALUE, WOKEN_ONE, owedWakes);
    return reclaimed > 0;
  }

  /**
   * Under the list lock: frees a dead process's slot, after waking every kernel wait its ring may
   * have left on the word (see the overview, Stale kernel waits). True if the slot held a WOKEN_ONE
   * wake that nobody took, which the caller passes on.
   */
  private boolean reclaim(int slot, int state) {
    switch (state) {
      case WAITING -> unlink(slot);
      case WOKEN_ONE, WOKEN_ALL, CANCELLED -> {}
      default -> throw badState(slot, state);
    }
    Futex.wake(word(slot), FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
    freeSlot(slot);
    return state == WOKEN_ONE;
  }

  /** Under the list lock: a waiter of this process took a slot; check periodically from now on. */
  private void addLocal(QueueWaiter waiter) {
    waiter.nextLocal = firstLocal;
    if (firstLocal != null) {
      firstLocal.previousLocal = waiter;
    }
    firstLocal = waiter;
    // A check that failed (a damaged region) is done, and is scheduled again here.
    if (shared && (recheck == null || recheck.isDone())) {
      recheck = Rechecks.schedule(this::periodicCheck);
    }
  }

  /** Under the list lock: the waiter's slot is no longer its own. */
  private void removeLocal(QueueWaiter waiter) {
    QueueWaiter previous = waiter.previousLocal;
    QueueWaiter next = waiter.nextLocal;
    if (previous == null) {
      firstLocal = next;
    } else {
      previous.nextLocal = next;
    }
    if (next != null) {
      next.previousLocal = previous;
    }
    waiter.previousLocal = null;
    waiter.nextLocal = null;
  }

  /**
   * Every RECHECK_NANOS while this process has waiters (on the timer thread): ends the kernel waits
   * of local waiters whose wake was lost (a waker died before sending it), and sweeps SWEEP_SLOTS
   * slots for dead owners. See the overview, Dead wakers.
   */
  private void periodicCheck() {
    // On the JVM's one timer thread, shared by every queue: never waits for a list lock. A damaged
    // region: the waiters' own calls report it; the next await schedules a check.
    runNowOrDefer(
        wakes -> {
          recheck = null;
          for (QueueWaiter waiter = firstLocal; waiter != null; waiter = waiter.nextLocal) {
            // Chosen or cancelled, yet its kernel wait goes on. Only the second check to see it so
            // wakes it: a completion merely on its way (a wakeAll of thousands) is left alone.
            if (lvState(waiter.slot) != WAITING) {
              if (waiter.seenStalled) {
                // Every waiter: a dead process's stale wait may sit before ours (Stale kernel
                // waits). A system call under the lock: it never blocks.
                Futex.wake(word(waiter.slot), FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
              }
              waiter.seenStalled = true;
            }
          }
          int sweep = Math.min(SWEEP_SLOTS, capacity);
          reclaimDeadSlots(sweepCursor, sweep, wakes);
          sweepCursor = (int) ((sweepCursor + (long) sweep) % capacity);
          if (firstLocal != null && !closed) {
            recheck = Rechecks.schedule(this::periodicCheck);
          }
          return null;
        });
  }

  /**
   * The timer of every queue's periodic check: one daemon thread for the JVM, made on first use.
   */
  private static final class Rechecks {
    private static final ScheduledThreadPoolExecutor TIMER = timer();

    private Rechecks() {}

    static Future<?> schedule(Runnable check) {
      return TIMER.schedule(check, RECHECK_NANOS, TimeUnit.NANOSECONDS);
    }

    private static ScheduledThreadPoolExecutor timer() {
      ScheduledThreadPoolExecutor timer =
          new ScheduledThreadPoolExecutor(
              1,
              task ->
                  Thread.ofPlatform().daemon(true).name("ringlock-queue-check").unstarted(task));
      timer.setRemoveOnCancelPolicy(true); // a closed queue's check goes at once
      return timer;
    }
  }

  /**
   * The list lock was taken from a dead holder, which may have left the list half-updated. The list
   * is rebuilt from the slots' states: the WAITING slots reachable from the head keep their order,
   * the others are appended; the counts and the hint are recomputed; and every WOKEN slot's word is
   * woken, since the dead holder may have chosen it without sending the wake.
   */
  private void repair() {
    int[] order = new int[capacity]; // the WAITING slots, oldest first as far as can be told
    int waiting = 0;
    BitSet listed = new BitSet(capacity);
    int slot = memory.get(JAVA_INT, base + HEAD_OFFSET);
    while (slot >= 0 && slot < capacity && !listed.get(slot)) {
      if (lvState(slot) == WAITING) {
        listed.set(slot);
        order[waiting++] = slot;
      }
      slot = memory.get(JAVA_INT, slotAt(slot) + NEXT_OFFSET);
    }
    int occupied = 0;
    for (slot = 0; slot < capacity; slot++) {
      int state = lvState(slot);
      if (state != FREE) {
        occupied++;
      }
      if (state == WAITING && !listed.get(slot)) {
        order[waiting++] = slot;
      } else if (state == WOKEN_ONE || state == WOKEN_ALL) {
        wakeOwnWord(slot);
      }
    }
    for (int i = 0; i < waiting; i++) {
      memory.set(JAVA_INT, slotAt(order[i]) + PREV_OFFSET, i == 0 ? NONE : order[i - 1]);
      memory.set(JAVA_INT, slotAt(order[i]) + NEXT_OFFSET, i == waiting - 1 ? NONE : order[i + 1]);
    }
    memory.set(JAVA_INT, base + HEAD_OFFSET, waiting == 0 ? NONE : order[0]);
    memory.set(JAVA_INT, base + TAIL_OFFSET, waiting == 0 ? NONE : order[waiting - 1]);
    memory.set(JAVA_INT, base + WAITING_OFFSET, waiting);
    memory.set(JAVA_INT, base + OCCUPIED_OFFSET, occupied);
    memory.set(JAVA_INT, base + HINT_OFFSET, 0);
  }

  // ---- shared memory, checked (under the list lock: plain accesses, ordered by the lock) ----

  private long slotAt(int slot) {
    return base + WaitQueueDescriptor.slotOffset(slot);
  }

  /** The state word: also read by the kernel's FUTEX_WAIT compare and by toString. */
  private int lvState(int slot) {
    return (int) INT.getAcquire(memory, slotAt(slot) + STATE_OFFSET);
  }

  private void soState(int slot, int state) {
    INT.setRelease(memory, slotAt(slot) + STATE_OFFSET, state);
  }

  private int head() {
    return checkedIndex(memory.get(JAVA_INT, base + HEAD_OFFSET), "head");
  }

  private int tail() {
    return checkedIndex(memory.get(JAVA_INT, base + TAIL_OFFSET), "tail");
  }

  private int next(int slot) {
    return checkedIndex(memory.get(JAVA_INT, slotAt(slot) + NEXT_OFFSET), "next");
  }

  private int prev(int slot) {
    return checkedIndex(memory.get(JAVA_INT, slotAt(slot) + PREV_OFFSET), "prev");
  }

  /** The slot's owner pid, as the slot names it: a pid of no live process is treated as dead. */
  private int owner(int slot) {
    return memory.get(JAVA_INT, slotAt(slot) + OWNER_OFFSET);
  }

  private int waitingCount() {
    return checkedCount(memory.get(JAVA_INT, base + WAITING_OFFSET), "waiting");
  }

  private int occupied() {
    return checkedCount(memory.get(JAVA_INT, base + OCCUPIED_OFFSET), "occupied");
  }

  private int checkedIndex(int index, String field) {
    String problem = WaitQueueDescriptor.indexProblem(field, index, capacity);
    if (problem == null) {
      return index;
    }
    throw corrupt("has a " + problem);
  }

  private int checkedCount(int count, String field) {
    String problem = WaitQueueDescriptor.countProblem(field, count, capacity);
    if (problem == null) {
      return count;
    }
    throw corrupt("records " + problem);
  }

  private UncheckedIOException badState(int slot, int state) {
    return corrupt("has " + WaitQueueDescriptor.stateProblem(slot, state));
  }

  private UncheckedIOException corrupt(String finding) {
    return region.corruption("has a " + describe() + " that " + finding);
  }

  private FutexWord word(int slot) {
    FutexWord word = words[slot];
    if (word == null) {
      word = FutexWord.of(memory, slotAt(slot) + STATE_OFFSET, scope);
      words[slot] = word;
    }
    return word;
  }

  private String describe() {
    return kind + " '" + name + "'";
  }
}
