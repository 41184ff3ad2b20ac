package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.memory.MappedRegion;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A region file on a ring of its own for each test, and helpers for the futures tests await. */
abstract class RegionTestBase {
  @TempDir Path directory;

  FutexRing ring;
  SharedRegion region;

  @BeforeEach
  void openRegion() throws Exception {
    ring = FutexRing.open();
    region = SharedRegion.open(directory.resolve("region"), withRing());
  }

  @AfterEach
  void closeRegion() {
    region.close();
    ring.close();
  }

  /** A second mapping of the region file, to read and plant raw words as another process would. */
  MappedRegion openRawMapping() throws IOException {
    return MappedRegion.open(
        region.file(), RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY);
  }

  /** The default options, on this test's ring. */
  RegionOptions withRing() {
    return RegionOptions.builder().ring(ring).build();
  }

  static <T> T await(CompletableFuture<T> future) throws Exception {
    return future.get(20, TimeUnit.SECONDS);
  }

  /** The exception {@code future} fails with (within 20 s). */
  static Throwable failureOf(CompletableFuture<?> future) throws Exception {
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> future.get(20, TimeUnit.SECONDS));
    return e.getCause();
  }
}
