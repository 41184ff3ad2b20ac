package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import dev.ringlock.locks.internal.WaitQueueCore;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every method and error case of WaitQueue, run on an in-memory region ({@link
 * WaitQueueInMemoryTest}) and on a file-backed one ({@link WaitQueueFileTest}).
 */
@Timeout(60)
abstract class AbstractWaitQueueTest {
  /** How long a waiter that nobody chose is watched for a wake it must not get. */
  private static final long QUIET_MILLIS = 50;

  enum Backing {
    IN_MEMORY,
    FILE
  }

  private final Backing backing;

  AbstractWaitQueueTest(Backing backing) {
    this.backing = backing;
  }

  @TempDir Path directory;

  private FutexRing ring;
  private SharedRegion region;

  @BeforeEach
  void open() throws Exception {
    // holdCompletionThread() holds the completion thread on purpose: keep its warning out of the
    // log
    ring = FutexRing.open(FutexRing.options().blockedThreadWarning(Duration.ofSeconds(30)));
    region = openRegion(RegionOptions.builder().ring(ring));
  }

  @AfterEach
  void close() {
    region.close();
    ring.close();
  }

  private SharedRegion openRegion(RegionOptions.Builder options) throws Exception {
    RegionOptions built = options.regionSize(4 << 20).build();
    return backing == Backing.FILE
        ? SharedRegion.open(directory.resolve("region-" + System.nanoTime()), built)
        : SharedRegion.inMemory(built);
  }

  private static <T> T done(CompletableFuture<T> future) throws Exception {
    return future.get(20, TimeUnit.SECONDS);
  }

  private static Throwable failureOf(CompletableFuture<?> future) throws Exception {
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> future.get(20, TimeUnit.SECONDS));
    return e.getCause();
  }

  /** Nobody chose it: it must stay pending, and it does not complete by itself either. */
  private static void assertStillWaiting(List<CompletableFuture<Void>> waiters)
      throws InterruptedException {
    Thread.sleep(QUIET_MILLIS);
    for (CompletableFuture<Void> waiter : waiters) {
      assertFalse(waiter.isDone(), "a waiter nobody chose completed: " + waiter);
    }
  }

  // ---- waking ----

  @Test
  void aWaiterCompletesWhenAWakeChoosesIt() throws Exception {
    WaitQueue queue = region.waitQueue("q");
    CompletableFuture<Void> waiter = queue.await(7);
    assertEquals(1, queue.waiting());
    assertStillWaiting(List.of(waiter));
    assertEquals(1, queue.wake(1));
    assertNull(done(waiter));
    assertEquals(0, queue.waiting());
    assertEquals(0, queue.wake(1), "nobody is left to wake");
  }

  @Test
  void wakeTakesTheLongestWaitingInOrder() throws Exception {
    WaitQueue queue = region.waitQueue("q");
    List<Integer> order = new ArrayList<>();
    List<CompletableFuture<Void>> waiters = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      int index = i;
      CompletableFuture<Void> waiter = queue.await(100 - i); // keys do not matter to wake(n)
      waiter.thenRun(
          () -> {
            synchronized (order) {
              order.add(index);
            }
          });
      waiters.add(waiter);
    }
    assertEquals(2, queue.wake(2));
    done(waiters.get(0));
    done(waiters.get(1));
    assertStillWaiting(waiters.subList(2, 6));
    assertEquals(4, queue.waiting());
    assertEquals(1, queue.wake(1));
    done(waiters.get(2));
    assertStillWaiting(waiters.subList(3, 6));
    assertEquals(3, queue.wake(10), "more than wait wakes those that do");
    CompletableFuture.allOf(waiters.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
    synchronized (order) {
      assertEquals(List.of(0, 1), order.subList(0, 2).stream().sorted().toList());
      assertEquals(2, order.get(2));
    }
  }

  @Test
  void wakeUpToWakesExactlyTheWaitersWithKeysAtMost() throws Exception {
    WaitQueue queue = region.waitQueue("q");
    long[] keys = {5, 1, 9, 3, 7, -2, 10, 5, Long.MIN_VALUE, Long.MAX_VALUE};
    List<CompletableFuture<Void>> waiters = new ArrayList<>();
    for (long key : keys) {
      waiters.add(queue.await(key));
    }
    assertEquals(6, queue.wakeUpTo(5)); // 5, 1, 3, -2, 5, MIN: inclusive, signed
    List<CompletableFuture<Void>> untouched = new ArrayList<>();
    for (int i = 0; i < keys.length; i++) {
      if (keys[i] <= 5) {
        assertNull(done(waiters.get(i)));
      } else {
        untouched.add(waiters.get(i));
      }
    }
    assertStillWaiting(untouched);
    assertEquals(4, queue.waiting());
    assertEquals(0, queue.wakeUpTo(6), "no key in (5, 6]");
    assertEquals(2, queue.wakeUpTo(9)); // 9 and 7
    done(waiters.get(2));
    done(waiters.get(4));
    assertStillWaiting(List.of(waiters.get(6), waiters.get(9)));
    assertEquals(2, queue.wakeUpTo(Long.MAX_VALUE));
    done(waiters.get(6));
    done(waiters.get(9));
    assertEquals(0, queue.waiting());
  }

  @Test
  void wakeAllWakesEveryWaiterAndReportsHowMany() throws Exception {
    WaitQueue queue = region.waitQueue("q");
    assertEquals(0, queue.wakeAll());
    List<CompletableFuture<Void>> waiters = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      waiters.add(queue.await(i));
    }
    assertEquals(300, queue.waiting());
    long wakesBefore = ((WaitQueueCore) queue).kernelWakes();
    FutexRing.Stats before = ring.stats();
    assertEquals(300, queue.wakeAll());
    CompletableFuture.allOf(waiters.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
    assertEquals(0, queue.waiting());
    FutexRing.Stats after = ring.stats();
    // One kernel wait for the 300 waiters, so one wake for all of them, on either backend.
    assertEquals(1, ((WaitQueueCore) queue).kernelWakes() - wakesBefore);
    assertTrue(
        after.completions() - before.completions() < 10,
        "a completion per waiter, not one for the process: " + before + " " + after);
  }

  @Test
  void wakeCountsAreChecked() throws Exception {
    WaitQueue queue = region.waitQueue("q");
    CompletableFuture<Void> waiter = queue.await(1);
    assertEquals(0, queue.wake(0));
    assertThrows(IllegalArgumentException.class, () -> queue.wake(-1));
    assertStillWaiting(List.of(waiter));
    assertEquals(1, queue.waiting());
    queue.wakeAll();
    done(waiter);
  }

  @Test
  void aWaiterWhoseContinuationAwaitsAgainFindsRoomInAFullQueue() throws Exception {
    WaitQueue queue = region.waitQueue("tiny", 1);
    AtomicInteger rounds = new AtomicInteger();
    CompletableFuture<Void> last = new CompletableFuture<>();
    Consumer<Void>[] again = new Consumer[1];
    again[0] =
        ignored -> {
          if (rounds.incrementAndGet() == 20) {
            last.complete(null);
          } else {
            queue.await(1).thenAccept(again[0]); // the slot it was woken from is free already
          }
        };
    queue.await(1).thenAccept(again[0]);
    for (int i = 0; i < 200 && !last.isDone(); i++) {
      queue.wake(1);
      Thread.sleep(1);
    }
    done(last);
    assertEquals(20, rounds.get());
  }

  // ---- timeouts ----

  @Test
  void aTimedAwaitFailsWithTimeoutExceptionAndFreesItsSlot() throws Exception {
    WaitQueue queue = region.waitQueue("one", 1);
    CompletableFuture<Void> waiter = queue.await(1, Duration.ofMillis(30));
    assertInstanceOf(TimeoutException.class, failureOf(waiter));
    assertEquals(0, queue.waiting());
    CompletableFuture<Void> next = queue.await(2); // the only slot is free again
    assertEquals(1, queue.wake(1));
    done(next);
  }

  @Test
  void aTimedAwaitsTimeoutMessageStatesItsDuration() throws Exception {
    WaitQueue queue = region.waitQueue("timed");
    Throwable failure = failureOf(queue.await(1, Duration.ofMillis(40)));
    assertInstanceOf(TimeoutException.class, failure);
    assertTrue(
        failure.getMessage().endsWith("'timed': no wake chose this waiter within 40 ms"),
        failure.getMessage());
  }

  @Test
  void aTimedAwaitWokenInTimeCompletesNormally() throws Exception {
    WaitQueue queue = region.waitQueue("q");
    CompletableFuture<Void> waiter = queue.await(1, Duration.ofSeconds(30));
    assertEquals(1, queue.wakeAll());
    assertNull(done(waiter));
  }

  @Test
  void aZeroTimeoutTimesOutAndANegativeOneIsRefused() throws Exception {
    WaitQueue queue = region.waitQueue("q");
    assertInstanceOf(TimeoutException.class, failureOf(queue.await(1, Duration.ZERO)));
    assertThrows(IllegalArgumentException.class, () -> queue.await(1, Duration.ofMillis(-1)));
    assertThrows(NullPointerException.class, () -> queue.await(1, null));
    assertEquals(0, queue.waiting());
    // a timeout too long for nanoTime arithmetic is a wait for ever, not an overflow
    CompletableFuture<Void> forever = queue.await(1, Duration.ofSeconds(Long.MAX_VALUE));
    assertStillWaiting(List.of(forever));
    queue.wakeAll();
    done(forever);
  }

  // ---- cancellation ----

  @Test
  void cancellingTakesTheWaiterOffTheQueue() throws Exception {
    WaitQueue queue = region.waitQueue("one", 1);
    CompletableFuture<Void> waiter = queue.await(1);
    assertTrue(waiter.cancel(false));
    assertEquals(0, queue.waiting());
    assertEquals(0, queue.wake(1), "a cancelled waiter is not chosen");
    // its slot comes back once its kernel wait has ended: await waits for that, briefly
    CompletableFuture<Void> next = queue.await(2);
    assertEquals(1, queue.waiting());
    queue.wake(1);
    done(next);
  }

  @Test
  void completingOrTimingOutTheFutureAlsoWithdraws() throws Exception {
    WaitQueue queue = region.waitQueue("q");
    CompletableFuture<Void> completed = queue.await(1);
    CompletableFuture<Void> failed = queue.await(2);
    CompletableFuture<Void> orTimeout = queue.await(3);
    assertEquals(3, queue.waiting());
    assertTrue(completed.complete(null));
    assertTrue(failed.completeExceptionally(new IllegalStateException("caller's")));
    // Withdrawn on the caller's thread before complete returns, unless the list lock was busy at
    // that instant (another thread of this process in it): then right after, never waiting for it
    // (docs/internal-locks.md).
    awaitWaiting(queue, 1);
    orTimeout.orTimeout(20, TimeUnit.MILLISECONDS);
    assertInstanceOf(TimeoutException.class, failureOf(orTimeout));
    // orTimeout's thread withdraws it just after it completes the future
    awaitWaiting(queue, 0);
    assertEquals(0, queue.wakeAll());
  }

  private static void awaitWaiting(WaitQueue queue, int expected) throws InterruptedException {
    for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        queue.waiting() != expected && System.nanoTime() < end; ) {
      Thread.sleep(1);
    }
    assertEquals(expected, queue.waiting());
  }

  /** Holds the ring's completion thread, so that no kernel wait's completion runs meanwhile. */
  private AutoCloseable holdCompletionThread() throws Exception {
    Arena arena = Arena.ofShared();
    MemorySegment gate = arena.allocate(ValueLayout.JAVA_INT);
    FutexWord word = FutexWord.of(gate, 0);
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ring.wait(word, 0)
        .thenRun(
            () -> {
              held.countDown();
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    ring.wake(word, 1);
    assertTrue(held.await(20, TimeUnit.SECONDS));
    return () -> {
      release.countDown();
      arena.close();
    };
  }

  @Test
  void aWakeOfOneChosenForACancelledWaiterIsPassedOn() throws Exception {
    WaitQueue queue = region.waitQueue("q");
    CompletableFuture<Void> first = queue.await(1);
    CompletableFuture<Void> second = queue.await(2);
    CompletableFuture<Void> third = queue.await(3);
    try (AutoCloseable held = holdCompletionThread()) {
      assertEquals(1, queue.wake(1)); // chooses `first`, whose completion cannot run yet
      assertTrue(first.cancel(false)); // the caller gives up before the wake is delivered
    }
    assertTrue(first.isCancelled());
    assertNull(done(second), "the wake meant for one waiter was lost with the cancelled one");
    assertStillWaiting(List.of(third));
    assertEquals(1, queue.waiting());
    queue.wakeAll();
    done(third);
  }

  @Test
  void aWakeUpToChosenForACancelledWaiterIsNotPassedOn() throws Exception {
    WaitQueue queue = region.waitQueue("q");
    CompletableFuture<Void> first = queue.await(1);
    CompletableFuture<Void> second = queue.await(2);
    try (AutoCloseable held = holdCompletionThread()) {
      assertEquals(1, queue.wakeUpTo(1));
      assertTrue(first.cancel(false));
    }
    assertTrue(first.isCancelled());
    assertStillWaiting(List.of(second));
    assertEquals(1, queue.waiting());
    queue.wakeAll();
    done(second);
  }

  @Test
  void aTimeoutThatLosesToAWakeCompletesNormally() throws Exception {
    WaitQueue queue = region.waitQueue("q");
    CompletableFuture<Void> waiter = queue.await(1, Duration.ofMillis(100));
    try (AutoCloseable held = holdCompletionThread()) {
      assertEquals(1, queue.wake(1));
      Thread.sleep(200); // the kernel's timer could have fired: the wake chose it first
    }
    assertNull(done(waiter));
    assertEquals(0, queue.waiting());
  }

  @Test
  void aCancelStormLeavesEverySlotFree() throws Exception {
    int capacity = 64;
    WaitQueue queue = region.waitQueue("storm", capacity);
    SplittableRandom random = new SplittableRandom(42);
    List<CompletableFuture<Void>> all = new ArrayList<>();
    AtomicInteger full = new AtomicInteger();
    AtomicBoolean stop = new AtomicBoolean();
    CompletableFuture<Void> wakers =
        CompletableFuture.runAsync(
            () -> {
              SplittableRandom mine = new SplittableRandom(7);
              for (int i = 0; !stop.get(); i++) {
                switch (mine.nextInt(3)) {
                  case 0 -> queue.wake(1 + mine.nextInt(3));
                  case 1 -> queue.wakeUpTo(mine.nextInt(100));
                  default -> {
                    if (i % 50 == 0) {
                      queue.wakeAll();
                    }
                  }
                }
                Thread.onSpinWait();
              }
            });
    while (all.size() < 5000) {
      CompletableFuture<Void> waiter;
      try {
        waiter =
            random.nextBoolean()
                ? queue.await(random.nextInt(100))
                : queue.await(random.nextInt(100), Duration.ofNanos(random.nextLong(2_000_000)));
      } catch (WaitQueueFullException e) {
        full.incrementAndGet();
        queue.wake(capacity / 2);
        continue;
      }
      all.add(waiter);
      if (random.nextInt(3) == 0) {
        waiter.cancel(false);
      }
      if (random.nextInt(5) == 0) {
        CompletableFuture<Void> earlier = all.get(random.nextInt(all.size()));
        CompletableFuture.runAsync(() -> earlier.cancel(false));
      }
    }
    stop.set(true);
    done(wakers);
    // Whatever is still waiting is woken; then every future has ended one of three ways.
    queue.wakeAll();
    int woken = 0;
    for (CompletableFuture<Void> waiter : all) {
      try {
        waiter.get(20, TimeUnit.SECONDS);
        woken++;
      } catch (CancellationException e) {
        // cancelled
      } catch (ExecutionException e) {
        assertInstanceOf(TimeoutException.class, e.getCause());
      }
    }
    assertTrue(woken > 0, "none of " + all.size() + " was woken");
    assertEquals(0, queue.waiting());
    // Every slot is free again: capacity waiters fit.
    List<CompletableFuture<Void>> refill = new ArrayList<>();
    for (int i = 0; i < capacity; i++) {
      refill.add(queue.await(i));
    }
    assertThrows(WaitQueueFullException.class, () -> queue.await(0));
    assertEquals(capacity, queue.wakeAll());
    CompletableFuture.allOf(refill.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
    assertTrue(queue.toString().contains("this process: 0 slots"), queue.toString());
  }

  // ---- capacity ----

  @Test
  void aFullQueueThrowsAndLeaksNothing() throws Exception {
    WaitQueue queue = region.waitQueue("four", 4);
    assertEquals(4, queue.capacity());
    List<CompletableFuture<Void>> waiters = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      waiters.add(queue.await(i));
    }
    for (int i = 0; i < 3; i++) {
      WaitQueueFullException e = assertThrows(WaitQueueFullException.class, () -> queue.await(9));
      assertEquals(4, e.capacity());
      assertTrue(e.getMessage().contains("all 4 of its slots"), e.getMessage());
      assertTrue(e.getMessage().contains("waitQueue(name, capacity)"), e.getMessage());
    }
    assertEquals(4, queue.waiting());
    assertEquals(4, queue.wakeAll());
    CompletableFuture.allOf(waiters.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
    for (int round = 0; round < 3; round++) {
      List<CompletableFuture<Void>> again = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        again.add(queue.await(i));
      }
      assertEquals(4, queue.wakeAll());
      CompletableFuture.allOf(again.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void capacityAppliesOnlyWhenTheQueueIsCreated() throws Exception {
    WaitQueue queue = region.waitQueue("sized", 8);
    assertEquals(8, queue.capacity());
    assertSame(queue, region.waitQueue("sized", 64));
    assertSame(queue, region.waitQueue("sized"));
    assertEquals(RegionOptions.DEFAULT_WAIT_QUEUE_CAPACITY, region.waitQueue("default").capacity());
    try (SharedRegion custom = openRegion(RegionOptions.builder().waitQueueCapacity(16))) {
      assertEquals(16, custom.waitQueue("q").capacity());
      assertEquals(16, custom.waitQueue("q", 100).capacity());
    }
    if (backing == Backing.FILE) { // another view of the same file sees the creator's capacity
      try (SharedRegion again = SharedRegion.open(region.file())) {
        assertEquals(8, again.waitQueue("sized", 1000).capacity());
      }
    }
  }

  @Test
  void badCapacitiesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> region.waitQueue("q", 0));
    assertThrows(IllegalArgumentException.class, () -> region.waitQueue("q", -5));
    assertThrows(IllegalArgumentException.class, () -> region.waitQueue("q", (1 << 24) + 1));
    assertThrows(
        IllegalArgumentException.class, () -> RegionOptions.builder().waitQueueCapacity(0));
    // a queue larger than the region's data area is the region's problem, named as such
    assertThrows(
        dev.ringlock.core.RegionFullException.class, () -> region.waitQueue("huge", 1 << 20));
  }

  @Test
  void aNameOfAnotherTypeIsRefused() {
    region.mutex("m");
    IllegalArgumentException asQueue =
        assertThrows(IllegalArgumentException.class, () -> region.waitQueue("m"));
    assertTrue(asQueue.getMessage().contains("as a mutex, not a wait queue"), asQueue.getMessage());
    region.waitQueue("q");
    IllegalArgumentException asMutex =
        assertThrows(IllegalArgumentException.class, () -> region.mutex("q"));
    assertTrue(asMutex.getMessage().contains("as a wait queue"), asMutex.getMessage());
    assertThrows(IllegalArgumentException.class, () -> region.waitQueue(""));
    assertThrows(NullPointerException.class, () -> region.waitQueue(null));
  }

  // ---- closing ----

  @Test
  void closingTheRegionFailsWaitersAndRefusesLaterCalls() throws Exception {
    SharedRegion closing = openRegion(RegionOptions.builder().ring(ring));
    WaitQueue queue = closing.waitQueue("q");
    CompletableFuture<Void> plain = queue.await(1);
    CompletableFuture<Void> timed = queue.await(2, Duration.ofSeconds(30));
    closing.close();
    assertInstanceOf(RegionClosedException.class, failureOf(plain));
    assertInstanceOf(RegionClosedException.class, failureOf(timed));
    assertThrows(RegionClosedException.class, () -> queue.await(3));
    assertThrows(RegionClosedException.class, queue::wakeAll);
    assertThrows(RegionClosedException.class, () -> queue.wake(1));
    assertThrows(RegionClosedException.class, () -> queue.wakeUpTo(1));
    assertThrows(RegionClosedException.class, queue::waiting);
    assertThrows(RegionClosedException.class, () -> closing.waitQueue("q"));
    assertTrue(queue.toString().contains("closed"), queue.toString());
    assertFalse(plain.cancel(false), "already failed");
  }

  @Test
  void aRingThatIsClosedFailsTheWait() throws Exception {
    FutexRing other = FutexRing.open();
    try (SharedRegion onClosedRing = openRegion(RegionOptions.builder().ring(other))) {
      other.close();
      WaitQueue queue = onClosedRing.waitQueue("q");
      CompletableFuture<Void> waiter = queue.await(1);
      assertInstanceOf(dev.ringlock.core.RingClosedException.class, failureOf(waiter));
      assertEquals(0, queue.waiting(), "the failed waiter left its slot behind");
    }
  }

  @Test
  void toStringShowsTheQueueForWatchdogs() throws Exception {
    WaitQueue queue = region.waitQueue("jobs");
    List<CompletableFuture<Void>> waiters = new ArrayList<>();
    for (long key : new long[] {11, 22, 33, 44, 55}) {
      waiters.add(queue.await(key));
    }
    String state = queue.toString();
    assertTrue(state.contains("'jobs'"), state);
    assertTrue(state.contains("5 waiting"), state);
    assertTrue(state.contains("11, 22, 33, 44, ..."), state);
    assertTrue(state.contains("this process: 5 slots"), state);
    assertTrue(state.contains("list lock free"), state);
    queue.wakeAll();
    CompletableFuture.allOf(waiters.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
  }
}
