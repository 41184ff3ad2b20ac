package dev.ringlock.bench;

import com.ibm.asyncutil.locks.AsyncReadWriteLock;
import com.ibm.asyncutil.locks.FairAsyncReadWriteLock;
import dev.ringlock.locks.ReadGuard;
import dev.ringlock.locks.ReadWriteMutex;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.SharedRegion;
import dev.ringlock.locks.WriteGuard;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The read-write mutex in one process (issue 18): a ringlock {@link ReadWriteMutex} in a /dev/shm
 * region against {@link ReentrantReadWriteLock} and IBM async-util's {@link
 * FairAsyncReadWriteLock}.
 *
 * <ul>
 *   <li>{@code *UncontendedRead}, {@code *UncontendedWrite}: one thread; goal: ringlock's read at
 *       most 1.5x ReentrantReadWriteLock's read lock (docs/read-write-mutex.md, "What a read
 *       costs": the locked instructions and the allocation, inlined and not). {@code
 *       ringlockUncontendedReadEscaping} is the same read with a guard that escapes.
 *   <li>{@code *Mixed}: two threads, each op a read with probability {@code readPercent} (95:
 *       read-mostly; 50), a short critical section; throughput, so higher is better. Goal:
 *       read-mostly at least IBM's. The async locks are joined (platform threads, as JMH's).
 * </ul>
 *
 * Run: {@code java -jar bench/target/benchmarks.jar ReadWriteMutexBenchmark}.
 */
public class ReadWriteMutexBenchmark {
  /** One lock of each kind, shared by the threads of a trial. */
  @State(Scope.Benchmark)
  public static class Locks {
    @Param({"95"})
    public int readPercent;

    SharedRegion region;
    ReadWriteMutex ringlock;
    final ReentrantReadWriteLock reentrant = new ReentrantReadWriteLock();
    final AsyncReadWriteLock ibm = new FairAsyncReadWriteLock();
    long shared; // read under the read locks, written under the write locks

    @Setup(Level.Trial)
    public void open() throws Exception {
      region = BenchFiles.openRegion(RegionOptions.defaults());
      ringlock = region.readWriteMutex("rw");
    }

    @TearDown(Level.Trial)
    public void close() {
      region.close();
    }
  }

  /** Each thread's own choice of reads and writes. */
  @State(Scope.Thread)
  public static class Choice {
    private final SplittableRandom random = new SplittableRandom();

    boolean read(Locks locks) {
      return random.nextInt(100) < locks.readPercent;
    }
  }

  // ---- uncontended, one thread ----

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  @Warmup(iterations = 3, time = 1)
  @Measurement(iterations = 5, time = 1)
  @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
  public long ringlockUncontendedRead(Locks locks) {
    ReadGuard guard = locks.ringlock.read().join();
    try {
      return locks.shared;
    } finally {
      guard.unlock();
    }
  }

  /** Where the guard outlives the method: kept in a field, as async code hands it on. */
  @State(Scope.Thread)
  public static class Kept {
    ReadGuard guard;
  }

  /**
   * As ringlockUncontendedRead, but the guard escapes (stored in a field before its unlock), so the
   * JIT cannot remove it: what a read costs where the guard is handed on (a continuation, another
   * thread), not unlocked in the method that took it.
   */
  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  @Warmup(iterations = 3, time = 1)
  @Measurement(iterations = 5, time = 1)
  @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
  public long ringlockUncontendedReadEscaping(Locks locks, Kept kept) {
    kept.guard = locks.ringlock.read().join();
    try {
      return locks.shared;
    } finally {
      kept.guard.unlock();
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  @Warmup(iterations = 3, time = 1)
  @Measurement(iterations = 5, time = 1)
  @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
  public long reentrantUncontendedRead(Locks locks) {
    locks.reentrant.readLock().lock();
    try {
      return locks.shared;
    } finally {
      locks.reentrant.readLock().unlock();
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  @Warmup(iterations = 3, time = 1)
  @Measurement(iterations = 5, time = 1)
  @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
  public long ibmUncontendedRead(Locks locks) {
    AsyncReadWriteLock.ReadLockToken token =
        locks.ibm.acquireReadLock().toCompletableFuture().join();
    try {
      return locks.shared;
    } finally {
      token.releaseLock();
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  @Warmup(iterations = 3, time = 1)
  @Measurement(iterations = 5, time = 1)
  @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
  public long ringlockUncontendedWrite(Locks locks) {
    WriteGuard guard = locks.ringlock.write().join();
    try {
      return ++locks.shared;
    } finally {
      guard.unlock();
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  @Warmup(iterations = 3, time = 1)
  @Measurement(iterations = 5, time = 1)
  @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
  public long reentrantUncontendedWrite(Locks locks) {
    locks.reentrant.writeLock().lock();
    try {
      return ++locks.shared;
    } finally {
      locks.reentrant.writeLock().unlock();
    }
  }

  // ---- mixed, two threads ----

  @Benchmark
  @Threads(2)
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  @Warmup(iterations = 3, time = 1)
  @Measurement(iterations = 5, time = 1)
  @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
  public long ringlockMixed(Locks locks, Choice choice) {
    if (choice.read(locks)) {
      ReadGuard guard = locks.ringlock.read().join();
      try {
        return locks.shared;
      } finally {
        guard.unlock();
      }
    }
    WriteGuard guard = locks.ringlock.write().join();
    try {
      return ++locks.shared;
    } finally {
      guard.unlock();
    }
  }

  @Benchmark
  @Threads(2)
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  @Warmup(iterations = 3, time = 1)
  @Measurement(iterations = 5, time = 1)
  @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
  public long reentrantMixed(Locks locks, Choice choice) {
    if (choice.read(locks)) {
      locks.reentrant.readLock().lock();
      try {
        return locks.shared;
      } finally {
        locks.reentrant.readLock().unlock();
      }
    }
    locks.reentrant.writeLock().lock();
    try {
      return ++locks.shared;
    } finally {
      locks.reentrant.writeLock().unlock();
    }
  }

  @Benchmark
  @Threads(2)
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  @Warmup(iterations = 3, time = 1)
  @Measurement(iterations = 5, time = 1)
  @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
  public long ibmMixed(Locks locks, Choice choice) {
    if (choice.read(locks)) {
      AsyncReadWriteLock.ReadLockToken token =
          locks.ibm.acquireReadLock().toCompletableFuture().join();
      try {
        return locks.shared;
      } finally {
        token.releaseLock();
      }
    }
    AsyncReadWriteLock.WriteLockToken token =
        locks.ibm.acquireWriteLock().toCompletableFuture().join();
    try {
      return ++locks.shared;
    } finally {
      token.releaseLock();
    }
  }
}
