package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.RegionSnapshot.MutexSnapshot;
import dev.ringlock.locks.internal.MutexWords;
import dev.ringlock.testsupport.Child;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A guard's once-only release is one 64-bit CAS of the mutex's word and the hold tag beside it
 * (docs/protocols.md, "A guard releases once"): the release frees the word and moves the tag (so
 * the last fence) on by one, a guard whose tag or fence moved on is refused, and the guard carries
 * no atomic, so the JIT can scalar-replace it on the uncontended path.
 */
@Timeout(120)
class MutexReleaseClaimTest extends RegionTestBase {
  private static final int PID = (int) ProcessHandle.current().pid();

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
  void theReleaseFreesTheWordAndMovesTheHoldTagInOneStepLeavingTheFenceField() throws Exception {
    Mutex mutex = region.mutex("m");
    try (MappedRegion raw = openRawMapping()) {
      MutexWords words = new MutexWords(raw.segment(), raw.find("m").orElseThrow().offset());
      MutexGuard guard = await(mutex.lock());
      long drawn = guard.fence();
      assertEquals(MutexWords.hold(PID, (int) drawn), words.lvHold(), "held: pid, tag = fence");
      assertEquals(drawn, words.laFence());
      guard.unlock();
      assertEquals(MutexWords.hold(0, (int) drawn + 1), words.lvHold(), "free, tag moved on");
      assertEquals(drawn, words.laFence(), "the field is the holder's to write: left as drawn");
      // The fence field still reads the stale guard's fence: the moved tag alone refuses it.
      assertThrows(IllegalStateException.class, guard::unlock);
      assertEquals(MutexWords.hold(0, (int) drawn + 1), words.lvHold());
    }
  }

  @Test
  void aStaleGuardIsRefusedByAHolderOfAnotherViewOfTheSameProcess() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard stale = await(mutex.lock());
    stale.unlock();
    try (SharedRegion again = SharedRegion.open(region.file(), withRing())) {
      MutexGuard other = await(again.mutex("m").lock()); // the same pid in the word
      assertThrows(IllegalStateException.class, stale::unlock);
      assertTrue(mutex.isLocked(), "the other view still holds");
      other.unlock();
      assertFalse(mutex.isLocked());
    }
  }

  /**
   * A holder stores the tag of the fence it draws before the fence field, so one killed between the
   * two leaves the tag two ahead of the field after a release: whoever takes the word over must
   * draw past the fence the dead holder drew, not the field's.
   */
  @Test
  void aTakeoverFromAHolderKilledBetweenItsTagAndFenceStoresDrawsPastBoth() throws Exception {
    Mutex mutex = region.mutex("m");
    try (MappedRegion raw = openRawMapping()) {
      MutexWords words = new MutexWords(raw.segment(), raw.find("m").orElseThrow().offset());
      // released at fence 11 (field 10, tag 11), then a holder drew 12, stored its tag and died
      words.spFence(10);
      words.spHoldTag(12);
      words.spWord(Child.deadPid());
      MutexGuard guard = mutex.tryLock().orElseThrow();
      assertTrue(guard.ownerDied());
      assertEquals(13, guard.fence());
      guard.markConsistent();
      guard.unlock();
      assertEquals(14, lastFence("m"));
    }
  }

  @Test
  void aHoldTagNoHolderCouldHaveLeftIsReportedAsDamage() throws Exception {
    Mutex mutex = region.mutex("m");
    try (MappedRegion raw = openRawMapping()) {
      MutexWords words = new MutexWords(raw.segment(), raw.find("m").orElseThrow().offset());
      words.spFence(10);
      words.spHoldTag(13); // three ahead: no draw or release leaves that
      UncheckedIOException damage = assertThrows(UncheckedIOException.class, mutex::tryLock);
      assertTrue(damage.getMessage().contains("hold tag"), damage.getMessage());
      assertFalse(mutex.isLocked(), "the word taken for the refused draw is freed again");
    }
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

  /**
   * A second unlock of a guard released before reads the fence, then the hold. Paused between the
   * two (TestPausePoints.inReleaseRetry) while the process releases a newer hold and takes the
   * mutex again, it read a fence two draws old and a tag four ahead of it: no holder leaves that,
   * and it was taken for damage, so the stale unlock went ahead and freed the new holder's lock
   * (whose own unlock then threw). The fence is read again before damage is judged.
   */
  @Test
  void aStaleUnlockPausedAcrossTwoDrawsIsRefusedAndLeavesTheNewHolderAlone() throws Exception {
    region.mutex("stale");
    try (Child child =
        Child.jvm(StaleUnlockChild.class, region.file().toString(), "stale")
            .systemProperty("dev.ringlock.test.pauseInReleaseRetry", "stale")
            .captureOutput()
            .start()) {
      child.expect("STALE REFUSED");
      child.expect("HOLDER INTACT");
      assertEquals(0, child.awaitExit(Duration.ofSeconds(30)), child.log());
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
   * is its own size heuristic: it refuses a callee already compiled to more than InlineSmallCode
   * bytes, which the next test covers. This child raises InlineSmallCode so that the inlining
   * happens whatever the compilation order, and the bound is about escape analysis alone. A fresh
   * JVM (UncontendedAllocationChild), since other tests' use of the mutex shapes the JIT's profile.
   */
  @Test
  void anInlinedUncontendedLockJoinAndTryLockAllocateNothing() throws Exception {
    assertUncontendedAllocatesNothing(
        Child.jvm(UncontendedAllocationChild.class, region.file().toString())
            .jvmOptions("-XX:InlineSmallCode=20000"));
  }

  /**
   * The same bound without raising InlineSmallCode, in the order JMH's fork compiles: tryLock() and
   * lock() compiled on their own first (the child calls them from an interpreted method, with
   * background compilation off), their caller after. C2 then inlines them only if their own
   * compiled code is at most InlineSmallCode bytes, which lock() was not (over 3 KB: 56 bytes
   * allocated per lock().join() ... unlock()) until the region's work moved out of line
   * (MutexCore.bargeAndDraw).
   */
  @Test
  void aCallerCompiledAfterLockAndTryLockAllocatesNothing() throws Exception {
    assertUncontendedAllocatesNothing(
        UncontendedAllocationChild.compiledFirst(region.file().toString()));
  }

  /** Runs {@code child} (an UncontendedAllocationChild) and asserts its two figures are 0. */
  private static void assertUncontendedAllocatesNothing(Child.Builder child) throws Exception {
    // fullJvm: C2's inlining and escape analysis are what the bound is about
    try (Child started = child.fullJvm().captureOutput().start()) {
      String tryLock = started.expect("TRYLOCK ", UncontendedAllocationChild.MEASURING);
      String lockJoin = started.expect("LOCKJOIN ", UncontendedAllocationChild.MEASURING);
      assertEquals(0, started.awaitExit(Duration.ofSeconds(60)), started.log());
      assertEquals(
          0, bytesPerOperation(tryLock), 0.5, "bytes per tryLock() + unlock(): " + tryLock);
      assertEquals(
          0, bytesPerOperation(lockJoin), 0.5, "bytes per lock().join() + unlock(): " + lockJoin);
    }
  }

  /** The figure of an UncontendedAllocationChild line: {@code NAME <bytes> rounds=R ms=T}. */
  static double bytesPerOperation(String line) {
    return Double.parseDouble(line.split(" ")[1]);
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
