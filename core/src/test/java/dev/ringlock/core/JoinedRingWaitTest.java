package dev.ringlock.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A ring wait of the syscalls backend taken over by the platform thread blocked in join() or get()
 * on it (JoinedRingWait): the ring's contract holds whether or not the take-over happens, and where
 * it happens (made certain by JoinedRingWaitChild) wakes reach it, count it, in order.
 */
@Timeout(120)
class JoinedRingWaitTest {
  private FutexRing ring;

  @BeforeEach
  void open() {
    ring = FutexRing.open(FutexRing.options().backend(FutexRing.Backend.SYSCALLS));
  }

  @AfterEach
  void close() {
    ring.close();
  }

  /** The liburing futex tests' sequence: wait, wake, then join; the wake must have counted it. */
  @Test
  void aWakeBetweenWaitAndJoinReachesTheWaitAndCountsIt() {
    Words words = new Words(1);
    for (int i = 0; i < 500; i++) {
      CompletableFuture<WaitOutcome> wait = ring.wait(words.word(0), 0);
      assertEquals(1, ring.wake(words.word(0), 1).join(), "round " + i);
      assertTrue(wait.join().isWoken(), "round " + i);
    }
  }

  /**
   * A thread that waits and joins at once (taken over, mostly) against a pure wake of another
   * thread made once the wait returned: every wake counts exactly the one wait, every join ends
   * woken, and no wake is left over for the next round.
   */
  @Test
  void aPureWakeRacingTheTakeOverCountsTheWaitExactly() throws Exception {
    Words words = new Words(1);
    int rounds = 500;
    CyclicBarrier waited = new CyclicBarrier(2);
    AtomicReference<Throwable> failed = new AtomicReference<>();
    int[] takenOver = new int[1];
    Thread joiner =
        Thread.ofPlatform()
            .name("racing-joiner")
            .start(
                () -> {
                  try {
                    for (int i = 0; i < rounds; i++) {
                      CompletableFuture<WaitOutcome> wait = ring.wait(words.word(0), 0);
                      waited.await(10, TimeUnit.SECONDS);
                      WaitOutcome outcome = wait.join();
                      takenOver[0] += ((SyscallWait) wait).takenOver() ? 1 : 0;
                      if (!outcome.isWoken()) {
                        throw new AssertionError("round " + i + " ended " + outcome);
                      }
                      waited.await(10, TimeUnit.SECONDS);
                    }
                  } catch (Throwable t) {
                    failed.set(t);
                  }
                });
    for (int i = 0; i < rounds && failed.get() == null; i++) {
      waited.await(10, TimeUnit.SECONDS);
      assertEquals(1, ring.wake(words.word(0), 1).get(10, TimeUnit.SECONDS), "round " + i);
      waited.await(10, TimeUnit.SECONDS);
    }
    joiner.join();
    assertEquals(null, failed.get());
    assertEquals(0, ring.wake(words.word(0), 1).join(), "a wake left over");
    System.out.println("taken over in " + takenOver[0] + " of " + rounds + " rounds");
  }

  /** A virtual thread is never taken over: its blocking system call would pin its carrier. */
  @Test
  void aVirtualThreadIsNotTakenOver() throws Exception {
    Words words = new Words(1);
    CompletableFuture<WaitOutcome> wait = ring.wait(words.word(0), 0);
    // Not asked: which thread ran a dependent. A thread woken in join() helps run the dependents
    // (CompletableFuture.postComplete), so even a wait completed by the ring may run one there.
    AtomicReference<Boolean> takenOver = new AtomicReference<>();
    Thread virtual =
        Thread.ofVirtual()
            .start(
                () -> {
                  wait.join();
                  takenOver.set(((SyscallWait) wait).takenOver());
                });
    while (virtual.getState() != Thread.State.WAITING && virtual.isAlive()) {
      Thread.sleep(1);
    }
    assertEquals(1, ring.wake(words.word(0), 1).get(10, TimeUnit.SECONDS));
    virtual.join();
    assertFalse(takenOver.get());
  }

  /** A wait with a timeout, joined: it ends with a TimeoutException, taken over or not. */
  @Test
  void aJoinedWaitTimesOut() {
    Words words = new Words(1);
    CompletableFuture<WaitOutcome> wait =
        ring.wait(words.word(0), 0, FutexRing.ANY_BITSET, Duration.ofMillis(50));
    CompletionException failure = assertThrows(CompletionException.class, wait::join);
    assertInstanceOf(TimeoutException.class, failure.getCause());
    assertEquals(0, ring.wake(words.word(0), 1).join(), "no entry left queued");
  }

  /**
   * Each scenario holds the wait's futex_waitv thread so that the joined thread takes it over for
   * certain, and where needed holds the joiner before it sleeps (TestPausePoints, which needs a JVM
   * of its own).
   */
  @Test
  void aWaitTakenOverByItsJoinedThreadKeepsTheRingsContract() throws Exception {
    try (Child child = Child.jvm(JoinedRingWaitChild.class).captureStdout().start()) {
      assertEquals(0, child.awaitExit(Duration.ofSeconds(90)), child.output());
      assertEquals(
          List.of(
              "OK pure wake before the joiner sleeps",
              "OK wake of all",
              "OK second wait",
              "OK cancel",
              "OK timeout",
              "OK close",
              "OK interrupted get",
              "OK interrupted join",
              "OK dependent throws",
              "DONE"),
          child.seen());
    }
  }
}
