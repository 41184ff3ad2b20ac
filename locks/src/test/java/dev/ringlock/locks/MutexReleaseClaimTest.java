package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.locks.RegionSnapshot.MutexSnapshot;
import dev.ringlock.testsupport.Child;
import java.time.Duration;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A guard's once-only release is claimed on the mapped fence (docs/protocols.md, "A guard releases
 * once"): the release moves the fence on by one, a guard whose fence moved on is refused, and the
 * guard carries no atomic, so the JIT can scalar-replace it on the uncontended path.
 */
@Timeout(120)
class MutexReleaseClaimTest extends RegionTestBase {

  @Test
  void aReleaseMovesTheFenceOnByOneSoTheNextHolderDrawsPastIt() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard first = await(mutex.lock());
    long drawn = first.fence();
    assertEquals(drawn, lastFence("m"), "while held, the fence is the holder's");
    first.unlock();
    assertEquals(drawn + 1, lastFence("m"), "the release's claim moved it on");
    MutexGuard second = mutex.tryLock().orElseThrow();
    assertEquals(drawn + 2, second.fence());
    second.unlock();
  }

  @Test
  void aRefusedSecondUnlockLeavesTheFenceAndTheNextHolderAlone() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard first = await(mutex.lock());
    first.unlock();
    MutexGuard next = await(mutex.lock());
    long fence = lastFence("m");
    assertThrows(IllegalStateException.class, first::unlock);
    first.close(); // a no-op: released already
    assertEquals(fence, lastFence("m"));
    assertTrue(mutex.isLocked());
    next.unlock();
    assertFalse(mutex.isLocked());
  }

  @Test
  void twoThreadsUnlockingOneGuardAtOnceReleaseItOnce() throws Exception {
    Mutex mutex = region.mutex("m");
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 100; round++) {
        MutexGuard guard = await(mutex.lock());
        long drawn = guard.fence();
        CyclicBarrier start = new CyclicBarrier(2);
        Future<Boolean> a = threads.submit(() -> unlockRacing(start, guard));
        Future<Boolean> b = threads.submit(() -> unlockRacing(start, guard));
        boolean releasedByA = a.get(20, TimeUnit.SECONDS);
        boolean releasedByB = b.get(20, TimeUnit.SECONDS);
        assertTrue(releasedByA ^ releasedByB, "round " + round + ": exactly one released");
        MutexGuard next = mutex.tryLock().orElseThrow(); // free: released, and only once
        assertEquals(drawn + 2, next.fence(), "one claim moved the fence on, once");
        next.unlock();
      }
    } finally {
      threads.shutdownNow();
    }
  }

  private static boolean unlockRacing(CyclicBarrier start, MutexGuard guard) throws Exception {
    start.await(20, TimeUnit.SECONDS);
    try {
      guard.unlock();
      return true;
    } catch (IllegalStateException refused) {
      return false;
    }
  }

  /**
   * Once the JIT inlines the acquisition and the release into the caller, nothing they create
   * escapes: tryLock() ... unlock() allocates nothing (40 bytes before session 6), and
   * lock().join() ... unlock() nothing either (32 bytes before: the guard, read back through
   * CompletableFuture.join(), escaped; AcquiredFuture's overview). Whether C2 inlines lock() at all
   * is its own size heuristic, not this library's: it refuses a callee already compiled to more
   * than InlineSmallCode bytes, and lock() compiled on its own is larger, so in a JVM that happens
   * to compile lock() before its caller (JMH's fork does) both objects are allocated, 56 bytes
   * (bench/README.md). The child raises InlineSmallCode so that the inlining happens whatever the
   * compilation order, and the bound is exact. A fresh JVM (UncontendedAllocationChild), since
   * other tests' use of the mutex shapes the JIT's profile.
   */
  @Test
  void anInlinedUncontendedLockJoinAndTryLockAllocateNothing() throws Exception {
    try (Child child =
        Child.jvm(UncontendedAllocationChild.class, region.file().toString())
            .jvmOptions("-XX:InlineSmallCode=20000")
            .captureOutput()
            .start()) {
      double tryLock = Double.parseDouble(child.expect("TRYLOCK ").split(" ")[1]);
      double lockJoin = Double.parseDouble(child.expect("LOCKJOIN ").split(" ")[1]);
      assertEquals(0, child.awaitExit(Duration.ofSeconds(60)), child.log());
      assertEquals(0, tryLock, 0.5, "bytes per tryLock() + unlock()");
      assertEquals(0, lockJoin, 0.5, "bytes per lock().join() + unlock()");
    }
  }

  private long lastFence(String name) throws Exception {
    RegionSnapshot snapshot = RegionSnapshot.read(region.file());
    return snapshot.objects().stream()
        .filter(o -> o.name().equals(name))
        .map(MutexSnapshot.class::cast)
        .findFirst()
        .orElseThrow()
        .lastFence();
  }
}
