package dev.ringlock.locks;

import dev.ringlock.testsupport.Child;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A child JVM that measures what an uncontended mutex acquisition and release allocate once
 * compiled, for {@link MutexReleaseClaimTest}: a fresh JVM, so that no other test's use of the
 * mutex (queued requests, handoffs) has shaped the JIT's profile of these paths.
 *
 * <p>Arguments: region file, then optionally {@code compiled-first} and {@code read}. With {@code
 * compiled-first}, before measuring, tryLock() and lock() are called from {@link #compileFirst},
 * which the parent excludes from compilation (with background compilation off), so that C2 compiles
 * them on their own before any caller, as JMH's fork does; their caller is then compiled after
 * them, and inlines them only if they are small enough (InlineSmallCode). With {@code read} it
 * measures a read-write mutex's read instead (ReadWriteMutexTest), compiled first if asked: read()
 * and unlock() compiled on their own are each just under InlineSmallCode, so this pins that margin.
 * Prints {@code TRYLOCK <bytes per op>} and {@code LOCKJOIN <bytes per op>} (or {@code READJOIN
 * <bytes per op>}), the least over rounds of 20,000 operations, which end at the first round under
 * 0.1 byte per operation (a round after compilation reads about 0 if the JIT scalar-replaced
 * everything), else after 40 rounds and 40 s, then exits. Each figure is followed by how many
 * rounds and milliseconds it took, so that a failure says whether the compiled code arrived late or
 * allocates.
 */
public final class UncontendedAllocationChild {
  /** How long the parent waits for one figure: the 40 s a figure may take, and the JVM's start. */
  static final Duration MEASURING = Duration.ofSeconds(60);

  private UncontendedAllocationChild() {}

  /**
   * This child in the order JMH's fork compiles (the {@code compiled-first} argument added): {@link
   * #compileFirst} excluded from compilation, background compilation off, so that the measured
   * paths are compiled on their own before their caller.
   */
  static Child.Builder compiledFirst(String... arguments) {
    String[] withMode = Arrays.copyOf(arguments, arguments.length + 1);
    withMode[arguments.length] = "compiled-first";
    return Child.jvm(UncontendedAllocationChild.class, withMode)
        .jvmOptions(
            "-XX:-BackgroundCompilation",
            "-XX:CompileCommand=quiet",
            "-XX:CompileCommand=exclude,"
                + UncontendedAllocationChild.class.getName()
                + "::compileFirst");
  }

  public static void main(String[] args) throws Exception {
    try (SharedRegion region = SharedRegion.open(Path.of(args[0]))) {
      List<String> options = List.of(args).subList(1, args.length);
      boolean compiledFirst = options.contains("compiled-first");
      if (options.contains("read")) {
        ReadWriteMutex lock = region.readWriteMutex("allocation");
        if (compiledFirst) {
          compileFirst(lock);
        }
        System.out.println(
            "READJOIN " + leastBytesPerOperationAndRounds(() -> readJoinAndUnlock(lock)));
        return;
      }
      Mutex mutex = region.mutex("allocation");
      if (compiledFirst) {
        compileFirst(mutex);
      }
      System.out.println(
          "TRYLOCK " + leastBytesPerOperationAndRounds(() -> tryLockAndUnlock(mutex)));
      System.out.println(
          "LOCKJOIN " + leastBytesPerOperationAndRounds(() -> lockJoinAndUnlock(mutex)));
    }
  }

  /**
   * Calls tryLock() and lock() often enough for C2 to compile each on its own (interpreted itself:
   * the parent excludes it, so it inlines nothing and the calls reach the compiled methods).
   */
  private static void compileFirst(Mutex mutex) {
    for (int i = 0; i < 50_000; i++) {
      mutex.tryLock().orElseThrow().unlock();
      mutex.lock().join().unlock();
    }
  }

  /** As {@link #compileFirst(Mutex)}, for read() and the read guard's unlock(). */
  private static void compileFirst(ReadWriteMutex lock) {
    for (int i = 0; i < 50_000; i++) {
      lock.read().join().unlock();
    }
  }

  private static long tryLockAndUnlock(Mutex mutex) {
    MutexGuard guard = mutex.tryLock().orElseThrow();
    long fence = guard.fence();
    guard.unlock();
    return fence;
  }

  private static long lockJoinAndUnlock(Mutex mutex) {
    CompletableFuture<MutexGuard> lock = mutex.lock();
    MutexGuard guard = lock.join();
    long fence = guard.fence();
    guard.unlock();
    return fence;
  }

  private static long readJoinAndUnlock(ReadWriteMutex lock) {
    ReadGuard guard = lock.read().join();
    try {
      return 1;
    } finally {
      guard.unlock();
    }
  }

  private static String leastBytesPerOperationAndRounds(LongSupplier operation) throws Exception {
    LongSupplier allocated = allocatedBytesOfCurrentThread();
    int perRound = 20_000;
    double least = Double.MAX_VALUE;
    long sink = 0;
    // Rounds until one allocates (next to) nothing, for up to 40 s: on a loaded machine the
    // compiled code that scalar-replaces the objects can take seconds to arrive (the compiler
    // threads wait too; 20 s was once not enough in a full build beside other builds), and a
    // round that the compiled code reached only partway reads a fraction of a byte per operation.
    // The counter's own reflective read boxes a few bytes per round.
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(40);
    int round = 0;
    for (; least >= 0.1 && (round < 40 || System.nanoTime() < deadline); round++) {
      long before = allocated.getAsLong();
      for (int i = 0; i < perRound; i++) {
        sink += operation.getAsLong();
      }
      long after = allocated.getAsLong();
      least = Math.min(least, (after - before) / (double) perRound);
    }
    if (sink <= 0) {
      throw new AssertionError("fences are positive");
    }
    return least
        + " rounds="
        + round
        + " ms="
        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  /**
   * HotSpot's per-thread allocation counter (com.sun.management.ThreadMXBean), reached by
   * reflection: this test module does not read java.management, and reflection needs no reads.
   */
  private static LongSupplier allocatedBytesOfCurrentThread() throws Exception {
    Object bean =
        Class.forName("java.lang.management.ManagementFactory")
            .getMethod("getThreadMXBean")
            .invoke(null);
    Method allocated =
        Class.forName("com.sun.management.ThreadMXBean")
            .getMethod("getCurrentThreadAllocatedBytes");
    return () -> {
      try {
        return (long) allocated.invoke(bean);
      } catch (ReflectiveOperationException e) {
        throw new AssertionError("the allocation counter of a HotSpot thread MX bean", e);
      }
    };
  }
}
