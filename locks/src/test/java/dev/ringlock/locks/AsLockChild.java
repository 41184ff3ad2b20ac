package dev.ringlock.locks;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Lock;

/**
 * A child JVM that takes mutexes through their {@code asLock()} views on command (stdin), for
 * {@link AsLockOwnerDeathTest}.
 *
 * <p>Arguments: region file, mutex names. Prints READY, then for each command line: {@code lock}
 * blocks in {@code Lock.lock()} of each mutex in turn and prints HELD (or FAILED and the
 * exception); {@code unlock} unlocks them and prints UNLOCKED; {@code exit} calls {@code
 * System.exit(0)}, holding whatever it holds. It exits on its own after a minute.
 */
public final class AsLockChild {
  private AsLockChild() {}

  public static void main(String[] args) throws Exception {
    Thread.ofPlatform()
        .daemon(true)
        .start(
            () -> {
              try {
                Thread.sleep(60_000);
              } catch (InterruptedException e) {
                return;
              }
              System.out.println("STUCK: never told to exit");
              Runtime.getRuntime().halt(2);
            });
    try (SharedRegion region = SharedRegion.open(Path.of(args[0]))) {
      List<Lock> locks = new ArrayList<>();
      for (int i = 1; i < args.length; i++) {
        locks.add(region.mutex(args[i]).asLock());
      }
      System.out.println("READY");
      BufferedReader commands = new BufferedReader(new InputStreamReader(System.in));
      for (String command; (command = commands.readLine()) != null; ) {
        switch (command) {
          case "lock" -> {
            try {
              locks.forEach(Lock::lock);
              System.out.println("HELD");
            } catch (RuntimeException e) {
              System.out.println("FAILED " + e);
            }
          }
          case "unlock" -> {
            locks.forEach(Lock::unlock);
            System.out.println("UNLOCKED");
          }
          case "exit" -> System.exit(0);
          default -> System.out.println("UNKNOWN " + command);
        }
      }
    }
  }
}
