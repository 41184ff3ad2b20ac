package dev.ringlock.core;

/**
 * A blocking call ({@code join()}, {@code get()}, {@code get(timeout)}) on an incomplete ringlock
 * future, made on the completion thread of the ring that completes it: that thread would wait for a
 * completion only it can deliver, and no other future of the ring would complete meanwhile. As
 * netty's {@code BlockingOperationException}, the call throws at once instead of deadlocking.
 *
 * <p>Chain instead of blocking ({@code thenCompose}, {@code thenComposeAsync}), or give the ring a
 * {@link FutexRing.Options#completionExecutor completionExecutor} so that continuations run, and
 * may block, on threads of your own. A future that is already complete may be joined anywhere.
 */
public final class CompletionThreadBlockingException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /**
   * An exception with {@code message}.
   *
   * @param message which call would have blocked the completion thread, and what to do instead
   */
  public CompletionThreadBlockingException(String message) {
    super(message);
  }

  /**
   * The exception for {@code call}, refused on the current thread because it is the completion
   * thread of the ring that completes the future; for futures of other ringlock modules.
   *
   * @param call the blocking call, such as {@code "join()"}
   * @param what what the future stands for, such as {@code "a FutexRing future that is not complete
   *     yet"}
   * @return the exception to throw; its message says what to do instead
   */
  public static CompletionThreadBlockingException refusing(String call, String what) {
    return new CompletionThreadBlockingException(
        call
            + " of "
            + what
            + ", on its ring's completion thread ('"
            + Thread.currentThread().getName()
            + "'), would wait for a completion that only this thread can deliver, and stop every"
            + " other future of the ring meanwhile. Chain instead (thenCompose, thenComposeAsync,"
            + " thenAcceptAsync), or run continuations that block on an executor of your own:"
            + " FutexRing.options().completionExecutor(executor).");
  }
}
