package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.RegionSnapshot.Holder;
import dev.ringlock.locks.RegionSnapshot.MutexSnapshot;
import dev.ringlock.locks.RegionSnapshot.ObjectSnapshot;
import dev.ringlock.locks.RegionSnapshot.Peer;
import dev.ringlock.locks.RegionSnapshot.SemaphoreSnapshot;
import dev.ringlock.locks.RegionSnapshot.WaitQueueSnapshot;
import dev.ringlock.locks.RegionSnapshot.Waiters;
import dev.ringlock.locks.internal.MutexWords;
import dev.ringlock.locks.internal.SemaphoreWords;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The exported, typed snapshot: every object kind's state as records, read from the file. */
@Timeout(60)
class RegionSnapshotTest extends RegionTestBase {
  private static final int ME = (int) ProcessHandle.current().pid();
  private static final int OTHER = 4_000_000; // a pid this test's liveness calls dead
  private static final IntFunction<Boolean> ONLY_ME_ALIVE = pid -> pid == ME;

  private MappedRegion raw;

  @BeforeEach
  void mapRaw() throws Exception {
    raw = openRawMapping();
  }

  @AfterEach
  void unmapRaw() {
    raw.close();
  }

  private <T extends ObjectSnapshot> T snapshotOf(String name, Class<T> kind) throws IOException {
    RegionSnapshot snapshot = RegionSnapshot.read(region.file(), ONLY_ME_ALIVE);
    return kind.cast(
        snapshot.objects().stream().filter(o -> o.name().equals(name)).findFirst().orElseThrow());
  }

  @Test
  void aHeldMutexNamesThisProcessAsItsLiveConsistentOwner() throws Exception {
    try (MutexGuard guard = region.mutex("m").tryLock().orElseThrow()) {
      MutexSnapshot mutex = snapshotOf("m", MutexSnapshot.class);
      assertEquals("mutex", mutex.type());
      assertEquals("held", mutex.state());
      assertEquals(new Peer(ME, true), mutex.owner());
      assertTrue(mutex.consistent());
      assertEquals(guard.fence(), mutex.lastFence());
      assertEquals(List.of(), mutex.problems());
    }
    MutexSnapshot free = snapshotOf("m", MutexSnapshot.class);
    assertEquals("free", free.state());
    assertNull(free.owner());
  }

  @Test
  void aMutexWhoseOwnerIsDeadIsNotConsistent() throws Exception {
    region.mutex("m");
    new MutexWords(raw.segment(), raw.find("m").orElseThrow().offset()).spWord(OTHER);
    MutexSnapshot mutex = snapshotOf("m", MutexSnapshot.class);
    assertEquals(new Peer(OTHER, false), mutex.owner());
    assertFalse(mutex.consistent(), "the next acquirer takes it over");
    assertEquals(List.of(), mutex.problems(), "a dead owner is a state, not damage");
  }

  @Test
  void aSemaphoreWithUndoOnExitListsEachHolderAndItsPermits() throws Exception {
    assertTrue(region.semaphore("s", 3).tryAcquire(2));
    SemaphoreSnapshot semaphore = snapshotOf("s", SemaphoreSnapshot.class);
    assertEquals(1, semaphore.permits());
    assertTrue(semaphore.undoOnExit());
    assertEquals(3, semaphore.total());
    assertEquals(2, semaphore.recorded());
    assertEquals(1, semaphore.holders().size());
    Holder holder = semaphore.holders().getFirst();
    assertEquals(new Peer(ME, true), holder.process());
    assertEquals(2, holder.permits());
    assertFalse(holder.busy());
    assertTrue(semaphore.countAgreesWithRecords());
    assertEquals(List.of(), semaphore.problems());
  }

  @Test
  void aSemaphoreWhoseCountDisagreesWithSettledRecordsHasAProblem() throws Exception {
    region.semaphore("s", 3);
    new SemaphoreWords(raw.segment(), raw.find("s").orElseThrow().offset()).spWord(1);
    SemaphoreSnapshot semaphore = snapshotOf("s", SemaphoreSnapshot.class);
    assertFalse(semaphore.countAgreesWithRecords());
    assertTrue(semaphore.recordsSettled());
    assertEquals(1, semaphore.problems().size(), semaphore.problems().toString());
    assertTrue(semaphore.problems().getFirst().contains("the count disagrees with the records"));
  }

  @Test
  void aWaitQueueCountsItsWaitersByProcess() throws Exception {
    WaitQueue queue = region.waitQueue("q", 8);
    CompletableFuture<?> first = queue.await(1);
    CompletableFuture<?> second = queue.await(2);
    WaitQueueSnapshot snapshot = snapshotOf("q", WaitQueueSnapshot.class);
    assertEquals("wait queue", snapshot.type());
    assertEquals(2, snapshot.waiting());
    assertEquals(8, snapshot.capacity());
    assertEquals(List.of(new Waiters(new Peer(ME, true), 2)), snapshot.waitingByProcess());
    assertNull(snapshot.listLockHolder());
    assertEquals(List.of(), snapshot.problems());
    queue.wakeAll();
    await(first);
    await(second);
  }

  @Test
  void aDamagedFieldIsAProblemOfItsObjectAndOfTheSnapshot() throws Exception {
    region.mutex("m");
    region.condition("c", 4);
    new MutexWords(raw.segment(), raw.find("m").orElseThrow().offset()).spStarvingPid(1, -9);
    RegionSnapshot snapshot = RegionSnapshot.read(region.file(), ONLY_ME_ALIVE);
    assertTrue(snapshot.hasProblems());
    MutexSnapshot mutex = assertInstanceOf(MutexSnapshot.class, snapshot.objects().get(0));
    assertEquals(
        List.of("starving slot 1 holds -9, not a pid (0 or 1..4194303)"), mutex.problems());
    WaitQueueSnapshot condition =
        assertInstanceOf(WaitQueueSnapshot.class, snapshot.objects().get(1));
    assertEquals("condition variable", condition.type());
    assertEquals(List.of(), condition.problems());
  }
}
