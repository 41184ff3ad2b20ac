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
      assertEquals(0, processes.watchedProcesses(), "no listener left: no entry");
      // The cancelled polls complete on the ring's thread, which closes their pidfds.
      assertEventually(() -> openPidfds() == before, "the unused pidfds were closed");
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
