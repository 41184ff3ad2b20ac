package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * queueLength(): the requests queued in this process plus the other processes asleep on the object;
 * and a process killed in its sleep, which leaves the region's count of sleepers one too high, is
 * not reported as sleeping once a release has cleared the waiters bit.
 */
@Timeout(60)
class QueueLengthTest extends RegionTestBase {

  @Test
  void aMutexCountsTheRequestsQueuedInThisProcess() throws Exception {
    Mutex mutex = region.mutex("m");
    assertEquals(0, mutex.queueLength());
    MutexGuard holder = await(mutex.lock());
    assertEquals(0, mutex.queueLength(), "the holder does not wait");
    CompletableFuture<MutexGuard> first = mutex.lock();
    CompletableFuture<MutexGuard> second = mutex.lock();
    assertEquals(2, mutex.queueLength());
    second.cancel(false);
    assertEquals(1, mutex.queueLength(), "a withdrawn request leaves the queue");
    holder.unlock();
    await(first).unlock();
    assertEquals(0, mutex.queueLength());
  }

  @Test
  void aSemaphoreCountsTheRequestsQueuedInThisProcess() throws Exception {
    Semaphore semaphore = region.semaphore("s", 1);
    assertTrue(semaphore.tryAcquire(1));
    CompletableFuture<Void> waiting = semaphore.acquire(1);
    assertEquals(1, semaphore.queueLength());
    semaphore.release(1);
    await(waiting);
    assertEquals(0, semaphore.queueLength());
    semaphore.release(1);
  }

  @Test
  void anotherProcessSleepingOnTheSemaphoreCountsOnceAndAKilledOneIsNotReportedSleeping()
      throws Exception {
    Semaphore semaphore = region.semaphore("s", 1);
    assertTrue(semaphore.tryAcquire(1)); // held here: the child must sleep
    Path go = Files.createFile(directory.resolve("go"));
    try (Child waiter =
        Child.jvm(SemaphoreWorker.class)
            .args("waiter", region.file().toString(), go.toString(), "s", "1")
            .captureOutput()
            .start()) {
      waiter.expect("WAITING");
      awaitValue(1, semaphore::queueLength, "the child's kernel wait is counted");
      assertEquals(1, sleepersReported(), "inspect reports the sleeping child");

      waiter.kill(); // killed in its sleep: the region's count keeps it
      semaphore.release(1); // clears the waiters bit and wakes every sleeper (none is left)
      assertEquals(0, semaphore.queueLength(), "a dead sleeper is not a queued acquisition");
      assertEquals(0, sleepersReported(), "nor reported as sleeping after every process exited");
    }
  }

  private int sleepersReported() throws Exception {
    String summary =
        RegionReport.read(region.file()).objects().stream()
            .filter(o -> o.name().equals("s"))
            .findFirst()
            .orElseThrow()
            .summary();
    return summary.contains("1 process sleeping") ? 1 : summary.contains("sleeping") ? -1 : 0;
  }

  private static void awaitValue(int expected, IntSupplier value, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (value.getAsInt() != expected && System.nanoTime() - deadline < 0) {
      Thread.sleep(5);
    }
    assertEquals(expected, value.getAsInt(), what);
  }
}
