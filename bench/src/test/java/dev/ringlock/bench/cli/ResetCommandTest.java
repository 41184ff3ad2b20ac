package dev.ringlock.bench.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.bench.cli.InspectCommandTest.Run;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.NotRecoverableException;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.RegionSnapshot;
import dev.ringlock.locks.SharedRegion;
import dev.ringlock.locks.internal.MutexWords;
import dev.ringlock.testsupport.Child;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class ResetCommandTest {
  @TempDir Path directory;

  /** Leaves mutex {@code name} not recoverable: taken over from a dead owner, never repaired. */
  private static void makeNotRecoverable(SharedRegion region, String name) throws Exception {
    Mutex mutex = region.mutex(name);
    try (MappedRegion raw =
        MappedRegion.open(
            region.file(), RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      new MutexWords(raw.segment(), raw.find(name).orElseThrow().offset()).spWord(Child.deadPid());
    }
    MutexGuard guard = mutex.tryLock().orElseThrow();
    assertTrue(guard.ownerDied());
    guard.unlock(); // without markConsistent()
    assertThrows(NotRecoverableException.class, mutex::tryLock);
  }

  @Test
  void resetMakesANotRecoverableMutexUsableAgainInEveryProcess() throws Exception {
    Path file = directory.resolve("region");
    try (SharedRegion region = SharedRegion.open(file)) {
      makeNotRecoverable(region, "orders");
      Run run = InspectCommandTest.ringlock("reset", file.toString(), "orders");
      assertEquals(0, run.exitCode(), run.err());
      assertTrue(run.out().contains("mutex 'orders' reset"), run.out());
      MutexGuard guard = region.mutex("orders").tryLock().orElseThrow();
      assertFalse(guard.ownerDied());
      guard.unlock();

      Run again = InspectCommandTest.ringlock("reset", file.toString(), "orders");
      assertEquals(Ringlock.FAILED, again.exitCode());
      assertTrue(again.err().contains("not in the not-recoverable state (free)"), again.err());
    }
  }

  @Test
  void resetRefusesAMissingNameOrAnotherTypeWithoutCreatingAnything() throws Exception {
    Path file = directory.resolve("region");
    try (SharedRegion region = SharedRegion.open(file)) {
      region.semaphore("pool", 1);
    }
    Run missing = InspectCommandTest.ringlock("reset", file.toString(), "nope");
    assertEquals(Ringlock.FAILED, missing.exitCode());
    assertTrue(missing.err().contains("has no object named 'nope'"), missing.err());
    Run semaphore = InspectCommandTest.ringlock("reset", file.toString(), "pool");
    assertEquals(Ringlock.FAILED, semaphore.exitCode());
    assertTrue(semaphore.err().contains("is a semaphore, not a mutex"), semaphore.err());
    assertEquals(1, RegionSnapshot.read(file).objects().size(), "no object was created");
  }
}
