package dev.ringlock.bench.xproc;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.SharedRegion;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The ringlock {@link Mutex} named {@value #NAME} in a region file that both children open
 * (whichever comes first creates it), with the default options. Acquisition is the async API
 * joined: {@code mutex.lock().join()}, which is one CAS and a completed future when uncontended;
 * release is {@link MutexGuard#close()} of the guard it returned.
 */
final class RinglockMutexLock implements ContendedLock<MutexGuard> {
  static final String NAME = "bench";

  private final FutexRing ring; // its own ring when a backend is forced, else null
  private final SharedRegion region;
  private final Mutex mutex;

  RinglockMutexLock(Path regionFile, FutexRing.Backend backend) throws IOException {
    this.ring =
        backend == FutexRing.Backend.AUTO
            ? null
            : FutexRing.open(FutexRing.options().backend(backend));
    this.region =
        ring == null
            ? SharedRegion.open(regionFile)
            : SharedRegion.open(regionFile, RegionOptions.builder().ring(ring).build());
    this.mutex = region.mutex(NAME);
  }

  @Override
  public MutexGuard lock() {
    return mutex.lock().join();
  }

  @Override
  public void unlock(MutexGuard hold) {
    hold.close();
  }

  @Override
  public void close() {
    region.close(); // releases the mutex too, should this process still hold it
    if (ring != null) {
      ring.close();
    }
  }
}
