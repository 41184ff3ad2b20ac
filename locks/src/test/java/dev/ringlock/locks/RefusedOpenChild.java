package dev.ringlock.locks;

import dev.ringlock.core.ExitDetectionUnavailableException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A child JVM that tries to open a region where it cannot see processes exit (no pidfd_open, no
 * /proc): prints {@code REFUSED <message>} or {@code OPENED}, then {@code FILE EXISTS <bool>}.
 *
 * <p>Arguments: region file.
 */
public final class RefusedOpenChild {
  private RefusedOpenChild() {}

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    try (SharedRegion region = SharedRegion.open(file)) {
      System.out.println("OPENED " + region);
    } catch (ExitDetectionUnavailableException e) {
      System.out.println("REFUSED " + e.getMessage());
    }
    System.out.println("FILE EXISTS " + Files.exists(file));
    System.exit(0);
  }
}
