package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.WaitOutcome;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.LLLL_Result;

/*
 * Overview
 *
 * Two actors submit a wait on the same word (holding 0, and it stays 0) at the same moment, so
 * their requests race onto the ring's request stack and into its slot table. The arbiter then
 * wakes everyone: the wake must report 2, and both futures must complete WOKEN.
 *
 * Deterministic, because requests reach the kernel in the order they were made: the arbiter
 * runs after both actors (jcstress orders them), each wait() had pushed its request before
 * returning, the completion loop drains its request stack in push order (CompletionLoop's
 * overview), and the kernel issues SQEs in ring order and arms a futex wait inline, at issue.
 * So both waits are queued when the wake runs.
 *
 * The word deliberately stays 0. Storing 1 before the wake, the usual futex protocol, would
 * race with the arming instead: wait() returns before the completion thread has armed
 * anything, so a wait armed after the store gets EAGAIN and the wake finds fewer waiters. That
 * is correct behaviour, but it would make the counts nondeterministic.
 *
 * Fails when: the ring reorders requests (a wait armed after the wake sleeps on: ASLEEP), a
 * completion is routed to the wrong future or dropped under concurrent submission, or a wake
 * result is mis-decoded (the count disagrees with the futures woken).
 *
 * The fourth result is the ring's backend. On SYSCALLS a wait may end WOKEN without a wake of its
 * own, a spurious wakeup FutexRing allows there (futex_waitv reports one woken entry of its array,
 * and an entry it cannot vouch for ends woken rather than lose a wake): the wake then counts fewer
 * than the futures woken. That is interesting there and forbidden on IO_URING. Every instance's
 * word is private and every wake comes from this process, so on SYSCALLS it needs two instances'
 * words to share an InProcessWakes stripe, or the kernel's unqueue race (WaitvThread): rare.
 *
 * On SYSCALLS this is also the test of the re-arm race: the instances' words share futex_waitv
 * threads, so the arbiter's wake often lands while the thread holding both waits is out of the
 * kernel for another instance's wake, its entries unqueued. The kernel then finds nobody, and the
 * wake must hand its count to that thread (WaitvThread's "Handed-over wakes"): before that was
 * built, this test saw "0, ASLEEP, ASLEEP" about once in 5,000 samples there.
 */
@JCStressTest
@Outcome(
    id = "2, WOKEN, WOKEN, .*",
    expect = ACCEPTABLE,
    desc = "Both waits were queued before the wake; it reported and ended both")
@Outcome(
    id = "[01], WOKEN, WOKEN, SYSCALLS",
    expect = ACCEPTABLE_INTERESTING,
    desc = "Syscalls backend only: a wait ended woken that the wake did not count (spurious)")
@Outcome(
    id = ".*ASLEEP.*",
    expect = FORBIDDEN,
    desc = "A wait submitted before the wake slept on: requests reordered, or a completion lost")
@Outcome(
    expect = FORBIDDEN,
    desc = "The wake count disagrees with the futures woken, or a wait failed")
@State
public class WakeCountMatchesWokenWaits {
  private final MemorySegment segment = SharedRing.newWord(); // always 0
  private final FutexWord word = FutexWord.of(segment, 0);
  private CompletableFuture<WaitOutcome> first;
  private CompletableFuture<WaitOutcome> second;

  @Actor
  public void firstWaiter() {
    first = SharedRing.RING.wait(word, 0);
  }

  @Actor
  public void secondWaiter() {
    second = SharedRing.RING.wait(word, 0);
  }

  @Arbiter
  public void arbiter(LLLL_Result r) {
    r.r1 = SharedRing.RING.wake(word, FutexRing.WAKE_ALL).join();
    r.r2 = WaitFate.await(first);
    r.r3 = WaitFate.await(second);
    r.r4 = SharedRing.RING.backend().name();
  }
}
