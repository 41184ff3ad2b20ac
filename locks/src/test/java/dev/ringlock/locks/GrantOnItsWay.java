package dev.ringlock.locks;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The scene of the "grant on its way" tests (MutexTest, SemaphoreTest and ReadWriteMutexTest's
 * aCancelThatReturnsTrueLeavesNothingHeldEvenWithTheGrantOnItsWay). Two requests queue behind a
 * hold: second, then third. When the hold is released, second is granted and its continuation
 * releases again, which hands the lock (permit) on to third; Grants delivers that nested grant only
 * once the outer one returns, so in that instant third is unlinked for its grant but not completed.
 * The continuation cancels third right then and, if the cancel returned true, tries to take the
 * lock (permit) at once. What the outcome must be is each test's to assert.
 */
final class GrantOnItsWay {
  private GrantOnItsWay() {}

  /**
   * What the continuation saw.
   *
   * @param cancelled third's cancel returned true (came before the grant's delivery)
   * @param takenAfterCancel then the lock (permit) could be taken at once (false if not cancelled)
   */
  record Outcome(boolean cancelled, boolean takenAfterCancel) {}

  /**
   * Plays the scene: {@code releaseHold} lets {@code second} in; second's continuation runs {@code
   * handOn} (second's release, which grants {@code third}), cancels third, and if that returned
   * true runs {@code tryTake} (true if it took the lock or permit; whether it gives it back is the
   * test's choice). Returns once the continuation has run.
   */
  static <T> Outcome play(
      Runnable releaseHold,
      CompletableFuture<T> second,
      Consumer<T> handOn,
      CompletableFuture<?> third,
      BooleanSupplier tryTake)
      throws Exception {
    AtomicBoolean cancelled = new AtomicBoolean();
    AtomicBoolean takenAfterCancel = new AtomicBoolean();
    CompletableFuture<Void> continuation =
        second.thenAccept(
            granted -> {
              handOn.accept(granted); // grants third; delivered after this continuation returns
              cancelled.set(third.cancel(false));
              takenAfterCancel.set(cancelled.get() && tryTake.getAsBoolean());
            });
    releaseHold.run();
    RegionTestBase.await(continuation);
    return new Outcome(cancelled.get(), takenAfterCancel.get());
  }
}
