package dev.ringlock.locks;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Real JVMs sharing semaphores through one region file (see {@link SemaphoreWorker}). */
class SemaphoreCrossProcessTest {
  @TempDir Path directory;

  private Path regionFile;
  private final List<Child> children = new ArrayList<>();
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
    // Wait for them to be gone: a child still starting could create the file after the delete.
    children.forEach(Child::close);
    Files.deleteIfExists(regionFile);
  }

  private void start(String... args) throws Exception {
    startWithPausePoint(null, args);
  }

  /** As start, in a JVM whose undo moves pause at {@code pausePoint} ("STEP:NAME"), if any. */
  private void startWithPausePoint(String pausePoint, String... args) throws Exception {
    Path log = directory.resolve("child-" + children.size() + ".log");
    logs.add(log);
    List<String> all = new ArrayList<>(List.of(args[0], regionFile.toString()));
    all.add(directory.resolve("go").toString());
    all.addAll(List.of(args).subList(1, args.length));
    Child.Builder child = Child.jvm(SemaphoreWorker.class).args(all).logTo(log);
    if (pausePoint != null) {
      child.systemProperty("dev.ringlock.test.pauseInSemaphoreMove", pausePoint);
    }
    children.add(child.start());
  }

  /** Waits for every child to exit 0 and returns each one's result line. */
  private List<String> results(String... prefixes) throws Exception {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < children.size(); i++) {
      children.get(i).awaitSuccess(Duration.ofSeconds(60));
      String log = Files.readString(logs.get(i));
      String prefix = prefixes[i];
      lines.add(
          log.lines()
              .filter(line -> line.startsWith(prefix))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no " + prefix + "line in: " + log)));
    }
    return lines;
  }

  /** Waits until child {@code index} prints a line starting with {@code prefix}, and returns it. */
  private String awaitLine(int index, String prefix) throws Exception {
    return awaitLine(index, prefix, 20);
  }

  private String awaitLine(int index, String prefix, int seconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() - deadline < 0) {
      String log = Files.readString(logs.get(index));
      Optional<String> line = log.lines().filter(l -> l.startsWith(prefix)).findFirst();
      if (line.isPresent()) {
        return line.get();
      }
      assertTrue(children.get(index).isAlive(), "child " + index + " exited: " + log);
      Thread.sleep(5);
    }
    throw new AssertionError(
        "child "
            + index
            + " printed no "
            + prefix
            + " line in "
            + seconds
            + " s: "
            + logs.get(index));
  }

  /** SIGKILLs child {@code index}, waits until it is gone, and returns when it was killed. */
  private long kill(int index) throws Exception {
    long killedAt = System.nanoTime();
    children.get(index).kill();
    return killedAt;
  }

  /**
   * Starts a child holding permits ({@code NAME:PERMITS[:signal]} each; the semaphores exist) and
   * returns once it holds them all.
   */
  private void startHolder(String... specs) throws Exception {
    Path go = directory.resolve("go");
    if (!Files.exists(go)) {
      Files.createFile(go);
    }
    List<String> args = new ArrayList<>(List.of("holder"));
    args.addAll(List.of(specs));
    start(args.toArray(new String[0]));
    awaitLine(children.size() - 1, "HELD");
  }

  private static String millisSince(long nanos, long start) {
    return String.format("%.1f ms", (nanos - start) / 1e6);
  }

  /** The permits of a holder killed at {@code killedAt} arrived at {@code got}, within 5 s. */
  private static void assertPromptly(long got, long killedAt) {
    assertTrue(got - killedAt < TimeUnit.SECONDS.toNanos(5), millisSince(got, killedAt));
  }

  // ---- a holder dies (issue 5): spawned JVMs, SIGKILL, nothing mocked ----

  @Test
  @Timeout(60)
  void aKilledHoldersPermitsComeBackToWaitersInThisJvmAndAnother() throws Exception {
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      Semaphore pool = region.semaphore("connections", 4);
      startHolder("connections:4");
      start("waiter", "connections", "2");
      assertEquals("WAITING false", awaitLine(1, "WAITING"));
      CompletableFuture<Void> here = pool.acquire(2);
      assertFalse(here.isDone());
      long killedAt = kill(0);
      here.get(10, TimeUnit.SECONDS);
      long gotHere = System.nanoTime();
      long gotThere = Long.parseLong(awaitLine(1, "GOT ").substring(4));
      children.get(1).awaitSuccess(Duration.ofSeconds(20));
      System.out.println(
          "holder killed: its permits reached a waiter here after "
              + millisSince(gotHere, killedAt)
              + ", in another JVM after "
              + millisSince(gotThere, killedAt));
      assertPromptly(gotHere, killedAt);
      assertPromptly(gotThere, killedAt);
      // Returned once: the holder's 4 went to the two waiters. The waiter has exited holding 2,
      // which come back as well (it exited; undo applies to every exit), and nothing more.
      assertEquals(0, pool.availablePermits(), pool.toString());
      pool.release(2);
      assertTrue(pool.tryAcquire(4), pool.toString());
      assertFalse(pool.tryAcquire(1), pool.toString());
      pool.release(4);
      assertEquals(4, pool.availablePermits());
    }
  }

  /*
   * A mover killed inside a move, at each of the protocol's two windows (SemaphoreUndo: its entry
   * BUSY before the word moved; the word moved before the entry's store), of an acquire and of a
   * release: four JVMs at once, one semaphore of 4 permits each, paused there for real and
   * SIGKILLed. Whatever the window, the next acquire that finds too few permits repairs, and
   * exactly the 4 come back: all four can be taken, and a fifth cannot.
   */
  @Test
  @Timeout(300)
  void aMoverKilledInEitherWindowOfAnAcquireOrAReleaseLosesAndDoublesNothing() throws Exception {
    String[][] cases = { // name, pause point, hold, move, permits
      {"take-busy", "take-busy:take-busy", "0", "take", "2"}, // holding none: a first claim
      {"take-word", "take-word:take-word", "0", "take", "2"},
      {"release-busy", "release-busy:release-busy", "3", "release", "2"},
      {"release-word", "release-word:release-word", "3", "release", "2"},
    };
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      List<Semaphore> semaphores = new ArrayList<>();
      for (String[] c : cases) {
        semaphores.add(region.semaphore(c[0], 4));
      }
      Files.createFile(directory.resolve("go"));
      for (String[] c : cases) {
        startWithPausePoint(c[1], "mover", c[0], c[2], c[3], c[4]);
      }
      for (int i = 0; i < cases.length; i++) {
        // four JVMs starting at once on a loaded machine: the start-up bound, not 20 s
        assertTrue(awaitLine(i, "PAUSED", 120).contains(cases[i][0]), cases[i][0]);
      }
      for (int i = 0; i < cases.length; i++) {
        kill(i);
      }
      for (int i = 0; i < cases.length; i++) {
        Semaphore semaphore = semaphores.get(i);
        String where = cases[i][0] + ": " + semaphore;
        assertTrue(semaphore.tryAcquire(4), "lost: " + where);
        assertFalse(semaphore.tryAcquire(1), "doubled: " + where);
        semaphore.release(4);
        assertEquals(4, semaphore.availablePermits(), where);
      }
    }
  }

  @Test
  @Timeout(60)
  void aHolderKilledWhileNobodyWaitsIsRecoveredByTheNextAcquire() throws Exception {
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      Semaphore tried = region.semaphore("tried", 3);
      Semaphore acquired = region.semaphore("acquired", 3);
      startHolder("tried:3", "acquired:2");
      assertFalse(tried.tryAcquire(1));
      kill(0);
      Thread.sleep(50); // nobody watches: the permits stay recorded until someone needs them
      assertEquals(0, tried.availablePermits());
      assertEquals(1, acquired.availablePermits());
      assertTrue(tried.tryAcquire(3), tried.toString());
      assertFalse(tried.tryAcquire(1), "returned twice: " + tried);
      acquired.acquire(3).get(10, TimeUnit.SECONDS);
      assertEquals(0, acquired.availablePermits(), acquired.toString());
    }
  }

  @Test
  @Timeout(60)
  void aSemaphoreCreatedWithoutUndoKeepsAKilledHoldersPermits() throws Exception {
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      Semaphore items = region.semaphore("items-left", 3, SemaphoreWorker.SIGNAL);
      startHolder("items-left:3:signal");
      CompletableFuture<Void> waiting = items.acquire(1, Duration.ofMillis(500));
      kill(0);
      ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(10, SECONDS));
      assertInstanceOf(TimeoutException.class, e.getCause());
      assertFalse(items.tryAcquire(1), items.toString());
      assertEquals(0, items.availablePermits());
    }
  }

  @Test
  @Timeout(120)
  void aProducerAndAConsumerInTwoJvmsPassEveryItemThroughABoundedBuffer() throws Exception {
    int items = 20_000;
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      Semaphore slots = region.semaphore("slots", SemaphoreWorker.SLOTS, SemaphoreWorker.SIGNAL);
      Semaphore filled = region.semaphore("items", 0, SemaphoreWorker.SIGNAL);
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
      Semaphore pool = region.semaphore("pool", 0, SemaphoreWorker.SIGNAL);
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
