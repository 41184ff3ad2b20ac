package dev.ringlock.locks;

import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.CLOSED;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.OWNER_DIED;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.PENDING;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.STARVING;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WAITERS;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WAITING;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WRITE;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.newRecord;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.RegionDescriptor;
import dev.ringlock.locks.internal.ReadWriteMutexCore;
import dev.ringlock.locks.internal.ReadWriteMutexDescriptor;
import dev.ringlock.locks.internal.ReadWriteMutexWords;
import dev.ringlock.testsupport.Child;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class ReadWriteMutexTest extends RegionTestBase {
  private static final int PID = (int) ProcessHandle.current().pid();

  /** How long a future that must stay pending is given to (wrongly) complete. */
  private static final long PENDING_MILLIS = 150;

  private MappedRegion raw;

  @AfterEach
  void closeRaw() {
    if (raw != null) {
      raw.close();
    }
  }

  /** The lock's words as another process sees them, to plant states. */
  private ReadWriteMutexWords words(String name) throws Exception {
    if (raw == null) {
      raw = openRawMapping();
    }
    return new ReadWriteMutexWords(raw.segment(), raw.find(name).orElseThrow().offset());
  }

  private static void assertPending(CompletableFuture<?> future) throws InterruptedException {
    Thread.sleep(PENDING_MILLIS);
    assertFalse(future.isDone(), "completed while it should wait: " + future);
  }

  // ---- basics ----

  @Test
  void uncontendedReadsAndWritesCompleteAtOnceWithoutTouchingTheRing() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    lock.read().join().unlock(); // claims this process's reader record once
    FutexRing.Stats before = ring.stats();
    for (int i = 0; i < 1000; i++) {
      CompletableFuture<ReadGuard> read = lock.read();
      assertTrue(read.isDone());
      read.join().unlock();
      CompletableFuture<WriteGuard> write = lock.write();
      assertTrue(write.isDone());
      write.join().unlock();
    }
    FutexRing.Stats after = ring.stats();
    assertEquals(before.sqesSubmitted(), after.sqesSubmitted());
    assertEquals(before.enterCalls(), after.enterCalls());
  }

  @Test
  void anUncontendedReadsFutureCarriesItsGuardForGoodAndRefusesAnotherResult() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    CompletableFuture<ReadGuard> read = lock.read();
    ReadGuard guard = read.join();
    assertSame(guard, read.getNow(null));
    assertSame(guard, read.thenApply(g -> g).join()); // what the completion stored: the same
    assertThrows(UnsupportedOperationException.class, () -> read.obtrudeValue(null));
    assertThrows(
        UnsupportedOperationException.class, () -> read.obtrudeException(new RuntimeException()));
    assertSame(guard, read.join());
    guard.unlock();
    assertEquals(0, lock.readers());
  }

  /**
   * The guard's once-only claim is a monitor, which C2 removes with the guard when the guard does
   * not escape (ReadHold's overview); a compare-and-set claim kept the guard allocated, 24 bytes
   * per read. A fresh child JVM, with InlineSmallCode raised so that the inlining does not depend
   * on the order C2 compiles in (MutexReleaseClaimTest says why).
   */
  @Test
  void anInlinedUncontendedReadJoinAndUnlockAllocateNothing() throws Exception {
    assertUncontendedReadAllocatesNothing(
        Child.jvm(UncontendedAllocationChild.class, region.file().toString(), "read")
            .jvmOptions("-XX:InlineSmallCode=20000"));
  }

  /**
   * The same bound in the order JMH's fork compiles, InlineSmallCode left alone: read() and
   * unlock() compiled on their own first, their caller after (MutexReleaseClaimTest's twin says
   * how). Each compiles to just under InlineSmallCode's 2,500 bytes, so a read path that grows past
   * it is no longer inlined, and the guard and its future are allocated again (24 bytes or more).
   */
  @Test
  void aCallerCompiledAfterReadAndUnlockAllocatesNothing() throws Exception {
    assertUncontendedReadAllocatesNothing(
        UncontendedAllocationChild.compiledFirst(region.file().toString(), "read"));
  }

  private static void assertUncontendedReadAllocatesNothing(Child.Builder child) throws Exception {
    // fullJvm: C2's inlining and escape analysis are what the bound is about
    try (Child started = child.fullJvm().captureOutput().start()) {
      String readJoin = started.expect("READJOIN ", UncontendedAllocationChild.MEASURING);
      assertEquals(0, started.awaitExit(Duration.ofSeconds(60)), started.log());
      assertEquals(
          0,
          MutexReleaseClaimTest.bytesPerOperation(readJoin),
          0.5,
          "bytes per read().join() + unlock(): " + readJoin);
    }
  }

  @Test
  void theSameNameIsTheSameLockAndAnotherTypesNameIsRefusedClearly() throws Exception {
    assertSame(region.readWriteMutex("rw"), region.readWriteMutex("rw"));
    region.mutex("m");
    IllegalArgumentException asRw =
        assertThrows(IllegalArgumentException.class, () -> region.readWriteMutex("m"));
    assertTrue(asRw.getMessage().contains("as a mutex, not a read-write mutex"), asRw.getMessage());
    IllegalArgumentException asMutex =
        assertThrows(IllegalArgumentException.class, () -> region.mutex("rw"));
    assertTrue(
        asMutex.getMessage().contains("as a read-write mutex, not a mutex"), asMutex.getMessage());
  }

  @Test
  void readersShareAndAreCounted() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadGuard first = await(lock.read());
    ReadGuard second = await(lock.read());
    ReadGuard third = lock.tryRead().orElseThrow();
    assertEquals(3, lock.readers());
    assertFalse(lock.isWriteLocked());
    assertEquals(0, lock.writerPid());
    assertTrue(lock.tryWrite().isEmpty());
    first.unlock();
    second.close();
    third.unlock();
    assertEquals(0, lock.readers());
  }

  @Test
  void aWriterExcludesReadersAndWritersUntilItUnlocks() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    WriteGuard writer = await(lock.write());
    assertTrue(lock.isWriteLocked());
    assertEquals(PID, lock.writerPid());
    assertTrue(lock.tryRead().isEmpty());
    assertTrue(lock.tryWrite().isEmpty());
    CompletableFuture<ReadGuard> reader = lock.read();
    CompletableFuture<WriteGuard> nextWriter = lock.write();
    assertPending(reader);
    assertFalse(nextWriter.isDone());
    writer.unlock();
    ReadGuard read = await(reader); // queued first, so granted first
    assertPending(nextWriter);
    read.unlock();
    WriteGuard second = await(nextWriter);
    assertTrue(second.fence() > writer.fence());
    second.unlock();
    assertFalse(lock.isWriteLocked());
  }

  @Test
  void aWritersClaimKeepsNewReadersOutUntilTheOldOnesLeave() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadGuard old = await(lock.read());
    CompletableFuture<WriteGuard> writer = lock.write();
    assertPending(writer);
    assertTrue(lock.isWriteLocked(), "the writer has claimed the lock");
    CompletableFuture<ReadGuard> late = lock.read();
    assertPending(late);
    assertTrue(lock.tryRead().isEmpty());
    old.unlock();
    WriteGuard write = await(writer);
    assertPending(late);
    write.unlock();
    await(late).unlock();
  }

  @Test
  void aClaimInAnotherViewOfTheRegionKeepsItsReadersOutToo() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    try (SharedRegion other = SharedRegion.open(region.file(), withRing())) {
      ReadWriteMutex seen = other.readWriteMutex("rw");
      ReadGuard old = await(lock.read());
      CompletableFuture<WriteGuard> writer = seen.write();
      assertPending(writer);
      CompletableFuture<ReadGuard> late = lock.read();
      assertPending(late);
      old.unlock();
      WriteGuard write = await(writer);
      assertPending(late);
      write.unlock();
      await(late).unlock();
    }
  }

  // ---- fairness ----

  @Test
  void aWriterDoesNotClaimWhileAnotherProcesssReadersWaitForTheirTurn() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    lock.read().join().unlock(); // our own record first
    ReadWriteMutexWords words = words("rw");
    int slot = freeRecord(words);
    // pid 1 is alive and never ours: its readers waited through the last write
    words.spRecord(slot, newRecord(1) | WAITING);
    CompletableFuture<WriteGuard> writer = lock.write();
    assertPending(writer);
    assertFalse(lock.isWriteLocked(), "no claim while their readers wait");
    words.spRecord(slot, newRecord(1) | 1); // they entered: the writer now waits for them
    words.andWord(~dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WAITERS);
    dev.ringlock.core.Futex.wake(
        dev.ringlock.core.FutexWord.of(
            raw.segment(),
            raw.find("rw").orElseThrow().offset(),
            dev.ringlock.core.FutexScope.SHARED),
        FutexRing.WAKE_ALL,
        FutexRing.ANY_BITSET);
    assertTrue(waitUntil(lock::isWriteLocked), "claimed once their readers are in");
    assertPending(writer);
    words.spRecord(slot, newRecord(1)); // they left (a real reader's leave wakes; the re-check
    // stands in for it here)
    await(writer).unlock();
    words.spRecord(slot, 0);
  }

  // ---- writers of different processes: the starving mark ----

  /** Clears WAITERS and wakes every process sleeping on the lock, as a real change would. */
  private void wakeEveryone(ReadWriteMutexWords words, String name) {
    words.andWord(~WAITERS);
    long offset = raw.find(name).orElseThrow().offset();
    Futex.wake(
        FutexWord.of(raw.segment(), offset, FutexScope.SHARED),
        FutexRing.WAKE_ALL,
        FutexRing.ANY_BITSET);
    // and writers standing back for a mark, who sleep on the marked record, as a real mark's
    // removal wakes them
    for (int i = 0; i < ReadWriteMutexDescriptor.READER_SLOTS; i++) {
      Futex.wake(
          FutexWord.of(
              raw.segment(),
              offset + ReadWriteMutexDescriptor.READERS_OFFSET + (long) Long.BYTES * i,
              FutexScope.SHARED),
          FutexRing.WAKE_ALL,
          FutexRing.ANY_BITSET);
    }
  }

  @Test
  void aStarvingWriterOfAnotherProcessKeepsWritersOffTheFastPathTheHandoffAndTheClaim()
      throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    lock.read().join().unlock(); // our own record first
    ReadWriteMutexWords words = words("rw");
    int slot = freeRecord(words);
    // pid 1 is alive and never ours: its writer starves
    words.spRecord(slot, newRecord(1) | STARVING);
    assertEquals(0, lock.readers(), "a starving mark is no read hold");
    lock.tryRead().orElseThrow().unlock(); // readers are not held back by it
    assertTrue(lock.tryWrite().isEmpty(), "no fast path while another process's writer starves");
    CompletableFuture<WriteGuard> writer = lock.write();
    assertPending(writer);
    assertFalse(lock.isWriteLocked(), "no claim either: the starving writer claims first");
    words.spRecord(slot, newRecord(1)); // it was served: its mark is gone
    wakeEveryone(words, "rw");
    WriteGuard held = await(writer);

    CompletableFuture<WriteGuard> next = lock.write(); // queued here behind our own hold
    assertPending(next);
    words.spRecord(slot, newRecord(1) | STARVING); // starving again
    held.unlock();
    assertPending(next);
    assertFalse(lock.isWriteLocked(), "the release went through the word, not handed over here");
    words.spRecord(slot, newRecord(1));
    wakeEveryone(words, "rw");
    await(next).unlock();
    words.spRecord(slot, 0);
  }

  @Test
  void aDeadProcesssStarvingMarkIsDroppedByTheNextWriter() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadWriteMutexWords words = words("rw");
    words.spRecord(4, newRecord(Child.deadPid()) | STARVING);
    assertEquals(0, lock.readers(), "a starving mark is no read hold");
    WriteGuard write = lock.tryWrite().orElseThrow();
    assertFalse(write.ownerDied());
    assertEquals(0, words.lvRecord(4), "the dead process's record is free again");
    write.unlock();
  }

  /**
   * A writer that waits behind another process's hold marks its own process starving (after its
   * first wait past the threshold: here the sleeper's re-check), and the mark goes when it is
   * cancelled, when it times out, and when it is granted. The other process is a view of the region
   * with pid 1's name: the protocol tells processes apart by pid alone.
   */
  @Test
  void aWriterThatLosesRoundsToAnotherProcessMarksItselfStarvingUntilItLeavesOrIsGranted()
      throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    lock.read().join().unlock(); // our record, where the mark goes
    ReadWriteMutexWords words = words("rw");
    int ours = recordOf(words, PID);
    ReadWriteMutexCore other =
        new ReadWriteMutexCore(
            "rw", raw, raw.find("rw").orElseThrow().offset(), FutexScope.SHARED, ring, 1, true);
    try {
      WriteGuard othersHold = other.tryWrite().orElseThrow();
      BooleanSupplier marked = () -> (words.lvRecord(ours) & STARVING) != 0;
      BooleanSupplier unmarked = () -> !marked.getAsBoolean();

      CompletableFuture<WriteGuard> cancelled = lock.write();
      assertTrue(waitUntil(marked), "marked starving while it waits for another process");
      assertTrue(cancelled.cancel(false));
      assertTrue(waitUntil(unmarked), "unmarked once cancelled");

      CompletableFuture<WriteGuard> timed = lock.write(Duration.ofMillis(900));
      assertTrue(waitUntil(marked), "marked again");
      assertInstanceOf(TimeoutException.class, failureOf(timed));
      assertTrue(waitUntil(unmarked), "unmarked once timed out");

      CompletableFuture<WriteGuard> granted = lock.write();
      assertTrue(waitUntil(marked), "marked again");
      othersHold.unlock();
      WriteGuard ourHold = await(granted);
      assertFalse(marked.getAsBoolean(), "unmarked once it had the lock");
      assertTrue(other.tryWrite().isEmpty());
      ourHold.unlock();
      other.tryWrite().orElseThrow().unlock();
    } finally {
      other.close();
    }
  }

  @Test
  void aReadPastTheMostHoldsOneViewMayHaveIsRefusedBeforeItsCountReachesTheClosedBit()
      throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    lock.read().join().unlock();
    ReadWriteMutexWords words = words("rw");
    int ours = recordOf(words, PID);
    long full = newRecord(PID) | ReadWriteMutexDescriptor.MAX_HOLDS_PER_VIEW;
    words.spRecord(ours, full); // as if this view held that many (leaked guards, say)
    IllegalStateException refused = assertThrows(IllegalStateException.class, lock::tryRead);
    assertTrue(refused.getMessage().contains("unlock"), refused.getMessage());
    assertThrows(IllegalStateException.class, lock::read);
    assertEquals(full, words.lvRecord(ours), "the refused holds were taken back");

    words.spRecord(ours, newRecord(PID));
    WriteGuard write = lock.tryWrite().orElseThrow();
    CompletableFuture<ReadGuard> queued = lock.read(); // behind our write
    assertPending(queued);
    words.spRecord(ours, full);
    write.unlock();
    assertInstanceOf(IllegalStateException.class, failureOf(queued));
    assertEquals(full, words.lvRecord(ours));
    words.spRecord(ours, newRecord(PID));
    lock.tryRead().orElseThrow().unlock();
  }

  // ---- the records' bound ----

  @Test
  void writersLookOnlyAtClaimedRecordsAndEveryClaimRaisesTheBoundFirst() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadWriteMutexWords words = words("rw");
    assertEquals(0, words.lvBound(), "a new lock: no record in use");
    lock.tryWrite().orElseThrow().unlock();
    assertEquals(0, words.lvBound(), "a writer claims no record");
    await(lock.read()).unlock();
    assertEquals(1, words.lvBound(), "this view's record");
    try (SharedRegion second = SharedRegion.open(region.file(), withRing());
        SharedRegion third = SharedRegion.open(region.file(), withRing())) {
      await(second.readWriteMutex("rw").read()).unlock();
      ReadGuard held = await(third.readWriteMutex("rw").read());
      assertEquals(3, words.lvBound(), "a record per view, the bound raised by each claim");
      assertEquals(
          newRecord((int) ProcessHandle.current().pid()) | 1,
          words.lvRecord(2),
          "the third view's hold, last in use");
      assertTrue(
          lock.tryWrite().isEmpty(), "the hold in the bound's last record keeps writers out");
      assertEquals(1, lock.readers());
      held.unlock();
      lock.tryWrite().orElseThrow().unlock();
    }
    assertEquals(3, words.lvBound(), "closed views' records stay this process's: it never falls");
  }

  @Test
  void aDamagedBoundMakesWritersLookAtEveryRecord() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadWriteMutexWords words = words("rw");
    words.spRecord(20, newRecord(1) | 1); // pid 1 is alive and never ours: a read hold
    for (int damaged :
        new int[] {-1, ReadWriteMutexDescriptor.READER_SLOTS + 1, Integer.MIN_VALUE}) {
      words.spBound(damaged);
      assertTrue(lock.tryWrite().isEmpty(), "bound " + damaged + ": record 20's hold still seen");
      assertEquals(1, lock.readers(), "bound " + damaged);
      words.raiseBound(2);
      assertEquals(damaged, words.lvBound(), "a damaged bound is not raised over");
    }
    words.spBound(21);
    words.spRecord(20, 0);
    lock.tryWrite().orElseThrow().unlock();
  }

  private static int recordOf(ReadWriteMutexWords words, int pid) {
    for (int i = 0; ; i++) {
      if (ReadWriteMutexDescriptor.recordPid(words.lvRecord(i)) == pid) {
        return i;
      }
    }
  }

  private static int freeRecord(ReadWriteMutexWords words) {
    for (int i = 0; ; i++) {
      if (words.lvRecord(i) == 0) {
        return i;
      }
    }
  }

  private static boolean waitUntil(java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(5);
    }
    return true;
  }

  @Test
  void requestsOfOneProcessAreGrantedInQueueOrder() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    WriteGuard first = await(lock.write());
    CompletableFuture<ReadGuard> r1 = lock.read();
    CompletableFuture<ReadGuard> r2 = lock.read();
    CompletableFuture<WriteGuard> w2 = lock.write();
    CompletableFuture<ReadGuard> r3 = lock.read();
    first.unlock();
    ReadGuard g1 = await(r1);
    ReadGuard g2 = await(r2);
    assertPending(w2);
    assertFalse(r3.isDone(), "a reader behind a queued writer waits for it");
    g1.unlock();
    g2.unlock();
    WriteGuard g3 = await(w2);
    assertPending(r3);
    g3.unlock();
    await(r3).unlock();
  }

  // ---- timeouts and cancellation never leak a hold ----

  @Test
  void aWriterThatTimesOutWaitingForReadersLetsNewReadersIn() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadGuard old = await(lock.read());
    CompletableFuture<WriteGuard> writer = lock.write(Duration.ofMillis(200));
    CompletableFuture<ReadGuard> late = lock.read();
    assertInstanceOf(TimeoutException.class, failureOf(writer));
    assertTrue(failureOf(writer).getMessage().contains("write of read-write mutex 'rw'"));
    ReadGuard entered = await(late);
    assertFalse(lock.isWriteLocked());
    assertEquals(2, lock.readers());
    entered.unlock();
    old.unlock();
  }

  @Test
  void aCancelledWriterThatHadClaimedTheLockLetsReadersOfEveryViewIn() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    try (SharedRegion other = SharedRegion.open(region.file(), withRing())) {
      ReadWriteMutex seen = other.readWriteMutex("rw");
      ReadGuard old = await(lock.read());
      CompletableFuture<WriteGuard> writer = lock.write();
      CompletableFuture<ReadGuard> elsewhere = seen.read();
      assertPending(elsewhere);
      assertTrue(writer.cancel(false));
      await(elsewhere).unlock();
      assertFalse(lock.isWriteLocked());
      assertTrue(lock.tryWrite().isEmpty(), "the old reader still holds");
      old.unlock();
      lock.tryWrite().orElseThrow().unlock();
    }
  }

  @Test
  void aClaimPassesToTheNextQueuedWriterWhenItsWriterIsCancelled() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadGuard old = await(lock.read());
    CompletableFuture<WriteGuard> first = lock.write();
    CompletableFuture<WriteGuard> second = lock.write();
    assertPending(first);
    first.cancel(false);
    assertTrue(lock.isWriteLocked(), "the second writer holds the claim now");
    CompletableFuture<ReadGuard> late = lock.read();
    assertPending(late);
    old.unlock();
    WriteGuard write = await(second);
    write.unlock();
    await(late).unlock();
  }

  @Test
  void aReaderThatTimesOutLeavesNothingBehind() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    WriteGuard writer = await(lock.write());
    CompletableFuture<ReadGuard> reader = lock.read(Duration.ofMillis(100));
    Throwable failure = failureOf(reader);
    assertInstanceOf(TimeoutException.class, failure);
    assertTrue(failure.getMessage().contains("read of read-write mutex 'rw'"));
    writer.unlock();
    assertEquals(0, lock.readers());
    lock.tryWrite().orElseThrow().unlock();
  }

  @Test
  void aGrantThatLosesToACancelIsGivenBack() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    for (int i = 0; i < 200; i++) {
      WriteGuard writer = await(lock.write());
      CompletableFuture<ReadGuard> reader = lock.read();
      CompletableFuture<WriteGuard> next = lock.write();
      Thread canceller =
          Thread.ofPlatform()
              .start(
                  () -> {
                    reader.cancel(false);
                    next.cancel(false);
                  });
      writer.unlock();
      canceller.join();
      if (!reader.isCancelled()) {
        reader.join().unlock();
      }
      if (!next.isCancelled()) {
        next.join().unlock();
      }
    }
    assertEquals(0, lock.readers());
    assertFalse(lock.isWriteLocked());
    lock.tryWrite().orElseThrow().unlock();
  }

  /*
   * The grant on its way (see MutexTest's test of the same name): a write release inside a
   * continuation hands the lock to the next writer, delivered only once the outer grant returns;
   * a cancel in that instant returns true, and the lock is free at once.
   */
  @Test
  void aCancelThatReturnsTrueLeavesNothingHeldEvenWithTheGrantOnItsWay() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    WriteGuard first = await(lock.write());
    CompletableFuture<WriteGuard> second = lock.write();
    CompletableFuture<WriteGuard> third = lock.write();
    GrantOnItsWay.Outcome outcome =
        GrantOnItsWay.play(
            first::unlock,
            second,
            WriteGuard::unlock, // hands the lock to third
            third,
            () ->
                lock.tryWrite()
                    .map(
                        guard -> {
                          guard.unlock();
                          return true;
                        })
                    .orElse(false));
    assertTrue(outcome.cancelled(), "the cancel came before the grant's delivery");
    assertTrue(outcome.takenAfterCancel(), "a cancelled writer still held the lock");
    assertThrows(CancellationException.class, third::join);
    assertFalse(lock.isWriteLocked());
  }

  // ---- downgrade ----

  @Test
  void downgradeKeepsThePositionAgainstAQueuedWriter() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    WriteGuard write = await(lock.write());
    CompletableFuture<WriteGuard> queued = lock.write();
    ReadGuard read = write.downgrade();
    assertEquals(1, lock.readers());
    assertPending(queued);
    assertThrows(IllegalStateException.class, write::unlock);
    assertThrows(IllegalStateException.class, write::downgrade);
    read.unlock();
    WriteGuard next = await(queued);
    assertTrue(next.fence() > write.fence());
    next.unlock();
  }

  @Test
  void downgradeLetsReadersQueuedBehindTheWriterIn() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    WriteGuard write = await(lock.write());
    CompletableFuture<ReadGuard> reader = lock.read();
    assertPending(reader);
    ReadGuard mine = write.downgrade();
    ReadGuard theirs = await(reader);
    assertEquals(2, lock.readers());
    mine.unlock();
    theirs.unlock();
  }

  // ---- fences and errors ----

  @Test
  void fencesIncreaseOverEveryWriteOfEveryView() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    try (SharedRegion other = SharedRegion.open(region.file(), withRing())) {
      ReadWriteMutex seen = other.readWriteMutex("rw");
      long last = 0;
      for (int i = 0; i < 50; i++) {
        WriteGuard a = await(lock.write());
        CompletableFuture<WriteGuard> handed = lock.write(); // handed over in-process
        assertTrue(a.fence() > last);
        last = a.fence();
        a.unlock();
        WriteGuard b = await(handed);
        assertTrue(b.fence() > last);
        last = b.fence();
        b.unlock();
        WriteGuard c = await(seen.write());
        assertTrue(c.fence() > last);
        last = c.fence();
        c.unlock();
      }
    }
  }

  @Test
  void unlockingTwiceIsRefusedAndChangesNothing() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadGuard read = await(lock.read());
    ReadGuard other = await(lock.read());
    read.unlock();
    assertThrows(IllegalStateException.class, read::unlock);
    assertEquals(1, lock.readers());
    other.unlock();
    WriteGuard write = await(lock.write());
    write.unlock();
    assertThrows(IllegalStateException.class, write::unlock);
    assertFalse(lock.isWriteLocked());
  }

  @Test
  void closingAGuardAfterItsUnlockIsANoOpAndASecondUnlockStillThrows() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadGuard other = await(lock.read());
    try (ReadGuard read = await(lock.read())) {
      read.unlock();
    } // AutoCloseable: the closing brace must not throw after the unlock
    assertEquals(1, lock.readers(), "the unlocked guard's close released nothing more");
    ReadGuard closed = await(lock.read());
    closed.close();
    closed.close();
    assertThrows(IllegalStateException.class, closed::unlock);
    assertEquals(1, lock.readers());
    other.unlock();
    try (WriteGuard write = await(lock.write())) {
      write.unlock();
    }
    WriteGuard closedWrite = await(lock.write());
    closedWrite.close();
    closedWrite.close();
    assertThrows(IllegalStateException.class, closedWrite::unlock);
    assertFalse(lock.isWriteLocked());
    lock.tryWrite().orElseThrow().unlock();
  }

  @Test
  void closingAWriteGuardAfterItsDowngradeIsANoOpAndTheReadHoldStays() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadGuard reader;
    try (WriteGuard write = await(lock.write())) {
      reader = write.downgrade();
    }
    assertFalse(lock.isWriteLocked());
    assertEquals(1, lock.readers(), "closing the downgraded write guard kept the read hold");
    assertTrue(lock.tryWrite().isEmpty(), "the downgraded read hold still excludes writers");
    reader.unlock();
    lock.tryWrite().orElseThrow().unlock();
  }

  @Test
  void aCloseRacingAnUnlockOfOneGuardReleasesItOnceAndCloseNeverThrows() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadGuard other = await(lock.read()); // a second release would take this one's count
    ExecutorService racers = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 100; round++) {
        boolean write = round % 2 == 1;
        AutoCloseable guard;
        Runnable unlock;
        if (write) {
          other.unlock();
          WriteGuard w = await(lock.write());
          guard = w;
          unlock = w::unlock;
        } else {
          ReadGuard r = await(lock.read());
          guard = r;
          unlock = r::unlock;
        }
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<Throwable> closeFailure = new AtomicReference<>();
        Future<Boolean> unlocked =
            racers.submit(
                () -> {
                  start.await();
                  try {
                    unlock.run();
                    return true;
                  } catch (IllegalStateException closedFirst) {
                    return false; // close won: a second release is refused
                  }
                });
        Future<?> closing =
            racers.submit(
                () -> {
                  start.await();
                  try {
                    guard.close();
                  } catch (Throwable t) {
                    closeFailure.set(t);
                  }
                  return null;
                });
        start.countDown();
        unlocked.get(30, TimeUnit.SECONDS);
        closing.get(30, TimeUnit.SECONDS);
        assertEquals(null, closeFailure.get(), "close threw in round " + round);
        if (write) {
          assertFalse(lock.isWriteLocked(), "round " + round);
          other = await(lock.read());
        }
        assertEquals(1, lock.readers(), "released exactly once in round " + round);
      }
    } finally {
      racers.shutdownNow();
    }
    other.unlock();
    assertEquals(0, lock.readers());
  }

  @Test
  void closingTheRegionFailsPendingRequestsAndReleasesItsHolds() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    SharedRegion other = SharedRegion.open(region.file(), withRing());
    ReadWriteMutex seen = other.readWriteMutex("rw");
    ReadGuard held = await(seen.read());
    CompletableFuture<WriteGuard> writer = lock.write();
    CompletableFuture<WriteGuard> pendingThere = seen.write();
    assertPending(writer);
    other.close();
    assertInstanceOf(RegionClosedException.class, failureOf(pendingThere));
    await(writer).unlock();
    assertThrows(RegionClosedException.class, held::unlock);
    assertEquals(0, lock.readers());
  }

  @Test
  void aReadRacingItsViewsCloseIsTakenBackWithTheViewNeverLeftInTheRecord() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    words("rw"); // maps `raw`: the views below share it, so closing one unmaps nothing
    long offset = raw.find("rw").orElseThrow().offset();
    for (int round = 0; round < 30; round++) {
      // A view as another SharedRegion of this process has one (the same pid, a record of its own)
      ReadWriteMutexCore view =
          new ReadWriteMutexCore("rw", raw, offset, FutexScope.SHARED, ring, PID, true);
      view.read().join().unlock(); // its record claimed, so the reads below take the fast path
      AtomicInteger entered = new AtomicInteger();
      Thread reader =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      for (; ; ) {
                        view.read().join(); // kept: closing the view must give every one back
                        entered.incrementAndGet();
                      }
                    } catch (RegionClosedException refused) {
                      // close() came first, or took this read back
                    }
                  });
      while (entered.get() < 50 + round * 10) {
        Thread.onSpinWait();
      }
      view.close();
      reader.join(30_000);
      assertFalse(reader.isAlive());
      assertEquals(0, lock.readers(), "a read that raced close() in round " + round + " stayed");
      view.recordUnmapped(); // no thread uses it any more: its record may serve the next round's
    }
    lock.tryWrite().orElseThrow().unlock();
  }

  @Test
  void closingOneViewOfTheFileTakesBackOnlyItsOwnReadHolds() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadGuard mine = await(lock.read());
    SharedRegion other = SharedRegion.open(region.file(), withRing());
    ReadGuard theirs = await(other.readWriteMutex("rw").read());
    await(other.readWriteMutex("rw").read());
    assertEquals(3, lock.readers(), "a record for each view, both counted");
    other.close();
    assertEquals(1, lock.readers(), "the closed view's two holds are taken back, ours stay");
    assertThrows(RegionClosedException.class, theirs::unlock);
    assertEquals(1, lock.readers());
    assertTrue(lock.tryWrite().isEmpty(), "our read still excludes writers");
    mine.unlock();
    lock.tryWrite().orElseThrow().unlock();
    await(lock.read()).unlock();
  }

  @Test
  void eachViewOfTheFileCountsItsReadsInARecordOfItsOwn() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadGuard mine = await(lock.read());
    try (SharedRegion other = SharedRegion.open(region.file(), withRing())) {
      ReadGuard theirs = await(other.readWriteMutex("rw").read());
      ReadWriteMutexWords words = words("rw");
      List<Long> ours = new ArrayList<>();
      for (int i = 0; i < ReadWriteMutexDescriptor.READER_SLOTS; i++) {
        if (ReadWriteMutexDescriptor.recordPid(words.lvRecord(i)) == PID) {
          ours.add(words.lvRecord(i));
        }
      }
      assertEquals(List.of(newRecord(PID) | 1, newRecord(PID) | 1), ours, "one hold in each");
      theirs.unlock();
    }
    mine.unlock();
    assertEquals(0, lock.readers());
  }

  @Test
  void closingAViewClosesItsRecordAndAnUnlockAfterwardsLeavesTheRecordAlone() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadWriteMutexWords words = words("rw");
    long offset = raw.find("rw").orElseThrow().offset();
    ReadWriteMutexCore view =
        new ReadWriteMutexCore("rw", raw, offset, FutexScope.SHARED, ring, PID, true);
    ReadGuard held = await(view.read());
    await(view.read()); // dropped without unlock: the close gives it back too
    int record = recordOf(words, PID);
    view.close();
    assertEquals(newRecord(PID) | CLOSED, words.lvRecord(record), "closed, its holds given back");
    assertEquals(0, lock.readers());
    assertThrows(RegionClosedException.class, held::unlock);
    assertEquals(newRecord(PID) | CLOSED, words.lvRecord(record), "the unlock took nothing off");
    lock.tryWrite().orElseThrow().unlock();
    view.recordUnmapped();
  }

  @Test
  void aClosedViewsRecordServesAnotherViewOfTheProcessOnlyOnceTheClosedViewIsUnmapped()
      throws Exception {
    region.readWriteMutex("rw");
    ReadWriteMutexWords words = words("rw");
    long offset = raw.find("rw").orElseThrow().offset();
    ReadWriteMutexCore first =
        new ReadWriteMutexCore("rw", raw, offset, FutexScope.SHARED, ring, PID, true);
    await(first.read()).unlock();
    int closedRecord = recordOf(words, PID);
    first.close();
    ReadWriteMutexCore second =
        new ReadWriteMutexCore("rw", raw, offset, FutexScope.SHARED, ring, PID, true);
    ReadGuard whileMapped = await(second.read());
    assertEquals(
        newRecord(PID) | CLOSED,
        words.lvRecord(closedRecord),
        "not reused while a stale access of the closed view could still reach it");
    whileMapped.unlock();
    second.close();
    first.recordUnmapped();
    ReadWriteMutexCore third =
        new ReadWriteMutexCore("rw", raw, offset, FutexScope.SHARED, ring, PID, true);
    ReadGuard reused = await(third.read());
    assertEquals(newRecord(PID) | 1, words.lvRecord(closedRecord), "reused once it was unmapped");
    reused.unlock();
    third.close();
    second.recordUnmapped();
    third.recordUnmapped();
  }

  @Test
  void closingAndReopeningTheRegionManyTimesDoesNotRunOutOfReaderRecords() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    for (int i = 0; i < ReadWriteMutexDescriptor.READER_SLOTS + 8; i++) { // more than there are
      try (SharedRegion other = SharedRegion.open(region.file(), withRing())) {
        await(other.readWriteMutex("rw").read()); // left to the close
      }
    }
    assertEquals(0, lock.readers());
    lock.tryWrite().orElseThrow().unlock();
  }

  // ---- owner death (planted: a pid that no process has) ----

  @Test
  void aDeadWritersLockIsTakenOverByTheNextWriterAndReadersAreRefusedUntilRepaired()
      throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadWriteMutexWords words = words("rw");
    words.spWord(WRITE | Child.deadPid());
    CompletableFuture<ReadGuard> reader = lock.read();
    Throwable refused = failureOf(reader);
    assertInstanceOf(WriterDiedException.class, refused);
    assertTrue(refused.getMessage().contains("markConsistent()"), refused.getMessage());
    assertThrows(WriterDiedException.class, lock::tryRead);
    WriteGuard repair = await(lock.write());
    assertTrue(repair.ownerDied());
    assertThrows(IllegalStateException.class, repair::downgrade);
    repair.markConsistent();
    repair.unlock();
    ReadGuard read = await(lock.read());
    read.unlock();
    WriteGuard next = await(lock.write());
    assertFalse(next.ownerDied());
    next.unlock();
  }

  @Test
  void aWriterThatDiedBeforeTheReadersLeftIsForgottenWithoutReport() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadWriteMutexWords words = words("rw");
    words.spWord(WRITE | PENDING | Child.deadPid()); // claimed, never held: it wrote nothing
    ReadGuard read = await(lock.read());
    assertFalse(lock.isWriteLocked());
    read.unlock();
    words.spWord(WRITE | PENDING | Child.deadPid());
    WriteGuard write = await(lock.write());
    assertFalse(write.ownerDied());
    write.unlock();
    words.spWord(WRITE | PENDING | Child.deadPid());
    lock.tryRead().orElseThrow().unlock();
  }

  @Test
  void aTakeoverReleasedUnrepairedMakesTheLockNotRecoverable() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    words("rw").spWord(OWNER_DIED); // a reader found the writer dead
    WriteGuard takeover = lock.tryWrite().orElseThrow();
    assertTrue(takeover.ownerDied());
    CompletableFuture<ReadGuard> reader = lock.read();
    CompletableFuture<WriteGuard> writer = lock.write();
    takeover.unlock();
    assertInstanceOf(NotRecoverableException.class, failureOf(reader));
    assertInstanceOf(NotRecoverableException.class, failureOf(writer));
    assertThrows(NotRecoverableException.class, lock::tryRead);
    assertThrows(NotRecoverableException.class, lock::tryWrite);
    assertInstanceOf(NotRecoverableException.class, failureOf(lock.read()));
  }

  @Test
  void aDeadReadersHoldsAreDroppedWithoutReport() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadWriteMutexWords words = words("rw");
    words.spRecord(3, newRecord(Child.deadPid()) | 5 | WAITING);
    assertEquals(5, lock.readers());
    WriteGuard write = await(lock.write());
    assertFalse(write.ownerDied());
    assertEquals(0, lock.readers());
    assertEquals(0, words.lvRecord(3), "the dead reader's record is free again");
    write.unlock();
  }

  @Test
  void aDeadReadersHoldsInSeveralRecordsOfItsPidAreAllDropped() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    ReadWriteMutexWords words = words("rw");
    int dead = Child.deadPid();
    words.spRecord(3, newRecord(dead) | 2); // two views of one dead process
    words.spRecord(7, newRecord(dead) | 1 | WAITING);
    words.spRecord(9, newRecord(dead) | CLOSED); // and one it had closed
    assertEquals(3, lock.readers());
    WriteGuard write = await(lock.write());
    assertFalse(write.ownerDied());
    assertEquals(0, lock.readers());
    assertEquals(0, words.lvRecord(3));
    assertEquals(0, words.lvRecord(7));
    write.unlock();
    ReadGuard read = await(lock.read());
    read.unlock();
  }

  @Test
  void aPidThatNoProcessCanHaveIsReportedAsDamage() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    words("rw").spWord(WRITE | (RegionDescriptor.MAX_PID + 5));
    Throwable failure = failureOf(lock.write());
    assertTrue(failure.getMessage().contains("above the largest pid"), failure.getMessage());
  }

  // ---- the blocking view ----

  @Test
  void theBlockingViewSharesReadsExcludesWritesAndIsThreadOwned() throws Exception {
    ReadWriteLock view = region.readWriteMutex("rw").asReadWriteLock();
    Lock read = view.readLock();
    Lock write = view.writeLock();
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      CountDownLatch bothIn = new CountDownLatch(2);
      CountDownLatch leave = new CountDownLatch(1);
      List<Future<?>> readers = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        readers.add(
            threads.submit(
                () -> {
                  read.lock();
                  bothIn.countDown();
                  leave.await();
                  read.unlock();
                  return null;
                }));
      }
      assertTrue(bothIn.await(20, TimeUnit.SECONDS), "two readers share the lock");
      assertFalse(write.tryLock(50, TimeUnit.MILLISECONDS));
      assertThrows(IllegalMonitorStateException.class, read::unlock);
      leave.countDown();
      for (Future<?> reader : readers) {
        reader.get(20, TimeUnit.SECONDS);
      }
      write.lock();
      assertThrows(IllegalStateException.class, read::lock, "would wait for itself");
      assertThrows(IllegalStateException.class, write::tryLock, "not reentrant");
      assertFalse(threads.submit(() -> read.tryLock()).get(20, TimeUnit.SECONDS));
      write.unlock();
      assertThrows(UnsupportedOperationException.class, write::newCondition);
    } finally {
      threads.shutdownNow();
    }
  }

  // ---- exclusion under load ----

  @Test
  void writersExcludeEveryoneAndReadersOverlapUnderLoad() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    AtomicInteger readersIn = new AtomicInteger();
    AtomicInteger writersIn = new AtomicInteger();
    AtomicInteger violations = new AtomicInteger();
    AtomicInteger maxReaders = new AtomicInteger();
    int threads = 4;
    int rounds = 400;
    List<CompletableFuture<Void>> done = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      done.add(
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < rounds; i++) {
                  if ((i + id) % 4 == 0) {
                    try (WriteGuard g = lock.write().join()) {
                      if (writersIn.incrementAndGet() != 1 || readersIn.get() != 0) {
                        violations.incrementAndGet();
                      }
                      Thread.onSpinWait();
                      writersIn.decrementAndGet();
                    }
                  } else {
                    try (ReadGuard g = lock.read().join()) {
                      int in = readersIn.incrementAndGet();
                      maxReaders.accumulateAndGet(in, Math::max);
                      if (writersIn.get() != 0) {
                        violations.incrementAndGet();
                      }
                      Thread.yield();
                      readersIn.decrementAndGet();
                    }
                  }
                }
              },
              Executors.newVirtualThreadPerTaskExecutor()));
    }
    CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    assertEquals(0, violations.get());
    assertEquals(0, lock.readers());
    assertFalse(lock.isWriteLocked());
  }
}
