package dev.ringlock.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ProcessWatchTest {
  private FutexRing ring;
  private ProcessWatch processes;

  @BeforeEach
  void openRing() {
    ring = FutexRing.open();
    processes = ring.processes();
  }

  @AfterEach
  void closeRing() {
    ring.close();
  }

  @Test
  void aRunningProcessIsAliveAndItsExitRunsEveryListenerOnce() throws Exception {
    try (Child sleeper = Child.program("sleep", "60").start()) {
      int pid = sleeper.intPid();
      assertTrue(processes.isAlive(pid));
      assertTrue(ProcessWatch.isAliveNow(pid), "the one-shot probe agrees, without a ring");
      CountDownLatch exited = new CountDownLatch(2);
      AtomicInteger runs = new AtomicInteger();
      Runnable listener =
          () -> {
            runs.incrementAndGet();
            exited.countDown();
          };
      assertNotNull(processes.onExit(pid, listener));
      assertNotNull(processes.onExit(pid, listener));
      assertEquals(1, processes.watchedProcesses(), "one poll stands for every listener");
      Thread.sleep(50);
      assertEquals(0, runs.get());
      sleeper.kill();
      assertTrue(exited.await(10, TimeUnit.SECONDS));
      assertFalse(processes.isAlive(pid));
      assertFalse(ProcessWatch.isAliveNow(pid));
      assertEquals(2, runs.get());
      assertEquals(0, processes.watchedProcesses(), "an exited process's entry is dropped");
    }
  }

  @Test
  void aCancelledListenerDoesNotRun() throws Exception {
    try (Child sleeper = Child.program("sleep", "60").start()) {
      int pid = sleeper.intPid();
      AtomicInteger cancelledRuns = new AtomicInteger();
      CountDownLatch kept = new CountDownLatch(1);
      processes.onExit(pid, cancelledRuns::incrementAndGet).cancel();
      processes.onExit(pid, kept::countDown);
      sleeper.kill();
      assertTrue(kept.await(10, TimeUnit.SECONDS));
      assertEquals(0, cancelledRuns.get());
    }
  }

  @Test
  void aProcessThatIsGoneIsNotAliveAndGetsNoSubscription() throws Exception {
    int pid = Child.deadPid();
    assertFalse(processes.isAlive(pid));
    assertFalse(ProcessWatch.isAliveNow(pid));
    assertNull(processes.onExit(pid, () -> {}));
    assertEquals(0, processes.watchedProcesses());
  }

  @Test
  void aZombieIsNotAlive() throws Exception {
    // The shell's background child exits; its parent (the shell, exec'd into sleep) never reaps
    // it, so it stays a zombie: kill(pid, 0) would still call it alive.
    try (Child parent =
        Child.program("sh", "-c", "sleep 0.1 & echo $!; exec sleep 30").captureOutput().start()) {
      int zombie = Integer.parseInt(parent.expect("").trim());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (!isZombie(zombie) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertTrue(isZombie(zombie), "the child did not become a zombie");
      assertTrue(ProcessHandle.of(zombie).isPresent(), "the zombie's pid still exists");
      assertFalse(processes.isAlive(zombie));
      assertFalse(ProcessWatch.isAliveNow(zombie), "the one-shot probe calls a zombie dead too");
    }
  }

  @Test
  void onAClosedRingALiveProcessIsStillAliveAndADeadOneDead() throws Exception {
    try (Child sleeper = Child.program("sleep", "60").start()) {
      ring.close();
      assertTrue(processes.isAlive(sleeper.intPid()), "probed, though it cannot be watched");
      assertTrue(processes.isAlive(sleeper.intPid()), "and probed again");
      int deadPid = Child.deadPid();
      assertFalse(processes.isAlive(deadPid));
      assertEquals(0, processes.watchedProcesses());
    }
  }

  @Test
  void aPidThatNamesAThreadNotAProcessIsNotAlive() throws Exception {
    // A thread of this JVM: its id is a pid no process has (the process that had it is gone).
    Path tasks = Path.of("/proc/self/task");
    int self = (int) ProcessHandle.current().pid();
    int thread;
    try (var ids = Files.list(tasks)) {
      thread =
          ids.map(path -> Integer.parseInt(path.getFileName().toString()))
              .filter(id -> id != self)
              .findFirst()
              .orElseThrow();
    }
    assertFalse(processes.isAlive(thread));
    assertNull(processes.onExit(thread, () -> {}));
    assertTrue(ring.onProcessExit(thread).isDone());
  }

  @Test
  void aPidThatIsNotPositiveIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> processes.isAlive(0));
    assertThrows(IllegalArgumentException.class, () -> processes.onExit(-1, () -> {}));
    assertThrows(IllegalArgumentException.class, () -> ProcessWatch.isAliveNow(0));
  }

  @Test
  void aPidfdIsClosedWhenTheLastListenerOnItsProcessIsCancelled() throws Exception {
    List<Child> peers = startSleepers(5);
    try {
      int before = openPidfds();
      List<ProcessWatch.Subscription> first = new ArrayList<>();
      List<ProcessWatch.Subscription> second = new ArrayList<>();
      for (Child peer : peers) {
        first.add(processes.onExit(peer.intPid(), () -> {}));
        second.add(processes.onExit(peer.intPid(), () -> {}));
      }
      assertEquals(before + 5, openPidfds(), "one pidfd per distinct process, shared");
      assertEquals(5, processes.watchedProcesses());
      first.forEach(ProcessWatch.Subscription::cancel);
      assertEquals(5, processes.watchedProcesses(), "each still has a listener");
      assertEquals(before + 5, openPidfds());
      second.forEach(ProcessWatch.Subscription::cancel);
      assertEquals(0, processes.watchedProcesses(), "no listener left: none watched");
      // They linger (at most MAX_LINGERING) until the sweep cancels their polls, whose
      // completions, on the ring's thread, close their pidfds.
      assertEventually(() -> openPidfds() == before, "the unused pidfds were closed");
      assertEquals(0, processes.lingeringProcesses());
    } finally {
      peers.forEach(Child::close);
    }
  }

  @Test
  void askingWhetherProcessesAreAliveKeepsNoPidfdOpen() throws Exception {
    List<Child> peers = startSleepers(5);
    try {
      int before = openPidfds();
      for (int round = 0; round < 3; round++) {
        for (Child peer : peers) {
          assertTrue(processes.isAlive(peer.intPid()));
        }
      }
      assertEquals(before, openPidfds(), "isAlive alone keeps nothing");
      assertEquals(0, processes.watchedProcesses());
      ProcessWatch.Subscription watch = processes.onExit(peers.get(0).intPid(), () -> {});
      assertTrue(processes.isAlive(peers.get(0).intPid()), "answered from the entry");
      assertEquals(before + 1, openPidfds());
      watch.cancel();
      assertEventually(() -> openPidfds() == before, "the pidfd was closed");
    } finally {
      peers.forEach(Child::close);
    }
  }

  @Test
  void aListenerAddedAfterTheLastWasCancelledStillHearsTheExit() throws Exception {
    try (Child sleeper = Child.program("sleep", "60").start()) {
      int pid = sleeper.intPid();
      processes.onExit(pid, () -> {}).cancel();
      CountDownLatch exited = new CountDownLatch(1);
      assertNotNull(processes.onExit(pid, exited::countDown));
      sleeper.kill();
      assertTrue(exited.await(10, TimeUnit.SECONDS));
      assertEquals(0, processes.watchedProcesses());
    }
  }

  // ---- lingering entries: a watch that ends keeps its pidfd for the next one a while ----

  /** A watch of its own on this test's ring, whose entries linger longer than any test runs. */
  private ProcessWatch lingeringForAnHour() {
    return new ProcessWatch(ring, java.time.Duration.ofHours(1));
  }

  @Test
  void aWatchAfterTheLastListenerLeftFindsTheLingeringEntryAndHearsTheExit() throws Exception {
    ProcessWatch watch = lingeringForAnHour();
    try (Child sleeper = Child.program("sleep", "60").start()) {
      int pid = sleeper.intPid();
      int before = openPidfds();
      watch.onExit(pid, () -> {}).cancel();
      assertEquals(0, watch.watchedProcesses());
      assertEquals(1, watch.lingeringProcesses(), "the last listener left: it lingers");
      assertEquals(before + 1, openPidfds(), "with its pidfd");
      assertTrue(watch.isAlive(pid), "answered from the lingering entry");
      CountDownLatch exited = new CountDownLatch(1);
      assertNotNull(watch.onExit(pid, exited::countDown));
      assertEquals(1, watch.watchedProcesses());
      assertEquals(0, watch.lingeringProcesses(), "listened to again");
      assertEquals(before + 1, openPidfds(), "no second pidfd: the lingering poll serves it");
      sleeper.kill();
      assertTrue(exited.await(10, TimeUnit.SECONDS), "the lingering poll heard the exit");
      assertEquals(0, watch.watchedProcesses());
      assertEventually(() -> openPidfds() == before, "the exited process's pidfd was closed");
    }
  }

  @Test
  void atMostMaxLingeringEntriesLingerAndTheOldestGoFirst() throws Exception {
    ProcessWatch watch = lingeringForAnHour();
    List<Child> peers = startSleepers(ProcessWatch.MAX_LINGERING + 2);
    try {
      int before = openPidfds();
      for (Child peer : peers) {
        watch.onExit(peer.intPid(), () -> {}).cancel();
      }
      assertEquals(ProcessWatch.MAX_LINGERING, watch.lingeringProcesses());
      assertEventually(
          () -> openPidfds() == before + ProcessWatch.MAX_LINGERING,
          "the evicted entries' pidfds were closed, the lingering ones kept");
      // The two oldest went: watching them again opens a pidfd each, the newest none.
      watch.onExit(peers.getLast().intPid(), () -> {});
      assertEquals(before + ProcessWatch.MAX_LINGERING, openPidfds());
      watch.onExit(peers.getFirst().intPid(), () -> {});
      assertEquals(before + ProcessWatch.MAX_LINGERING + 1, openPidfds());
    } finally {
      peers.forEach(Child::close);
    }
  }

  @Test
  void aLingeringProcessThatExitsLeavesNoEntryAndNoPidfd() throws Exception {
    ProcessWatch watch = lingeringForAnHour();
    try (Child sleeper = Child.program("sleep", "60").start()) {
      int before = openPidfds();
      watch.onExit(sleeper.intPid(), () -> {}).cancel();
      sleeper.kill();
      assertEventually(() -> watch.lingeringProcesses() == 0, "its exit dropped the entry");
      assertEventually(() -> openPidfds() == before, "and closed its pidfd");
      assertFalse(watch.isAlive(sleeper.intPid()));
    }
  }

  @Test
  void closingTheRingClosesTheLingeringPidfds() throws Exception {
    ProcessWatch watch = lingeringForAnHour();
    List<Child> peers = startSleepers(3);
    try {
      int before = openPidfds();
      for (Child peer : peers) {
        watch.onExit(peer.intPid(), () -> {}).cancel();
      }
      assertEquals(before + 3, openPidfds());
      ring.close();
      assertEventually(() -> openPidfds() == before, "the closed ring's polls closed them");
      assertEventually(() -> watch.lingeringProcesses() == 0, "and their entries went");
    } finally {
      peers.forEach(Child::close);
    }
  }

  @Test
  void lingeringEntriesGoOnceTheirPeriodHasPassed() throws Exception {
    ProcessWatch watch = new ProcessWatch(ring, java.time.Duration.ofMillis(20));
    List<Child> peers = startSleepers(3);
    try {
      int before = openPidfds();
      for (Child peer : peers) {
        watch.onExit(peer.intPid(), () -> {}).cancel();
      }
      assertEventually(() -> watch.lingeringProcesses() == 0, "the sweep dropped them");
      assertEventually(() -> openPidfds() == before, "and closed their pidfds");
    } finally {
      peers.forEach(Child::close);
    }
  }

  /** Sleeping processes whose stdio is not piped to this JVM, so they hold none of its fds. */
  static List<Child> startSleepers(int count) throws Exception {
    List<Child> sleepers = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      sleepers.add(Child.program("sleep", "60").discardOutput().start());
    }
    return sleepers;
  }

  /** How many pidfds this process has open, as /proc/self/fd shows them. */
  static int openPidfds() {
    int count = 0;
    try (var fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : fds.toList()) {
        try {
          if (Files.readSymbolicLink(fd).toString().contains("pidfd")) {
            count++;
          }
        } catch (java.io.IOException closedMeanwhile) {
          // the listing's own fd, or one closed since
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return count;
  }

  static void assertEventually(java.util.function.BooleanSupplier condition, String what)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "not within 10 s: " + what);
      Thread.sleep(10);
    }
  }

  private static boolean isZombie(int pid) throws Exception {
    Path stat = Path.of("/proc/" + pid + "/stat");
    if (!Files.exists(stat)) {
      return false;
    }
    String line = Files.readString(stat);
    return line.substring(line.lastIndexOf(')') + 2).startsWith("Z");
  }
}
