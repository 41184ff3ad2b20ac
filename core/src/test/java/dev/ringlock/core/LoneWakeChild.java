package dev.ringlock.core;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;

/**
 * Run by {@link FutexRingTest#aLoneWakeFromAnotherThreadReachesAWaitTheLoopHasNotSubmittedYet} in a
 * JVM of its own with {@link TestPausePoints} on. For each lone wake that may skip the ring (a
 * {@link WakeSignal}, a one-word {@code wakeEach}), it makes a wait while the io_uring completion
 * loop is awake (held in a continuation, so no doorbell), holds the loop where it has just swung to
 * SLEEPING in the iteration that took that wait, makes the wake, a pure one (the word keeps its
 * value), from this thread, then lets the loop go on: the wait, whose wait() returned before the
 * wake, must end woken. Before the loop submitted ahead of that swing, the wait was not yet in the
 * kernel there, and the direct wake passed it by. Prints "OK <wake>" or what went wrong, then
 * "DONE".
 */
public final class LoneWakeChild {
  private static final String NAME = "lone-wake-loop";

  private LoneWakeChild() {}

  public static void main(String[] args) throws Exception {
    System.setProperty(TestPausePoints.HOLD_AFTER_KERNEL_RETURN_PROPERTY, "true");
    try (FutexRing ring =
        FutexRing.open(FutexRing.options().backend(FutexRing.Backend.IO_URING).threadName(NAME))) {
      scenario(ring, "signal", (r, word) -> r.wakeSignal(word, 1, FutexRing.ANY_BITSET).signal());
      scenario(ring, "wakeEach", (r, word) -> r.wakeEach(List.of(word)));
    }
    System.out.println("DONE");
  }

  private static void scenario(
      FutexRing ring, String wakeName, BiConsumer<FutexRing, FutexWord> loneWake) throws Exception {
    Words words = new Words(2);
    FutexWord word = words.word(0);
    for (int attempt = 0; attempt < 10; attempt++) {
      // The iteration that takes the wait is the one that then sleeps only if no doorbell woke the
      // loop for it (a doorbell's completion is reaped, and such an iteration never sleeps): the
      // wait is made while a continuation holds the loop awake.
      CountDownLatch inContinuation = new CountDownLatch(1);
      CountDownLatch goOn = new CountDownLatch(1);
      FutexWord trigger = words.word(1);
      ring.wait(trigger, 0)
          .thenRun(
              () -> {
                inContinuation.countDown();
                awaitQuietly(goOn);
              });
      ring.wake(trigger, 1);
      if (!inContinuation.await(10, TimeUnit.SECONDS)) {
        System.out.println("SETUP " + wakeName + ": the continuation did not run");
        return;
      }
      TestPausePoints.holdNext(NAME);
      CompletableFuture<WaitOutcome> wait = ring.wait(word, 0);
      goOn.countDown();
      if (!TestPausePoints.awaitHeld(NAME, 2_000)) {
        // The loop reaped something in that iteration and did not sleep there: try again
        TestPausePoints.disarm(NAME);
        TestPausePoints.release(NAME); // in case it was held just after the look
        wait.cancel(false);
        continue;
      }
      loneWake.accept(ring, word); // pure: the word stays 0
      TestPausePoints.release(NAME);
      try {
        WaitOutcome outcome = wait.get(5, TimeUnit.SECONDS);
        System.out.println(outcome.isWoken() ? "OK " + wakeName : wakeName + " ended " + outcome);
      } catch (TimeoutException missed) {
        System.out.println("LOST " + wakeName + ": the wait still sleeps 5 s after the wake");
        wait.cancel(false);
      }
      return;
    }
    System.out.println("SETUP " + wakeName + ": the loop never slept right after taking the wait");
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
