package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.MutexWords;
import dev.ringlock.locks.internal.StarvingTable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/*
 * Overview
 *
 * An in-process handoff asks "is another process marked starving?" (StarvingTable.othersMarked)
 * with one load of the starving summary while it is clear, and reads the table only while it is
 * set (MutexCore.handedOffHere). The race: one process marks itself (slot, then summary) while the
 * last marked process so far, which has just won the word, unmarks itself (slot cleared, then the
 * summary refreshed: MutexCore.decide's starving.stop()) and then, holding the lock, asks before
 * handing it over in-process; it asks again after both (the arbiter: its next handoff). Its answer
 * during the race may be either (a handoff may pass a mark whose summary is not stored yet, once,
 * as an arrival barges once); after both, the new mark stands and the handoff must see it (r2 = 1),
 * or it would go on handing over in-process past a starving process. Each actor has its own
 * StarvingTable over one mutex object, as two processes would. Two actors: CI has two CPUs.
 */
@JCStressTest
@Outcome(
    id = {"0, 1, 1", "1, 1, 1"},
    expect = ACCEPTABLE,
    desc = "Seen or not during the race; after it the handoff sees the standing mark")
@Outcome(expect = FORBIDDEN, desc = "A mark stands and the handoff does not see it")
@State
public class HandoffAgainstStarvingMark {
  private static final int MAX_OBJECTS = 16_384; // a jcstress epoch is 10,240 instances
  // The race is in memory alone; GatedMain checks the backend of every fork through the ring.
  private static final FutexRing BACKEND_REPORTED = SharedRing.RING;
  private static final MemorySegment MEMORY =
      Arena.global().allocate((long) MutexDescriptor.SIZE * MAX_OBJECTS, 64);
  private static final ObjectPool<MutexWords> POOL =
      new ObjectPool<>(MAX_OBJECTS, n -> new MutexWords(MEMORY, (long) MutexDescriptor.SIZE * n));

  private final MutexWords words = POOL.take();
  private final StarvingTable marker = table(3001);
  private final StarvingTable handing = table(3002);
  private int seenDuringRace;

  public HandoffAgainstStarvingMark() {
    handing.start(); // the only mark so far
  }

  @Actor
  public void mark() {
    marker.start();
  }

  @Actor
  public void leaveThenHandOff() {
    handing.stop();
    seenDuringRace = handing.othersMarked() ? 1 : 0;
  }

  @Arbiter
  public void check(III_Result r) {
    r.r1 = seenDuringRace;
    r.r2 = handing.othersMarked() ? 1 : 0;
    r.r3 = marker.isMarked() ? 1 : 0;
    marker.stop();
    if (words.lvStarvingSummary() == 0 && tableEmpty()) {
      POOL.giveBack(words); // clean: the next instance starts from an empty table and summary
    }
  }

  private boolean tableEmpty() {
    for (int slot = 0; slot < MutexDescriptor.STARVING_SLOTS; slot++) {
      if (words.lvStarvingPid(slot) != 0) {
        return false;
      }
    }
    return true;
  }

  private StarvingTable table(int pid) {
    return new StarvingTable(
        words, pid, alive -> true, problem -> new UncheckedIOException(new IOException(problem)));
  }
}
