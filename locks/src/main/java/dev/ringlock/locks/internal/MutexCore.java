package dev.ringlock.locks.internal;

import static dev.ringlock.core.memory.RegionDescriptor.MAX_PID;
import static dev.ringlock.core.memory.RegionDescriptor.PID_MASK;
import static dev.ringlock.locks.internal.MutexDescriptor.OWNER_DIED;
import static dev.ringlock.locks.internal.MutexDescriptor.WAITERS;
import static dev.ringlock.locks.internal.MutexDescriptor.notRecoverable;
import static dev.ringlock.locks.internal.MutexDescriptor.ownerOf;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.WakeSignal;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.MutexLock;
import dev.ringlock.locks.NotRecoverableException;
import dev.ringlock.locks.OwnerDeathPolicy;
import dev.ringlock.locks.RegionClosedException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/*
 * Overview
 *
 * One process's view of one mutex. The shared state is the 64-byte object of MutexDescriptor:
 * the word (0 = free, else owner pid | WAITERS | OWNER_DIED), the fence, the count of processes
 * sleeping in the kernel and the table of starving processes. The local state is a FIFO queue of this
 * process's pending requests (LockFutures in a RequestQueue) and at most one kernel wait, the
 * Sleeper, armed on their behalf: however many futures wait here, one FUTEX_WAIT stands for them
 * in the kernel. Both belong to the waiting mechanism this class stands on (QueuedPrimitive, with
 * SemaphoreCore): it calls decide() on each event (arrival, sleeper done, release, peer exit) and
 * runs the effects that decision leaves once the monitor is released. This class supplies the
 * decisions on the word; the starving table (StarvingTable) and the private conditions of
 * asLock() (LocalConditions) live in their own classes.
 *
 * The word follows Drepper's "mutex3" futex protocol, with the pid in place of 1:
 *   acquire: CAS free -> pid; contended, set WAITERS and FUTEX_WAIT on the value with WAITERS;
 *            an acquirer that slept keeps WAITERS set, since others may still sleep.
 *   release: getAndSet(0); if the old value had WAITERS, FUTEX_WAKE one.
 * A waiter sets WAITERS before it sleeps, with a CAS on the value it then waits on, and the
 * releaser's getAndSet returns whatever WAITERS was at the moment of release; so either the
 * releaser sees the bit and wakes, or the sleeper's CAS or FUTEX_WAIT sees the word change and
 * does not sleep. No wake is lost. Wakes are WakeSignals: fire-and-forget, batched per ring
 * iteration, and coalesced while queued, which the protocol allows (a queued wake reaches the
 * kernel after every release that asked for it).
 *
 * Free is 0, or WAITERS alone: a waiter that stands back for a starving process (below) sets
 * WAITERS on a free word and sleeps on it.
 *
 * In-process handoff. A release with requests queued here gives the lock straight to the oldest
 * (the word keeps our pid; no kernel round trip), unless another process is starving, or the
 * handoff would be the LOCAL_HANDOFF_LIMIT-th in a row while another process sleeps on the word:
 * then the lock goes back through the word, which wakes a sleeper of the other process, so that
 * it can find out it is starving.
 *
 * Fairness. Arrivals may barge: take a free word ahead of sleepers. When the sleeper completes
 * and the oldest request here has waited STARVATION_MILLIS, this process counts itself in the
 * region's starving word (once). While another process is counted, nobody barges, nobody hands
 * over in-process, and a free word goes only to a waiter the kernel woke, which is the longest
 * sleeper (futex wait queues are FIFO), or to a starving process. The count drops when the
 * starving process gets the lock, or its queue empties. So barging is bounded in time and in
 * handoffs.
 *
 * A starving process never stands back, not even for another starving one: a release's wake can
 * find the kernel queue empty while every process is between waits, and if all of them stood back
 * they would all sleep on the free word with nobody left to wake them. Whoever is counted takes
 * the word when it sees it free; when a count drops and the word is free, that process wakes one
 * sleeper, since others may be standing back for it.
 *
 * The sleeper's expected value is the word as it was, with WAITERS; its linked timeout is the
 * earliest deadline in the queue. It is armed while requests are queued and the lock is not held
 * through this object (or a queued request has a deadline, which needs the kernel's timer). While
 * this object holds the lock, none is needed: its release hands over in-process, or clears the
 * word and then pumps the queue itself. That keeps in-process contention off the ring entirely.
 * When the sleeper is no longer needed it is cancelled; a wake it consumed in that race is passed
 * on by the ring (AbandonedWakeHandler.PASS_ON), and one it consumed with nobody left to use it is
 * passed on here.
 *
 * Owner death. A process that dies holding the word never releases it, and the kernel's robust
 * list (glibc's) cannot help, so processes watch each other: while a sleeper is armed, the
 * processes it waits for (the owner, or the starving processes it stands back for) are watched in
 * the peer-watch registry (PeerWatches: a pidfd poll on the ring, shared by everything in this
 * process that watches that pid), and unwatched when the sleeper is forgotten. When one exits
 * (PEER_EXIT), the sleeper is cancelled and the queue decides afresh. A word
 * held by a process that is not alive is taken over with a CAS from that very value to
 * pid | WAITERS | OWNER_DIED: of all the waiters that saw the death, in any process, the CAS lets
 * exactly one through. Its guard reports ownerDied(). markConsistent() clears OWNER_DIED; a
 * release that finds the guard still inconsistent stores OWNER_DIED without a pid (not
 * recoverable, for good) and wakes every sleeper, and every process fails its queue.
 * tryLock and a later lock() check the owner the same way, so a death nobody was waiting for is
 * noticed too. Whether a pid is alive is PeerWatches's one definition (a zombie is dead) and
 * policy (cannot tell: alive, so a live owner is never robbed): a lookup while a watch on it
 * exists, and otherwise a probe that keeps nothing open.
 *
 * PID reuse: the watch (a pidfd, which names one process, never a number) is opened before the
 * sleeper is armed, and the sleeper's FUTEX_WAIT compares the word with the value the decision
 * was made on. If the pid left the word in between (released; perhaps reused since), the wait
 * fails with EAGAIN and the pump decides again; and a takeover is a CAS from that same value.
 *
 * The exit watch also covers an owner killed between freeing the word and its wake reaching the
 * kernel (there is no FUTEX_WAKE_OP in io_uring to make them one step): its sleepers watched it,
 * so its exit makes them look at the word, find it free and take it. What no watch covers: a
 * dying process's kernel wait that outlives it by a moment and consumes a wake, or a sleeper that
 * watched an owner that has since changed. Every wait therefore re-checks the word after at most
 * Sleeper.RECHECK_MILLIS, which bounds what any lost wake costs.
 *
 * Starving processes are recorded by pid, so a dead one's mark is found and cleared, and a mark
 * of a live process that is not waiting here decays (StarvingTable's overview).
 *
 * Distrust. Every pid read from the region (the owner in the word, a starving slot) is checked
 * against pid_max before ProcessWatch is asked about it, and the fence before it is incremented;
 * a bad one is InvalidRegionException(CORRUPT) naming this mutex (MutexDescriptor's *Problem
 * methods, shared with RegionSnapshot), thrown to the caller or, found by the pump, failing every
 * queued request. A fault on the memory itself (InternalError: the file shrank) becomes
 * TRUNCATED the same way, and every CAS on the region reads the word first (casWord), since a
 * CAS on a vanished page kills the JVM with SIGBUS where a read only throws.
 * The count of sleeping processes is not repaired: a dead process stays counted, which only
 * makes releases go through the word once every LOCAL_HANDOFF_LIMIT in-process handoffs.
 *
 * Memory ordering: the word's CAS and getAndSet are volatile (full) accesses; they order the
 * protected data between holders in any process, and the fence read (acquire) and write (release)
 * by the holder. In-process handoff orders through this monitor and the future's completion.
 * The counts are plain atomic adds: they steer policy, not safety.
 *
 * Locking: `this` guards the queue, the sleeper and the starving mark (QueuedPrimitive's monitor
 * rule). Futures are completed, and sleepers cancelled, only after the monitor is released
 * (Effects), because completion runs user continuations.
 */
public final class MutexCore extends QueuedPrimitive<LockFuture> implements Mutex {
  /** How long a request may wait before its process marks the mutex as starving. */
  public static final int STARVATION_MILLIS = 1;

  /** In-process handoffs allowed in a row while another process sleeps on the word. */
  public static final int LOCAL_HANDOFF_LIMIT = 32;

  /**
   * How long one process must see the same starving marks on a free word, at every look, before it
   * clears them as stale (StarvingTable.MARK_DECAY_MILLIS).
   */
  public static final int STARVING_MARK_DECAY_MILLIS = StarvingTable.MARK_DECAY_MILLIS;

  private static final long STARVATION_NANOS = TimeUnit.MILLISECONDS.toNanos(STARVATION_MILLIS);

  private final String name;
  private final MappedRegion region; // names the file in corruption reports
  private final MutexWords words; // the object's fields, by access mode
  private final FutexWord word;
  private final FutexRing ring;
  private final WakeSignal wakeOne;
  private final int pid;
  private final boolean localHandoff;
  private final int spinTries;
  private final LocalConditions localConditions; // of asLock().newCondition()
  private final StarvingTable starving; // the region's starving marks, as this process sees them

  private volatile BlockingLock lockView; // asLock(): OwnerDeathPolicy.REPORT
  private volatile BlockingLock releasingLockView; // asLock(OwnerDeathPolicy.RELEASE)

  private final Set<AnyMutex> anyWaiters = ConcurrentHashMap.newKeySet(); // lockAny waits on us
  // This object holds the word for one of its guards. Plain: written by whoever takes or clears
  // the word, ordered by the word's own volatile CAS/getAndSet; pump reads it only together with
  // the word (see release for why a stale value cannot strand the queue), and close() reads it.
  private boolean holding;

  // ---- guarded by this, as are the queue and the sleeper ----
  private int localHandoffsInARow;

  /**
   * @param memory the region
   * @param offset where the mutex object starts (MutexDescriptor.SIZE bytes, 64-byte aligned)
   */
  public MutexCore(
      String name,
      MappedRegion region,
      long offset,
      FutexScope scope,
      FutexRing ring,
      int pid,
      boolean localHandoff,
      int spinTries,
      int conditionCapacity) {
    if (pid <= 0 || pid > PID_MASK) {
      throw new IllegalArgumentException("process id " + pid + " does not fit the lock word");
    }
    MemorySegment memory = region.segment();
    FutexWord word = FutexWord.of(memory, offset + MutexDescriptor.WORD_OFFSET, scope);
    super(ring, word, memory, offset + MutexDescriptor.SLEEPERS_OFFSET, true);
    this.name = name;
    this.region = region;
    this.words = new MutexWords(memory, offset);
    this.word = word;
    this.ring = ring;
    this.wakeOne = ring.wakeSignal(word, 1, FutexRing.ANY_BITSET);
    this.pid = pid;
    this.localHandoff = localHandoff;
    this.spinTries = spinTries;
    this.localConditions =
        new LocalConditions(name, ring, pid, conditionCapacity, this::closedException);
    this.starving = new StarvingTable(words, pid, this::alive, this::corrupt);
  }

  // ---- shared memory, access mode in the name ----

  private int lvWord() {
    return words.lvWord();
  }

  /**
   * Read first, then CAS (test-and-test-and-set): on a page that the file no longer covers (shrunk
   * under the mapping) a compareAndSet kills the JVM with SIGBUS, where the read throws
   * InternalError, which the public API turns into InvalidRegionException(TRUNCATED). A value that
   * differs would fail the CAS anyway. See docs/validation.md, the CAS audit.
   */
  private boolean casWord(int expected, int next) {
    return words.casWord(expected, next);
  }

  private int xchgWord(int next) {
    return words.xchgWord(next);
  }

  private void clearOwnerDied() {
    words.andWord(~OWNER_DIED);
  }

  /**
   * Only the holder calls this, so a plain increment is enough; the word orders it. A recorded
   * fence that cannot be incremented is corruption: the word just taken is released again (waking a
   * sleeper if it had WAITERS), so the mutex is left as free as it was, and every acquisition
   * reports the damage instead of handing out a negative fence.
   */
  private long nextFence() {
    long last = words.laFence();
    String problem = MutexDescriptor.fenceProblem(last);
    if (problem != null) {
      holding = false;
      if ((xchgWord(0) & WAITERS) != 0) {
        wakeOne.signal();
      }
      throw corrupt(problem);
    }
    long fence = last + 1;
    words.srFence(fence);
    return fence;
  }

  /** Damage found in this mutex's memory, named after it (InvalidRegionException, CORRUPT). */
  private UncheckedIOException corrupt(String problem) {
    return region.corruption("has a " + describe() + " whose " + problem);
  }

  /**
   * {@code owner} (a nonzero pid read from the word) checked before it is asked about: ProcessWatch
   * refuses what is not a pid, and a number no pid can be is damage, not a dead owner.
   */
  private int checkedOwner(int owner) {
    if (owner > MAX_PID) {
      throw corrupt("lock word names pid " + owner + ", above the largest pid " + MAX_PID);
    }
    return owner;
  }

  // ---- Mutex ----

  @Override
  public String name() {
    return name;
  }

  // Every public entry that reads the region turns a fault on its memory (InternalError: the file
  // shrank under the mapping) into InvalidRegionException(TRUNCATED); see regionFaulted.

  @Override
  public CompletableFuture<MutexGuard> lock() {
    try {
      return acquire(Deadlines.NONE, -1);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public CompletableFuture<MutexGuard> lock(Duration timeout) {
    try {
      return acquire(Deadlines.after(timeout), Deadlines.nanos(timeout));
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public Optional<MutexGuard> tryLock() {
    checkOpen();
    try {
      if (mayBarge() && tryAcquireFree()) {
        return Optional.of(newGuard(false));
      }
      return Optional.ofNullable(tryAcquireAfterDeath());
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public boolean isLocked() {
    return ownerPid() != 0;
  }

  @Override
  public int ownerPid() {
    try {
      return ownerOf(lvWord());
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
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
  public boolean isConsistent() {
    try {
      int v = lvWord();
      if ((v & OWNER_DIED) != 0) {
        return false;
      }
      int owner = ownerOf(v);
      return owner == 0 || owner == pid || alive(owner);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public MutexLock asLock() {
    return asLock(OwnerDeathPolicy.REPORT);
  }

  @Override
  public MutexLock asLock(OwnerDeathPolicy policy) {
    boolean releasing =
        switch (policy) {
          case REPORT -> false;
          case RELEASE -> true;
        };
    BlockingLock view = releasing ? releasingLockView : lockView;
    if (view == null) {
      synchronized (this) {
        view = releasing ? releasingLockView : lockView;
        if (view == null) {
          view = new BlockingLock(this, policy);
          if (releasing) {
            releasingLockView = view;
          } else {
            lockView = view;
          }
        }
      }
    }
    return view;
  }

  /**
   * Not recoverable (OWNER_DIED without a pid; WAITERS perhaps) to free, with a CAS from the value
   * read: a process that took the word meanwhile is never overwritten. Nobody sleeps on a
   * not-recoverable word for long (every sleeper was woken when it became so, and fails), but a
   * stale WAITERS bit gets its wake anyway.
   */
  @Override
  public boolean resetNotRecoverable() {
    checkOpen();
    try {
      int v = lvWord();
      if (!notRecoverable(v) || !casWord(v, 0)) {
        return false;
      }
      if ((v & WAITERS) != 0) {
        ring.wake(word, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
      }
      return true;
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public String toString() {
    int v = lvWord();
    int owner = v & PID_MASK;
    String local;
    synchronized (this) {
      local =
          ", "
              + queue.length()
              + " queued here"
              + (sleeper.isArmed() ? ", a kernel wait armed" : "")
              + (starving.isMarked() ? ", starving here" : "");
    }
    return "Mutex['"
        + name
        + "', "
        + (notRecoverable(v) ? "not recoverable" : owner == 0 ? "free" : "held by pid " + owner)
        + ((v & OWNER_DIED) != 0 && owner != 0 ? " after its owner died" : "")
        + ((v & WAITERS) != 0 ? " with waiters" : "")
        + local
        + ", starving processes "
        + starving.snapshot()
        + ", sleeping processes "
        + sleeper.processesSleeping()
        + "]";
  }

  // ---- acquiring ----

  private CompletableFuture<MutexGuard> acquire(long deadline, long timeoutNanos) {
    checkOpen();
    if (mayBarge()) {
      if (tryAcquireFree()) {
        return newGuard(false).asCompletedFuture();
      }
      for (int i = 0; i < spinTries && mayBarge(); i++) {
        Thread.onSpinWait();
        if ((lvWord() & PID_MASK) == 0 && tryAcquireFree()) {
          return newGuard(false).asCompletedFuture();
        }
      }
    }
    LockFuture request = new LockFuture(this, deadline, timeoutNanos, System.nanoTime());
    arrive(request);
    return request;
  }

  /** Nobody here is queued (FIFO in-process) and no process is starving (bounded barging). */
  private boolean mayBarge() {
    return queue.length() == 0 && !starving.any();
  }

  /**
   * Takes a free word: 0, or WAITERS alone (whose bit it keeps). A failed CAS means someone else
   * changed the word; the caller decides whether to look again (the spin) or to queue.
   */
  private boolean tryAcquireFree() {
    if (casWord(0, pid) || (lvWord() == WAITERS && casWord(WAITERS, pid | WAITERS))) {
      holding = true;
      return true;
    }
    return false;
  }

  private Guard newGuard(boolean ownerDied) {
    return new Guard(this, nextFence(), ownerDied);
  }

  /**
   * tryLock's slow path, for when the word was not free to take: the mutex may be not recoverable
   * (throws), held by a dead process (taken over), or kept from barging only by a dead process's
   * starving mark (cleared, and the free word taken). Null when the mutex is simply not available.
   */
  private Guard tryAcquireAfterDeath() {
    for (; ; ) {
      int v = lvWord();
      if (notRecoverable(v)) {
        throw notRecoverableException();
      }
      if (queue.length() != 0) {
        return null; // queued requests come first; their pump watches the owner
      }
      int owner = ownerOf(v);
      if (starving.any()) {
        if (!starving.clearDead() && !(owner == 0 && starving.clearStale())) {
          return null;
        }
        continue;
      }
      if (owner == 0) {
        return tryAcquireFree() ? newGuard(false) : null;
      }
      Guard taken = takeOverIfOwnerDied(v);
      if (taken != null || owner == pid || alive(owner)) {
        return taken;
      }
      // the CAS failed: the word changed under us; decide on its new value
    }
  }

  /**
   * Takes the word over from its owner if that process is not alive: one CAS from the very value
   * read, so of every process that saw the death exactly one wins. WAITERS is set, because others
   * may sleep on the dead owner's word; OWNER_DIED until the new holder marks the state consistent.
   */
  private Guard takeOverIfOwnerDied(int v) {
    int owner = ownerOf(v);
    if (owner == 0 || owner == pid || alive(owner)) {
      return null;
    }
    if (!casWord(v, pid | WAITERS | OWNER_DIED)) {
      return null;
    }
    holding = true;
    return newGuard(true);
  }

  /**
   * Whether process {@code pid} (read from the region, checked first) is alive: PeerWatches's one
   * definition and policy (a zombie is dead; cannot tell means alive, so a dead owner is taken over
   * at a later look, never a live one now).
   */
  private boolean alive(int pid) {
    checkedOwner(pid);
    return peers.alive(pid);
  }

  /** Whether {@code owner} (nonzero) is this process or one that is alive. */
  private boolean isAliveOwner(int owner) {
    return owner == pid || alive(owner);
  }

  private NotRecoverableException notRecoverableException() {
    return new NotRecoverableException(
        describe()
            + " is not recoverable: its owner died holding it, and the process that took it over"
            + " released it without markConsistent(). Rebuild what it protects and use a new"
            + " region file or mutex name");
  }

  /**
   * The decision on the word (under the monitor; overdue requests have expired): takes the word for
   * the oldest request if it may, and keeps a sleeper armed while requests remain.
   *
   * <p>SLEEPER_WOKEN: the kernel chose this process (the longest sleeper), so it may take a free
   * word even while another process is starving. SLEEPER_DONE or SLEEPER_WOKEN: the oldest request
   * lost a round (starvation accounting). PEER_EXIT: a process the armed sleeper waited for has
   * exited (it may have died holding the word, between freeing it and waking us, or while others
   * stood back for it): the sleeper is cancelled and the queue decides afresh. WITHDRAWAL changes
   * nothing here: the next request waits for the same word.
   *
   * @param arrivingDeadline the deadline of a request just queued (Deadlines.NONE otherwise): only
   *     an arrival can make the queue's earliest deadline earlier than the sleeper's timeout
   */
  @Override
  void decide(Event event, long arrivingDeadline, Effects<LockFuture> effects) {
    boolean woken = event == Event.SLEEPER_WOKEN; // both cleared once this pump wins the word
    boolean afterWait = event.sleeperDone();
    if (event == Event.PEER_EXIT) {
      if (!sleeper.isArmed()) {
        return; // nothing sleeps here; whoever arms next looks at the word first
      }
      effects.cancel(sleeper.detach());
    }
    if (queue.isEmpty()) {
      if (woken) {
        starving.stop();
        effects.passOn(wakeOne::signal); // a wake nobody here can use belongs to someone else
      }
      leaveEmpty(effects); // a process that stops starving here wakes whoever stood back for it
      return;
    }
    if (event == Event.WITHDRAWAL
        || (sleeper.isArmed() && arrivingDeadline >= sleeper.deadline())) {
      return; // the armed sleeper stands for the queue still
    }
    LockFuture winner = null;
    effects.cancel(sleeper.detach());
    // Every `continue` follows a failed CAS, or a repair of the starving table: the word or
    // the table changed under us. Deciding afresh on the new value is always safe, and each
    // pass ends in a win, a break or an armed sleeper unless the word keeps changing.
    // A bad value read from the region (a pid no process can have, a fence that would
    // overflow) fails the whole queue with the damage: nothing here could ever succeed, and a
    // throw out of this pump (often on the ring's completion thread) would strand the queue.
    try {
      for (int v = lvWord(); ; v = lvWord()) {
        if (notRecoverable(v)) {
          effects.refuseAll(queue.unlinkAll(), notRecoverableException());
          leaveEmpty(effects);
          break;
        }
        starving.checkOwnMark(); // another process cleared our mark as stale: mark again below
        // Count before deciding: a process that stood back and only then counted itself
        // would sleep on a free word, and once every process did so nobody would wake.
        if (afterWait
            && !starving.isMarked()
            && System.nanoTime() - queue.head().queuedAt >= STARVATION_NANOS) {
          starving.start();
        }
        int owner = ownerOf(v);
        boolean free = owner == 0;
        boolean mayTakeFree = woken || starving.isMarked() || !starving.any();
        boolean ownerDied = !free && owner != pid && !alive(owner);
        if ((free && mayTakeFree) || ownerDied) {
          int acquired =
              ownerDied ? pid | WAITERS | OWNER_DIED : pid | (woken ? WAITERS : v & WAITERS);
          if (!casWord(v, acquired)) {
            continue;
          }
          holding = true;
          winner = queue.unlink(queue.head());
          effects.grant(winner, newGuard(ownerDied));
          winner = null;
          localHandoffsInARow = 0;
          starving.stop();
          if (queue.isEmpty()) {
            leaveEmpty(effects);
            break;
          }
          v = acquired; // the rest of the queue waits behind this process's hold
          owner = pid;
          free = false;
          woken = false;
          afterWait = false;
        }
        if (free && (starving.clearDead() || (!mayTakeFree && starving.clearStale()))) {
          continue; // stood back for a process that is gone, or not waiting: decide again
        }
        if (localHandoff && owner == pid && holding && queue.timed() == 0) {
          // Held here: the holder's release hands over, or pumps after clearing the word. But
          // a woken sleeper that does not sleep again must leave WAITERS set, as mutex3's
          // woken waiter does: the wake it consumed may have been meant for another process,
          // whose sleeper then depends on our release seeing the bit.
          if (woken && (v & WAITERS) == 0 && !casWord(v, v | WAITERS)) {
            continue;
          }
          break;
        }
        int expected = v | WAITERS;
        if (v != expected && !casWord(v, expected)) {
          continue;
        }
        if (free && !starving.any()) {
          // Stood back on a free word, but the starving process it stood back for has since
          // won the word and released it (ABA: free again, and its release saw no WAITERS to
          // wake us for). Decide again: the free word may now be taken. A process still
          // marked after our CAS keeps the bit when it takes the word, so its release wakes.
          continue;
        }
        if (!watchWhoWeWaitFor(owner)) {
          continue; // one of them has exited already: decide again
        }
        effects.armed(sleeper.arm(expected, queue.earliestDeadline()));
        break;
      }
    } catch (UncheckedIOException | InternalError e) {
      // InternalError: a fault on the memory (the file shrank); TRUNCATED, not an Error
      UncheckedIOException damage =
          e instanceof InternalError fault ? region.truncated(fault) : (UncheckedIOException) e;
      if (winner != null) {
        effects.refuse(winner, damage); // its guard's fence was refused; the word was freed
      }
      effects.refuseAll(queue.unlinkAll(), damage);
      leaveEmpty(effects);
    }
  }

  /**
   * Watches the processes a sleeper about to be armed waits for: the owner of the word, or, on a
   * free word, the starving processes it stands back for. When one exits, the sleeper is cancelled
   * and the queue decides afresh (peer exit). False (nothing left watched) if one has exited
   * already. The first question about a pid costs its syscalls here, once.
   */
  private boolean watchWhoWeWaitFor(int owner) {
    if (owner != 0) {
      return owner == pid || watch(owner);
    }
    return starving.allOthers(this::watch);
  }

  /** Under this monitor, which then takes the registry's (see PeerWatches). */
  private boolean watch(int watchedPid) {
    checkedOwner(watchedPid);
    if (peers.watch(watchedPid)) {
      return true;
    }
    peers.unwatchAll(); // it has exited: the caller decides again, with nothing armed
    return false;
  }

  // ---- releasing ----

  /**
   * Releases the lock held through {@code guard}: hands it over in-process, or clears the word; or,
   * if the guard took the mutex over from a dead owner and never marked it consistent, makes the
   * mutex not recoverable.
   */
  void release(Guard guard) {
    checkOpen();
    try {
      releaseChecked(guard);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  private void releaseChecked(Guard guard) {
    if (guard.leavesInconsistent()) {
      releaseNotRecoverable();
      return;
    }
    LockFuture next = queue.length() > 0 ? takeForLocalHandoff() : null;
    if (next != null) {
      Guard handed;
      try {
        handed = newGuard(false);
      } catch (UncheckedIOException damage) {
        // a fence that cannot grow: nextFence freed the word; the request taken off the queue
        // for this handoff, and every other, fail with the damage rather than wait for ever
        next.fail(damage);
        failAll(damage);
        throw damage;
      }
      Grants.grant(next, handed);
      return;
    }
    holding = false;
    // getAndSet, not a store: freeing the word and reading WAITERS must be one atomic step, so a
    // sleeper's CAS that set the bit before is seen here, and one after sees 0 and does not sleep.
    int old = xchgWord(0);
    TestPausePoints.afterFreeingWord(name);
    if ((old & WAITERS) != 0) {
      wakeOne.signal();
    }
    // Requests queued here while we held, with no kernel wait armed (see pump): they compete
    // for the word now. Dekker-style with enqueue: it writes the queue's length then reads the
    // word, we wrote the word then read the length, both with full fences, so one of us sees the
    // other.
    if (localHandoff && queue.length() > 0) {
      released();
    }
  }

  /**
   * Stores "not recoverable" and wakes every sleeper, in every process: each one's pump then fails
   * its queue. This process's queue fails here.
   */
  private void releaseNotRecoverable() {
    holding = false;
    xchgWord(OWNER_DIED);
    ring.wake(word, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
    // A sleeper of ours, armed for a timed request, is among those woken: its pump finds the
    // queue empty, or refuses what was queued meanwhile.
    failAll(notRecoverableException());
  }

  /** The holder has repaired the state a dead owner left: the mutex is consistent again. */
  void markConsistent() {
    checkOpen();
    try {
      clearOwnerDied();
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  private LockFuture takeForLocalHandoff() {
    LockFuture next;
    Effects<LockFuture> effects = new Effects<>();
    synchronized (this) {
      if (!localHandoff || closed || queue.isEmpty() || starving.othersMarked()) {
        return null;
      }
      if (localHandoffsInARow >= LOCAL_HANDOFF_LIMIT && sleeper.othersSleeping()) {
        localHandoffsInARow = 0;
        return null; // let the kernel's queue have it
      }
      localHandoffsInARow++;
      next = queue.unlink(queue.head());
      if (queue.isEmpty()) {
        leaveEmpty(effects); // the word stays ours: no wake for whoever stood back
      }
    }
    effects.run(this);
    return next;
  }

  // ---- closing ----

  /**
   * Fails every queued request, withdraws the sleeper and releases a lock this process still holds
   * (it would wedge every other process). Wakes by direct system call: the mapping goes away next.
   */
  public void close() {
    if (!closeQueue()) {
      return;
    }
    RegionClosedException failure = closedException();
    for (AnyMutex request : anyWaiters) {
      request.regionClosed(failure);
    }
    // A pump that won the word before `closed` was set still delivers its grant: that guard's
    // unlock() then finds the region closed, and `holding` (set before the grant) makes us free
    // the word here instead.
    // Releasing a mutex taken over from a dead owner without markConsistent() leaves it not
    // recoverable, as unlocking would; then every sleeper must wake to find out.
    boolean refusing = false;
    if (holding) {
      holding = false;
      // Only the holder (us) changes OWNER_DIED, so it cannot change between the read and the swap.
      refusing = (lvWord() & OWNER_DIED) != 0;
      xchgWord(refusing ? OWNER_DIED : 0);
    }
    // Also stands in for any WakeSignal still queued: it would reach an unmapped word.
    Futex.wake(word, refusing ? FutexRing.WAKE_ALL : 1, FutexRing.ANY_BITSET);
    localConditions.closeAll();
  }

  /** A condition variable for asLock().newCondition(); see LocalConditions. */
  ConditionCore newLocalCondition() {
    checkOpen();
    return localConditions.create();
  }

  /**
   * The queue emptied: this process stops starving, and if it was marked, wakes one sleeper when
   * the word is free, since others may stand back for it (not once closed: close wakes directly).
   */
  @Override
  void queueEmptied(Effects<LockFuture> effects) {
    if (starving.stop() && !closed) {
      effects.passOn(
          () -> {
            try {
              if ((lvWord() & PID_MASK) == 0) {
                wakeOne.signal();
              }
            } catch (InternalError truncated) {
              // the file shrank under the mapping: nobody can wait on this word any more
            }
          });
    }
  }

  @Override
  String describe() {
    return "mutex '" + name + "'";
  }

  @Override
  RuntimeException regionFault(InternalError fault) {
    return region.truncated(fault);
  }

  @Override
  String timeoutMessage(LockFuture request) {
    return describe() + " was not acquired " + request.withinTimeout();
  }

  // ---- for lockAny (AnyMutex): one FUTEX_WAITV over several mutexes' words ----

  FutexRing ring() {
    return ring;
  }

  FutexWord word() {
    return word;
  }

  /** Whether {@code owner}, read from the word, is this process. */
  boolean isThisProcess(int owner) {
    return owner == pid;
  }

  /**
   * Takes the word for lockAny, never waiting: as tryLock, or, when {@code woken} (a FUTEX_WAITV
   * woken on this word), whenever it is free, keeping WAITERS set as any woken sleeper does.
   */
  Guard tryAcquireForAny(boolean woken) {
    checkOpen();
    if (!woken) {
      if (mayBarge() && tryAcquireFree()) {
        return newGuard(false);
      }
      return tryAcquireAfterDeath();
    }
    int v = lvWord();
    if (notRecoverable(v)) {
      throw notRecoverableException();
    }
    // A failed CAS means another taker won the word: the caller tries the other candidates and
    // then sleeps again, setting WAITERS anew, so the wake it consumed is not lost.
    if (ownerOf(v) == 0 && casWord(v, pid | WAITERS)) {
      holding = true;
      return newGuard(false);
    }
    return takeOverIfOwnerDied(v);
  }

  /**
   * The value a lockAny waiter may sleep on, with WAITERS set (by CAS) so the next release wakes,
   * and counted as a sleeping process so in-process handoffs stay bounded; or -1 if the word is
   * free and takeable, or changed under the CAS: the caller then tries again instead of sleeping.
   * Every value it returns must later be matched by {@link #lockAnyWaitEnded(AnyMutex)}.
   *
   * <p>A free word that lockAny may not take (this process has requests queued, or another process
   * starves) is slept on with WAITERS, as a mutex sleeper stands back: whoever takes it next keeps
   * the bit, and its release wakes. The CAS that sets WAITERS is on the very value the FUTEX_WAITV
   * then expects; if it fails the word changed, and the caller looks again rather than sleep on a
   * value that may never be woken.
   */
  int lockAnySleepValue(AnyMutex request) {
    checkOpen();
    int v = lvWord();
    if (notRecoverable(v)) {
      throw notRecoverableException();
    }
    if ((ownerOf(v) == 0 || !isAliveOwner(ownerOf(v))) && mayBarge()) {
      return -1; // free, or its owner died: take it (tryAcquireForAny) rather than sleep
    }
    if ((v & WAITERS) == 0 && !casWord(v, v | WAITERS)) {
      return -1;
    }
    if ((v & PID_MASK) == 0 && mayBarge()) {
      // Stood back on a free word, but whoever it stood back for is gone: the queued request took
      // the word and released it between our read and our CAS (ABA: 0 again), and that release
      // saw no WAITERS, so nobody would wake us. Look again; the free word is ours to take. A
      // request or starving process still there after our CAS keeps the bit when it takes the
      // word, and its release wakes us (our CAS, then this read; its link or count, then its read).
      return -1;
    }
    anyWaiters.add(request); // so that close() can fail it; close sets `closed`, then looks here
    if (closed) {
      anyWaiters.remove(request);
      throw closedException();
    }
    sleeper.countOtherWait(1);
    return v | WAITERS;
  }

  void lockAnyWaitEnded(AnyMutex request) {
    anyWaiters.remove(request);
    sleeper.countOtherWait(-1);
  }

  /**
   * After a lockAny FUTEX_WAITV that was woken, timed out or cancelled: it may have swallowed a
   * wake meant for a sleeper of this word (see FutexRing.waitAny), or consumed one it did not use.
   * If anyone sleeps here, make sure one is woken or will be: wake one if the word is free, else
   * set WAITERS so that the holder's release wakes one. At worst a spurious wake.
   */
  void repairAfterWaitv() {
    if (closed || sleeper.processesSleeping() <= 0) {
      return;
    }
    // Each pass ends in a wake (free), a bit already set, or our CAS setting it; a failed CAS means
    // the word was released or changed hands, and the next pass decides on its new value.
    for (; ; ) {
      int v = lvWord();
      if ((v & PID_MASK) == 0) {
        wakeOne.signal();
        return;
      }
      if ((v & WAITERS) != 0 || casWord(v, v | WAITERS)) {
        return;
      }
    }
  }
}
