package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.RegionSnapshot.Peer;
import dev.ringlock.locks.RegionSnapshot.ReadWriteMutexSnapshot;
import dev.ringlock.locks.RegionSnapshot.ReaderRecord;
import dev.ringlock.locks.internal.ReadWriteMutexDescriptor;
import dev.ringlock.locks.internal.ReadWriteMutexWords;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * `ringlock inspect` of a read-write mutex: the writer, the readers by pid, the waiters, damage.
 */
@Timeout(60)
class ReadWriteMutexSnapshotTest extends RegionTestBase {
  private static final int ME = (int) ProcessHandle.current().pid();
  private static final int OTHER = 4_000_000; // a pid the liveness below calls dead

  private MappedRegion raw;

  @AfterEach
  void unmapRaw() {
    if (raw != null) {
      raw.close();
    }
  }

  private ReadWriteMutexSnapshot snapshotOf(String name) throws Exception {
    RegionSnapshot snapshot = RegionSnapshot.read(region.file(), pid -> pid == ME);
    return (ReadWriteMutexSnapshot)
        snapshot.objects().stream().filter(o -> o.name().equals(name)).findFirst().orElseThrow();
  }

  private RegionReport.ObjectReport reported(String name) throws Exception {
    RegionReport report = RegionReport.read(region.file(), pid -> pid == ME);
    return report.objects().stream().filter(o -> o.name().equals(name)).findFirst().orElseThrow();
  }

  private ReadWriteMutexWords words(String name) throws Exception {
    raw = openRawMapping();
    return new ReadWriteMutexWords(raw.segment(), raw.find(name).orElseThrow().offset());
  }

  @Test
  void aProcessReadingThroughTwoViewsIsShownOnceWithItsHoldsSummed() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadGuard mine = await(lock.read());
    try (SharedRegion other = SharedRegion.open(region.file(), withRing())) {
      ReadGuard theirs = await(other.readWriteMutex("rw").read());
      ReadGuard again = await(other.readWriteMutex("rw").read());
      assertEquals(2, snapshotOf("rw").readers().size(), "a record per view");
      String summary = reported("rw").summary();
      assertTrue(summary.contains("3 read holds: pid " + ME), summary);
      assertTrue(summary.contains("x3 in 2 views"), summary);
      theirs.unlock();
      again.unlock();
    }
    mine.unlock();
  }

  @Test
  void readersAreShownByPidWithTheirCountsAndAPendingWriterAsWaiting() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadGuard first = await(lock.read());
    ReadGuard second = await(lock.read());
    CompletableFuture<WriteGuard> writer = lock.write(Duration.ofSeconds(30));
    Thread.sleep(100); // the claim is made on the arrival
    ReadWriteMutexSnapshot rw = snapshotOf("rw");
    assertEquals("read-write mutex", rw.type());
    assertEquals("write-pending", rw.state());
    assertEquals(new Peer(ME, true), rw.writer());
    assertTrue(rw.pending());
    assertEquals(
        List.of(new ReaderRecord(rw.readers().getFirst().slot(), new Peer(ME, true), 2, false)),
        rw.readers());
    assertEquals(2, rw.readHolds());
    assertTrue(rw.problems().isEmpty(), rw.problems().toString());
    String summary = reported("rw").summary();
    assertTrue(summary.contains("claimed by writer pid " + ME), summary);
    assertTrue(summary.contains("waiting for readers to leave"), summary);
    assertTrue(summary.contains("2 read holds: pid " + ME), summary);
    first.unlock();
    second.unlock();
    WriteGuard write = await(writer);
    ReadWriteMutexSnapshot written = snapshotOf("rw");
    assertEquals("write-locked", written.state());
    assertFalse(written.pending());
    assertEquals(write.fence(), written.lastFence());
    write.unlock();
    assertEquals("free", snapshotOf("rw").state());
  }

  @Test
  void aDeadWritersLockAndADeadReadersRecordAreShownAsSuch() throws Exception {
    region.readWriteMutex("rw");
    ReadWriteMutexWords words = words("rw");
    words.spWord(ReadWriteMutexDescriptor.WRITE | OTHER);
    words.spRecord(
        5, ReadWriteMutexDescriptor.newRecord(OTHER) | 3 | ReadWriteMutexDescriptor.WAITING);
    ReadWriteMutexSnapshot rw = snapshotOf("rw");
    assertEquals("write-locked", rw.state());
    assertEquals(new Peer(OTHER, false), rw.writer());
    assertEquals(List.of(new ReaderRecord(5, new Peer(OTHER, false), 3, true)), rw.readers());
    String summary = reported("rw").summary();
    assertTrue(summary.contains("the next writer takes it over"), summary);
    assertTrue(summary.contains("(readers waiting)"), summary);
    words.spWord(ReadWriteMutexDescriptor.OWNER_DIED);
    assertEquals("writer-died", snapshotOf("rw").state());
    assertTrue(reported("rw").summary().contains("reads fail until a writer repairs it"));
  }

  @Test
  void aStarvingWritersProcessIsShownWithItsMarkAndNoReadHolds() throws Exception {
    region.readWriteMutex("rw");
    ReadWriteMutexWords words = words("rw");
    words.spRecord(
        6, ReadWriteMutexDescriptor.newRecord(OTHER) | ReadWriteMutexDescriptor.STARVING | 2);
    ReadWriteMutexSnapshot rw = snapshotOf("rw");
    assertEquals(2, rw.readHolds(), "the mark is not counted as holds");
    assertEquals(
        List.of(new ReaderRecord(6, new Peer(OTHER, false), 2, false, true)), rw.readers());
    String summary = reported("rw").summary();
    assertTrue(summary.contains("x2 (writer starving)"), summary);
    words.spRecord(6, 0);
  }

  @Test
  void damageIsReportedWithTheLibrarysOwnRules() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadWriteMutexWords words = words("rw");
    words.spRecord(7, 0x1234L); // holds without a pid
    words.spFence(-1);
    ReadWriteMutexSnapshot rw = snapshotOf("rw");
    assertEquals(2, rw.problems().size(), rw.problems().toString());
    assertTrue(rw.problems().get(0).contains("last fence is -1"), rw.problems().toString());
    assertTrue(rw.problems().get(1).contains("reader record 7"), rw.problems().toString());
    assertNull(rw.writer());
    // as the mutex's lock(): damage found on the fast path is thrown to the caller
    Throwable refused = assertThrows(java.io.UncheckedIOException.class, lock::write);
    assertTrue(refused.getMessage().contains("reader record 7"), refused.getMessage());
  }

  @Test
  void aRecordInUsePastTheBoundAndABoundOutOfRangeAreReported() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    await(lock.read()).unlock();
    ReadWriteMutexWords words = words("rw");
    assertEquals(1, words.lvBound());
    words.spRecord(5, ReadWriteMutexDescriptor.newRecord(ME));
    words.spBound(2); // record 5 claimed without raising the bound: what a version 6 process does
    List<String> problems = snapshotOf("rw").problems();
    assertEquals(1, problems.size(), problems.toString());
    assertTrue(
        problems.getFirst().contains("reader record 5 is in use")
            && problems.getFirst().contains("past the records' bound 2"),
        problems.toString());
    words.spBound(99);
    problems = snapshotOf("rw").problems();
    assertEquals(List.of("reader records' bound is 99, outside 0..32"), problems);
    words.spRecord(5, 0);
    words.spBound(1);
    assertTrue(snapshotOf("rw").problems().isEmpty());
  }
}
