package dev.ringlock.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Futex words in a MAP_SHARED file mapping, woken across real JVM processes, the child on the
 * backend of this test run.
 */
@Timeout(120)
class CrossProcessTest {
  @TempDir Path directory;

  @Test
  void wakesCrossProcessesBothWaysThroughASharedFileMapping() throws Exception {
    Path file = Files.createFile(directory.resolve("words"));
    try (FileChannel channel =
            FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        Arena arena = Arena.ofShared();
        FutexRing ring = FutexRing.open()) {
      channel.truncate(4096);
      MemorySegment mapping = channel.map(FileChannel.MapMode.READ_WRITE, 0, 4096, arena);
      FutexWord parentWaits = FutexWord.of(mapping, 0);
      FutexWord childWaits = FutexWord.of(mapping, 64);
      assertEquals(FutexScope.SHARED, parentWaits.scope());

      CompletableFuture<WaitOutcome> wait = ring.wait(parentWaits, 0);
      try (Child child =
          Child.jvm(CrossProcessChild.class, file.toString()).captureStdout().start()) {
        // The child runs on this test run's backend: Child passes -Dringlock.backend on.
        assertEquals(Child.BACKEND_PROPERTY, FutexRing.BACKEND_PROPERTY);
        assertEquals("BACKEND " + ring.backend(), child.expect("BACKEND"));
        assertTrue(wait.get(60, TimeUnit.SECONDS).isWoken(), "the child's wake did not reach us");

        // The child now waits on its word; wake it until the kernel reports that we woke it.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        int woken = 0;
        while (woken == 0 && System.nanoTime() < deadline) {
          woken = ring.wake(childWaits, 1).get(10, TimeUnit.SECONDS);
          if (woken == 0) {
            Thread.sleep(5);
          }
        }
        assertEquals(1, woken);
        assertEquals(
            0, child.awaitExit(Duration.ofSeconds(60)), "the child reports its wait was not woken");
        assertFalse(child.isAlive());
      }
    }
  }
}
