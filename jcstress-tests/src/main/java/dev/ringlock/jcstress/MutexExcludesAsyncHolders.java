package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/*
 * Overview
 *
 * Each of two actors requests the mutex twice without waiting, and does its increment in the
 * futures' continuations, which then unlock. So up to three requests queue in-process while one
 * holds, and continuations run on whichever thread hands the lock over: an actor's thread, or
 * the ring's completion thread. The reads, in request order, must be four distinct values 0..3
 * with each actor's own two in increasing order (a later request of one actor is served after
 * its earlier one: in-process FIFO), and the arbiter sees all four increments and a free mutex.
 *
 * Fails when: two continuations hold at once (a duplicate value), a handoff skips the queue
 * order within one actor, or a request is lost (not granted within 10 s).
 */
@JCStressTest
@Outcome(
    id = {"0, 1, 2, 3", "0, 2, 1, 3", "0, 3, 1, 2", "1, 2, 0, 3", "1, 3, 0, 2", "2, 3, 0, 1"},
    expect = ACCEPTABLE,
    desc = "Four holders one at a time, each actor's requests in order")
@Outcome(expect = FORBIDDEN, desc = "Two holders at once, a lost write, or out-of-order service")
@State
public class MutexExcludesAsyncHolders {
  private final Mutex mutex = SharedLocks.nextMutex();
  private int counter;
  private CompletableFuture<Void> a1;
  private CompletableFuture<Void> a2;
  private CompletableFuture<Void> b1;
  private CompletableFuture<Void> b2;

  private CompletableFuture<Void> increment(IIII_Result r, int slot) {
    return mutex
        .lock()
        .thenAccept(
            guard -> {
              try (MutexGuard held = guard) {
                int value = counter++;
                switch (slot) {
                  case 1 -> r.r1 = value;
                  case 2 -> r.r2 = value;
                  case 3 -> r.r3 = value;
                  default -> r.r4 = value;
                }
              }
            });
  }

  @Actor
  public void first(IIII_Result r) {
    a1 = increment(r, 1);
    a2 = increment(r, 2);
  }

  @Actor
  public void second(IIII_Result r) {
    b1 = increment(r, 3);
    b2 = increment(r, 4);
  }

  @Arbiter
  public void arbiter(IIII_Result r) {
    try {
      CompletableFuture.allOf(a1, a2, b1, b2).get(10, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      r.r1 = -2; // FORBIDDEN: a request failed, or was never granted
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      r.r1 = -3;
      return;
    }
    if (counter != 4 || mutex.isLocked()) {
      r.r1 = -1; // FORBIDDEN: an increment went missing, or the mutex stayed held
    }
  }
}
