package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.FutexRing;
import dev.ringlock.testsupport.Child;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
 * Real JVMs on one region file: waiters in three processes woken by a wakeUpTo from a fourth
 * (exactly the keys up to the limit, in all three, with one kernel wake), and the slots of a
 * process killed with waiters reclaimed.
 */
class WaitQueueCrossProcessTest {
  @TempDir Path directory;

  @Test
  @Timeout(240)
  void wakeUpToFromAnotherProcessWakesExactlyTheKeysUpToTheLimit() throws Exception {
    Path regionFile =
        Path.of("/dev/shm").resolve("ringlock-wq-test-" + ProcessHandle.current().pid());
    if (!Files.isDirectory(regionFile.getParent())) {
      regionFile = directory.resolve("region");
    }
    Files.deleteIfExists(regionFile);
    Path sync = Files.createDirectory(directory.resolve("sync"));
    long[] childKeys = LongStream.range(0, 20).map(i -> 3 * i).toArray(); // 0, 3, ... 57
    long[] otherChildKeys = LongStream.range(0, 20).map(i -> 3 * i + 1).toArray(); // 1, 4, ... 58
    long[] parentKeys = LongStream.range(0, 20).map(i -> 3 * i + 2).toArray(); // 2, 5, ... 59
    List<Child> children = new ArrayList<>();
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      WaitQueue queue = region.waitQueue("wq", 64);
      WaitQueue small = region.waitQueue("small", WaitQueueWorker.SMALL_CAPACITY);
      Path waiterLog = directory.resolve("waiter.log");
      Path otherWaiterLog = directory.resolve("other-waiter.log");
      Path wakerLog = directory.resolve("waker.log");
      Path hogLog = directory.resolve("hog.log");
      Child waiter = startWaiter(waiterLog, regionFile, sync, "a", childKeys);
      Child otherWaiter = startWaiter(otherWaiterLog, regionFile, sync, "b", otherChildKeys);
      Child waker =
          Child.jvm(WaitQueueWorker.class, "wake", regionFile.toString(), sync.toString())
              .logTo(wakerLog)
              .start();
      Child hog =
          Child.jvm(WaitQueueWorker.class, "hog", regionFile.toString(), sync.toString())
              .logTo(hogLog)
              .start();
      children.addAll(List.of(waiter, otherWaiter, waker, hog));

      List<CompletableFuture<Void>> mine = new ArrayList<>();
      for (long key : parentKeys) {
        mine.add(queue.await(key));
      }
      Files.createFile(sync.resolve("armed-parent"));
      String woke = WaitQueueWorker.checkWakeUpTo(queue, sync, parentKeys, mine);
      assertEquals(expectedWoke(parentKeys), woke, "in this process; queue: " + queue);
      Files.createFile(sync.resolve("checked-parent"));
      CompletableFuture.allOf(mine.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

      for (Child child : List.of(waiter, otherWaiter, waker)) {
        child.awaitSuccess(Duration.ofSeconds(120));
      }
      String waiterOut = Files.readString(waiterLog);
      String otherWaiterOut = Files.readString(otherWaiterLog);
      String wakerOut = Files.readString(wakerLog);
      assertTrue(waiterOut.contains(expectedWoke(childKeys) + "\n"), waiterOut);
      assertTrue(waiterOut.contains("ALL DONE"), waiterOut);
      assertTrue(otherWaiterOut.contains(expectedWoke(otherChildKeys) + "\n"), otherWaiterOut);
      assertTrue(otherWaiterOut.contains("ALL DONE"), otherWaiterOut);
      // keys 0..19: 7 + 7 + 6 in the three processes, reached by one FUTEX_WAKE
      assertTrue(wakerOut.contains("WOKEN 20 WITH 1 KERNEL WAKES "), wakerOut);
      assertTrue(wakerOut.contains("ALL 40"), wakerOut);
      assertEquals(0, queue.waiting());

      // A process killed with every slot of "small": the next await reclaims them.
      WaitQueueWorker.awaitFileAfterStartUp(sync.resolve("armed-hog"), small);
      assertEquals(WaitQueueWorker.SMALL_CAPACITY, small.waiting());
      hog.kill();
      CompletableFuture<Void> after = small.await(7);
      assertEquals(1, small.waiting(), "the dead process's waiters were not reclaimed: " + small);
      assertEquals(1, small.wake(1));
      after.get(30, TimeUnit.SECONDS);
    } finally {
      children.forEach(Child::close);
      Files.deleteIfExists(regionFile);
    }
  }

  @Test
  @Timeout(120)
  void aWakerKilledBetweenChoosingAndWakingCostsItsWaiterOneReCheck() throws Exception {
    Path regionFile =
        Path.of("/dev/shm").resolve("ringlock-wq-killed-" + ProcessHandle.current().pid());
    if (!Files.isDirectory(regionFile.getParent())) {
      regionFile = directory.resolve("region");
    }
    Files.deleteIfExists(regionFile);
    Path sync = Files.createDirectory(directory.resolve("sync"));
    Path wakerLog = directory.resolve("waker.log");
    Child waker = null;
    try (FutexRing ring = FutexRing.open();
        SharedRegion region =
            SharedRegion.open(regionFile, RegionOptions.builder().ring(ring).build())) {
      WaitQueue queue = region.waitQueue("lost");
      CompletableFuture<Void> waiter = queue.await(1);
      while (ring.stats().inFlight() < 1) {
        Thread.sleep(1); // its kernel wait sleeps: only a wake or the re-check ends it
      }
      waker =
          Child.jvm(
                  WaitQueueWorker.class, "wake-one", regionFile.toString(), sync.toString(), "lost")
              .systemProperty("dev.ringlock.test.pauseAfterChoosing", "lost")
              .logTo(wakerLog)
              .start();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!Files.readString(wakerLog).contains("PAUSED")) {
        assertTrue(
            System.nanoTime() < end, "the waker never paused: " + Files.readString(wakerLog));
        Thread.sleep(5);
      }
      waker.kill(); // chose and marked the waiter, bumped W; no FUTEX_WAKE ever comes
      long killedAt = System.nanoTime();
      waiter.get(30, TimeUnit.SECONDS);
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
      System.out.println(
          "a waiter whose waker was killed before its wake resumed "
              + millis
              + " ms after the kill");
      // One re-check period (250 ms) at most, plus scheduling on a loaded machine.
      assertTrue(millis < 250 + 1_000, "resumed " + millis + " ms after the kill");
      assertEquals(0, queue.waiting());
    } finally {
      if (waker != null) {
        waker.close();
      }
      Files.deleteIfExists(regionFile);
    }
  }

  private static Child startWaiter(Path log, Path regionFile, Path sync, String name, long[] keys)
      throws Exception {
    List<String> args = new ArrayList<>(List.of("wait", regionFile.toString(), sync.toString()));
    args.add(name);
    LongStream.of(keys).forEach(key -> args.add(Long.toString(key)));
    return Child.jvm(WaitQueueWorker.class).args(args).logTo(log).start();
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
