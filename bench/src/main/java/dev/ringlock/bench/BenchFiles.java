package dev.ringlock.bench;

import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.SharedRegion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Region files for benchmarks: in /dev/shm as in production (else the temp directory). */
final class BenchFiles {
  private BenchFiles() {}

  static Path sharedMemoryDirectory() {
    Path shm = Path.of("/dev/shm");
    return Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
  }

  /**
   * A fresh region file, unlinked as soon as it is mapped: the mapping lives on, and a benchmark
   * that dies leaves nothing behind.
   */
  static SharedRegion openRegion(RegionOptions options) throws IOException {
    Path file = Files.createTempFile(sharedMemoryDirectory(), "ringlock-bench-", ".region");
    Files.delete(file); // SharedRegion creates it whole, or not at all
    SharedRegion region = SharedRegion.open(file, options);
    Files.delete(file);
    return region;
  }
}
