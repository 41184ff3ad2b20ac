package dev.ringlock.bench;

import com.ibm.asyncutil.locks.FairAsyncSemaphore;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.Semaphore;
import dev.ringlock.locks.SemaphoreOptions;
import dev.ringlock.locks.SharedRegion;
import dev.ringlock.locks.internal.HolderTable;
import dev.ringlock.locks.internal.SemaphoreDescriptor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
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
 * A ringlock Semaphore (in a /dev/shm region) versus {@link java.util.concurrent.Semaphore} and IBM
 * async-util's FairAsyncSemaphore, in one run so the ratios compare.
 *
 * <ul>
 *   <li>{@code uncontended*}: one thread acquires 1 permit of 4, increments, releases (average time
 *       per operation). ringlock: one CAS of the word and a shared completed future each way, and
 *       one CAS of this process's holder entry each way (undo on exit, the default); the {@code
 *       *WithoutUndo} rows are a semaphore created with undo on exit off, which has no holder
 *       entry, so the difference is what recording the holding costs. {@code
 *       uncontendedMappedProtocolOnly} is the floor under the undo protocol: the ten accesses an
 *       uncontended acquire(1) + release(1) make to a semaphore object (SemaphoreUndo's moves: the
 *       word read, the entry read and CASed BUSY, the word's CAS, the entry stored; the release
 *       alike), in the same order and modes, on a mapping of the object's layout, and nothing else.
 *   <li>{@code contended*}: {@code tasks} tasks on 2 threads, each acquiring 1 of {@code permits}
 *       permits, incrementing a counter and releasing, as in {@link AsyncContentionBenchmark} (one
 *       operation is the whole batch; throughput). ringlock and IBM complete futures and release in
 *       the continuation; java.util.concurrent.Semaphore blocks virtual threads on 2 carriers.
 *       {@code contendedRinglockWithoutUndo} is the same batch on a semaphore without undo on exit.
 * </ul>
 *
 * (JMH reports both modes in one table; compare rows of the same mode.)
 */
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--enable-native-access=ALL-UNNAMED",
      "-Djdk.virtualThreadScheduler.parallelism=2",
      "-Djdk.virtualThreadScheduler.maxPoolSize=2"
    })
public class SemaphoreBenchmark {
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
  private static final long BUSY = HolderTable.entry(SemaphoreDescriptor.HOLDER_BUSY, 0);
  private static final long ENTRY = SemaphoreDescriptor.holderOffset(0);

  @Param({"1000"})
  public int tasks;

  @Param({"1"})
  public int permits;

  private ExecutorService twoThreads;
  private SharedRegion region;
  private Semaphore uncontended;
  private Semaphore uncontendedWithoutUndo;
  private Semaphore contended;
  private Semaphore contendedWithoutUndo;
  private final java.util.concurrent.Semaphore jucUncontended =
      new java.util.concurrent.Semaphore(4);
  private java.util.concurrent.Semaphore jucContended;
  private final FairAsyncSemaphore ibmUncontended = new FairAsyncSemaphore(4);
  private FairAsyncSemaphore ibmContended;
  private long counter;
  private final int pid = (int) ProcessHandle.current().pid();
  private Arena arena;
  private MemorySegment mappedSemaphore; // a semaphore object's bytes, for the protocol floor
  private int heldHere; // the permits the floor's entry records, as HolderTable keeps them

  @Setup(Level.Trial)
  public void open() throws Exception {
    arena = Arena.ofShared(); // as a region maps its file
    mappedSemaphore = BenchFiles.mapScratch(SemaphoreDescriptor.SIZE, arena);
    INT.setVolatile(mappedSemaphore, SemaphoreDescriptor.WORD_OFFSET, 4);
    LONG.setVolatile(mappedSemaphore, ENTRY, HolderTable.entry(pid, 0));
    twoThreads = Executors.newFixedThreadPool(2);
    region = BenchFiles.openRegion(RegionOptions.defaults());
    uncontended = region.semaphore("uncontended", 4);
    uncontendedWithoutUndo =
        region.semaphore(
            "uncontended-without-undo", 4, SemaphoreOptions.builder().undoOnExit(false).build());
    contended = region.semaphore("contended", permits);
    contendedWithoutUndo =
        region.semaphore(
            "contended-without-undo",
            permits,
            SemaphoreOptions.builder().undoOnExit(false).build());
    jucContended = new java.util.concurrent.Semaphore(permits);
    ibmContended = new FairAsyncSemaphore(permits);
  }

  @TearDown(Level.Trial)
  public void close() throws Exception {
    twoThreads.shutdown();
    region.close();
    arena.close();
  }

  // ---- uncontended: one thread ----

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public long uncontendedRinglockAcquire() {
    return acquireIncrementRelease(uncontended);
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public long uncontendedRinglockTryAcquire() {
    return tryAcquireIncrementRelease(uncontended);
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public long uncontendedRinglockAcquireWithoutUndo() {
    return acquireIncrementRelease(uncontendedWithoutUndo);
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public long uncontendedRinglockTryAcquireWithoutUndo() {
    return tryAcquireIncrementRelease(uncontendedWithoutUndo);
  }

  private long acquireIncrementRelease(Semaphore semaphore) {
    semaphore.acquire(1).join();
    try {
      return ++counter;
    } finally {
      semaphore.release(1);
    }
  }

  private long tryAcquireIncrementRelease(Semaphore semaphore) {
    if (!semaphore.tryAcquire(1)) {
      throw new IllegalStateException("uncontended tryAcquire failed");
    }
    try {
      return ++counter;
    } finally {
      semaphore.release(1);
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public long uncontendedMappedProtocolOnly() {
    MemorySegment object = mappedSemaphore;
    int v = (int) INT.getVolatile(object, SemaphoreDescriptor.WORD_OFFSET);
    if ((v & SemaphoreDescriptor.REPAIR) != 0 || (v & SemaphoreDescriptor.UNDO_PERMITS_MASK) < 1) {
      throw new IllegalStateException("the permits are there: nothing else takes them");
    }
    lockEntry(object);
    if (!INT.compareAndSet(object, SemaphoreDescriptor.WORD_OFFSET, v, v - 1)) {
      throw new IllegalStateException("nothing else moves the word");
    }
    LONG.setRelease(object, ENTRY, HolderTable.entry(pid, ++heldHere));
    try {
      return ++counter;
    } finally {
      lockEntry(object);
      int old = (int) INT.getVolatile(object, SemaphoreDescriptor.WORD_OFFSET);
      if ((old & SemaphoreDescriptor.REPAIR) != 0
          || !INT.compareAndSet(
              object,
              SemaphoreDescriptor.WORD_OFFSET,
              old,
              (old & SemaphoreDescriptor.UNDO_PERMITS_MASK) + 1)) {
        throw new IllegalStateException("nothing else moves the word");
      }
      LONG.setRelease(object, ENTRY, HolderTable.entry(pid, --heldHere));
    }
  }

  /** HolderTable.lockMine's uncontended step: the entry as this view left it, read, then BUSY. */
  private void lockEntry(MemorySegment object) {
    long mine = HolderTable.entry(pid, heldHere);
    if ((long) LONG.getVolatile(object, ENTRY) != mine
        || !LONG.compareAndSet(object, ENTRY, mine, mine | BUSY)) {
      throw new IllegalStateException("the entry is this method's: nothing else locks it");
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public long uncontendedJucSemaphore() throws InterruptedException {
    jucUncontended.acquire(1);
    try {
      return ++counter;
    } finally {
      jucUncontended.release(1);
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public long uncontendedIbmFairAsyncSemaphore() {
    ibmUncontended.acquire(1).toCompletableFuture().join();
    try {
      return ++counter;
    } finally {
      ibmUncontended.release(1);
    }
  }

  // ---- contended: tasks on two threads ----

  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public long contendedRinglock() {
    return contendedBatch(contended);
  }

  /**
   * The contended batch on a semaphore without undo on exit: the difference from {@link
   * #contendedRinglock} is what recording each task's two moves in the holder entry costs.
   */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public long contendedRinglockWithoutUndo() {
    return contendedBatch(contendedWithoutUndo);
  }

  /** One batch on a ringlock semaphore: both ringlock rows run exactly this code. */
  private long contendedBatch(Semaphore semaphore) {
    AsyncBatch.run(
        twoThreads,
        tasks,
        () -> semaphore.acquire(1),
        acquired -> {
          counter++;
          semaphore.release(1);
        });
    return counter;
  }

  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public long contendedIbmFairAsyncSemaphore() {
    AsyncBatch.run(
        twoThreads,
        tasks,
        () -> ibmContended.acquire(1),
        acquired -> {
          counter++;
          ibmContended.release(1);
        });
    return counter;
  }

  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public long contendedJucSemaphoreOnVirtualThreads() throws InterruptedException {
    CountDownLatch done = new CountDownLatch(tasks);
    for (int i = 0; i < tasks; i++) {
      Thread.startVirtualThread(
          () -> {
            jucContended.acquireUninterruptibly(1);
            try {
              counter++;
            } finally {
              jucContended.release(1);
            }
            done.countDown();
          });
    }
    done.await();
    return counter;
  }
}
