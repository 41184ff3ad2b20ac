package dev.ringlock.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Run by {@link SyscallBackendTest#aPrivateWaitThatNoWakeReachedSleepsOn} in a JVM of its own,
 * which never opens an io_uring ring (whose wakes InProcessWakes cannot see, so that every private
 * word would count as maybe woken). Two waits on private words in one futex_waitv thread, the first
 * before the second; only the second's word is woken. The first must sleep on: this process made no
 * wake of its word, so nothing can have reached it. Prints OK, or what went wrong.
 */
public final class UnwokenPrivateWaitChild {
  private UnwokenPrivateWaitChild() {}

  public static void main(String[] args) throws Exception {
    try (FutexRing ring = FutexRing.open(FutexRing.options().backend(FutexRing.Backend.SYSCALLS))) {
      Words fillers = new Words(SyscallBackend.MAX_THREADS);
      List<CompletableFuture<WaitOutcome>> parked = new ArrayList<>();
      for (int i = 0; i < SyscallBackend.MAX_THREADS; i++) {
        parked.add(ring.wait(fillers.word(i), 0));
      }
      for (int i = 1; i < SyscallBackend.MAX_THREADS; i++) {
        parked.add(ring.wait(fillers.word(i), 0)); // the first thread now holds the fewest
      }
      Words words = new Words(64);
      FutexWord first = words.word(0);
      FutexWord second = null;
      for (int i = 1;
          second == null;
          i++) { // a word of another stripe: the record tells them apart
        if (InProcessWakes.stripe(words.word(i).address())
            != InProcessWakes.stripe(first.address())) {
          second = words.word(i);
        }
      }
      for (int round = 0; round < 20; round++) {
        CompletableFuture<WaitOutcome> sleeper = ring.wait(first, 0); // [filler, first, second]
        CompletableFuture<WaitOutcome> woken = ring.wait(second, 0);
        if (ring.wake(second, 1).get(10, TimeUnit.SECONDS) != 1
            || !woken.get(10, TimeUnit.SECONDS).isWoken()) {
          System.out.println("the second wait was not woken in round " + round);
          return;
        }
        Thread.sleep(50);
        if (sleeper.isDone()) {
          System.out.println("SPURIOUS in round " + round + ": " + sleeper.join());
          return;
        }
        sleeper.cancel(false);
      }
      parked.forEach(wait -> wait.cancel(false));
      System.out.println("OK");
    }
  }
}
