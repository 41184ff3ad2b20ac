package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * ReadWriteMutex.withRead and withWrite: Mutex.withLock's semantics (ScopedHelpersTest) for a read
 * hold and for the write hold.
 */
@Timeout(60)
class ReadWriteScopedHelpersTest extends RegionTestBase {

  private static CompletableFuture<String> marking(AtomicBoolean ran) {
    ran.set(true);
    return CompletableFuture.completedFuture("ran");
  }

  @Test
  void cancellingAWaitingWithWriteWithdrawsItSoReadersGetInAndTheActionNeverRuns()
      throws Exception {
    ReadWriteMutex rw = region.readWriteMutex("rw");
    ReadGuard reader = await(rw.read());
    AtomicBoolean ran = new AtomicBoolean();
    CompletableFuture<String> scoped = rw.withWrite(() -> marking(ran));
    assertFalse(scoped.isDone(), "waits for the reader to leave");
    assertTrue(rw.isWriteLocked(), "the waiting writer has claimed the lock");
    assertTrue(scoped.cancel(true));
    assertFalse(rw.isWriteLocked(), "the withdrawn writer no longer keeps readers out");
    ReadGuard another = await(rw.read(Duration.ofSeconds(10)));
    another.unlock();
    reader.unlock();
    WriteGuard next = await(rw.write(Duration.ofSeconds(10)));
    assertFalse(ran.get(), "a withdrawn withWrite never runs its action");
    next.unlock();
    assertEquals(0, rw.readers());
    assertFalse(rw.isWriteLocked());
  }

  @Test
  void cancellingAWaitingWithReadWithdrawsItAndTheActionNeverRuns() throws Exception {
    ReadWriteMutex rw = region.readWriteMutex("rw");
    WriteGuard writer = await(rw.write());
    AtomicBoolean ran = new AtomicBoolean();
    CompletableFuture<String> scoped = rw.withRead(() -> marking(ran));
    assertFalse(scoped.isDone(), "waits for the writer");
    assertTrue(scoped.cancel(true));
    writer.unlock();
    WriteGuard next = await(rw.write(Duration.ofSeconds(10)));
    assertFalse(ran.get(), "a withdrawn withRead never runs its action");
    assertEquals(0, rw.readers(), "no read hold was left behind");
    next.unlock();
  }

  @Test
  void withReadHoldsUntilTheStageCompletesAndReleasesBeforeTheResultCompletes() throws Exception {
    ReadWriteMutex rw = region.readWriteMutex("rw");
    CompletableFuture<Integer> work = new CompletableFuture<>();
    CompletableFuture<Integer> result = rw.withRead(() -> work);
    assertEquals(1, rw.readers(), "held while the action's stage runs");
    CompletableFuture<Integer> readersWhenResultCompleted = result.thenApply(v -> rw.readers());
    work.complete(42);
    assertEquals(42, await(result));
    assertEquals(0, await(readersWhenResultCompleted), "released before the result completed");
  }

  @Test
  void withWriteHoldsUntilTheStageCompletesAndReleasesBeforeTheResultCompletes() throws Exception {
    ReadWriteMutex rw = region.readWriteMutex("rw");
    CompletableFuture<Integer> work = new CompletableFuture<>();
    CompletableFuture<Integer> result = rw.withWrite(() -> work);
    assertTrue(rw.isWriteLocked(), "held while the action's stage runs");
    assertEquals(ProcessHandle.current().pid(), rw.writerPid());
    assertTrue(rw.tryRead().isEmpty(), "no reader while the writer's action runs");
    CompletableFuture<Boolean> lockedWhenResultCompleted =
        result.thenApply(v -> rw.isWriteLocked());
    work.complete(7);
    assertEquals(7, await(result));
    assertFalse(await(lockedWhenResultCompleted), "released before the result completed");
  }

  @Test
  void bothReleaseWhenTheActionFailsThrowsOrReturnsNull() throws Exception {
    ReadWriteMutex rw = region.readWriteMutex("rw");
    IllegalStateException boom = new IllegalStateException("boom");

    assertSame(boom, failureOf(rw.withRead(() -> CompletableFuture.failedFuture(boom))));
    assertSame(boom, failureOf(rw.withWrite(() -> CompletableFuture.failedFuture(boom))));
    assertEquals(0, rw.readers(), "released after a failed stage");
    assertFalse(rw.isWriteLocked(), "released after a failed stage");

    assertSame(
        boom,
        failureOf(
            rw.withRead(
                () -> {
                  throw boom;
                })));
    assertSame(
        boom,
        failureOf(
            rw.withWrite(
                () -> {
                  throw boom;
                })));
    assertEquals(0, rw.readers(), "released after the action threw");
    assertFalse(rw.isWriteLocked(), "released after the action threw");

    Throwable readNull = failureOf(rw.withRead(() -> null));
    assertInstanceOf(NullPointerException.class, readNull);
    assertTrue(readNull.getMessage().contains("withRead on 'rw'"), readNull.getMessage());
    Throwable writeNull = failureOf(rw.withWrite(() -> null));
    assertInstanceOf(NullPointerException.class, writeNull);
    assertTrue(writeNull.getMessage().contains("withWrite on 'rw'"), writeNull.getMessage());
    assertEquals(0, rw.readers(), "released after the action returned null");
    assertFalse(rw.isWriteLocked(), "released after the action returned null");
  }

  @Test
  void cancellingAfterTheActionStartedKeepsTheHoldUntilTheStageCompletes() throws Exception {
    ReadWriteMutex rw = region.readWriteMutex("rw");
    CompletableFuture<String> reading = new CompletableFuture<>();
    CompletableFuture<String> read = rw.withRead(() -> reading);
    assertTrue(read.cancel(true));
    assertEquals(1, rw.readers(), "a cancel does not take the hold from a running action");
    reading.complete("done");
    assertEquals(0, rw.readers(), "released once the action's stage completed");

    CompletableFuture<String> writing = new CompletableFuture<>();
    CompletableFuture<String> write = rw.withWrite(() -> writing);
    assertTrue(write.cancel(true));
    assertTrue(rw.isWriteLocked(), "a cancel does not take the hold from a running action");
    writing.complete("done");
    assertFalse(rw.isWriteLocked(), "released once the action's stage completed");
  }

  @Test
  void aWaitingWithWriteRunsOnceTheReadersLeave() throws Exception {
    ReadWriteMutex rw = region.readWriteMutex("rw");
    ReadGuard reader = await(rw.read());
    CompletableFuture<Integer> result =
        rw.withWrite(() -> CompletableFuture.completedFuture(rw.readers()));
    assertFalse(result.isDone());
    reader.unlock();
    assertEquals(0, await(result), "the action ran with no reader inside");
    assertFalse(rw.isWriteLocked());
  }

  @Test
  void timedFormsTimeOutWithoutRunningTheActionAndSayHowLongTheyWaited() throws Exception {
    ReadWriteMutex rw = region.readWriteMutex("jobs");
    AtomicBoolean ran = new AtomicBoolean();
    ReadGuard reader = await(rw.read());
    Throwable write = failureOf(rw.withWrite(Duration.ofMillis(250), () -> marking(ran)));
    assertInstanceOf(TimeoutException.class, write);
    assertEquals(
        "write of read-write mutex 'jobs' was not granted within 250 ms", write.getMessage());
    reader.unlock();

    WriteGuard writer = await(rw.write());
    Throwable read = failureOf(rw.withRead(Duration.ofMillis(40), () -> marking(ran)));
    assertInstanceOf(TimeoutException.class, read);
    assertEquals("read of read-write mutex 'jobs' was not granted within 40 ms", read.getMessage());
    writer.unlock();
    assertFalse(ran.get());
    assertEquals(0, rw.readers());
    assertFalse(rw.isWriteLocked());
  }
}
