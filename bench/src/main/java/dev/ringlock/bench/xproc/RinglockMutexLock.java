package dev.ringlock.bench.xproc;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.SharedRegion;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * The ringlock {@link Mutex} named {@value #NAME} in a region file that both children open
 * (whichever comes first creates it), with the default options. Acquisition is the async API
 * joined: {@code mutex.lock().join()}, which is one CAS and a completed future when uncontended;
 * release is {@link MutexGuard#close()}.
 *
 * <p>With {@code stampGrants}, each contended acquisition also notes when the ring's completion
 * thread granted it (a continuation stamps the time), so the handoff benchmark can tell the
 * handover itself from the joined thread's wake-up that follows it.
 */
final class RinglockMutexLock implements ContendedLock {
  static final String NAME = "bench";

  private final SharedRegion region;
  private final Mutex mutex;
  private final boolean stampGrants;
  private MutexGuard guard; // null when not held
  private volatile long grantedAt; // 0 until the grant's continuation ran

  RinglockMutexLock(Path regionFile) throws IOException {
    this(regionFile, false);
  }

  RinglockMutexLock(Path regionFile, boolean stampGrants) throws IOException {
    this.region = SharedRegion.open(regionFile);
    this.mutex = region.mutex(NAME);
    this.stampGrants = stampGrants;
  }

  @Override
  public void lock() {
    CompletableFuture<MutexGuard> request = mutex.lock();
    if (stampGrants) {
      grantedAt = 0;
      request.thenRun(() -> grantedAt = System.nanoTime()); // on the thread that grants it
    }
    guard = request.join();
  }

  /**
   * When the last acquisition was granted; with {@code stampGrants} only. The joined thread can
   * wake before the stamp is written (a future runs its newest dependent, the join, first), so this
   * waits for it: microseconds at most.
   */
  long grantedAtNanos() {
    long stamp;
    while ((stamp = grantedAt) == 0) {
      Thread.onSpinWait();
    }
    return stamp;
  }

  @Override
  public void unlock() {
    guard.close();
    guard = null;
  }

  @Override
  public void close() {
    region.close(); // releases the mutex too, should this process still hold it
  }
}
