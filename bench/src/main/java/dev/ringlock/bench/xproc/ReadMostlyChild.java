package dev.ringlock.bench.xproc;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.ReadGuard;
import dev.ringlock.locks.ReadWriteMutex;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.SharedRegion;
import dev.ringlock.locks.WriteGuard;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * One of the processes of the read-mostly loop, rwlock_loop.c's workload on a ringlock {@link
 * ReadWriteMutex} named {@value #NAME}: each operation is a read with probability {@code
 * READ_PERCENT} (the same xorshift64 draw as the C workers, seeded with the pid), until the driver
 * says STOP.
 *
 * <ul>
 *   <li>read: {@code read().join()}, load the control file's two record words and compare them,
 *       unlock;
 *   <li>write: {@code write().join()}, increment both words, unlock.
 * </ul>
 *
 * Acquisition is the async API joined, as the Mutex loop's (one getAndAdd and a completed future
 * for an uncontended read). A read that sees the words differ saw a writer inside.
 *
 * <p>Protocol on stdout: {@code READY} once the lock is open, then after STOP {@code RESULT
 * read-mostly total_ops=N measured_ops=M writes=W torn=T}. The driver checks that the record equals
 * all children's writes and that no read was torn.
 *
 * <p>Arguments: {@code BACKEND CONTROL_FILE REGION_FILE READ_PERCENT} (BACKEND a {@link
 * FutexRing.Backend} name; AUTO uses the process's default ring).
 */
public final class ReadMostlyChild {
  static final String NAME = "bench";

  private ReadMostlyChild() {}

  /** The total and the longest of the queued operations' waits, ns. */
  private static final class QueuedTime {
    long total;
    long max;

    void record(long nanos) {
      total += nanos;
      max = Math.max(max, nanos);
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      throw new IllegalArgumentException(
          "usage: ReadMostlyChild BACKEND CONTROL_FILE REGION_FILE READ_PERCENT");
    }
    FutexRing.Backend backend = FutexRing.Backend.valueOf(args[0]);
    int readPercent = Integer.parseInt(args[3]);
    FutexRing ring =
        backend == FutexRing.Backend.AUTO
            ? null
            : FutexRing.open(FutexRing.options().backend(backend));
    try (ControlFile control = ControlFile.attach(Path.of(args[1]));
        SharedRegion region =
            ring == null
                ? SharedRegion.open(Path.of(args[2]))
                : SharedRegion.open(Path.of(args[2]), RegionOptions.builder().ring(ring).build())) {
      ReadWriteMutex lock = region.readWriteMutex(NAME);
      System.out.println("READY");
      control.awaitStart();
      long random = ProcessHandle.current().pid() ^ 0x9E3779B97F4A7C15L;
      long total = 0;
      long measured = 0;
      long writes = 0;
      long torn = 0;
      // operations of MEASURE (as seen before them) whose future was not complete on return:
      // they queued, and a thread wake-up (at least) granted them
      long measuredWrites = 0;
      long queuedReads = 0;
      long queuedWrites = 0;
      QueuedTime queuedNanos = new QueuedTime(); // how long those waited, from the call's return
      int phase = control.phase();
      do {
        random ^= random << 13;
        random ^= random >>> 7;
        random ^= random << 17;
        boolean waited;
        if (Long.remainderUnsigned(random >>> 32, 100) < readPercent) {
          CompletableFuture<ReadGuard> acquiring = lock.read();
          waited = !acquiring.isDone();
          long queuedAt = waited ? System.nanoTime() : 0;
          ReadGuard guard = acquiring.join();
          if (waited && phase == ControlFile.MEASURE) {
            queuedNanos.record(System.nanoTime() - queuedAt);
          }
          if (control.recordTorn()) {
            torn++;
          }
          guard.unlock();
          if (waited && phase == ControlFile.MEASURE) {
            queuedReads++;
          }
        } else {
          CompletableFuture<WriteGuard> acquiring = lock.write();
          waited = !acquiring.isDone();
          long queuedAt = waited ? System.nanoTime() : 0;
          WriteGuard guard = acquiring.join();
          if (waited && phase == ControlFile.MEASURE) {
            queuedNanos.record(System.nanoTime() - queuedAt);
          }
          control.incrementRecord();
          guard.unlock();
          writes++;
          if (phase == ControlFile.MEASURE) {
            measuredWrites++;
            if (waited) {
              queuedWrites++;
            }
          }
        }
        total++;
        phase = control.phase(); // the operation counts in the phase seen just after it
        if (phase == ControlFile.MEASURE) {
          measured++;
        }
      } while (phase != ControlFile.STOP);
      System.out.println(
          "RESULT read-mostly backend="
              + backend
              + " total_ops="
              + total
              + " measured_ops="
              + measured
              + " writes="
              + writes
              + " torn="
              + torn
              + " measured_writes="
              + measuredWrites
              + " queued_reads="
              + queuedReads
              + " queued_writes="
              + queuedWrites
              + " queued_total_ns="
              + queuedNanos.total
              + " queued_max_ns="
              + queuedNanos.max);
    } finally {
      if (ring != null) {
        ring.close();
      }
    }
  }
}
