package dev.ringlock.bench;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.SharedRegion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one handover to a waiter in the same process: {@value #WAITERS} lock() futures queue
 * behind a holder, each continuation unlocks, and the score is the time per handover. With {@code
 * localHandoff} the release completes the next future directly; without it every handover is a
 * FUTEX_WAKE, a wake-up of the sleeping FUTEX_WAIT and a completion through the ring.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class MutexHandoffBenchmark {
  static final int WAITERS = 100;

  @Param({"true", "false"})
  public boolean localHandoff;

  private Path file;
  private SharedRegion region;
  private Mutex mutex;
  private final CompletableFuture<?>[] handed = new CompletableFuture<?>[WAITERS];

  @Setup(Level.Trial)
  public void open() throws Exception {
    file = Files.createTempFile(BenchFiles.sharedMemoryDirectory(), "ringlock-bench-", ".region");
    Files.delete(file);
    region = SharedRegion.open(file, RegionOptions.builder().localHandoff(localHandoff).build());
    mutex = region.mutex("handoff");
  }

  @TearDown(Level.Trial)
  public void close() throws Exception {
    region.close();
    Files.deleteIfExists(file);
  }

  @Benchmark
  @OperationsPerInvocation(WAITERS)
  public void handOver() {
    MutexGuard first = mutex.lock().join();
    for (int i = 0; i < WAITERS; i++) {
      handed[i] = mutex.lock().thenAccept(MutexGuard::unlock);
    }
    first.unlock();
    CompletableFuture.allOf(handed).join();
  }
}
