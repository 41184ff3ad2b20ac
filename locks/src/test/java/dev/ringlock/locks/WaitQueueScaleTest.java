package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.internal.WaitQueueCore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * 100,000 pending waiters of one wait queue in one process, on the syscalls backend, whose
 * futex_waitv threads hold 126 waits each and number at most 16: the queue must keep one kernel
 * wait for them all (docs/backends.md, Scale). Measured as the benchmarks' PendingWaitersFootprint
 * does: live heap after full GCs, before the region exists and with every waiter pending, over the
 * waiters (so the queue's per-slot table is in it).
 */
class WaitQueueScaleTest {
  private static final int WAITERS = 100_000;
  private static final int MAX_THREADS = 16;
  private static final double MAX_BYTES_PER_WAITER = 300;

  @TempDir Path directory;

  @Test
  @Timeout(180)
  void aHundredThousandPendingWaitersOnTheSyscallsBackendFitItsThreadsAndLittleHeap()
      throws Exception {
    String ringName = "wq-scale-" + ProcessHandle.current().pid();
    Path file = Path.of("/dev/shm").resolve("ringlock-wq-scale-" + ProcessHandle.current().pid());
    if (!Files.isDirectory(file.getParent())) {
      file = directory.resolve("region");
    }
    Files.deleteIfExists(file);
    CompletableFuture<?>[] pending = new CompletableFuture<?>[WAITERS]; // the caller's, not counted
    try (FutexRing ring =
        FutexRing.open(
            FutexRing.options()
                .backend(FutexRing.Backend.SYSCALLS)
                .threadName(ringName)
                // resuming 100,000 waiters holds the completion thread for seconds, on purpose
                .blockedThreadWarning(Duration.ZERO))) {
      long heapBefore = liveHeap();
      try (SharedRegion region =
          SharedRegion.open(
              file,
              RegionOptions.builder()
                  .ring(ring)
                  .regionSize(64L * WAITERS + (1 << 20))
                  .waitQueueCapacity(WAITERS)
                  .build())) {
        WaitQueue queue = region.waitQueue("scale");
        WaitQueueCore core = (WaitQueueCore) queue;
        long start = System.nanoTime();
        for (int i = 0; i < WAITERS; i++) {
          pending[i] = queue.await(i);
        }
        long armMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(WAITERS, queue.waiting());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (ring.stats().inFlight() < 1) {
          assertTrue(System.nanoTime() < deadline, "the wait never reached the kernel");
          Thread.sleep(1);
        }
        assertEquals(1, ring.stats().inFlight(), "one kernel wait for every waiter: " + ring);
        long heapPending = liveHeap();
        double bytesPerWaiter = (heapPending - heapBefore) / (double) WAITERS;
        long ringThreads = ringThreads(ringName);

        // A wake(1) from the head: the scan it causes stops at the first waiter still waiting.
        long wakesBefore = core.kernelWakes();
        long wakeOneStart = System.nanoTime();
        assertEquals(1, queue.wake(1));
        assertNull(pending[0].get(30, TimeUnit.SECONDS));
        double wakeOneMillis = (System.nanoTime() - wakeOneStart) / 1e6;
        // The next re-check scans every waiter once, since W moved (see WaitQueueCore).
        Thread.sleep(600);
        WaitQueueCore.ScanStats scans = core.scanStats();

        long wakeAllStart = System.nanoTime();
        assertEquals(WAITERS - 1, queue.wakeAll());
        CompletableFuture.allOf(pending).get(60, TimeUnit.SECONDS);
        long wakeAllMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - wakeAllStart);
        assertEquals(0, queue.waiting());
        assertEquals(2, core.kernelWakes() - wakesBefore, "one kernel wake per call");

        System.out.printf(
            "%,d pending WaitQueue waiters on the syscalls backend: armed in %d ms; live heap %.1f"
                + " bytes per waiter; %d ring threads; wake(1) resumed its waiter in %.2f ms; a"
                + " scan of %,d waiters took %.2f ms; wakeAll resumed the other %,d in %d ms%n",
            WAITERS,
            armMillis,
            bytesPerWaiter,
            ringThreads,
            wakeOneMillis,
            scans.longestScan(),
            scans.longestScanNanos() / 1e6,
            WAITERS - 1,
            wakeAllMillis);
        assertTrue(ringThreads <= MAX_THREADS, ringThreads + " threads for the ring");
        assertTrue(
            bytesPerWaiter <= MAX_BYTES_PER_WAITER, bytesPerWaiter + " bytes of heap per waiter");
        assertTrue(
            scans.longestScan() >= WAITERS - 1, "no re-check scanned every waiter: " + scans);
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }

  private static long liveHeap() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    Runtime runtime = Runtime.getRuntime(); // the heap in use, as the memory MXBean reports it
    return runtime.totalMemory() - runtime.freeMemory();
  }

  /** The ring's platform threads: its completion thread and the backend's, named after it. */
  private static long ringThreads(String ringName) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.getName().startsWith(ringName))
        .count();
  }
}
