package dev.ringlock.locks;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * A child JVM for MutexReleaseClaimTest's stale unlock across two draws: a guard unlocked a second
 * time, whose release is paused (TestPausePoints.inReleaseRetry) between reading the fence and the
 * hold, while this process releases a newer hold and takes the mutex again.
 *
 * <p>Arguments: region file, mutex name (the one the pause property names). Prints {@code STALE
 * REFUSED} or {@code STALE RELEASED} (the second unlock's outcome), then {@code HOLDER INTACT} if
 * the hold taken meanwhile was still its holder's to unlock, else {@code HOLDER LOST}.
 */
public final class StaleUnlockChild {
  private StaleUnlockChild() {}

  public static void main(String[] args) throws Exception {
    try (SharedRegion region = SharedRegion.open(Path.of(args[0]))) {
      Mutex mutex = region.mutex(args[1]);
      MutexGuard stale = mutex.lock().join();
      stale.unlock();
      String[] outcome = new String[1];
      Thread second =
          new Thread(
              () -> {
                try {
                  stale.unlock();
                  outcome[0] = "STALE RELEASED";
                } catch (IllegalStateException refused) {
                  outcome[0] = "STALE REFUSED";
                }
              },
              "second-unlock");
      second.start();
      while (Arrays.stream(second.getStackTrace())
          .noneMatch(frame -> frame.getMethodName().equals("inReleaseRetry"))) {
        Thread.onSpinWait(); // until the second unlock has read the fence and paused
      }
      // Two draws while it is paused: the tag moves four past the fence it read.
      mutex.lock().join().unlock();
      MutexGuard holder = mutex.lock().join();
      second.join();
      System.out.println(outcome[0]);
      try {
        holder.unlock();
        System.out.println("HOLDER INTACT");
      } catch (IllegalStateException released) {
        System.out.println("HOLDER LOST");
      }
    }
  }
}
