package dev.ringlock.locks.internal;

import dev.ringlock.core.WaitOutcome;
import java.util.concurrent.CompletableFuture;

/**
 * What {@link Effects#run} needs of whoever gathered the effects: the owner of a queue of requests
 * and of the one kernel wait standing for them. {@link QueuedPrimitive} is one; a wait queue's view
 * ({@link WaitQueueWaiters}) is the other, since its decisions are taken under a cross-process list
 * lock before its monitor (see there) but end the same way.
 *
 * @param <R> the owner's request type
 */
abstract class RequestOwner<R extends QueuedRequest<?, R>> {
  /** The message of the TimeoutException an expired request fails with. */
  abstract String timeoutMessage(R request);

  /** Hooks a kernel wait just armed up to the owner's sleeper-done events; outside the monitor. */
  abstract void watch(CompletableFuture<WaitOutcome> armed);

  /** Fails every queued request with {@code cause}, and ends the queue. */
  abstract void failAll(Throwable cause);
}
