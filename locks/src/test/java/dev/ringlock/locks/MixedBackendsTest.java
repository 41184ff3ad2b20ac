package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.memory.MappedRegion;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM on io_uring and a JVM on the syscalls backend share one region file: the futex words are
 * the same, so every wake of one reaches the waiters of the other, and each notices the other's
 * death. Each child is forced onto its backend with -Dringlock.backend (the last -D wins over the
 * one ChildJvm passes on). This JVM only creates the region and its objects, never waits or wakes,
 * so the test is the same whatever backend this JVM was given, and runs once (tag
 * pins-both-backends: locks/pom.xml leaves it out of the syscalls-backend run).
 */
@Tag("pins-both-backends")
@Timeout(180)
class MixedBackendsTest {
  private static final List<String> IO_URING = List.of("-Dringlock.backend=io_uring");
  private static final List<String> SYSCALLS = List.of("-Dringlock.backend=syscalls");

  @TempDir Path directory;
  private Path regionFile;
  private final List<Process> children = new ArrayList<>();

  @BeforeEach
  void createRegion() throws Exception {
    regionFile = directory.resolve("region");
    SharedRegion.open(regionFile).close();
  }

  @AfterEach
  void killChildren() {
    children.forEach(Process::destroyForcibly);
  }

  @Test
  void aMutexAndAConditionTakeTurnsBetweenAnIoUringJvmAndASyscallsJvm() throws Exception {
    int turns = 300;
    Path go = directory.resolve("go");
    Path even = directory.resolve("even.log");
    Path odd = directory.resolve("odd.log");
    String[] common = {regionFile.toString(), go.toString()};
    Process onUring =
        child(ChildJvm.start(even, IO_URING, ConditionPingPong.class, args(common, "0", turns)));
    Process onSyscalls =
        child(ChildJvm.start(odd, SYSCALLS, ConditionPingPong.class, args(common, "1", turns)));
    Files.createFile(go);
    assertExitsCleanly(onUring, even);
    assertExitsCleanly(onSyscalls, odd);
    try (MappedRegion raw =
        MappedRegion.open(
            regionFile, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      assertEquals(2L * turns, MutexWorker.counterOf(raw).get(ValueLayout.JAVA_LONG, 0));
    }
  }

  @Test
  void aSemaphoreBoundedBufferRunsBetweenAnIoUringProducerAndASyscallsConsumer() throws Exception {
    int items = 5_000;
    Path go = directory.resolve("go");
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      region.semaphore("slots", SemaphoreWorker.SLOTS, SemaphoreWorker.SIGNAL);
      region.semaphore("items", 0, SemaphoreWorker.SIGNAL);
    }
    Path producerLog = directory.resolve("producer.log");
    Path consumerLog = directory.resolve("consumer.log");
    String file = regionFile.toString();
    Process producer =
        child(
            ChildJvm.start(
                producerLog,
                IO_URING,
                SemaphoreWorker.class,
                "producer",
                file,
                go.toString(),
                Integer.toString(items)));
    Process consumer =
        child(
            ChildJvm.start(
                consumerLog,
                SYSCALLS,
                SemaphoreWorker.class,
                "consumer",
                file,
                go.toString(),
                Integer.toString(items)));
    Files.createFile(go);
    assertExitsCleanly(producer, producerLog);
    assertExitsCleanly(consumer, consumerLog);
    long sum = (long) items * (items - 1) / 2;
    assertTrue(
        Files.readString(consumerLog).contains("CONSUMED " + items + " " + sum),
        Files.readString(consumerLog));
  }

  @Test
  void aSyscallsJvmTakesOverTheMutexOfAKilledIoUringJvm() throws Exception {
    assertTakeover(IO_URING, SYSCALLS);
  }

  @Test
  void anIoUringJvmTakesOverTheMutexOfAKilledSyscallsJvm() throws Exception {
    assertTakeover(SYSCALLS, IO_URING);
  }

  @Test
  void anUnlockInOneBackendHandsTheMutexToAWaiterOnTheOther() throws Exception {
    for (List<String>[] pair : pairs()) {
      Worker owner = new Worker(pair[0], "handoff");
      owner.send("lock");
      owner.expect("TOOK");
      Worker waiter = new Worker(pair[1], "handoff");
      waiter.send("lock");
      Thread.sleep(300); // the waiter's kernel wait is armed
      owner.send("unlock");
      owner.expect("UNLOCKED");
      String took = waiter.expect("TOOK");
      assertEquals("false", took.split(" ")[1], "a plain unlock, not an owner death: " + took);
      waiter.send("unlock");
      waiter.expect("UNLOCKED");
      owner.send("exit");
      waiter.send("exit");
    }
  }

  @SuppressWarnings("unchecked")
  private static List<String>[][] pairs() {
    return new List[][] {{IO_URING, SYSCALLS}, {SYSCALLS, IO_URING}};
  }

  private void assertTakeover(List<String> ownerBackend, List<String> waiterBackend)
      throws Exception {
    Worker owner = new Worker(ownerBackend, "m");
    owner.send("lock");
    owner.expect("TOOK");
    Worker waiter = new Worker(waiterBackend, "m");
    waiter.send("lock");
    Thread.sleep(300); // the waiter's kernel wait and exit watch are armed
    owner.kill();
    String took = waiter.expect("TOOK");
    assertEquals("true", took.split(" ")[1], "the waiter saw the owner die: " + took);
  }

  private static String[] args(String[] common, String parity, int turns) {
    return new String[] {common[0], common[1], parity, Integer.toString(turns)};
  }

  private Process child(Process process) {
    children.add(process);
    return process;
  }

  private static void assertExitsCleanly(Process process, Path log) throws Exception {
    assertTrue(process.waitFor(120, TimeUnit.SECONDS), "hung: " + Files.readString(log));
    assertEquals(0, process.exitValue(), Files.readString(log));
  }

  /** An OwnerDeathWorker on one mutex, driven by lines on stdin. */
  private final class Worker extends PipedChild {
    Worker(List<String> backend, String mutex) throws Exception {
      super(
          child(
              ChildJvm.startPiped(backend, OwnerDeathWorker.class, regionFile.toString(), mutex)));
      expect("READY");
    }
  }
}
