package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.ibm.asyncutil.locks.FairAsyncSemaphore;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.NamedObject;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Semaphore in one JVM. Several SharedRegions opened on one file stand for several processes:
 * each has its own queue and its own kernel wait, so their waiters meet only through the word and
 * FUTEX_WAIT/FUTEX_WAKE, as separate processes do.
 *
 * <p>Every semaphore here has undo on exit off (SIGNAL): these tests release permits a view never
 * acquired, which is a signal only such a semaphore allows. Undo on exit is {@link
 * SemaphoreUndoTest}'s.
 */
@Timeout(120)
class SemaphoreTest extends RegionTestBase {
  private static final int WAITERS_BIT = Integer.MIN_VALUE;
  private static final SemaphoreOptions SIGNAL =
      SemaphoreOptions.builder().undoOnExit(false).build();

  /** Another view of the region file, standing for another process. */
  private SharedRegion otherProcess() throws Exception {
    return SharedRegion.open(region.file(), withRing());
  }

  /** Gives pending kernel waits time to reach the kernel, so they are asleep in a known order. */
  private static void letWaitsSettle() throws InterruptedException {
    Thread.sleep(50);
  }

  // ---- basics ----

  @Test
  void anImmediateAcquireCompletesAtOnceWithoutTouchingTheRing() throws Exception {
    Semaphore semaphore = region.semaphore("s", 2, SIGNAL);
    FutexRing.Stats before = ring.stats();
    for (int i = 0; i < 1000; i++) {
      CompletableFuture<Void> acquired = semaphore.acquire(2);
      assertTrue(acquired.isDone());
      assertEquals(0, semaphore.availablePermits());
      semaphore.release(2);
      assertTrue(semaphore.tryAcquire(1));
      semaphore.release(1);
    }
    FutexRing.Stats after = ring.stats();
    assertEquals(before.sqesSubmitted(), after.sqesSubmitted());
    assertEquals(before.enterCalls(), after.enterCalls());
    assertEquals(2, semaphore.availablePermits());
  }

  /**
   * A view whose contended acquires spin until the permits come (spinTries without bound), so that
   * the permits a test releases moments later reach the spin, not a queue.
   */
  private SharedRegion spinningView() throws Exception {
    return SharedRegion.open(
        region.file(), RegionOptions.builder().ring(ring).spinTries(Integer.MAX_VALUE).build());
  }

  /**
   * Releases {@code permits} of {@code semaphore} on another thread once {@code acquirer} is seen
   * spinning for permits (SemaphoreCore.acquireContended on its stack), so that the release cannot
   * come before the acquire has found too few; after 10 s without seeing it, releases anyway (an
   * acquire that never spins has queued by then, and the test's assertions say so).
   */
  private static Thread releaseWhileSpinning(Semaphore semaphore, int permits, Thread acquirer) {
    return Thread.ofPlatform()
        .start(
            () -> {
              long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
              while (System.nanoTime() < giveUp && !spinning(acquirer)) {
                Thread.onSpinWait();
              }
              semaphore.release(permits);
            });
  }

  private static boolean spinning(Thread thread) {
    for (StackTraceElement frame : thread.getStackTrace()) {
      if (frame.getMethodName().equals("acquireContended")
          && frame.getClassName().endsWith("SemaphoreCore")) {
        return true;
      }
    }
    return false;
  }

  @Test
  void aContendedAcquireTakesPermitsReleasedWhileItSpinsWithoutQueueing() throws Exception {
    try (SharedRegion view = spinningView()) {
      Semaphore semaphore = view.semaphore("s", 0, SIGNAL);
      FutexRing.Stats before = ring.stats();
      Thread releaser = releaseWhileSpinning(semaphore, 1, Thread.currentThread());
      CompletableFuture<Void> acquired = semaphore.acquire(1);
      // Returned done: it never queued, so no kernel wait was armed and no wake was owed.
      assertTrue(acquired.isDone() && !acquired.isCompletedExceptionally());
      releaser.join();
      assertEquals(0, semaphore.availablePermits());
      assertEquals(0, semaphore.queueLength());
      assertEquals(before.sqesSubmitted(), ring.stats().sqesSubmitted());
    }
  }

  @Test
  void anUndoSemaphoresContendedAcquireTakesPermitsReleasedWhileItSpins() throws Exception {
    try (SharedRegion view = spinningView()) {
      Semaphore semaphore = view.semaphore("s", 1); // undo on exit: the holder's own release
      assertTrue(semaphore.tryAcquire(1));
      FutexRing.Stats before = ring.stats();
      Thread releaser = releaseWhileSpinning(semaphore, 1, Thread.currentThread());
      CompletableFuture<Void> acquired = semaphore.acquire(1);
      assertTrue(acquired.isDone() && !acquired.isCompletedExceptionally());
      releaser.join();
      assertEquals(0, semaphore.availablePermits());
      assertEquals(before.sqesSubmitted(), ring.stats().sqesSubmitted());
      semaphore.release(1); // this view holds the permit the spin took, recorded as its holding
      assertEquals(1, semaphore.availablePermits());
    }
  }

  @Test
  void theAlreadyCompletedFutureCannotBeAltered() {
    CompletableFuture<Void> acquired = region.semaphore("s", 1, SIGNAL).acquire(1);
    assertFalse(acquired.cancel(false));
    assertFalse(acquired.completeExceptionally(new RuntimeException()));
    UnsupportedOperationException value =
        assertThrows(UnsupportedOperationException.class, () -> acquired.obtrudeValue(null));
    assertEquals("an acquire's result cannot be replaced", value.getMessage());
    assertThrows(
        UnsupportedOperationException.class,
        () -> acquired.obtrudeException(new RuntimeException()));
    assertTrue(acquired.isDone() && !acquired.isCompletedExceptionally());
  }

  @Test
  void initialPermitsApplyOnlyWhenTheSemaphoreIsCreated() throws Exception {
    Semaphore semaphore = region.semaphore("s", 3, SIGNAL);
    assertEquals("s", semaphore.name());
    assertEquals(3, semaphore.availablePermits());
    assertSame(semaphore, region.semaphore("s", 7, SIGNAL));
    assertEquals(3, semaphore.availablePermits());
    try (SharedRegion other = otherProcess()) {
      Semaphore seen = other.semaphore("s", 9, SIGNAL);
      assertEquals(3, seen.availablePermits());
      seen.release(2);
      assertEquals(5, semaphore.availablePermits());
    }
    assertEquals(0, region.semaphore("empty", 0, SIGNAL).availablePermits());
    assertEquals(
        Semaphore.MAX_PERMITS,
        region.semaphore("full", Semaphore.MAX_PERMITS, SIGNAL).availablePermits());
  }

  @Test
  void tryAcquireTakesOnlyWhatIsAvailable() {
    Semaphore semaphore = region.semaphore("s", 3, SIGNAL);
    assertTrue(semaphore.tryAcquire(2));
    assertFalse(semaphore.tryAcquire(2));
    assertEquals(1, semaphore.availablePermits());
    assertTrue(semaphore.tryAcquire(1));
    assertFalse(semaphore.tryAcquire(1));
    assertEquals(0, semaphore.availablePermits());
  }

  @Test
  void permitCountsThatAreNotPositiveAreRefused() throws Exception {
    Semaphore semaphore = region.semaphore("s", 2, SIGNAL);
    for (int bad : new int[] {0, -1, Integer.MIN_VALUE}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> semaphore.acquire(bad));
      assertTrue(e.getMessage().contains("must be positive"), e.getMessage());
      assertThrows(
          IllegalArgumentException.class, () -> semaphore.acquire(bad, Duration.ofSeconds(1)));
      assertThrows(IllegalArgumentException.class, () -> semaphore.tryAcquire(bad));
      assertThrows(IllegalArgumentException.class, () -> semaphore.release(bad));
    }
    assertThrows(IllegalArgumentException.class, () -> semaphore.acquire(1, Duration.ofMillis(-1)));
    assertThrows(NullPointerException.class, () -> semaphore.acquire(1, null));
    assertEquals(2, semaphore.availablePermits());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> region.semaphore("t", -1, SIGNAL));
    assertTrue(e.getMessage().contains("0 or more"), e.getMessage());
    assertFalse(seenIn(region.file(), "t"), "a refused creation stored 't'");
  }

  private static boolean seenIn(Path file, String name) throws Exception {
    try (MappedRegion raw =
        MappedRegion.open(
            file, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      return raw.find(name).isPresent();
    }
  }

  @Test
  void aReleaseBeyondTheThirtyOneBitRangeIsRefusedAndChangesNothing() throws Exception {
    Semaphore semaphore = region.semaphore("s", Semaphore.MAX_PERMITS - 1, SIGNAL);
    semaphore.release(1);
    assertEquals(Semaphore.MAX_PERMITS, semaphore.availablePermits());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> semaphore.release(1));
    assertTrue(e.getMessage().contains("exceed the maximum"), e.getMessage());
    assertEquals(Semaphore.MAX_PERMITS, semaphore.availablePermits());
    assertTrue(semaphore.tryAcquire(Semaphore.MAX_PERMITS));
    semaphore.release(5);
    assertThrows(IllegalArgumentException.class, () -> semaphore.release(Semaphore.MAX_PERMITS));
    assertEquals(5, semaphore.availablePermits());
    // a refused release leaves waiters waiting, and the WAITERS bit in place
    assertEquals(5, semaphore.drainPermits());
    CompletableFuture<Void> waiter = semaphore.acquire(1);
    assertThrows(IllegalArgumentException.class, () -> semaphore.release(Integer.MIN_VALUE));
    semaphore.release(Semaphore.MAX_PERMITS);
    await(waiter);
    assertEquals(Semaphore.MAX_PERMITS - 1, semaphore.availablePermits());
    assertThrows(IllegalArgumentException.class, () -> semaphore.release(2));
    assertEquals(Semaphore.MAX_PERMITS - 1, semaphore.availablePermits());
  }

  @Test
  void aNameOfAnotherKindOfObjectIsRefused() {
    region.mutex("m");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> region.semaphore("m", 1, SIGNAL));
    assertTrue(e.getMessage().contains("as a mutex, not a semaphore"), e.getMessage());
    region.semaphore("s", 1, SIGNAL);
    e = assertThrows(IllegalArgumentException.class, () -> region.mutex("s"));
    assertTrue(e.getMessage().contains("as a semaphore, not a mutex"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> region.semaphore("", 1, SIGNAL));
    assertThrows(NullPointerException.class, () -> region.semaphore(null, 1, SIGNAL));
  }

  @Test
  void theObjectIsTheDescribedLayoutWithTheReservedRoomZero() throws Exception {
    Semaphore semaphore = region.semaphore("s", 0, SIGNAL);
    CompletableFuture<Void> waiter = semaphore.acquire(3);
    try (MappedRegion raw =
        MappedRegion.open(
            region.file(), RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      NamedObject object = raw.find("s").orElseThrow();
      // line 0, 64 holders of 8 bytes (issue 5), then the stats line (layout version 5), zero
      // while nothing was granted
      assertEquals(640, object.length());
      MemorySegment bytes = raw.segment(object);
      int word = bytes.get(ValueLayout.JAVA_INT, 0);
      assertEquals(WAITERS_BIT, word, "a sleeper sets WAITERS on the empty word");
      assertEquals(1, bytes.get(ValueLayout.JAVA_INT, 4), "processes sleeping");
      assertEquals(1, bytes.get(ValueLayout.JAVA_INT, 12), "flags: FLAG_NO_UNDO");
      for (long at = 8; at < object.length(); at++) {
        if (at < 12 || at >= 16) {
          assertEquals(0, bytes.get(ValueLayout.JAVA_BYTE, at), "reserved byte " + at);
        }
      }
      semaphore.release(5);
      await(waiter);
      assertEquals(2, bytes.get(ValueLayout.JAVA_INT, 0), "a release clears WAITERS");
      region.semaphore("seven", 7, SIGNAL);
      assertEquals(7, raw.segment(raw.find("seven").orElseThrow()).get(ValueLayout.JAVA_INT, 0));
    }
  }

  @Test
  void drainPermitsTakesAllThatIsAvailableAndLeavesSleepersToBeWoken() throws Exception {
    Semaphore semaphore = region.semaphore("s", 5, SIGNAL);
    assertEquals(5, semaphore.drainPermits());
    assertEquals(0, semaphore.availablePermits());
    assertEquals(0, semaphore.drainPermits());
    try (SharedRegion other = otherProcess()) {
      CompletableFuture<Void> waiter = other.semaphore("s", 0, SIGNAL).acquire(2);
      semaphore.release(1); // wakes the waiter, which sleeps again: 1 is not enough
      letWaitsSettle();
      assertEquals(1, semaphore.drainPermits());
      assertFalse(waiter.isDone());
      semaphore.release(2); // the drain kept WAITERS: the release still wakes the waiter
      waiter.get(5, TimeUnit.SECONDS);
      assertEquals(0, semaphore.availablePermits());
    }
  }

  // ---- order and waking ----

  @Test
  void waitersOfOneProcessAreServedInArrivalOrder() throws Exception {
    Semaphore semaphore = region.semaphore("s", 0, SIGNAL);
    List<Integer> served = Collections.synchronizedList(new ArrayList<>());
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      int me = i;
      all.add(semaphore.acquire(1).thenRun(() -> served.add(me)));
    }
    semaphore.release(1);
    await(all.get(0));
    letWaitsSettle();
    assertEquals(List.of(0), served);
    semaphore.release(4);
    for (CompletableFuture<Void> each : all) {
      await(each);
    }
    assertEquals(List.of(0, 1, 2, 3, 4), served);
    assertEquals(0, semaphore.availablePermits());
  }

  @Test
  void aBigRequestIsNotOvertakenBySmallerOnesOfItsProcess() throws Exception {
    Semaphore semaphore = region.semaphore("s", 0, SIGNAL);
    CompletableFuture<Void> big = semaphore.acquire(5);
    CompletableFuture<Void> small = semaphore.acquire(1);
    semaphore.release(3);
    letWaitsSettle();
    assertFalse(big.isDone());
    assertFalse(small.isDone(), "a request for 1 overtook the queued request for 5");
    assertFalse(semaphore.tryAcquire(1), "tryAcquire overtook the queue");
    CompletableFuture<Void> third = semaphore.acquire(1);
    assertFalse(third.isDone(), "acquire overtook the queue");
    assertEquals(3, semaphore.availablePermits());
    semaphore.release(2);
    await(big);
    assertEquals(0, semaphore.availablePermits());
    assertFalse(small.isDone());
    semaphore.release(2);
    await(small);
    await(third);
    assertEquals(0, semaphore.availablePermits());
  }

  @Test
  void oneReleaseLetsEveryLocalWaiterThatFitsProceed() throws Exception {
    Semaphore semaphore = region.semaphore("s", 0, SIGNAL);
    List<CompletableFuture<Void>> waiters = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      waiters.add(semaphore.acquire(1 + i % 2)); // 15 permits in all
    }
    letWaitsSettle();
    semaphore.release(15);
    for (CompletableFuture<Void> waiter : waiters) {
      await(waiter);
    }
    assertEquals(0, semaphore.availablePermits());
  }

  @Test
  void aReleaseInAnotherProcessWakesTheWaitersHere() throws Exception {
    Semaphore semaphore = region.semaphore("s", 0, SIGNAL);
    List<CompletableFuture<Void>> waiters = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      waiters.add(semaphore.acquire(1));
    }
    letWaitsSettle();
    try (SharedRegion other = otherProcess()) {
      other.semaphore("s", 0, SIGNAL).release(3);
      for (CompletableFuture<Void> waiter : waiters) {
        await(waiter);
      }
      assertEquals(0, other.semaphore("s", 0, SIGNAL).availablePermits());
    }
  }

  @Test
  void aReleaseWakesEveryWaitingProcessNotOnlyTheLongestSleeper() throws Exception {
    // The longest sleeper needs more than is released; a count-limited wake would reach only it,
    // and it would go back to sleep while the process that can proceed was never woken.
    // (The releaser stays open until the end: closing a region wakes every sleeper.)
    try (SharedRegion first = otherProcess();
        SharedRegion second = otherProcess();
        SharedRegion releaser = otherProcess()) {
      CompletableFuture<Void> needsFive = first.semaphore("s", 0, SIGNAL).acquire(5);
      letWaitsSettle();
      CompletableFuture<Void> needsOne = second.semaphore("s", 0, SIGNAL).acquire(1);
      CompletableFuture<Void> needsTwo = region.semaphore("s", 0, SIGNAL).acquire(2);
      letWaitsSettle();
      releaser.semaphore("s", 0, SIGNAL).release(3);
      needsOne.get(5, TimeUnit.SECONDS);
      needsTwo.get(5, TimeUnit.SECONDS);
      assertFalse(needsFive.isDone());
      releaser.semaphore("s", 0, SIGNAL).release(5);
      await(needsFive);
    }
    assertEquals(0, region.semaphore("s", 0, SIGNAL).availablePermits());
  }

  @Test
  void continuationsThatReleaseDoNotNestOnTheStack() throws Exception {
    Semaphore semaphore = region.semaphore("s", 0, SIGNAL);
    int waiters = 20_000;
    AtomicInteger ran = new AtomicInteger();
    List<CompletableFuture<Void>> done = new ArrayList<>();
    for (int i = 0; i < waiters; i++) {
      done.add(
          semaphore
              .acquire(1)
              .thenRun(
                  () -> {
                    ran.incrementAndGet();
                    semaphore.release(1);
                  }));
    }
    semaphore.release(1);
    for (CompletableFuture<Void> each : done) {
      await(each);
    }
    assertEquals(waiters, ran.get());
    assertEquals(1, semaphore.availablePermits());
  }

  @Test
  void anInMemoryRegionWaitsOnPrivateFutexes() throws Exception {
    try (SharedRegion local = SharedRegion.inMemory(withRing())) {
      Semaphore semaphore = local.semaphore("s", 0, SIGNAL);
      CompletableFuture<Void> waiter = semaphore.acquire(2);
      CompletableFuture<Void> timed = semaphore.acquire(1, Duration.ofMillis(30));
      assertInstanceOf(TimeoutException.class, failureOf(timed));
      CompletableFuture.runAsync(() -> semaphore.release(2)).get(20, TimeUnit.SECONDS);
      await(waiter);
      assertEquals(0, semaphore.availablePermits());
    }
  }

  // ---- timeouts ----

  @Test
  void aTimedAcquireFailsWithTimeoutExceptionAndTakesNoPermit() throws Exception {
    Semaphore semaphore = region.semaphore("s", 1, SIGNAL);
    long start = System.nanoTime();
    CompletableFuture<Void> timed = semaphore.acquire(2, Duration.ofMillis(100));
    Throwable failure = failureOf(timed);
    assertInstanceOf(TimeoutException.class, failure);
    assertTrue(failure.getMessage().contains("'s'"), failure.getMessage());
    assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(90));
    assertEquals(1, semaphore.availablePermits());
    assertTrue(semaphore.tryAcquire(1), "the timed-out request left itself queued");
  }

  @Test
  void aTimedAcquireThatGetsItsPermitsInTimeSucceeds() throws Exception {
    Semaphore semaphore = region.semaphore("s", 0, SIGNAL);
    CompletableFuture<Void> timed = semaphore.acquire(1, Duration.ofSeconds(10));
    CompletableFuture<Void> shortOne = semaphore.acquire(1, Duration.ofMillis(50));
    assertInstanceOf(TimeoutException.class, failureOf(shortOne));
    assertFalse(timed.isDone());
    semaphore.release(1);
    await(timed);
    assertEquals(0, semaphore.availablePermits());
  }

  @Test
  void aZeroTimeoutTakesWhatIsAvailableAndFailsOtherwise() throws Exception {
    Semaphore semaphore = region.semaphore("s", 1, SIGNAL);
    await(semaphore.acquire(1, Duration.ZERO));
    assertInstanceOf(TimeoutException.class, failureOf(semaphore.acquire(1, Duration.ZERO)));
    assertEquals(0, semaphore.availablePermits());
  }

  @Test
  void aTimedOutHeadLetsTheNextRequestProceed() throws Exception {
    Semaphore semaphore = region.semaphore("s", 2, SIGNAL);
    CompletableFuture<Void> big = semaphore.acquire(5, Duration.ofSeconds(1)); // generous: load
    CompletableFuture<Void> small = semaphore.acquire(1);
    assertFalse(small.isDone());
    assertInstanceOf(TimeoutException.class, failureOf(big));
    await(small);
    assertEquals(1, semaphore.availablePermits());
  }

  @Test
  void aTimedWaiterInAnotherProcessIsWokenByTheKernelTimer() throws Exception {
    region.semaphore("s", 0, SIGNAL);
    try (SharedRegion other = otherProcess()) {
      CompletableFuture<Void> timed =
          other.semaphore("s", 0, SIGNAL).acquire(1, Duration.ofMillis(50));
      assertInstanceOf(TimeoutException.class, failureOf(timed));
      CompletableFuture<Void> later = other.semaphore("s", 0, SIGNAL).acquire(1);
      region.semaphore("s", 0, SIGNAL).release(1);
      await(later);
    }
  }

  // ---- cancellation ----

  @Test
  void aCancelledAcquireNeverTakesAPermit() throws Exception {
    Semaphore semaphore = region.semaphore("s", 0, SIGNAL);
    CompletableFuture<Void> cancelled = semaphore.acquire(1);
    CompletableFuture<Void> next = semaphore.acquire(1);
    assertTrue(cancelled.cancel(false));
    semaphore.release(2);
    await(next);
    assertThrows(CancellationException.class, cancelled::join);
    assertEquals(1, semaphore.availablePermits());
  }

  /*
   * The grant on its way (see MutexTest's test of the same name): a release inside a continuation
   * grants the next request, delivered only once the outer grant returns; a cancel in that instant
   * returns true, and the permit is back at once. Unlike the mutex's in-process handoff, a release
   * also wakes this process's kernel wait, whose decision on the completion thread may grant the
   * request first (then the cancel returns false): so rounds repeat until the cancel has won a few
   * times, and every round checks that the permit is accounted for.
   */
  @Test
  void aCancelThatReturnsTrueLeavesNothingHeldEvenWithTheGrantOnItsWay() throws Exception {
    int cancelsWon = 0;
    for (int round = 0; round < 200 && cancelsWon < 3; round++) {
      Semaphore semaphore = region.semaphore("s" + round, 0, SIGNAL);
      CompletableFuture<Void> second = semaphore.acquire(1);
      CompletableFuture<Void> third = semaphore.acquire(1);
      GrantOnItsWay.Outcome outcome =
          GrantOnItsWay.play(
              () -> semaphore.release(1),
              second,
              granted -> semaphore.release(1), // grants third
              third,
              () -> semaphore.tryAcquire(1)); // kept: the round ends with 0 available either way
      if (outcome.cancelled()) {
        cancelsWon++;
        assertTrue(outcome.takenAfterCancel(), "a cancelled request still held the permit");
        assertThrows(CancellationException.class, third::join);
      } else {
        await(third); // granted before the cancel: it holds the permit
      }
      assertEquals(0, semaphore.availablePermits());
    }
    assertTrue(cancelsWon >= 3, "the cancel never came before the grant's delivery");
  }

  @Test
  void aCancelledHeadLetsTheNextRequestProceed() throws Exception {
    Semaphore semaphore = region.semaphore("s", 3, SIGNAL);
    CompletableFuture<Void> big = semaphore.acquire(5);
    CompletableFuture<Void> small = semaphore.acquire(2);
    assertFalse(small.isDone());
    assertTrue(big.cancel(false));
    await(small);
    assertEquals(1, semaphore.availablePermits());
  }

  @Test
  void anAcquireCompletedByOrTimeoutIsWithdrawn() throws Exception {
    Semaphore semaphore = region.semaphore("s", 0, SIGNAL);
    CompletableFuture<Void> request = semaphore.acquire(1).orTimeout(20, TimeUnit.MILLISECONDS);
    assertInstanceOf(TimeoutException.class, failureOf(request));
    semaphore.release(1);
    assertEquals(1, semaphore.availablePermits());
    assertTrue(semaphore.tryAcquire(1), "the withdrawn request stayed queued");
  }

  /** The same storm for ours and for IBM's semaphore: requests cancelled as releases arrive. */
  @Test
  void ibmFairAsyncSemaphoreLosesTheCancelledAcquiresPermitAndOursDoesNot() throws Exception {
    FairAsyncSemaphore ibm = new FairAsyncSemaphore(0);
    CompletableFuture<Void> ibmRequest = ibm.acquire(1).toCompletableFuture();
    assertTrue(ibmRequest.cancel(false));
    ibm.release(1);
    assertEquals(0, ibm.getAvailablePermits(), "IBM async-util 0.1.0 fixed its permit loss");

    Semaphore ours = region.semaphore("s", 0, SIGNAL);
    CompletableFuture<Void> ourRequest = ours.acquire(1);
    assertTrue(ourRequest.cancel(false));
    ours.release(1);
    assertEquals(1, ours.availablePermits());
  }

  @Test
  void aStormOfCancelledAndTimedOutAcquiresLosesNoPermit() throws Exception {
    int permits = 4;
    int requests = 4000;
    Semaphore here = region.semaphore("storm", 0, SIGNAL);
    try (SharedRegion other = otherProcess()) {
      Semaphore there = other.semaphore("storm", 0, SIGNAL);
      SplittableRandom random = new SplittableRandom(7);
      AtomicInteger granted = new AtomicInteger();
      LinkedBlockingQueue<Integer> held = new LinkedBlockingQueue<>(); // permits of granted ones
      List<CompletableFuture<Void>> all = new ArrayList<>(requests);
      List<CompletableFuture<Void>> ends = new ArrayList<>(requests);
      List<CompletableFuture<Void>> victims = new ArrayList<>();
      for (int i = 0; i < requests; i++) {
        Semaphore side = random.nextBoolean() ? here : there;
        int n = 1 + random.nextInt(3);
        CompletableFuture<Void> request =
            switch (random.nextInt(4)) {
              case 0 -> side.acquire(n, Duration.ofNanos(random.nextLong(3_000_000)));
              case 1 -> side.acquire(n, Duration.ofSeconds(30));
              case 2 -> side.acquire(n).orTimeout(random.nextLong(1, 4), TimeUnit.MILLISECONDS);
              default -> side.acquire(n);
            };
        all.add(request);
        ends.add(
            request.thenRun(
                () -> {
                  granted.incrementAndGet();
                  held.add(n);
                }));
        if (random.nextInt(3) == 0) {
          victims.add(request);
        }
      }
      CompletableFuture<Void> everyEnd =
          CompletableFuture.allOf(ends.toArray(new CompletableFuture<?>[0]))
              .handle((ignored, failure) -> null);
      // The releaser starts once a cancel has won (or every cancel was tried): under load the
      // cancelling task could otherwise start after every victim had ended, cancelling none.
      CountDownLatch aCancelWon = new CountDownLatch(1);
      CompletableFuture<Integer> cancelling =
          CompletableFuture.supplyAsync(
              () -> {
                int cancelled = 0;
                for (CompletableFuture<Void> victim : victims) {
                  cancelled += victim.cancel(false) ? 1 : 0; // races with grants and timeouts
                  if (cancelled > 0) {
                    aCancelWon.countDown();
                  }
                  Thread.onSpinWait();
                }
                aCancelWon.countDown();
                return cancelled;
              });
      assertTrue(aCancelWon.await(30, TimeUnit.SECONDS), "the cancelling task never ran");
      // The releaser: the permits go round, from either side, until every request has ended;
      // some releases also run as continuations of this thread's grants (the local pump).
      here.release(permits);
      boolean fromHere = true;
      while (!everyEnd.isDone() || !held.isEmpty()) {
        Integer n = held.poll(1, TimeUnit.MILLISECONDS);
        if (n != null) {
          (fromHere ? here : there).release(n);
          fromHere = !fromHere;
        }
      }
      int cancelled = await(cancelling);
      int timedOut = 0;
      int cancellations = 0;
      for (CompletableFuture<Void> request : all) {
        try {
          request.get(30, TimeUnit.SECONDS);
        } catch (CancellationException e) {
          cancellations++;
        } catch (ExecutionException e) {
          assertInstanceOf(TimeoutException.class, e.getCause());
          timedOut++;
        }
      }
      String counts = granted + " granted, " + cancelled + " cancelled, " + timedOut + " timed out";
      assertEquals(cancelled, cancellations, counts);
      assertEquals(requests, granted.get() + cancelled + timedOut, counts);
      assertTrue(granted.get() > 0 && cancelled > 0 && timedOut > 0, counts);
      awaitPermits(here, permits);
      assertEquals(permits, there.availablePermits(), here.toString());
      assertTrue(here.tryAcquire(permits));
      assertFalse(there.tryAcquire(1), "a permit was made up");
    }
  }

  /**
   * Waits until the semaphore shows {@code expected} permits: a grant that lost to a cancel gives
   * its permits back on whichever thread granted, possibly just after the request's future
   * completed.
   */
  private static void awaitPermits(Semaphore semaphore, int expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (semaphore.availablePermits() != expected && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    assertEquals(expected, semaphore.availablePermits(), semaphore.toString());
  }

  @Test
  void cancelRacingAReleaseNeverLosesThePermit() throws Exception {
    Semaphore semaphore = region.semaphore("s", 0, SIGNAL);
    try (SharedRegion other = otherProcess()) {
      Semaphore releaser = other.semaphore("s", 0, SIGNAL);
      for (int round = 0; round < 2000; round++) {
        CompletableFuture<Void> request = semaphore.acquire(1);
        CompletableFuture<Boolean> cancel =
            CompletableFuture.supplyAsync(() -> request.cancel(false));
        (round % 2 == 0 ? semaphore : releaser).release(1);
        if (await(cancel)) {
          awaitPermits(semaphore, 1); // the cancel won: the permit stays in the semaphore
          assertTrue(semaphore.tryAcquire(1));
        } else {
          await(request); // the grant won: the request has the permit
        }
        assertEquals(0, semaphore.availablePermits(), "round " + round + ": " + semaphore);
      }
    }
  }

  // ---- closing ----

  @Test
  void closingTheRegionFailsPendingAcquiresAndReleasesNothing() throws Exception {
    Path file = directory.resolve("closing");
    SharedRegion closing = SharedRegion.open(file, withRing());
    Semaphore semaphore = closing.semaphore("s", 2, SIGNAL);
    await(semaphore.acquire(2));
    CompletableFuture<Void> pending = semaphore.acquire(1);
    try (SharedRegion observer = SharedRegion.open(file, withRing())) {
      CompletableFuture<Void> elsewhere = observer.semaphore("s", 0, SIGNAL).acquire(1);
      closing.close();
      closing.close(); // idempotent
      assertInstanceOf(RegionClosedException.class, failureOf(pending));
      assertEquals(0, observer.semaphore("s", 0, SIGNAL).availablePermits());
      assertThrows(RegionClosedException.class, () -> semaphore.acquire(1));
      assertThrows(RegionClosedException.class, () -> semaphore.acquire(1, Duration.ZERO));
      assertThrows(RegionClosedException.class, () -> semaphore.tryAcquire(1));
      assertThrows(RegionClosedException.class, () -> semaphore.release(1));
      assertThrows(RegionClosedException.class, semaphore::availablePermits);
      assertThrows(RegionClosedException.class, semaphore::drainPermits);
      assertThrows(RegionClosedException.class, () -> closing.semaphore("s", 1, SIGNAL));
      assertTrue(semaphore.toString().contains("closed"), semaphore.toString());
      // a waiter of another process is not disturbed, and still gets its permit
      assertFalse(elsewhere.isDone());
      observer.semaphore("s", 0, SIGNAL).release(1);
      await(elsewhere);
    }
  }

  @Test
  void toStringShowsTheStateForDiagnosis() throws Exception {
    Semaphore semaphore = region.semaphore("s", 1, SIGNAL);
    CompletableFuture<Void> waiter = semaphore.acquire(3);
    String state = semaphore.toString();
    assertTrue(state.contains("'s'"), state);
    assertTrue(state.contains("1 permits available with waiters"), state);
    assertTrue(state.contains("1 queued here (the oldest wants 3)"), state);
    assertTrue(state.contains("a kernel wait armed"), state);
    semaphore.release(2);
    await(waiter);
    assertNotEquals(state, semaphore.toString());
  }
}
