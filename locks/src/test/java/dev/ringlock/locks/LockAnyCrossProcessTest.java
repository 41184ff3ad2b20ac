package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** lockAny in this JVM against mutexes another JVM holds: the FUTEX_WAITV on shared futexes. */
@Timeout(120)
class LockAnyCrossProcessTest {
  @TempDir Path directory;

  @Test
  void takesTheMutexAnotherProcessReleasesWhileItHoldsTheRest() throws Exception {
    Path regionFile = directory.resolve("region");
    Path control = Files.createDirectory(directory.resolve("control"));
    Path log = directory.resolve("holder.log");
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      List<Mutex> candidates = List.of(region.mutex("a"), region.mutex("b"), region.mutex("c"));
      try (Child holder =
          Child.jvm(MutexHolder.class, regionFile.toString(), control.toString(), "a", "b", "c")
              .logTo(log)
              .start()) {
        waitFor(control.resolve("held"), holder, log);
        for (Mutex mutex : candidates) {
          assertEquals(holder.pid(), mutex.ownerPid());
        }

        CompletableFuture<MutexGuard> any = Mutex.lockAny(candidates);
        Thread.sleep(100);
        assertFalse(any.isDone(), "every candidate is held by the other process");

        Files.createFile(control.resolve("release-b"));
        MutexGuard guard = any.get(20, TimeUnit.SECONDS);
        assertSame(candidates.get(1), guard.mutex());
        assertEquals(ProcessHandle.current().pid(), guard.mutex().ownerPid());
        assertEquals(holder.pid(), candidates.get(0).ownerPid());
        assertEquals(holder.pid(), candidates.get(2).ownerPid());
        guard.unlock();

        Files.createFile(control.resolve("exit"));
        holder.awaitSuccess(Duration.ofSeconds(30));
        for (Mutex mutex : candidates) {
          assertFalse(mutex.isLocked(), "closing the holder's region releases " + mutex);
        }
      }
    }
  }

  private static void waitFor(Path file, Child child, Path log) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Files.exists(file)) {
      assertTrue(child.isAlive(), () -> "the child died: " + readQuietly(log));
      assertTrue(System.nanoTime() < deadline, () -> "no " + file + ": " + readQuietly(log));
      Thread.sleep(5);
    }
  }

  private static String readQuietly(Path log) {
    try {
      return Files.readString(log);
    } catch (Exception e) {
      return "(no log: " + e + ")";
    }
  }
}
