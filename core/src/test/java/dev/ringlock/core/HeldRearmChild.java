package dev.ringlock.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Run by {@link SyscallBackendTest#aPureWakeReachesAWaitWhoseThreadIsOutOfTheKernel} in a JVM of
 * its own with {@link TestPausePoints#HOLD_AFTER_KERNEL_RETURN} on (set first thing in main, before
 * any backend thread reads it). Each scenario holds the backend thread of a pending wait at the
 * instant that lost pure wakes: it has left the kernel (its entries are unqueued) and still reads
 * as asleep, so the wake's settle lets the wake go ahead and the kernel finds nobody. The wake is
 * made (seen through InProcessWakes: its system call returned), then the thread is let go; the wait
 * must end woken, and a ring wake must count it. Prints one line per scenario, "OK ..." or what
 * went wrong, then "DONE".
 */
public final class HeldRearmChild {
  private static final long SECONDS = 10;

  private HeldRearmChild() {}

  public static void main(String[] args) throws Exception {
    System.setProperty(TestPausePoints.HOLD_AFTER_KERNEL_RETURN_PROPERTY, "true");
    Path file = Path.of("/dev/shm", "ringlock-held-rearm-" + ProcessHandle.current().pid());
    ExecutorService waker = Executors.newSingleThreadExecutor();
    try (Arena arena = Arena.ofShared();
        FileChannel channel =
            FileChannel.open(
                file,
                StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
      channel.write(java.nio.ByteBuffer.allocate(4096));
      MemorySegment mapped = channel.map(FileChannel.MapMode.READ_WRITE, 0, 4096, arena);
      Words words = new Words(8);
      FutexWord shared = FutexWord.of(mapped, 0, FutexScope.SHARED);
      // A ring of its own for each (the last one closed, its threads joined), so that the thread
      // held is that ring's only futex_waitv or bitset thread.
      try (FutexRing ring = open("held-all-private")) {
        wakeOfAllCountsTheHeldWait(ring, waker, words.word(0), "private");
      }
      try (FutexRing ring = open("held-all-shared")) {
        wakeOfAllCountsTheHeldWait(ring, waker, shared, "shared");
      }
      try (FutexRing ring = open("held-one")) {
        aWakeOfOneEndsOnlyTheOldestHeldWait(ring, waker, words.word(1));
      }
      try (FutexRing ring = open("held-each")) {
        heldWaitEnds(
            ring, waker, words.word(2), "wakeEach", word -> ring.wakeEach(List.of(word)).join());
      }
      try (FutexRing ring = open("held-signal")) {
        heldWaitEnds(
            ring,
            waker,
            words.word(3),
            "wakeSignal",
            word -> ring.wakeSignal(word, 1, FutexRing.ANY_BITSET).signal());
      }
      try (FutexRing ring = open("held-bitset")) {
        aBitsetWaitBetweenSlicesEndsWoken(ring, waker, words.word(4));
      }
      try (FutexRing ring = open("held-idle")) {
        aWakeGoesAheadOfAHeldThreadThatHoldsNoWait(
            ring, waker, words.word(5), words.word(6), words.word(7));
      }
      System.out.println("DONE");
    } finally {
      waker.shutdownNow();
      Files.deleteIfExists(file);
    }
  }

  private static FutexRing open(String name) {
    return FutexRing.open(FutexRing.options().backend(FutexRing.Backend.SYSCALLS).threadName(name));
  }

  /**
   * Two waits on the word in one thread; the second is cancelled to make the thread leave the
   * kernel, which is held there; a wake of all must end the first and count it, and a wait made
   * after the wake began must not be woken by it.
   */
  private static void wakeOfAllCountsTheHeldWait(
      FutexRing ring, ExecutorService waker, FutexWord word, String kind) throws Exception {
    CompletableFuture<WaitOutcome> pending = ring.wait(word, 0);
    if (!holdTheThreadOf(ring, word, "-waitv-")) {
      return;
    }
    long before = InProcessWakes.snapshot(word.address());
    Future<Integer> woken = waker.submit(() -> ring.wake(word, FutexRing.WAKE_ALL).join());
    if (!awaitKernelWake(word, before, "wake of all, " + kind)) {
      return;
    }
    CompletableFuture<WaitOutcome> later = ring.wait(word, 0); // after the wake began
    TestPausePoints.release();
    WaitOutcome outcome = outcomeOf(pending);
    int count = woken.get(SECONDS, TimeUnit.SECONDS);
    Thread.sleep(100);
    if (outcome == null || !outcome.isWoken()) {
      System.out.println("LOST: wake of all, " + kind + ": the held wait ended " + outcome);
    } else if (count != 1) {
      System.out.println("COUNT: wake of all, " + kind + ": the wake counted " + count + ", not 1");
    } else if (later.isDone()) {
      System.out.println("LATE WAIT WOKEN: wake of all, " + kind + ": " + later.join());
    } else {
      System.out.println("OK wake of all, " + kind);
    }
    later.cancel(false);
  }

  /** Two waits held out of the kernel and a wake of one: the older ends, the other sleeps on. */
  private static void aWakeOfOneEndsOnlyTheOldestHeldWait(
      FutexRing ring, ExecutorService waker, FutexWord word) throws Exception {
    CompletableFuture<WaitOutcome> older = ring.wait(word, 0);
    CompletableFuture<WaitOutcome> newer = ring.wait(word, 0);
    if (!holdTheThreadOf(ring, word, "-waitv-")) {
      return;
    }
    long before = InProcessWakes.snapshot(word.address());
    Future<Integer> woken = waker.submit(() -> ring.wake(word, 1).join());
    if (!awaitKernelWake(word, before, "wake of one")) {
      return;
    }
    TestPausePoints.release();
    WaitOutcome outcome = outcomeOf(older);
    int count = woken.get(SECONDS, TimeUnit.SECONDS);
    Thread.sleep(100);
    if (outcome == null || !outcome.isWoken()) {
      System.out.println("LOST: wake of one: the older held wait ended " + outcome);
    } else if (count != 1 || newer.isDone()) {
      System.out.println("COUNT: wake of one counted " + count + "; newer done: " + newer.isDone());
    } else {
      System.out.println("OK wake of one");
    }
    newer.cancel(false);
  }

  /** One wait, its thread held out of the kernel, then {@code wake}: the wait must end woken. */
  private static void heldWaitEnds(
      FutexRing ring, ExecutorService waker, FutexWord word, String how, Consumer<FutexWord> wake)
      throws Exception {
    CompletableFuture<WaitOutcome> pending = ring.wait(word, 0);
    if (!holdTheThreadOf(ring, word, "-waitv-")) {
      return;
    }
    long before = InProcessWakes.snapshot(word.address());
    Future<?> made = waker.submit(() -> wake.accept(word));
    if (!awaitKernelWake(word, before, how)) {
      return;
    }
    TestPausePoints.release();
    WaitOutcome outcome = outcomeOf(pending);
    made.get(SECONDS, TimeUnit.SECONDS);
    System.out.println(
        outcome != null && outcome.isWoken()
            ? "OK " + how
            : "LOST: " + how + ": the held wait ended " + outcome);
  }

  /** A bitset wait held between two slices of its futex wait, and a wake of its bits meanwhile. */
  private static void aBitsetWaitBetweenSlicesEndsWoken(
      FutexRing ring, ExecutorService waker, FutexWord word) throws Exception {
    CompletableFuture<WaitOutcome> pending = ring.wait(word, 0, 0b10);
    TestPausePoints.holdNext("-bitset-wait"); // its slice ends within 50 ms
    if (!TestPausePoints.awaitHeld(SECONDS * 1000)) {
      System.out.println("SETUP: the bitset wait's thread never left the kernel");
      return;
    }
    long before = InProcessWakes.snapshot(word.address());
    Future<Integer> woken = waker.submit(() -> ring.wake(word, FutexRing.WAKE_ALL, 0b10).join());
    if (!awaitKernelWake(word, before, "bitset wait")) {
      return;
    }
    TestPausePoints.release();
    WaitOutcome outcome = outcomeOf(pending);
    woken.get(SECONDS, TimeUnit.SECONDS);
    System.out.println(
        outcome != null && outcome.isWoken()
            ? "OK bitset wait"
            : "LOST: bitset wait: the held wait ended " + outcome);
  }

  /**
   * The ring's only futex_waitv thread, holding no wait, held out of the kernel at the end of a
   * tick in a generation no wake has proved queued: a wake of another word must go ahead at once,
   * not wait out the settle's patience (200 ms) for a thread with nothing to order it after. Then a
   * wait is placed on that held thread and a pure wake of its word made: that wake must still end
   * the wait and count it (its thread holds a wait again, so the wake settles and hands over).
   */
  private static void aWakeGoesAheadOfAHeldThreadThatHoldsNoWait(
      FutexRing ring, ExecutorService waker, FutexWord used, FutexWord other, FutexWord later)
      throws Exception {
    ring.wait(used, 0).cancel(false); // starts the thread; it drops the wait at once
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
    while (ring.stats().inFlight() != 0 && System.nanoTime() - deadline < 0) {
      Thread.sleep(1);
    }
    Thread.sleep(3 * NativeWaitTick.MILLIS); // ticks in generations no wake looked at
    TestPausePoints.holdNext("-waitv-"); // at its next tick's return
    if (!TestPausePoints.awaitHeld(SECONDS * 1000)) {
      System.out.println("SETUP: the idle thread never left the kernel");
      return;
    }
    long start = System.nanoTime();
    int woken = ring.wake(other, 1).get(SECONDS, TimeUnit.SECONDS);
    long tookMillis = (System.nanoTime() - start) / 1_000_000;
    CompletableFuture<WaitOutcome> pending = ring.wait(later, 0); // on the held thread
    long before = InProcessWakes.snapshot(later.address());
    Future<Integer> count = waker.submit(() -> ring.wake(later, 1).join());
    if (!awaitKernelWake(later, before, "wake after a held idle thread")) {
      return;
    }
    TestPausePoints.release();
    WaitOutcome outcome = outcomeOf(pending);
    int counted = count.get(SECONDS, TimeUnit.SECONDS);
    if (woken != 0 || tookMillis >= 100) {
      System.out.println(
          "WAITED: a wake of an unwatched word woke " + woken + " and took " + tookMillis + " ms");
    } else if (outcome == null || !outcome.isWoken() || counted != 1) {
      System.out.println(
          "LOST: a wait placed on the held idle thread ended " + outcome + ", counted " + counted);
    } else {
      System.out.println("OK wake passes a thread that holds no wait");
    }
  }

  /**
   * Settles the thread holding {@code word}'s waits, then cancels a second wait on it, which pokes
   * that thread out of the kernel, and holds it there. False (printed) if it was not held.
   */
  private static boolean holdTheThreadOf(FutexRing ring, FutexWord word, String threadNamePart)
      throws Exception {
    CompletableFuture<WaitOutcome> poker = ring.wait(word, 0); // on the thread that holds the word
    Rings.awaitSettled(ring, SECONDS);
    TestPausePoints.holdNext(threadNamePart);
    poker.cancel(false);
    if (!TestPausePoints.awaitHeld(SECONDS * 1000)) {
      System.out.println("SETUP: no thread left the kernel after the cancel");
      return false;
    }
    return true;
  }

  /** Waits until the wake's system call of {@code word} returned (InProcessWakes counted it). */
  private static boolean awaitKernelWake(FutexWord word, long before, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
    for (; ; ) {
      long now = InProcessWakes.snapshot(word.address());
      if (now != before && now != InProcessWakes.UNSETTLED) {
        return true;
      }
      if (System.nanoTime() - deadline > 0) {
        TestPausePoints.release();
        System.out.println("SETUP: " + what + ": the wake never reached the kernel");
        return false;
      }
      Thread.sleep(1);
    }
  }

  /** The wait's outcome, or null if it did not end within the bound (a lost wake). */
  private static WaitOutcome outcomeOf(CompletableFuture<WaitOutcome> wait) {
    try {
      return wait.get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      return null;
    }
  }
}
