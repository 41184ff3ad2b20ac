package dev.ringlock.bench;

import com.sun.management.ThreadMXBean;
import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.Semaphore;
import dev.ringlock.locks.SharedRegion;
import dev.ringlock.locks.WaitQueue;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What 100,000 pending waiters cost: one {@link WaitQueue} of capacity 100,000 in a region file,
 * behind the queue's one FUTEX_WAIT for this process, through one ring. Prints the heap they hold
 * (live heap after full GCs, before the queue exists and with every waiter pending, divided by the
 * waiters; so the queue's per-slot tables are in it), the bytes allocated to queue them, and the
 * threads of the process (Java's count and the kernel's), which must not grow with the waiters.
 * Then wakes them all with one wakeAll and times it. Not JMH: a single shot. The last line, {@code
 * RESULT footprint ...}, is for the benchmark suite.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -Xmx1g -cp bench/target/benchmarks.jar \
 *     dev.ringlock.bench.PendingWaitersFootprint [waiters] [waitqueue|mutex|semaphore]
 * </pre>
 *
 * <p>{@code mutex}: the waiters are lock() requests on one mutex this process holds, released by a
 * chain of unlocks; {@code semaphore}: acquire(1) requests on a semaphore with no permit, released
 * by one release(waiters). All three keep one kernel wait per process per object, so every mode
 * fits the syscalls backend's 2,016 kernel waits per ring (-Dringlock.backend=syscalls).
 */
public final class PendingWaitersFootprint {
  private PendingWaitersFootprint() {}

  /**
   * After this long a run is stuck, not slow: under load 16 to 31 on 2 cores a run took 10 to 18 s
   * (2026-12-07), yet one printed no RESULT within the suite's 10 minutes. Every thread's stack is
   * then printed (the suite echoes the child's lines), so that the next such run says where.
   */
  private static final long STUCK_AFTER_MILLIS = TimeUnit.MINUTES.toMillis(4);

  public static void main(String[] args) throws Exception {
    reportStacksIfStillRunningAfter(STUCK_AFTER_MILLIS);
    int waiters = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    String mode = args.length > 1 ? args[1] : "waitqueue";
    ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    CompletableFuture<?>[] pending = new CompletableFuture<?>[waiters]; // the caller's, not counted
    try (FutexRing ring = FutexRing.open()) {
      int javaThreadsBefore = threads.getThreadCount();
      List<String> kernelThreadsBefore = kernelThreads();
      long heapBefore = liveHeap();
      SharedRegion region =
          BenchFiles.openRegion(
              RegionOptions.builder()
                  .ring(ring)
                  .regionSize(64L * waiters + (1 << 20))
                  .waitQueueCapacity(waiters)
                  .build());
      WaitQueue queue = mode.equals("waitqueue") ? region.waitQueue("footprint") : null;
      Mutex mutex = mode.equals("mutex") ? region.mutex("footprint") : null;
      Semaphore semaphore = mode.equals("semaphore") ? region.semaphore("footprint", 0) : null;
      MutexGuard held = mutex != null ? mutex.lock().get(10, TimeUnit.SECONDS) : null;
      long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
      long start = System.nanoTime();
      for (int i = 0; i < waiters; i++) {
        if (queue != null) {
          pending[i] = queue.await(i);
        } else if (mutex != null) {
          pending[i] = mutex.lock();
        } else {
          pending[i] = semaphore.acquire(1);
        }
      }
      long queued = System.nanoTime() - start;
      long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (queue != null && ring.stats().inFlight() < 1) { // the queue's one kernel wait
        if (System.nanoTime() > end) {
          throw new IllegalStateException("not every wait reached the kernel: " + ring.stats());
        }
        Thread.sleep(1);
      }
      long heapPending = liveHeap();
      int javaThreadsPending = threads.getThreadCount();
      List<String> kernelThreadsPending = kernelThreads();
      System.out.printf(
          "%d pending %s waiters on the %s backend (queued in %.0f ms, %d waits in the kernel)%n",
          waiters, mode, ring.backend(), queued / 1e6, ring.stats().inFlight());
      System.out.printf(
          "live heap: %.1f bytes per waiter (%.1f MiB in all, queue tables included);"
              + " allocated while queueing: %.1f bytes per waiter%n",
          (heapPending - heapBefore) / (double) waiters,
          (heapPending - heapBefore) / 1048576.0,
          allocated / (double) waiters);
      System.out.printf(
          "threads: Java %d -> %d, kernel %d -> %s%n",
          javaThreadsBefore,
          javaThreadsPending,
          kernelThreadsBefore.size(),
          describe(kernelThreadsPending, kernelThreadsBefore));

      long wakeStart = System.nanoTime();
      int woken = waiters;
      if (queue != null) {
        woken = queue.wakeAll();
      } else if (mutex != null) {
        for (CompletableFuture<?> lock : pending) { // each holder hands on to the next
          lock.thenAccept(guard -> ((MutexGuard) guard).unlock());
        }
        held.unlock();
      } else {
        semaphore.release(waiters);
      }
      CompletableFuture.allOf(pending).get(60, TimeUnit.SECONDS);
      double wakeAllMillis = (System.nanoTime() - wakeStart) / 1e6;
      System.out.printf(
          "wakeAll woke %d; all resumed after %.1f ms; threads now Java %d, kernel %s%n",
          woken,
          wakeAllMillis,
          threads.getThreadCount(),
          describe(kernelThreads(), kernelThreadsBefore));
      System.out.printf( // for the benchmark suite
          "RESULT footprint waiters=%d bytes_per_waiter=%.1f java_threads_before=%d"
              + " java_threads_pending=%d wake_all_ms=%.1f%n",
          waiters,
          (heapPending - heapBefore) / (double) waiters,
          javaThreadsBefore,
          javaThreadsPending,
          wakeAllMillis);
      region.close();
    }
  }

  /** A daemon thread that prints every thread's stack once, {@code millis} from now. */
  private static void reportStacksIfStillRunningAfter(long millis) {
    Thread.ofPlatform()
        .daemon(true)
        .name("footprint-stuck-report")
        .start(
            () -> {
              try {
                Thread.sleep(millis);
              } catch (InterruptedException e) {
                return;
              }
              StringBuilder report =
                  new StringBuilder("STUCK: no RESULT after " + millis + " ms; every thread:\n");
              Thread.getAllStackTraces()
                  .forEach(
                      (thread, stack) -> {
                        report.append(thread).append('\n');
                        for (StackTraceElement frame : stack) {
                          report.append("    at ").append(frame).append('\n');
                        }
                      });
              System.out.print(report);
              System.out.flush();
            });
  }

  private static long liveHeap() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** The kernel's view of this process's threads: their names, from /proc/self/task. */
  private static List<String> kernelThreads() throws IOException {
    List<String> names = new ArrayList<>();
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        names.add(Files.readString(task.resolve("comm")).strip());
      }
    }
    Collections.sort(names);
    return names;
  }

  /** "n" and, if the names differ from {@code before}'s, which came and went. */
  private static String describe(List<String> now, List<String> before) {
    List<String> came = new ArrayList<>(now);
    before.forEach(came::remove);
    List<String> went = new ArrayList<>(before);
    now.forEach(went::remove);
    return now.size()
        + (came.isEmpty() ? "" : " (new: " + came + ")")
        + (went.isEmpty() ? "" : " (gone: " + went + ")");
  }
}
