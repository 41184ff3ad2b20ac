package dev.ringlock.locks.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * A wait queue view's own waiters: by slot, in the order their slots were linked (the view's {@link
 * RequestQueue}, so that what a wake from the head of the list marks is a prefix here: see
 * WaitQueueCore's overview), and by deadline (a heap: a view may have 100,000 timed waiters, and
 * the RequestQueue's walk for the earliest one is O(n)). Guarded by the view's monitor; the view
 * also holds its list lock whenever a change here goes with a change of the shared slots.
 */
final class WaitQueueLocals {
  private final QueueWaiter[] bySlot; // the waiter of this view that owns each slot
  private final RequestQueue<QueueWaiter> linked; // the view's (its base's), in list order
  // the timed ones, earliest deadline first; released ones leave lazily (see compaction below)
  private final PriorityQueue<QueueWaiter> deadlines =
      new PriorityQueue<>((a, b) -> Long.compare(a.deadline - b.deadline, 0));
  // out of the heap, failed on time while the list lock was busy: the next scan frees their slots
  private final List<QueueWaiter> expiredEarly = new ArrayList<>(0);

  WaitQueueLocals(int capacity, RequestQueue<QueueWaiter> linked) {
    this.bySlot = new QueueWaiter[capacity];
    this.linked = linked;
  }

  boolean isEmpty() {
    return linked.isEmpty();
  }

  /** How many waiters own a slot: a volatile read, safe without the view's monitor. */
  int size() {
    return linked.length();
  }

  /** The longest-waiting one; then QueueWaiter.next. */
  QueueWaiter first() {
    return linked.head();
  }

  boolean owns(int slot) {
    return bySlot[slot] != null;
  }

  /** A waiter whose slot was just linked at the tail of the list. */
  void add(QueueWaiter waiter) {
    linked.link(waiter);
    bySlot[waiter.slot] = waiter;
    if (waiter.deadline != Deadlines.NONE) {
      deadlines.add(waiter);
    }
  }

  /** The waiter's slot is no longer its own (freed, or given up at close). */
  void remove(QueueWaiter waiter) {
    bySlot[waiter.slot] = null;
    linked.unlink(waiter);
    if (waiter.deadline != Deadlines.NONE && deadlines.size() > 2 * linked.timed() + 64) {
      deadlines.removeIf(QueueWaiter::released); // compaction: the heap stays O(timed waiters)
    }
  }

  /** Every waiter, for close: the list is then forgotten. */
  List<QueueWaiter> removeAll() {
    List<QueueWaiter> all = linked.unlinkAll();
    for (QueueWaiter waiter : all) {
      bySlot[waiter.slot] = null;
    }
    return all;
  }

  /** Every waiter, in order (a copy). */
  List<QueueWaiter> snapshot() {
    List<QueueWaiter> all = new ArrayList<>(linked.length());
    for (QueueWaiter waiter = linked.head(); waiter != null; waiter = waiter.next) {
      all.add(waiter);
    }
    return all;
  }

  /** The earliest deadline of a waiter still here, or Deadlines.NONE. */
  long earliestDeadline() {
    for (QueueWaiter head; (head = deadlines.peek()) != null; deadlines.poll()) {
      if (!head.released()) {
        return head.deadline;
      }
    }
    return Deadlines.NONE;
  }

  /**
   * The next waiter whose deadline has passed (taken out of the deadline order), first those set
   * aside by {@link #setAsideExpired}; or null.
   */
  QueueWaiter pollExpired() {
    while (!expiredEarly.isEmpty()) {
      QueueWaiter waiter = expiredEarly.removeLast();
      if (!waiter.released()) {
        return waiter;
      }
    }
    for (QueueWaiter head; (head = deadlines.peek()) != null; ) {
      if (!head.released() && !Deadlines.passed(head.deadline)) {
        return null;
      }
      deadlines.poll();
      if (!head.released()) {
        return head;
      }
    }
    return null;
  }

  /**
   * Moves the waiters whose deadline has passed out of the deadline order, for the next {@link
   * #pollExpired} (the list lock is busy: they fail now, their slots are freed later), and returns
   * them.
   */
  List<QueueWaiter> setAsideExpired() {
    List<QueueWaiter> expired = new ArrayList<>(0);
    for (QueueWaiter head; (head = deadlines.peek()) != null; ) {
      if (!head.released() && !Deadlines.passed(head.deadline)) {
        break;
      }
      deadlines.poll();
      if (!head.released()) {
        expiredEarly.add(head);
        expired.add(head);
      }
    }
    return expired;
  }
}
