package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The scoped forms (Mutex.withLock, Semaphore.withPermits), held-permits tokens, and idempotent
 * close: what a user cannot leak or trip over.
 */
@Timeout(60)
class ScopedHelpersTest extends RegionTestBase {
  private static final SemaphoreOptions SIGNAL =
      SemaphoreOptions.builder().undoOnExit(false).build();

  // ---- the trap withLock closes ----

  @Test
  void cancellingAComposedLockFutureLeaksTheLockWhichWithLockDoesNot() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard holder = await(mutex.lock());

    // The trap: the cancel stops at the derived future; the inner request is granted to nobody.
    AtomicReference<CompletableFuture<MutexGuard>> inner = new AtomicReference<>();
    CompletableFuture<MutexGuard> composed =
        CompletableFuture.completedFuture(null)
            .thenCompose(
                v -> {
                  inner.set(mutex.lock());
                  return inner.get();
                });
    assertTrue(composed.cancel(true));
    holder.unlock();
    MutexGuard leaked = await(inner.get());
    assertTrue(mutex.isLocked(), "held by a guard only the test can still reach");
    leaked.unlock();

    // The safe form: cancelling a waiting withLock withdraws its request.
    MutexGuard again = await(mutex.lock());
    AtomicBoolean ran = new AtomicBoolean();
    CompletableFuture<String> scoped =
        mutex.withLock(
            () -> {
              ran.set(true);
              return CompletableFuture.completedFuture("ran");
            });
    assertFalse(scoped.isDone(), "waits for the holder");
    assertTrue(scoped.cancel(true));
    again.unlock();
    MutexGuard next = await(mutex.lock(Duration.ofSeconds(10)));
    assertFalse(ran.get(), "a withdrawn withLock never runs its action");
    next.unlock();
    assertFalse(mutex.isLocked());
  }

  @Test
  void withLockHoldsTheLockUntilTheStageCompletesAndReleasesBeforeTheResultCompletes()
      throws Exception {
    Mutex mutex = region.mutex("m");
    CompletableFuture<Integer> work = new CompletableFuture<>();
    CompletableFuture<Integer> result = mutex.withLock(() -> work);
    assertTrue(mutex.isLocked(), "held while the action's stage runs");
    CompletableFuture<Boolean> lockedWhenResultCompleted = result.thenApply(v -> mutex.isLocked());
    work.complete(42);
    assertEquals(42, await(result));
    assertFalse(await(lockedWhenResultCompleted), "released before the result completed");
  }

  @Test
  void withLockReleasesWhenTheActionFailsThrowsOrReturnsNull() throws Exception {
    Mutex mutex = region.mutex("m");
    IllegalStateException boom = new IllegalStateException("boom");

    CompletableFuture<Object> failed = mutex.withLock(() -> CompletableFuture.failedFuture(boom));
    assertSame(boom, failureOf(failed));
    assertFalse(mutex.isLocked(), "released after a failed stage");

    CompletableFuture<Object> thrown =
        mutex.withLock(
            () -> {
              throw boom;
            });
    assertSame(boom, failureOf(thrown));
    assertFalse(mutex.isLocked(), "released after the action threw");

    CompletableFuture<Object> nothing = mutex.withLock(() -> null);
    Throwable npe = failureOf(nothing);
    assertInstanceOf(NullPointerException.class, npe);
    assertTrue(npe.getMessage().contains("withLock on 'm'"), npe.getMessage());
    assertFalse(mutex.isLocked(), "released after the action returned null");
  }

  @Test
  void cancellingWithLockAfterTheActionStartedKeepsTheLockUntilTheStageCompletes()
      throws Exception {
    Mutex mutex = region.mutex("m");
    CompletableFuture<String> work = new CompletableFuture<>();
    CompletableFuture<String> result = mutex.withLock(() -> work);
    assertTrue(result.cancel(true));
    assertTrue(mutex.isLocked(), "a cancel does not take the lock from a running action");
    work.complete("done");
    assertFalse(mutex.isLocked(), "released once the action's stage completed");
  }

  @Test
  void aWaitingWithLockRunsOnceTheHolderUnlocks() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard holder = await(mutex.lock());
    CompletableFuture<Long> result =
        mutex.withLock(() -> CompletableFuture.completedFuture(Long.valueOf(mutex.ownerPid())));
    assertFalse(result.isDone());
    holder.unlock();
    assertEquals(ProcessHandle.current().pid(), await(result));
    assertFalse(mutex.isLocked());
  }

  @Test
  void withLockTimesOutWithoutRunningTheActionAndSaysHowLongItWaited() throws Exception {
    Mutex mutex = region.mutex("jobs");
    MutexGuard holder = await(mutex.lock());
    AtomicBoolean ran = new AtomicBoolean();
    CompletableFuture<Object> result =
        mutex.withLock(
            Duration.ofMillis(250),
            () -> {
              ran.set(true);
              return CompletableFuture.completedFuture(null);
            });
    Throwable failure = failureOf(result);
    assertInstanceOf(TimeoutException.class, failure);
    assertEquals("mutex 'jobs' was not acquired within 250 ms", failure.getMessage());
    assertFalse(ran.get());
    holder.unlock();
    assertFalse(mutex.isLocked());
  }

  // ---- semaphore: withPermits and tokens ----

  @Test
  void withPermitsHoldsThePermitsUntilTheStageCompletes() throws Exception {
    Semaphore semaphore = region.semaphore("s", 3);
    CompletableFuture<String> work = new CompletableFuture<>();
    CompletableFuture<String> result = semaphore.withPermits(2, () -> work);
    assertEquals(1, semaphore.availablePermits());
    work.complete("done");
    assertEquals("done", await(result));
    assertEquals(3, semaphore.availablePermits());

    CompletableFuture<Object> thrown =
        semaphore.withPermits(
            3,
            () -> {
              throw new IllegalArgumentException("bad");
            });
    assertInstanceOf(IllegalArgumentException.class, failureOf(thrown));
    assertEquals(3, semaphore.availablePermits(), "given back after the action threw");
  }

  @Test
  void cancellingAWaitingWithPermitsLosesNoPermit() throws Exception {
    Semaphore semaphore = region.semaphore("s", 1, SIGNAL);
    assertTrue(semaphore.tryAcquire(1));
    AtomicBoolean ran = new AtomicBoolean();
    CompletableFuture<Object> result =
        semaphore.withPermits(
            1,
            () -> {
              ran.set(true);
              return CompletableFuture.completedFuture(null);
            });
    assertTrue(result.cancel(true));
    semaphore.release(1);
    assertTrue(semaphore.tryAcquire(1), "the permit is not held by the withdrawn request");
    semaphore.release(1);
    assertFalse(ran.get());
  }

  @Test
  void heldPermitsGiveBackExactlyOnce() throws Exception {
    Semaphore semaphore = region.semaphore("s", 5);
    HeldPermits permits = await(semaphore.acquirePermits(3));
    assertEquals(3, permits.permits());
    assertSame(semaphore, permits.semaphore());
    assertEquals(2, semaphore.availablePermits());
    try (permits) {
      permits.release();
      assertTrue(permits.isReleased());
    } // close after release: nothing
    assertEquals(5, semaphore.availablePermits(), "released once, not twice");
    IllegalStateException second = assertThrows(IllegalStateException.class, permits::release);
    assertTrue(second.getMessage().contains("already released"), second.getMessage());
    assertEquals(5, semaphore.availablePermits());

    try (HeldPermits taken = semaphore.tryAcquirePermits(5).orElseThrow()) {
      assertEquals(0, semaphore.availablePermits());
      assertTrue(semaphore.tryAcquirePermits(1).isEmpty());
    }
    assertEquals(5, semaphore.availablePermits());
  }

  @Test
  void cancellingAPendingAcquirePermitsLosesNoPermitAndATimeoutSaysHowLong() throws Exception {
    Semaphore semaphore = region.semaphore("s", 2, SIGNAL);
    HeldPermits all = await(semaphore.acquirePermits(2));
    CompletableFuture<HeldPermits> pending = semaphore.acquirePermits(1);
    assertFalse(pending.isDone());
    assertTrue(pending.cancel(false));
    assertThrows(CancellationException.class, pending::join);
    all.close();
    assertEquals(2, semaphore.availablePermits(), "the withdrawn request took nothing");

    assertTrue(semaphore.tryAcquire(2));
    Throwable failure = failureOf(semaphore.acquirePermits(1, Duration.ofSeconds(1)));
    assertInstanceOf(TimeoutException.class, failure);
    assertEquals("semaphore 's': 1 permits were not acquired within 1 s", failure.getMessage());
    semaphore.release(2);
    assertEquals(2, semaphore.availablePermits());
  }

  // ---- idempotent close ----

  @Test
  void closingAGuardAfterUnlockingItDoesNothingButASecondUnlockThrows() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard guard = await(mutex.lock());
    try (guard) {
      guard.unlock();
    }
    assertFalse(mutex.isLocked());
    MutexGuard next = mutex.tryLock().orElseThrow();
    guard.close(); // must not release the next holder's lock
    assertTrue(mutex.isLocked(), "a stale guard's close released nothing");
    assertThrows(IllegalStateException.class, guard::unlock);
    next.unlock();
  }
}
