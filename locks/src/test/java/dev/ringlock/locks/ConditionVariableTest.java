package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.FutexRing;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class ConditionVariableTest {
  @TempDir Path directory;

  private FutexRing ring;
  private SharedRegion region;
  private Mutex mutex;
  private ConditionVariable condition;

  @BeforeEach
  void open() throws Exception {
    ring = FutexRing.open();
    region =
        SharedRegion.open(directory.resolve("region"), RegionOptions.builder().ring(ring).build());
    mutex = region.mutex("m");
    condition = region.condition("c");
  }

  @AfterEach
  void close() {
    region.close();
    ring.close();
  }

  private static <T> T await(CompletableFuture<T> future) throws Exception {
    return future.get(20, TimeUnit.SECONDS);
  }

  private static Throwable failureOf(CompletableFuture<?> future) throws Exception {
    return assertThrows(ExecutionException.class, () -> future.get(20, TimeUnit.SECONDS))
        .getCause();
  }

  /** Polls until {@code condition} has {@code count} waiters (their slots are linked). */
  private static void waitForWaiters(ConditionVariable condition, int count) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (condition.waiting() != count) {
      assertTrue(System.nanoTime() < deadline, condition + " never had " + count + " waiters");
      Thread.sleep(1);
    }
  }

  @Test
  void awaitReleasesTheMutexAndCompletesHoldingItAgain() throws Exception {
    MutexGuard guard = await(mutex.lock());
    CompletableFuture<MutexGuard> waiting = condition.await(guard);
    assertFalse(mutex.isLocked(), "await releases the mutex");
    assertEquals(1, condition.waiting());
    assertFalse(waiting.isDone());

    condition.signal();
    MutexGuard again = await(waiting);
    assertSame(mutex, again.mutex());
    assertTrue(mutex.isLocked());
    assertTrue(again.fence() > guard.fence());
    assertEquals(0, condition.waiting());
    again.unlock();
  }

  @Test
  void aSignalWaitsForTheMutexBeforeCompleting() throws Exception {
    CompletableFuture<MutexGuard> waiting = condition.await(await(mutex.lock()));
    MutexGuard signaller = await(mutex.lock());
    condition.signal();
    Thread.sleep(50);
    assertFalse(waiting.isDone(), "signalled, but the mutex is still held");
    signaller.unlock();
    await(waiting).unlock();
  }

  @Test
  void signalWakesWaitersInArrivalOrder() throws Exception {
    List<CompletableFuture<MutexGuard>> waiters = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      waiters.add(condition.await(await(mutex.lock())));
    }
    for (int i = 0; i < waiters.size(); i++) {
      condition.signal();
      MutexGuard guard = await(waiters.get(i));
      for (int later = i + 1; later < waiters.size(); later++) {
        assertFalse(waiters.get(later).isDone(), "waiter " + later + " woke before " + i);
      }
      guard.unlock();
    }
  }

  @Test
  void signalAllWakesEveryWaiterWithOneKernelWake() throws Exception {
    int count = 64;
    List<CompletableFuture<MutexGuard>> waiters = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      waiters.add(condition.await(await(mutex.lock())));
    }
    waitForWaiters(condition, count);
    Thread.sleep(20); // let every kernel wait arrive, so the batch below is only the wakes
    FutexRing.Stats before = ring.stats();
    condition.signalAll();
    AtomicInteger woken = new AtomicInteger();
    // Each unlocks as it gets the mutex: they re-acquire in whatever order their waits complete
    // (on the syscalls backend, waits on different words complete on different threads), so
    // awaiting them in list order would wait on one queued behind another that holds the mutex.
    List<CompletableFuture<Void>> unlocked = new ArrayList<>();
    for (CompletableFuture<MutexGuard> waiter : waiters) {
      unlocked.add(
          waiter.thenAccept(
              held -> {
                woken.incrementAndGet();
                held.unlock();
              }));
    }
    await(CompletableFuture.allOf(unlocked.toArray(CompletableFuture[]::new)));
    assertEquals(count, woken.get());
    FutexRing.Stats after = ring.stats();
    // One kernel wait for the process, so one wake and one completion, not one per waiter.
    assertTrue(
        after.completions() - before.completions() < count / 4,
        "one completion per waiter: " + before + " -> " + after);
    assertEquals(0, condition.waiting());
  }

  @Test
  void aSignalWithNobodyWaitingIsLost() throws Exception {
    condition.signal();
    MutexGuard guard = await(mutex.lock());
    CompletableFuture<MutexGuard> waiting = condition.await(guard, Duration.ofMillis(50));
    MutexGuard again = await(waiting); // completes by timeout, not by the earlier signal
    again.unlock();
  }

  @Test
  void aTimedAwaitReacquiresAndCompletesNormally() throws Exception {
    MutexGuard guard = await(mutex.lock());
    long start = System.nanoTime();
    MutexGuard again = await(condition.await(guard, Duration.ofMillis(50)));
    assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(50));
    assertTrue(mutex.isLocked());
    assertEquals(0, condition.waiting(), "the timed-out waiter's slot is free");
    again.unlock();
  }

  @Test
  void cancellingAnAwaitRemovesTheWaiterAndHoldsNothing() throws Exception {
    CompletableFuture<MutexGuard> waiting = condition.await(await(mutex.lock()));
    assertTrue(waiting.cancel(false));
    waitForWaiters(condition, 0);
    assertFalse(mutex.isLocked());
    condition.signal(); // nobody is woken: the mutex stays free
    Thread.sleep(20);
    assertFalse(mutex.isLocked());
  }

  @Test
  void aWaiterCancelledAfterItsSignalPassesTheSignalOn() throws Exception {
    CompletableFuture<MutexGuard> first = condition.await(await(mutex.lock()));
    CompletableFuture<MutexGuard> second = condition.await(await(mutex.lock()));
    MutexGuard holder = await(mutex.lock()); // the first will be stuck re-acquiring
    condition.signal();
    waitForWaiters(condition, 1);
    assertTrue(first.cancel(false));
    holder.unlock();
    MutexGuard guard = await(second); // got the signal the first gave up
    guard.unlock();
    assertFalse(mutex.isLocked());
  }

  @Test
  void cancelStormsLeakNoSlotAndLoseNoSignal() throws Exception {
    for (int round = 0; round < 50; round++) {
      List<CompletableFuture<MutexGuard>> waiters = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        waiters.add(condition.await(await(mutex.lock())));
      }
      for (int i = 0; i < 20; i += 2) {
        waiters.get(i).cancel(false);
      }
      for (int i = 0; i < 10; i++) {
        condition.signal();
      }
      // ten signals, ten live waiters: each gets one; they re-acquire in whatever order the
      // kernel completes their waits, so each unlocks as it gets the mutex
      List<CompletableFuture<Void>> unlocked = new ArrayList<>();
      for (int i = 1; i < 20; i += 2) {
        unlocked.add(waiters.get(i).thenAccept(MutexGuard::unlock));
      }
      try {
        CompletableFuture.allOf(unlocked.toArray(CompletableFuture[]::new))
            .get(20, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new AssertionError("round " + round + ": " + condition + ", " + mutex, e);
      }
      waitForWaiters(condition, 0);
      assertFalse(mutex.isLocked());
    }
  }

  @Test
  void refusesAnUnlockedGuardAndQueuesNothing() throws Exception {
    MutexGuard guard = await(mutex.lock());
    guard.unlock();
    assertThrows(IllegalStateException.class, () -> condition.await(guard));
    assertEquals(0, condition.waiting());
    assertThrows(NullPointerException.class, () -> condition.await(null));
    MutexGuard held = await(mutex.lock());
    assertThrows(
        IllegalArgumentException.class, () -> condition.await(held, Duration.ofSeconds(-1)));
    assertTrue(mutex.isLocked(), "a refused await keeps the guard");
    held.unlock();
  }

  @Test
  void theSameNameIsTheSameConditionAndAnotherKindIsRefused() throws Exception {
    assertSame(condition, region.condition("c"));
    assertThrows(IllegalArgumentException.class, () -> region.condition("m"));
    assertThrows(IllegalArgumentException.class, () -> region.mutex("c"));
    assertThrows(IllegalArgumentException.class, () -> region.condition(""));
  }

  @Test
  void closingTheRegionFailsAwaiters() throws Exception {
    CompletableFuture<MutexGuard> waiting = condition.await(await(mutex.lock()));
    region.close();
    assertInstanceOf(RegionClosedException.class, failureOf(waiting));
    assertThrows(RegionClosedException.class, () -> region.condition("c"));
  }

  @Test
  void worksInAnInMemoryRegion() throws Exception {
    try (SharedRegion memory = SharedRegion.inMemory(RegionOptions.builder().ring(ring).build())) {
      Mutex m = memory.mutex("m");
      ConditionVariable c = memory.condition("c");
      CompletableFuture<MutexGuard> waiting = c.await(await(m.lock()));
      c.signal();
      await(waiting).unlock();
    }
  }

  /** The classic producer/consumer, with the predicate re-checked after every wake. */
  @Test
  void aBoundedBufferMovesEveryItemWithoutALostSignal() throws Exception {
    ConditionVariable notEmpty = region.condition("not-empty");
    ConditionVariable notFull = region.condition("not-full");
    int items = 2_000;
    int capacity = 4;
    java.util.ArrayDeque<Integer> buffer = new java.util.ArrayDeque<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread producer =
        Thread.ofPlatform()
            .start(
                () -> {
                  try {
                    for (int i = 0; i < items; i++) {
                      MutexGuard guard = mutex.lock().join();
                      while (buffer.size() == capacity) {
                        guard = notFull.await(guard).join();
                      }
                      buffer.add(i);
                      notEmpty.signal();
                      guard.unlock();
                    }
                  } catch (Throwable t) {
                    failure.set(t);
                  }
                });
    List<Integer> received = new ArrayList<>();
    for (int i = 0; i < items; i++) {
      MutexGuard guard = mutex.lock().get(20, TimeUnit.SECONDS);
      while (buffer.isEmpty()) {
        guard = notEmpty.await(guard).get(20, TimeUnit.SECONDS);
      }
      received.add(buffer.poll());
      notFull.signal();
      guard.unlock();
    }
    producer.join(20_000);
    assertEquals(null, failure.get());
    for (int i = 0; i < items; i++) {
      assertEquals(i, received.get(i));
    }
  }

  // ---- asLock().newCondition() ----

  @Test
  void newConditionIsAWorkingJavaUtilConcurrentCondition() throws Exception {
    Lock lock = mutex.asLock();
    Condition ready = lock.newCondition();
    boolean[] flag = {false};
    CountDownLatch waiting = new CountDownLatch(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread waiter =
        Thread.ofVirtual()
            .start(
                () -> {
                  lock.lock();
                  try {
                    waiting.countDown();
                    while (!flag[0]) {
                      ready.await();
                    }
                  } catch (Throwable t) {
                    failure.set(t);
                  } finally {
                    lock.unlock(); // throws if await did not give the lock back to this thread
                  }
                });
    assertTrue(waiting.await(10, TimeUnit.SECONDS));
    lock.lock();
    try {
      flag[0] = true;
      ready.signal();
    } finally {
      lock.unlock();
    }
    waiter.join(20_000);
    assertFalse(waiter.isAlive());
    assertEquals(null, failure.get());
    assertFalse(mutex.isLocked());
  }

  @Test
  void conditionMethodsNeedTheLockHeldByTheCallingThread() {
    Lock lock = mutex.asLock();
    Condition condition = lock.newCondition();
    assertThrows(IllegalMonitorStateException.class, condition::signal);
    assertThrows(IllegalMonitorStateException.class, condition::signalAll);
    assertThrows(IllegalMonitorStateException.class, condition::await);
    assertThrows(IllegalMonitorStateException.class, condition::awaitUninterruptibly);
    assertFalse(mutex.isLocked());
  }

  @Test
  void timedConditionAwaitsReturnHoldingTheLock() throws Exception {
    Lock lock = mutex.asLock();
    Condition condition = lock.newCondition();
    lock.lock();
    try {
      long left = condition.awaitNanos(TimeUnit.MILLISECONDS.toNanos(30));
      assertTrue(left <= 0, "timed out: " + left);
      assertFalse(condition.await(10, TimeUnit.MILLISECONDS));
      assertFalse(condition.awaitUntil(new java.util.Date(System.currentTimeMillis() + 10)));
      assertTrue(mutex.isLocked());
    } finally {
      lock.unlock();
    }
    assertFalse(mutex.isLocked());
  }

  @Test
  void anInterruptedConditionAwaitThrowsHoldingTheLock() throws Exception {
    Lock lock = mutex.asLock();
    Condition condition = lock.newCondition();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    CountDownLatch waiting = new CountDownLatch(1);
    Thread waiter =
        Thread.ofPlatform()
            .start(
                () -> {
                  lock.lock();
                  try {
                    waiting.countDown();
                    condition.await();
                  } catch (Throwable t) {
                    thrown.set(t);
                  } finally {
                    lock.unlock();
                  }
                });
    assertTrue(waiting.await(10, TimeUnit.SECONDS));
    Thread.sleep(20);
    waiter.interrupt();
    waiter.join(20_000);
    assertFalse(waiter.isAlive());
    assertInstanceOf(InterruptedException.class, thrown.get());
    assertFalse(mutex.isLocked());
  }

  @Test
  void eachNewConditionIsSeparate() throws Exception {
    Lock lock = mutex.asLock();
    Condition first = lock.newCondition();
    Condition second = lock.newCondition();
    lock.lock();
    try {
      second.signal(); // must not wake a waiter of `first`
      assertFalse(first.await(30, TimeUnit.MILLISECONDS));
    } finally {
      lock.unlock();
    }
  }
}
