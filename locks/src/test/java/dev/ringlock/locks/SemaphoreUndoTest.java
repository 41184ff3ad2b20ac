package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.InvalidRegionException;
import dev.ringlock.core.memory.MappedRegion;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * Undo on exit in one JVM: the holder table as the semaphore keeps it, read and written raw through
 * a second mapping of the region. A dead holder is an entry naming pid_max + 1, a pid no process
 * can have; a live one names pid 1. Real deaths are in {@link SemaphoreCrossProcessTest}.
 */
@Timeout(60)
class SemaphoreUndoTest extends RegionTestBase {
  private static final int HOLDERS_AT = 64;
  private static final int SLOTS = 64;
  private static final int FLAGS_AT = 12;
  private static final SemaphoreOptions NO_UNDO =
      SemaphoreOptions.builder().undoOnExit(false).build();

  private final int self = Math.toIntExact(ProcessHandle.current().pid());
  private MappedRegion raw;

  @BeforeEach
  void mapRaw() throws Exception {
    raw = openRawMapping();
  }

  @AfterEach
  void unmapRaw() {
    raw.close();
  }

  /** A pid no process can have: above the kernel's pid_max (within the 30 bits entries allow). */
  private static int deadPid() throws Exception {
    // readAllLines: Files.readString of this procfs file returns its first byte only (JDK 25)
    return Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/kernel/pid_max")).get(0)) + 1;
  }

  private MemorySegment object(String name) {
    return raw.segment(raw.find(name).orElseThrow());
  }

  private static long entry(int pid, int held) {
    return Integer.toUnsignedLong(pid) | (Integer.toUnsignedLong(held) << 32); // little-endian
  }

  private static void plant(MemorySegment object, int slot, int pid, int held) {
    object.set(ValueLayout.JAVA_LONG, HOLDERS_AT + slot * 8L, entry(pid, held));
  }

  /** The table's entries in use, as "pid:held" with "self" for this process. */
  private List<String> holders(MemorySegment object) {
    List<String> used = new ArrayList<>();
    for (int slot = 0; slot < SLOTS; slot++) {
      int pid = object.get(ValueLayout.JAVA_INT, HOLDERS_AT + slot * 8L);
      int held = object.get(ValueLayout.JAVA_INT, HOLDERS_AT + slot * 8L + 4);
      if (pid != 0 || held != 0) {
        used.add((pid == self ? "self" : Integer.toUnsignedString(pid)) + ":" + held);
      }
    }
    return used;
  }

  private SharedRegion otherView() throws Exception {
    return SharedRegion.open(region.file(), withRing());
  }

  // ---- what the table records ----

  @Test
  void theHoldingIsWhatWasAcquiredMinusWhatWasReleasedNeverBelowZero() throws Exception {
    Semaphore semaphore = region.semaphore("s", 10);
    MemorySegment object = object("s");
    await(semaphore.acquire(3));
    assertEquals(List.of("self:3"), holders(object));
    assertTrue(semaphore.tryAcquire(2));
    assertEquals(List.of("self:5"), holders(object));
    assertEquals(5, semaphore.drainPermits());
    assertEquals(List.of("self:10"), holders(object));
    semaphore.release(4);
    assertEquals(List.of("self:6"), holders(object));
    semaphore.release(6);
    assertEquals(List.of(), holders(object), "an entry that reaches 0 is freed");
    semaphore.release(3); // permits never acquired: a signal, not a holding
    assertEquals(List.of(), holders(object));
    assertEquals(13, semaphore.availablePermits());
    try (SharedRegion other = otherView()) {
      await(other.semaphore("s", 0).acquire(2)); // another view of this process: the same pid
      assertEquals(List.of("self:2"), holders(object));
      semaphore.release(2);
      assertEquals(List.of(), holders(object));
    }
    assertTrue(semaphore.toString().contains("held here 0, holder entries in use 0 of 64"));
  }

  @Test
  void aQueuedAcquireIsRecordedWhenItIsGranted() throws Exception {
    Semaphore semaphore = region.semaphore("s", 0);
    MemorySegment object = object("s");
    CompletableFuture<Void> waiting = semaphore.acquire(2);
    assertEquals(List.of(), holders(object));
    try (SharedRegion other = otherView()) {
      other.semaphore("s", 0).release(2);
      await(waiting);
    }
    assertEquals(List.of("self:2"), holders(object));
  }

  @Test
  void aHoldingIsCappedAtMaxPermits() {
    Semaphore semaphore = region.semaphore("s", 10);
    plant(object("s"), 0, self, Semaphore.MAX_PERMITS - 1);
    assertTrue(semaphore.tryAcquire(5));
    assertEquals(List.of("self:" + Semaphore.MAX_PERMITS), holders(object("s")));
  }

  // ---- dead holders ----

  @Test
  void aDeadHoldersPermitsReturnToTheNextTryAcquireOrAcquireThatNeedsThem() throws Exception {
    Semaphore tried = region.semaphore("tried", 0);
    plant(object("tried"), 5, deadPid(), 3);
    assertEquals(0, tried.availablePermits(), "returned only when someone needs them");
    assertTrue(tried.tryAcquire(2));
    assertEquals(1, tried.availablePermits());
    assertEquals(List.of("self:2"), holders(object("tried")));
    Semaphore acquired = region.semaphore("acquired", 1);
    plant(object("acquired"), 63, deadPid(), 2);
    await(acquired.acquire(3));
    assertEquals(0, acquired.availablePermits());
    assertEquals(List.of("self:3"), holders(object("acquired")));
  }

  @Test
  void aHolderWhosePidNowNamesAThreadOfAnotherProcessIsGone() throws Exception {
    // A pid reused as a thread id: pidfd_open refuses it (ENOENT), so no process has it now.
    int thread;
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      thread =
          tasks
              .map(task -> Integer.parseInt(task.getFileName().toString()))
              .filter(tid -> tid != self)
              .findFirst()
              .orElseThrow();
    }
    Semaphore semaphore = region.semaphore("s", 0);
    plant(object("s"), 0, thread, 2);
    assertTrue(semaphore.tryAcquire(2), semaphore.toString());
    assertEquals(List.of("self:2"), holders(object("s")));
  }

  @Test
  void aLiveHoldersPermitsStayWithIt() throws Exception {
    Semaphore semaphore = region.semaphore("s", 0);
    plant(object("s"), 0, 1, 3); // pid 1 lives as long as this namespace
    assertFalse(semaphore.tryAcquire(1));
    assertInstanceOf(
        TimeoutException.class, failureOf(semaphore.acquire(1, Duration.ofMillis(50))));
    assertEquals(List.of("1:3"), holders(object("s")));
  }

  @Test
  void aDeadHoldersPermitsAreCappedAtMaxPermitsWhenTheyReturn() throws Exception {
    Semaphore semaphore = region.semaphore("s", Semaphore.MAX_PERMITS - 5);
    plant(object("s"), 7, deadPid(), 10);
    assertTrue(semaphore.tryAcquire(Semaphore.MAX_PERMITS));
    assertEquals(0, semaphore.availablePermits());
    assertEquals(List.of("self:" + Semaphore.MAX_PERMITS), holders(object("s")));
  }

  @Test
  void theTwoViewsOfOneDeadEntryReturnItsPermitsOnce() throws Exception {
    Semaphore semaphore = region.semaphore("s", 0);
    plant(object("s"), 2, deadPid(), 4);
    try (SharedRegion other = otherView()) {
      assertTrue(other.semaphore("s", 0).tryAcquire(4));
      assertFalse(semaphore.tryAcquire(1), "returned twice");
    }
    assertEquals(List.of("self:4"), holders(object("s")));
  }

  // ---- opting out ----

  @Test
  void withoutUndoTheTableIsNeverTouchedAndDeadHoldersKeepTheirPermits() throws Exception {
    Semaphore semaphore = region.semaphore("signal", 5, NO_UNDO);
    MemorySegment object = object("signal");
    assertEquals(1, object.get(ValueLayout.JAVA_INT, FLAGS_AT), "FLAG_NO_UNDO");
    await(semaphore.acquire(2));
    assertTrue(semaphore.tryAcquire(1));
    assertEquals(2, semaphore.drainPermits());
    semaphore.release(7);
    for (long at = HOLDERS_AT; at < object.byteSize(); at++) {
      assertEquals(0, object.get(ValueLayout.JAVA_BYTE, at), "holder table byte " + at);
    }
    assertEquals(7, semaphore.drainPermits());
    plant(object, 0, deadPid(), 4);
    assertFalse(semaphore.tryAcquire(1));
    assertInstanceOf(
        TimeoutException.class, failureOf(semaphore.acquire(1, Duration.ofMillis(50))));
    assertEquals(0, semaphore.availablePermits());
    assertTrue(semaphore.toString().contains("undo on exit off"), semaphore.toString());
  }

  @Test
  void optionsThatDisagreeWithTheCreationAreRefused() throws Exception {
    Semaphore undo = region.semaphore("undo", 1);
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> region.semaphore("undo", 1, NO_UNDO));
    assertTrue(e.getMessage().contains("created with undoOnExit true"), e.getMessage());
    assertTrue(e.getMessage().contains("SemaphoreOptions[undoOnExit false]"), e.getMessage());
    assertSame(undo, region.semaphore("undo", 1, SemaphoreOptions.defaults()));
    Semaphore signal = region.semaphore("signal", 1, NO_UNDO);
    try (SharedRegion other = otherView()) {
      e = assertThrows(IllegalStateException.class, () -> other.semaphore("signal", 1));
      assertTrue(e.getMessage().contains("created with undoOnExit false"), e.getMessage());
      assertThrows(IllegalStateException.class, () -> other.semaphore("undo", 1, NO_UNDO));
      assertEquals(1, other.semaphore("signal", 0, NO_UNDO).availablePermits());
    }
    assertSame(signal, region.semaphore("signal", 1, NO_UNDO));
    assertThrows(NullPointerException.class, () -> region.semaphore("x", 1, null));
    assertFalse(raw.find("x").isPresent());
  }

  // ---- a full table ----

  @Test
  void aFullTableRefusesANewHolderAndLeavesThePermits() throws Exception {
    Semaphore semaphore = region.semaphore("s", 10);
    MemorySegment object = object("s");
    for (int slot = 0; slot < SLOTS; slot++) {
      plant(object, slot, 1, 1); // live holders
    }
    Throwable failure = failureOf(semaphore.acquire(1));
    SemaphoreHoldersFullException full =
        assertInstanceOf(SemaphoreHoldersFullException.class, failure);
    assertEquals(64, full.capacity());
    assertTrue(full.getMessage().contains("semaphore 's'"), full.getMessage());
    assertTrue(full.getMessage().contains("undoOnExit(false)"), full.getMessage());
    assertThrows(SemaphoreHoldersFullException.class, () -> semaphore.tryAcquire(1));
    assertThrows(SemaphoreHoldersFullException.class, semaphore::drainPermits);
    assertEquals(10, semaphore.availablePermits(), "refused permits stay in the semaphore");
    semaphore.release(3); // a release needs no entry
    assertEquals(13, semaphore.availablePermits());
    plant(object, 40, 0, 0); // one holder leaves
    assertTrue(semaphore.tryAcquire(2));
    assertTrue(semaphore.tryAcquire(2), "this process's own entry takes more");
    assertEquals("self:4", holders(object).get(40));
  }

  @Test
  void aQueuedAcquireGrantedWhileTheTableIsFullFailsAndLeavesThePermits() throws Exception {
    Semaphore semaphore = region.semaphore("s", 0);
    MemorySegment object = object("s");
    for (int slot = 0; slot < SLOTS; slot++) {
      plant(object, slot, 1, 1);
    }
    CompletableFuture<Void> first = semaphore.acquire(1);
    CompletableFuture<Void> second = semaphore.acquire(1);
    try (SharedRegion other = otherView()) {
      other.semaphore("s", 0).release(1);
      assertInstanceOf(SemaphoreHoldersFullException.class, failureOf(first));
      assertInstanceOf(SemaphoreHoldersFullException.class, failureOf(second));
    }
    assertEquals(1, semaphore.availablePermits());
  }

  // ---- distrust ----

  private static void assertCorrupt(Executable call, String finding) {
    UncheckedIOException e = assertThrows(UncheckedIOException.class, call);
    assertCorrupt(e, finding);
  }

  private static void assertCorrupt(Throwable e, String finding) {
    UncheckedIOException unchecked = assertInstanceOf(UncheckedIOException.class, e);
    InvalidRegionException cause =
        assertInstanceOf(InvalidRegionException.class, unchecked.getCause());
    assertEquals(InvalidRegionException.Problem.CORRUPT, cause.problem());
    assertTrue(e.getMessage().contains(finding), e.getMessage());
    assertTrue(e.getMessage().contains("semaphore 's'"), e.getMessage());
  }

  @Test
  void damagedHolderEntriesAreReportedAsCorruptionNeverUsedAsPermits() throws Exception {
    Semaphore semaphore = region.semaphore("s", 0);
    MemorySegment object = object("s");
    int[][] damaged = {{0, 5}, {1 << 30, 1}, {-1, 1}, {deadPid(), -1}, {self, Integer.MIN_VALUE}};
    for (int[] bad : damaged) {
      plant(object, 9, bad[0], bad[1]);
      String finding =
          "holder entry 9 records process "
              + Integer.toUnsignedString(bad[0])
              + " holding "
              + Integer.toUnsignedString(bad[1]);
      assertCorrupt(() -> semaphore.tryAcquire(1), finding);
      assertCorrupt(failureOf(semaphore.acquire(1)), finding);
      assertCorrupt(() -> semaphore.release(1), finding);
      assertEquals(0, semaphore.availablePermits(), "nothing was made up");
      assertTrue(semaphore.toString().contains("holder table corrupt"), semaphore.toString());
    }
    plant(object, 9, 0, 0);
    semaphore.release(1);
    assertTrue(semaphore.tryAcquire(1));
  }

  @Test
  void unknownFlagBitsAreReportedAsCorruption() throws Exception {
    region.semaphore("s", 1);
    object("s").set(ValueLayout.JAVA_INT, FLAGS_AT, 0x5);
    try (SharedRegion other = otherView()) {
      assertCorrupt(() -> other.semaphore("s", 1), "flags 0x5 have bits");
    }
  }
}
