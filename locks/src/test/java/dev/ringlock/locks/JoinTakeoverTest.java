package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.thread.ThreadWaiter;
import dev.ringlock.locks.internal.MutexCore;
import dev.ringlock.testsupport.Child;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A platform thread blocked in {@code lock().join()} while another process (or another view of the
 * region, which waits the same way) holds the mutex runs its process's kernel wait itself: the
 * release's wake reaches that thread, and the grant completes the future there, not on the ring's
 * completion thread (one thread wake-up per cross-process hop). Cancel, timeout and interrupt of
 * the joined thread hand the wait back with no wake lost. Runs on whichever backend the build's
 * execution selects (io_uring, then syscalls).
 */
class JoinTakeoverTest {
  private static final Duration GENEROUS = Duration.ofSeconds(30);

  @TempDir Path directory;
  private Path regionFile;
  private Path control;
  private Child holder;

  @BeforeEach
  void regionFile() throws Exception {
    regionFile = Path.of("/dev/shm").resolve("ringlock-join-" + ProcessHandle.current().pid());
    if (!Files.isDirectory(regionFile.getParent())) {
      regionFile = directory.resolve("region");
    }
    Files.deleteIfExists(regionFile);
    control = Files.createDirectory(directory.resolve("control"));
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      region.mutex("m");
    }
  }

  /** Another process takes the mutex and holds it until {@link #releaseHolder}. */
  private void holderInAnotherProcess() throws Exception {
    holder =
        Child.jvm(MutexHolder.class, regionFile.toString(), control.toString(), "m")
            .logTo(directory.resolve("holder.log"))
            .start();
    long deadline = System.nanoTime() + Child.STARTUP_TIMEOUT.toNanos();
    while (!Files.exists(control.resolve("held"))) {
      assertTrue(holder.isAlive(), "the holder exited: " + holder.log());
      assertTrue(System.nanoTime() < deadline, "the holder never took the mutex");
      Thread.sleep(5);
    }
  }

  @AfterEach
  void cleanUp() throws Exception {
    if (holder != null) {
      Files.writeString(control.resolve("exit"), "");
      holder.close();
    }
    Files.deleteIfExists(regionFile);
  }

  private void releaseHolder() throws Exception {
    Files.createFile(control.resolve("release-m"));
  }

  /**
   * A second view of the region in this JVM holds the mutex: its own core, queue and kernel wait,
   * so the first view's requests wait for it through the word and a FUTEX_WAKE, as for another
   * process (the word names the same pid, which only makes it look alive). No JVM to start.
   */
  private static MutexGuard heldByAnotherView(SharedRegion other) {
    return other.mutex("m").tryLock().orElseThrow();
  }

  /**
   * Whether joined threads' waits are taken over in this run: on both backends, unless
   * -Dringlock.joinTakeover=false (then a joined thread parks as before).
   */
  private static boolean takesOver() {
    return !"false".equals(System.getProperty(ThreadWaiter.PROPERTY));
  }

  /**
   * Waits until {@code thread} sleeps in the kernel on its own (ThreadWaiter.await), or, where
   * joined threads are not taken over, until it parks in join().
   */
  private static void awaitSleepingItself(Thread thread) throws InterruptedException {
    if (!takesOver()) {
      long deadline = System.nanoTime() + GENEROUS.toNanos();
      while (thread.getState() != Thread.State.WAITING) {
        assertTrue(System.nanoTime() < deadline, "the joined thread never parked");
        Thread.sleep(2);
      }
      return;
    }
    long deadline = System.nanoTime() + GENEROUS.toNanos();
    while (Arrays.stream(thread.getStackTrace())
        .noneMatch(
            f -> f.getClassName().endsWith("ThreadWaiter") && f.getMethodName().equals("await"))) {
      assertTrue(thread.isAlive(), "the joined thread ended");
      assertTrue(
          System.nanoTime() < deadline,
          "the thread blocked in join() never slept in the kernel itself: "
              + Arrays.toString(thread.getStackTrace()));
      Thread.sleep(2);
    }
  }

  /** What {@link #recordGrantingThread} records when the grant ran on the ring's thread. */
  private static final Thread NOT_A_JOINED_WAIT = new Thread(() -> {});

  /**
   * Records the thread that completed the request if the grant ran where a joined thread's kernel
   * wait ended (QueuedPrimitive.runJoinedWaits on its stack), else {@link #NOT_A_JOINED_WAIT}: the
   * grant ran on the ring's completion thread (its continuations may still run on the joined
   * thread, which helps complete the future's dependents when it wakes, so the thread alone would
   * not tell). A future rather than a field: the joined thread can return from join() while the
   * completing thread is still about to run this callback, so the test waits for the record.
   */
  private static void recordGrantingThread(CompletableFuture<Thread> record) {
    boolean inJoinedWait =
        Arrays.stream(Thread.currentThread().getStackTrace())
            .anyMatch(f -> f.getMethodName().equals("runJoinedWaits"));
    record.complete(inJoinedWait ? Thread.currentThread() : NOT_A_JOINED_WAIT);
  }

  @Test
  @Timeout(120)
  void theJoinedThreadIsTheOneTheReleaseWakesAndItGrantsItself() throws Exception {
    holderInAnotherProcess();
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      Mutex mutex = region.mutex("m");
      CompletableFuture<Thread> completedOn = new CompletableFuture<>();
      AtomicReference<MutexGuard> got = new AtomicReference<>();
      Thread joiner =
          Thread.ofPlatform()
              .start(
                  () -> {
                    CompletableFuture<MutexGuard> request = mutex.lock();
                    request.whenComplete((g, e) -> recordGrantingThread(completedOn));
                    got.set(request.join());
                  });
      awaitSleepingItself(joiner);
      releaseHolder();
      joiner.join(GENEROUS.toMillis());
      assertFalse(joiner.isAlive());
      Thread grantedOn = completedOn.get(GENEROUS.toMillis(), TimeUnit.MILLISECONDS);
      assertSame(
          takesOver() ? joiner : NOT_A_JOINED_WAIT, grantedOn, "the grant ran on " + grantedOn);
      got.get().unlock();
      assertEquals(0, ((MutexCore) mutex).recheckRescues());
    }
  }

  @Test
  @Timeout(120)
  void aVirtualThreadKeepsParkingAndTheRingGrants() throws Exception {
    try (SharedRegion other = SharedRegion.open(regionFile);
        SharedRegion region = SharedRegion.open(regionFile)) {
      MutexGuard held = heldByAnotherView(other);
      Mutex mutex = region.mutex("m");
      CompletableFuture<Thread> completedOn = new CompletableFuture<>();
      AtomicReference<MutexGuard> got = new AtomicReference<>();
      Thread joiner =
          Thread.ofVirtual()
              .start(
                  () -> {
                    CompletableFuture<MutexGuard> request = mutex.lock();
                    request.whenComplete((g, e) -> recordGrantingThread(completedOn));
                    got.set(request.join());
                  });
      Thread.sleep(200); // let it block; a virtual thread must never sleep in the kernel itself
      held.unlock();
      joiner.join(GENEROUS.toMillis());
      assertFalse(joiner.isAlive());
      assertSame(
          NOT_A_JOINED_WAIT,
          completedOn.get(GENEROUS.toMillis(), TimeUnit.MILLISECONDS),
          "a virtual thread ran the queue's kernel wait");
      got.get().unlock();
    }
  }

  @Test
  @Timeout(120)
  void aCancelFromAnotherThreadEndsTheJoinAndTheNextWaiterStillGetsTheWake() throws Exception {
    try (SharedRegion other = SharedRegion.open(regionFile);
        SharedRegion region = SharedRegion.open(regionFile)) {
      MutexGuard held = heldByAnotherView(other);
      Mutex mutex = region.mutex("m");
      CompletableFuture<MutexGuard> first = mutex.lock();
      AtomicReference<Throwable> firstEnded = new AtomicReference<>();
      Thread joiner =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      first.join();
                    } catch (Throwable t) {
                      firstEnded.set(t);
                    }
                  });
      awaitSleepingItself(joiner);
      CompletableFuture<MutexGuard> second = mutex.lock(); // parks behind: not the head
      assertTrue(first.cancel(false));
      joiner.join(GENEROUS.toMillis());
      assertFalse(joiner.isAlive(), "the joined thread stayed in the kernel after its cancel");
      assertInstanceOf(CancellationException.class, firstEnded.get());
      held.unlock();
      MutexGuard guard = second.get(GENEROUS.toMillis(), TimeUnit.MILLISECONDS);
      guard.unlock();
      // the wait handed back to the ring took the release's wake: no re-check had to rescue it
      assertEquals(0, ((MutexCore) mutex).recheckRescues());
    }
  }

  @Test
  @Timeout(120)
  void aJoinedRequestTimesOutOnItsOwnThreadAndTheMutexStaysUsable() throws Exception {
    try (SharedRegion other = SharedRegion.open(regionFile);
        SharedRegion region = SharedRegion.open(regionFile)) {
      MutexGuard held = heldByAnotherView(other);
      Mutex mutex = region.mutex("m");
      long start = System.nanoTime();
      CompletionException failure =
          assertThrows(CompletionException.class, () -> mutex.lock(Duration.ofMillis(100)).join());
      long waited = System.nanoTime() - start;
      assertInstanceOf(TimeoutException.class, failure.getCause());
      assertTrue(waited >= TimeUnit.MILLISECONDS.toNanos(100), "timed out after " + waited + " ns");
      held.unlock();
      mutex.lock().get(GENEROUS.toMillis(), TimeUnit.MILLISECONDS).unlock();
    }
  }

  @Test
  @Timeout(120)
  void anInterruptedGetLeavesTheKernelAndTheRequestIsStillGranted() throws Exception {
    try (SharedRegion other = SharedRegion.open(regionFile);
        SharedRegion region = SharedRegion.open(regionFile)) {
      MutexGuard held = heldByAnotherView(other);
      Mutex mutex = region.mutex("m");
      CompletableFuture<MutexGuard> request = mutex.lock();
      AtomicReference<Throwable> ended = new AtomicReference<>();
      Thread getter =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      request.get();
                    } catch (Throwable t) {
                      ended.set(t);
                    }
                  });
      awaitSleepingItself(getter);
      getter.interrupt();
      getter.join(GENEROUS.toMillis());
      assertFalse(getter.isAlive(), "an interrupted get() stayed in the kernel");
      assertInstanceOf(InterruptedException.class, ended.get());
      assertFalse(request.isDone());
      held.unlock();
      request.get(GENEROUS.toMillis(), TimeUnit.MILLISECONDS).unlock();
      assertEquals(0, ((MutexCore) mutex).recheckRescues());
    }
  }

  /**
   * Runs {@code join} on a new platform thread, waits until it sleeps in the kernel itself, runs
   * {@code release}, and returns whether the request's grant ran in that thread's kernel wait.
   */
  private static boolean grantedInTheJoinedThread(CompletableFuture<?> request, Runnable release)
      throws Exception {
    CompletableFuture<Thread> completedOn = new CompletableFuture<>();
    request.whenComplete((v, e) -> recordGrantingThread(completedOn));
    Thread joiner = Thread.ofPlatform().start(request::join);
    awaitSleepingItself(joiner);
    release.run();
    joiner.join(GENEROUS.toMillis());
    assertFalse(joiner.isAlive());
    return completedOn.get(GENEROUS.toMillis(), TimeUnit.MILLISECONDS) == joiner;
  }

  @Test
  @Timeout(120)
  void aSemaphoreAcquireJoinedIsGrantedOnItsOwnThread() throws Exception {
    try (SharedRegion other = SharedRegion.open(regionFile);
        SharedRegion region = SharedRegion.open(regionFile)) {
      Semaphore holding = other.semaphore("s", 1);
      assertTrue(holding.tryAcquire(1));
      CompletableFuture<Void> request = region.semaphore("s", 1).acquire(1);
      assertEquals(takesOver(), grantedInTheJoinedThread(request, () -> holding.release(1)));
      region.semaphore("s", 1).release(1);
    }
  }

  @Test
  @Timeout(120)
  void aReadJoinedBehindAnotherViewsWriterIsGrantedOnItsOwnThread() throws Exception {
    try (SharedRegion other = SharedRegion.open(regionFile);
        SharedRegion region = SharedRegion.open(regionFile)) {
      WriteGuard writing = other.readWriteMutex("rw").tryWrite().orElseThrow();
      CompletableFuture<ReadGuard> request = region.readWriteMutex("rw").read();
      assertEquals(takesOver(), grantedInTheJoinedThread(request, writing::unlock));
      request.join().unlock();
    }
  }

  @Test
  @Timeout(120)
  void aRegionClosedUnderAJoinedThreadEndsItsJoin() throws Exception {
    try (SharedRegion other = SharedRegion.open(regionFile)) {
      MutexGuard held = heldByAnotherView(other);
      SharedRegion region = SharedRegion.open(regionFile);
      CompletableFuture<MutexGuard> request = region.mutex("m").lock();
      AtomicReference<Throwable> ended = new AtomicReference<>();
      Thread joiner =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      request.join();
                    } catch (Throwable t) {
                      ended.set(t);
                    }
                  });
      awaitSleepingItself(joiner);
      region.close();
      joiner.join(GENEROUS.toMillis());
      assertFalse(joiner.isAlive(), "the joined thread stayed in the kernel after the close");
      assertInstanceOf(RegionClosedException.class, ended.get().getCause());
      held.unlock();
    }
  }
}
