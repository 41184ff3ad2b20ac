package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.jcstress.SharedSemaphores.Lease;
import dev.ringlock.locks.Semaphore;
import dev.ringlock.locks.internal.SemaphoreDescriptor;
import dev.ringlock.locks.internal.SemaphoreWords;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.LI_Result;

/*
 * Overview
 *
 * Permit accounting of the Semaphore under races: whatever the interleaving, every permit is
 * either in the semaphore or held by exactly one request that completed normally. Each instance
 * has a semaphore of its own (SharedSemaphores), seen through two regions on one file, "here"
 * and "there", which behave as two processes: a release "there" reaches a waiter "here" only
 * through the word and a FUTEX_WAKE to its kernel wait, and the ring's completion thread then
 * grants it. So each race below is also run against the grant the ring's thread makes.
 *
 * The arbiter waits for the request's fate, then for the permit count to settle at the value that
 * fate implies: a grant that loses to a cancel gives its permits back on the thread that granted,
 * possibly a moment after the cancel returned. A count that never gets there is reported as it
 * stands, and lands in the catch-all FORBIDDEN, as does a request that never ends.
 */
public final class SemaphorePermitAccounting {
  static final String GRANTED = "GRANTED";
  static final String CANCELLED = "CANCELLED";
  static final String TIMED_OUT = "TIMED_OUT";

  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private SemaphorePermitAccounting() {}

  /** How {@code request} ended, as an outcome word; PENDING if it did not end within 10 s. */
  static String fate(CompletableFuture<Void> request) {
    try {
      request.get(10, TimeUnit.SECONDS);
      return GRANTED;
    } catch (CancellationException e) {
      return CANCELLED;
    } catch (ExecutionException e) {
      return e.getCause() instanceof TimeoutException ? TIMED_OUT : "FAILED(" + e.getCause() + ")";
    } catch (TimeoutException e) {
      return "PENDING";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "INTERRUPTED";
    }
  }

  /** The available permits once they equal {@code expected}, or as they stand after 10 s. */
  static int settledPermits(Semaphore semaphore, int expected) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    int permits = semaphore.availablePermits();
    while (permits != expected && System.nanoTime() - deadline < 0) {
      Thread.yield();
      permits = semaphore.availablePermits();
    }
    return permits;
  }

  /**
   * The arbiter of a request racing a release: the request's fate, and the permits left once they
   * settle at what that fate implies ({@code permitsAfter}; a fate not in it is reported at once).
   */
  static void judge(
      LI_Result r,
      Lease lease,
      CompletableFuture<Void> request,
      Map<String, Integer> permitsAfter) {
    r.r1 = fate(request);
    Integer expected = permitsAfter.get(r.r1);
    r.r2 =
        expected == null ? lease.here().availablePermits() : settledPermits(lease.here(), expected);
    finish(lease, expected != null && r.r2 == expected);
  }

  /** Empties the semaphore and lends it out again, after an acceptable outcome only. */
  static void finish(Lease lease, boolean acceptable) {
    if (acceptable) {
      lease.here().drainPermits();
      SharedSemaphores.giveBack(lease);
    }
  }

  /*
   * One actor acquires 1 permit of an empty semaphore and at once cancels the request; the other
   * releases 1 permit, through the waiter's own region on even instances (its release pumps the
   * queue: the grant runs on the releasing actor's thread) and through the other region on odd
   * ones (a FUTEX_WAKE: the grant runs on the ring's thread). Either the cancel wins and the
   * permit stays in the semaphore, or the request got the permit and the cancel fails.
   *
   * Fails when: a grant that lost to the cancel kept its permit (CANCELLED, 0), a permit appears
   * twice, or the request never ends (the release's wake was lost).
   */
  @JCStressTest
  @Outcome(
      id = {"CANCELLED, 1", "GRANTED, 0"},
      expect = ACCEPTABLE,
      desc = "The permit stayed in the semaphore, or the request got it")
  @Outcome(expect = FORBIDDEN, desc = "A permit lost or made up, or a request that never ended")
  @State
  public static class CancelRacingRelease {
    private final Lease lease = SharedSemaphores.take();
    private final Semaphore releaser =
        INSTANCES.getAndIncrement() % 2 == 0 ? lease.here() : lease.there();
    private CompletableFuture<Void> request;

    @Actor
    public void acquireAndCancel() {
      request = lease.here().acquire(1);
      request.cancel(false);
    }

    @Actor
    public void release() {
      releaser.release(1);
    }

    @Arbiter
    public void arbiter(LI_Result r) {
      judge(r, lease, request, Map.of(CANCELLED, 1, GRANTED, 0));
    }
  }

  /*
   * One actor acquires 1 permit of an empty semaphore, spinning for it before it queues
   * (RegionOptions.spinTries); the other releases 1 and then acquires 1 itself, through the same
   * region. (Two actors: jcstress runs no 3-actor test on 2 CPUs.) The released permit goes to
   * exactly one of the two requests, whether the spin takes it, the second acquire's fast path
   * does, or the first request queued and the release's pump grants it. The arbiter waits for
   * one to complete, counts the completed requests and the permits left, then releases 1 more
   * (the other request must get it) and reads the permits once both completed.
   *
   * Fails when: the one permit completed both requests, or neither (a lost grant), or the second
   * release was not granted to the request left (1 permit left, or one never completes).
   */
  @JCStressTest
  @Outcome(
      id = "1, 0, 0",
      expect = ACCEPTABLE,
      desc = "One request got the permit; the other got the second")
  @Outcome(expect = FORBIDDEN, desc = "A permit taken twice, lost, or a request that never ended")
  @State
  public static class SpinningAcquireRacingAReleaseAndAnAcquire {
    private final Lease lease = SharedSemaphores.take();
    private CompletableFuture<Void> spinning;
    private CompletableFuture<Void> afterRelease;

    @Actor
    public void acquire() {
      spinning = lease.here().acquire(1);
    }

    @Actor
    public void releaseThenAcquire() {
      lease.here().release(1);
      afterRelease = lease.here().acquire(1);
    }

    @Arbiter
    public void arbiter(III_Result r) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!spinning.isDone() && !afterRelease.isDone() && System.nanoTime() - deadline < 0) {
        Thread.yield();
      }
      r.r1 = (spinning.isDone() ? 1 : 0) + (afterRelease.isDone() ? 1 : 0);
      r.r2 = lease.here().availablePermits();
      lease.here().release(1);
      boolean bothGranted = GRANTED.equals(fate(spinning)) && GRANTED.equals(fate(afterRelease));
      r.r3 = bothGranted ? settledPermits(lease.here(), 0) : -1;
      finish(lease, r.r1 == 1 && r.r2 == 0 && r.r3 == 0);
    }
  }

  /*
   * The semaphore holds 1 permit. One actor acquires 2 with a 50 microsecond timeout; the other
   * releases 1 through the other region. The request's kernel wait is woken by the release, or
   * its linked timeout fires first, or the release came before the acquire (which then takes both
   * permits at once). A timed-out request must leave both permits behind.
   *
   * Fails when: a timed-out request took permits with it (TIMED_OUT, below 2), a granted one left
   * them (GRANTED, above 0), or the request never ends.
   */
  @JCStressTest
  @Outcome(
      id = {"GRANTED, 0", "TIMED_OUT, 2"},
      expect = ACCEPTABLE,
      desc = "The request got both permits, or timed out and left them")
  @Outcome(expect = FORBIDDEN, desc = "A permit lost or made up, or a request that never ended")
  @State
  public static class TimeoutRacingRelease {
    private final Lease lease = SharedSemaphores.take();
    private CompletableFuture<Void> request;

    public TimeoutRacingRelease() {
      lease.here().release(1);
    }

    @Actor
    public void acquire() {
      request = lease.here().acquire(2, Duration.ofNanos(50_000));
    }

    @Actor
    public void release() {
      lease.there().release(1);
    }

    @Arbiter
    public void arbiter(LI_Result r) {
      judge(r, lease, request, Map.of(TIMED_OUT, 2, GRANTED, 0));
    }
  }

  /*
   * The semaphore holds 3 permits. One actor tries to take 2; the other, through the other
   * region, drains. Each CAS sees the other's result or precedes it: tryAcquire takes 2 and the
   * drain the 1 left, or the drain takes all 3 and tryAcquire fails. The arbiter reads what is
   * left. Taken + drained + left must be 3.
   *
   * Fails when: both got permits that add up to more than 3, or a permit vanished.
   */
  @JCStressTest
  @Outcome(
      id = {"2, 1, 0", "0, 3, 0"},
      expect = ACCEPTABLE,
      desc = "tryAcquire first, or the drain first; every permit accounted for")
  @Outcome(expect = FORBIDDEN, desc = "A permit taken twice, or lost")
  @State
  public static class TryAcquireRacingDrain {
    private final Lease lease = SharedSemaphores.take();

    public TryAcquireRacingDrain() {
      lease.here().release(3);
    }

    @Actor
    public void tryAcquire(III_Result r) {
      r.r1 = lease.here().tryAcquire(2) ? 2 : 0;
    }

    @Actor
    public void drain(III_Result r) {
      r.r2 = lease.there().drainPermits();
    }

    @Arbiter
    public void arbiter(III_Result r) {
      r.r3 = lease.here().availablePermits();
      finish(lease, r.r1 + r.r2 + r.r3 == 3);
    }
  }

  /*
   * An undo semaphore of 2 permits: a dead process's entry in the holder table records both, and
   * the word has none (as the dead process left it). Both views (two "processes") try to take 2:
   * each finds too few, sweeps the table, finds the holder dead, and repairs: one takes the repair
   * lease and recomputes the word (2 - the live records), the other finds the lease taken and
   * waits for it, or repairs after it (recomputing the same value, never adding). The arbiter
   * reads what is left and whether the entry is still there.
   *
   * Fails when: the permits come back twice (both get 2, or 2 are left over), neither gets them
   * (lost), or the entry survives the repair (100 added to the count).
   */
  @JCStressTest
  @Outcome(
      id = {"1, 0, 0", "0, 1, 0"},
      expect = ACCEPTABLE,
      desc = "The dead holder's permits came back once, to one of the two")
  @Outcome(expect = FORBIDDEN, desc = "Returned twice, lost, or the entry left behind")
  @State
  public static class DeadHolderIsReturnedOnce {
    private static final long DEAD_ENTRY = SharedSemaphores.deadHolderEntry(2);
    private static final int LAST_SLOT = SemaphoreDescriptor.HOLDER_SLOTS - 1;

    private final Lease lease = SharedSemaphores.takeUndo();

    public DeadHolderIsReturnedOnce() {
      // The last slot: this process's own entries take the first free ones.
      SemaphoreWords words = new SemaphoreWords(lease.object(), 0);
      words.spHolder(LAST_SLOT, DEAD_ENTRY);
      words.spWord(0);
    }

    @Actor
    public void here(III_Result r) {
      r.r1 = lease.here().tryAcquire(2) ? 1 : 0;
    }

    @Actor
    public void there(III_Result r) {
      r.r2 = lease.there().tryAcquire(2) ? 1 : 0;
    }

    @Arbiter
    public void arbiter(III_Result r) {
      boolean entryLeft = new SemaphoreWords(lease.object(), 0).lvHolder(LAST_SLOT) != 0;
      r.r3 = lease.here().availablePermits() + (entryLeft ? 100 : 0);
      // The winner holds the 2 permits (recorded for its view): it gives them back.
      if (r.r1 + r.r2 == 1 && r.r3 == 0) {
        (r.r1 == 1 ? lease.here() : lease.there()).release(2);
        SharedSemaphores.giveBackUndo(lease);
      }
    }
  }
}
