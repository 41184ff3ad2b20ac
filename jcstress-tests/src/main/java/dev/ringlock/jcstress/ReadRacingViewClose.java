package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.locks.ReadGuard;
import dev.ringlock.locks.RegionClosedException;
import dev.ringlock.locks.internal.ReadWriteMutexCore;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/*
 * Overview
 *
 * An uncontended read() of a read-write mutex's view racing that view's close() (issue 18's read
 * path). The view counts its holds in a reader record of its own; the read adds its hold there
 * (getAndAdd), and close() closes the record in one compare-and-set (CLOSED, count 0), giving back
 * every hold it counted. The record's order of the two decides: the read added first (its hold is
 * given back by the close) or finds CLOSED and takes its add back, refused with
 * RegionClosedException. Either way no hold of the closed view is left counted once both are
 * done; one left would keep every writer out until the process exits.
 *
 * Each instance takes a lock of its own from ReadWriteMutexRaces' Pool and a fresh view of it on
 * the pool's raw mapping (the same pid as the pool's views, a record of its own). The arbiter
 * declares the closed view unmapped (no thread uses it any more), so the next instance's view
 * reuses its record.
 *
 * UnlockRacingViewClose races the other end: an unlock of a hold of the view against its close.
 * The unlock takes its hold off the record by compare-and-set, which fails on CLOSED: it released
 * (and the close gave back nothing of it) or it throws RegionClosedException (the close gave it
 * back). A getAndAdd there would borrow from the CLOSED bit of a closed record.
 */
@JCStressTest
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the read got in; close() gave its hold back")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the read was refused: the view was closing")
@Outcome(expect = FORBIDDEN, desc = "a hold of the closed view stayed in the record, or worse")
@State
public class ReadRacingViewClose {
  private static final ReadWriteMutexRaces.Pool POOL = new ReadWriteMutexRaces.Pool("view-close");
  private final ReadWriteMutexRaces.Pool.Entry entry = POOL.take();
  private final ReadWriteMutexCore view = entry.newView();

  public ReadRacingViewClose() {
    view.read().join().unlock(); // the record is claimed: the actor's read takes the fast path
  }

  @Actor
  public void reader(II_Result r) {
    try {
      view.read().join(); // kept: closing the view must give it back
      r.r1 = 1;
    } catch (RegionClosedException refused) {
      r.r1 = 0;
    }
  }

  @Actor
  public void closer() {
    view.close();
  }

  @Arbiter
  public void after(II_Result r) {
    r.r2 = entry.first.readers();
    view.recordUnmapped();
    POOL.giveBackIfFree(entry);
  }

  @JCStressTest
  @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the unlock released; close() found none")
  @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "close() gave the hold back; unlock refused")
  @Outcome(expect = FORBIDDEN, desc = "a hold counted twice or released twice, or a borrow")
  @State
  public static class UnlockRacingViewClose {
    private static final ReadWriteMutexRaces.Pool POOL =
        new ReadWriteMutexRaces.Pool("unlock-close");
    private final ReadWriteMutexRaces.Pool.Entry entry = POOL.take();
    private final ReadWriteMutexCore view = entry.newView();
    private final ReadGuard held = view.read().join();

    @Actor
    public void unlocker(II_Result r) {
      try {
        held.unlock();
        r.r1 = 1;
      } catch (RegionClosedException refused) {
        r.r1 = 0;
      }
    }

    @Actor
    public void closer() {
      view.close();
    }

    @Arbiter
    public void after(II_Result r) {
      r.r2 = entry.first.readers(); // a borrow from CLOSED would read as 2^29 - 1 holds
      view.recordUnmapped();
      POOL.giveBackIfFree(entry);
    }
  }
}
