package dev.ringlock.testsupport;

import java.util.function.Supplier;

/** In a child JVM: a bound on how long it may run, so a hung child fails its test and says why. */
public final class Watchdog {
  /** The exit status of a child the watchdog ended. */
  public static final int EXIT_STUCK = 4;

  private Watchdog() {}

  /**
   * Exits with status {@link #EXIT_STUCK} after {@code millis}, printing "STUCK" and {@code state}
   * (the objects' toString, which shows what they wait for), unless the child has exited by then.
   */
  public static void start(long millis, Supplier<String> state) {
    Thread.ofPlatform()
        .daemon(true)
        .name("watchdog")
        .start(
            () -> {
              try {
                Thread.sleep(millis);
              } catch (InterruptedException e) {
                return;
              }
              System.out.println("STUCK " + state.get());
              System.exit(EXIT_STUCK);
            });
  }
}
