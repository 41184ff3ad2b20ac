package dev.ringlock.bench;

import com.ibm.asyncutil.locks.AsyncLock;
import com.ibm.asyncutil.locks.FairAsyncLock;
import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.SharedRegion;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
 * {@code tasks} tasks on 2 threads, each taking one lock, incrementing a counter and releasing: one
 * operation is the whole batch. A ringlock Mutex (async, futures) versus IBM async-util's
 * FairAsyncLock (async, in-heap queue) and ReentrantLock on virtual threads (blocking; the
 * virtual-thread scheduler gets 2 carriers). Goal: ringlock at least their throughput.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--enable-native-access=ALL-UNNAMED",
      "-Djdk.virtualThreadScheduler.parallelism=2",
      "-Djdk.virtualThreadScheduler.maxPoolSize=2"
    })
public class AsyncContentionBenchmark {
  @Param({"1000"})
  public int tasks;

  private ExecutorService twoThreads;
  private SharedRegion region;
  private Mutex mutex;
  private final FairAsyncLock fairAsyncLock = new FairAsyncLock();
  private final ReentrantLock reentrantLock = new ReentrantLock();
  private long counter;

  @Setup(Level.Trial)
  public void open() throws Exception {
    twoThreads = Executors.newFixedThreadPool(2);
    region = BenchFiles.openRegion(RegionOptions.defaults());
    mutex = region.mutex("contended");
  }

  @TearDown(Level.Trial)
  public void close() throws Exception {
    twoThreads.shutdown();
    region.close();
  }

  @Benchmark
  public long ringlockMutex() {
    AsyncBatch.run(
        twoThreads,
        tasks,
        mutex::lock,
        guard -> {
          counter++;
          guard.unlock();
        });
    return counter;
  }

  @Benchmark
  public long fairAsyncLock() {
    AsyncBatch.run(
        twoThreads,
        tasks,
        fairAsyncLock::acquireLock,
        (AsyncLock.LockToken token) -> {
          counter++;
          token.releaseLock();
        });
    return counter;
  }

  @Benchmark
  public long reentrantLockOnVirtualThreads() throws InterruptedException {
    CountDownLatch done = new CountDownLatch(tasks);
    for (int i = 0; i < tasks; i++) {
      Thread.startVirtualThread(
          () -> {
            reentrantLock.lock();
            try {
              counter++;
            } finally {
              reentrantLock.unlock();
            }
            done.countDown();
          });
    }
    done.await();
    return counter;
  }
}
