package dev.ringlock.locks.internal;

/**
 * A queued request whose wait may be recorded as a contended acquisition (a JFR event of {@code
 * dev.ringlock.locks.internal.jfr}): the queue tells it when it leaves, under its owner's monitor,
 * so that the recorded wait ends where the grant was decided, not after the continuations its
 * completion runs. Leaving the queue is also how expiry, refusal and withdrawal end a request; only
 * a grant commits the event.
 */
interface ContendedRequest {
  /** Unlinked from its queue, under the owner's monitor: the wait ends now. */
  void leftQueue();
}
