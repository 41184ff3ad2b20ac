package dev.ringlock.locks;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.concurrent.locks.Lock;

/**
 * A child JVM that takes a mutex through its {@code asLock()} view on command (stdin), for {@link
 * QueueLengthTest} and {@link AsLockOwnerDeathTest}.
 *
 * <p>Arguments: region file, mutex name. Prints READY, then for each command line: {@code lock}
 * blocks in {@code Lock.lock()} and prints HELD (or FAILED and the exception); {@code unlock}
 * prints UNLOCKED; {@code exit} calls {@code System.exit(0)}, holding whatever it holds. It exits
 * on its own after a minute.
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
      Lock lock = region.mutex(args[1]).asLock();
      System.out.println("READY");
      BufferedReader commands = new BufferedReader(new InputStreamReader(System.in));
      for (String command; (command = commands.readLine()) != null; ) {
        switch (command) {
          case "lock" -> {
            try {
              lock.lock();
              System.out.println("HELD");
            } catch (RuntimeException e) {
              System.out.println("FAILED " + e);
            }
          }
          case "unlock" -> {
            lock.unlock();
            System.out.println("UNLOCKED");
          }
          case "exit" -> System.exit(0);
          default -> System.out.println("UNKNOWN " + command);
        }
      }
    }
  }
}
