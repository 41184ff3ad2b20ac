package dev.ringlock.locks.internal;

import static dev.ringlock.core.memory.RegionDescriptor.PID_MASK;
import static dev.ringlock.locks.internal.MutexDescriptor.OWNER_DIED;
import static dev.ringlock.locks.internal.MutexDescriptor.WAITERS;
import static dev.ringlock.locks.internal.MutexDescriptor.notRecoverable;
import static dev.ringlock.locks.internal.MutexDescriptor.ownerOf;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.MutexLock;
import dev.ringlock.locks.OwnerDeathPolicy;
import dev.ringlock.locks.RegionClosedException;
import dev.ringlock.locks.internal.jfr.LockEvents;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/*
 * Overview
 *
 * One process's view of one mutex: the primitive's decisions on the word, on top of the waiting
 * mechanism (QueuedPrimitive: the in-process FIFO queue of LockFutures, the one Sleeper armed for
 * them, peer watches, deadlines and effects). QueuedPrimitive calls decide() on each event
 * (arrival, sleeper done, release, peer exit) and runs the effects that decision leaves once the
 * monitor is released. Around the decisions, in classes of their own: the word's transitions,
 * owner death and the fence (MutexOwnership, the superclass), the starving table (StarvingTable),
 * what lockAny needs from a mutex (LockAnyCandidate), and the private conditions of asLock()
 * (LocalConditions). The shared object is MutexDescriptor's (docs/protocols.md).
 *
 * The word follows Drepper's "mutex3" futex protocol, with the pid in place of 1:
 *   acquire: CAS free -> pid; contended, set WAITERS and FUTEX_WAIT on the value with WAITERS;
 *            an acquirer that slept keeps WAITERS set, since others may still sleep.
 *   release: the word to 0 (with the hold tag moved on, in one 64-bit CAS: MutexOwnership's
 *            overview); if the value replaced had WAITERS, FUTEX_WAKE one.
 * A waiter sets WAITERS before it sleeps, with a CAS on the value it then waits on, and the
 * releaser's CAS replaces exactly the value it read, WAITERS included (a bit set after the read
 * fails the CAS, which reads again); so either the releaser sees the bit and wakes, or the
 * sleeper's CAS or FUTEX_WAIT sees the word change and does not sleep. No wake is lost. Wakes are WakeSignals: fire-and-forget, batched per ring
 * iteration, and coalesced while queued, which the protocol allows.
 *
 * In-process handoff. A release with requests queued here gives the lock straight to the oldest
 * (the word keeps our pid; no kernel round trip), unless another process is starving, or the
 * handoff would be the LOCAL_HANDOFF_LIMIT-th in a row while another process sleeps on the word:
 * then the lock goes back through the word, which wakes a sleeper of the other process, so that
 * it can find out it is starving. That path, the async contended one, touches heap state only,
 * beyond the fence each holder draws and one load of the starving summary: an arrival behind this
 * object's own hold links and decides nothing (queuedBehindOwnHold: the release that ends the hold
 * hands over or pumps), and a handoff with requests left behind it delivers its guard straight
 * through Grants (handedOffHere); the grant counts itself in the view (ObjectStats). One monitor
 * section per arrival and one per handoff.
 *
 * Fairness. Arrivals may barge: take a free word ahead of sleepers. When the sleeper completes
 * and the oldest request here has waited STARVATION_MILLIS, this process marks itself in the
 * region's starving table (once). While another process is marked, nobody barges, nobody hands
 * over in-process, and a free word goes only to a waiter the kernel woke, which is the longest
 * sleeper (futex wait queues are FIFO), or to a starving process. The mark drops when the
 * starving process gets the lock, or its queue empties. So barging is bounded in time and in
 * handoffs. An arrival asks "is anyone marked?" with one load of the starving summary, and reads
 * the table only while it is set (StarvingTable says why no mark is missed that way).
 * A starving process never stands back, not even for another starving one: if all of
 * them stood back they would all sleep on the free word with nobody left to wake them. When a mark
 * drops and the word is free, its process wakes one sleeper, since others may stand back for it.
 *
 * The sleeper's expected value is the word as it was, with WAITERS; its linked timeout is the
 * earliest deadline in the queue. It is armed while requests are queued and the lock is not held
 * through this object (or a queued request has a deadline, which needs the kernel's timer). While
 * this object holds the lock, none is needed: its release hands over in-process, or clears the
 * word and then pumps the queue itself. That keeps in-process contention off the ring entirely.
 * A wake a cancelled sleeper consumed is passed on by the ring (AbandonedWakeHandler.PASS_ON), and
 * one it consumed with nobody left to use it is passed on here.
 *
 * Owner death (MutexOwnership says how a word is taken over): while a sleeper is armed, the
 * processes it waits for (the owner, or the starving processes it stands back for) are watched in
 * the peer-watch registry, and unwatched when the sleeper is forgotten; an exit (PEER_EXIT)
 * cancels the sleeper and the queue decides afresh. tryLock and a later lock() check the owner the
 * same way, so a death nobody was waiting for is noticed too. The watch also covers an owner
 * killed between freeing the word and its wake reaching the kernel (io_uring has no FUTEX_WAKE_OP
 * to make them one step). What no watch covers (a dying process's kernel wait that consumes a
 * wake, a sleeper that watched an owner that has since changed) costs at most one re-check,
 * Sleeper.RECHECK_MILLIS. A bad value the pump reads from the region fails every queued request
 * with the damage. The count of sleeping processes is not repaired: a dead process stays counted,
 * which only makes releases go through the word once every LOCAL_HANDOFF_LIMIT handoffs.
 *
 * JFR (docs/observability.md): a queued LockFuture times its wait (ContendedAcquisitionEvent,
 * ended when it leaves the queue); a takeover is recorded where its guard is drawn (takenOverFrom),
 * a not-recoverable release where the word is stored (MutexOwnership). The fast paths record
 * nothing.
 *
 * Memory ordering: in-process handoff orders through this monitor and the future's completion;
 * the word's own accesses are MutexOwnership's. The counts are plain atomic adds: they steer
 * policy, not safety.
 *
 * Locking: `this` guards the queue, the sleeper and the starving mark (QueuedPrimitive's monitor
 * rule). Futures are completed, and sleepers cancelled, only after the monitor is released
 * (Effects), because completion runs user continuations.
 */
public final class MutexCore extends MutexOwnership implements Mutex {
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

  private final boolean localHandoff;
  private final int spinTries;
  private final LocalConditions localConditions; // of asLock().newCondition()
  private final StarvingTable starving; // the region's starving marks, as this process sees them
  private final LockAnyCandidate lockAnyCandidate; // this mutex as lockAny sees it
  // The mutex's counters, on the line after its own (ObjectStatsDescriptor): written only on
  // slow paths (a queued request's grant, a takeover); its acquisitions are its fence.
  final ObjectStats stats;

  // asLock(policy)'s views, by the policy's ordinal; guarded by this (asLock is no hot path)
  private final BlockingLock[] lockViews = new BlockingLock[OwnerDeathPolicy.values().length];

  // ---- guarded by this, as are the queue and the sleeper ----
  private int localHandoffsInARow;

  /**
   * @param offset where the mutex object starts (MutexDescriptor.SIZE bytes, 64-byte aligned, then
   *     its stats line: ObjectStatsDescriptor.withStats(MutexDescriptor.SIZE) bytes in all)
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
    super(name, region, offset, scope, ring, pid);
    this.localHandoff = localHandoff;
    this.spinTries = spinTries;
    this.localConditions =
        new LocalConditions(name, ring, pid, conditionCapacity, this::closedException);
    this.starving = new StarvingTable(words, pid, this::alive, this::corrupt);
    this.lockAnyCandidate = new LockAnyCandidate(this);
    this.stats =
        new ObjectStats(
            region.segment(), offset + ObjectStatsDescriptor.statsOffset(MutexDescriptor.SIZE));
  }

  // ---- Mutex ----

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
      return Optional.ofNullable(tryAcquireNow());
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
  public MutexLock asLock() {
    return asLock(OwnerDeathPolicy.REPORT);
  }

  @Override
  public MutexLock asLock(OwnerDeathPolicy policy) {
    int index = Objects.requireNonNull(policy, "policy").ordinal();
    synchronized (this) {
      if (lockViews[index] == null) {
        lockViews[index] = new BlockingLock(this, policy);
      }
      return lockViews[index];
    }
  }

  @Override
  public String toString() {
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
        + describeWord()
        + local
        + ", starving processes "
        + starving.snapshot()
        + ", sleeping processes "
        + sleeper.processesSleeping()
        + "]";
  }

  // ---- acquiring ----

  /**
   * The uncontended acquisition is kept small, with the region's work (bargeAndDraw) out of line
   * and the spin and the queue in a method of their own, so that it inlines into the caller: then a
   * caller's {@code lock().join()} and {@code unlock()} can scalar-replace the guard and its future
   * (0 B; see Guard's overview).
   */
  private CompletableFuture<MutexGuard> acquire(long deadline, long timeoutNanos) {
    checkOpen();
    long fence = bargeAndDraw();
    if (fence != 0) {
      return drawnGuard(fence).asCompletedFuture();
    }
    return acquireContended(deadline, timeoutNanos);
  }

  /**
   * The word was not free to take at once: spin a little while barging is allowed and the holder is
   * this process, then queue.
   *
   * <p>Only an in-process holder is spun on. Its release is a few instructions away, and a request
   * that queues here costs a queued future and a handover on the releasing thread. Against another
   * process the spin loses: a spinner that wins takes the word within a few sections, so the word's
   * line moves between the processes all the time, where a waiter that sleeps lets the holder's
   * process run its sections uncontended, as a robust pthread mutex (which never spins) does. In
   * the 2-process loop at load 2-3 spinning on the other process cost 75 ns a section against 45 ns
   * without (bench/README.md, session 12).
   */
  private CompletableFuture<MutexGuard> acquireContended(long deadline, long timeoutNanos) {
    for (int i = 0; i < spinTries && mayBarge(); i++) {
      Thread.onSpinWait();
      int owner = lvWord() & PID_MASK;
      if (owner == 0) {
        if (tryAcquireFree()) {
          return newGuard(false).asCompletedFuture();
        }
      } else if (owner != pid) {
        // Another process, alive or dead: the queue decides (a dead owner's word is taken over
        // there, with its fence and ownerDied, which a spin's tryAcquireFree never does).
        break;
      }
      // A failed tryAcquireFree changed nothing (another thread took the word first, or the word
      // carries a state only the queue's decision takes): looking again is safe, and the loop is
      // bounded by spinTries and by mayBarge.
    }
    LockFuture request = new LockFuture(this, deadline, timeoutNanos);
    arrive(request);
    return request;
  }

  /**
   * The uncontended acquisition's work on the region: mayBarge, then the free word taken with the
   * next fence drawn (tryAcquireFreeAndDraw), every access to the mapping through one local slice
   * (LockHeaderWords' overview).
   *
   * <p>Kept out of line, so that lock() and tryLock() stay small enough for their callers to inline
   * them, and with them the guard and future they create (Guard's overview). C2 does not inline a
   * callee already compiled on its own to more than InlineSmallCode bytes (2,500 on x86-64). This
   * method's five checked accesses to the mapping compile to about 2.6 KB, mostly uncommon traps
   * (bounds, alignment and session checks: no access shape of the FFM API compiles smaller, nor
   * does the whole region's segment at a long offset), and inlined here they made lock() over 3 KB:
   * a caller compiled after lock() (JMH's benchmark method is) allocated the guard and the future,
   * 56 bytes. What decides whether C2 inlines this method into lock() is its bytecode size: a hot
   * callee is inlined only up to FreqInlineSize bytes (325), so the method carries ballast (below)
   * that keeps it above C2_FREQ_INLINE_SIZE whatever the order in which C2 compiles the two. The
   * call measured within the noise of everything inlined; the two allocations it saves also took
   * the future's volatile store (a locked instruction once the future escapes). MutexCodeShapeTest
   * pins the size, and MutexReleaseClaimTest that a caller compiled after lock() allocates nothing
   * (bench/README.md, session 9).
   *
   * @return the fence drawn, or 0 if the word was not taken (the caller spins or queues)
   */
  private long bargeAndDraw() {
    if (queue.length() != 0) {
      return 0;
    }
    MemorySegment object = words.object();
    if (MutexWords.lvStarvingSummary(object) != 0 && !starving.noneMarked()) {
      return 0; // a process may be starving: no barging (noneMarked reads the table)
    }
    long fence = tryAcquireFreeAndDraw(object);
    if (fence < 0) {
      // Never runs (a fence drawn is positive), so C2 compiles it to one uncommon trap: ballast
      // that keeps this method's bytecode above C2_FREQ_INLINE_SIZE (see the javadoc).
      throw new AssertionError(
          "fence "
              + fence
              + Arrays.toString(
                  new long[] {
                    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                    22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
                    42, 43, 44, 45, 46, 47
                  }));
    }
    return fence;
  }

  /**
   * C2's FreqInlineSize, HotSpot's default on x86-64 (Temurin 25: {@code java
   * -XX:+PrintFlagsFinal}): the largest bytecode it inlines into a hot call site. bargeAndDraw's
   * stays above it (MutexCodeShapeTest).
   */
  public static final int C2_FREQ_INLINE_SIZE = 325;

  /**
   * Nobody here is queued (FIFO in-process) and no process is starving (bounded barging): one load
   * of the starving summary while nobody starves (StarvingTable.noneMarked).
   */
  boolean mayBarge() {
    return queue.length() == 0 && starving.noneMarked();
  }

  /**
   * The guard of a word just taken; it draws the next fence, and counts the acquisition in this
   * view (ObjectStats: no atomic; the fence no longer counts acquisitions one to one, since a
   * release moves it too).
   */
  Guard newGuard(boolean ownerDied) {
    stats.countFastAcquisition();
    return new Guard(this, nextFence(), ownerDied);
  }

  /** As newGuard, for a fence tryAcquireFreeAndDraw has drawn already (the uncontended path). */
  private Guard drawnGuard(long fence) {
    stats.countFastAcquisition();
    return new Guard(this, fence, false);
  }

  /**
   * The guard of a word just taken over from {@code deadPid}, which died holding it; the takeover
   * is counted in the region and recorded (a JFR event, if a recording enables it), with the fence
   * the guard drew.
   */
  Guard takenOverFrom(int deadPid) {
    Guard guard = newGuard(true);
    stats.countTakeovers(1);
    LockEvents.takeover(name, TYPE_NAME, deadPid, pid, guard.fence());
    return guard;
  }

  /** tryLock: takes the word if it is free and may be taken, or its owner died; else null. */
  Guard tryAcquireNow() {
    long fence = bargeAndDraw();
    if (fence != 0) {
      return drawnGuard(fence);
    }
    return tryAcquireAfterDeath();
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
      if (takeOverIfOwnerDied(v)) {
        return takenOverFrom(owner);
      }
      if (owner == pid || alive(owner)) {
        return null;
      }
      // the CAS failed: the word changed under us; decide on its new value
    }
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
    // Not for a woken wait: between its completion and this pump another thread's decision (an
    // arrival) may have armed a new sleeper, not knowing that the kernel chose this process. That
    // wake was the one a release owed to the word (a mutex wakes one): kept only by using it here
    // (a woken process may take a free word a starving one is owed), else nobody would take the
    // word until the re-check.
    if (event == Event.WITHDRAWAL
        || (!woken && sleeper.isArmed() && arrivingDeadline >= sleeper.deadline())) {
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
        int owner = ownerOf(v);
        boolean free = owner == 0;
        boolean mayTakeFree = mayTakeFree(woken);
        boolean ownerDied = !free && owner != pid && !alive(owner);
        // Count before standing back or sleeping: a process that stood back and only then
        // counted itself would sleep on a free word, and once every process did so nobody would
        // wake. Not when the word is ours to take as it stands (a woken wait on a free word, the
        // usual handover): the mark would be cleared again as soon as the CAS won, and meanwhile
        // only kept other processes from barging on a word this one was taking (docs/mutex.md,
        // Bounded barging). A lost CAS marks at once, below.
        if (!((free && mayTakeFree) || ownerDied)) {
          markIfStarved(afterWait);
          mayTakeFree = mayTakeFree(woken);
        }
        if ((free && mayTakeFree) || ownerDied) {
          int acquired =
              ownerDied ? pid | WAITERS | OWNER_DIED : pid | (woken ? WAITERS : v & WAITERS);
          if (!casWord(v, acquired)) {
            // Lost a race for the word: a request that waited long enough counts now, not on
            // some later pass that finds the word held (a barger may free it before each look).
            markIfStarved(afterWait);
            continue;
          }
          holding = true;
          TestPausePoints.afterWinningWord(name);
          winner = queue.unlink(queue.head());
          effects.grant(winner, ownerDied ? takenOverFrom(owner) : newGuard(false));
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
   * An arrival behind a hold of this object, with nothing to time (decide's held-here case, for an
   * untimed request with no sleeper armed): the release that ends the hold hands over to the queue
   * or pumps it, so there is nothing to decide and no Effects to make. The word is read after the
   * link (Dekker with releaseChecked: the release writes the word, then reads the queue's length),
   * so a hold that ended before is seen ended here, and decide runs. `holding` is read after the
   * word, as decide does (MutexOwnership: the word orders it), so a word of this pid held through
   * another view of the same mutex is not taken for ours.
   */
  @Override
  boolean queuedBehindOwnHold(LockFuture request) {
    return localHandoff
        && request.deadline == Deadlines.NONE
        && queue.timed() == 0
        && !sleeper.isArmed()
        && (lvWord() & PID_MASK) == pid
        && holding;
  }

  /**
   * Whether decide may take a free word: the kernel woke this process's wait (it chose us), or this
   * process is marked starving, or nobody is.
   */
  private boolean mayTakeFree(boolean woken) {
    return woken || starving.isMarked() || !starving.any();
  }

  /**
   * Marks this process starving if the queue's oldest request came out of a kernel wait ({@code
   * afterWait}) and has waited STARVATION_MILLIS, unless it is marked already.
   */
  private void markIfStarved(boolean afterWait) {
    if (afterWait
        && !starving.isMarked()
        && System.nanoTime() - queue.head().requestedAt() >= STARVATION_NANOS) {
      starving.start();
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
      return owner == pid || watchPeer(owner);
    }
    return starving.allOthers(this::watchPeer);
  }

  // ---- releasing ----

  /**
   * Releases the lock held through {@code guard}, once (MutexOwnership.releaseHold: one CAS of the
   * word and its hold tag): clears the word; or, with requests queued here, or if the guard took
   * the mutex over from a dead owner and never marked it consistent, claims the release keeping the
   * word and goes on in releaseChecked (an in-process handoff, or not recoverable).
   *
   * @return false, with nothing done, if the guard was released before
   */
  boolean release(Guard guard) {
    if (closed) {
      return releaseAfterClose(guard);
    }
    try {
      // A request queued after this read finds the word freed (the enqueue/release Dekker below);
      // one withdrawn after it leaves releaseChecked to free the word with nobody to hand to.
      boolean keepWord = guard.leavesInconsistent() || queue.length() > 0;
      long old = keepWord ? claimHold(guard.fence()) : releaseHold(guard.fence());
      if (old == REFUSED) {
        return false;
      }
      guard.claimed();
      if (keepWord) {
        releaseChecked(guard);
        return true;
      }
      TestPausePoints.afterFreeingWord(name);
      if ((old & WAITERS) != 0) {
        wakeOne.signal();
      }
      // Requests queued here while we held, with no kernel wait armed (see pump): they compete
      // for the word now. Dekker-style with enqueue: it writes the queue's length then reads the
      // word, we wrote the word (the CAS) then read the length, both with full fences, so one of
      // us sees the other.
      if (localHandoff && queue.length() > 0) {
        released();
      }
      return true;
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  /**
   * release() once the region closed, out of line (Guard.unlock() compiled must stay under C2's
   * InlineSmallCode for callers to inline it: Guard's overview): false for a guard released before
   * the close (the fence went with the mapping), else RegionClosedException.
   */
  private boolean releaseAfterClose(Guard guard) {
    if (guard.releasedHere()) {
      return false;
    }
    throw closedException();
  }

  /** Whether {@code guard} still holds: no release moved its tag on, and no draw its fence. */
  boolean holdsFence(Guard guard) {
    if (closed && guard.releasedHere()) {
      return false;
    }
    checkOpen();
    try {
      return holdsFence(guard.fence());
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  /** After a claim that kept the word (release): not recoverable, a handoff, or the word freed. */
  private void releaseChecked(Guard guard) {
    if (guard.leavesInconsistent()) {
      releaseNotRecoverable(guard.fence());
      return;
    }
    if (queue.length() > 0 && handedOffHere()) {
      return;
    }
    freeWord();
    // Requests queued here while we held, with no kernel wait armed (see pump): they compete
    // for the word now. Dekker-style with enqueue: it writes the queue's length then reads the
    // word, we wrote the word then read the length, both with full fences, so one of us sees the
    // other.
    if (localHandoff && queue.length() > 0) {
      released();
    }
  }

  /**
   * The in-process handoff of a release: if the lock may go to the request at the head of this
   * process's queue (see the overview), it is unlinked and granted a new guard, the word staying
   * ours throughout; false if the release must free the word. The guard is made under the monitor,
   * so the request is marked as granted (unlinkedForGrant) before a withdrawal can look at it.
   *
   * <p>While requests remain behind it (the async contended path: one handoff per task), the grant
   * is delivered straight through Grants: no Effects, and in the mapping only the starving
   * summary's load and the fence this holder draws. The handoff that empties the queue, or whose
   * draw fails, goes through Effects as every decision does, so the sleeper it detaches is
   * cancelled, and a wake passed on, in Effects' order around the grant.
   */
  private boolean handedOffHere() {
    Effects<LockFuture> effects = null; // only for the last handoff of a run, or a failed draw
    LockFuture next;
    Guard guard = null;
    RuntimeException damage = null;
    InternalError fault = null;
    synchronized (this) {
      if (!localHandoff || closed || queue.isEmpty() || starving.othersMarked()) {
        return false;
      }
      if (localHandoffsInARow >= LOCAL_HANDOFF_LIMIT && sleeper.othersSleeping()) {
        localHandoffsInARow = 0;
        return false; // let the kernel's queue have it
      }
      localHandoffsInARow++;
      next = queue.unlink(queue.head());
      try {
        guard = newGuard(false);
      } catch (UncheckedIOException e) {
        // a fence that cannot grow: nextFence freed the word; the request taken off the queue
        // for this handoff, and every other, fail with the damage rather than wait for ever
        damage = e;
        effects = new Effects<>();
        effects.refuse(next, e);
        effects.failQueued(e);
      } catch (InternalError e) {
        fault = e; // the file shrank under the mapping: the caller fails the rest (regionFaulted)
        effects = new Effects<>();
        effects.refuse(next, regionFault(e));
      }
      if (queue.isEmpty()) {
        if (effects == null) {
          effects = new Effects<>();
        }
        leaveEmpty(effects); // the word stays ours: no wake for whoever stood back
      }
      if (guard != null) {
        if (effects != null) {
          effects.grant(next, guard);
        } else {
          next.unlinkedForGrant(guard); // a withdrawal from now on gives the guard back
        }
      }
    }
    if (effects != null) {
      effects.run(this);
    } else {
      Grants.grant(next, guard);
    }
    if (fault != null) {
      throw fault;
    }
    if (damage != null) {
      throw damage;
    }
    return true;
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
    lockAnyCandidate.regionClosed(failure);
    // A pump that won the word before `closed` was set still delivers its grant: that guard's
    // unlock() then finds the region closed, and `holding` (set before the grant) makes us free
    // the word here instead.
    boolean refusing = freeWordAtClose();
    // Also stands in for any WakeSignal still queued: it would reach an unmapped word.
    Futex.wake(word, refusing ? FutexRing.WAKE_ALL : 1, FutexRing.ANY_BITSET);
    localConditions.closeAll();
    stats.publish(); // before the mapping goes: this view's uncounted acquisitions
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
  String timeoutMessage(LockFuture request) {
    return describe() + " was not acquired " + request.withinTimeout();
  }

  /** This mutex as a lockAny candidate (AnyMutex). */
  LockAnyCandidate lockAnyCandidate() {
    return lockAnyCandidate;
  }

  @Override
  final ObjectStats stats() {
    return stats;
  }
}
