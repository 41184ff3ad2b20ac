package dev.ringlock.locks.internal;

import java.util.ArrayDeque;

/**
 * Completes queued requests without unbounded recursion. Completing a future runs its continuations
 * on the spot, and a continuation that unlocks (or releases permits) grants the next request, whose
 * continuation unlocks... so a queue of 10,000 waiters would nest 10,000 deep. A grant made while
 * this thread is already granting is queued and run by the outermost grant instead.
 */
final class Grants {
  private static final ThreadLocal<Grants> CURRENT = ThreadLocal.withInitial(Grants::new);
  private static final Object NULL = new Object(); // stands for a null value: ArrayDeque has none

  private final ArrayDeque<Object> pending =
      new ArrayDeque<>(); // request, value, request, value...
  private boolean granting;

  private Grants() {}

  /**
   * Gives {@code value} to {@code request}, unlinked for this grant ({@link
   * QueuedRequest#unlinkedForGrant}). If the request was withdrawn first, the value is given back
   * once, by this thread or the withdrawal, before either returns ({@link QueuedRequest#giveBack}).
   */
  static <T> void grant(QueuedRequest<T, ?> request, T value) {
    Grants grants = CURRENT.get();
    if (grants.granting) {
      grants.pending.add(request);
      grants.pending.add(value == null ? NULL : value);
      return;
    }
    grants.granting = true;
    try {
      deliver(request, value);
      while (!grants.pending.isEmpty()) {
        QueuedRequest<?, ?> next = (QueuedRequest<?, ?>) grants.pending.poll();
        Object nextValue = grants.pending.poll();
        deliverUnchecked(next, nextValue == NULL ? null : nextValue);
      }
    } finally {
      grants.granting = false;
    }
  }

  @SuppressWarnings("unchecked") // queued in pairs by grant(), whose signature matched them
  private static <T> void deliverUnchecked(QueuedRequest<T, ?> request, Object value) {
    deliver(request, (T) value);
  }

  private static <T> void deliver(QueuedRequest<T, ?> request, T value) {
    request.grant(value); // withdrawn meanwhile: the value is given back before grant returns
  }
}
