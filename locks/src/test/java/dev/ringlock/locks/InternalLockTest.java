package dev.ringlock.locks;

import static dev.ringlock.locks.internal.WaitQueueDescriptor.LIST_LOCK_OFFSET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.InternalLockTimeoutException;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.RegionDescriptor;
import dev.ringlock.locks.internal.WaitQueueWords;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Internal locks held by a live process that never lets go: here pid 1 (init), forged into the lock
 * word through a second mapping of the region file. It is alive, so it is never taken over; a
 * stopped process holding the lock looks the same to ringlock (see ListLockStallCrossProcessTest
 * for a real one). Nothing may hang, the ring's completion thread least of all.
 */
@Timeout(120)
class InternalLockTest {
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  private static final int INIT = 1;

  @TempDir Path directory;

  private FutexRing ring;
  private Path file;

  @BeforeEach
  void openRing() {
    ring = FutexRing.open();
    file = directory.resolve("region");
  }

  @AfterEach
  void closeRing() {
    ring.close();
  }

  private SharedRegion open(Duration lockTimeout) throws IOException {
    return SharedRegion.open(
        file, RegionOptions.builder().ring(ring).internalLockTimeout(lockTimeout).build());
  }

  private MappedRegion raw() throws IOException {
    return MappedRegion.open(
        file, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY);
  }

  private static MemorySegment bytesOf(MappedRegion raw, String name) {
    return raw.segment(raw.find(name).orElseThrow());
  }

  private static void holdListLock(MappedRegion raw, String name, int word) {
    INT.setVolatile(bytesOf(raw, name), LIST_LOCK_OFFSET, word);
  }

  /** What the holder's unlock does: free the word and wake a sleeper. */
  private static void releaseListLock(MappedRegion raw, String name) {
    MemorySegment bytes = bytesOf(raw, name);
    INT.setVolatile(bytes, LIST_LOCK_OFFSET, 0);
    Futex.wake(FutexWord.of(bytes, LIST_LOCK_OFFSET), FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
  }

  private void awaitKernelWaits(long count) throws InterruptedException {
    while (ring.stats().inFlight() < count) {
      Thread.sleep(1);
    }
  }

  private static long millisSince(long start) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  @Test
  void aTimedAwaitTimesOutOnTimeWhileItsListLockIsHeldAndTheRingServesEveryOtherQueue()
      throws Exception {
    try (SharedRegion region = open(RegionOptions.DEFAULT_INTERNAL_LOCK_TIMEOUT);
        MappedRegion raw = raw()) {
      WaitQueue stalled = region.waitQueue("stalled");
      WaitQueue other = region.waitQueue("other");
      long start = System.nanoTime();
      CompletableFuture<Void> timed = stalled.await(0, Duration.ofMillis(400));
      awaitKernelWaits(1);
      holdListLock(raw, "stalled", INIT);

      // Its kernel wait times out on the completion thread, which finds the list lock held.
      ExecutionException timedOut =
          assertThrows(ExecutionException.class, () -> timed.get(20, TimeUnit.SECONDS));
      long late = millisSince(start) - 400;
      assertInstanceOf(TimeoutException.class, timedOut.getCause());
      System.out.println("timed await on a held list lock: " + late + " ms late");
      assertTrue(late < 1_500, "timed out " + late + " ms late");

      // The completion thread is free: another queue on the same ring waits and wakes.
      CompletableFuture<Void> elsewhere = other.await(0);
      assertEquals(1, other.wake(1));
      assertNull(elsewhere.get(5, TimeUnit.SECONDS), "the ring stalled behind the list lock");

      // A timed await made while the lock is held fails with its own timeout, on time.
      long again = System.nanoTime();
      CompletableFuture<Void> refused = stalled.await(0, Duration.ofMillis(300));
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> refused.get(20, TimeUnit.SECONDS));
      assertInstanceOf(TimeoutException.class, e.getCause());
      assertTrue(e.getCause().getMessage().contains("pid 1"), e.getCause().getMessage());
      long took = millisSince(again);
      assertTrue(took >= 290 && took < 1_800, "timed out after " + took + " ms");

      // Once the holder lets go, the deferred clean-up frees the slot, and the queue works.
      releaseListLock(raw, "stalled");
      long cleanUp = System.nanoTime();
      while (stalled.waiting() != 0 || occupied(raw, "stalled") != 0) {
        assertTrue(millisSince(cleanUp) < 10_000, "the timed-out slot was never cleaned up");
        Thread.sleep(5);
      }
      CompletableFuture<Void> after = stalled.await(0);
      assertEquals(1, stalled.wake(1));
      assertNull(after.get(5, TimeUnit.SECONDS));
    }
  }

  private static int occupied(MappedRegion raw, String name) {
    MemorySegment bytes = bytesOf(raw, name);
    return new WaitQueueWords(bytes, 0, bytes.byteSize()).laOccupied();
  }

  @Test
  void synchronousCallsFailAfterTheBoundNamingTheObjectAndTheHolder() throws Exception {
    Duration bound = Duration.ofMillis(300);
    try (SharedRegion region = open(bound);
        MappedRegion raw = raw()) {
      WaitQueue queue = region.waitQueue("jobs");
      ConditionVariable condition = region.condition("ready");
      Mutex mutex = region.mutex("m");
      holdListLock(raw, "jobs", INIT);
      holdListLock(raw, "ready", INIT | RegionDescriptor.LOCK_WAITERS);

      assertBounded("wait queue 'jobs'", bound, () -> queue.await(0));
      assertBounded("wait queue 'jobs'", bound, () -> queue.await(0, Duration.ofHours(1)));
      assertBounded("wait queue 'jobs'", bound, () -> queue.wake(1));
      assertBounded("wait queue 'jobs'", bound, queue::wakeAll);
      assertBounded("wait queue 'jobs'", bound, () -> queue.wakeUpTo(7));
      assertBounded("condition variable 'ready'", bound, condition::signal);
      assertBounded("condition variable 'ready'", bound, condition::signalAll);
      MutexGuard guard = mutex.lock().get(20, TimeUnit.SECONDS);
      assertBounded("condition variable 'ready'", bound, () -> condition.await(guard));
      assertTrue(mutex.tryLock().isEmpty(), "a refused await must leave the mutex held");
      guard.unlock();

      // Creating an object takes the directory lock.
      INT.setVolatile(raw.segment(), RegionDescriptor.DIRECTORY_LOCK_OFFSET, INIT);
      assertBounded("directory", bound, () -> region.mutex("new"));
      INT.setVolatile(raw.segment(), RegionDescriptor.DIRECTORY_LOCK_OFFSET, 0);
      assertEquals("new", region.mutex("new").name());
    }
  }

  private static void assertBounded(String object, Duration bound, Executable call) {
    long start = System.nanoTime();
    InternalLockTimeoutException e = assertThrows(InternalLockTimeoutException.class, call);
    long took = millisSince(start);
    assertTrue(
        took >= bound.toMillis() - 10 && took < bound.toMillis() + 3_000,
        object + ": gave up after " + took + " ms");
    assertEquals(INIT, e.holderPid());
    assertEquals(object, e.lockedObject());
    assertTrue(e.getMessage().contains(object) && e.getMessage().contains("pid 1"), e.getMessage());
  }

  @Test
  void closeFinishesWhateverTheListLocksHoldAndLeaksNoMappingNorDescriptor() throws Exception {
    // Warm up: the classes and jars close() and the test use are loaded and open already.
    open(RegionOptions.DEFAULT_INTERNAL_LOCK_TIMEOUT).close();
    Files.delete(file);
    long fdsBefore = openDescriptors();
    assertEquals(0, mappingsOf(file));

    SharedRegion region = open(RegionOptions.DEFAULT_INTERNAL_LOCK_TIMEOUT);
    WaitQueue queue = region.waitQueue("held");
    ConditionVariable condition = region.condition("damaged");
    Mutex mutex = region.mutex("m");
    CompletableFuture<Void> queued = queue.await(0);
    CompletableFuture<MutexGuard> signalled =
        condition.await(mutex.lock().get(20, TimeUnit.SECONDS));
    awaitKernelWaits(2);
    try (MappedRegion raw = raw()) {
      holdListLock(raw, "held", INIT); // a live holder: close must not wait for it
      holdListLock(raw, "damaged", 0xffff_ffff); // no ringlock writes this
    }

    long start = System.nanoTime();
    region.close();
    long took = millisSince(start);
    System.out.println("close with a held and a damaged list lock took " + took + " ms");
    assertTrue(took < 8_000, "close took " + took + " ms");
    assertInstanceOf(RegionClosedException.class, failureOf(queued));
    assertInstanceOf(RegionClosedException.class, failureOf(signalled));
    long again = System.nanoTime();
    region.close();
    assertTrue(millisSince(again) < 100, "a second close is a no-op");
    assertEquals(0, mappingsOf(file), "the region is still mapped");
    assertEquals(fdsBefore, openDescriptors(), "close leaked a file descriptor");

    // The slot close could not take off the list is nobody's now: another user of the queue
    // reclaims it as a dead process's, and no wake is lost to it.
    try (MappedRegion raw = raw()) {
      MemorySegment bytes = bytesOf(raw, "held");
      assertEquals(0, new WaitQueueWords(bytes, 0, bytes.byteSize()).laOwner(0));
      releaseListLock(raw, "held");
    }
    try (SharedRegion reopened = open(RegionOptions.DEFAULT_INTERNAL_LOCK_TIMEOUT)) {
      WaitQueue held = reopened.waitQueue("held");
      CompletableFuture<Void> next = held.await(0);
      assertEquals(1, held.wake(1), "the wake went to the abandoned slot");
      assertNull(next.get(20, TimeUnit.SECONDS));
    }
  }

  private static Throwable failureOf(CompletableFuture<?> future) {
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> future.get(20, TimeUnit.SECONDS));
    return e.getCause();
  }

  private static long openDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count() - 1; // the listing's own descriptor
    }
  }

  private static long mappingsOf(Path file) throws IOException {
    String path = file.toAbsolutePath().toString();
    List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
    return maps.stream().filter(line -> line.endsWith(path)).count();
  }

  @Test
  void closeOnTheCompletionThreadNeverWaitsForAListLock() throws Exception {
    SharedRegion region = open(RegionOptions.DEFAULT_INTERNAL_LOCK_TIMEOUT);
    WaitQueue queue = region.waitQueue("held");
    WaitQueue trigger = region.waitQueue("trigger");
    CompletableFuture<Void> queued = queue.await(0);
    awaitKernelWaits(1);
    try (MappedRegion raw = raw()) {
      holdListLock(raw, "held", INIT);
    }
    CompletableFuture<Long> closedIn = new CompletableFuture<>();
    trigger
        .await(0)
        .thenRun(
            () -> { // on the ring's completion thread
              long start = System.nanoTime();
              region.close();
              closedIn.complete(millisSince(start));
            });
    assertEquals(1, trigger.wake(1));
    long took = closedIn.get(20, TimeUnit.SECONDS);
    assertTrue(took < 1_000, "close on the completion thread took " + took + " ms");
    assertInstanceOf(RegionClosedException.class, failureOf(queued));
    assertFalse(ring.isClosed());
  }
}
