package dev.ringlock.jcstress;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.SharedRegion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The region every lock test in a forked jcstress VM shares: a real file mapping, so waits use
 * shared futexes as they do between processes. The file is unlinked as soon as it is mapped, so no
 * run leaves one behind.
 *
 * <p>jcstress makes far more @State instances than a region has names, so instances take mutexes
 * round-robin from a fixed pool. Two live instances that happen to share a mutex only contend more;
 * each still checks its own counter under it.
 */
final class SharedLocks {
  static final int POOL = 256;
  private static final SharedRegion REGION = openRegion();
  private static final Mutex[] MUTEXES = new Mutex[POOL];
  private static final AtomicInteger NEXT = new AtomicInteger();

  /** A mutex held for the life of the VM: a lockAny candidate that never comes free. */
  static final Mutex ALWAYS_HELD = REGION.mutex("jcstress-always-held");

  static {
    ALWAYS_HELD.tryLock().orElseThrow(); // never released; the VM's exit frees it with the file
  }

  static {
    for (int i = 0; i < POOL; i++) {
      MUTEXES[i] = REGION.mutex("jcstress-" + i);
    }
  }

  private SharedLocks() {}

  static Mutex nextMutex() {
    return MUTEXES[Math.floorMod(NEXT.getAndIncrement(), POOL)];
  }

  private static SharedRegion openRegion() {
    return openRegion("ringlock-jcstress-", RegionOptions.builder());
  }

  /**
   * A region file on {@link SharedRing#RING}, in /dev/shm (else the temp directory), deleted when
   * the fork exits.
   */
  static SharedRegion openRegion(String prefix, RegionOptions.Builder options) {
    Path file = RegionFiles.deletedAtExit(prefix + ProcessHandle.current().pid());
    try {
      return SharedRegion.open(file, options.ring(SharedRing.RING).build());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
