package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
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
      Process holder =
          ChildJvm.start(
              log, MutexHolder.class, regionFile.toString(), control.toString(), "a", "b", "c");
      try {
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
        assertTrue(holder.waitFor(30, TimeUnit.SECONDS), "the holder did not exit");
        assertEquals(0, holder.exitValue(), Files.readString(log));
        for (Mutex mutex : candidates) {
          assertFalse(mutex.isLocked(), "closing the holder's region releases " + mutex);
        }
      } finally {
        holder.destroyForcibly();
      }
    }
  }

  private static void waitFor(Path file, Process child, Path log) throws Exception {
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
