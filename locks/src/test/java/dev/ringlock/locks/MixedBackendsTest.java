package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.testsupport.Child;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM on io_uring and a JVM on the syscalls backend share one region file: the futex words are
 * the same, so every wake of one reaches the waiters of the other, and each notices the other's
 * death. Each child is forced onto its backend with -Dringlock.backend (instead of the one Child
 * passes on). This JVM only creates the region and its objects, never waits or wakes, so the test
 * is the same whatever backend this JVM was given, and runs once (tag pins-both-backends:
 * locks/pom.xml leaves it out of the syscalls-backend run).
 */
@Tag("pins-both-backends")
@Timeout(180)
class MixedBackendsTest {
  private static final String IO_URING = "io_uring";
  private static final String SYSCALLS = "syscalls";

  private static final Duration EXIT = Duration.ofSeconds(120);

  @TempDir Path directory;
  private Path regionFile;
  private final List<Child> children = new ArrayList<>();

  @BeforeEach
  void createRegion() throws Exception {
    regionFile = directory.resolve("region");
    SharedRegion.open(regionFile).close();
  }

  @AfterEach
  void killChildren() {
    children.forEach(Child::close);
  }

  @Test
  void aMutexAndAConditionTakeTurnsBetweenAnIoUringJvmAndASyscallsJvm() throws Exception {
    int turns = 300;
    Path go = directory.resolve("go");
    Path even = directory.resolve("even.log");
    Path odd = directory.resolve("odd.log");
    String[] common = {regionFile.toString(), go.toString()};
    Child onUring = child(even, IO_URING, ConditionPingPong.class, args(common, "0", turns));
    Child onSyscalls = child(odd, SYSCALLS, ConditionPingPong.class, args(common, "1", turns));
    Files.createFile(go);
    onUring.awaitSuccess(EXIT);
    onSyscalls.awaitSuccess(EXIT);
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
    String count = Integer.toString(items);
    Child producer =
        child(producerLog, IO_URING, SemaphoreWorker.class, "producer", file, go.toString(), count);
    Child consumer =
        child(consumerLog, SYSCALLS, SemaphoreWorker.class, "consumer", file, go.toString(), count);
    Files.createFile(go);
    producer.awaitSuccess(EXIT);
    consumer.awaitSuccess(EXIT);
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
    for (String[] pair : new String[][] {{IO_URING, SYSCALLS}, {SYSCALLS, IO_URING}}) {
      Child owner = worker(pair[0], "handoff");
      owner.send("lock");
      owner.expect("TOOK");
      Child waiter = worker(pair[1], "handoff");
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

  private void assertTakeover(String ownerBackend, String waiterBackend) throws Exception {
    Child owner = worker(ownerBackend, "m");
    owner.send("lock");
    owner.expect("TOOK");
    Child waiter = worker(waiterBackend, "m");
    waiter.send("lock");
    Thread.sleep(300); // the waiter's kernel wait and exit watch are armed
    owner.kill();
    String took = waiter.expect("TOOK");
    assertEquals("true", took.split(" ")[1], "the waiter saw the owner die: " + took);
  }

  private static String[] args(String[] common, String parity, int turns) {
    return new String[] {common[0], common[1], parity, Integer.toString(turns)};
  }

  /** A child JVM on {@code backend}, its output in {@code log}. */
  private Child child(Path log, String backend, Class<?> mainClass, String... args)
      throws Exception {
    Child child =
        Child.jvm(mainClass, args)
            .systemProperty(Child.BACKEND_PROPERTY, backend)
            .logTo(log)
            .start();
    children.add(child);
    return child;
  }

  /** An OwnerDeathWorker on one mutex and {@code backend}, driven by lines on stdin. */
  private Child worker(String backend, String mutex) throws Exception {
    Child worker =
        Child.jvm(OwnerDeathWorker.class, regionFile.toString(), mutex)
            .systemProperty(Child.BACKEND_PROPERTY, backend)
            .captureOutput()
            .start();
    children.add(worker);
    worker.awaitStarted("READY");
    return worker;
  }
}
