package dev.ringlock.jcstress;

import static dev.ringlock.locks.internal.MutexDescriptor.WAITERS;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.FutexWord;
import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.internal.MutexCore;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.MutexWords;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/*
 * Overview
 *
 * A waiter that has waited past MutexCore.STARVATION_MILLIS and is woken onto the free word takes
 * it without marking its process starving (MutexCore.decide; docs/mutex.md, Bounded barging): the
 * mark would go again as its CAS won. The race that opens: a barger in another process takes the
 * free word between the waiter's read and its CAS. Then the waiter's next look finds the word held
 * and must mark itself before it sleeps again, so that nobody barges past it any more; and the
 * barger's release must reach it (the waiter sets WAITERS as it re-arms), so it gets the lock.
 *
 * The word is planted held by pid 1 (init: alive for ever) with WAITERS; the first view's request
 * queues and sleeps on it, for longer than STARVATION_MILLIS. Actors: pid 1's release (the word
 * freed, one sleeper woken, as its process would) and the second view's barging tryLock. The
 * arbiter reports whether the barger held the lock (r1); if it did, whether the waiter's process
 * was marked starving while the barger held it (r2, waited for up to 5 s: its decision runs on the
 * ring's completion thread), before the barger unlocks; and whether the waiter was then granted
 * within 5 s (r3). A waiter that took the word first leaves no mark once granted (r2 = 0).
 * Two actors: CI has two CPUs.
 */
@JCStressTest
@Outcome(
    id = {"0, 0, 1", "1, 1, 1"},
    expect = ACCEPTABLE,
    desc = "The waiter took the word; or the barger did, and the waiter marked itself and got it")
@Outcome(
    expect = FORBIDDEN,
    desc = "A barger passed a starved waiter that stayed unmarked, or the waiter was never granted")
@State
public class StarvedWaiterRacingABarger {
  private static final int MAX_OBJECTS = 16_384; // a jcstress epoch is 10,240 instances
  private static final long REGION_BYTES = 6L << 20; // directory 2 MiB, mutexes 128 bytes each
  private static final TwoViews VIEWS =
      TwoViews.open("ringlock-jcstress-starved-waiter", MAX_OBJECTS, REGION_BYTES);
  private static final ObjectPool<Contended> POOL = new ObjectPool<>(MAX_OBJECTS, Contended::new);
  private static final int HOLDER = 1; // init: a planted holder that never dies
  private static final long AGED_NANOS =
      TimeUnit.MILLISECONDS.toNanos(MutexCore.STARVATION_MILLIS) + 200_000;

  /** One mutex as the waiter's and the barger's processes see it, and its word. */
  private static final class Contended {
    final Mutex waiterView;
    final Mutex bargerView;
    final MutexWords words;
    final FutexWord word;

    Contended(int number) {
      String name = "jcstress-starved-waiter-" + number;
      waiterView = VIEWS.first().mutex(name);
      bargerView = VIEWS.second().mutex(name);
      MemorySegment object = VIEWS.object(name);
      words = new MutexWords(object, 0);
      word = FutexWord.of(object, 0, FutexScope.SHARED);
    }
  }

  private final Contended contended = POOL.take();
  private final CompletableFuture<MutexGuard> waiting;
  private Optional<MutexGuard> barged;

  public StarvedWaiterRacingABarger() {
    contended.words.spWord(HOLDER | WAITERS);
    waiting = contended.waiterView.lock();
    LockSupport.parkNanos(AGED_NANOS); // the request waits past STARVATION_MILLIS
  }

  @Actor
  public void holderReleases() {
    contended.words.xchgWord(0);
    Futex.wake(contended.word, 1, FutexRing.ANY_BITSET);
  }

  @Actor
  public void bargerTries() {
    barged = contended.bargerView.tryLock();
  }

  @Arbiter
  public void check(III_Result r) {
    r.r1 = barged.isPresent() ? 1 : 0;
    if (barged.isPresent()) {
      r.r2 = awaitMark() ? 1 : 0;
      barged.get().unlock();
    }
    MutexGuard granted = null;
    try {
      granted = waiting.get(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      waiting.cancel(false); // leaves the object in use: the pool does not get it back
    }
    r.r3 = granted != null ? 1 : 0;
    if (granted != null) {
      if (barged.isEmpty()) {
        r.r2 = marked() ? 1 : 0;
      }
      granted.unlock();
      if (contended.words.lvWord() == 0
          && !marked()
          && contended.words.lvStarvingSummary() == 0
          && contended.words.laSleepers() == 0) {
        POOL.giveBack(contended);
      }
    }
  }

  private boolean awaitMark() {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!marked()) {
      if (System.nanoTime() - until > 0) {
        return false;
      }
      LockSupport.parkNanos(20_000); // the ring's thread needs a CPU to decide
    }
    return true;
  }

  private boolean marked() {
    for (int slot = 0; slot < MutexDescriptor.STARVING_SLOTS; slot++) {
      if (contended.words.lvStarvingPid(slot) != 0) {
        return true;
      }
    }
    return false;
  }
}
