package dev.ringlock.core;

import dev.ringlock.core.ffi.Syscalls;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Run by {@link JoinedRingWaitTest#aWaitTakenOverByItsJoinedThreadKeepsTheRingsContract} in a JVM
 * of its own with {@link TestPausePoints} on. Each scenario makes the take-over certain: the wait's
 * futex_waitv thread is held out of the kernel before it drains the wait, so the thread that joins
 * takes it over (and, where the scenario needs it, is held too, before it sleeps). Prints one line
 * per scenario, "OK ..." or what went wrong, then "DONE".
 */
public final class JoinedRingWaitChild {
  private static final long SECONDS = 10;
  private static final ExecutorService WAKER = Executors.newSingleThreadExecutor();

  private JoinedRingWaitChild() {}

  public static void main(String[] args) throws Exception {
    System.setProperty(TestPausePoints.HOLD_AFTER_KERNEL_RETURN_PROPERTY, "true");
    try {
      aPureWakeBeforeTheJoinerSleepsIsHandedToIt();
      aWakeOfAllCountsTheSleepingJoinerOnce();
      aSecondWaitOnTheWordTakesTheJoinedOneBackInOrder();
      aCancelEndsTheJoinAndLeavesNothingQueued();
      aTimeoutEndsTheJoin();
      aCloseEndsTheJoin();
      anInterruptOfGetHandsTheWaitBackToTheRing();
      anInterruptOfJoinIsKeptAndTheJoinWaitsOn();
      anExceptionInADependentStaysInItsFuture();
      System.out.println("DONE");
    } finally {
      WAKER.shutdownNow();
    }
  }

  /** A wait of a ring of its own, taken over by a thread named {@code joinerName}. */
  private record Taken(
      FutexRing ring,
      FutexWord word,
      CompletableFuture<WaitOutcome> future,
      Thread joiner,
      AtomicReference<Object> ended, // what the join returned or threw
      AtomicReference<Thread> completedOn) {}

  /**
   * Opens ring {@code name}, holds its only futex_waitv thread out of the kernel, makes a wait on a
   * fresh word (queued to that thread, not drained), then starts {@code joinerName} blocked in
   * join() (or get()) on it and waits until the wait is taken over; lets the waitv thread go on
   * unless {@code keepThreadHeld}. Null (printed) if the set-up failed.
   */
  private static Taken takeOver(String name, boolean useGet, boolean holdJoiner, Duration timeout)
      throws Exception {
    FutexRing ring =
        FutexRing.open(FutexRing.options().backend(FutexRing.Backend.SYSCALLS).threadName(name));
    FutexWord word = new Words(1).word(0);
    ring.wait(word, 0).cancel(false); // starts the ring's waitv thread
    Rings.awaitSettled(ring, SECONDS);
    TestPausePoints.holdNext(name + "-waitv-0");
    CompletableFuture<WaitOutcome> wait =
        timeout == null ? ring.wait(word, 0) : ring.wait(word, 0, FutexRing.ANY_BITSET, timeout);
    if (!TestPausePoints.awaitHeld(name + "-waitv-0", SECONDS * 1000)) {
      System.out.println("SETUP " + name + ": the waitv thread was not held");
      return null;
    }
    AtomicReference<Thread> completedOn = new AtomicReference<>();
    wait.whenComplete((outcome, failure) -> completedOn.set(Thread.currentThread()));
    AtomicReference<Object> ended = new AtomicReference<>();
    String joinerName = name + "-joiner";
    if (holdJoiner) {
      TestPausePoints.holdNext(joinerName);
    }
    Thread joiner =
        Thread.ofPlatform()
            .name(joinerName)
            .start(
                () -> {
                  try {
                    ended.set(useGet ? wait.get() : wait.join());
                  } catch (Throwable t) {
                    ended.set(t);
                  }
                });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
    while (!((SyscallWait) wait).takenOver() && System.nanoTime() - deadline < 0) {
      Thread.onSpinWait();
    }
    if (!((SyscallWait) wait).takenOver()) {
      System.out.println("SETUP " + name + ": the joined thread did not take the wait over");
      TestPausePoints.release();
      return null;
    }
    TestPausePoints.release(name + "-waitv-0"); // it drops the taken wait unarmed
    if (!holdJoiner) {
      awaitQueued(word, wait);
    }
    return new Taken(ring, word, wait, joiner, ended, completedOn);
  }

  /** The joiner's futex_waitv entry is queued on the word. */
  private static void awaitQueued(FutexWord word, CompletableFuture<WaitOutcome> wait)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
    while (Syscalls.futexCountWaiters(word.address(), true) < 1
        && !wait.isDone()
        && System.nanoTime() - deadline < 0) {
      Thread.sleep(1);
    }
  }

  private static Object endOf(Taken taken) throws InterruptedException {
    taken.joiner().join(TimeUnit.SECONDS.toMillis(SECONDS));
    return taken.joiner().isAlive() ? "still blocked" : taken.ended().get();
  }

  private static boolean wokenHere(Taken taken, Object end) {
    return end instanceof WaitOutcome outcome
        && outcome.isWoken()
        && taken.completedOn().get() == taken.joiner();
  }

  /**
   * The joiner took the wait and is held before it sleeps; a pure wake of one, made then, finds
   * nothing in the kernel and must be handed to it, end the wait woken and count it.
   */
  private static void aPureWakeBeforeTheJoinerSleepsIsHandedToIt() throws Exception {
    String name = "jt-pure";
    Taken taken = takeOver(name, false, true, null);
    if (taken == null) {
      return;
    }
    try (FutexRing ring = taken.ring()) {
      if (!TestPausePoints.awaitHeld(name + "-joiner", SECONDS * 1000)) {
        System.out.println("SETUP pure wake: the joiner was not held");
        return;
      }
      long before = InProcessWakes.snapshot(taken.word().address());
      Future<Integer> woken = WAKER.submit(() -> ring.wake(taken.word(), 1).join());
      while (InProcessWakes.snapshot(taken.word().address()) == before
          || InProcessWakes.snapshot(taken.word().address()) == InProcessWakes.UNSETTLED) {
        Thread.sleep(1); // until the kernel's wake returned, having found nobody
      }
      TestPausePoints.release(name + "-joiner");
      Object end = endOf(taken);
      int count = woken.get(SECONDS, TimeUnit.SECONDS);
      System.out.println(
          wokenHere(taken, end) && count == 1
              ? "OK pure wake before the joiner sleeps"
              : "LOST: pure wake before the joiner sleeps: " + end + ", counted " + count);
    }
  }

  /** A wake of all while the joiner sleeps in the kernel: woken there, counted once. */
  private static void aWakeOfAllCountsTheSleepingJoinerOnce() throws Exception {
    Taken taken = takeOver("jt-all", false, false, null);
    if (taken == null) {
      return;
    }
    try (FutexRing ring = taken.ring()) {
      int count = ring.wake(taken.word(), FutexRing.WAKE_ALL).get(SECONDS, TimeUnit.SECONDS);
      Object end = endOf(taken);
      System.out.println(
          wokenHere(taken, end) && count == 1
              ? "OK wake of all"
              : "COUNT: wake of all: " + end + ", counted " + count);
    }
  }

  /**
   * A second wait on the word while the first is taken over: the first goes back to the ring ahead
   * of it, so a wake of one ends the first, and the next wake the second.
   */
  private static void aSecondWaitOnTheWordTakesTheJoinedOneBackInOrder() throws Exception {
    Taken taken = takeOver("jt-order", false, false, null);
    if (taken == null) {
      return;
    }
    try (FutexRing ring = taken.ring()) {
      CompletableFuture<WaitOutcome> second = ring.wait(taken.word(), 0);
      boolean handedBack = !((SyscallWait) taken.future()).takenOver();
      int first = ring.wake(taken.word(), 1).get(SECONDS, TimeUnit.SECONDS);
      Object end = endOf(taken);
      boolean secondPending = !second.isDone();
      int next = ring.wake(taken.word(), 1).get(SECONDS, TimeUnit.SECONDS);
      WaitOutcome secondEnd = second.get(SECONDS, TimeUnit.SECONDS);
      System.out.println(
          handedBack
                  && first == 1
                  && end instanceof WaitOutcome outcome
                  && outcome.isWoken()
                  && secondPending
                  && next == 1
                  && secondEnd.isWoken()
              ? "OK second wait"
              : "ORDER: second wait: handed back "
                  + handedBack
                  + ", first wake "
                  + first
                  + " ended "
                  + end
                  + ", second pending "
                  + secondPending
                  + ", next wake "
                  + next);
    }
  }

  /** A cancel while the joiner sleeps: join throws, and no entry stays queued on the word. */
  private static void aCancelEndsTheJoinAndLeavesNothingQueued() throws Exception {
    Taken taken = takeOver("jt-cancel", false, false, null);
    if (taken == null) {
      return;
    }
    try (FutexRing ring = taken.ring()) {
      taken.future().cancel(false);
      Object end = endOf(taken);
      int count = ring.wake(taken.word(), 1).get(SECONDS, TimeUnit.SECONDS);
      System.out.println(
          end instanceof CancellationException && count == 0
              ? "OK cancel"
              : "CANCEL: ended " + end + ", a later wake counted " + count);
    }
  }

  private static void aTimeoutEndsTheJoin() throws Exception {
    Taken taken = takeOver("jt-timeout", false, false, Duration.ofMillis(200));
    if (taken == null) {
      return;
    }
    try (FutexRing ring = taken.ring()) {
      Object end = endOf(taken);
      int count = ring.wake(taken.word(), 1).get(SECONDS, TimeUnit.SECONDS);
      System.out.println(
          end instanceof CompletionException e
                  && e.getCause() instanceof java.util.concurrent.TimeoutException
                  && count == 0
              ? "OK timeout"
              : "TIMEOUT: ended " + end + ", a later wake counted " + count);
    }
  }

  private static void aCloseEndsTheJoin() throws Exception {
    Taken taken = takeOver("jt-close", false, false, null);
    if (taken == null) {
      return;
    }
    taken.ring().close();
    Object end = endOf(taken);
    System.out.println(
        end instanceof CompletionException e && e.getCause() instanceof RingClosedException
            ? "OK close"
            : "CLOSE: ended " + end);
  }

  /**
   * get() is interruptible: it throws, and the wait goes back to the ring, pending and wakeable.
   */
  private static void anInterruptOfGetHandsTheWaitBackToTheRing() throws Exception {
    Taken taken = takeOver("jt-get", true, false, null);
    if (taken == null) {
      return;
    }
    try (FutexRing ring = taken.ring()) {
      taken.joiner().interrupt();
      Object end = endOf(taken);
      boolean pending = !taken.future().isDone() && !((SyscallWait) taken.future()).takenOver();
      int count = ring.wake(taken.word(), 1).get(SECONDS, TimeUnit.SECONDS);
      WaitOutcome outcome = taken.future().get(SECONDS, TimeUnit.SECONDS);
      System.out.println(
          end instanceof InterruptedException && pending && count == 1 && outcome.isWoken()
              ? "OK interrupted get"
              : "INTERRUPT get: ended " + end + ", pending " + pending + ", counted " + count);
    }
  }

  /** join() is not: it waits on, and returns the outcome with the interrupt still set. */
  private static void anInterruptOfJoinIsKeptAndTheJoinWaitsOn() throws Exception {
    Taken taken = takeOver("jt-join", false, false, null);
    if (taken == null) {
      return;
    }
    try (FutexRing ring = taken.ring()) {
      AtomicReference<Boolean> interruptKept = new AtomicReference<>();
      taken
          .future()
          .whenComplete((o, f) -> interruptKept.set(Thread.currentThread().isInterrupted()));
      taken.joiner().interrupt();
      Thread.sleep(100); // several ticks of the joiner
      boolean stillWaiting = taken.joiner().isAlive();
      int count = ring.wake(taken.word(), 1).get(SECONDS, TimeUnit.SECONDS);
      Object end = endOf(taken);
      System.out.println(
          stillWaiting
                  && count == 1
                  && wokenHere(taken, end)
                  && Boolean.TRUE.equals(interruptKept.get())
              ? "OK interrupted join"
              : "INTERRUPT join: waited on "
                  + stillWaiting
                  + ", ended "
                  + end
                  + ", counted "
                  + count);
    }
  }

  /** A dependent that throws on the joined thread: the join returns, the dependent fails. */
  private static void anExceptionInADependentStaysInItsFuture() throws Exception {
    Taken taken = takeOver("jt-dependent", false, false, null);
    if (taken == null) {
      return;
    }
    try (FutexRing ring = taken.ring()) {
      CompletableFuture<Void> dependent =
          taken
              .future()
              .thenRun(
                  () -> {
                    throw new IllegalStateException("thrown by a dependent");
                  });
      int count = ring.wake(taken.word(), 1).get(SECONDS, TimeUnit.SECONDS);
      Object end = endOf(taken);
      boolean failed = dependent.isCompletedExceptionally();
      System.out.println(
          wokenHere(taken, end) && count == 1 && failed
              ? "OK dependent throws"
              : "DEPENDENT: ended " + end + ", dependent failed " + failed);
    }
  }
}
