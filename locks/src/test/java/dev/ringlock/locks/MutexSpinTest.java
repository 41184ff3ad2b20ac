package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A contended lock() spins (RegionOptions.spinTries) only while a thread of this process holds the
 * word: against another process's holder it queues at once, so that the holder's process runs its
 * sections uncontended, as under a robust pthread mutex (docs/mutex.md). Both tests give the spin
 * far more tries than a test can wait out (Integer.MAX_VALUE, minutes of onSpinWait), so a spin
 * that ran shows as a lock() that does not return.
 */
@Timeout(120)
class MutexSpinTest {
  private static final RegionOptions SPINNING_FOR_EVER =
      RegionOptions.builder().spinTries(Integer.MAX_VALUE).build();

  @TempDir Path directory;

  @Test
  void aLockHeldByAnotherProcessIsNotSpunOn() throws Exception {
    Path regionFile = directory.resolve("region");
    Path control = Files.createDirectory(directory.resolve("control"));
    try (SharedRegion region = SharedRegion.open(regionFile, SPINNING_FOR_EVER)) {
      Mutex mutex = region.mutex("m");
      try (Child holder =
          Child.jvm(MutexHolder.class, regionFile.toString(), control.toString(), "m")
              .logTo(directory.resolve("holder.log"))
              .start()) {
        long deadline = System.nanoTime() + Child.STARTUP_TIMEOUT.toNanos();
        while (!Files.exists(control.resolve("held"))) {
          assertTrue(holder.isAlive(), "the holder exited: " + holder.log());
          assertTrue(System.nanoTime() < deadline, "the holder never took the mutex");
          Thread.sleep(5);
        }
        long start = System.nanoTime();
        CompletableFuture<MutexGuard> lock = mutex.lock();
        long returnedAfter = System.nanoTime() - start;
        assertTrue(
            returnedAfter < TimeUnit.SECONDS.toNanos(5),
            "lock() spun on another process's holder for "
                + TimeUnit.NANOSECONDS.toMillis(returnedAfter)
                + " ms");
        assertFalse(lock.isDone(), "the other process still holds it");
        Files.createFile(control.resolve("release-m"));
        MutexGuard guard = lock.get(30, TimeUnit.SECONDS);
        guard.unlock();
        Files.createFile(control.resolve("exit"));
        assertEquals(0, holder.awaitExit(Duration.ofSeconds(30)), holder.log());
      }
    }
  }

  @Test
  void aLockHeldByAThreadOfThisProcessIsSpunOn() throws Exception {
    try (SharedRegion region = SharedRegion.open(directory.resolve("region"), SPINNING_FOR_EVER)) {
      Mutex mutex = region.mutex("m");
      CountDownLatch held = new CountDownLatch(1);
      Thread holder =
          Thread.ofPlatform()
              .start(
                  () -> {
                    MutexGuard guard = mutex.tryLock().orElseThrow();
                    held.countDown();
                    try {
                      Thread.sleep(100);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                    guard.unlock();
                  });
      held.await();
      // Spins until the holder's release, then takes the free word: a completed future, never a
      // queued request (which the release would hand over on the holder's thread).
      CompletableFuture<MutexGuard> lock = mutex.lock();
      assertTrue(lock.isDone(), "taken by the spin, not queued");
      lock.join().unlock();
      holder.join();
    }
  }
}
