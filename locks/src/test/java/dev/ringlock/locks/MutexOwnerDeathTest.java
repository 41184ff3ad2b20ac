package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Owner death with real processes: child JVMs (OwnerDeathWorker) that lock a mutex of one region
 * file and are killed with SIGKILL (Child.kill).
 */
@Timeout(180)
class MutexOwnerDeathTest {
  /**
   * Rounds of the kill soak: 20 on each backend, or -Dringlock.mutexKills=N (50 is what the
   * io_uring run did until 2026-12-07, 500 the long mode; docs/testing.md). Each round costs a JVM
   * start; at 20 rounds a quarter or more of the kills land on the holder (the test prints how
   * many), and a run where none does fails rather than pass having proved nothing.
   */
  private static final int KILL_ROUNDS = Integer.getInteger("ringlock.mutexKills", 20);

  /** The takeover bound these tests hold the recovery to; typical figures are a few ms. */
  private static final long TAKEOVER_BOUND_MILLIS = 2_000;

  @TempDir Path directory;
  private Path regionFile;
  // spares start on their own threads (randomKills...), so the list is synchronized
  private final List<Child> workers = Collections.synchronizedList(new ArrayList<>());

  @BeforeEach
  void createRegion() throws Exception {
    regionFile = directory.resolve("region");
    SharedRegion.open(regionFile).close();
  }

  @AfterEach
  void killWorkers() {
    workers.forEach(Child::close);
  }

  /** A running OwnerDeathWorker on mutex "m", driven by lines on stdin. */
  private Child worker(String... jvmOptions) throws Exception {
    Child worker =
        Child.jvm(OwnerDeathWorker.class, regionFile.toString(), "m")
            .jvmOptions(jvmOptions)
            .captureOutput()
            .start();
    workers.add(worker);
    worker.awaitStarted("READY");
    return worker;
  }

  /** Requests the mutex and waits until the worker holds it. */
  private static void lockAndWait(Child worker) throws Exception {
    worker.send("lock");
    worker.expect("TOOK");
  }

  private static boolean ownerDied(String took) {
    return Boolean.parseBoolean(took.split(" ")[1]);
  }

  private static long tookAt(String took) {
    return Long.parseLong(took.split(" ")[2]);
  }

  /** Gives two waiters time to arm their kernel waits and exit watches. */
  private static void letWaitsSettle() throws InterruptedException {
    Thread.sleep(300);
  }

  private static void assertWithinBound(long killedAt, String took) {
    long millis = TimeUnit.NANOSECONDS.toMillis(tookAt(took) - killedAt);
    System.out.println("takeover " + millis + " ms after SIGKILL");
    assertTrue(millis < TAKEOVER_BOUND_MILLIS, "took over " + millis + " ms after the kill");
  }

  /** Who took the mutex over, the other waiter, and when the owner was killed. */
  private record Takeover(Took took, Child other, long killedAt) {}

  /** An owner holds the mutex, waiters in two more processes queue for it, the owner is killed. */
  private Takeover ownerKilledWithTwoWaiters() throws Exception {
    Child owner = worker();
    lockAndWait(owner);
    Child first = worker();
    Child second = worker();
    first.send("lock");
    second.send("lock");
    letWaitsSettle();
    long killedAt = System.nanoTime();
    owner.kill();
    Took took = awaitEither(first, second); // both watched the owner: either may win
    return new Takeover(took, took.worker() == first ? second : first, killedAt);
  }

  @Test
  void exactlyOneWaiterInAnotherProcessTakesOverWhenTheOwnerIsKilled() throws Exception {
    Takeover takeover = ownerKilledWithTwoWaiters();
    Child taker = takeover.took().worker();
    Child other = takeover.other();
    assertTrue(ownerDied(takeover.took().line()), takeover.took().line());
    assertWithinBound(takeover.killedAt(), takeover.took().line());
    assertFalse(other.seen().stream().anyMatch(line -> line.startsWith("TOOK")), "only one holds");
    // The markConsistent path: the state is repaired, and the next holder is told nothing.
    taker.send("consistent");
    taker.expect("MARKED");
    taker.send("unlock");
    assertFalse(ownerDied(other.expect("TOOK")), "consistent again");
    other.send("unlock");
    other.expect("UNLOCKED");
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      assertTrue(region.mutex("m").isConsistent());
      assertFalse(region.mutex("m").isLocked());
    }
  }

  private record Took(Child worker, String line) {}

  /** The first TOOK line of either worker. */
  private static Took awaitEither(Child first, Child second) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      for (Child worker : List.of(first, second)) {
        String line = worker.pollLine();
        if (line != null && line.startsWith("TOOK")) {
          return new Took(worker, line);
        }
      }
      Thread.sleep(1);
    }
    throw new AssertionError("nobody took over: " + first.seen() + " / " + second.seen());
  }

  @Test
  void unlockingWithoutMarkConsistentRefusesEveryoneAfterwards() throws Exception {
    Child owner = worker();
    lockAndWait(owner);
    Child taker = worker();
    taker.send("lock");
    letWaitsSettle();
    owner.kill();
    assertTrue(ownerDied(taker.expect("TOOK")));
    Child waiter = worker();
    waiter.send("lock");
    letWaitsSettle();
    taker.send("unlock"); // without markConsistent
    assertEquals("FAILED NotRecoverableException", waiter.expect("FAILED"));
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      assertThrows(NotRecoverableException.class, () -> region.mutex("m").tryLock());
      assertFalse(region.mutex("m").isConsistent());
    }
  }

  @Test
  void whenTheTakerDiesTooTheNextOneSeesOwnerDiedAgain() throws Exception {
    Takeover takeover = ownerKilledWithTwoWaiters();
    assertTrue(ownerDied(takeover.took().line()));
    long killedAt = System.nanoTime();
    takeover.took().worker().kill(); // dies holding it, before markConsistent
    String tookNext = takeover.other().expect("TOOK");
    assertTrue(ownerDied(tookNext));
    assertWithinBound(killedAt, tookNext);
  }

  @Test
  void aDeathNobodyWaitedForIsNoticedByTheNextLock() throws Exception {
    Child owner = worker();
    lockAndWait(owner);
    owner.kill();
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      Mutex mutex = region.mutex("m");
      assertFalse(mutex.isConsistent(), "held by a dead process");
      MutexGuard guard = mutex.lock().get(10, TimeUnit.SECONDS);
      assertTrue(guard.ownerDied());
      guard.markConsistent();
      guard.unlock();
    }
    assertFalse(ownerDied(lockedBy(worker())), "marked consistent: nothing to tell");
  }

  private static String lockedBy(Child worker) throws Exception {
    worker.send("lock");
    return worker.expect("TOOK");
  }

  @Test
  void anOwnerKilledBetweenFreeingTheWordAndItsWakeStrandsNoWaiter() throws Exception {
    // The waiter must still be asleep when the owner dies, or the kill tested nothing. Under load
    // the owner's PAUSED line can reach us after the waiter's 250 ms re-check found the word free
    // and took it (correct, but not this scenario): then the attempt is made again on a new
    // region, at most three times.
    for (int attempt = 1; ; attempt++) {
      Child owner = worker("-Ddev.ringlock.test.pauseAfterFreeing=m");
      lockAndWait(owner);
      Child waiter = worker();
      waiter.send("lock");
      letWaitsSettle();
      owner.send("unlock");
      owner.expect("PAUSED"); // the word is free; the wake is not yet submitted
      if (waiter.unconsumed().stream().anyMatch(line -> line.startsWith("TOOK"))) {
        assertTrue(attempt < 3, "in 3 attempts the waiter always took the word before the kill");
        owner.kill();
        waiter.close();
        regionFile = directory.resolve("region-" + attempt);
        SharedRegion.open(regionFile).close();
        continue;
      }
      long killedAt = System.nanoTime();
      owner.kill();
      String took = waiter.expect("TOOK");
      assertFalse(ownerDied(took), "the owner had released the mutex");
      assertWithinBound(killedAt, took);
      return;
    }
  }

  // A JVM starts per round: on a loaded 2-core VM, with four counting processes taking both cores,
  // a start took 3-10 s, and the test (then 50 rounds) 325 s (syscalls) and 486 s (io_uring) when
  // each round waited for its replacement to start. So two spares start ahead, while earlier
  // rounds run, and a round only kills, hands the victim's place to a ready spare and checks
  // progress. The workers run C1 only (Child.QUICK_START), which cut a start's CPU by a third:
  // what this test is about is where in the lock's program order a kill lands, and C1 keeps that
  // order. The time bound is not the point here; it only ends a wedged run.
  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void randomKillsAmongFourCountingProcessesLoseNoIncrement() throws Exception {
    Path stateFile = directory.resolve("state");
    Files.write(stateFile, new byte[(int) OwnerDeathWorker.STATE_BYTES]);
    Random random = new Random(42);
    Child[] counting = new Child[4];
    int[] slots = new int[counting.length]; // each worker's slot in the state file
    int nextSlot = 0;
    for (int i = 0; i < counting.length; i++) {
      slots[i] = nextSlot++;
      counting[i] = startCounting(stateFile, slots[i]);
    }
    List<Child> killed = new ArrayList<>();
    Queue<CompletableFuture<Child>> spares = new ArrayDeque<>();
    for (int i = 0; i < 2; i++) {
      spares.add(startSpare());
    }
    // A kill lands inside a holder's section only now and then (about 1 kill in 10 here: the other
    // processes mostly sleep while one re-takes the mutex), so 20 kills proved nothing in about
    // one run in eight: past KILL_ROUNDS, the rounds go on until one did, at most 5 times as many.
    int round = 0;
    for (;
        round < KILL_ROUNDS || (takeovers(counting, killed) == 0 && round < 5 * KILL_ROUNDS);
        round++) {
      Child replacement = spares.remove().get(120, TimeUnit.SECONDS); // READY, idle
      spares.add(startSpare());
      long before = counter(stateFile);
      Thread.sleep(20 + random.nextInt(60));
      int victim = random.nextInt(counting.length);
      counting[victim].kill();
      killed.add(counting[victim]);
      slots[victim] = nextSlot++;
      replacement.send("count " + stateFile + " " + slots[victim]);
      counting[victim] = replacement;
      awaitProgress(stateFile, before, round);
    }
    long recovered = 0;
    for (Child worker : counting) {
      worker.send("stop");
    }
    try (Arena arena = Arena.ofConfined();
        FileChannel channel = FileChannel.open(stateFile, StandardOpenOption.READ)) {
      MemorySegment state =
          channel.map(FileChannel.MapMode.READ_ONLY, 0, OwnerDeathWorker.STATE_BYTES, arena);
      for (int i = 0; i < counting.length; i++) {
        long done = Long.parseLong(counting[i].expect("DONE").split(" ")[1]);
        assertEquals(
            done,
            state.get(ValueLayout.JAVA_LONG, Long.BYTES * (1L + slots[i])),
            "a surviving worker's increments are all counted: " + slots[i]);
      }
      long sum = 0;
      for (int i = 0; i < nextSlot; i++) {
        sum += state.get(ValueLayout.JAVA_LONG, Long.BYTES * (1L + i));
      }
      assertEquals(sum, state.get(ValueLayout.JAVA_LONG, OwnerDeathWorker.COUNTER_OFFSET));
    }
    List<Child> everyone = new ArrayList<>(killed);
    everyone.addAll(List.of(counting));
    for (Child worker : everyone) {
      assertTrue(
          worker.seen().stream().noneMatch(line -> line.startsWith("BROKEN")),
          worker.seen().toString());
      recovered += worker.seen().stream().filter(line -> line.equals("RECOVERED")).count();
    }
    System.out.println(round + " kills, " + recovered + " takeovers from a killed holder");
    assertTrue(recovered > 0, "no kill of " + round + " landed on a holder: it proved nothing");
  }

  /** The takeovers from a killed holder reported so far by the workers. */
  private static long takeovers(Child[] counting, List<Child> killed) {
    List<Child> everyone = new ArrayList<>(killed);
    everyone.addAll(List.of(counting));
    return everyone.stream()
        .flatMap(worker -> worker.seen().stream())
        .filter(line -> line.equals("RECOVERED"))
        .count();
  }

  /** A worker JVM started on a thread of its own; the future completes once it is READY. */
  private CompletableFuture<Child> startSpare() {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return worker();
          } catch (Exception e) {
            throw new CompletionException(e);
          }
        },
        task -> Thread.ofPlatform().daemon(true).start(task));
  }

  private Child startCounting(Path stateFile, int slot) throws Exception {
    Child worker = worker();
    worker.send("count " + stateFile + " " + slot);
    return worker;
  }

  private static long counter(Path stateFile) throws Exception {
    try (Arena arena = Arena.ofConfined();
        FileChannel channel = FileChannel.open(stateFile, StandardOpenOption.READ)) {
      return channel
          .map(FileChannel.MapMode.READ_ONLY, 0, OwnerDeathWorker.STATE_BYTES, arena)
          .get(ValueLayout.JAVA_LONG, OwnerDeathWorker.COUNTER_OFFSET);
    }
  }

  /** The counter moves on after a kill: nobody is wedged. */
  private static void awaitProgress(Path stateFile, long before, int round) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (counter(stateFile) <= before + 10) {
      assertTrue(System.nanoTime() < deadline, "no progress after kill " + round);
      Thread.sleep(5);
    }
  }
}
