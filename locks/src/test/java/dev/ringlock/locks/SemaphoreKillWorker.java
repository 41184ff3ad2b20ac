package dev.ringlock.locks;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A child JVM for {@link SemaphoreKillLoopTest}: {@code REGION NAME} opens the undo-on-exit
 * semaphore NAME, prints READY once its first acquire and release went through, then moves permits
 * until it is killed: acquire (waiting, timed, or try), sometimes drain, then release what it took,
 * with no pause, so that a SIGKILL at a random instant lands inside a move most of the time. Two
 * threads do it at once, so a kill also catches one thread waiting for the other's move.
 *
 * <p>Exit status 3: the semaphore broke a rule it can check from here (a release refused, or more
 * permits available than the semaphore was created with).
 */
public final class SemaphoreKillWorker {
  private SemaphoreKillWorker() {}

  public static void main(String[] args) throws Exception {
    try (SharedRegion region = SharedRegion.open(Path.of(args[0]))) {
      int total = Integer.parseInt(args[2]);
      Semaphore semaphore = region.semaphore(args[1], total); // the test created it already
      cycle(semaphore, total);
      System.out.println("READY");
      System.out.flush();
      Thread second = Thread.ofPlatform().start(() -> loop(semaphore, total));
      loop(semaphore, total);
      second.join();
    }
  }

  private static void loop(Semaphore semaphore, int total) {
    try {
      while (true) {
        cycle(semaphore, total);
      }
    } catch (Exception e) {
      e.printStackTrace(System.out);
      System.out.flush();
      Runtime.getRuntime().halt(3);
    }
  }

  private static void cycle(Semaphore semaphore, int total) throws Exception {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int available = semaphore.availablePermits();
    if (available > total) {
      throw new IllegalStateException(available + " permits available of " + total + ": made up");
    }
    int permits = 1 + random.nextInt(2);
    int held;
    switch (random.nextInt(8)) {
      case 0 -> held = semaphore.tryAcquire(permits) ? permits : 0;
      case 1 -> held = semaphore.drainPermits();
      case 2 -> {
        try {
          semaphore.acquire(permits, Duration.ofMillis(random.nextInt(1, 20))).join();
          held = permits;
        } catch (java.util.concurrent.CompletionException timedOut) {
          if (!(timedOut.getCause() instanceof TimeoutException)) {
            throw timedOut;
          }
          held = 0;
        }
      }
      default -> {
        semaphore.acquire(permits).get(60, TimeUnit.SECONDS);
        held = permits;
      }
    }
    if (held > 0) {
      if (random.nextInt(4) == 0) {
        Thread.onSpinWait(); // hold a little, sometimes
      }
      semaphore.release(held);
    }
  }
}
