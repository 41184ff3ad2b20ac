package dev.ringlock.locks;

import dev.ringlock.core.memory.MappedRegion;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Two processes take turns through one mutex and one condition variable: a shared counter in the
 * region is even for one and odd for the other; each waits for its parity, increments, and signals.
 * A lost signal stops both, which the watchdog reports with the condition's state.
 *
 * <p>As a child JVM, arguments: region file, go file, parity (0 or 1), turns.
 */
public final class ConditionPingPong {
  private ConditionPingPong() {}

  public static void main(String[] args) throws Exception {
    Path regionFile = Path.of(args[0]);
    Path go = Path.of(args[1]);
    int parity = Integer.parseInt(args[2]);
    int turns = Integer.parseInt(args[3]);
    try (SharedRegion region = SharedRegion.open(regionFile);
        MappedRegion raw =
            MappedRegion.open(
                regionFile, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      while (!Files.exists(go)) {
        Thread.sleep(1);
      }
      play(region, MutexWorker.counterOf(raw), parity, turns);
    }
  }

  /** Takes {@code turns} turns; fails with the state of both objects if a turn never comes. */
  static void play(SharedRegion region, MemorySegment counter, int parity, int turns)
      throws Exception {
    Mutex mutex = region.mutex("ping-pong");
    ConditionVariable turn = region.condition("ping-pong-turn");
    for (int i = 0; i < turns; i++) {
      MutexGuard guard = mutex.lock().get(20, TimeUnit.SECONDS);
      while (counter.get(ValueLayout.JAVA_LONG, 0) % 2 != parity) {
        try {
          guard = turn.await(guard).get(20, TimeUnit.SECONDS); // no timeout: a lost signal hangs
        } catch (TimeoutException e) {
          throw new IllegalStateException(
              "STUCK at turn "
                  + i
                  + " of parity "
                  + parity
                  + ": counter "
                  + counter.get(ValueLayout.JAVA_LONG, 0)
                  + ", "
                  + turn
                  + ", "
                  + mutex,
              e);
        }
      }
      counter.set(ValueLayout.JAVA_LONG, 0, counter.get(ValueLayout.JAVA_LONG, 0) + 1);
      turn.signal();
      guard.unlock();
    }
  }
}
