package dev.ringlock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import java.lang.foreign.MemorySegment;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Mode;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.Signal;
import org.openjdk.jcstress.annotations.State;

/*
 * Overview
 *
 * The futex protocol through the ring: a waiter that read 0 and is about to wait races a
 * signaller that stores 1 and wakes. Whatever the interleaving, the waiter must end:
 *
 *   - the store lands before the kernel arms the wait: FUTEX_WAIT compares the word under the
 *     hash-bucket lock, sees 1 and completes -EAGAIN (value changed), and the loop re-reads 1;
 *   - the wait is armed first: it is queued when the wake runs (the wake is sent after the
 *     store), so the wake finds it.
 *
 * The dangerous window is between the waiter's read and the kernel's compare, which here spans
 * a hop through the ring's request stack and its completion thread. A ring that lost a
 * request, woke the wrong address, or lost a completion would leave the waiter asleep with
 * the word at 1: STALE.
 */
@JCStressTest(Mode.Termination)
@Outcome(
    id = "TERMINATED",
    expect = ACCEPTABLE,
    desc = "The waiter saw the 1, was woken, or got EAGAIN")
@Outcome(
    id = "STALE",
    expect = FORBIDDEN,
    desc = "The wake was lost: the waiter sleeps with the word at 1")
@Outcome(expect = FORBIDDEN, desc = "The waiter threw (an ERROR outcome)")
@State
public class WakeRacingWaitIsNotLost {
  private final MemorySegment segment = SharedRing.newWord(); // 0 = waiting, 1 = signalled
  private final FutexWord word = FutexWord.of(segment, 0);

  @Actor
  public void waiter() {
    while (SharedRing.lvWord(segment) == 0) {
      // woken or value-changed: either way re-read the word; neither outcome is trusted alone
      SharedRing.RING.wait(word, 0).join();
    }
  }

  @Signal
  public void signal() {
    SharedRing.svWord(segment, 1); // before the wake: a wait armed after the wake must see the 1
    SharedRing.RING.wake(word, FutexRing.WAKE_ALL).join();
  }
}
