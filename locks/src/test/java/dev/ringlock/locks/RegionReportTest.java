package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.InvalidRegionException;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.RegionDescriptor;
import dev.ringlock.locks.internal.HolderTable;
import dev.ringlock.locks.internal.MutexWords;
import dev.ringlock.locks.internal.SemaphoreWords;
import dev.ringlock.locks.internal.WaitQueueWords;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * One validation: every damage RegionReport (what {@code ringlock inspect} prints) reports is one
 * the library refuses with InvalidRegionException(CORRUPT) naming the object, and a sound region
 * reports none.
 */
@Timeout(60)
class RegionReportTest extends RegionTestBase {
  private MappedRegion raw;

  @BeforeEach
  void mapRaw() throws Exception {
    raw = openRawMapping();
  }

  @AfterEach
  void unmapRaw() {
    raw.close();
  }

  private MemorySegment object(String name) {
    return raw.segment(raw.find(name).orElseThrow());
  }

  private long offsetOf(String name) {
    return raw.find(name).orElseThrow().offset();
  }

  private MutexWords mutexWords(String name) {
    return new MutexWords(raw.segment(), offsetOf(name));
  }

  private WaitQueueWords queueWords(String name) {
    return new WaitQueueWords(raw.segment(), offsetOf(name), object(name).byteSize());
  }

  private RegionReport.ObjectReport reported(String name) throws IOException {
    RegionReport report = RegionReport.read(region.file(), pid -> true);
    return report.objects().stream().filter(o -> o.name().equals(name)).findFirst().orElseThrow();
  }

  /** RegionReport names {@code problem} for the object, and {@code use} is refused as corrupt. */
  private void assertReportedAndRefused(String name, String kind, String problem, Executable use)
      throws Exception {
    RegionReport.ObjectReport report = reported(name);
    assertTrue(
        report.problem() != null && report.problem().contains(problem),
        "reported: " + report.problem());
    Throwable thrown = assertThrows(Throwable.class, use);
    if (thrown instanceof ExecutionException e) {
      thrown = e.getCause();
    }
    UncheckedIOException unchecked = assertInstanceOf(UncheckedIOException.class, thrown);
    InvalidRegionException invalid =
        assertInstanceOf(InvalidRegionException.class, unchecked.getCause());
    assertEquals(InvalidRegionException.Problem.CORRUPT, invalid.problem());
    assertTrue(invalid.getMessage().contains(kind + " '" + name + "'"), invalid.getMessage());
    assertTrue(invalid.getMessage().contains(problem), invalid.getMessage());
  }

  @Test
  void aSoundRegionReportsNothing() throws Exception {
    region.mutex("m").tryLock().orElseThrow();
    region.semaphore("s", 3).tryAcquire(1);
    region.waitQueue("q", 8).await(1);
    region.condition("c", 8);
    RegionReport report = RegionReport.read(region.file());
    assertEquals(4, report.objects().size());
    assertFalse(report.hasProblems(), report.toJson().toString());
    report.objects().forEach(o -> assertNull(o.problem(), o.summary()));
  }

  @Test
  void aQueuesWakeSequenceAndTheProcessesAsleepOnItAreReported() throws Exception {
    WaitQueue queue = region.waitQueue("q", 8);
    var first = queue.await(1);
    var second = queue.await(2);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!reported("q").details().get("processesAsleep").equals(1)) {
      assertTrue(System.nanoTime() < end, "never asleep: " + reported("q").details());
      Thread.sleep(1);
    }
    assertEquals(0, reported("q").details().get("wakeSequence"));
    assertEquals(1, queue.wake(1));
    await(first);
    RegionReport.ObjectReport after = reported("q");
    assertEquals(1, after.details().get("wakeSequence"), "a wake bumps it once");
    assertEquals(0, after.details().get("wokenNotTaken"));
    assertEquals(1, after.details().get("waiting"));
    queue.wakeAll();
    await(second);
  }

  @Test
  void aNegativeStarvingPidIsReportedAndRefused() throws Exception {
    Mutex mutex = region.mutex("m");
    mutexWords("m").spStarvingPid(1, -9);
    // the table is read once the summary says someone is marked, as a marking process leaves it
    mutexWords("m").spStarvingSummary(1);
    assertReportedAndRefused("m", "mutex", "starving slot 1 holds -9", mutex::tryLock);
  }

  @Test
  void anOwnerWordOfAllOnesIsReportedAndRefused() throws Exception {
    Mutex mutex = region.mutex("m");
    mutexWords("m").spWord(0xffffffff);
    assertReportedAndRefused("m", "mutex", "names pid 1073741823", mutex::tryLock);
  }

  @Test
  void aFenceAtLongMaxValueIsReportedAndRefused() throws Exception {
    Mutex mutex = region.mutex("m");
    mutexWords("m").spFence(Long.MAX_VALUE);
    assertReportedAndRefused("m", "mutex", "last fence is " + Long.MAX_VALUE, mutex::tryLock);
  }

  @Test
  void aHeadIndexBeyondTheSlotsIsReportedAndRefused() throws Exception {
    WaitQueue queue = region.waitQueue("q", 8);
    queueWords("q").spHead(999);
    assertReportedAndRefused(
        "q", "wait queue", "head index of 999, outside its 8 slots", () -> queue.wake(1));
  }

  @Test
  void aListLockWordOfAllOnesIsReportedAndRefused() throws Exception {
    ConditionVariable condition = region.condition("c", 8);
    queueWords("c").spListLock(0xffffffff);
    assertReportedAndRefused(
        "c", "condition variable", "lock word of 0xffffffff", condition::signalAll);
    queueWords("c").spListLock(0); // to close
  }

  @Test
  void aSlotInAStateNoRinglockWritesIsReportedAndRefused() throws Exception {
    WaitQueue queue = region.waitQueue("q", 8);
    // slot 0 in state 9 with no owner, and the queue full: an await reclaims it and reads the state
    WaitQueueWords q = queueWords("q");
    q.spState(0, 9);
    q.spOccupied(8);
    assertReportedAndRefused(
        "q", "wait queue", "slot 0 in state 9", () -> queue.await(1).get(20, TimeUnit.SECONDS));
  }

  @Test
  void aHolderEntryWithoutAPidIsReportedAndRefused() throws Exception {
    Semaphore semaphore = region.semaphore("s", 0);
    new SemaphoreWords(raw.segment(), offsetOf("s")).spHolder(5, HolderTable.entry(0, 3));
    assertReportedAndRefused(
        "s",
        "semaphore",
        "holder entry 5 records process 0 holding 3",
        () -> semaphore.tryAcquire(1)); // too few permits: it sweeps the holders' table
  }

  @Test
  void anObjectShorterThanItsTypeIsReportedAndRefused() throws Exception {
    region.semaphore("s", 2);
    // "s" recorded as 64 bytes, a tenth of a semaphore; a process that has not attached it yet
    long directory =
        raw.segment().get(ValueLayout.JAVA_LONG, RegionDescriptor.DIRECTORY_OFFSET_OFFSET);
    raw.segment()
        .set(ValueLayout.JAVA_LONG, directory + RegionDescriptor.ENTRY_OBJECT_BYTES_OFFSET, 64L);
    RegionReport.ObjectReport report = reported("s");
    assertTrue(
        report.problem().contains("a semaphore of 64 bytes; it needs 640"), report.problem());
    try (SharedRegion other = SharedRegion.open(region.file(), withRing())) {
      UncheckedIOException e =
          assertThrows(UncheckedIOException.class, () -> other.semaphore("s", 2));
      InvalidRegionException invalid = assertInstanceOf(InvalidRegionException.class, e.getCause());
      assertEquals(InvalidRegionException.Problem.CORRUPT, invalid.problem());
      assertTrue(invalid.getMessage().contains("'s'"), invalid.getMessage());
    }
  }

  @Test
  void overlappingObjectsAreRefusedAtOpenByTheLibraryAndTheReport() throws Exception {
    region.semaphore("s", 2);
    region.mutex("m");
    long directory =
        raw.segment().get(ValueLayout.JAVA_LONG, RegionDescriptor.DIRECTORY_OFFSET_OFFSET);
    long semaphoreAt = raw.find("s").orElseThrow().offset();
    // the mutex placed on the semaphore's word: it would read 2 permits as pid 2
    raw.segment()
        .set(
            ValueLayout.JAVA_LONG,
            directory + RegionDescriptor.ENTRY_BYTES + RegionDescriptor.ENTRY_OBJECT_OFFSET_OFFSET,
            semaphoreAt);
    Path file = region.file();
    InvalidRegionException opened =
        assertThrows(InvalidRegionException.class, () -> SharedRegion.open(file, withRing()));
    assertEquals(InvalidRegionException.Problem.CORRUPT, opened.problem());
    assertTrue(opened.getMessage().contains("directory entry 1"), opened.getMessage());
    InvalidRegionException read =
        assertThrows(InvalidRegionException.class, () -> RegionReport.read(file));
    assertEquals(opened.getMessage(), read.getMessage());
  }
}
