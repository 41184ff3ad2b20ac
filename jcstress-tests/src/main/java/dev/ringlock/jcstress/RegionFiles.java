package dev.ringlock.jcstress;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the tests' region files live, and their removal. A file stays under its name while the fork
 * uses it (a region notices its file being deleted or replaced and closes itself, see
 * docs/guarantees.md) and is deleted when the fork's JVM exits.
 */
final class RegionFiles {
  private RegionFiles() {}

  /** {@code name} in /dev/shm (else the temp directory), deleted when this JVM exits. */
  static Path deletedAtExit(String name) {
    Path shm = Path.of("/dev/shm");
    Path file =
        (Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")))
            .resolve(name);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    Files.deleteIfExists(file);
                  } catch (IOException e) {
                    throw new UncheckedIOException(e);
                  }
                },
                "delete " + file));
    return file;
  }
}
