package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.jcstress.SharedSemaphores.Lease;
import dev.ringlock.locks.SemaphoreHoldersFullException;
import dev.ringlock.locks.internal.HolderTable;
import dev.ringlock.locks.internal.SemaphoreDescriptor;
import dev.ringlock.locks.internal.SemaphoreWords;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/*
 * Overview
 *
 * An undo semaphore's holder entry as its view's lock (HolderTable's overview): a move CASes
 * BUSY onto the view's entry, CASes the word, and ends with one release store; an entry released
 * to 0 stays parked for the view's next move, and a claim that finds no free entry evicts a parked
 * one. Each instance has a semaphore of 2 permits (SharedSemaphores.takeUndo) seen through two
 * regions of this JVM, "here" and "there": two views with one pid, so an eviction of one by the
 * other is the hardest case (the pid alone cannot tell whose entry it is; the view's holding does).
 *
 * What must hold whatever the interleaving: once everything settles, available + every record = 2,
 * no entry is left BUSY (100 is added to the count the arbiter reports if one is), and no release
 * of permits a view took is refused (an exception fails the test).
 */
public final class SemaphoreEntryRaces {
  private static final int LIVE_PID = 1; // init: always alive, never this JVM
  private static final long PLANTED_BUSY =
      HolderTable.entry(LIVE_PID | SemaphoreDescriptor.HOLDER_BUSY, 0);

  private SemaphoreEntryRaces() {}

  /** available + every entry's record, plus 100 if an entry other than a planted one is BUSY. */
  static int settled(Lease lease) {
    SemaphoreWords words = new SemaphoreWords(lease.object(), 0);
    int count = lease.here().availablePermits();
    for (int slot = 0; slot < SemaphoreDescriptor.HOLDER_SLOTS; slot++) {
      long entry = words.lvHolder(slot);
      count += HolderTable.heldOf(entry);
      if (entry != PLANTED_BUSY && HolderTable.isBusy(entry)) {
        count += 100;
      }
    }
    return count;
  }

  /*
   * Two threads of one view move permits at once: each takes 1 (both fit) and gives it back. Their
   * moves serialise on the entry's BUSY; a lost update of the view's holding would refuse a release
   * (an exception) or leave a record behind.
   *
   * Acceptable: both took and gave back, 2 permits settled (1, 1, 2).
   */
  @JCStressTest
  @Outcome(id = "1, 1, 2", expect = ACCEPTABLE, desc = "Both moves recorded and undone")
  @Outcome(expect = FORBIDDEN, desc = "A move lost, a permit lost or made up, an entry left BUSY")
  @State
  public static class ThreadsOfOneViewMoveThroughOneEntry {
    private final Lease lease = SharedSemaphores.takeUndo();

    @Actor
    public void first(III_Result r) {
      if (lease.here().tryAcquire(1)) {
        r.r1 = 1;
        lease.here().release(1);
      }
    }

    @Actor
    public void second(III_Result r) {
      if (lease.here().tryAcquire(1)) {
        r.r2 = 1;
        lease.here().release(1);
      }
    }

    @Arbiter
    public void arbiter(III_Result r) {
      r.r3 = settled(lease);
      if (r.r3 == 2) {
        SharedSemaphores.giveBackUndo(lease);
      }
    }
  }

  /*
   * "here" has a parked entry, and it is the table's only entry not in use: every other slot is
   * planted BUSY by a live process. "here" takes 1 and gives it back while "there" (same pid, no
   * entry) takes 1 and keeps it, which needs an entry: it can only evict "here"'s parked one.
   *
   * Acceptable (r1 here, r2 there: 1 moved, 2 table full): "here" moved and parked before "there"
   * evicted it (1, 1); "there" found it BUSY
   * (here's move) and the table full (1, 2); "there" evicted it first, so "here" found an entry
   * holding 1 that is not its own and the table full (2, 1). Either way 2 permits settled.
   *
   * Fails when: both were refused (2, 2: an entry was lost), "here" wrote into "there"'s entry
   * (a refused release, or a count off), a permit was lost or made up, or an entry was left BUSY.
   */
  @JCStressTest
  @Outcome(
      id = {"1, 1", "1, 2", "2, 1"},
      expect = ACCEPTABLE,
      desc = "The eviction before or after the owner's move; 2 permits settled")
  @Outcome(expect = FORBIDDEN, desc = "An entry shared or lost, a permit lost or made up")
  @State
  public static class EvictionRacingTheParkedOwner {
    private final Lease lease = SharedSemaphores.takeUndo();
    private final int parkedSlot;

    public EvictionRacingTheParkedOwner() {
      lease.here().tryAcquire(1);
      lease.here().release(1); // parked: here's entry holds 0
      SemaphoreWords words = new SemaphoreWords(lease.object(), 0);
      int parked = -1;
      for (int slot = 0; slot < SemaphoreDescriptor.HOLDER_SLOTS; slot++) {
        if (parked < 0 && HolderTable.isParked(words.lvHolder(slot)) && ownedByHere(slot)) {
          parked = slot;
        } else {
          words.spHolder(slot, PLANTED_BUSY); // "there"'s parked entry too: it must evict
        }
      }
      parkedSlot = parked;
    }

    /**
     * Whether here's next move goes through {@code slot}: its record is where here's holding is.
     */
    private boolean ownedByHere(int slot) {
      SemaphoreWords words = new SemaphoreWords(lease.object(), 0);
      lease.here().tryAcquire(1);
      boolean here = HolderTable.heldOf(words.lvHolder(slot)) == 1;
      lease.here().release(1);
      return here;
    }

    @Actor
    public void ownerMoves(II_Result r) {
      try {
        if (lease.here().tryAcquire(1)) {
          lease.here().release(1);
          r.r1 = 1;
        }
      } catch (SemaphoreHoldersFullException full) {
        r.r1 = 2;
      }
    }

    @Actor
    public void otherViewClaims(II_Result r) {
      try {
        if (lease.there().tryAcquire(1)) {
          r.r2 = 1;
        }
      } catch (SemaphoreHoldersFullException full) {
        r.r2 = 2;
      }
    }

    @Arbiter
    public void arbiter(II_Result r) {
      int settled = parkedSlot < 0 ? -1 : settled(lease);
      SemaphoreWords words = new SemaphoreWords(lease.object(), 0);
      for (int slot = 0; slot < SemaphoreDescriptor.HOLDER_SLOTS; slot++) {
        if (words.lvHolder(slot) == PLANTED_BUSY) {
          words.spHolder(slot, 0);
        }
      }
      if (r.r2 == 1) {
        lease.there().release(1);
      }
      if (settled != 2) {
        r.r1 += 10 * (settled + 1); // reported as a FORBIDDEN outcome
      } else {
        SharedSemaphores.giveBackUndo(lease);
      }
    }
  }
}
