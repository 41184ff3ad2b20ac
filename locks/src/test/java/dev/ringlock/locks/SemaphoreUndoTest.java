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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * Undo on exit in one JVM: the holder table as the semaphore keeps it, read and written raw through
 * a second mapping of the region. A dead holder is an entry naming pid_max + 1, a pid no process
 * can have; a live one names pid 1. A test that plants a dead holder's record also sets the word as
 * that holder left it (total - records). Real deaths are in {@link SemaphoreCrossProcessTest} and
 * {@link SemaphoreKillLoopTest}.
 */
@Timeout(60)
class SemaphoreUndoTest extends RegionTestBase {
  private static final int HOLDERS_AT = 64;
  private static final int SLOTS = 64;
  private static final int WORD_AT = 0;
  private static final int FLAGS_AT = 12;
  private static final int TOTAL_AT = 16;
  private static final int REPAIRER_AT = 20;
  private static final int REPAIR = 1 << 30;
  private static final int BUSY = Integer.MIN_VALUE;
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

  /**
   * The table's entries in use, as "pid:held" with "self" for this process: parked entries (a pid
   * holding 0, not BUSY, which any claim may take) hold nothing and are left out.
   */
  private List<String> holders(MemorySegment object) {
    List<String> used = new ArrayList<>();
    for (int slot = 0; slot < SLOTS; slot++) {
      int pidField = object.get(ValueLayout.JAVA_INT, HOLDERS_AT + slot * 8L);
      int pid = pidField & ~BUSY;
      int held = object.get(ValueLayout.JAVA_INT, HOLDERS_AT + slot * 8L + 4);
      if (held != 0 || (pidField & BUSY) != 0) {
        used.add((pid == self ? "self" : Integer.toUnsignedString(pid)) + ":" + held);
      }
    }
    return used;
  }

  private SharedRegion otherView() throws Exception {
    return SharedRegion.open(region.file(), withRing());
  }

  private static int word(MemorySegment object) {
    return object.get(ValueLayout.JAVA_INT, WORD_AT);
  }

  private static void setWord(MemorySegment object, int word) {
    object.set(ValueLayout.JAVA_INT, WORD_AT, word);
  }

  // ---- what the table records ----

  @Test
  void theHoldingIsWhatWasAcquiredMinusWhatWasReleased() throws Exception {
    Semaphore semaphore = region.semaphore("s", 10);
    MemorySegment object = object("s");
    assertEquals(10, object.get(ValueLayout.JAVA_INT, TOTAL_AT), "the total is recorded");
    await(semaphore.acquire(3));
    assertEquals(List.of("self:3"), holders(object));
    assertTrue(semaphore.tryAcquire(2));
    assertEquals(List.of("self:5"), holders(object));
    assertEquals(5, semaphore.drainPermits());
    assertEquals(List.of("self:10"), holders(object));
    semaphore.release(4);
    assertEquals(List.of("self:6"), holders(object));
    semaphore.release(6);
    assertEquals(List.of(), holders(object), "an entry that reaches 0 holds nothing (parked)");
    assertEquals(10, semaphore.availablePermits());
    try (SharedRegion other = otherView()) {
      Semaphore view = other.semaphore("s", 0);
      await(view.acquire(2)); // another view of this process: an entry of its own
      assertTrue(semaphore.tryAcquire(1)); // through its parked entry, the first slot
      assertEquals(List.of("self:1", "self:2"), holders(object));
      view.release(2);
      semaphore.release(1);
      assertEquals(List.of(), holders(object));
    }
    assertTrue(
        semaphore
            .toString()
            .contains("held here 0, holder entries in use 0 of 64 recording 0, total 10"),
        semaphore.toString());
  }

  @Test
  void aReleaseBeyondWhatTheProcessHoldsIsRefusedAndChangesNothing() throws Exception {
    Semaphore semaphore = region.semaphore("s", 5);
    MemorySegment object = object("s");
    IllegalStateException never =
        assertThrows(IllegalStateException.class, () -> semaphore.release(1));
    assertTrue(never.getMessage().contains("this process holds 0"), never.getMessage());
    assertTrue(semaphore.tryAcquire(2));
    IllegalStateException beyond =
        assertThrows(IllegalStateException.class, () -> semaphore.release(3));
    assertTrue(beyond.getMessage().contains("semaphore 's'"), beyond.getMessage());
    assertTrue(beyond.getMessage().contains("this process holds 2"), beyond.getMessage());
    assertTrue(beyond.getMessage().contains("undoOnExit(false)"), beyond.getMessage());
    assertEquals(3, semaphore.availablePermits(), "nothing changed");
    assertEquals(List.of("self:2"), holders(object));
    try (SharedRegion other = otherView()) {
      // permits belong to the view that took them: another view holds none of them
      assertThrows(IllegalStateException.class, () -> other.semaphore("s", 0).release(1));
    }
    semaphore.release(2);
    assertEquals(5, semaphore.availablePermits());
  }

  @Test
  void anUndoSemaphoreHoldsAtMostThirtyBitsOfPermits() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> region.semaphore("s", Semaphore.MAX_UNDO_PERMITS + 1));
    assertTrue(e.getMessage().contains("at most 1073741823"), e.getMessage());
    assertFalse(raw.find("s").isPresent());
    Semaphore most = region.semaphore("most", Semaphore.MAX_UNDO_PERMITS);
    assertTrue(most.tryAcquire(Semaphore.MAX_UNDO_PERMITS));
    most.release(Semaphore.MAX_UNDO_PERMITS);
    assertEquals(Semaphore.MAX_UNDO_PERMITS, most.availablePermits());
  }

  @Test
  void aQueuedAcquireIsRecordedWhenItIsGranted() throws Exception {
    Semaphore semaphore = region.semaphore("s", 2);
    MemorySegment object = object("s");
    try (SharedRegion other = otherView()) {
      Semaphore view = other.semaphore("s", 0);
      assertTrue(view.tryAcquire(2));
      CompletableFuture<Void> waiting = semaphore.acquire(2);
      assertEquals(List.of("self:2"), holders(object), "only the other view's");
      view.release(2);
      await(waiting);
    }
    assertEquals(List.of("self:2"), holders(object));
  }

  // ---- dead holders: the repair recomputes the count from the live records ----

  @Test
  void aDeadHoldersPermitsReturnToTheNextTryAcquireOrAcquireThatNeedsThem() throws Exception {
    Semaphore tried = region.semaphore("tried", 3);
    plant(object("tried"), 5, deadPid(), 3);
    setWord(object("tried"), 0); // as the dead process left it: it took 3
    assertEquals(0, tried.availablePermits(), "returned only when someone needs them");
    assertTrue(tried.tryAcquire(2));
    assertEquals(1, tried.availablePermits());
    assertEquals(List.of("self:2"), holders(object("tried")));
    Semaphore acquired = region.semaphore("acquired", 3);
    plant(object("acquired"), 63, deadPid(), 2);
    setWord(object("acquired"), 1);
    await(acquired.acquire(3));
    assertEquals(0, acquired.availablePermits());
    assertEquals(List.of("self:3"), holders(object("acquired")));
  }

  @Test
  void aProcessKilledBetweenTakingPermitsAndRecordingThemLosesNone() throws Exception {
    Semaphore semaphore = region.semaphore("s", 3);
    MemorySegment object = object("s");
    // It claimed its entry (BUSY, 0 held) and took 2 from the word, then died: the permits are in
    // neither the word nor a record. Before the repair this lost them for good.
    plant(object, 4, deadPid() | BUSY, 0);
    setWord(object, 1);
    assertTrue(semaphore.tryAcquire(3), semaphore.toString());
    assertEquals(List.of("self:3"), holders(object));
    assertEquals(0, semaphore.availablePermits());
  }

  @Test
  void aProcessKilledBetweenReturningPermitsAndForgettingThemReturnsThemOnce() throws Exception {
    Semaphore semaphore = region.semaphore("s", 3);
    MemorySegment object = object("s");
    // It held 2, set BUSY and added them to the word, then died before its entry said 0.
    plant(object, 4, deadPid() | BUSY, 2);
    setWord(object, 3);
    plant(object, 9, deadPid(), 1); // another dead holder, so that someone repairs
    setWord(object, 2);
    assertTrue(semaphore.tryAcquire(3), semaphore.toString());
    assertFalse(semaphore.tryAcquire(1), "returned twice");
    assertEquals(List.of("self:3"), holders(object));
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
    Semaphore semaphore = region.semaphore("s", 2);
    plant(object("s"), 0, thread, 2);
    setWord(object("s"), 0);
    assertTrue(semaphore.tryAcquire(2), semaphore.toString());
    assertEquals(List.of("self:2"), holders(object("s")));
  }

  @Test
  void aLiveHoldersPermitsStayWithIt() throws Exception {
    Semaphore semaphore = region.semaphore("s", 3);
    plant(object("s"), 0, 1, 3); // pid 1 lives as long as this namespace
    setWord(object("s"), 0);
    assertFalse(semaphore.tryAcquire(1));
    assertInstanceOf(
        TimeoutException.class, failureOf(semaphore.acquire(1, Duration.ofMillis(50))));
    assertEquals(List.of("1:3"), holders(object("s")));
  }

  @Test
  void theTwoViewsOfOneDeadEntryReturnItsPermitsOnce() throws Exception {
    Semaphore semaphore = region.semaphore("s", 4);
    plant(object("s"), 2, deadPid(), 4);
    setWord(object("s"), 0);
    try (SharedRegion other = otherView()) {
      assertTrue(other.semaphore("s", 0).tryAcquire(4));
      assertFalse(semaphore.tryAcquire(1), "returned twice");
    }
    assertEquals(List.of("self:4"), holders(object("s")));
  }

  @Test
  void aRepairLeftHalfDoneByADeadRepairerIsTakenOver() throws Exception {
    Semaphore semaphore = region.semaphore("s", 3);
    MemorySegment object = object("s");
    plant(object, 1, deadPid(), 3);
    setWord(object, REPAIR); // the repairer set REPAIR, then died
    object.set(ValueLayout.JAVA_INT, REPAIRER_AT, deadPid());
    assertTrue(semaphore.tryAcquire(3), semaphore.toString());
    assertEquals(0, word(object), "REPAIR is cleared with the recomputed count");
    assertEquals(0, object.get(ValueLayout.JAVA_INT, REPAIRER_AT), "the lease is given back");
    semaphore.release(3);
    assertEquals(3, semaphore.availablePermits());
  }

  @Test
  void aRepairByALiveProcessHoldsEveryMoveUntilItEnds() throws Exception {
    Semaphore semaphore = region.semaphore("s", 2);
    MemorySegment object = object("s");
    setWord(object, REPAIR | 2);
    object.set(ValueLayout.JAVA_INT, REPAIRER_AT, 1); // a live repairer
    assertFalse(semaphore.tryAcquire(1), "the count is being recomputed");
    assertTrue(semaphore.toString().contains("being repaired"), semaphore.toString());
    CompletableFuture<Void> waiting = semaphore.acquire(1);
    Thread.sleep(100);
    assertFalse(waiting.isDone());
    assertEquals(List.of(), holders(object));
    setWord(object, 2 | (word(object) & Integer.MIN_VALUE)); // the repair ends (its wake: the
    object.set(ValueLayout.JAVA_INT, REPAIRER_AT, 0); // sleeper's periodic re-check stands in)
    await(waiting);
    assertEquals(List.of("self:1"), holders(object));
    assertEquals(1, semaphore.availablePermits());
    // Another repair starts: a release waits for it, then moves its permit.
    setWord(object, REPAIR | 1);
    object.set(ValueLayout.JAVA_INT, REPAIRER_AT, 1);
    Thread repairEnds =
        Thread.ofPlatform()
            .start(
                () -> {
                  try {
                    Thread.sleep(200);
                  } catch (InterruptedException e) {
                    return;
                  }
                  setWord(object, 1);
                  object.set(ValueLayout.JAVA_INT, REPAIRER_AT, 0);
                });
    long start = System.nanoTime();
    semaphore.release(1);
    long waited = System.nanoTime() - start;
    repairEnds.join();
    assertTrue(waited >= 150_000_000L, "released during the repair, after " + waited + " ns");
    assertEquals(2, semaphore.availablePermits());
    assertEquals(List.of(), holders(object));
  }

  @Test
  void aLiveHolderStuckBusyMakesTheRepairGiveUpWithoutChangingTheCount() throws Exception {
    Semaphore semaphore = region.semaphore("s", 4);
    MemorySegment object = object("s");
    plant(object, 0, deadPid(), 1);
    plant(object, 1, 1 | BUSY, 3); // live, and in the middle of a move for as long as we look
    setWord(object, 0);
    assertFalse(semaphore.tryAcquire(1));
    assertEquals(0, word(object), "the count as it was, REPAIR cleared");
    assertEquals(0, object.get(ValueLayout.JAVA_INT, REPAIRER_AT));
    plant(object, 1, 1, 3); // its move ends
    assertTrue(semaphore.tryAcquire(1), semaphore.toString());
    assertEquals(List.of("self:1", "1:3"), holders(object));
  }

  @Test
  void aMoveOfThisProcessDescheduledPastTheBoundIsWaitedOutNotGivenUp() throws Exception {
    Semaphore semaphore = region.semaphore("s", 4);
    MemorySegment object = object("s");
    plant(object, 0, deadPid(), 1);
    // Another view of this process, in the middle of a move (one of our threads, descheduled
    // between its two CASes) for 400 ms: four times the bound a stopped process gets.
    plant(object, 1, self | BUSY, 3);
    setWord(object, 0);
    Thread mover =
        Thread.ofPlatform()
            .start(
                () -> {
                  LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(400));
                  plant(object, 1, self, 3); // its move ends
                });
    assertTrue(semaphore.tryAcquire(1), "the repair waited for our own mover and returned 1");
    mover.join();
    assertEquals(List.of("self:1", "self:3"), holders(object), "the dead holder's entry is gone");
    assertEquals(0, word(object));
  }

  @Test
  void recordsBeyondTheTotalAreCorruptionAndLeaveTheCountAlone() throws Exception {
    Semaphore semaphore = region.semaphore("s", 2);
    MemorySegment object = object("s");
    plant(object, 0, deadPid(), 1);
    plant(object, 1, 1, 3);
    setWord(object, 0);
    assertCorrupt(() -> semaphore.tryAcquire(1), "live holders record 3 permits");
    assertEquals(0, word(object));
    assertEquals(0, object.get(ValueLayout.JAVA_INT, REPAIRER_AT));
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
    assertThrows(IllegalStateException.class, () -> semaphore.release(1)); // it holds none
    assertEquals(10, semaphore.availablePermits());
    plant(object, 40, 0, 0); // one holder leaves
    assertTrue(semaphore.tryAcquire(2));
    assertTrue(semaphore.tryAcquire(2), "this process's own entry takes more");
    assertEquals("self:4", holders(object).get(40));
  }

  @Test
  void aQueuedAcquireIsGrantedOnceAnEntryAndAPermitAreFree() throws Exception {
    Semaphore semaphore = region.semaphore("s", 1);
    MemorySegment object = object("s");
    try (SharedRegion other = otherView()) {
      Semaphore view = other.semaphore("s", 0);
      assertTrue(view.tryAcquire(1)); // slot 0
      for (int slot = 1; slot < SLOTS; slot++) {
        plant(object, slot, 1, 0); // live holders (of nothing: the total stays honest)
      }
      CompletableFuture<Void> first = semaphore.acquire(1);
      CompletableFuture<Void> second = semaphore.acquire(1);
      view.release(1); // frees slot 0 and the permit at once: the grant claims the slot
      await(first);
      assertEquals("self:1", holders(object).get(0));
      assertFalse(second.isDone());
    }
    semaphore.release(1); // frees slot 0 again: the second claims it and is granted
    assertEquals(0, semaphore.availablePermits());
  }

  // ---- parked entries: a view keeps its entry at 0 for its next move ----

  /** The raw 8-byte entry of {@code slot}, as pid (with BUSY) and held. */
  private long rawEntry(MemorySegment object, int slot) {
    return object.get(ValueLayout.JAVA_LONG, HOLDERS_AT + slot * 8L);
  }

  private int slotNaming(MemorySegment object, int pid) {
    for (int slot = 0; slot < SLOTS; slot++) {
      if ((object.get(ValueLayout.JAVA_INT, HOLDERS_AT + slot * 8L) & ~BUSY) == pid) {
        return slot;
      }
    }
    return -1;
  }

  @Test
  void anEntryReleasedToZeroIsParkedAndTheNextAcquireMovesThroughItAgain() throws Exception {
    Semaphore semaphore = region.semaphore("s", 3);
    MemorySegment object = object("s");
    assertTrue(semaphore.tryAcquire(2));
    int slot = slotNaming(object, self);
    semaphore.release(2);
    assertEquals(entry(self, 0), rawEntry(object, slot), "parked: this process, 0 held, not BUSY");
    plant(object, (slot + 1) % SLOTS, 0, 0); // the next slot is free: a new claim could take it
    await(semaphore.acquire(1));
    assertEquals(entry(self, 1), rawEntry(object, slot), "the same entry, not a new claim");
    assertEquals(List.of("self:1"), holders(object));
    semaphore.release(1);
    assertEquals(3, semaphore.availablePermits());
    assertTrue(
        semaphore.toString().contains("holder entries in use 0 of 64"), semaphore.toString());
  }

  @Test
  void aFullTableTakesAParkedEntryAndItsFormerViewClaimsAnother() throws Exception {
    Semaphore semaphore = region.semaphore("s", 4);
    MemorySegment object = object("s");
    assertTrue(semaphore.tryAcquire(1));
    semaphore.release(1); // parked in slot 0
    assertEquals(entry(self, 0), rawEntry(object, 0));
    for (int slot = 1; slot < SLOTS; slot++) {
      plant(object, slot, 1, 0); // parked entries of a live process (pid 1)
    }
    plant(object, 5, 1, 1); // and one live holder of 1: the total stays honest
    setWord(object, 3);
    try (SharedRegion other = otherView()) {
      Semaphore view = other.semaphore("s", 0);
      // Nothing is free: the other view takes the first parked entry it meets, which is ours.
      assertTrue(view.tryAcquire(2));
      assertEquals(entry(self, 2), rawEntry(object, 0), "the other view's entry now");
      // Our view finds its entry holding 2 it never took: not its own; it claims another parked.
      assertTrue(semaphore.tryAcquire(1));
      assertEquals(entry(self, 2), rawEntry(object, 0), "the other view's count untouched");
      assertEquals(List.of("self:2", "self:1", "1:1"), holders(object));
      view.release(2);
      semaphore.release(1);
      assertThrows(IllegalStateException.class, () -> semaphore.release(1), "it holds none now");
      assertThrows(IllegalStateException.class, () -> view.release(1), "it holds none now");
    }
    assertEquals(3, semaphore.availablePermits());
    assertEquals(List.of("1:1"), holders(object));
  }

  @Test
  void aParkedEntryTakenByAnotherProcessIsNeverWrittenByItsFormerView() throws Exception {
    Semaphore semaphore = region.semaphore("s", 2);
    MemorySegment object = object("s");
    assertTrue(semaphore.tryAcquire(1));
    semaphore.release(1); // parked in slot 0
    plant(object, 0, 1 | BUSY, 0); // another live process evicted it and is mid-claim
    for (int slot = 1; slot < SLOTS; slot++) {
      plant(object, slot, 1, 0); // parked entries of that process
    }
    assertTrue(semaphore.tryAcquire(1), "claims a parked entry elsewhere");
    assertEquals(entry(1 | BUSY, 0), rawEntry(object, 0), "the evictor's entry untouched");
    assertEquals(List.of("1:0", "self:1"), holders(object).subList(0, 2));
    semaphore.release(1);
    assertEquals(2, semaphore.availablePermits());
  }

  @Test
  void threadsOfOneViewMovingAtOnceRecordEveryMove() throws Exception {
    Semaphore semaphore = region.semaphore("s", 4);
    MemorySegment object = object("s");
    int threads = 4;
    int rounds = 20_000;
    List<Thread> movers = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int t = 0; t < threads; t++) {
      movers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      for (int i = 0; i < rounds; i++) {
                        if (semaphore.tryAcquire(1)) {
                          semaphore.release(1); // refused if another thread's move were lost
                        }
                      }
                    } catch (Throwable e) {
                      failures.add(e);
                    }
                  }));
    }
    for (Thread mover : movers) {
      mover.join();
    }
    assertEquals(List.of(), failures);
    assertEquals(4, semaphore.availablePermits());
    assertEquals(List.of(), holders(object), "every move recorded and undone");
    assertEquals(entry(self, 0), rawEntry(object, slotNaming(object, self)), "parked, not BUSY");
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
      assertThrows(IllegalStateException.class, () -> semaphore.release(1)); // holds none
      assertEquals(0, semaphore.availablePermits(), "nothing was made up");
      assertTrue(semaphore.toString().contains("holder table corrupt"), semaphore.toString());
    }
    plant(object, 9, 0, 0);
    assertFalse(semaphore.tryAcquire(1));
    assertEquals(0, semaphore.availablePermits());
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
