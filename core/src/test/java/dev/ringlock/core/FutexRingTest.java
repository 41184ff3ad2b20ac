package dev.ringlock.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

@Timeout(120)
class FutexRingTest {
  private static final int ANY = FutexRing.ANY_BITSET;

  private FutexRing ring;
  private Words words;

  /**
   * The ring under test: on the backend -Dringlock.backend chooses (CI runs this class once per
   * backend), or io_uring for a test marked {@link IoUringOnly}.
   */
  @BeforeEach
  void openRing(TestInfo test) {
    boolean ioUringOnly =
        test.getTestMethod().map(m -> m.isAnnotationPresent(IoUringOnly.class)).orElse(false);
    ring =
        ioUringOnly
            ? FutexRing.open(FutexRing.options().backend(FutexRing.Backend.IO_URING))
            : FutexRing.open();
    words = new Words(16);
  }

  /** A second ring on the same backend as {@link #ring}. */
  private FutexRing openAnother(FutexRing.Options options) {
    return FutexRing.open(options.backend(ring.backend()));
  }

  @AfterEach
  void closeRing() {
    ring.close();
  }

  private static <T> T await(CompletableFuture<T> future) throws Exception {
    return future.get(10, TimeUnit.SECONDS);
  }

  private static Throwable failureOf(CompletableFuture<?> future) throws Exception {
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> future.get(10, TimeUnit.SECONDS));
    return e.getCause();
  }

  /** Every request made before this returns has been submitted: requests keep their order. */
  private void drainRing() throws Exception {
    await(ring.wake(words.word(15), 0));
  }

  /**
   * Runs {@code task} on the completion thread: as the continuation of a wait that is still pending
   * when the continuation is attached (a continuation attached to a completed future would run on
   * the caller's thread instead).
   */
  private <T> CompletableFuture<T> onCompletionThread(java.util.function.Supplier<T> task)
      throws Exception {
    FutexWord trigger = words.word(14);
    CompletableFuture<WaitOutcome> pending = ring.wait(trigger, 0);
    CompletableFuture<T> result = pending.thenApply(ignored -> task.get());
    drainRing();
    assertEquals(1, await(ring.wake(trigger, 1)));
    return result;
  }

  /** Occupies the completion thread until the returned latch is counted down. */
  private CountDownLatch blockCompletionThread() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    onCompletionThread(
        () -> {
          running.countDown();
          awaitRelease(release);
          return null;
        });
    assertTrue(running.await(10, TimeUnit.SECONDS));
    return release;
  }

  /** Holds a completion thread until the test counts {@code release} down. */
  private static void awaitRelease(CountDownLatch release) {
    try {
      release.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void awaitInFlight(int expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (ring.stats().inFlight() != expected && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    assertEquals(expected, ring.stats().inFlight());
  }

  // ---- outcomes ----

  @Test
  void waitOnAWordThatHoldsAnotherValueCompletesValueChanged() throws Exception {
    words.set(0, 5);
    WaitOutcome outcome = await(ring.wait(words.word(0), 4));
    assertTrue(outcome.isValueChanged());
    assertFalse(outcome.isWoken());
  }

  @Test
  void waitSleepsUntilWokenAndWakeReportsHowManyItWoke() throws Exception {
    FutexWord word = words.word(0);
    List<CompletableFuture<WaitOutcome>> waits = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      waits.add(ring.wait(word, 0));
    }
    drainRing();
    Thread.sleep(20);
    waits.forEach(w -> assertFalse(w.isDone(), "a wait completed with nobody waking it"));

    assertEquals(2, await(ring.wake(word, 2)));
    assertEquals(1, await(ring.wake(word, FutexRing.WAKE_ALL)));
    for (CompletableFuture<WaitOutcome> wait : waits) {
      assertSame(WaitOutcome.woken(0), await(wait));
    }
    assertEquals(0, await(ring.wake(word, 1)), "a wake with nobody waiting wakes none");
  }

  @Test
  void wakeOfZeroWakesNone() throws Exception {
    CompletableFuture<WaitOutcome> wait = ring.wait(words.word(0), 0);
    assertEquals(0, await(ring.wake(words.word(0), 0)));
    Thread.sleep(20);
    assertFalse(wait.isDone());
    assertEquals(1, await(ring.wake(words.word(0), 1)));
    assertTrue(await(wait).isWoken());
  }

  @Test
  void waitersOnOneWordAreWokenOldestFirst() throws Exception {
    FutexWord word = words.word(0);
    List<CompletableFuture<WaitOutcome>> waits = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      waits.add(ring.wait(word, 0));
    }
    for (int i = 0; i < waits.size(); i++) {
      assertEquals(1, await(ring.wake(word, 1)));
      assertTrue(await(waits.get(i)).isWoken());
      for (int later = i + 1; later < waits.size(); later++) {
        assertFalse(waits.get(later).isDone(), "waiter " + later + " woke before waiter " + i);
      }
    }
  }

  @Test
  void bitsetWakeReachesOnlyWaitersThatShareABit() throws Exception {
    FutexWord word = words.word(0);
    CompletableFuture<WaitOutcome> low = ring.wait(word, 0, 0b01);
    CompletableFuture<WaitOutcome> high = ring.wait(word, 0, 0b10);
    CompletableFuture<WaitOutcome> both = ring.wait(word, 0, 0b11);

    assertEquals(2, await(ring.wake(word, FutexRing.WAKE_ALL, 0b10)));
    assertTrue(await(high).isWoken());
    assertTrue(await(both).isWoken());
    assertFalse(low.isDone());
    assertEquals(0, await(ring.wake(word, FutexRing.WAKE_ALL, 0b100)));
    int woken = await(ring.wake(word, FutexRing.WAKE_ALL, 0xFFFF_FFFF));
    assertTrue(await(low).isWoken());
    if (ring.backend() == FutexRing.Backend.IO_URING) {
      assertEquals(1, woken);
    } else {
      // The syscalls backend sleeps a bitset wait in 50 ms slices; a wake landing between two
      // slices ends it woken at the next, uncounted (docs/backends.md, "Pure wakes and re-arming
      // threads"): seen under load, where a slice's gap is long.
      assertTrue(woken == 0 || woken == 1, "woken " + woken);
    }
  }

  @Test
  void waitAnyReportsTheIndexOfTheWordThatWasWoken() throws Exception {
    List<WaitTarget> targets =
        List.of(
            new WaitTarget(words.word(0), 0),
            new WaitTarget(words.word(1), 0),
            new WaitTarget(words.word(2), 0));
    CompletableFuture<WaitOutcome> any = ring.waitAny(targets);
    drainRing();
    assertFalse(any.isDone());
    assertEquals(1, await(ring.wake(words.word(2), 1)));
    assertEquals(2, await(any).wokenIndex());
  }

  @Test
  void waitAnyCompletesValueChangedWhenAnyWordDiffers() throws Exception {
    words.set(1, 9);
    List<WaitTarget> targets =
        List.of(new WaitTarget(words.word(0), 0), new WaitTarget(words.word(1), 0));
    assertTrue(await(ring.waitAny(targets)).isValueChanged());
  }

  @Test
  void waitAnyTakesTheFull128Words() throws Exception {
    Words many = new Words(FutexRing.MAX_WAIT_ANY);
    List<WaitTarget> targets = new ArrayList<>();
    for (int i = 0; i < FutexRing.MAX_WAIT_ANY; i++) {
      targets.add(new WaitTarget(many.word(i), 0));
    }
    CompletableFuture<WaitOutcome> any = ring.waitAny(targets);
    drainRing();
    assertEquals(1, await(ring.wake(many.word(127), 1)));
    assertEquals(127, await(any).wokenIndex());
  }

  /**
   * Regression: a FUTEX_WAITV's entries were placed by an index derived from their scratch offset,
   * which is no multiple of the entry size when a timed wait's timespec precedes them in the same
   * batch: the kernel then read other bytes and failed the wait with EINVAL (or waited elsewhere).
   */
  @Test
  void aWaitAnyBatchedBehindATimedWaitWaitsOnItsOwnWords() throws Exception {
    FutexWord timed = words.word(0);
    FutexWord a = words.word(1);
    FutexWord b = words.word(2);
    // Made on the completion thread, both join one batch: the timespec first, then the waitv.
    CompletableFuture<CompletableFuture<WaitOutcome>> any =
        onCompletionThread(
            () -> {
              ring.wait(timed, 0, ANY, Duration.ofSeconds(30));
              return ring.waitAny(List.of(new WaitTarget(a, 0), new WaitTarget(b, 0)));
            });
    CompletableFuture<WaitOutcome> waitAny = await(any);
    drainRing();
    assertFalse(waitAny.isDone(), "the FUTEX_WAITV must sleep on its words: " + waitAny);
    assertEquals(1, await(ring.wake(b, 1)));
    assertEquals(1, await(waitAny).wokenIndex());
  }

  /**
   * A kernel fact the callers of waitAny must design around (io_uring/futex.c, io_futex_wakev_fn):
   * a FUTEX_WAITV claimed by its first wake stays queued on its other words until its completion
   * runs, and a wake that meets it there is counted but wakes nobody. DEFER_TASKRUN (the default)
   * holds the completion back while the completion thread is busy, which opens the window wide.
   */
  @Test
  @IoUringOnly(
      "a fact of io_uring's FUTEX_WAITV under DEFER_TASKRUN; SyscallBackendTest covers the syscalls backend's repair")
  void aWokenWaitAnySwallowsAWakeOnItsOtherWordsUntilItCompletes() throws Exception {
    FutexWord a = words.word(0);
    FutexWord b = words.word(1);
    CompletableFuture<WaitOutcome> any =
        ring.waitAny(List.of(new WaitTarget(a, 0), new WaitTarget(b, 0)));
    drainRing();
    CompletableFuture<WaitOutcome> behind = ring.wait(b, 0); // queued after the waitv on b
    drainRing();
    CountDownLatch release = blockCompletionThread();
    try {
      assertEquals(1, Futex.wake(a, 1, ANY));
      assertEquals(1, Futex.wake(b, 1, ANY), "the claimed waitv is counted as woken on b");
    } finally {
      release.countDown();
    }
    assertEquals(0, await(any).wokenIndex());
    drainRing();
    assertFalse(behind.isDone(), "the wake on b reached nobody");
    assertEquals(1, await(ring.wake(b, 1)));
    assertTrue(await(behind).isWoken());
  }

  @Test
  void anAbandonedWaitAnyHandsEveryWordToItsHandler() throws Exception {
    FutexWord a = words.word(0);
    FutexWord b = words.word(1);
    List<FutexWord> handed = java.util.Collections.synchronizedList(new ArrayList<>());
    CountDownLatch both = new CountDownLatch(2);
    CompletableFuture<WaitOutcome> any =
        ring.waitAny(
            List.of(new WaitTarget(a, 0), new WaitTarget(b, 0)),
            null,
            (r, word, bitset) -> {
              handed.add(word);
              both.countDown();
            });
    drainRing();
    assertTrue(any.cancel(false));
    assertTrue(both.await(10, TimeUnit.SECONDS), "handed: " + handed);
    assertEquals(java.util.Set.of(a, b), java.util.Set.copyOf(handed));
  }

  // ---- bad arguments are refused before submission ----

  @Test
  void badArgumentsAreRejectedBeforeSubmission() throws Exception {
    FutexWord word = words.word(0);
    assertThrows(IllegalArgumentException.class, () -> ring.waitAny(List.of()));
    List<WaitTarget> tooMany = new ArrayList<>();
    for (int i = 0; i <= FutexRing.MAX_WAIT_ANY; i++) {
      tooMany.add(new WaitTarget(word, 0));
    }
    assertThrows(IllegalArgumentException.class, () -> ring.waitAny(tooMany));
    assertThrows(IllegalArgumentException.class, () -> ring.wait(word, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> ring.wake(word, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> ring.wake(word, -1));
    assertThrows(
        IllegalArgumentException.class, () -> ring.wait(word, 0, ANY, Duration.ofMillis(-1)));
    assertThrows(IllegalArgumentException.class, () -> FutexWord.of(words.memory(), 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> FutexWord.of(words.memory(), words.memory().byteSize() - 2));
    assertThrows(
        IllegalArgumentException.class, () -> FutexWord.ofAddress(0x1002, FutexScope.PRIVATE));
    assertThrows(
        IllegalArgumentException.class,
        () -> FutexWord.of(java.lang.foreign.MemorySegment.ofArray(new int[4]), 0));
    assertEquals(0, ring.stats().sqesSubmitted(), "a rejected request reached the kernel");
  }

  @Test
  void aKernelErrorFailsTheFutureWithItsErrno() throws Exception {
    // Page 1 is never mapped: the kernel answers EFAULT when it reads the word.
    FutexWord unmapped = FutexWord.ofAddress(0x1000, FutexScope.PRIVATE);
    RingException failure =
        assertInstanceOf(RingException.class, failureOf(ring.wait(unmapped, 0)));
    assertEquals("EFAULT", failure.errnoName());
    assertEquals(14, failure.errno());
  }

  // ---- timeouts and cancellation ----

  @Test
  void linkedTimeoutFailsTheWaitWithTimeoutException() throws Exception {
    CompletableFuture<WaitOutcome> wait = ring.wait(words.word(0), 0, ANY, Duration.ofMillis(30));
    assertInstanceOf(TimeoutException.class, failureOf(wait));
    awaitInFlight(0);
    assertEquals(0, Futex.wake(words.word(0), 1, ANY), "the timed-out wait is still in the kernel");
  }

  @Test
  void aWakeBeforeTheTimeoutWins() throws Exception {
    CompletableFuture<WaitOutcome> wait = ring.wait(words.word(0), 0, ANY, Duration.ofSeconds(30));
    assertEquals(1, await(ring.wake(words.word(0), 1)));
    assertTrue(await(wait).isWoken());
  }

  @Test
  void cancelRemovesTheWaitFromTheKernel() throws Exception {
    FutexWord word = words.word(0);
    CompletableFuture<WaitOutcome> wait = ring.wait(word, 0);
    drainRing();
    assertEquals(1, ring.stats().inFlight());
    assertTrue(wait.cancel(false));
    assertTrue(wait.isCancelled());
    awaitInFlight(0);
    assertEquals(0, Futex.wake(word, 1, ANY), "the cancelled wait is still queued on the futex");
  }

  @Test
  void orTimeoutAbandonsTheKernelWait() throws Exception {
    FutexWord word = words.word(0);
    CompletableFuture<WaitOutcome> wait = ring.wait(word, 0).orTimeout(20, TimeUnit.MILLISECONDS);
    assertInstanceOf(TimeoutException.class, failureOf(wait));
    awaitInFlight(0);
    assertEquals(0, Futex.wake(word, 1, ANY));
  }

  @Test
  @IoUringOnly(
      "forces the race by blocking the completion thread while its waits stay queued in the kernel; a syscalls thread leaves the kernel to run continuations (cancelRacingWakeNeverLosesTheWake runs on both)")
  void aWakeConsumedByACancelledWaitIsPassedToTheNextWaiter() throws Exception {
    FutexWord word = words.word(0);
    AtomicInteger passedOn = new AtomicInteger();
    AbandonedWakeHandler counting =
        (r, w, bitset) -> {
          passedOn.incrementAndGet();
          AbandonedWakeHandler.PASS_ON.wakeConsumed(r, w, bitset);
        };
    CompletableFuture<WaitOutcome> abandoned = ring.wait(word, 0, ANY, null, counting);
    CompletableFuture<WaitOutcome> live = ring.wait(word, 0);
    drainRing();

    // Force the losing interleaving: the kernel wakes the first waiter while the completion
    // thread is busy, and only then is that waiter cancelled.
    CountDownLatch release = blockCompletionThread();
    assertEquals(1, Futex.wake(word, 1, ANY));
    assertTrue(abandoned.cancel(false));
    release.countDown();

    assertTrue(await(live).isWoken(), "the wake was lost with the cancelled waiter");
    assertEquals(1, passedOn.get());
    awaitInFlight(0);
  }

  @Test
  @IoUringOnly(
      "a pure wake racing a cancel: on syscalls the cancel takes the thread out of the kernel with all its waits for a moment, and a wake that changes no word then finds nobody; SyscallBackendTest races the cancel with a wake that changes the word, as every protocol does")
  void cancelRacingWakeNeverLosesTheWake() throws Exception {
    FutexWord word = words.word(0);
    ExecutorService canceller = Executors.newSingleThreadExecutor();
    try {
      for (int round = 0; round < 3000; round++) {
        CompletableFuture<WaitOutcome> abandoned = ring.wait(word, 0);
        CompletableFuture<WaitOutcome> live = ring.wait(word, 0);
        CyclicBarrier start = new CyclicBarrier(2);
        var cancelled =
            canceller.submit(
                () -> {
                  start.await();
                  return abandoned.cancel(false);
                });
        start.await();
        int woken = await(ring.wake(word, 1));
        // The live waiter is queued behind the abandoned one whatever the cancel did, so the
        // wake always finds exactly one waiter.
        assertEquals(1, woken, "round " + round);
        if (!cancelled.get(10, TimeUnit.SECONDS)) {
          // The wake was delivered to the first waiter before the cancel: it was not abandoned.
          assertTrue(await(abandoned).isWoken());
          assertEquals(1, await(ring.wake(word, 1)));
        }
        // Otherwise the one wake reached the live waiter directly, or through the abandoned
        // waiter's hand-on; a lost wake leaves it pending and fails here.
        assertTrue(await(live).isWoken(), "round " + round + ": the wake was lost");
        awaitInFlight(0);
      }
    } finally {
      canceller.shutdownNow();
    }
  }

  // ---- batching ----

  @Test
  @IoUringOnly("io_uring batching")
  void requestsGatheredWhileTheLoopIsBusyGoToTheKernelInOneEnter() throws Exception {
    Words targets = new Words(200);
    CountDownLatch release = blockCompletionThread();
    long entersBefore = ring.stats().enterCalls();
    List<CompletableFuture<Integer>> wakes = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      wakes.add(ring.wake(targets.word(i), 1));
    }
    release.countDown();
    for (CompletableFuture<Integer> wake : wakes) {
      assertEquals(0, await(wake));
    }
    assertTrue(ring.stats().largestSubmission() >= 200, "largest submission " + ring.stats());
    assertTrue(ring.stats().enterCalls() - entersBefore <= 3, ring.stats().toString());
  }

  @Test
  @IoUringOnly("io_uring batching")
  void wakesRequestedOnTheCompletionThreadJoinTheSameBatch() throws Exception {
    Words targets = new Words(64);
    CompletableFuture<List<CompletableFuture<Integer>>> requested =
        onCompletionThread(
            () -> {
              assertTrue(ring.inCompletionThread());
              List<CompletableFuture<Integer>> wakes = new ArrayList<>();
              for (int i = 0; i < 64; i++) {
                wakes.add(ring.wake(targets.word(i), 1));
              }
              return wakes;
            });
    for (CompletableFuture<Integer> wake : await(requested)) {
      assertEquals(0, await(wake));
    }
    assertTrue(ring.stats().largestSubmission() >= 64, ring.stats().toString());
  }

  // ---- wake signals ----

  @Test
  void aWakeSignalWakesAWaiter() throws Exception {
    FutexWord word = words.word(0);
    CompletableFuture<WaitOutcome> waiter = ring.wait(word, 0);
    drainRing();
    ring.wakeSignal(word, 1, ANY).signal();
    assertTrue(await(waiter).isWoken());
  }

  @Test
  void aWakeSignalFromAnotherThreadWhileTheLoopSleepsWakesDirectlyAndLeavesTheLoopAsleep()
      throws Throwable {
    FutexWord word = words.word(0);
    assertWokenWithoutWakingTheLoop(word, () -> ring.wakeSignal(word, 1, ANY).signal());
  }

  @Test
  void aWakeEachOfOneWordFromAnotherThreadWhileTheLoopSleepsWakesDirectly() throws Throwable {
    FutexWord word = words.word(0);
    assertWokenWithoutWakingTheLoop(word, () -> assertNull(await(ring.wakeEach(List.of(word)))));
  }

  /** A waiter on another ring is woken by {@code wake}, made while this ring's loop sleeps. */
  private void assertWokenWithoutWakingTheLoop(FutexWord word, Executable wake) throws Throwable {
    try (FutexRing other = openAnother(FutexRing.options())) {
      CompletableFuture<WaitOutcome> waiter = other.wait(word, 0);
      await(other.wake(words.word(15), 0)); // the wait is in the kernel
      drainRing();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!ring.completionThreadAsleep()) {
        assertTrue(System.nanoTime() < deadline, "the completion thread never went to sleep");
        Thread.onSpinWait();
      }
      FutexRing.Stats before = ring.stats();
      wake.execute();
      assertTrue(await(waiter).isWoken());
      FutexRing.Stats after = ring.stats();
      assertEquals(before.doorbellWakeups(), after.doorbellWakeups(), "the doorbell was rung");
      assertEquals(before.sqesSubmitted(), after.sqesSubmitted(), "the wake went through the ring");
    }
  }

  @Test
  @IoUringOnly("coalescing in the ring's request stack; on syscalls every signal is a system call")
  void wakeSignalsQueuedTogetherCoalesceIntoOneWake() throws Exception {
    FutexWord word = words.word(0);
    List<CompletableFuture<WaitOutcome>> waiters = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      waiters.add(ring.wait(word, 0));
    }
    drainRing();
    WakeSignal signal = ring.wakeSignal(word, 1, ANY);
    CountDownLatch release = blockCompletionThread();
    for (int i = 0; i < 5; i++) {
      signal.signal();
    }
    release.countDown();
    assertTrue(await(waiters.get(0)).isWoken());
    drainRing();
    // five signals, one FUTEX_WAKE of one waiter: the other two still sleep
    assertFalse(waiters.get(1).isDone());
    assertFalse(waiters.get(2).isDone());
    signal.signal(); // after the drain it queues again
    assertTrue(await(waiters.get(1)).isWoken());
    waiters.get(2).cancel(false);
  }

  @Test
  @IoUringOnly("the ring's stamped SQE image; SyscallBackendTest covers bitsets on syscalls")
  void fireAndForgetWakesOfDifferentCountsBitsetsAndScopesInOneBatchEachKeepTheirOwn()
      throws Exception {
    // The SQEs of these wakes are stamped from one image, rebuilt whenever a wake differs from the
    // one before: a stale image would wake the wrong waiters here.
    FutexWord word = words.word(0);
    FutexWord shared = FutexWord.of(words.memory(), 4, FutexScope.SHARED);
    List<CompletableFuture<WaitOutcome>> low = new ArrayList<>();
    List<CompletableFuture<WaitOutcome>> high = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      low.add(ring.wait(word, 0, 0b01));
      high.add(ring.wait(word, 0, 0b10));
    }
    CompletableFuture<WaitOutcome> onShared = ring.wait(shared, 0);
    CompletableFuture<WaitOutcome> stillShared = ring.wait(shared, 0);
    drainRing();
    WakeSignal twoLow = ring.wakeSignal(word, 2, 0b01);
    WakeSignal oneHigh = ring.wakeSignal(word, 1, 0b10);
    CountDownLatch release = blockCompletionThread();
    twoLow.signal();
    oneHigh.signal();
    CompletableFuture<Void> each = ring.wakeEach(List.of(shared)); // count 1, any bitset, SHARED
    release.countDown();
    await(each);
    assertTrue(await(low.get(0)).isWoken());
    assertTrue(await(low.get(1)).isWoken());
    assertTrue(await(high.get(0)).isWoken());
    assertTrue(await(onShared).isWoken());
    drainRing();
    assertFalse(low.get(2).isDone(), "count 2 woke a third waiter");
    assertFalse(high.get(1).isDone(), "count 1 woke a second waiter");
    assertFalse(stillShared.isDone());
    for (CompletableFuture<WaitOutcome> left :
        List.of(low.get(2), high.get(1), high.get(2), stillShared)) {
      left.cancel(false);
    }
  }

  @Test
  void aWakeSignalOnAClosedRingWakesWithADirectSystemCall() throws Exception {
    FutexWord word = words.word(0);
    WakeSignal signal = ring.wakeSignal(word, 1, ANY);
    try (FutexRing other = openAnother(FutexRing.options())) {
      CompletableFuture<WaitOutcome> waiter = other.wait(word, 0);
      await(other.wake(words.word(15), 0)); // the wait is in the kernel
      ring.close();
      signal.signal();
      assertTrue(await(waiter).isWoken());
    }
  }

  @Test
  @IoUringOnly("the ring's request stack; on syscalls every signal is a system call")
  void aWakeSignalStillQueuedWhenTheRingShutsDownIsMadeByDirectSystemCall() throws Exception {
    FutexWord word = words.word(0);
    WakeSignal signal = ring.wakeSignal(word, 1, ANY);
    try (FutexRing other = openAnother(FutexRing.options())) {
      CompletableFuture<WaitOutcome> waiter = other.wait(word, 0);
      await(other.wake(words.word(15), 0)); // the wait is in the kernel
      CountDownLatch closeRequested = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      // The completion thread asks for the close and stays busy: its loop ends after this
      // iteration without draining the stack again, so a signal queued now is still there when
      // the loop shuts down.
      CompletableFuture<Object> closing =
          onCompletionThread(
              () -> {
                ring.close();
                closeRequested.countDown();
                awaitRelease(release);
                return null;
              });
      assertTrue(closeRequested.await(10, TimeUnit.SECONDS));
      assertFalse(ring.completionThreadAsleep());
      signal.signal(); // the loop is awake and not yet closing: the signal is queued, not made
      release.countDown();
      await(closing);
      assertTrue(await(waiter).isWoken());
    }
  }

  @Test
  @IoUringOnly("io_uring batching; SyscallBackendTest covers wakeEach on syscalls")
  void wakeEachWakesOneWaiterOnEveryWordInOneEnter() throws Exception {
    Words targets = new Words(200);
    List<CompletableFuture<WaitOutcome>> waiters = new ArrayList<>();
    List<FutexWord> batch = new ArrayList<>();
    // The waiters sleep through another ring, so this ring's counters see only the batch.
    try (FutexRing waiting = openAnother(FutexRing.options())) {
      for (int i = 0; i < 200; i++) {
        waiters.add(waiting.wait(targets.word(i), 0));
        waiters.add(waiting.wait(targets.word(i), 0)); // a second waiter per word stays asleep
        batch.add(targets.word(i));
      }
      await(waiting.wake(words.word(15), 0)); // every wait is in the kernel
      CountDownLatch release = blockCompletionThread();
      long sqesBefore = ring.stats().sqesSubmitted();
      CompletableFuture<Void> done = ring.wakeEach(batch);
      release.countDown();
      await(done);
      for (int i = 0; i < 400; i += 2) {
        assertTrue(await(waiters.get(i)).isWoken(), "the oldest waiter on word " + i / 2);
      }
      await(waiting.wake(words.word(15), 0));
      for (int i = 1; i < 400; i += 2) {
        assertFalse(waiters.get(i).isDone(), "one wake per word, not two");
      }
      assertTrue(ring.stats().largestSubmission() >= 200, "one io_uring_enter: " + ring.stats());
      assertTrue(ring.stats().sqesSubmitted() - sqesBefore >= 200, ring.stats().toString());
    }
  }

  @Test
  void wakeEachLargerThanTheSubmissionQueueStillWakesEveryWord() throws Exception {
    try (FutexRing small = openAnother(FutexRing.options().submissionQueueEntries(16))) {
      Words targets = new Words(100);
      List<CompletableFuture<WaitOutcome>> waiters = new ArrayList<>();
      List<FutexWord> batch = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        waiters.add(small.wait(targets.word(i), 0));
        batch.add(targets.word(i));
      }
      await(small.wake(targets.word(0), 0));
      await(small.wakeEach(batch));
      for (CompletableFuture<WaitOutcome> waiter : waiters) {
        assertTrue(await(waiter).isWoken());
      }
    }
  }

  @Test
  void wakeEachOnAClosedRingWakesWithDirectSystemCalls() throws Exception {
    FutexWord word = words.word(0);
    try (FutexRing other = openAnother(FutexRing.options())) {
      CompletableFuture<WaitOutcome> waiter = other.wait(word, 0);
      await(other.wake(words.word(15), 0)); // the wait is in the kernel
      ring.close();
      assertInstanceOf(RingClosedException.class, failureOf(ring.wakeEach(List.of(word))));
      assertTrue(await(waiter).isWoken());
    }
    assertThrows(IllegalArgumentException.class, () -> ring.wakeEach(List.of()));
  }

  @Test
  void badWakeSignalArgumentsAreRejected() {
    FutexWord word = words.word(0);
    assertThrows(IllegalArgumentException.class, () -> ring.wakeSignal(word, 0, ANY));
    assertThrows(IllegalArgumentException.class, () -> ring.wakeSignal(word, 1, 0));
  }

  // ---- scale ----

  @Test
  @IoUringOnly(
      "the syscalls backend holds at most 2016 waits (SyscallBackendTest checks its refusal)")
  void tenThousandPendingWaitsOnOneRingAreAllWoken() throws Exception {
    assertAllWoken(ring, 10_000);
  }

  @Test
  @IoUringOnly("io_uring queue sizes")
  void smallQueuesOverflowWithoutLosingCompletions() throws Exception {
    try (FutexRing small =
        openAnother(FutexRing.options().submissionQueueEntries(16).completionQueueEntries(32))) {
      assertAllWoken(small, 10_000);
    }
  }

  @Test
  @IoUringOnly("io_uring queue sizes")
  void wakeSignalsOnTheCompletionThreadThatOverflowTheSubmissionQueueAreAllMade() throws Exception {
    assertSignalsOverflowingASmallRingAreAllMade(false);
  }

  @Test
  @IoUringOnly("io_uring queue sizes")
  void wakeSignalsQueuedFromAnotherThreadThatOverflowTheSubmissionQueueAreAllMade()
      throws Exception {
    assertSignalsOverflowingASmallRingAreAllMade(true);
  }

  /**
   * 40 signals of distinct words through a ring whose SQ holds 16, all made in one iteration of its
   * loop: on its completion thread, or queued from this thread while that thread is busy.
   */
  private void assertSignalsOverflowingASmallRingAreAllMade(boolean fromAnotherThread)
      throws Exception {
    int count = 40;
    Words targets = new Words(count + 1);
    FutexWord trigger = targets.word(count);
    List<CompletableFuture<WaitOutcome>> waiters = new ArrayList<>();
    try (FutexRing small = openAnother(FutexRing.options().submissionQueueEntries(16))) {
      List<WakeSignal> signals = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        waiters.add(ring.wait(targets.word(i), 0));
        signals.add(small.wakeSignal(targets.word(i), 1, ANY));
      }
      drainRing(); // every wait is in the kernel
      CountDownLatch busy = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      CompletableFuture<Void> continuation =
          small
              .wait(trigger, 0)
              .thenRun(
                  () -> {
                    if (!fromAnotherThread) {
                      signals.forEach(WakeSignal::signal);
                    }
                    busy.countDown();
                    awaitRelease(release);
                  });
      await(small.wake(targets.word(count - 1), 0)); // the trigger's wait is in the kernel
      assertEquals(1, await(small.wake(trigger, 1)));
      assertTrue(busy.await(10, TimeUnit.SECONDS));
      if (fromAnotherThread) {
        assertFalse(small.completionThreadAsleep());
        signals.forEach(WakeSignal::signal); // the loop is busy: each is queued, not made
      }
      release.countDown();
      await(continuation);
      for (CompletableFuture<WaitOutcome> waiter : waiters) {
        assertTrue(await(waiter).isWoken());
      }
    }
  }

  private void assertAllWoken(FutexRing target, int count) throws Exception {
    FutexWord word = words.word(0);
    List<CompletableFuture<WaitOutcome>> waits = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      waits.add(target.wait(word, 0));
    }
    await(target.wake(words.word(1), 0)); // every wait is in the kernel once this completes
    assertEquals(count, target.stats().inFlight());
    assertEquals(count, await(target.wake(word, FutexRing.WAKE_ALL)));
    for (CompletableFuture<WaitOutcome> wait : waits) {
      assertTrue(await(wait).isWoken());
    }
    assertEquals(0, target.stats().inFlight());
  }

  // ---- threading ----

  @Test
  void futuresCompleteOnTheCompletionThreadByDefault() throws Exception {
    assertTrue(await(onCompletionThread(() -> ring.inCompletionThread())));
    assertTrue(
        await(onCompletionThread(() -> Thread.currentThread().getName()))
            .startsWith("ringlock-ring-"));
  }

  @Test
  void futuresCompleteOnTheCompletionExecutorWhenOneIsSet() throws Exception {
    ExecutorService executor =
        Executors.newSingleThreadExecutor(r -> new Thread(r, "completion-executor"));
    try (FutexRing onExecutor = openAnother(FutexRing.options().completionExecutor(executor))) {
      FutexWord word = words.word(0);
      AtomicReference<String> thread = new AtomicReference<>();
      CompletableFuture<WaitOutcome> wait = onExecutor.wait(word, 0);
      CompletableFuture<Void> seen =
          wait.thenRun(() -> thread.set(Thread.currentThread().getName()));
      assertEquals(1, await(onExecutor.wake(word, 1)));
      await(seen);
      assertEquals("completion-executor", thread.get());
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void aStrayRunOnAPendingFutureDoesNotCompleteIt() throws Exception {
    CompletableFuture<WaitOutcome> wait = ring.wait(words.word(0), 0);
    ((Runnable) wait).run();
    assertFalse(wait.isDone());
    assertEquals(1, await(ring.wake(words.word(0), 1)));
    assertTrue(await(wait).isWoken());
  }

  @Test
  @IoUringOnly("io_uring doorbell")
  void theEventfdDoorbellWakesTheLoopToo() throws Exception {
    try (FutexRing eventfd =
        openAnother(FutexRing.options().doorbell(FutexRing.DoorbellKind.EVENTFD))) {
      for (int i = 0; i < 20; i++) {
        Thread.sleep(5); // time for the idle loop to park, so the request must ring the eventfd
        assertEquals(0, await(eventfd.wake(words.word(0), 1)));
      }
      assertTrue(eventfd.stats().doorbellWakeups() > 0, eventfd.stats().toString());
    }
  }

  @Test
  @IoUringOnly("io_uring setup flags")
  void ringsWithoutDeferredTaskRunWork() throws Exception {
    var flags =
        java.util.EnumSet.of(FutexRing.SetupFlag.SUBMIT_ALL, FutexRing.SetupFlag.COOP_TASKRUN);
    try (FutexRing coop = openAnother(FutexRing.options().setupFlags(flags))) {
      assertAllWoken(coop, 1000);
    }
  }

  // ---- process exit ----

  @Test
  void onProcessExitCompletesWhenTheProcessDies() throws Exception {
    try (Child sleeper = Child.program("sleep", "60").start()) {
      CompletableFuture<Void> exit = ring.onProcessExit(sleeper.intPid());
      Thread.sleep(50);
      assertFalse(exit.isDone());
      sleeper.kill();
      await(exit);
    }
  }

  @Test
  void onProcessExitOfAProcessThatIsGoneCompletesAtOnce() throws Exception {
    int deadPid = Child.deadPid();
    assertTrue(ring.onProcessExit(deadPid).isDone());
  }

  // ---- close ----

  @Test
  void closeCancelsKernelWaitsAndFailsTheirFutures() throws Exception {
    FutexWord word = words.word(0);
    List<CompletableFuture<WaitOutcome>> waits = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      waits.add(ring.wait(word, 0));
    }
    Child sleeper = Child.program("sleep", "60").start();
    CompletableFuture<Void> exit = ring.onProcessExit(sleeper.intPid());
    drainRing();
    ring.close();
    sleeper.kill();
    // Straight after close, nobody may be left queued on the futex to swallow a wake.
    assertEquals(0, Futex.wake(word, FutexRing.WAKE_ALL, ANY));
    for (CompletableFuture<WaitOutcome> wait : waits) {
      assertInstanceOf(RingClosedException.class, failureOf(wait));
    }
    assertInstanceOf(RingClosedException.class, failureOf(exit));
    assertTrue(ring.isClosed());
    assertInstanceOf(RingClosedException.class, failureOf(ring.wait(word, 0)));
    assertInstanceOf(RingClosedException.class, failureOf(ring.wake(word, 1)));
    ring.close(); // idempotent
  }

  @Test
  @IoUringOnly(
      "blocks the one completion thread; a busy syscalls thread closes the same way (closeFromTheCompletionThreadFinishesAfterTheIteration)")
  void aCloseRequestedWhileTheLoopIsBusyStillCloses() throws Exception {
    // Regression: the loop drained the close request, found nothing to reap, and went to sleep
    // with nobody left to ring the doorbell.
    CountDownLatch release = blockCompletionThread();
    CompletableFuture<Void> closing = CompletableFuture.runAsync(ring::close);
    Thread.sleep(50); // let the close request reach the stack while the loop is busy
    release.countDown();
    closing.get(10, TimeUnit.SECONDS);
    assertTrue(ring.isClosed());
  }

  @Test
  void closeFromTheCompletionThreadFinishesAfterTheIteration() throws Exception {
    CompletableFuture<WaitOutcome> pending = ring.wait(words.word(0), 0);
    await(
        onCompletionThread(
            () -> {
              ring.close();
              return null;
            }));
    assertInstanceOf(RingClosedException.class, failureOf(pending));
    assertTrue(ring.isClosed());
  }

  @Test
  void theDefaultRingIsSharedAndCannotBeClosed() throws Exception {
    FutexRing shared = FutexRing.defaultRing();
    assertSame(shared, FutexRing.defaultRing());
    assertThrows(IllegalStateException.class, shared::close);
    assertEquals(0, await(shared.wake(words.word(0), 1)));
  }

  @Test
  void aWaitOnSharedMemoryIsWokenThroughAnotherRing() throws Exception {
    try (Arena arena = Arena.ofShared();
        FutexRing other = openAnother(FutexRing.options())) {
      FutexWord word = FutexWord.of(arena.allocate(4, 4), 0, FutexScope.SHARED);
      CompletableFuture<WaitOutcome> wait = ring.wait(word, 0);
      drainRing();
      assertEquals(1, await(other.wake(word, 1)));
      assertTrue(await(wait).isWoken());
    }
  }

  /**
   * A lone wake from another thread skips the ring when the completion thread sleeps, but only once
   * every wait the loop took is in the kernel: between the loop's CAS to SLEEPING and the
   * io_uring_enter that submits, a direct wake passed by a wait whose wait() had returned before it
   * (a pure wake, which changes no word, then left it asleep). LoneWakeChild holds the loop in that
   * window (TestPausePoints, which needs a JVM of its own).
   */
  @Test
  @IoUringOnly("the io_uring completion loop's window between SLEEPING and its submission")
  void aLoneWakeFromAnotherThreadReachesAWaitTheLoopHasNotSubmittedYet() throws Exception {
    try (Child child = Child.jvm(LoneWakeChild.class).captureStdout().start()) {
      assertEquals(0, child.awaitExit(Duration.ofSeconds(60)), child.output());
      assertEquals(List.of("OK signal", "OK wakeEach", "DONE"), child.seen());
    }
  }
}
