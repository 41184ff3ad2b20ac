package dev.ringlock.locks;

import static dev.ringlock.locks.internal.MutexDescriptor.WAITERS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.MutexWords;
import dev.ringlock.locks.internal.StarvingTable;
import dev.ringlock.testsupport.Child;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mutex's release wakes one sleeper, and while another process is starving a free word goes only
 * to the process the kernel woke (or to the starving one): so the woken process must use that wake.
 * Its wait's completion forgets the wait and then, in a second monitor section, decides on the
 * wake; an arrival of the same view in between found no sleeper armed, the word free and a process
 * starving, and stood back, arming a new sleeper. The woken decision then saw a sleeper armed and
 * returned at once, as for an arrival: the wake was dropped, and everybody slept with the word free
 * until the re-check (WakeRescueTest's mutex phase found it about once a run, four views
 * re-checking at the same instant; docs/protocols.md, the mutex's wake obligations).
 */
@Timeout(60)
class MutexWokenWaitTest {
  @TempDir Path directory;

  /**
   * Replayed with pid 1 (init: alive for ever) as the holder and the starving process, planted in
   * the region; the child's woken decision is paused once (TestPausePoints.afterWokenWait) while
   * its second request arrives.
   */
  @Test
  void aWokenWaitTakesTheFreeWordEvenIfAnArrivalArmedAnotherSleeperMeanwhile() throws Exception {
    inAttempts(MutexWokenWaitTest::replay);
  }

  /**
   * A request that waited past MutexCore.STARVATION_MILLIS and is woken onto the free word takes it
   * without marking its process starving: the mark would be cleared as the CAS won, and until then
   * only stopped other processes from barging (docs/mutex.md, Bounded barging). Seen at the pause
   * right after the child's decision won the word, before its grant (and before it would unmark
   * itself): the starving table holds no mark.
   */
  @Test
  void aWokenWaitThatTakesTheFreeWordIsNotMarkedStarving() throws Exception {
    inAttempts(MutexWokenWaitTest::takeWokenWithoutMark);
  }

  /** One attempt on a new mutex: false if our wake found no kernel wait to end. */
  private interface Attempt {
    boolean made(MappedRegion raw, Path regionFile, String name) throws Exception;
  }

  /**
   * Our wake must reach the child's wait in the kernel, which a loaded host may submit late: an
   * attempt whose wake found nobody (the wait then sees the free word, not woken) is made again on
   * a new mutex with a new child.
   */
  private void inAttempts(Attempt attempt) throws Exception {
    Path regionFile = directory.resolve("region");
    try (SharedRegion region = SharedRegion.open(regionFile);
        MappedRegion raw =
            MappedRegion.open(
                regionFile, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      for (int number = 1; ; number++) {
        String name = "m" + number;
        region.mutex(name);
        if (attempt.made(raw, regionFile, name)) {
          return;
        }
        assertTrue(number < 3, "no attempt's wake reached the child's wait in the kernel");
      }
    }
  }

  private static boolean takeWokenWithoutMark(MappedRegion raw, Path regionFile, String name)
      throws Exception {
    long offset = raw.find(name).orElseThrow().offset();
    MutexWords words = new MutexWords(raw.segment(), offset);
    FutexWord word = FutexWord.of(raw.segment(), offset, FutexScope.SHARED);
    words.spWord(1 | WAITERS); // held by pid 1 (alive for ever), with sleepers
    try (Child child =
        Child.jvm(WokenWaitWorker.class, regionFile.toString(), name)
            .systemProperty("dev.ringlock.test.pauseAfterWinning", name)
            .captureOutput()
            .start()) {
      if (!releaseOnceTheFirstRequestSleeps(child, words, word)) {
        return false;
      }
      child.expect("PAUSED after winning"); // its decision holds the word, not yet granted
      for (int slot = 0; slot < MutexDescriptor.STARVING_SLOTS; slot++) {
        assertEquals(
            0,
            words.lvStarvingPid(slot),
            "slot " + slot + " of the starving table, while the woken child takes the word");
      }
      assertEquals(0, words.lvStarvingSummary(), "the starving summary");
      child.send("await");
      assertEquals("GRANTED 0", child.expect("GRANTED", Duration.ofSeconds(15)));
      child.send("exit");
      child.awaitExit(Duration.ofSeconds(10));
      return true;
    }
  }

  /** One attempt; false if our wake found no kernel wait to end (nothing was replayed). */
  private static boolean replay(MappedRegion raw, Path regionFile, String name) throws Exception {
    long offset = raw.find(name).orElseThrow().offset();
    MutexWords words = new MutexWords(raw.segment(), offset);
    FutexWord word = FutexWord.of(raw.segment(), offset, FutexScope.SHARED);
    StarvingTable init =
        new StarvingTable(
            words, 1, pid -> true, problem -> new UncheckedIOException(new IOException(problem)));
    words.spWord(1 | WAITERS); // held by pid 1, with sleepers
    init.start(); // ... and pid 1 starving: nobody barges on the free word
    try (Child child =
        Child.jvm(WokenWaitWorker.class, regionFile.toString(), name)
            .systemProperty("dev.ringlock.test.pauseAfterWoken", "mutex '" + name + "'")
            .captureOutput()
            .start()) {
      if (!releaseOnceTheFirstRequestSleeps(child, words, word)) {
        init.stop();
        return false;
      }
      child.expect("PAUSED"); // woken and forgotten; the decision on the wake not yet run
      child.send("second"); // free word, pid 1 starving, not woken: stands back, arms a sleeper
      child.expect("SECOND ASKED");
      child.send("await");
      assertEquals(
          "GRANTED 0",
          child.expect("GRANTED", Duration.ofSeconds(15)),
          "the woken request takes the free word at once, not at the re-check; log:\n"
              + child.output());
      init.stop(); // pid 1 no longer starves, and wakes one sleeper, as its process would
      Futex.wake(word, 1, FutexRing.ANY_BITSET);
      child.send("await second");
      child.expect("SECOND GRANTED");
      child.send("exit");
      child.awaitExit(Duration.ofSeconds(10));
      return true;
    }
  }

  /**
   * The child's first request, asleep on pid 1's hold for 100 ms (its wait in the kernel, and well
   * past STARVATION_MILLIS), then pid 1's release: the word freed, one sleeper woken. False if the
   * wake found no kernel wait to end.
   */
  private static boolean releaseOnceTheFirstRequestSleeps(
      Child child, MutexWords words, FutexWord word) throws Exception {
    child.expect("READY");
    child.send("first");
    child.expect("FIRST ASKED");
    long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (words.laSleepers() == 0 && System.nanoTime() < until) {
      Thread.sleep(1);
    }
    assertEquals(1, words.laSleepers(), "the child's request sleeps on pid 1's hold");
    Thread.sleep(100);
    assertEquals(1 | WAITERS, words.xchgWord(0));
    return Futex.wake(word, 1, FutexRing.ANY_BITSET) != 0;
  }
}
