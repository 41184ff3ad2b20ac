package dev.ringlock.locks;

import dev.ringlock.locks.internal.MutexCore;
import dev.ringlock.locks.internal.ReadWriteMutexCore;
import dev.ringlock.locks.internal.SemaphoreCore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The contended loops of the missed-wake tests (WakeRescueTest, in one JVM and across processes
 * through WakeStressWorker): a few threads of one view of a region hammer one object for a while,
 * each operation a blocking acquire ({@code join()}) and a release. The view's kernel wait is what
 * other views and processes must wake; the sleeper's re-check counters say whether one was missed.
 *
 * <p>Phases, each on its own object so that one phase's counters are its own:
 *
 * <ul>
 *   <li>{@code rw95}, {@code rw50}: the read-write mutex {@code wake-rw95} / {@code wake-rw50}, 95
 *       % or 50 % reads;
 *   <li>{@code mutex}: the mutex {@code wake-mutex};
 *   <li>{@code semaphore}: the semaphore {@code wake-semaphore}, 2 permits, acquires of 1 or 2.
 * </ul>
 */
final class WakeStress {
  static final List<String> PHASES = List.of("rw95", "rw50", "mutex", "semaphore");

  /** How long each phase runs once before the measured runs: classes loaded, the ring started. */
  static final long WARM_UP_MILLIS = 50;

  private WakeStress() {}

  /**
   * What one view did in one phase: operations, the fewest any of its threads made, the longest
   * single acquire, and the view's sleeper counters (waits that ended by the re-check's timeout,
   * and those the re-check rescued).
   */
  record Result(
      String phase,
      long operations,
      long fewestByAThread,
      long longestWaitMillis,
      long waitsOver200Millis,
      long recheckTimeouts,
      long rescues) {
    String line() {
      return "PHASE "
          + phase
          + " ops="
          + operations
          + " fewest="
          + fewestByAThread
          + " longestWaitMs="
          + longestWaitMillis
          + " over200ms="
          + waitsOver200Millis
          + " rechecks="
          + recheckTimeouts
          + " rescues="
          + rescues;
    }

    static Result parse(String line) {
      String[] f = line.split(" ");
      return new Result(
          f[1], value(f[2]), value(f[3]), value(f[4]), value(f[5]), value(f[6]), value(f[7]));
    }

    private static long value(String field) {
      return Long.parseLong(field.substring(field.indexOf('=') + 1));
    }
  }

  /** Runs {@code phase} on {@code region} with {@code threads} threads for {@code millis}. */
  static Result run(SharedRegion region, String phase, int threads, long millis)
      throws InterruptedException {
    Runnable[] operation = new Runnable[1];
    LongSupplier[] counters = new LongSupplier[2];
    switch (phase) {
      case "rw95", "rw50" -> {
        ReadWriteMutex lock = region.readWriteMutex("wake-" + phase);
        int readPercent = phase.equals("rw95") ? 95 : 50;
        operation[0] =
            () -> {
              if (ThreadLocalRandom.current().nextInt(100) < readPercent) {
                ReadGuard guard = lock.read().join();
                work();
                guard.unlock();
              } else {
                WriteGuard guard = lock.write().join();
                work();
                guard.unlock();
              }
            };
        ReadWriteMutexCore core = (ReadWriteMutexCore) lock;
        counters[0] = core::recheckTimeouts;
        counters[1] = core::recheckRescues;
      }
      case "mutex" -> {
        Mutex lock = region.mutex("wake-mutex");
        operation[0] =
            () -> {
              MutexGuard guard = lock.lock().join();
              work();
              guard.unlock();
            };
        MutexCore core = (MutexCore) lock;
        counters[0] = core::recheckTimeouts;
        counters[1] = core::recheckRescues;
      }
      case "semaphore" -> {
        Semaphore semaphore = region.semaphore("wake-semaphore", 2);
        operation[0] =
            () -> {
              int permits = 1 + ThreadLocalRandom.current().nextInt(2);
              semaphore.acquire(permits).join();
              work();
              semaphore.release(permits);
            };
        SemaphoreCore core = (SemaphoreCore) semaphore;
        counters[0] = core::recheckTimeouts;
        counters[1] = core::recheckRescues;
      }
      default -> throw new IllegalArgumentException("no phase " + phase + "; one of " + PHASES);
    }
    long rechecksBefore = counters[0].getAsLong();
    long rescuesBefore = counters[1].getAsLong();
    long end = System.nanoTime() + millis * 1_000_000;
    AtomicLong longest = new AtomicLong();
    AtomicLong over200Millis = new AtomicLong();
    long[] done = new long[threads];
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int index = t;
      workers.add(
          Thread.ofPlatform()
              .name("wake-stress-" + phase + "-" + t)
              .start(
                  () -> {
                    // At least one operation: a thread the loaded host starts after the phase's
                    // end (200 ms in CI) would otherwise count as one that made no progress.
                    do {
                      long start = System.nanoTime();
                      operation[0].run();
                      long took = System.nanoTime() - start;
                      longest.accumulateAndGet(took, Math::max);
                      if (took >= 200_000_000) {
                        over200Millis.incrementAndGet();
                      }
                      done[index]++;
                    } while (System.nanoTime() < end);
                  }));
    }
    for (Thread worker : workers) {
      worker.join();
    }
    long total = 0;
    long fewest = Long.MAX_VALUE;
    for (long n : done) {
      total += n;
      fewest = Math.min(fewest, n);
    }
    return new Result(
        phase,
        total,
        fewest,
        longest.get() / 1_000_000,
        over200Millis.get(),
        counters[0].getAsLong() - rechecksBefore,
        counters[1].getAsLong() - rescuesBefore);
  }

  /** A short critical section: long enough that the others queue, short enough for many rounds. */
  private static void work() {
    long until = System.nanoTime() + 2_000;
    while (System.nanoTime() < until) {
      Thread.onSpinWait();
    }
  }
}
