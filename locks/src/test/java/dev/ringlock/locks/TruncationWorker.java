package dev.ringlock.locks;

import dev.ringlock.core.InvalidRegionException;
import dev.ringlock.core.RingException;
import dev.ringlock.testsupport.Watchdog;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A child JVM of {@link RegionTruncationTest}: runs every primitive's operations in a loop, one
 * thread each, until a stop file appears, while the parent truncates the region file under it. Each
 * outcome is counted: done, failed with InvalidRegionException(TRUNCATED) (wrapped as ringlock
 * wraps damage), timed out as asked, or anything else (an InternalError that leaked, a future that
 * never completed, another exception). Prints one RESULT line per primitive, then exits 0: a SIGBUS
 * would kill it first.
 *
 * <p>Arguments: region file, stop file, truncated-marker file, and "live" (a thread per primitive
 * looping until the stop file appears, through the truncation) or "sequential" (every operation
 * once before the truncation and once after it, on one thread).
 */
public final class TruncationWorker {
  private static final int LOOPING_THREADS = 5;
  private static volatile boolean pauseRequested;
  private static final CountDownLatch paused = new CountDownLatch(LOOPING_THREADS);
  private static final CountDownLatch resume = new CountDownLatch(1);

  private TruncationWorker() {}

  /** An operation that may throw anything, futures included. */
  interface Op {
    void run() throws Exception;
  }

  /** The outcomes of one primitive's operations. */
  static final class Tally {
    final String name;
    final AtomicInteger done = new AtomicInteger();
    final AtomicInteger truncated = new AtomicInteger();
    final AtomicInteger timedOut = new AtomicInteger();
    final AtomicInteger leaked = new AtomicInteger(); // an Error reached the caller
    final AtomicInteger hung = new AtomicInteger(); // a future did not complete in 10 s
    final AtomicInteger other = new AtomicInteger();
    final AtomicReference<String> firstOther = new AtomicReference<>("-");
    final AtomicReference<String> firstTruncated = new AtomicReference<>("-");

    Op[] ops;

    Tally(String name) {
      this.name = name;
    }

    /** Runs {@code op} once and counts how it ended; true if it failed. */
    boolean count(Op op) {
      try {
        op.run();
        done.incrementAndGet();
        return false;
      } catch (FutureStuck stuck) {
        hung.incrementAndGet();
        firstOther.compareAndSet("-", "a future did not complete: " + stuck.getMessage());
      } catch (Throwable thrown) {
        Throwable t = thrown;
        while ((t instanceof ExecutionException || t instanceof CompletionException)
            && t.getCause() != null) {
          t = t.getCause();
        }
        if (t instanceof UncheckedIOException e
            && e.getCause() instanceof InvalidRegionException invalid
            && invalid.problem() == InvalidRegionException.Problem.TRUNCATED) {
          truncated.incrementAndGet();
          firstTruncated.compareAndSet("-", invalid.getMessage());
        } else if (t instanceof TimeoutException) {
          timedOut.incrementAndGet();
        } else if (t instanceof Error) {
          leaked.incrementAndGet();
          if (firstOther.compareAndSet("-", t.toString())) {
            thrown.printStackTrace(System.out); // where it escaped: the log shows it on failure
          }
        } else if (t instanceof RingException || t instanceof UncheckedIOException) {
          // another ringlock failure (a futex wait refused on the vanished page, damage read from
          // a page that faulted half-way): acceptable, but shown
          other.incrementAndGet();
          firstOther.compareAndSet("-", t.toString());
        } else {
          other.incrementAndGet();
          firstOther.compareAndSet("-", t.toString());
        }
      }
      return true;
    }

    String line() {
      return "RESULT %s done=%d truncated=%d timedOut=%d leaked=%d hung=%d other=%d first=%s | %s"
          .formatted(
              name,
              done.get(),
              truncated.get(),
              timedOut.get(),
              leaked.get(),
              hung.get(),
              other.get(),
              firstOther.get().replace('\n', ' '),
              firstTruncated.get().replace('\n', ' '));
    }
  }

  /** A future that did not complete within 10 s: a stranded queue. */
  static final class FutureStuck extends Exception {
    private static final long serialVersionUID = 1L;

    FutureStuck(String what) {
      super(what);
    }
  }

  static <T> T await(CompletableFuture<T> future, String what) throws Exception {
    try {
      return future.get(10, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new FutureStuck(what);
    }
  }

  public static void main(String[] args) throws Exception {
    Path regionFile = Path.of(args[0]);
    Path stop = Path.of(args[1]);
    Path truncated = Path.of(args[2]);
    boolean sequential = args[3].equals("sequential");
    Path pause = Path.of(args[2] + ".pause");
    Watchdog.start(60_000, () -> "truncation worker");
    SharedRegion region = SharedRegion.open(regionFile);
    Mutex mutex = region.mutex("mutex");
    Semaphore semaphore = region.semaphore("semaphore", 4);
    WaitQueue queue = region.waitQueue("queue", 16);
    ConditionVariable condition = region.condition("condition", 16);
    Mutex conditionMutex = region.mutex("condition-mutex");
    Duration brief = Duration.ofMillis(20);
    AtomicInteger names = new AtomicInteger();
    String prefix = "object-" + ProcessHandle.current().pid() + "-";

    List<Tally> tallies = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    Tally mutexes =
        loop(
            tallies,
            threads,
            stop,
            "mutex",
            new Op[] {
              () -> mutex.tryLock().ifPresent(MutexGuard::close),
              () -> await(mutex.lock(brief), "lock").close(),
              () -> mutex.isLocked(),
            });
    Tally semaphores =
        loop(
            tallies,
            threads,
            stop,
            "semaphore",
            new Op[] {
              () -> {
                if (semaphore.tryAcquire(1)) {
                  semaphore.release(1);
                }
              },
              () -> {
                await(semaphore.acquire(1, brief), "acquire");
                semaphore.release(1);
              },
              () -> semaphore.availablePermits(),
            });
    Tally queues =
        loop(
            tallies,
            threads,
            stop,
            "waitQueue",
            new Op[] {
              () -> await(queue.await(1, brief), "await"),
              () -> queue.wake(1),
              () -> queue.waiting(),
            });
    Tally conditions =
        loop(
            tallies,
            threads,
            stop,
            "condition",
            new Op[] {
              () -> {
                MutexGuard guard = await(conditionMutex.lock(), "condition mutex");
                CompletableFuture<MutexGuard> woken;
                try {
                  woken = condition.await(guard, brief); // unlocks the guard once queued
                } catch (RuntimeException e) {
                  try {
                    guard.close(); // refused before queueing: the guard is still held
                  } catch (RuntimeException also) {
                    e.addSuppressed(also);
                  }
                  throw e;
                }
                await(woken, "condition await").close(); // re-acquired, signalled or timed out
              },
              () -> condition.signalAll(),
              () -> condition.waiting(),
            });
    Tally lookups =
        loop(
            tallies,
            threads,
            stop,
            "region",
            new Op[] {
              () -> {
                if (names.get() < 300) {
                  region.mutex(prefix + names.incrementAndGet()); // a directory insert
                } else {
                  // a lookup the cache cannot answer: the newest mutex's name asked for as a
                  // semaphore reads the directory up to its entry, far past the first page
                  try {
                    region.semaphore(prefix + 300, 1);
                  } catch (IllegalArgumentException expected) {
                    // "already exists as a mutex": the directory was read
                  }
                }
              },
            });
    if (sequential) {
      // Every operation once before the truncation and once after it, on this thread: no
      // operation is under way when the file shrinks, so each one's first access to the region
      // comes after it, deterministically. (Started only once the parent has truncated.)
      for (Tally tally : tallies) {
        for (Op op : tally.ops) {
          tally.count(op);
        }
      }
      System.out.println("READY " + System.nanoTime() / 1_000_000);
      while (!Files.exists(truncated)) {
        Thread.sleep(5);
      }
      for (Tally tally : tallies) {
        for (Op op : tally.ops) {
          tally.count(op);
        }
      }
    } else {
      // Held across the truncation: released (refused) after it.
      Tally held = new Tally("held");
      Mutex heldMutex = region.mutex("held");
      Semaphore heldPermits = region.semaphore("held-permits", 1);
      AtomicReference<MutexGuard> guard = new AtomicReference<>();
      held.count(() -> guard.set(heldMutex.tryLock().orElseThrow()));
      held.count(
          () -> {
            if (!heldPermits.tryAcquire(1)) {
              throw new IllegalStateException("no permit");
            }
          });
      tallies.add(held);
      threads.forEach(Thread::start);
      System.out.println("READY " + System.nanoTime() / 1_000_000);
      while (!Files.exists(pause)) {
        Thread.sleep(5);
      }
      // Every thread finishes the operation it is in and waits: no access to the region is under
      // way when the file shrinks. One that is, between its read and its CAS, dies of SIGBUS; no
      // Java code can close that instant (see docs/validation.md), so the test avoids it.
      pauseRequested = true;
      paused.await();
      System.out.println("PAUSED " + System.nanoTime() / 1_000_000);
      while (!Files.exists(truncated)) {
        Thread.sleep(5);
      }
      resume.countDown();
      held.count(() -> guard.get().unlock());
      held.count(() -> heldPermits.release(1));
      for (Thread thread : threads) {
        thread.join();
      }
    }
    System.out.println("STOPPED " + System.nanoTime() / 1_000_000);
    for (Tally tally : tallies) {
      System.out.println(tally.line());
    }
    try {
      region.close();
      System.out.println("CLOSED");
    } catch (Throwable t) {
      System.out.println("CLOSE FAILED " + t); // bounded close is not this test's point
    }
    System.out.flush();
    System.exit(0);
  }

  private static Tally loop(
      List<Tally> tallies, List<Thread> threads, Path stop, String name, Op[] ops) {
    Tally tally = new Tally(name);
    tally.ops = ops;
    tallies.add(tally);
    threads.add(
        Thread.ofPlatform()
            .name(name)
            .unstarted(
                () -> {
                  boolean waited = false;
                  for (int i = 0; !Files.exists(stop); i++) {
                    tally.count(ops[i % ops.length]);
                    try {
                      if (pauseRequested && !waited) {
                        waited = true;
                        paused.countDown();
                        resume.await(); // the file shrinks meanwhile
                      }
                      Thread.sleep(1); // leave the 2 cores to the other worker
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                }));
    return tally;
  }
}
