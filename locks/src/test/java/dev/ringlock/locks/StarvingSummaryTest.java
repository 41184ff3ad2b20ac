package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.internal.MutexWords;
import dev.ringlock.locks.internal.StarvingTable;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The mutex's starving summary (layout version 4): the uncontended path's one load in place of the
 * starving table's four. A mark sets it, clearing the last mark clears it, and a summary left set
 * over an empty table (by a process killed between its clear and its refresh) costs one slow look,
 * not the fast path for good.
 */
@Timeout(60)
class StarvingSummaryTest extends RegionTestBase {
  private MappedRegion raw;

  @BeforeEach
  void mapRaw() throws Exception {
    raw = openRawMapping();
  }

  @AfterEach
  void unmapRaw() {
    raw.close();
  }

  @Test
  void markingSetsTheSummaryAndClearingTheLastMarkClearsIt() {
    region.mutex("m");
    MutexWords words = words("m");
    StarvingTable first = table(words, 1001);
    StarvingTable second = table(words, 1002);
    assertTrue(first.noneMarked());

    first.start();
    assertTrue(first.isMarked());
    assertEquals(1, words.lvStarvingSummary());
    second.start();
    assertFalse(second.noneMarked());

    assertTrue(first.stop());
    assertEquals(1, words.lvStarvingSummary(), "the second process is still marked");
    assertFalse(first.noneMarked());

    assertTrue(second.stop());
    assertEquals(0, words.lvStarvingSummary(), "the last mark is gone");
    assertTrue(first.noneMarked());
  }

  @Test
  void aSummaryLeftSetOverAnEmptyTableIsClearedByTheNextArrival() throws Exception {
    Mutex mutex = region.mutex("m");
    words("m").spStarvingSummary(1); // its process died between clearing its slot and the summary
    var first = mutex.lock();
    assertTrue(first.isDone(), "nobody is marked: the arrival barges on the free word");
    assertEquals(0, words("m").lvStarvingSummary(), "and cleared the summary on the way");
    await(first).unlock();
  }

  @Test
  void anArrivalStandsBackWhileTheSummaryAndTheTableNameALiveProcess() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexWords words = words("m");
    StarvingTable other = table(words, 1); // init: alive, marked as a starving process would be
    other.start();
    assertTrue(mutex.tryLock().isEmpty(), "no barging past a starving process");
    other.stop();
    assertEquals(0, words.lvStarvingSummary());
    mutex.tryLock().orElseThrow().unlock();
  }

  private MutexWords words(String name) {
    return new MutexWords(raw.segment(), raw.find(name).orElseThrow().offset());
  }

  private static StarvingTable table(MutexWords words, int pid) {
    return new StarvingTable(
        words, pid, p -> true, problem -> new UncheckedIOException(new IOException(problem)));
  }
}
