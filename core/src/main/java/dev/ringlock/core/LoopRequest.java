package dev.ringlock.core;

/**
 * Something a thread asks the {@link CompletionLoop} to do on the loop's own thread: a node of the
 * loop's request stack. Each kind of request knows what to do when the loop takes it, so the loop
 * dispatches on nothing:
 *
 * <ul>
 *   <li>a {@link RingOp} (a request whose caller holds a future) writes its SQEs, or, once
 *       abandoned in the kernel, its ASYNC_CANCEL;
 *   <li>a {@link WakeSignal}'s queued wake writes one fire-and-forget FUTEX_WAKE: plain data, no
 *       future;
 *   <li>a flush is completed after the submission that carries everything queued before it;
 *   <li>a close request ends the loop.
 * </ul>
 *
 * <p>{@code next} is the stack's link. A request is on the stack at most once at a time, so its
 * link has one writer at a time: the producer, before the CAS that publishes it, and then the loop,
 * after the getAndSet that takes it. Each kind says how it keeps to that.
 */
interface LoopRequest {
  /** The request pushed before this one (newest first), or null. */
  LoopRequest next();

  void setNext(LoopRequest next);

  /**
   * The loop took this request from its stack, or it was made on the loop thread: do it, writing
   * into {@code loop}'s current submission. Loop thread.
   */
  void takenBy(CompletionLoop loop);

  /**
   * The loop has closed, or is closing, and will never take this request: keep whatever it promised
   * without the ring (fail the future, make the wake by system call). Any thread.
   *
   * @param cause why the ring failed, or null when it was closed
   */
  void refused(Throwable cause);
}
