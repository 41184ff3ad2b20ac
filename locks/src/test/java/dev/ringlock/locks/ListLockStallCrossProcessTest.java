package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.FutexRing;
import dev.ringlock.testsupport.Child;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real process stopped (SIGSTOP) for 10 s inside the list lock of queue "big" delays that queue
 * only: another process's contended mutex on the same ring keeps granting throughout, and its timed
 * awaits on "big" time out on time. The child takes the lock with the library's PidLock, as a waker
 * or an awaiting process would, so the test needs no pause point in the release path.
 */
@Timeout(120)
class ListLockStallCrossProcessTest {
  private static final long STALL_MILLIS = 10_000;

  @TempDir Path directory;

  @Test
  void aProcessStoppedInsideAListLockStallsOnlyThatQueue() throws Exception {
    Path file = directory.resolve("stall-" + ProcessHandle.current().pid());
    Path sync = Files.createDirectory(directory.resolve("sync"));
    FutexRing ring = FutexRing.open();
    // Every handover through FUTEX_WAKE and a wait on the ring: grants need the completion thread.
    RegionOptions options =
        RegionOptions.builder().ring(ring).localHandoff(false).spinTries(0).build();
    Child child = null;
    try (SharedRegion region = SharedRegion.open(file, options)) {
      WaitQueue big = region.waitQueue("big");
      Mutex other = region.mutex("other");
      child =
          Child.jvm(ListLockHolder.class, file.toString(), "big", sync.toString())
              .logTo(directory.resolve("child.log"))
              .start();
      // The early await's 3 s start once the child is up: a JVM's start on a loaded machine must
      // not use them up before the stall begins.
      awaitFile(sync.resolve("started"), child);
      long earlyStart = System.nanoTime();
      CompletableFuture<Void> early = big.await(0, Duration.ofSeconds(3)); // queued before
      AtomicLong earlyEnded = new AtomicLong();
      early.whenComplete((ignored, failure) -> earlyEnded.set(System.nanoTime()));
      Files.createFile(sync.resolve("go"));
      awaitFile(sync.resolve("locked"), child);
      child.stop();
      long stopped = System.nanoTime();
      assertFalse(early.isDone(), "the early await ended before the stall: it proves nothing");

      List<Long> grants = Collections.synchronizedList(new ArrayList<>());
      List<Thread> contenders = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        contenders.add(
            Thread.ofPlatform()
                .start(
                    () -> {
                      while (System.nanoTime() - stopped
                          < TimeUnit.MILLISECONDS.toNanos(STALL_MILLIS)) {
                        try {
                          MutexGuard guard = other.lock().get(30, TimeUnit.SECONDS);
                          grants.add(System.nanoTime());
                          Thread.sleep(0, 200_000);
                          guard.unlock();
                        } catch (Exception e) {
                          grants.add(Long.MIN_VALUE); // a grant that never came: fails below
                          return;
                        }
                      }
                    }));
      }

      // The early await's kernel wait times out ~2 s into the stall, on the completion thread.
      ExecutionException earlyFailure =
          assertThrows(ExecutionException.class, () -> early.get(30, TimeUnit.SECONDS));
      assertInstanceOf(TimeoutException.class, earlyFailure.getCause());
      long earlyLate = TimeUnit.NANOSECONDS.toMillis(earlyEnded.get() - earlyStart) - 3_000;

      // An await made during the stall fails with its own timeout, on time.
      long lateStart = System.nanoTime();
      CompletableFuture<Void> late = big.await(0, Duration.ofSeconds(2));
      ExecutionException lateFailure =
          assertThrows(ExecutionException.class, () -> late.get(30, TimeUnit.SECONDS));
      assertInstanceOf(TimeoutException.class, lateFailure.getCause());
      long lateTook = millisSince(lateStart);

      for (Thread contender : contenders) {
        contender.join();
      }
      child.resume();
      Files.createFile(sync.resolve("release"));
      child.awaitSuccess(Duration.ofSeconds(60));

      List<Long> times = new ArrayList<>(grants);
      assertTrue(!times.contains(Long.MIN_VALUE), "a contended lock() was never granted");
      Collections.sort(times);
      long maxGap = 0;
      long previous = stopped;
      for (long at : times) {
        maxGap = Math.max(maxGap, at - previous);
        previous = at;
      }
      long maxGapMillis = TimeUnit.NANOSECONDS.toMillis(maxGap);
      System.out.printf(
          "list lock stalled %d ms: %d grants of the other mutex, longest gap %d ms; early await"
              + " timed out %d ms late, an await made during the stall after %d ms (timeout"
              + " 2000)%n",
          STALL_MILLIS, times.size(), maxGapMillis, earlyLate, lateTook);
      // Bounds: generous for a loaded 2-core VM; before the fix the gap and the lateness were both
      // about 7 s (the completion thread waited for the stopped holder from the 3 s timeout on).
      assertTrue(times.size() > 100, "only " + times.size() + " grants in the stall");
      assertTrue(maxGapMillis < 2_000, "no grant for " + maxGapMillis + " ms");
      assertTrue(earlyLate < 1_500, "the early await timed out " + earlyLate + " ms late");
      assertTrue(lateTook >= 1_990 && lateTook < 3_500, "the late await took " + lateTook + " ms");

      // The holder let go: the deferred clean-up frees the early await's slot; the queue works.
      long cleanUp = System.nanoTime();
      while (big.waiting() != 0) {
        assertTrue(millisSince(cleanUp) < 10_000, "the timed-out slot was never cleaned up");
        Thread.sleep(5);
      }
      CompletableFuture<Void> after = big.await(0);
      assertEquals(1, big.wake(1));
      assertNull(after.get(10, TimeUnit.SECONDS));
    } finally {
      if (child != null) {
        child.close();
      }
      ring.close();
      Files.deleteIfExists(file);
    }
  }

  private static void awaitFile(Path file, Child child) throws InterruptedException {
    while (!Files.exists(file)) {
      assertTrue(child.isAlive(), () -> "the holder died: " + child.log());
      Thread.sleep(5);
    }
  }

  private static long millisSince(long start) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }
}
