package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.locks.RegionSnapshot.Counters;
import dev.ringlock.locks.RegionSnapshot.MutexSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The mutex's in-process contended path (docs/protocols.md, In-process handoff): requests queued
 * behind a hold of this process are handed the lock in order without the kernel, their grants are
 * counted in the view and published when the queue empties, and an arrival behind a hold of another
 * view of the same mutex (another SharedRegion on the file, in this process) still waits for that
 * view's release through the word.
 */
@Timeout(60)
class MutexInProcessHandoffTest extends RegionTestBase {
  @Test
  void aRunOfHandoffsIsGrantedInOrderAndCountedInTheRegionOnceTheQueueEmpties() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard holder = await(mutex.lock());
    List<CompletableFuture<MutexGuard>> queued = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      queued.add(mutex.lock());
    }
    Thread.sleep(20); // each queued request waits at least this long
    long fence = holder.fence();
    holder.unlock();
    MutexGuard first = await(queued.get(0));
    assertFalse(queued.get(1).isDone(), "FIFO: the second waits for the first");
    assertEquals(
        0,
        counters().contended(),
        "a handoff with requests behind it counts in the view, not on the mapped line");
    first.unlock();
    MutexGuard second = await(queued.get(1));
    second.unlock();
    MutexGuard third = await(queued.get(2));
    assertTrue(first.fence() > fence && second.fence() > first.fence());
    assertTrue(third.fence() > second.fence(), "fences drawn under the lock, increasing");
    Counters counters = counters();
    assertEquals(3, counters.contended(), "the handoff that emptied the queue published all three");
    assertTrue(
        counters.waitNanos() >= 3 * TimeUnit.MILLISECONDS.toNanos(20),
        "waited " + counters.waitNanos() + " ns in all");
    third.unlock();
    assertFalse(mutex.isLocked());
  }

  @Test
  void anArrivalBehindAnotherViewsHoldInThisProcessWaitsForThatRelease() throws Exception {
    try (SharedRegion other = SharedRegion.open(region.file(), withRing())) {
      Mutex here = region.mutex("m");
      Mutex there = other.mutex("m");
      here.tryLock().orElseThrow().unlock(); // this view held it before, and let it go
      MutexGuard thereHolds = await(there.lock()); // the word names this pid, held through there
      CompletableFuture<MutexGuard> arrival = here.lock();
      Thread.sleep(50); // the arrival is queued here, behind a hold that is not this view's
      assertFalse(arrival.isDone());
      thereHolds.unlock(); // frees the word and wakes this view's kernel wait
      MutexGuard got = arrival.get(20, TimeUnit.SECONDS);
      assertTrue(got.fence() > thereHolds.fence());
      got.unlock();
    }
  }

  private Counters counters() throws Exception {
    return RegionSnapshot.read(region.file()).objects().stream()
        .filter(o -> o.name().equals("m"))
        .map(o -> ((MutexSnapshot) o).counters())
        .findFirst()
        .orElseThrow();
  }
}
