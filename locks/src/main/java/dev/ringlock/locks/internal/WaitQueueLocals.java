package dev.ringlock.locks.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * A wait queue view's own waiters: by slot, in the order their slots were linked (so that what a
 * wake from the head of the list marks is a prefix here: see WaitQueueCore's overview), and by
 * deadline. Guarded by the view's monitor; the view also holds its list lock whenever a change here
 * goes with a change of the shared slots.
 */
final class WaitQueueLocals {
  private final QueueWaiter[] bySlot; // the waiter of this view that owns each slot
  private QueueWaiter first; // through QueueWaiter.nextLocal, in the order they were linked
  private QueueWaiter last;
  private int size;
  // the timed ones, earliest deadline first; released ones leave lazily (see compaction below)
  private final PriorityQueue<QueueWaiter> deadlines =
      new PriorityQueue<>((a, b) -> Long.compare(a.deadline - b.deadline, 0));
  private int timed; // timed waiters not released (the heap may hold released ones too)
  // out of the heap, failed on time while the list lock was busy: the next scan frees their slots
  private final List<QueueWaiter> expiredEarly = new ArrayList<>(0);

  WaitQueueLocals(int capacity) {
    this.bySlot = new QueueWaiter[capacity];
  }

  boolean isEmpty() {
    return first == null;
  }

  int size() {
    return size;
  }

  /** The longest-waiting one; then QueueWaiter.nextLocal. */
  QueueWaiter first() {
    return first;
  }

  boolean owns(int slot) {
    return bySlot[slot] != null;
  }

  /** A waiter whose slot was just linked at the tail of the list. */
  void add(QueueWaiter waiter) {
    waiter.previousLocal = last;
    if (last == null) {
      first = waiter;
    } else {
      last.nextLocal = waiter;
    }
    last = waiter;
    bySlot[waiter.slot] = waiter;
    size++;
    if (waiter.deadline != Deadlines.NONE) {
      deadlines.add(waiter);
      timed++;
    }
  }

  /** The waiter's slot is no longer its own (freed, or given up at close). */
  void remove(QueueWaiter waiter) {
    bySlot[waiter.slot] = null;
    size--;
    QueueWaiter previous = waiter.previousLocal;
    QueueWaiter next = waiter.nextLocal;
    if (previous == null) {
      first = next;
    } else {
      previous.nextLocal = next;
    }
    if (next == null) {
      last = previous;
    } else {
      next.previousLocal = previous;
    }
    waiter.previousLocal = null;
    waiter.nextLocal = null;
    waiter.released = true;
    if (waiter.deadline != Deadlines.NONE) {
      timed--;
      if (deadlines.size() > 2 * timed + 64) {
        deadlines.removeIf(w -> w.released); // compaction: the heap stays O(timed waiters)
      }
    }
  }

  /** Every waiter, for close: the list is then forgotten. */
  List<QueueWaiter> removeAll() {
    List<QueueWaiter> all = new ArrayList<>(size);
    for (QueueWaiter waiter = first; waiter != null; waiter = waiter.nextLocal) {
      all.add(waiter);
      waiter.released = true;
      bySlot[waiter.slot] = null;
    }
    first = null;
    last = null;
    size = 0;
    return all;
  }

  /** Every waiter, in order (a copy). */
  List<QueueWaiter> snapshot() {
    List<QueueWaiter> all = new ArrayList<>(size);
    for (QueueWaiter waiter = first; waiter != null; waiter = waiter.nextLocal) {
      all.add(waiter);
    }
    return all;
  }

  /** The earliest deadline of a waiter still here, or Deadlines.NONE. */
  long earliestDeadline() {
    for (QueueWaiter head; (head = deadlines.peek()) != null; deadlines.poll()) {
      if (!head.released) {
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
      if (!waiter.released) {
        return waiter;
      }
    }
    for (QueueWaiter head; (head = deadlines.peek()) != null; ) {
      if (!head.released && !Deadlines.passed(head.deadline)) {
        return null;
      }
      deadlines.poll();
      if (!head.released) {
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
      if (!head.released && !Deadlines.passed(head.deadline)) {
        break;
      }
      deadlines.poll();
      if (!head.released) {
        expiredEarly.add(head);
        expired.add(head);
      }
    }
    return expired;
  }
}
