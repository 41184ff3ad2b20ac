package dev.ringlock.locks.internal;

import dev.ringlock.locks.RegionClosedException;
import java.util.ArrayDeque;

/**
 * Completes lock futures without unbounded recursion. Completing a future runs its continuations on
 * the spot, and a continuation that unlocks hands the lock to the next future, whose continuation
 * unlocks... so a queue of 10,000 waiters would nest 10,000 deep. A grant made while this thread is
 * already granting is queued and run by the outermost grant instead.
 */
final class Grants {
  private static final ThreadLocal<Grants> CURRENT = ThreadLocal.withInitial(Grants::new);

  private final ArrayDeque<Object> pending = new ArrayDeque<>(); // future, guard, future, guard...
  private boolean granting;

  private Grants() {}

  /**
   * Gives {@code guard} to {@code future}. If the future was withdrawn first, the lock it would
   * have had is released again, which hands it on to the next waiter.
   */
  static void grant(LockFuture future, Guard guard) {
    Grants grants = CURRENT.get();
    if (grants.granting) {
      grants.pending.add(future);
      grants.pending.add(guard);
      return;
    }
    grants.granting = true;
    try {
      deliver(future, guard);
      while (!grants.pending.isEmpty()) {
        deliver((LockFuture) grants.pending.poll(), (Guard) grants.pending.poll());
      }
    } finally {
      grants.granting = false;
    }
  }

  private static void deliver(LockFuture future, Guard guard) {
    if (!future.grant(guard)) {
      try {
        guard.unlock(); // withdrawn in the meantime: the lock must not stay with nobody
      } catch (RegionClosedException e) {
        // closing the region released the lock already
      }
    }
  }
}
