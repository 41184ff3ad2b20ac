package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.CompletionThreadBlockingException;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import dev.ringlock.testsupport.OnCompletionThread;
import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A continuation that blocks on a pending lock, semaphore or scoped request of its own ring's
 * completion thread is refused at once (CompletionThreadBlockingException), not a quiet deadlock,
 * and the refused request is withdrawn: nothing is left held by nobody. On the backend
 * -Dringlock.backend chooses: CI runs this class once per backend.
 */
@Timeout(60)
class BlockingOnTheCompletionThreadTest extends RegionTestBase {
  private final FutexWord trigger = FutexWord.of(Arena.ofAuto().allocate(Integer.BYTES, 64), 0);

  /**
   * Runs {@code body} as the continuation of a wait on {@code on}'s completion thread; returns the
   * message of the CompletionThreadBlockingException it throws, or what it did instead.
   */
  private String refusalOn(FutexRing on, OnCompletionThread.Call body) throws Exception {
    return refusalOn(on, body, () -> {});
  }

  /**
   * As {@link #refusalOn(FutexRing, OnCompletionThread.Call)}; if {@code body} is still blocked
   * after 10 s (its blocking call was not refused), runs {@code unblock} so that the ring can
   * close, and fails.
   */
  private String refusalOn(FutexRing on, OnCompletionThread.Call body, Runnable unblock)
      throws Exception {
    return OnCompletionThread.run(
        on.wait(trigger, 0),
        () -> on.wake(trigger, 1).get(10, TimeUnit.SECONDS) > 0,
        () -> OnCompletionThread.refusal(body, CompletionThreadBlockingException.class),
        unblock);
  }

  private static void assertRefusal(String message, String call, String what) {
    assertTrue(message.startsWith(call + " of " + what), message);
    assertTrue(message.contains("withdrawn"), message);
    assertTrue(message.contains("completionExecutor"), message);
    assertTrue(message.contains("thenComposeAsync"), message);
  }

  @Test
  void joiningAPendingLockOnTheCompletionThreadThrowsAndWithdrawsTheRequest() throws Exception {
    Mutex mutex = region.mutex("orders");
    MutexGuard held = await(mutex.lock());
    CompletableFuture<MutexGuard> pending = mutex.lock();

    assertRefusal(
        refusalOn(ring, pending::join, held::unlock),
        "join()",
        "a lock() request of mutex 'orders'");

    assertTrue(pending.isCancelled(), "the refused request was withdrawn");
    held.unlock();
    Optional<MutexGuard> free = mutex.tryLock();
    assertTrue(free.isPresent(), "the release went to nobody: the mutex stayed held");
    free.get().unlock();
  }

  @Test
  void theBlockingLockViewRefusesOnTheCompletionThreadInsteadOfDeadlocking() throws Exception {
    Mutex mutex = region.mutex("view");
    MutexGuard held = await(mutex.lock());

    assertRefusal(
        refusalOn(
            ring,
            () -> {
              mutex.asLock().lock();
              return "locked";
            },
            held::unlock),
        "get()",
        "a lock() request of mutex 'view'");

    held.unlock();
    Optional<MutexGuard> free = mutex.tryLock();
    assertTrue(free.isPresent(), "the refused asLock().lock() left its request queued");
    free.get().unlock();
  }

  @Test
  void timedGetOfAPendingAcquireOnTheCompletionThreadThrowsAndGivesNoPermitAway() throws Exception {
    Semaphore semaphore =
        region.semaphore("slots", 0, SemaphoreOptions.builder().undoOnExit(false).build());
    CompletableFuture<Void> pending = semaphore.acquire(1);

    assertRefusal(
        refusalOn(ring, () -> pending.get(15, TimeUnit.SECONDS), () -> semaphore.release(1)),
        "get(timeout)",
        "an acquire(1) request of semaphore 'slots'");

    semaphore.release(1);
    assertEquals(1, semaphore.availablePermits(), "the refused request took the released permit");
  }

  @Test
  void aPendingWriteRequestAndAPendingWithLockAreRefusedToo() throws Exception {
    ReadWriteMutex rw = region.readWriteMutex("table");
    ReadGuard reader = await(rw.read());
    CompletableFuture<WriteGuard> write = rw.write();
    assertRefusal(
        refusalOn(ring, write::get, reader::unlock),
        "get()",
        "a write request of read-write mutex 'table'");
    reader.unlock();
    assertTrue(write.isCancelled());
    await(rw.write()).unlock();

    Mutex mutex = region.mutex("scoped");
    MutexGuard held = await(mutex.lock());
    AtomicBoolean ran = new AtomicBoolean();
    CompletableFuture<String> scoped =
        mutex.withLock(
            () -> {
              ran.set(true);
              return CompletableFuture.completedFuture("ran");
            });
    assertRefusal(refusalOn(ring, scoped::join, held::unlock), "join()", "a scoped acquisition");
    held.unlock();
    assertTrue(scoped.isCancelled());
    assertFalse(ran.get(), "the action of a refused withLock never runs");
    assertFalse(mutex.isLocked(), "the refused withLock left the mutex held");
  }

  @Test
  void aCompleteLockFutureMayBeJoinedOnTheCompletionThread() throws Exception {
    Mutex mutex = region.mutex("free");
    String outcome =
        refusalOn(
            ring,
            () -> {
              MutexGuard guard = mutex.lock().join(); // free: complete when returned
              guard.unlock();
              return "locked";
            });
    assertEquals("not refused: returned locked", outcome);
  }

  @Test
  void aLockOfAnotherRingsRegionMayBeAwaitedOnACompletionThread() throws Exception {
    Mutex mutex = region.mutex("elsewhere");
    MutexGuard held = await(mutex.lock());
    CompletableFuture<MutexGuard> pending = mutex.lock();
    try (FutexRing other = FutexRing.open(FutexRing.options().backend(ring.backend()))) {
      CompletableFuture<Void> release =
          CompletableFuture.runAsync(
              () -> {
                LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
                held.unlock();
              });
      String outcome =
          refusalOn(
              other,
              () -> {
                MutexGuard guard = pending.get(20, TimeUnit.SECONDS);
                guard.unlock();
                return "locked";
              });
      release.get(20, TimeUnit.SECONDS);
      assertEquals("not refused: returned locked", outcome);
    }
    assertFalse(pending.isCancelled());
    assertSame(mutex, pending.get().mutex());
  }

  @Test
  void aCancelledRequestIsNotRefusedButReportsItsCancellation() throws Exception {
    Mutex mutex = region.mutex("cancelled");
    MutexGuard held = await(mutex.lock());
    CompletableFuture<MutexGuard> pending = mutex.lock();
    assertTrue(pending.cancel(false));
    String outcome = refusalOn(ring, pending::join);
    assertTrue(outcome.contains(CancellationException.class.getName()), outcome);
    held.unlock();
  }
}
