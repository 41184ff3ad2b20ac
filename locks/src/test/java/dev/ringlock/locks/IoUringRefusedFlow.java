package dev.ringlock.locks;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.testsupport.Child;
import dev.ringlock.testsupport.SeccompFilter;
import dev.ringlock.testsupport.Watchdog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A child JVM that installs a seccomp filter refusing io_uring_setup, io_uring_enter and
 * io_uring_register with EPERM, as Docker's and containerd's default profiles do, then runs every
 * primitive on the region at args[0] with no backend asked for (AUTO): contended Mutex and
 * Semaphore, WaitQueue wakes, and a ConditionVariable ping-pong with a grandchild JVM, which
 * inherits the filter. Exits 0 when all of it worked on the syscalls backend; 2 if the filter could
 * not be installed; 1 (with a stack trace) otherwise.
 */
public final class IoUringRefusedFlow {
  private static final int EPERM = 1;

  private IoUringRefusedFlow() {}

  public static void main(String[] args) throws Throwable {
    if (!SeccompFilter.install(EPERM, SeccompFilter.IO_URING_SYSCALLS)) {
      System.exit(SeccompFilter.EXIT_NOT_INSTALLED);
    }
    Watchdog.start(90_000, () -> "the flow under the filter");
    Path file = Path.of(args[0]);
    try (SharedRegion region = SharedRegion.open(file)) {
      if (region.ring().backend() != FutexRing.Backend.SYSCALLS) {
        throw new IllegalStateException("AUTO chose " + region.ring().backend());
      }
      mutexes(region);
      semaphores(region);
      waitQueues(region);
      conditionsWithAGrandchild(region, file);
      System.err.println("every primitive ran on " + region.ring());
    }
    System.exit(0);
  }

  private static void mutexes(SharedRegion region) throws Exception {
    Mutex mutex = region.mutex("flow-mutex");
    int[] counter = new int[1];
    List<CompletableFuture<Void>> workers = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      workers.add(
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < 200; i++) {
                  MutexGuard guard = mutex.lock().join();
                  counter[0]++;
                  guard.unlock();
                }
              },
              runnable -> Thread.ofPlatform().start(runnable)));
    }
    CompletableFuture.allOf(workers.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
    if (counter[0] != 800) {
      throw new IllegalStateException("the mutex let two holders in: " + counter[0]);
    }
  }

  private static void semaphores(SharedRegion region) throws Exception {
    Semaphore semaphore = region.semaphore("flow-semaphore", 2);
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    List<CompletableFuture<Void>> workers = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      workers.add(
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < 100; i++) {
                  semaphore.acquire(1).join();
                  most.accumulateAndGet(inside.incrementAndGet(), Math::max);
                  Thread.onSpinWait();
                  inside.decrementAndGet();
                  semaphore.release(1);
                }
              },
              runnable -> Thread.ofPlatform().start(runnable)));
    }
    CompletableFuture.allOf(workers.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
    if (most.get() > 2 || semaphore.availablePermits() != 2) {
      throw new IllegalStateException("the semaphore let " + most.get() + " in at once");
    }
  }

  private static void waitQueues(SharedRegion region) throws Exception {
    WaitQueue queue = region.waitQueue("flow-queue");
    List<CompletableFuture<Void>> waiters = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      waiters.add(queue.await(i));
    }
    if (queue.wakeUpTo(9) != 10) { // the ten waiters with keys 0..9
      throw new IllegalStateException("wakeUpTo(9) did not find the ten waiters with keys 0..9");
    }
    for (int i = 0; i < 10; i++) {
      waiters.get(i).get(30, TimeUnit.SECONDS);
    }
    if (queue.wakeAll() != 10) {
      throw new IllegalStateException("wakeAll did not find the ten waiters left");
    }
    for (int i = 10; i < 20; i++) {
      waiters.get(i).get(30, TimeUnit.SECONDS);
    }
  }

  private static void conditionsWithAGrandchild(SharedRegion region, Path file) throws Exception {
    Path go = Path.of(file + ".go");
    Path log = Path.of(file + ".grandchild.log");
    try (Child grandchild =
            Child.jvm(ConditionPingPong.class, file.toString(), go.toString(), "1", "100")
                .logTo(log)
                .start();
        MappedRegion raw =
            MappedRegion.open(
                file, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      Files.createFile(go);
      ConditionPingPong.play(region, MutexWorker.counterOf(raw), 0, 100);
      if (!grandchild.waitFor(Duration.ofSeconds(60)) || grandchild.exitValue() != 0) {
        throw new IllegalStateException(
            "the grandchild failed under the inherited filter: " + Files.readString(log));
      }
    } finally {
      Files.deleteIfExists(go);
      Files.deleteIfExists(log);
    }
  }
}
