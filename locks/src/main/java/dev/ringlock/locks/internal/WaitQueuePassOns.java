package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.WaitQueueDescriptor.WOKEN_ONE;

import dev.ringlock.locks.RegionClosedException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/*
 * Overview
 *
 * The WOKEN_ONE wakes a wait queue view's waiters were chosen for and may decline. A WOKEN_ONE
 * wake was meant for one waiter. If the caller cancelled the future (or close failed it) before
 * the scan could complete it, the wake is passed on: wake(1) to the next longest waiter. Exactly
 * one party passes it on: the scan (settle, when its complete() fails) or close, whichever wins
 * QueueWaiter.claimPassOn.
 *
 * A waiter the scan released for a WOKEN_ONE wake is `unsettled` from then (added under the list
 * lock and inside the guard) until its future has been offered the wake, after the lock. A claimed
 * pass-on is `owed` from the claim (inside a guard) until a hold of the list lock chooses its
 * waiter. close(), after the drain, settles both: it fails the unsettled waiters (one that has not
 * taken its wake by then never will) and chooses what is owed. WOKEN_ALL wakes go through Grants as
 * any grant does, and are not passed on: every waiter had one.
 */
/** The WOKEN_ONE wakes a view's waiters may decline, each passed on once; see the overview. */
final class WaitQueuePassOns {
  private final WaitQueueCore queue;
  // released WOKEN_ONE waiters whose pass-on (if they decline) is not settled yet
  private final Set<QueueWaiter> unsettled = ConcurrentHashMap.newKeySet();
  // claimed pass-ons (settle) not yet chosen: close() chooses them if they never run
  private final AtomicInteger owed = new AtomicInteger();

  WaitQueuePassOns(WaitQueueCore queue) {
    this.queue = queue;
  }

  /**
   * Under both locks, inside a guard: the waiter was released for a WOKEN_ONE wake; after the lock
   * its future is offered the wake, and a declined one is passed on.
   */
  void offer(QueueWaiter waiter, Effects<QueueWaiter> effects) {
    unsettled.add(waiter); // before the guard is left: close() settles what is left
    effects.passOn(() -> settle(waiter, waiter.woken()));
  }

  /**
   * A released WOKEN_ONE waiter's future has been offered the wake: {@code took} says whether it
   * accepted it. If not (cancelled, or failed by close), the wake goes to the next waiter.
   */
  private void settle(QueueWaiter waiter, boolean took) {
    WaitQueueGate gate = queue.gate;
    if (!gate.enterInternal()) {
      return; // close() settles it: the waiter is still unsettled
    }
    boolean owe;
    try {
      owe = !took && waiter.claimPassOn();
      if (owe) {
        owed.incrementAndGet(); // before leaving the guard: close() counts it if it must
      }
      unsettled.remove(waiter);
    } finally {
      gate.leaveInternal();
    }
    if (owe) {
      queue.tasks.runNowOrDefer(
          batch -> {
            if (owed.getAndUpdate(count -> Math.max(0, count - 1)) > 0) {
              queue.choose(1, Long.MAX_VALUE, WOKEN_ONE, batch);
            } // else close() took it over
          });
    }
  }

  /**
   * close(), after the drain: fails the unsettled waiters (if one has not taken its wake yet, it
   * never will), and returns how many wakes are owed: those of {@code declinable} (the waiters
   * close released from WOKEN_ONE slots) and of the unsettled ones that nobody took, plus those
   * claimed and never chosen.
   */
  int owedAtClose(RegionClosedException failure, List<QueueWaiter> declinable) {
    List<QueueWaiter> left = List.copyOf(unsettled);
    int count = 0;
    for (QueueWaiter waiter : left) {
      waiter.fail(failure);
    }
    for (List<QueueWaiter> waiters : List.of(declinable, left)) {
      for (QueueWaiter waiter : waiters) {
        if (!waiter.tookTheWake() && waiter.claimPassOn()) {
          count++;
        }
      }
    }
    return count + owed.getAndSet(0); // claimed, but refused by the drain or never run
  }

  /** close() without the list lock: a wake an unsettled waiter declined cannot be passed on. */
  void failUnsettled(RegionClosedException failure) {
    for (QueueWaiter waiter : unsettled) {
      waiter.fail(failure);
    }
  }
}
