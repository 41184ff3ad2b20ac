package dev.ringlock.locks.internal;

import dev.ringlock.core.thread.ThreadWaiter;
import dev.ringlock.locks.internal.jfr.ContendedAcquisitionEvent;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A pending request of a lock or semaphore: the future its caller holds, and a node of its owner's
 * in-process {@link RequestQueue}, so a queued request allocates nothing else. Completing it by any
 * other means than a grant (cancel, complete, completeExceptionally, and so orTimeout) withdraws it
 * from the queue ({@link WithdrawableFuture}).
 *
 * @param <T> what a grant completes it with
 * @param <R> the concrete request type: the queue links requests of one type
 */
abstract class QueuedRequest<T, R extends QueuedRequest<T, R>> extends WithdrawableFuture<T> {
  /** {@link #takeGrantOnItsWay}: no grant was on its way. */
  static final Object NO_GRANT = new Object();

  final long
      deadline; // System.nanoTime() by which to fail with TimeoutException, or Deadlines.NONE

  // guarded by the owner's monitor
  R previous;
  R next;
  boolean queued;
  // The value of a grant for which the request was unlinked and that may not be delivered yet, or
  // NO_GRANT: a withdrawal that finds one takes part in giving it back (giveBack), so nothing is
  // held once cancel() returns. A sentinel, not null: a semaphore's grant value is null.
  private Object grantOnItsWay = NO_GRANT;

  // A lost grant is given back once: GIVE_BACK_NONE, then _RUNNING by the thread whose CAS won
  // (the granter whose settle failed, or the withdrawal), then _DONE; the other thread waits for
  // _DONE, so that neither the cancel nor the release that granted returns before it.
  private static final int GIVE_BACK_NONE = 0;
  private static final int GIVE_BACK_RUNNING = 1;
  private static final int GIVE_BACK_DONE = 2;
  private static final VarHandle GIVE_BACK;

  static {
    try {
      GIVE_BACK = MethodHandles.lookup().findVarHandle(QueuedRequest.class, "giveBack", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @SuppressWarnings("unused") // through GIVE_BACK
  private volatile int giveBack;

  // The thread blocked in join() that runs its owner's kernel wait (QueuedPrimitive.joinHere), or
  // null: a completion by any other thread nudges it out of the kernel. Dekker with the joiner,
  // both sides volatile: a completion stores the result, then reads `joiner`; the joiner stores
  // `joiner`, takes its nudge snapshot, then reads isDone() before it sleeps. So either the
  // completion sees the joiner and nudges it (its wait on the snapshot returns at once), or the
  // joiner sees the request done and leaves without sleeping.
  volatile ThreadWaiter joiner;

  final long timeoutNanos; // the caller's time limit, for the timeout message; -1 if not known

  // The JFR event timing this wait (a contended acquisition); null unless a recording enabled it
  // when the request was made. leftQueue is written under the owner's monitor, read by the granting
  // thread after it (the grant was decided under that monitor).
  private ContendedAcquisitionEvent contention;
  private boolean leftQueue;

  // System.nanoTime() when the request was made, which is when it queued (an uncontended
  // acquisition makes none): its grant counts the wait in the object's counters (countGrant).
  private final long requestedAt = System.nanoTime();

  /** A request whose timeout message does not state its time limit. */
  QueuedRequest(long deadline) {
    this(deadline, -1);
  }

  QueuedRequest(long deadline, long timeoutNanos) {
    this.deadline = deadline;
    this.timeoutNanos = timeoutNanos;
  }

  /**
   * From a subclass's constructor: times this request's wait with {@code event} (null: no recording
   * wants it). The wait ends when the request leaves the queue ({@link #leftQueue}), where its
   * grant is decided, not after the continuations its completion runs; a grant commits it, before
   * it completes the future (so whoever waits for the future finds the event recorded; a caller's
   * cancel racing that grant may leave one event for a grant given back).
   */
  final void timeContention(ContendedAcquisitionEvent event) {
    contention = event;
  }

  /** Unlinked from its queue, under the owner's monitor: a timed wait ends now. */
  final void leftQueue() {
    if (contention != null) {
      contention.end();
      leftQueue = true;
    }
  }

  /**
   * What the grant of {@code value} tells the event: a lock's fence and owner death. Default:
   * neither (a semaphore's permits).
   */
  void recordGrant(ContendedAcquisitionEvent event, T value) {
    event.granted(0, false);
  }

  /**
   * Counts the grant of {@code value} after {@code waitedNanos} in the object's counters
   * (ObjectStats.contendedGrant): a contended acquisition, or a woken wait.
   */
  abstract void countGrant(long waitedNanos, T value);

  /** System.nanoTime() when the request was made. */
  final long requestedAt() {
    return requestedAt;
  }

  /** "within 250 ms": the caller's time limit, as a timeout message states it. */
  final String withinTimeout() {
    return timeoutNanos < 0 ? "within the timeout" : "within " + Deadlines.describe(timeoutNanos);
  }

  /**
   * Under the owner's monitor, as the request is unlinked for a grant of {@code value}: from now
   * until the grant is delivered, a withdrawal gives {@code value} back (see {@link #grantLost}).
   */
  final void unlinkedForGrant(T value) {
    grantOnItsWay = value;
  }

  /**
   * Under the owner's monitor, by a withdrawal that found the request unlinked: the value of the
   * grant that was on its way to it, which the withdrawal now gives back ({@link #giveBack}), or
   * {@link #NO_GRANT}. Once: a second call finds NO_GRANT.
   */
  final Object takeGrantOnItsWay() {
    Object value = grantOnItsWay;
    grantOnItsWay = NO_GRANT;
    return value;
  }

  /**
   * Completes the request with {@code value}, unlinked for this grant; if the caller completed it
   * first, gives {@code value} back (see {@link #giveBack}) before it returns.
   */
  final void grant(T value) {
    if (contention != null && leftQueue && !isDone()) {
      recordGrant(contention, value);
    }
    if (!isDone()) {
      // counted before the completion, so whoever waits for the future sees it counted (a cancel
      // racing this grant may leave one count for a grant given back, as with the event)
      countGrant(System.nanoTime() - requestedAt, value);
    }
    if (!nudgeJoinerIf(settle(value))) {
      giveBack(value);
    }
  }

  /** Fails the request from inside its owner (timeout, closed region or ring). */
  final void fail(Throwable failure) {
    nudgeJoinerIf(settleExceptionally(failure));
  }

  // ---- the joined thread's take-over (QueuedPrimitive.joinHere) ----

  /**
   * The primitive whose queue this request waits in, if a thread blocked in its join() may run that
   * queue's kernel wait itself; null (the default): it parks until the ring's completion.
   */
  QueuedPrimitive<R> primitive() {
    return null;
  }

  @SuppressWarnings("unchecked") // R is this request's own type
  @Override
  final void blockingHere(boolean interruptible) {
    QueuedPrimitive<R> owner = primitive();
    if (owner != null) {
      owner.joinHere((R) this, interruptible);
    }
  }

  /**
   * Passes {@code completed} through; if this call completed the request, a joined thread that
   * sleeps in the kernel for the queue leaves it, since its own future is done (a grant or failure
   * by another thread, a cancel). See `joiner` for why no nudge is missed.
   */
  private boolean nudgeJoinerIf(boolean completed) {
    ThreadWaiter sleeping = completed ? joiner : null;
    if (sleeping != null && !sleeping.isCurrentThread()) {
      sleeping.nudge();
    }
    return completed;
  }

  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    return nudgeJoinerIf(super.cancel(mayInterruptIfRunning));
  }

  @Override
  public boolean complete(T value) {
    return nudgeJoinerIf(super.complete(value));
  }

  @Override
  public boolean completeExceptionally(Throwable failure) {
    return nudgeJoinerIf(super.completeExceptionally(failure));
  }

  /**
   * A grant lost the race with the caller's completion: both the granting thread (its settle
   * failed) and the withdrawal (it found the grant on its way) call this; the first gives {@code
   * lostValue} back ({@link #grantLost}), and the other waits until it is done. So neither the
   * caller's cancel() nor the release that made the grant returns while the request still holds it.
   * The wait is short: the winner is running {@code grantLost}, which never blocks.
   */
  @SuppressWarnings("unchecked") // the value this request was granted (or takeGrantOnItsWay's)
  final void giveBack(Object lostValue) {
    if (GIVE_BACK.compareAndSet(this, GIVE_BACK_NONE, GIVE_BACK_RUNNING)) {
      try {
        grantLost((T) lostValue);
      } finally {
        giveBack = GIVE_BACK_DONE;
      }
      return;
    }
    for (int round = 0; giveBack != GIVE_BACK_DONE; round++) {
      Backoff.pause(round); // the winner may be descheduled on a busy machine
    }
  }

  /**
   * Gives back what a lost grant carried ({@code value}, or the permits), which passes it on to the
   * next request. Once per request, by {@link #giveBack}.
   */
  abstract void grantLost(T value);
}
