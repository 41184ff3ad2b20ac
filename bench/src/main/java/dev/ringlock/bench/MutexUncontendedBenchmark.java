package dev.ringlock.bench;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.SharedRegion;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.MutexWords;
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
 * <p>{@link #mappedProtocolOnly} is the floor under ringlock's own protocol: the eight accesses an
 * uncontended lock + unlock makes to a mutex object (MutexOwnership's overview), in the same order
 * and access modes, on a mapped object of the same layout, with nothing else: the starving
 * summary's load, the hold and the fence read, the hold's 64-bit CAS with the new tag, the fence
 * stored; then the fence and the hold read again and the release's 64-bit CAS. What ringlockLock
 * costs above it is the library's code around the protocol (the guard, the future, the queue and
 * closed checks, the stats count); what it costs above mappedWordOnly is the protocol's: the
 * fairness bound, the fence, and a stale or double unlock refused.
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
  private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
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
  private MemorySegment mappedMutex; // a mutex object's bytes, for mappedProtocolOnly
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
    mappedMutex = BenchFiles.mapScratch(MutexDescriptor.SIZE, arena);
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
  public long mappedProtocolOnly() {
    MemorySegment object = mappedMutex;
    if ((int) INT.getVolatile(object, MutexDescriptor.STARVING_SUMMARY_OFFSET) != 0) {
      throw new IllegalStateException("nobody starves here");
    }
    long hold = (long) LONG.getVolatile(object, MutexDescriptor.WORD_OFFSET);
    long recorded = (long) LONG.getAcquire(object, MutexDescriptor.FENCE_OFFSET);
    int ahead = MutexWords.holdTagOf(hold) - (int) recorded;
    long fence = recorded + ahead + 1;
    if (MutexWords.wordOf(hold) != 0
        || (ahead & ~1) != 0
        || !LONG.compareAndSet(
            object, MutexDescriptor.WORD_OFFSET, hold, MutexWords.hold(pid, (int) fence))) {
      throw new IllegalStateException("the word is not free: nothing else takes it");
    }
    LONG.setRelease(object, MutexDescriptor.FENCE_OFFSET, fence);
    try {
      return ++counter;
    } finally {
      long drawn = (long) LONG.getAcquire(object, MutexDescriptor.FENCE_OFFSET);
      long held = (long) LONG.getVolatile(object, MutexDescriptor.WORD_OFFSET);
      if (drawn != fence
          || MutexWords.holdTagOf(held) != (int) fence
          || !LONG.compareAndSet(
              object, MutexDescriptor.WORD_OFFSET, held, MutexWords.hold(0, (int) fence + 1))) {
        throw new IllegalStateException("the hold is this method's: nothing else releases it");
      }
      if ((MutexWords.wordOf(held) & WAITERS) != 0) {
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
