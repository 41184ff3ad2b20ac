package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.jcstress.SharedSemaphores.Lease;
import dev.ringlock.locks.internal.HolderTable;
import dev.ringlock.locks.internal.SemaphoreDescriptor;
import dev.ringlock.locks.internal.SemaphoreWords;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.LII_Result;

/*
 * Overview
 *
 * An undo semaphore's repair (SemaphoreUndo's overview: the count recomputed from the live
 * holders' records, under REPAIR and a lease) racing a live view's move of permits. Each instance
 * has a semaphore of 2 permits of its own (SharedSemaphores.takeUndo), seen through two regions
 * on one file, "here" and "there", which behave as two processes with one entry each. A dead
 * holder is planted in the last slot of the table with the word as its death left it, so that the
 * first view to find too few permits repairs while the other moves.
 *
 * What must hold whatever the interleaving: once everything settles, available + the live records
 * = 2 (nothing lost, nothing made up), and the dead entry is gone (100 is added to the count the
 * arbiter reports if it is left).
 */
public final class SemaphoreRepairRaces {
  private static final int DEAD_SLOT = SemaphoreDescriptor.HOLDER_SLOTS - 1;

  private SemaphoreRepairRaces() {}

  private static SemaphoreWords words(Lease lease) {
    return new SemaphoreWords(lease.object(), 0);
  }

  /** A dead process records {@code held} in the last slot, and took them from the word. */
  static void plantDeadHolder(Lease lease, int held) {
    SemaphoreWords words = words(lease);
    words.spHolder(DEAD_SLOT, SharedSemaphores.deadHolderEntry(held));
    words.spWord(words.lvWord() - held);
  }

  /** The available permits, plus 100 if the dead holder's entry is still there. */
  static int availableAndDeadEntry(Lease lease) {
    boolean left = words(lease).lvHolder(DEAD_SLOT) != 0;
    return lease.here().availablePermits() + (left ? 100 : 0);
  }

  /** What every entry of the table records, the dead slot included. */
  static int recorded(Lease lease) {
    SemaphoreWords words = words(lease);
    int held = 0;
    for (int slot = 0; slot < SemaphoreDescriptor.HOLDER_SLOTS; slot++) {
      held += HolderTable.heldOf(words.lvHolder(slot));
    }
    return held;
  }

  /*
   * The dead holder records 1 (the word has 1). "here" takes 1 and gives it back at once; "there"
   * tries to take 2: it finds too few, sweeps, finds the dead holder and repairs (once), then
   * tries again. Its repair counts "here"'s record as it is when "here" is not between its two
   * CASes (it waits for BUSY, and a move after REPAIR is set fails and leaves the record as it was).
   *
   * Acceptable: "there" repaired first and took both ("here" then found none: 0, 1, 0); "here"
   * moved before the repair and "there" got both (1, 1, 0); "here" held its permit while "there"
   * repaired, so "there" found 1 and failed, and "here" gave it back (1, 0, 2).
   *
   * Fails when: the repair counted "here"'s permit as both held and available (a third permit:
   * 1, 1, 1 or 1, 0, 3), lost it (1, 0, 1), or left the dead entry (100 added).
   */
  @JCStressTest
  @Outcome(
      id = {"0, 1, 0", "1, 1, 0", "1, 0, 2"},
      expect = ACCEPTABLE,
      desc = "The repair and the move saw each other's result; 2 permits in all")
  @Outcome(expect = FORBIDDEN, desc = "A permit lost or made up, or the dead entry left")
  @State
  public static class RepairRacingAcquireAndRelease {
    private final Lease lease = SharedSemaphores.takeUndo();

    public RepairRacingAcquireAndRelease() {
      plantDeadHolder(lease, 1);
    }

    @Actor
    public void move(III_Result r) {
      if (lease.here().tryAcquire(1)) {
        r.r1 = 1;
        lease.here().release(1);
      }
    }

    @Actor
    public void repairAndTake(III_Result r) {
      r.r2 = lease.there().tryAcquire(2) ? 1 : 0;
    }

    @Arbiter
    public void arbiter(III_Result r) {
      r.r3 = availableAndDeadEntry(lease);
      if (r.r2 == 1 && r.r3 == 0) {
        lease.there().release(2);
        SharedSemaphores.giveBackUndo(lease);
      } else if (r.r2 == 0 && r.r3 == 2) {
        SharedSemaphores.giveBackUndo(lease);
      }
    }
  }

  /*
   * "here" holds 1; the dead holder records the other (the word has 0). "here" releases its 1
   * while "there" tries to take 2 (too few: it sweeps and repairs, then tries once more).
   *
   * Acceptable: the release came first, the repair returned the dead holder's 1, and "there" took
   * both (1, 0); the repair came first (it counted "here"'s 1 as held: the word became 1), "there"
   * failed, and the release then made 2 (0, 2).
   *
   * Fails when: the release was lost under the repair's write (0, 1), or counted twice (0, 3), or
   * the dead entry was left (100 added).
   */
  @JCStressTest
  @Outcome(
      id = {"1, 0", "0, 2"},
      expect = ACCEPTABLE,
      desc = "The release before the repair, or after it; 2 permits in all")
  @Outcome(expect = FORBIDDEN, desc = "The release lost or doubled, or the dead entry left")
  @State
  public static class RepairRacingRelease {
    private final Lease lease = SharedSemaphores.takeUndo();

    public RepairRacingRelease() {
      lease.here().tryAcquire(1);
      plantDeadHolder(lease, 1);
    }

    @Actor
    public void release() {
      lease.here().release(1);
    }

    @Actor
    public void repairAndTake(II_Result r) {
      r.r1 = lease.there().tryAcquire(2) ? 1 : 0;
    }

    @Arbiter
    public void arbiter(II_Result r) {
      r.r2 = availableAndDeadEntry(lease);
      if (r.r1 == 1 && r.r2 == 0) {
        lease.there().release(2);
        SharedSemaphores.giveBackUndo(lease);
      } else if (r.r1 == 0 && r.r2 == 2) {
        SharedSemaphores.giveBackUndo(lease);
      }
    }
  }

  /*
   * No dead holder: the grant and the cancel of a recorded acquire. "there" holds both permits;
   * "here" queues an acquire of 1 and cancels it at once while "there" releases 1. A grant (in
   * "here"'s pump: on the releasing thread's wake, through the ring) records the permit for "here"
   * in the same move that takes it; if the cancel won, the grant gives it back by a recorded
   * release. The arbiter reports the fate, the available permits once settled, and the records.
   *
   * Acceptable: CANCELLED with 1 available and 1 recorded ("there"'s), or GRANTED with 0 available
   * and 2 recorded. Fails when: a cancelled grant kept its record or lost its permit, or the
   * records and the count disagree (a permit in both, or in neither).
   */
  @JCStressTest
  @Outcome(
      id = {"CANCELLED, 1, 1", "GRANTED, 0, 2"},
      expect = ACCEPTABLE,
      desc = "The permit stayed available, or was granted and recorded")
  @Outcome(expect = FORBIDDEN, desc = "A permit lost, made up, or recorded wrongly")
  @State
  public static class CancelRacingRecordedGrant {
    private final Lease lease = SharedSemaphores.takeUndo();
    private CompletableFuture<Void> request;

    public CancelRacingRecordedGrant() {
      lease.there().tryAcquire(SharedSemaphores.UNDO_TOTAL);
    }

    @Actor
    public void acquireAndCancel() {
      request = lease.here().acquire(1);
      request.cancel(false);
    }

    @Actor
    public void release() {
      lease.there().release(1);
    }

    @Arbiter
    public void arbiter(LII_Result r) {
      r.r1 = SemaphorePermitAccounting.fate(request);
      int expected = SemaphorePermitAccounting.GRANTED.equals(r.r1) ? 0 : 1;
      r.r2 = SemaphorePermitAccounting.settledPermits(lease.here(), expected);
      // A give-back writes the word, then the record: wait for the record too.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      r.r3 = recorded(lease);
      while (r.r3 != 2 - expected && System.nanoTime() - deadline < 0) {
        Thread.yield();
        r.r3 = recorded(lease);
      }
      if (r.r2 == expected && r.r3 == 2 - expected) {
        lease.there().release(1);
        if (expected == 0) {
          lease.here().release(1);
        }
        SharedSemaphores.giveBackUndo(lease);
      }
    }
  }
}
