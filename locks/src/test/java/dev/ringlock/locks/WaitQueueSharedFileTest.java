package dev.ringlock.locks;

import static dev.ringlock.locks.internal.WaitQueueDescriptor.LIST_LOCK_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.NONE;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WAITING;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WOKEN_ALL;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WOKEN_ONE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.InvalidRegionException;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.PidLock;
import dev.ringlock.core.memory.RegionDescriptor;
import dev.ringlock.locks.internal.WaitQueueWords;
import dev.ringlock.testsupport.Child;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * A wait queue in a region file, seen through several mappings: what one mapping queues another
 * wakes; damaged bytes are reported as corruption; a dead process's lock and slots are taken over.
 * The bytes are edited through a raw {@link MappedRegion} of the same file, as another process
 * could.
 */
@Timeout(60)
class WaitQueueSharedFileTest {
  @TempDir Path directory;

  private FutexRing ring;
  private Path file;
  private SharedRegion region;
  private MappedRegion raw;

  @BeforeEach
  void open() throws Exception {
    ring = FutexRing.open();
    file = directory.resolve("region");
    region = SharedRegion.open(file, RegionOptions.builder().ring(ring).build());
    raw =
        MappedRegion.open(file, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY);
  }

  @AfterEach
  void close() {
    raw.close();
    region.close();
    ring.close();
  }

  /** The queue object's bytes, as another process maps them. */
  private MemorySegment bytesOf(String name) {
    return raw.segment(raw.find(name).orElseThrow());
  }

  /** The queue's fields, through the flyweight the library reads them with. */
  private WaitQueueWords wordsOf(String name) {
    return new WaitQueueWords(
        raw.segment(), raw.find(name).orElseThrow().offset(), bytesOf(name).byteSize());
  }

  private static void assertCorrupt(Executable call, String finding) {
    UncheckedIOException e = assertThrows(UncheckedIOException.class, call);
    InvalidRegionException cause = assertInstanceOf(InvalidRegionException.class, e.getCause());
    assertEquals(InvalidRegionException.Problem.CORRUPT, cause.problem());
    assertTrue(e.getMessage().contains(finding), e.getMessage());
    assertTrue(e.getMessage().contains("delete the file"), e.getMessage());
  }

  @Test
  void twoMappingsOfOneFileShareTheQueue() throws Exception {
    try (SharedRegion other = SharedRegion.open(file, RegionOptions.builder().ring(ring).build())) {
      WaitQueue here = region.waitQueue("q", 16);
      WaitQueue there = other.waitQueue("q");
      assertEquals(16, there.capacity());
      List<CompletableFuture<Void>> waiters = new ArrayList<>();
      for (int key = 0; key < 6; key++) {
        waiters.add((key % 2 == 0 ? here : there).await(key));
      }
      assertEquals(6, here.waiting());
      assertEquals(6, there.waiting());
      assertEquals(3, there.wakeUpTo(2));
      for (int key = 0; key <= 2; key++) {
        waiters.get(key).get(20, TimeUnit.SECONDS);
      }
      Thread.sleep(50);
      for (int key = 3; key < 6; key++) {
        assertFalse(waiters.get(key).isDone());
      }
      assertEquals(3, here.wakeAll());
      CompletableFuture.allOf(waiters.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void aBadIndexInTheRegionIsReportedAsCorruption() throws Exception {
    WaitQueue queue = region.waitQueue("q", 8);
    CompletableFuture<Void> waiter = queue.await(1);
    WaitQueueWords words = wordsOf("q");
    int head = words.lpHead();
    words.spNext(head, 8); // one past the last slot
    assertCorrupt(queue::wakeAll, "next index of 8, outside its 8 slots");
    words.spNext(head, NONE);
    words.spHead(-7);
    assertCorrupt(() -> queue.wake(1), "head index of -7");
    words.spHead(head);
    words.spTail(Integer.MAX_VALUE);
    assertCorrupt(() -> queue.await(2), "tail index of 2147483647");
    words.spTail(head);
    words.spWaiting(1000);
    assertCorrupt(queue::waiting, "1000 waiting slots, outside 0..8");
    words.spWaiting(1);
    // repaired by hand: the queue works again
    assertEquals(1, queue.wakeAll());
    waiter.get(20, TimeUnit.SECONDS);
  }

  @Test
  void aHeaderThatDoesNotFitItsObjectIsRefusedOnAttach() throws Exception {
    region.waitQueue("q", 8);
    wordsOf("q").spCapacity(9); // 32 bytes more than it has
    try (SharedRegion other = SharedRegion.open(file, RegionOptions.builder().ring(ring).build())) {
      assertCorrupt(() -> other.waitQueue("q"), "capacity of 9 slots");
    }
  }

  @Test
  void aDeadListLockHolderIsTakenOverAndItsHalfDoneWorkRepaired() throws Exception {
    WaitQueue queue = region.waitQueue("q", 8);
    List<CompletableFuture<Void>> waiters = new ArrayList<>();
    for (int key = 0; key < 3; key++) {
      waiters.add(queue.await(key));
    }
    CompletableFuture<Void> chosen = queue.await(3);
    WaitQueueWords words = wordsOf("q");
    // As if a process had died holding the list lock, halfway through a wake: it unlinked the
    // last waiter (tail and count already updated, the old tail's link not yet), and stored
    // WOKEN_ALL in the chosen slot without sending the wake.
    int tail = words.lpTail();
    int before = words.lpPrev(tail);
    words.spTail(before);
    words.spWaiting(3);
    words.spState(tail, WOKEN_ALL);
    int dead = Child.deadPid();
    words.spListLock(dead);

    assertEquals(1, queue.wake(1)); // waits out the dead holder, takes over, repairs
    assertNotEquals(
        dead, words.laListLock() & RegionDescriptor.PID_MASK, "the dead holder's lock stayed");
    // This process's completion thread may hold it a moment (scanning for the woken waiter).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (words.laListLock() != 0 && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    assertEquals(0, words.laListLock(), "the lock was not released");
    assertNull(chosen.get(20, TimeUnit.SECONDS), "the repair did not send the dead one's wake");
    waiters.get(0).get(20, TimeUnit.SECONDS); // the order survived the repair
    Thread.sleep(50);
    assertFalse(waiters.get(1).isDone());
    assertEquals(2, queue.waiting());
    assertEquals(2, queue.wakeAll());
    CompletableFuture.allOf(waiters.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
  }

  /** Makes slot {@code slot} (FREE, list empty) a waiter of a dead process, on the list. */
  private static void plantDeadWaiter(WaitQueueWords words, int slot, int pid, int state) {
    words.spOwner(slot, pid);
    words.spKey(slot, 0L);
    words.spState(slot, state);
    words.spOccupied(1);
    if (state == WAITING) {
      words.spHead(slot);
      words.spTail(slot);
      words.spWaiting(1);
    }
  }

  @Test
  void aFullQueueReclaimsTheSlotsOfDeadProcesses() throws Exception {
    WaitQueue queue = region.waitQueue("one", 1);
    plantDeadWaiter(wordsOf("one"), 0, Child.deadPid(), WAITING);
    assertEquals(1, queue.waiting());
    CompletableFuture<Void> mine = queue.await(5); // full: takes the dead process's slot
    assertEquals(1, queue.waiting());
    assertEquals(1, queue.wake(1));
    mine.get(20, TimeUnit.SECONDS);
  }

  @Test
  void aWakeOfOneThatADeadProcessDidNotTakeIsPassedOnWhenReclaimed() throws Exception {
    WaitQueue queue = region.waitQueue("two", 2);
    plantDeadWaiter(wordsOf("two"), 0, Child.deadPid(), WOKEN_ONE); // chosen by wake(1), then died
    CompletableFuture<Void> first = queue.await(1); // takes slot 1: now the queue is full
    CompletableFuture<Void> second = queue.await(2); // reclaims slot 0, passes its wake on
    assertNull(first.get(20, TimeUnit.SECONDS));
    Thread.sleep(50);
    assertFalse(second.isDone());
    assertEquals(1, queue.wakeAll());
    second.get(20, TimeUnit.SECONDS);
  }

  @Test
  void thePeriodicCheckPassesOnAWakeOfOneThatADeadProcessDidNotTake() throws Exception {
    WaitQueue queue = region.waitQueue("four", 4);
    plantDeadWaiter(wordsOf("four"), 0, Child.deadPid(), WOKEN_ONE); // chosen by wake(1), then died
    CompletableFuture<Void> mine = queue.await(1); // not full: only the check can find slot 0
    long start = System.nanoTime();
    assertNull(mine.get(20, TimeUnit.SECONDS), "the dead process's wake was not passed on");
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(millis < 5_000, "the check is periodic: " + millis + " ms");
    assertEquals(0, wordsOf("four").laOccupied());
  }

  private static final int RECHECK_MILLIS = 250; // a sleeping view's re-check (docs/wait-queue.md)

  @Test
  void theReCheckFindsAWakeWhoseWakerDiedBeforeSendingIt() throws Exception {
    WaitQueue queue = region.waitQueue("lost", 4);
    CompletableFuture<Void> mine = queue.await(1);
    while (ring.stats().inFlight() == 0) {
      Thread.sleep(1); // until its kernel wait sleeps: else it would see the change below at once
    }
    Thread.sleep(RECHECK_MILLIS); // and has re-armed at least once, as an idle one does
    MemorySegment bytes = bytesOf("lost");
    WaitQueueWords words = wordsOf("lost");
    int slot = words.lpHead();
    // What a waker does under the list lock before it sends the wake through its ring; it dies
    // then, so no FUTEX_WAKE ever comes.
    PidLock listLock = new PidLock(bytes, LIST_LOCK_OFFSET, file, "wait queue 'lost'");
    listLock.lock();
    words.spHead(NONE);
    words.spTail(NONE);
    words.spWaiting(0);
    words.spState(slot, WOKEN_ONE);
    words.incWakeSequence();
    listLock.unlock();
    long start = System.nanoTime();
    assertNull(mine.get(20, TimeUnit.SECONDS), "the lost wake was never made up for");
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    // One re-check period, plus a scheduling delay on a loaded machine.
    assertTrue(millis < RECHECK_MILLIS + 1_000, "the re-check is periodic: " + millis);
    assertEquals(0, words.laOccupied());
  }
}
