package dev.ringlock.bench;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.SharedRegion;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Region files for benchmarks: in /dev/shm as in production (else the temp directory). */
public final class BenchFiles {
  private BenchFiles() {}

  /**
   * A ring of its own on {@code backend} (a {@link FutexRing.Backend} name, as a benchmark's {@code
   * backend} parameter gives it), or null for {@code AUTO}: the caller then uses the default ring,
   * which AUTO picks (and {@code -Dringlock.backend} forces) for the whole JVM.
   */
  static FutexRing openRing(String backend) {
    FutexRing.Backend wanted = FutexRing.Backend.valueOf(backend);
    return wanted == FutexRing.Backend.AUTO
        ? null
        : FutexRing.open(FutexRing.options().backend(wanted));
  }

  static Path sharedMemoryDirectory() {
    Path shm = Path.of("/dev/shm");
    return Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
  }

  /**
   * The start of the name of every region file a benchmark JVM with process id {@code pid} creates:
   * a driver that had to kill that JVM deletes what it left with {@link #deleteLeftBy(long)}.
   */
  public static String regionPrefix(long pid) {
    return "ringlock-bench-" + pid + "-";
  }

  /**
   * Deletes the region files the benchmark JVM {@code pid} left in the shared-memory directory: a
   * JVM killed before it exits (a measurement that ran out of time) never runs its deleting hook.
   */
  public static void deleteLeftBy(long pid) throws IOException {
    try (var files = Files.list(sharedMemoryDirectory())) {
      for (Path file : files.toList()) {
        if (file.getFileName().toString().startsWith(regionPrefix(pid))) {
          Files.deleteIfExists(file);
        }
      }
    }
  }

  /**
   * A fresh region file, deleted when this JVM exits. Not before: a region whose file is deleted
   * under it notices and closes itself (docs/guarantees.md).
   */
  static SharedRegion openRegion(RegionOptions options) throws IOException {
    Path file =
        Files.createTempFile(
            sharedMemoryDirectory(), regionPrefix(ProcessHandle.current().pid()), ".region");
    Files.delete(file); // SharedRegion creates it whole, or not at all
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    Files.deleteIfExists(file);
                  } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                },
                "delete " + file));
    return SharedRegion.open(file, options);
  }

  /** {@code bytes} of a fresh zeroed file mapped shared into {@code arena}, the file unlinked. */
  static MemorySegment mapScratch(long bytes, Arena arena) throws IOException {
    Path file = Files.createTempFile(sharedMemoryDirectory(), "ringlock-bench-", ".bin");
    try (FileChannel channel =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.allocate((int) bytes));
      return channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
    } finally {
      Files.delete(file);
    }
  }
}
