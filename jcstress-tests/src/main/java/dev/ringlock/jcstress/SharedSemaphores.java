package dev.ringlock.jcstress;

import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.Semaphore;
import dev.ringlock.locks.SharedRegion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Semaphores for jcstress tests, each lent to one test instance at a time: a permit count checked
 * by an arbiter means nothing if another live instance shares the semaphore. (The mutex tests can
 * share, see SharedLocks; these cannot.) jcstress keeps a whole epoch of instances alive at once
 * (strideSize x strideCount, 10,240 by default), so the pool grows in chunks of CHUNK semaphores,
 * one region file per chunk (a directory lookup scans its entries, so one huge region would make
 * creating its later names slow); an arbiter gives its semaphore back once it has restored 0
 * permits, and keeps a semaphore whose test went wrong out of circulation.
 *
 * <p>Each semaphore comes as two views, {@link Lease#here()} and {@link Lease#there()}, through two
 * SharedRegions on the same file: each view has its own request queue and kernel wait, as two
 * processes have, so a release through one reaches the other's waiters only through the word and
 * FUTEX_WAKE. Files are unlinked as soon as both are mapped, so no run leaves one behind.
 */
final class SharedSemaphores {
  private static final int CHUNK = 256;
  private static final ConcurrentLinkedQueue<Lease> FREE = new ConcurrentLinkedQueue<>();
  private static int chunks; // guarded by the class

  /** One semaphore, through two regions (two "processes"). */
  record Lease(Semaphore here, Semaphore there) {}

  private SharedSemaphores() {}

  /** A semaphore with 0 permits and nobody waiting, for this instance alone. */
  static Lease lease() {
    Lease lease = FREE.poll();
    return lease != null ? lease : grow();
  }

  /** Returns a semaphore the caller has left with 0 permits and nothing pending. */
  static void giveBack(Lease lease) {
    FREE.add(lease);
  }

  private static synchronized Lease grow() {
    Lease lease = FREE.poll(); // another thread may have grown the pool meanwhile
    if (lease != null) {
      return lease;
    }
    Path shm = Path.of("/dev/shm");
    Path file =
        (Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")))
            .resolve("ringlock-jcstress-sem-" + ProcessHandle.current().pid() + "-" + chunks++);
    RegionOptions options =
        RegionOptions.builder().regionSize(256 << 10).capacity(CHUNK).ring(SharedRing.RING).build();
    try {
      SharedRegion first = SharedRegion.open(file, options);
      SharedRegion second = SharedRegion.open(file, options);
      Files.delete(file);
      for (int i = 0; i < CHUNK; i++) {
        String name = "semaphore-" + i;
        FREE.add(new Lease(first.semaphore(name, 0), second.semaphore(name, 0)));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return FREE.poll();
  }
}
