package dev.ringlock.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where benchmark region files go: /dev/shm, as in production, else the temp directory. */
final class BenchFiles {
  private BenchFiles() {}

  static Path sharedMemoryDirectory() {
    Path shm = Path.of("/dev/shm");
    return Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
  }
}
