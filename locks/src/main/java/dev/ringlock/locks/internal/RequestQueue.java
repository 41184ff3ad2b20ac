package dev.ringlock.locks.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * The FIFO queue of one process's pending requests on one lock or semaphore: an intrusive doubly
 * linked list through the requests themselves, so linking and withdrawing anywhere in it are O(1).
 * Guarded by the owner's monitor, except {@link #length()}, which any thread may read. A request
 * that times its wait for JFR ({@link QueuedRequest#timeContention}) is told when it leaves, so its
 * recorded wait ends where the decision was made.
 */
final class RequestQueue<R extends QueuedRequest<?, R>> {
  private R head;
  private R tail;
  private volatile int length; // written under the owner's monitor; read by barging fast paths
  private int timed; // queued requests with a deadline

  /** The oldest request, or null. */
  R head() {
    return head;
  }

  boolean isEmpty() {
    return head == null;
  }

  /** How many requests are queued: a volatile read, safe without the owner's monitor. */
  int length() {
    return length;
  }

  /** How many queued requests have a deadline. */
  int timed() {
    return timed;
  }

  void link(R request) {
    request.previous = tail;
    if (tail == null) {
      head = request;
    } else {
      tail.next = request;
    }
    tail = request;
    request.queued = true;
    if (request.deadline != Deadlines.NONE) {
      timed++;
    }
    length++;
  }

  R unlink(R request) {
    if (request.previous == null) {
      head = request.next;
    } else {
      request.previous.next = request.next;
    }
    if (request.next == null) {
      tail = request.previous;
    } else {
      request.next.previous = request.previous;
    }
    request.previous = null;
    request.next = null;
    request.queued = false;
    if (request.deadline != Deadlines.NONE) {
      timed--;
    }
    length--;
    request.leftQueue(); // a recorded wait ends at the decision, not at the completion
    return request;
  }

  /** Unlinks every request, oldest first. */
  List<R> unlinkAll() {
    List<R> all = new ArrayList<>(length);
    while (head != null) {
      all.add(unlink(head));
    }
    return all;
  }

  /** Unlinks the requests whose deadline has passed; null if there are none. */
  List<R> unlinkOverdue() {
    if (timed == 0) {
      return null;
    }
    List<R> expired = null;
    for (R request = head; request != null; ) {
      R next = request.next;
      if (Deadlines.passed(request.deadline)) {
        unlink(request);
        if (expired == null) {
          expired = new ArrayList<>();
        }
        expired.add(request);
      }
      request = next;
    }
    return expired;
  }

  /** The earliest deadline of a queued request, or Deadlines.NONE. */
  long earliestDeadline() {
    long earliest = Deadlines.NONE;
    if (timed > 0) {
      for (R request = head; request != null; request = request.next) {
        earliest = Math.min(earliest, request.deadline);
      }
    }
    return earliest;
  }
}
