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
import org.openjdk.jcstress.infra.results.II_Result;

/*
 * Overview
 *
 * The mutex's starving summary (MutexDescriptor, StarvingTable): the uncontended path barges
 * whenever it reads 0 there, so a mark that stands with the summary clear would let arrivals barge
 * past a starving process for as long as it waits. The race: one process marks itself starving
 * (claims a slot, then stores the summary) while another, the last marked process so far, unmarks
 * itself (clears its slot, then refreshes: stores 0 if the table looks empty, reads the table
 * again, stores 1 if a mark came). Each actor has its own StarvingTable over one mutex object, as
 * two processes would. After both, the marker is marked and the summary must be set (r1 = 1,
 * r2 = 1). A summary cleared under a standing mark (0, 1) is forbidden; a refresh without its
 * second read produces exactly that.
 */
@JCStressTest
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "The new mark stands, and the summary says so")
@Outcome(expect = FORBIDDEN, desc = "A mark stands with the summary clear: arrivals barge past it")
@State
public class StarvingSummaryRaces {
  private static final int MAX_OBJECTS = 16_384; // a jcstress epoch is 10,240 instances
  // The race is in memory alone, but GatedMain checks that every fork ran on the backend asked
  // for: the shared ring reports it (and is otherwise unused here).
  private static final FutexRing BACKEND_REPORTED = SharedRing.RING;
  private static final MemorySegment MEMORY =
      Arena.global().allocate((long) MutexDescriptor.SIZE * MAX_OBJECTS, 64);
  private static final ObjectPool<MutexWords> POOL =
      new ObjectPool<>(MAX_OBJECTS, n -> new MutexWords(MEMORY, (long) MutexDescriptor.SIZE * n));

  private final MutexWords words = POOL.take();
  private final StarvingTable marker = table(2001);
  private final StarvingTable leaver = table(2002);

  public StarvingSummaryRaces() {
    leaver.start(); // the only mark so far
  }

  @Actor
  public void mark() {
    marker.start();
  }

  @Actor
  public void leave() {
    leaver.stop();
  }

  @Arbiter
  public void check(II_Result r) {
    r.r1 = words.lvStarvingSummary() != 0 ? 1 : 0;
    r.r2 = marker.isMarked() ? 1 : 0;
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
