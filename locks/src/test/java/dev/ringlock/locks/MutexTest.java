package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.FutexRing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class MutexTest extends RegionTestBase {
  private static final int PID = (int) ProcessHandle.current().pid();

  // ---- basics ----

  @Test
  void anUncontendedLockCompletesAtOnceWithoutTouchingTheRing() throws Exception {
    Mutex mutex = region.mutex("m");
    FutexRing.Stats before = ring.stats();
    for (int i = 0; i < 1000; i++) {
      CompletableFuture<MutexGuard> lock = mutex.lock();
      assertTrue(lock.isDone());
      lock.join().unlock();
    }
    FutexRing.Stats after = ring.stats();
    assertEquals(before.sqesSubmitted(), after.sqesSubmitted());
    assertEquals(before.enterCalls(), after.enterCalls());
  }

  @Test
  void theAlreadyCompletedLockFutureRefusesAReplacedResult() {
    CompletableFuture<MutexGuard> lock = region.mutex("m").lock();
    MutexGuard guard = lock.join();
    UnsupportedOperationException value =
        assertThrows(UnsupportedOperationException.class, () -> lock.obtrudeValue(null));
    assertEquals("a lock future's result cannot be replaced", value.getMessage());
    UnsupportedOperationException failure =
        assertThrows(
            UnsupportedOperationException.class,
            () -> lock.obtrudeException(new RuntimeException()));
    assertEquals("a lock future's result cannot be replaced", failure.getMessage());
    assertSame(guard, lock.join()); // still the guard, still held
    assertTrue(region.mutex("m").isLocked());
    guard.unlock();
  }

  /**
   * The uncontended lock future answers join(), get(), getNow(), resultNow() and isDone() from a
   * field of its own (AcquiredFuture's overview); everything CompletableFuture does with it by
   * itself (dependent stages, allOf, anyOf, state) must see the same completed guard.
   */
  @Test
  void theAlreadyCompletedLockFutureIsTheSameCompletedFutureToEveryMethod() throws Exception {
    CompletableFuture<MutexGuard> lock = region.mutex("m").lock();
    MutexGuard guard = lock.join();
    assertSame(guard, lock.get());
    assertSame(guard, lock.get(0, TimeUnit.NANOSECONDS));
    assertSame(guard, lock.getNow(null));
    assertSame(guard, lock.resultNow());
    assertTrue(lock.isDone());
    assertEquals(Future.State.SUCCESS, lock.state());
    assertFalse(lock.isCompletedExceptionally());
    assertFalse(lock.cancel(true)); // completed: cancel changes nothing
    assertSame(guard, lock.join());
    assertSame(guard, lock.thenApply(g -> g).getNow(null));
    assertSame(guard, lock.toCompletableFuture().join());
    assertSame(guard, lock.copy().getNow(null));
    assertTrue(CompletableFuture.allOf(lock).isDone());
    assertSame(guard, CompletableFuture.anyOf(lock).getNow(null));
    assertThrows(NullPointerException.class, () -> lock.get(1, null));
    guard.unlock();
    assertFalse(region.mutex("m").isLocked());
  }

  @Test
  void theSameNameIsTheSameMutex() throws Exception {
    assertSame(region.mutex("m"), region.mutex("m"));
    MutexGuard guard = await(region.mutex("m").lock());
    try (SharedRegion again = SharedRegion.open(region.file())) {
      Mutex seen = again.mutex("m");
      assertTrue(seen.isLocked());
      assertEquals(PID, seen.ownerPid());
      assertTrue(seen.tryLock().isEmpty());
    }
    guard.unlock();
  }

  @Test
  void tryLockSucceedsOnlyWhenFree() throws Exception {
    Mutex mutex = region.mutex("m");
    assertFalse(mutex.isLocked());
    assertEquals(0, mutex.ownerPid());
    Optional<MutexGuard> first = mutex.tryLock();
    assertTrue(first.isPresent());
    assertTrue(mutex.isLocked());
    assertEquals(PID, mutex.ownerPid());
    assertTrue(mutex.tryLock().isEmpty());
    first.get().unlock();
    assertFalse(mutex.isLocked());
    Optional<MutexGuard> second = mutex.tryLock();
    assertTrue(second.isPresent());
    second.get().close();
  }

  @Test
  void aSecondUnlockIsRefused() throws Exception {
    MutexGuard guard = await(region.mutex("m").lock());
    guard.unlock();
    IllegalStateException e = assertThrows(IllegalStateException.class, guard::unlock);
    assertTrue(e.getMessage().contains("already unlocked"), e.getMessage());
    guard.close(); // AutoCloseable: a close after unlock does nothing (ScopedHelpersTest)
    // and the refused unlock did not release someone else's hold
    MutexGuard other = await(region.mutex("m").lock());
    assertThrows(IllegalStateException.class, guard::unlock);
    guard.close();
    assertTrue(region.mutex("m").isLocked());
    other.unlock();
  }

  @Test
  void theMutexIsNotReentrant() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard guard = await(mutex.lock());
    CompletableFuture<MutexGuard> again = mutex.lock();
    assertFalse(again.isDone());
    assertTrue(mutex.tryLock().isEmpty());
    guard.unlock();
    await(again).unlock();
  }

  @Test
  void badNamesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> region.mutex(""));
    assertThrows(IllegalArgumentException.class, () -> region.mutex("x".repeat(97)));
    assertThrows(NullPointerException.class, () -> region.mutex(null));
    assertNotNull(region.mutex("é".repeat(48))); // 96 bytes of UTF-8
  }

  // ---- waiting and handing over ----

  @Test
  void aWaiterGetsTheLockWhenTheHolderReleases() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard first = await(mutex.lock());
    CompletableFuture<MutexGuard> second = mutex.lock();
    CompletableFuture<MutexGuard> third = mutex.lock();
    assertFalse(second.isDone());
    first.unlock();
    MutexGuard secondGuard = await(second);
    assertFalse(third.isDone());
    assertTrue(secondGuard.fence() > first.fence());
    secondGuard.unlock();
    await(third).unlock();
    assertFalse(mutex.isLocked());
  }

  @Test
  void withoutLocalHandoffTheLockTravelsThroughTheKernel() throws Exception {
    try (SharedRegion viaKernel =
        SharedRegion.open(
            directory.resolve("kernel"),
            RegionOptions.builder().ring(ring).localHandoff(false).build())) {
      Mutex mutex = viaKernel.mutex("m");
      MutexGuard first = await(mutex.lock());
      List<CompletableFuture<MutexGuard>> waiters = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        waiters.add(mutex.lock());
      }
      FutexRing.Stats before = ring.stats();
      first.unlock();
      for (CompletableFuture<MutexGuard> waiter : waiters) {
        await(waiter).unlock();
      }
      assertFalse(mutex.isLocked());
      // each handover was a FUTEX_WAKE and a new FUTEX_WAIT: SQEs on io_uring; on the syscalls
      // backend (no SQEs) futex_waitv calls, its enterCalls
      FutexRing.Stats after = ring.stats();
      long kernelWaits =
          ring.backend() == FutexRing.Backend.IO_URING
              ? after.sqesSubmitted() - before.sqesSubmitted()
              : after.enterCalls() - before.enterCalls();
      assertTrue(kernelWaits >= 10, before + " " + after);
    }
  }

  @Test
  void anInMemoryRegionWaitsOnPrivateFutexes() throws Exception {
    try (SharedRegion local =
        SharedRegion.inMemory(RegionOptions.builder().ring(ring).localHandoff(false).build())) {
      assertEquals(null, local.file());
      Mutex mutex = local.mutex("m");
      MutexGuard first = await(mutex.lock());
      CompletableFuture<MutexGuard> second = mutex.lock();
      assertFalse(second.isDone());
      first.unlock();
      await(second).unlock();
    }
  }

  @Test
  void continuationsThatUnlockDoNotNestOnTheStack() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard first = await(mutex.lock());
    int waiters = 20_000;
    AtomicInteger ran = new AtomicInteger();
    List<CompletableFuture<Void>> done = new ArrayList<>();
    for (int i = 0; i < waiters; i++) {
      done.add(
          mutex
              .lock()
              .thenAccept(
                  guard -> {
                    ran.incrementAndGet();
                    guard.unlock();
                  }));
    }
    first.unlock();
    for (CompletableFuture<Void> each : done) {
      await(each);
    }
    assertEquals(waiters, ran.get());
    assertFalse(mutex.isLocked());
  }

  // ---- timeouts ----

  @Test
  void aTimedLockFailsWithTimeoutExceptionAndLeavesNothingBehind() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard held = await(mutex.lock());
    long start = System.nanoTime();
    CompletableFuture<MutexGuard> timed = mutex.lock(Duration.ofMillis(100));
    assertInstanceOf(TimeoutException.class, failureOf(timed));
    assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(90));
    held.unlock();
    Optional<MutexGuard> after = mutex.tryLock();
    assertTrue(after.isPresent(), "the timed-out request left the mutex held");
    after.get().unlock();
  }

  @Test
  void aTimedLockThatGetsTheLockInTimeSucceeds() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard held = await(mutex.lock());
    CompletableFuture<MutexGuard> timed = mutex.lock(Duration.ofSeconds(10));
    CompletableFuture<MutexGuard> shortOne = mutex.lock(Duration.ofMillis(50));
    assertInstanceOf(TimeoutException.class, failureOf(shortOne));
    assertFalse(timed.isDone());
    held.unlock();
    await(timed).unlock();
  }

  @Test
  void aZeroTimeoutTakesAFreeMutexAndFailsOnAHeldOne() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard guard = await(mutex.lock(Duration.ZERO));
    assertInstanceOf(TimeoutException.class, failureOf(mutex.lock(Duration.ZERO)));
    guard.unlock();
    assertThrows(IllegalArgumentException.class, () -> mutex.lock(Duration.ofMillis(-1)));
  }

  @Test
  void aTimedOutWaiterAcrossRegionsIsWokenByTheKernelTimer() throws Exception {
    // another SharedRegion on the same file has its own queue: its waiter sleeps in the kernel
    Mutex mutex = region.mutex("m");
    MutexGuard held = await(mutex.lock());
    try (SharedRegion other =
        SharedRegion.open(region.file(), RegionOptions.builder().ring(ring).build())) {
      CompletableFuture<MutexGuard> timed = other.mutex("m").lock(Duration.ofMillis(50));
      assertInstanceOf(TimeoutException.class, failureOf(timed));
      CompletableFuture<MutexGuard> later = other.mutex("m").lock();
      held.unlock();
      await(later).unlock();
    }
  }

  /*
   * close() after a release on the completion thread: the release's wake is written into the
   * ring's batch, submitted when the continuation returns; the region's close must get it to the
   * kernel before it unmaps the words (FutexRing.flush), else the wake fails with EFAULT and the
   * waiter in the other view sleeps until its re-check.
   */
  @Test
  void aReleaseJustBeforeCloseStillWakesTheWaiterOfAnotherView() throws Exception {
    SharedRegion other = SharedRegion.open(region.file(), withRing());
    MutexGuard gate = await(other.mutex("gate").lock());
    MutexGuard held = await(other.mutex("m").lock());
    CompletableFuture<MutexGuard> waiter = region.mutex("m").lock(); // sleeps in the kernel
    CompletableFuture<Void> releasedAndClosed =
        region
            .mutex("gate")
            .lock()
            .thenAccept( // on the completion thread, once gate's release wakes it
                gateGuard -> {
                  gateGuard.unlock();
                  held.unlock(); // its wake joins the batch being built
                  other.close(); // and must be submitted before the unmap
                });
    gate.unlock();
    await(releasedAndClosed);
    long start = System.nanoTime();
    await(waiter).unlock();
    long waitedMillis = (System.nanoTime() - start) / 1_000_000;
    assertEquals(0, ring.stats().wakesFailed(), "a wake reached the kernel after the unmap");
    assertTrue(waitedMillis < 200, "woken by the re-check, not by the release: " + waitedMillis);
  }

  // ---- cancellation ----

  @Test
  void aCancelledRequestNeverHoldsTheMutex() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard held = await(mutex.lock());
    CompletableFuture<MutexGuard> cancelled = mutex.lock();
    CompletableFuture<MutexGuard> next = mutex.lock();
    assertTrue(cancelled.cancel(false));
    held.unlock();
    await(next).unlock();
    assertThrows(CancellationException.class, cancelled::join);
    assertTrue(
        mutex
            .tryLock()
            .map(
                g -> {
                  g.unlock();
                  return true;
                })
            .orElse(false));
  }

  /*
   * The grant on its way. A release inside a continuation (here: of the request the first release
   * granted) hands the lock on, but Grants delivers that grant only once the outer grant returns.
   * A cancel of the request in that instant returns true: from then on the request holds nothing,
   * so tryLock succeeds at once. (It used to wait for the granting thread to notice its grant had
   * lost and unlock: the jcstress CancelRacingGrant tests race the same with a third thread.)
   */
  @Test
  void aCancelThatReturnsTrueLeavesNothingHeldEvenWithTheGrantOnItsWay() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard first = await(mutex.lock());
    CompletableFuture<MutexGuard> second = mutex.lock();
    CompletableFuture<MutexGuard> third = mutex.lock();
    GrantOnItsWay.Outcome outcome =
        GrantOnItsWay.play(
            first::unlock,
            second,
            MutexGuard::unlock, // hands the lock to third
            third,
            () -> mutex.tryLock().map(MutexTest::unlocked).orElse(false));
    assertTrue(outcome.cancelled(), "the cancel came before the grant's delivery");
    assertTrue(outcome.takenAfterCancel(), "a cancelled request still held the mutex");
    assertThrows(CancellationException.class, third::join);
    assertFalse(mutex.isLocked());
  }

  @Test
  void tenThousandPendingLocksWithRandomCancelsLeakNothing() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard held = await(mutex.lock());
    int count = 10_000;
    List<CompletableFuture<MutexGuard>> requests = new ArrayList<>(count);
    AtomicInteger granted = new AtomicInteger();
    List<CompletableFuture<Void>> released = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      CompletableFuture<MutexGuard> request =
          i % 3 == 0 ? mutex.lock(Duration.ofSeconds(30)) : mutex.lock();
      requests.add(request);
      released.add(
          request.thenAccept(
              guard -> {
                granted.incrementAndGet();
                guard.unlock();
              }));
    }
    SplittableRandom random = new SplittableRandom(42);
    ExecutorService canceller = Executors.newSingleThreadExecutor();
    CountDownLatch go = new CountDownLatch(1);
    AtomicInteger cancelled = new AtomicInteger();
    List<Integer> victims = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      if (random.nextInt(2) == 0) {
        victims.add(i);
      }
    }
    CompletableFuture<Void> cancelling =
        CompletableFuture.runAsync(
            () -> {
              try {
                go.await();
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
              for (int i : victims) {
                if (requests.get(i).cancel(false)) { // races with the grants below
                  cancelled.incrementAndGet();
                }
              }
            },
            canceller);
    go.countDown();
    held.unlock();
    await(cancelling);
    canceller.shutdown();
    for (CompletableFuture<Void> each : released) {
      try {
        each.get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        assertInstanceOf(CancellationException.class, e.getCause());
      }
    }
    assertEquals(count, granted.get() + cancelled.get());
    Optional<MutexGuard> after = mutex.tryLock();
    assertTrue(after.isPresent(), "a cancelled request leaked the lock: " + mutex);
    after.get().unlock();
  }

  @Test
  void cancelRacingAHandoverNeverLeavesTheMutexHeld() throws Exception {
    Mutex mutex = region.mutex("m");
    ExecutorService other = Executors.newSingleThreadExecutor();
    try {
      for (int round = 0; round < 2000; round++) {
        MutexGuard held = await(mutex.lock());
        CompletableFuture<MutexGuard> request = mutex.lock();
        CountDownLatch ready = new CountDownLatch(1);
        CompletableFuture<Boolean> cancel =
            CompletableFuture.supplyAsync(
                () -> {
                  ready.countDown();
                  return request.cancel(false);
                },
                other);
        ready.await();
        held.unlock();
        if (!await(cancel)) {
          await(request).unlock(); // the grant won: the request holds it and must release
        }
        Optional<MutexGuard> after = mutex.tryLock();
        assertTrue(after.isPresent(), "round " + round + ": " + mutex);
        after.get().unlock();
      }
    } finally {
      other.shutdown();
    }
  }

  // ---- fences ----

  @Test
  void fencesIncreaseAcrossEveryWayOfAcquiring() throws Exception {
    Mutex mutex = region.mutex("m");
    long last = 0;
    for (int i = 0; i < 100; i++) {
      MutexGuard guard =
          switch (i % 3) {
            case 0 -> await(mutex.lock());
            case 1 -> mutex.tryLock().orElseThrow();
            default -> await(mutex.lock(Duration.ofSeconds(1)));
          };
      assertTrue(guard.fence() > last, guard.fence() + " after " + last);
      last = guard.fence();
      guard.unlock();
    }
    try (SharedRegion again = SharedRegion.open(region.file())) {
      MutexGuard guard = await(again.mutex("m").lock());
      assertTrue(guard.fence() > last);
      guard.unlock();
    }
  }

  // ---- the Lock view ----

  @Test
  void theLockViewExcludesVirtualThreads() throws Exception {
    Lock lock = region.mutex("m").asLock();
    int threads = 16;
    int rounds = 2000;
    long[] counter = new long[1];
    try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
      List<CompletableFuture<Void>> all = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        all.add(
            CompletableFuture.runAsync(
                () -> {
                  for (int i = 0; i < rounds; i++) {
                    lock.lock();
                    try {
                      counter[0]++;
                    } finally {
                      lock.unlock();
                    }
                  }
                },
                executor));
      }
      for (CompletableFuture<Void> each : all) {
        await(each);
      }
    }
    assertEquals((long) threads * rounds, counter[0]);
  }

  @Test
  void theLockViewRefusesAnUnlockByAnotherThread() throws Exception {
    Lock lock = region.mutex("m").asLock();
    assertThrows(IllegalMonitorStateException.class, lock::unlock);
    lock.lock();
    CompletableFuture<Throwable> fromOther =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                lock.unlock();
                return null;
              } catch (IllegalMonitorStateException e) {
                return e;
              }
            });
    assertInstanceOf(IllegalMonitorStateException.class, await(fromOther));
    assertFalse(lock.tryLock(10, TimeUnit.MILLISECONDS)); // not reentrant: it waits for itself
    lock.unlock();
    assertTrue(lock.tryLock(1, TimeUnit.SECONDS));
    lock.unlock();
  }

  @Test
  void anInterruptedLockInterruptiblyLeavesTheMutexFree() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard held = await(mutex.lock());
    CompletableFuture<Throwable> outcome = new CompletableFuture<>();
    Thread waiter =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    mutex.asLock().lockInterruptibly();
                    outcome.complete(null);
                  } catch (InterruptedException e) {
                    outcome.complete(e);
                  }
                });
    Thread.sleep(50);
    waiter.interrupt();
    assertInstanceOf(InterruptedException.class, await(outcome));
    held.unlock();
    Optional<MutexGuard> after = mutex.tryLock();
    assertTrue(after.isPresent());
    after.get().unlock();
  }

  // ---- closing ----

  @Test
  void closingTheRegionFailsPendingLocksAndReleasesHeldOnes() throws Exception {
    Path file = directory.resolve("closing");
    SharedRegion closing = SharedRegion.open(file, RegionOptions.builder().ring(ring).build());
    Mutex mutex = closing.mutex("m");
    MutexGuard held = await(mutex.lock());
    CompletableFuture<MutexGuard> pending = mutex.lock();
    try (SharedRegion observer = SharedRegion.open(file)) {
      assertTrue(observer.mutex("m").isLocked());
      closing.close();
      closing.close(); // idempotent
      assertInstanceOf(RegionClosedException.class, failureOf(pending));
      assertFalse(observer.mutex("m").isLocked());
      assertThrows(RegionClosedException.class, held::unlock);
      assertThrows(RegionClosedException.class, mutex::lock);
      assertThrows(RegionClosedException.class, () -> closing.mutex("m"));
    }
  }

  @Test
  void aFileThatIsNotARegionIsRefusedAndLeftAlone() throws Exception {
    Path file = directory.resolve("not-a-region");
    byte[] content = "just some text, not a ringlock region at all".repeat(10).getBytes();
    Files.write(file, content);
    dev.ringlock.core.InvalidRegionException e =
        assertThrows(dev.ringlock.core.InvalidRegionException.class, () -> SharedRegion.open(file));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertEquals(dev.ringlock.core.InvalidRegionException.Problem.NOT_A_REGION, e.problem());
    assertTrue(java.util.Arrays.equals(content, Files.readAllBytes(file)));
  }

  /** Unlocks {@code guard}: a tryLock that got in, given back. */
  private static boolean unlocked(MutexGuard guard) {
    guard.unlock();
    return true;
  }
}
