package dev.ringlock.locks;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.testsupport.Watchdog;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;

/**
 * A child JVM of {@link MutexCrossProcessTest}: increments a plain counter in the region under the
 * shared mutex, through lock() (many futures in flight), asLock() and tryLock() at once, then
 * contends flat out for a while and reports how often it got the lock and its longest wait.
 *
 * <p>Arguments: region file, go file, increments per thread, fence output file, contention millis.
 * Prints READY once the region is open, then waits for the go file (the test makes it once every
 * child is READY, so that their contention overlaps however slowly their JVMs started).
 */
public final class MutexWorker {
  static final int COUNTER_TYPE = 99;
  static final int IN_FLIGHT = 16;

  private MutexWorker() {}

  public static void main(String[] args) throws Exception {
    Path regionFile = Path.of(args[0]);
    Path go = Path.of(args[1]);
    int perThread = Integer.parseInt(args[2]);
    Path fenceFile = Path.of(args[3]);
    long contendMillis = Long.parseLong(args[4]);
    try (SharedRegion region = SharedRegion.open(regionFile);
        MappedRegion raw =
            MappedRegion.open(
                regionFile, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      Mutex mutex = region.mutex("shared");
      MemorySegment counter = counterOf(raw);
      System.out.println("READY");
      System.out.flush();
      while (!Files.exists(go)) {
        Thread.sleep(1);
      }
      Watchdog.start(40_000, mutex::toString);
      ConcurrentLinkedQueue<Long> fences = new ConcurrentLinkedQueue<>();
      List<Thread> threads = new ArrayList<>();
      threads.add(Thread.ofPlatform().start(() -> viaFutures(mutex, counter, perThread, fences)));
      threads.add(Thread.ofVirtual().start(() -> viaLockView(mutex.asLock(), counter, perThread)));
      threads.add(Thread.ofPlatform().start(() -> viaTryLock(mutex, counter, perThread, fences)));
      for (Thread thread : threads) {
        thread.join();
      }
      try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(fenceFile))) {
        fences.forEach(out::println);
      }
      contend(mutex, counter, contendMillis);
    }
  }

  static MemorySegment counterOf(MappedRegion raw) {
    return raw.segment()
        .asSlice(raw.findOrCreate("counter", COUNTER_TYPE, 64, s -> {}).offset(), 8);
  }

  /** Not atomic on purpose: two holders at once would lose increments. */
  static void increment(MemorySegment counter) {
    long value = counter.get(ValueLayout.JAVA_LONG, 0);
    Thread.onSpinWait();
    counter.set(ValueLayout.JAVA_LONG, 0, value + 1);
  }

  private static void viaFutures(
      Mutex mutex, MemorySegment counter, int count, ConcurrentLinkedQueue<Long> fences) {
    for (int done = 0; done < count; done += IN_FLIGHT) {
      List<CompletableFuture<Void>> batch = new ArrayList<>();
      for (int i = 0; i < IN_FLIGHT && done + i < count; i++) {
        batch.add(
            mutex
                .lock()
                .thenAccept(
                    guard -> {
                      try (guard) {
                        increment(counter);
                        fences.add(guard.fence());
                      }
                    }));
      }
      batch.forEach(CompletableFuture::join);
    }
  }

  private static void viaLockView(Lock lock, MemorySegment counter, int count) {
    for (int i = 0; i < count; i++) {
      lock.lock();
      try {
        increment(counter);
      } finally {
        lock.unlock();
      }
    }
  }

  private static void viaTryLock(
      Mutex mutex, MemorySegment counter, int count, ConcurrentLinkedQueue<Long> fences) {
    for (int i = 0; i < count; ) {
      Optional<MutexGuard> guard = mutex.tryLock();
      if (guard.isEmpty()) {
        Thread.yield();
        continue;
      }
      try (MutexGuard held = guard.get()) {
        increment(counter);
        fences.add(held.fence());
      }
      i++;
    }
  }

  /** Flat-out lock/unlock from one thread; prints acquisitions and the longest wait. */
  private static void contend(Mutex mutex, MemorySegment counter, long millis) {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    long acquisitions = 0;
    long longestWait = 0;
    for (long now = System.nanoTime(); now < end; now = System.nanoTime()) {
      CompletableFuture<MutexGuard> request = mutex.lock();
      try {
        request.get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.out.println("STUCK " + mutex + " " + e);
        System.exit(3);
      }
      try (MutexGuard guard = request.join()) {
        longestWait = Math.max(longestWait, System.nanoTime() - now);
        increment(counter);
      }
      acquisitions++;
    }
    System.out.println("CONTENDED " + acquisitions + " " + longestWait);
  }
}
