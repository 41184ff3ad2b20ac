package dev.ringlock.jcstress;

import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.Semaphore;
import dev.ringlock.locks.SharedRegion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Semaphores for jcstress tests, each lent to one test instance at a time ({@link ObjectPool}): a
 * permit count checked by an arbiter means nothing if another live instance shares the semaphore.
 * They live in region files of CHUNK semaphores each, made as the pool grows (a directory lookup
 * scans its entries, so one huge region would make creating its later names slow).
 *
 * <p>Each semaphore comes as two views, {@link Lease#here()} and {@link Lease#there()}, through two
 * SharedRegions on the same file: each view has its own request queue and kernel wait, as two
 * processes have, so a release through one reaches the other's waiters only through the word and
 * FUTEX_WAKE. Files are unlinked as soon as both are mapped, so no run leaves one behind.
 */
final class SharedSemaphores {
  private static final int CHUNK = 256;
  private static final int MAX_CHUNKS = 256;
  private static final List<SharedRegion[]> CHUNKS = new ArrayList<>(); // guarded by the class
  private static final ObjectPool<Lease> POOL =
      new ObjectPool<>(CHUNK * MAX_CHUNKS, SharedSemaphores::make);

  /** One semaphore, through two regions (two "processes"). */
  record Lease(Semaphore here, Semaphore there) {}

  private SharedSemaphores() {}

  /** A semaphore with 0 permits and nobody waiting, for this instance alone. */
  static Lease take() {
    return POOL.take();
  }

  /** Returns a semaphore the caller has left with 0 permits and nothing pending. */
  static void giveBack(Lease lease) {
    POOL.giveBack(lease);
  }

  private static Lease make(int number) {
    SharedRegion[] views = chunk(number / CHUNK);
    String name = "semaphore-" + number % CHUNK;
    return new Lease(views[0].semaphore(name, 0), views[1].semaphore(name, 0));
  }

  private static synchronized SharedRegion[] chunk(int index) {
    while (CHUNKS.size() <= index) {
      CHUNKS.add(openChunk(CHUNKS.size()));
    }
    return CHUNKS.get(index);
  }

  private static SharedRegion[] openChunk(int index) {
    Path shm = Path.of("/dev/shm");
    Path file =
        (Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")))
            .resolve("ringlock-jcstress-semaphores-" + ProcessHandle.current().pid() + "-" + index);
    RegionOptions options =
        RegionOptions.builder().regionSize(256 << 10).capacity(CHUNK).ring(SharedRing.RING).build();
    try {
      SharedRegion here = SharedRegion.open(file, options);
      SharedRegion there = SharedRegion.open(file, options);
      Files.delete(file);
      return new SharedRegion[] {here, there};
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
