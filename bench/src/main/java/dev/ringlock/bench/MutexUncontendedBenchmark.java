package dev.ringlock.bench;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.SharedRegion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Uncontended lock, increment, unlock: a ringlock Mutex in a /dev/shm region (one CAS, an
 * already-completed future, one getAndSet) versus {@link ReentrantLock}. Goal: at most 1.3x.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 2,
    jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class MutexUncontendedBenchmark {
  private Path file;
  private SharedRegion region;
  private Mutex mutex;
  private final ReentrantLock reentrantLock = new ReentrantLock();
  private long counter;

  @Setup(Level.Trial)
  public void open() throws Exception {
    file = Files.createTempFile(BenchFiles.sharedMemoryDirectory(), "ringlock-bench-", ".region");
    Files.delete(file);
    region = SharedRegion.open(file);
    mutex = region.mutex("uncontended");
  }

  @TearDown(Level.Trial)
  public void close() throws Exception {
    region.close();
    Files.deleteIfExists(file);
  }

  @Benchmark
  public long ringlockLock() {
    MutexGuard guard = mutex.lock().join();
    try {
      return ++counter;
    } finally {
      guard.unlock();
    }
  }

  @Benchmark
  public long ringlockTryLock() {
    MutexGuard guard = mutex.tryLock().orElseThrow();
    try {
      return ++counter;
    } finally {
      guard.unlock();
    }
  }

  @Benchmark
  public long reentrantLock() {
    reentrantLock.lock();
    try {
      return ++counter;
    } finally {
      reentrantLock.unlock();
    }
  }
}
