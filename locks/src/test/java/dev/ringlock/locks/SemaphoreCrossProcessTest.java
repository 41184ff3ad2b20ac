package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Real JVMs sharing semaphores through one region file (see {@link SemaphoreWorker}). */
class SemaphoreCrossProcessTest {
  @TempDir Path directory;

  private Path regionFile;
  private final List<Process> children = new ArrayList<>();
  private final List<Path> logs = new ArrayList<>();

  @BeforeEach
  void chooseFile() throws Exception {
    regionFile =
        Path.of("/dev/shm").resolve("ringlock-semaphore-test-" + ProcessHandle.current().pid());
    if (!Files.isDirectory(regionFile.getParent())) {
      regionFile = directory.resolve("region");
    }
    Files.deleteIfExists(regionFile);
  }

  @AfterEach
  void cleanUp() throws Exception {
    children.forEach(Process::destroyForcibly);
    Files.deleteIfExists(regionFile);
  }

  private void start(String... args) throws Exception {
    Path log = directory.resolve("child-" + children.size() + ".log");
    logs.add(log);
    List<String> all = new ArrayList<>(List.of(args[0], regionFile.toString()));
    all.add(directory.resolve("go").toString());
    all.addAll(List.of(args).subList(1, args.length));
    children.add(ChildJvm.start(log, SemaphoreWorker.class, all.toArray(new String[0])));
  }

  /** Waits for every child to exit 0 and returns each one's result line. */
  private List<String> results(String... prefixes) throws Exception {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < children.size(); i++) {
      Process child = children.get(i);
      assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child " + i + " hung");
      String log = Files.readString(logs.get(i));
      assertEquals(0, child.exitValue(), "child " + i + ": " + log);
      String prefix = prefixes[i];
      lines.add(
          log.lines()
              .filter(line -> line.startsWith(prefix))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no " + prefix + "line in: " + log)));
    }
    return lines;
  }

  @Test
  @Timeout(120)
  void aProducerAndAConsumerInTwoJvmsPassEveryItemThroughABoundedBuffer() throws Exception {
    int items = 20_000;
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      Semaphore slots = region.semaphore("slots", SemaphoreWorker.SLOTS);
      Semaphore filled = region.semaphore("items", 0);
      start("producer", Integer.toString(items));
      start("consumer", Integer.toString(items));
      Files.createFile(directory.resolve("go"));
      List<String> lines = results("PRODUCED ", "CONSUMED ");
      assertEquals("PRODUCED " + items, lines.get(0));
      long sum = (long) items * (items - 1) / 2;
      assertEquals("CONSUMED " + items + " " + sum, lines.get(1));
      assertEquals(SemaphoreWorker.SLOTS, slots.availablePermits(), slots.toString());
      assertEquals(0, filled.availablePermits(), filled.toString());
    }
  }

  @Test
  @Timeout(120)
  void releasesFromThisJvmReachTakersOfBigAndSmallChunksInTwoOthers() throws Exception {
    int big = 5;
    int bigTotal = 5 * 400;
    int smallTotal = 2000;
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      Semaphore pool = region.semaphore("pool", 0);
      start("taker", Integer.toString(big), Integer.toString(bigTotal));
      start("taker", "1", Integer.toString(smallTotal));
      Files.createFile(directory.resolve("go"));
      SplittableRandom random = new SplittableRandom(3);
      for (int released = 0; released < bigTotal + smallTotal; ) {
        int n = Math.min(1 + random.nextInt(4), bigTotal + smallTotal - released);
        pool.release(n);
        released += n;
        if (random.nextInt(8) == 0) {
          Thread.sleep(0, 200_000); // let the takers run dry now and then: they must sleep
        }
      }
      List<String> lines = results("TOOK ", "TOOK ");
      assertEquals("TOOK " + bigTotal, lines.get(0));
      assertEquals("TOOK " + smallTotal, lines.get(1));
      assertEquals(0, pool.availablePermits(), pool.toString());
    }
  }
}
