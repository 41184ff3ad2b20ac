package dev.ringlock.bench;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.SharedRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Uncontended lock, increment, unlock: a ringlock Mutex in a /dev/shm region (the word's CAS, an
 * already-completed future, the release's one 64-bit CAS of the word and its hold tag) versus
 * {@link ReentrantLock}. Goal: at most 1.3x.
 *
 * <p>{@link #mappedWordOnly} is the floor under any lock whose word lives in a mapped file: the CAS
 * that takes the word and the getAndSet that frees it (and reads a waiters bit), through the same
 * memory-segment var handle, with nothing else: no guard, no future, no fairness check.
 *
 * <p>{@link #backend} is the backend of the region's ring: {@code AUTO} (the default ring, io_uring
 * where it works) or a forced {@code IO_URING} or {@code SYSCALLS} ({@code -p backend=SYSCALLS}).
 * No backend is on the uncontended path, so the ringlock rows must not move with it: the benchmark
 * suite compares the two as the goal "uncontended lock: unchanged". The other methods ignore it.
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
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  private static final int WAITERS = 1 << 30;

  @Param({"AUTO"})
  public String backend;

  private FutexRing ring; // the region's own ring when a backend is forced, else null
  private SharedRegion region;
  private Mutex mutex;
  private final ReentrantLock reentrantLock = new ReentrantLock();
  private final int pid = (int) ProcessHandle.current().pid();
  private Arena arena;
  private MemorySegment mappedWord;
  private long counter;

  @Setup(Level.Trial)
  public void open() throws Exception {
    ring = BenchFiles.openRing(backend);
    region =
        BenchFiles.openRegion(
            ring == null ? RegionOptions.defaults() : RegionOptions.builder().ring(ring).build());
    mutex = region.mutex("uncontended");
    arena = Arena.ofShared(); // as a region maps its file
    mappedWord = BenchFiles.mapScratch(Integer.BYTES, arena);
  }

  @TearDown(Level.Trial)
  public void close() throws Exception {
    region.close();
    if (ring != null) {
      ring.close();
    }
    arena.close();
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
  public long mappedWordOnly() {
    if (!INT.compareAndSet(mappedWord, 0L, 0, pid)) {
      throw new IllegalStateException("the word is not free: nothing else takes it");
    }
    try {
      return ++counter;
    } finally {
      if (((int) INT.getAndSet(mappedWord, 0L, 0) & WAITERS) != 0) {
        throw new IllegalStateException("nobody waits here");
      }
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
