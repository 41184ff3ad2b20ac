package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

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
 * path). The read adds its hold to the process's reader record, counts it in the view's share,
 * then reads `closed`; close() flips `closed`, then takes the share and subtracts it from the
 * record (Dekker: full fences both sides). Whatever the order, once both are done no hold of the
 * closed view is left in the record: the read either got a hold that close() gave back, or was
 * refused with RegionClosedException after taking its hold back itself. A hold left counted would
 * keep every writer out until the process exits.
 *
 * Each instance takes a lock of its own from ReadWriteMutexRaces' Pool and a fresh view of it on
 * the pool's raw mapping (the same pid as the pool's views, so the same record).
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
    POOL.giveBackIfFree(entry);
  }
}
