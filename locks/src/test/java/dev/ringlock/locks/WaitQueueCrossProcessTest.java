package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real JVMs on one region file: waiters in two processes woken by a wakeUpTo from a third (exactly
 * the keys up to the limit, in both), and the slots of a process killed with waiters reclaimed.
 */
class WaitQueueCrossProcessTest {
  @TempDir Path directory;

  @Test
  @Timeout(120)
  void wakeUpToFromAnotherProcessWakesExactlyTheKeysUpToTheLimit() throws Exception {
    Path regionFile =
        Path.of("/dev/shm").resolve("ringlock-wq-test-" + ProcessHandle.current().pid());
    if (!Files.isDirectory(regionFile.getParent())) {
      regionFile = directory.resolve("region");
    }
    Files.deleteIfExists(regionFile);
    Path sync = Files.createDirectory(directory.resolve("sync"));
    long[] childKeys = LongStream.range(0, 20).map(i -> 2 * i).toArray(); // 0, 2, ... 38
    long[] parentKeys = LongStream.range(0, 20).map(i -> 2 * i + 1).toArray(); // 1, 3, ... 39
    List<Process> children = new ArrayList<>();
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      WaitQueue queue = region.waitQueue("wq", 64);
      WaitQueue small = region.waitQueue("small", WaitQueueWorker.SMALL_CAPACITY);
      Path waiterLog = directory.resolve("waiter.log");
      Path wakerLog = directory.resolve("waker.log");
      Path hogLog = directory.resolve("hog.log");
      List<String> waiterArgs = new ArrayList<>(List.of("wait", regionFile.toString()));
      waiterArgs.add(sync.toString());
      waiterArgs.add("a");
      LongStream.of(childKeys).forEach(key -> waiterArgs.add(Long.toString(key)));
      Process waiter =
          ChildJvm.start(waiterLog, WaitQueueWorker.class, waiterArgs.toArray(String[]::new));
      Process waker =
          ChildJvm.start(
              wakerLog, WaitQueueWorker.class, "wake", regionFile.toString(), sync.toString());
      Process hog =
          ChildJvm.start(
              hogLog, WaitQueueWorker.class, "hog", regionFile.toString(), sync.toString());
      children.addAll(List.of(waiter, waker, hog));

      List<CompletableFuture<Void>> mine = new ArrayList<>();
      for (long key : parentKeys) {
        mine.add(queue.await(key));
      }
      Files.createFile(sync.resolve("armed-parent"));
      String woke = WaitQueueWorker.checkWakeUpTo(queue, sync, parentKeys, mine);
      assertEquals(expectedWoke(parentKeys), woke, "in this process; queue: " + queue);
      Files.createFile(sync.resolve("checked-parent"));
      CompletableFuture.allOf(mine.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

      for (Process child : List.of(waiter, waker)) {
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "a child hung");
      }
      String waiterOut = Files.readString(waiterLog);
      String wakerOut = Files.readString(wakerLog);
      assertEquals(0, waiter.exitValue(), waiterOut);
      assertEquals(0, waker.exitValue(), wakerOut);
      assertTrue(waiterOut.contains(expectedWoke(childKeys) + "\n"), waiterOut);
      assertTrue(waiterOut.contains("ALL DONE"), waiterOut);
      assertTrue(wakerOut.contains("WOKEN 20 "), wakerOut); // 10 keys <= 19 in each process
      assertTrue(wakerOut.contains("ALL 20"), wakerOut);
      assertEquals(0, queue.waiting());

      // A process killed with every slot of "small": the next await reclaims them.
      WaitQueueWorker.awaitFile(sync.resolve("armed-hog"), small);
      assertEquals(WaitQueueWorker.SMALL_CAPACITY, small.waiting());
      hog.destroyForcibly();
      assertTrue(hog.waitFor(30, TimeUnit.SECONDS));
      CompletableFuture<Void> after = small.await(7);
      assertEquals(1, small.waiting(), "the dead process's waiters were not reclaimed: " + small);
      assertEquals(1, small.wake(1));
      after.get(30, TimeUnit.SECONDS);
    } finally {
      children.forEach(Process::destroyForcibly);
      Files.deleteIfExists(regionFile);
    }
  }

  private static String expectedWoke(long[] keys) {
    return "WOKE "
        + LongStream.of(keys)
            .filter(key -> key <= WaitQueueWorker.LIMIT)
            .sorted()
            .mapToObj(Long::toString)
            .collect(Collectors.joining(" "));
  }
}
