package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.internal.ReadWriteMutexDescriptor;
import dev.ringlock.locks.internal.ReadWriteMutexWords;
import dev.ringlock.testsupport.Child;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read-write mutex across real processes (ReadWriteWorker JVMs on one region file), readers and
 * writers killed with SIGKILL.
 */
@Timeout(180)
class ReadWriteMutexCrossProcessTest {
  /** The bound these tests hold recovery from a SIGKILL to; typical figures are tens of ms. */
  private static final long RECOVERY_BOUND_MILLIS = 2_000;

  /**
   * The bound a writer is held to while another process writes in a loop, holding the lock 1 ms at
   * a time: generous for a loaded machine (typical waits are a few of those holds). Without the
   * starving mark such a writer gets in only when its woken thread happens to find the word in the
   * instant between the loop's release and its next claim: seconds on average, for ever at worst.
   */
  private static final long HAMMERED_WRITE_BOUND_MILLIS = 5_000;

  /**
   * How many writes the parent makes against the hammering child: a few in CI (the child's start-up
   * dominates); the long mode (docs/testing.md) sets -Dringlock.rwHammerWrites=1000.
   */
  private static final int HAMMERED_WRITES = Integer.getInteger("ringlock.rwHammerWrites", 5);

  @TempDir Path directory;
  private Path regionFile;
  private final List<Child> workers = new ArrayList<>();

  @BeforeEach
  void createRegion() throws Exception {
    regionFile = directory.resolve("region-" + ProcessHandle.current().pid());
    SharedRegion.open(regionFile).close();
  }

  @AfterEach
  void killWorkers() {
    workers.forEach(Child::close);
  }

  /** {@code count} workers, started together (JVM start-up dominates these tests' time). */
  private List<Child> workers(int count) throws Exception {
    List<Child> started = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Child worker =
          Child.jvm(ReadWriteWorker.class, regionFile.toString(), "rw").captureOutput().start();
      workers.add(worker);
      started.add(worker);
    }
    for (Child worker : started) {
      worker.awaitStarted("READY");
    }
    return started;
  }

  /** Gives requests sent to workers time to queue and arm their kernel waits and watches. */
  private static void letWaitsSettle() throws InterruptedException {
    Thread.sleep(300);
  }

  /** {@code worker} has printed no line starting with {@code prefix} since its last expect. */
  private static void assertNothingYet(Child worker, String prefix) {
    assertFalse(
        worker.unconsumed().stream().anyMatch(line -> line.startsWith(prefix)),
        worker + " printed " + prefix + " too early: " + worker.seen());
  }

  private static long millisSince(long nanos, String line) {
    String[] parts = line.split(" ");
    return TimeUnit.NANOSECONDS.toMillis(Long.parseLong(parts[parts.length - 1]) - nanos);
  }

  @Test
  void readersOfTwoProcessesShareAWriterWaitsForBothAndAKilledReaderIsReleasedSilently()
      throws Exception {
    List<Child> three = workers(3);
    Child first = three.get(0);
    Child second = three.get(1);
    Child writer = three.get(2);
    first.send("read");
    first.expect("READ ");
    second.send("read");
    second.expect("READ ");
    writer.send("write");
    letWaitsSettle();
    assertNothingYet(writer, "WROTE");
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      ReadWriteMutex lock = region.readWriteMutex("rw");
      assertEquals(2, lock.readers());
      assertEquals(writer.intPid(), lock.writerPid(), "claimed: new readers stay out");
      assertTrue(lock.tryRead().isEmpty());
    }
    first.send("unread");
    first.expect("UNREAD");
    letWaitsSettle();
    assertNothingYet(writer, "WROTE");
    long killedAt = System.nanoTime();
    second.kill(); // dies holding its read
    String wrote = writer.expect("WROTE");
    assertEquals("false", wrote.split(" ")[1], "a reader's death is no writer's death");
    long millis = millisSince(killedAt, wrote);
    System.out.println("writer in " + millis + " ms after the reader's SIGKILL");
    assertTrue(millis < RECOVERY_BOUND_MILLIS, millis + " ms");
    first.send("read");
    letWaitsSettle();
    assertNothingYet(first, "READ ");
    writer.send("unwrite");
    first.expect("READ ");
  }

  /**
   * The drain wake of a pending claim, against WAITERS set again before the claimant sleeps. The
   * claimant (a child, paused once just before it arms its kernel wait, having read the word {@code
   * WRITE | PENDING | WAITERS} and our read hold) waits for our reader to leave. Our reader leaves
   * (the wake reaches nobody: the claimant is not asleep yet) and reads again at once: it queues
   * behind the claim and sets WAITERS again. When the claimant's wait was armed on the value it
   * read and the leave only cleared WAITERS, the word was that value again: the claimant slept with
   * the records drained and our reader slept for its write, until the re-check rescued it 250 ms
   * later. The leave clears PENDING now, which nothing sets again in that claim: the wait fails and
   * the claimant is granted at once, with no rescue.
   */
  @Test
  void aDrainWakeIsNotLostWhenWaitersIsSetAgainBeforeTheClaimantSleeps() throws Exception {
    Child writer =
        Child.jvm(ReadWriteWorker.class, regionFile.toString(), "rw")
            .systemProperty("dev.ringlock.test.pauseBeforeSleeping", "rw")
            .captureOutput()
            .start();
    workers.add(writer);
    writer.expect("READY");
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      ReadWriteMutex lock = region.readWriteMutex("rw");
      ReadGuard held = lock.read().join();
      writer.send("write");
      writer.expect("PAUSED"); // claimed, WAITERS set, our hold seen: about to sleep
      held.unlock(); // the last hold: the drain's wake comes before the claimant sleeps
      CompletableFuture<ReadGuard> again = lock.read(); // queues behind the claim: WAITERS again
      assertFalse(again.isDone(), "a read entered under a claim");
      writer.expect("WROTE");
      writer.send("rescues");
      assertEquals(
          "RESCUES 0",
          writer.expect("RESCUES"),
          "the claimant's wait was rescued by the re-check: its drain wake was lost");
      writer.send("unwrite");
      again.get(10, TimeUnit.SECONDS).unlock();
    }
  }

  /**
   * A drained claim is the claimant's at once, whatever counts it sees afterwards. The claimant (a
   * child, paused once just before it arms its kernel wait, having read {@code WRITE | PENDING |
   * WAITERS} and our read hold) waits for our reader to leave. Our reader leaves: the drain clears
   * PENDING, and the claimant's wait fails. Then a reader of ours adds a hold (planted here: a read
   * that came after the claim, which sees it and takes the hold back). The claimant decided again
   * on the word without PENDING, found that count and slept on the word for it; but the reader's
   * leave owes no wake (the drain's change is spent: claimDrained finds no pending claim and
   * changes nothing), so the claimant slept until the re-check while everyone queued behind its
   * claim: WakeRescueTest's long mode found it 1-4 times a phase, in views of the process with two
   * views. A claim without PENDING is drained now: the claimant is granted at once.
   */
  @Test
  void aDrainedClaimIsGrantedAtOnceThoughAReaderOnItsWayOutStillCounts() throws Exception {
    Child writer =
        Child.jvm(ReadWriteWorker.class, regionFile.toString(), "rw")
            .systemProperty("dev.ringlock.test.pauseBeforeSleeping", "rw")
            .captureOutput()
            .start();
    workers.add(writer);
    writer.expect("READY");
    try (SharedRegion region = SharedRegion.open(regionFile);
        MappedRegion raw =
            MappedRegion.open(
                regionFile, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      ReadWriteMutex lock = region.readWriteMutex("rw");
      ReadWriteMutexWords words =
          new ReadWriteMutexWords(raw.segment(), raw.find("rw").orElseThrow().offset());
      ReadGuard held = lock.read().join();
      int ours = ourRecord(words);
      writer.send("write");
      writer.expect("PAUSED"); // claimed, WAITERS set, our hold seen: about to sleep
      held.unlock(); // the last hold: PENDING cleared, the claimant's wait will fail
      assertEquals(
          0, words.lvWord() & ReadWriteMutexDescriptor.PENDING, "our leave drained the claim");
      words.addRecord(ours, 1); // a reader of ours on its way in: it will see the claim, back out
      try {
        String wrote = writer.expect("WROTE", Duration.ofSeconds(10));
        assertEquals("false", wrote.split(" ")[1]);
      } finally {
        words.addRecord(ours, -1); // its leave: no pending claim, so the word stays as it is
      }
      writer.send("rescues");
      assertEquals("RESCUES 0", writer.expect("RESCUES"), "the claimant waited for the re-check");
      writer.send("unwrite");
      writer.expect("UNWROTE");
      lock.read().get(10, TimeUnit.SECONDS).unlock();
    }
  }

  /** The index of the reader record of this process's one view of "rw". */
  private static int ourRecord(ReadWriteMutexWords words) {
    int ours = (int) ProcessHandle.current().pid();
    for (int i = 0; i < ReadWriteMutexDescriptor.READER_SLOTS; i++) {
      if (ReadWriteMutexDescriptor.recordPid(words.lvRecord(i)) == ours) {
        return i;
      }
    }
    throw new AssertionError("no reader record of pid " + ours + " after a read");
  }

  /**
   * A writer standing back for another process's mark is woken when the mark goes, whatever the
   * state word does meanwhile. The child's writer finds the word free and our record marked WAITING
   * (planted: readers of ours waiting to enter) and stands back, paused once just before it arms
   * its kernel wait. The mark goes; the state word, whose WAITERS a mark's removal clears, gets
   * WAITERS again from a writer of a third process that stands back too (planted as such a writer
   * leaves it). A writer that slept on the state word found it equal to what it read and slept
   * through the removal until the re-check rescued it 250 ms later (seen on the syscalls backend,
   * whose threads re-arm their waits often); it sleeps on the marked record now, which the removal
   * changed: its wait fails and it claims at once.
   */
  @Test
  void aWriterStandingBackWakesWhenTheMarkGoesEvenIfWaitersIsSetAgain() throws Exception {
    Child writer =
        Child.jvm(ReadWriteWorker.class, regionFile.toString(), "rw")
            .systemProperty("dev.ringlock.test.pauseBeforeSleeping", "rw")
            .captureOutput()
            .start();
    workers.add(writer);
    writer.expect("READY");
    try (MappedRegion raw =
        MappedRegion.open(
            regionFile, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      ReadWriteMutexWords words =
          new ReadWriteMutexWords(raw.segment(), raw.find("rw").orElseThrow().offset());
      int ours = (int) ProcessHandle.current().pid();
      words.raiseBound(1); // record 0 claimed below, as a view's claim does: the bound first
      assertTrue(
          words.casRecord(
              0, 0, ReadWriteMutexDescriptor.newRecord(ours) | ReadWriteMutexDescriptor.WAITING));
      writer.send("write");
      writer.expect("PAUSED"); // standing back for our mark, about to sleep
      words.andRecord(0, ~ReadWriteMutexDescriptor.WAITING); // our readers are in: the mark goes
      words.andWord(~ReadWriteMutexDescriptor.WAITERS); // as the removal leaves the word
      words.casWord(0, ReadWriteMutexDescriptor.WAITERS); // another writer stands back: set again
      writer.expect("WROTE");
      writer.send("rescues");
      assertEquals(
          "RESCUES 0",
          writer.expect("RESCUES"),
          "the writer standing back was rescued by the re-check: the mark's removal was missed");
      writer.send("unwrite");
      writer.expect("UNWROTE");
      words.casRecord(0, ReadWriteMutexDescriptor.newRecord(ours), 0);
    }
  }

  @Test
  void aKilledWriterIsTakenOverWithOwnerDiedAndReadersAreToldUntilItIsRepaired() throws Exception {
    List<Child> three = workers(3);
    Child dying = three.get(0);
    Child taker = three.get(1);
    Child reader = three.get(2);
    dying.send("write");
    dying.expect("WROTE");
    taker.send("write");
    letWaitsSettle();
    long killedAt = System.nanoTime();
    dying.kill();
    String wrote = taker.expect("WROTE");
    assertEquals("true", wrote.split(" ")[1], "the taker learns of the death");
    long millis = millisSince(killedAt, wrote);
    System.out.println("takeover " + millis + " ms after the writer's SIGKILL");
    assertTrue(millis < RECOVERY_BOUND_MILLIS, millis + " ms");
    reader.send("read");
    letWaitsSettle();
    assertNothingYet(reader, "READ ");
    taker.kill(); // dies too, before markConsistent: the waiting reader is told
    assertEquals("FAILED WriterDiedException", reader.expect("FAILED", Duration.ofSeconds(10)));
    reader.send("read");
    assertEquals("FAILED WriterDiedException", reader.expect("FAILED"), "until repaired");
    reader.send("write");
    assertEquals("true", reader.expect("WROTE").split(" ")[1], "the death was not lost");
    reader.send("consistent");
    reader.expect("MARKED");
    reader.send("unwrite");
    reader.expect("UNWROTE");
    reader.send("read");
    reader.expect("READ ");
  }

  @Test
  void aWriterKilledWhileWaitingForReadersLetsTheReadersItKeptOutIn() throws Exception {
    List<Child> three = workers(3);
    Child holder = three.get(0);
    Child writer = three.get(1);
    Child late = three.get(2);
    holder.send("read");
    holder.expect("READ ");
    writer.send("write");
    letWaitsSettle();
    late.send("read");
    letWaitsSettle();
    assertNothingYet(late, "READ ");
    long killedAt = System.nanoTime();
    writer.kill();
    String read = late.expect("READ ");
    long millis = millisSince(killedAt, read);
    System.out.println("kept-out reader in " + millis + " ms after the claimant's SIGKILL");
    assertTrue(millis < RECOVERY_BOUND_MILLIS, millis + " ms");
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      ReadWriteMutex lock = region.readWriteMutex("rw");
      assertFalse(lock.isWriteLocked());
      assertEquals(2, lock.readers());
    }
    late.send("unread");
    late.expect("UNREAD");
    holder.send("write"); // its own read still held: it waits for itself, so release first
    letWaitsSettle();
    holder.send("unread");
    assertEquals("false", holder.expect("WROTE").split(" ")[1], "a claim that wrote nothing");
  }

  @Test
  void aWriterGetsInWithinABoundWhileAnotherProcessWritesInATightLoop() throws Exception {
    Child hammer = workers(1).getFirst();
    hammer.send("hammer");
    hammer.expect("HAMMERING");
    long[] waits = new long[HAMMERED_WRITES];
    long[] overtaken = new long[HAMMERED_WRITES]; // writes granted to the child while ours waited
    try (SharedRegion region = SharedRegion.open(regionFile);
        MappedRegion raw =
            MappedRegion.open(
                regionFile, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      ReadWriteMutex lock = region.readWriteMutex("rw");
      ReadWriteMutexWords words =
          new ReadWriteMutexWords(raw.segment(), raw.find("rw").orElseThrow().offset());
      for (int i = 0; i < HAMMERED_WRITES; i++) {
        // Ask while the child writes (as a writer arriving at a busy lock does), not in the gap
        // our own release left it
        long giveUp = System.nanoTime() + Child.EXPECT_TIMEOUT.toNanos();
        while (ReadWriteMutexDescriptor.writerOf(words.lvWord()) != hammer.intPid()) {
          assertTrue(System.nanoTime() < giveUp, "the child never wrote again");
          Thread.onSpinWait();
        }
        long fenceBefore = words.laFence(); // every write draws the next fence, the child's too
        long start = System.nanoTime();
        CompletableFuture<WriteGuard> write = lock.write();
        WriteGuard guard;
        try {
          guard = write.get(HAMMERED_WRITE_BOUND_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException starved) {
          write.cancel(false);
          throw new AssertionError(
              "write "
                  + i
                  + " not granted within "
                  + HAMMERED_WRITE_BOUND_MILLIS
                  + " ms while "
                  + hammer
                  + " writes in a loop; waits so far (ms) "
                  + Arrays.toString(Arrays.copyOf(waits, i)));
        }
        waits[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        overtaken[i] = guard.fence() - fenceBefore - 1;
        guard.unlock();
      }
    }
    hammer.send("stop");
    long hammered = Long.parseLong(hammer.expect("HAMMERED").split(" ")[1]);
    Arrays.sort(waits);
    Arrays.sort(overtaken);
    System.out.println(
        "a writer against a process writing in a loop (1 ms holds): waits p50 "
            + waits[waits.length / 2]
            + " ms, max "
            + waits[waits.length - 1]
            + " ms; writes that overtook it p50 "
            + overtaken[overtaken.length / 2]
            + ", max "
            + overtaken[overtaken.length - 1]
            + " (the child wrote "
            + hammered
            + " times)");
    assertTrue(hammered > HAMMERED_WRITES, "the child wrote all along: " + hammered);
  }
}
