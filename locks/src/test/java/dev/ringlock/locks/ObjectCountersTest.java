package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.NamedObject;
import dev.ringlock.locks.RegionSnapshot.Counters;
import dev.ringlock.locks.RegionSnapshot.ObjectSnapshot;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.ObjectStats;
import dev.ringlock.locks.internal.ObjectStatsDescriptor;
import dev.ringlock.testsupport.Child;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every object's counters in the region (layout version 5's stats line): what each operation adds,
 * that another process's operations and deaths are visible to this one, and that a damaged value is
 * shown as read and never trusted.
 */
@Timeout(120)
class ObjectCountersTest extends RegionTestBase {
  private static final long MIN_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(30);

  @Test
  void aMutexCountsItsAcquisitionsInTheViewAndPublishesThemWithAQueuedLocksWait() throws Exception {
    Mutex mutex = region.mutex("m");
    for (int i = 0; i < 3; i++) {
      mutex.tryLock().orElseThrow().unlock();
    }
    assertEquals(
        new Counters(0, 0, 0, 0, 0, 0), counters("m"), "uncontended: counted in this view only");
    MutexGuard holder = await(mutex.lock());
    CompletableFuture<MutexGuard> queued = mutex.lock();
    Thread.sleep(50); // the queued request's wait: at least this long
    holder.unlock();
    await(queued).unlock();
    Counters counters = counters("m");
    assertEquals(5, counters.acquisitions());
    assertEquals(1, counters.contended());
    assertTrue(counters.waitNanos() >= MIN_WAIT_NANOS, "waited " + counters.waitNanos() + " ns");
    assertEquals(counters.waitNanos(), counters.meanWaitNanos());
  }

  @Test
  void aSemaphorePublishesItsUncontendedAcquiresInBatchesAndAllAtClose() throws Exception {
    Semaphore semaphore = region.semaphore("s", 1);
    int acquires = ObjectStats.PUBLISH_EVERY + 10;
    for (int i = 0; i < acquires; i++) {
      assertTrue(semaphore.tryAcquire(1));
      semaphore.release(1);
    }
    assertEquals(
        ObjectStats.PUBLISH_EVERY,
        counters("s").acquisitions(),
        "one batch published, the rest still counted in this view");
    region.close();
    assertEquals(acquires, counters("s").acquisitions(), "the rest published at close");
  }

  @Test
  void aSemaphoreCountsAQueuedAcquireAsContendedAndPublishesWhatItCountedBefore() throws Exception {
    Semaphore semaphore = region.semaphore("s", 1);
    await(semaphore.acquire(1)); // uncontended: counted in this view only
    CompletableFuture<Void> queued = semaphore.acquire(1);
    Thread.sleep(50);
    semaphore.release(1);
    await(queued);
    Counters counters = counters("s");
    assertEquals(2, counters.acquisitions(), "the grant publishes the uncontended one too");
    assertEquals(1, counters.contended());
    assertTrue(counters.waitNanos() >= MIN_WAIT_NANOS, "waited " + counters.waitNanos() + " ns");
    semaphore.release(1);
  }

  @Test
  void aReadWriteMutexCountsReadsAndWritesAndAQueuedWriteAsContended() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadGuard first = await(lock.read());
    lock.tryRead().orElseThrow().unlock();
    CompletableFuture<WriteGuard> writer = lock.write(); // queues behind the read hold
    Thread.sleep(50);
    first.unlock();
    await(writer).unlock();
    Counters counters = counters("rw");
    assertEquals(1, counters.acquisitions(), "the write (its fence); reads not yet published");
    assertEquals(1, counters.contended());
    assertTrue(counters.waitNanos() >= MIN_WAIT_NANOS, "waited " + counters.waitNanos() + " ns");
    region.close();
    assertEquals(3, counters("rw").acquisitions(), "two reads, published at close, and a write");
  }

  @Test
  void aWaitQueueCountsItsWaitsAndTheWokenOnesWithTheirWait() throws Exception {
    WaitQueue queue = region.waitQueue("q");
    CompletableFuture<Void> woken = queue.await(1);
    CompletableFuture<Void> cancelled = queue.await(2);
    Thread.sleep(50);
    assertEquals(1, queue.wakeUpTo(1));
    await(woken);
    cancelled.cancel(false);
    Counters counters = counters("q");
    assertEquals(2, counters.acquisitions(), "two waits");
    assertEquals(1, counters.contended(), "one woken");
    assertTrue(counters.waitNanos() >= MIN_WAIT_NANOS, "waited " + counters.waitNanos() + " ns");
  }

  @Test
  void theRescuedWaitsCounterIsWhatTheSleeperPathAdds() throws Exception {
    region.mutex("m");
    try (MappedRegion raw = openRawMapping()) {
      NamedObject object = raw.find("m").orElseThrow();
      ObjectStats stats =
          new ObjectStats(
              raw.segment(),
              object.offset() + ObjectStatsDescriptor.statsOffset(MutexDescriptor.SIZE));
      stats.countRescuedWait();
      stats.countRescuedWait();
    }
    assertEquals(2, counters("m").rescuedWaits());
  }

  @Test
  void aDamagedCounterIsShownAsReadAndTrustedForNothing() throws Exception {
    Mutex mutex = region.mutex("m");
    try (MappedRegion raw = openRawMapping()) {
      NamedObject object = raw.find("m").orElseThrow();
      ObjectStats stats =
          new ObjectStats(
              raw.segment(),
              object.offset() + ObjectStatsDescriptor.statsOffset(MutexDescriptor.SIZE));
      stats.spCounter(ObjectStatsDescriptor.CONTENDED_OFFSET, -5);
      stats.spCounter(ObjectStatsDescriptor.WAIT_NANOS_OFFSET, Long.MIN_VALUE);
      stats.spCounter(ObjectStatsDescriptor.TAKEOVERS_OFFSET, Long.MAX_VALUE);
    }
    RegionSnapshot snapshot = RegionSnapshot.read(region.file());
    Counters counters = counters("m");
    assertEquals(-5, counters.contended());
    assertEquals(Long.MAX_VALUE, counters.takeovers());
    assertEquals(0, counters.meanWaitNanos(), "no mean of damaged counts");
    assertFalse(snapshot.hasProblems(), "counters decide nothing, so they are no damage");
    // the lock works as before, and a contended grant adds to the value as it is (wrapping)
    MutexGuard holder = await(mutex.lock());
    CompletableFuture<MutexGuard> queued = mutex.lock();
    holder.unlock();
    await(queued).unlock();
    assertEquals(-4, counters("m").contended());
    assertTrue(
        RegionReport.read(region.file()).objects().get(0).countersLine().contains("-4 contended"));
  }

  // ---- across processes: one child JVM (CountersWorker) for all of them ----

  @Test
  void anotherProcesssContendedAcquisitionsPublishedAcquiresAndDeathsAreCountedHere()
      throws Exception {
    Mutex mutex = region.mutex("m");
    Semaphore permits = region.semaphore("permits", CountersWorker.PERMITS + 1);
    MutexGuard holder = await(mutex.lock());
    try (Child child =
        Child.jvm(CountersWorker.class).args(region.file().toString()).captureOutput().start()) {
      child.expect("WAITING");
      Thread.sleep(50);
      holder.unlock();
      child.expect("LOCKED");
      Counters afterChild = counters("m");
      assertEquals(
          1, afterChild.acquisitions(), "the child's, published at its grant (ours: not yet)");
      assertEquals(1, afterChild.contended(), "the child's queued lock");
      assertTrue(afterChild.waitNanos() >= MIN_WAIT_NANOS, "waited " + afterChild.waitNanos());

      child.expect("PUBLISHED");
      assertEquals(
          CountersWorker.ACQUIRES,
          counters("counted").acquisitions(),
          "the child's uncontended acquires, published when it closed its view");

      child.expect("HELD");
      child.kill();
    }

    MutexGuard taken = await(mutex.lock()); // "m" is free: no takeover
    taken.unlock();
    taken = await(region.mutex("dead").lock());
    assertTrue(taken.ownerDied());
    taken.markConsistent();
    taken.unlock();
    assertEquals(0, counters("m").takeovers());
    assertEquals(1, counters("dead").takeovers(), "the dead child's hold, taken over here");

    WriteGuard written = await(region.readWriteMutex("dead-writer").write());
    assertTrue(written.ownerDied());
    written.markConsistent();
    written.unlock();
    assertEquals(1, counters("dead-writer").takeovers(), "the dead writer, taken over here");

    await(region.readWriteMutex("dead-reader").write()).unlock(); // clears the dead record
    assertEquals(1, counters("dead-reader").recovered(), "the dead reader's one hold");

    await(permits.acquire(CountersWorker.PERMITS + 1)); // needs the dead child's: repaired
    permits.release(CountersWorker.PERMITS + 1);
    assertEquals(CountersWorker.PERMITS, counters("permits").recovered());
  }

  private Counters counters(String name) throws Exception {
    for (ObjectSnapshot object : RegionSnapshot.read(region.file()).objects()) {
      if (object.name().equals(name)) {
        return switch (object) {
          case RegionSnapshot.MutexSnapshot m -> m.counters();
          case RegionSnapshot.ReadWriteMutexSnapshot rw -> rw.counters();
          case RegionSnapshot.SemaphoreSnapshot s -> s.counters();
          case RegionSnapshot.WaitQueueSnapshot q -> q.counters();
          case RegionSnapshot.UnreadableObject u -> throw new AssertionError(u.problems());
        };
      }
    }
    throw new AssertionError("no object " + name);
  }
}
