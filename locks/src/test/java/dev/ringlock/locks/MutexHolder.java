package dev.ringlock.locks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A child JVM that holds mutexes until told to let go, through files in a control directory: it
 * creates {@code held} once it holds every mutex named in its arguments, unlocks mutex {@code n}
 * when {@code release-n} appears, and exits when {@code exit} appears (or after a minute).
 *
 * <p>Arguments: region file, control directory, mutex names...
 */
public final class MutexHolder {
  private MutexHolder() {}

  public static void main(String[] args) throws Exception {
    Path regionFile = Path.of(args[0]);
    Path control = Path.of(args[1]);
    Map<String, MutexGuard> held = new HashMap<>();
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      for (int i = 2; i < args.length; i++) {
        held.put(args[i], region.mutex(args[i]).tryLock().orElseThrow());
      }
      Files.createFile(control.resolve("held"));
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (!Files.exists(control.resolve("exit"))) {
        if (System.nanoTime() > deadline) {
          System.out.println("STUCK: never told to exit; holding " + held.keySet());
          System.exit(2);
        }
        for (var entry : Map.copyOf(held).entrySet()) {
          if (Files.exists(control.resolve("release-" + entry.getKey()))) {
            entry.getValue().unlock();
            held.remove(entry.getKey());
          }
        }
        Thread.sleep(2);
      }
    }
  }
}
