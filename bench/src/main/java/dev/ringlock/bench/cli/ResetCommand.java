package dev.ringlock.bench.cli;

import dev.ringlock.core.InvalidRegionException;
import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.RegionSnapshot;
import dev.ringlock.locks.RegionSnapshot.MutexSnapshot;
import dev.ringlock.locks.RegionSnapshot.ObjectSnapshot;
import dev.ringlock.locks.SharedRegion;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ringlock reset <region-file> <name>}: makes a not-recoverable mutex free and consistent
 * again ({@link Mutex#resetNotRecoverable()}), once an operator has checked what it protects.
 *
 * <p>It looks first, read-only ({@link RegionSnapshot}): a name the region does not have is refused
 * without opening the region for writing, since {@code SharedRegion.mutex(name)} would create it;
 * so is an object of another type, or a mutex that is not in the not-recoverable state. The reset
 * itself is one CAS from the not-recoverable word, so a process that took the mutex meanwhile is
 * never overwritten.
 */
@Command(
    name = "reset",
    mixinStandardHelpOptions = true,
    description = {
      "Makes a NOT RECOVERABLE mutex free and consistent again, for every process of the region.",
      "A mutex becomes not recoverable when a process takes it over from an owner that died"
          + " holding it and releases it without markConsistent(). Check or rebuild the state it"
          + " protects first: after the reset, the next holder is told nothing.",
      "Exit 0 when it was reset; 1 when the file has no such mutex, or the mutex is not in the"
          + " not-recoverable state (nothing is changed)."
    })
final class ResetCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "<region-file>", description = "the region file")
  Path file;

  @Parameters(index = "1", paramLabel = "<name>", description = "the mutex's name")
  String name;

  @Override
  public Integer call() {
    RegionSnapshot snapshot;
    try {
      snapshot = RegionSnapshot.read(file);
    } catch (NoSuchFileException e) {
      return fail(file + ": no such file");
    } catch (InvalidRegionException | UncheckedIOException e) {
      return fail(e.getMessage());
    } catch (IOException e) {
      return fail(file + ": cannot be read: " + e.getMessage());
    }
    Optional<ObjectSnapshot> found =
        snapshot.objects().stream().filter(o -> o.name().equals(name)).findFirst();
    if (found.isEmpty()) {
      return fail(file + " has no object named '" + name + "'; nothing was changed");
    }
    if (!(found.get() instanceof MutexSnapshot mutex)) {
      return fail(
          "'" + name + "' is a " + found.get().type() + ", not a mutex; nothing was changed");
    }
    if (!mutex.notRecoverable()) {
      return fail(
          "mutex '"
              + name
              + "' is not in the not-recoverable state ("
              + (mutex.owner() == null ? "free" : "held by pid " + mutex.owner().pid())
              + "); nothing was changed");
    }
    try (SharedRegion region = SharedRegion.open(file)) {
      if (!region.mutex(name).resetNotRecoverable()) {
        return fail(
            "mutex '" + name + "' changed meanwhile (reset by another); nothing was changed");
      }
    } catch (IOException | RuntimeException e) {
      return fail(file + ": cannot be opened to reset: " + e.getMessage());
    }
    PrintWriter out = spec.commandLine().getOut();
    out.println(
        "mutex '"
            + InspectCommand.escape(name)
            + "' reset: free and consistent; the next holder is told nothing");
    out.flush();
    return 0;
  }

  private int fail(String message) {
    PrintWriter err = spec.commandLine().getErr();
    err.println("ringlock reset: " + InspectCommand.escape(message));
    err.flush();
    return Ringlock.FAILED;
  }
}
