package dev.ringlock.bench.cli;

import dev.ringlock.core.InvalidRegionException;
import dev.ringlock.locks.RegionReport;
import dev.ringlock.locks.RegionSnapshot.Counters;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ringlock inspect <region-file>}: what every named object of a region is doing. */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
      "Lists every named object of a region file with its type and state: mutexes (held or"
          + " free, owner pid and whether it is alive, consistency, last fence), semaphores"
          + " (permits, holders), wait queues and condition variables (waiting, capacity, per"
          + " process).",
      "Under each object, its counters (totals over every process since the file was created:"
          + " acquisitions, contended ones and their mean wait, takeovers); with --watch, also"
          + " their rates over the last interval. --json carries the totals (counters).",
      "The file is opened and mapped read-only: inspect never changes it, takes no lock and"
          + " needs no io_uring. It refuses a symbolic link or a non-regular file (without"
          + " blocking on a FIFO), but inspects a file whose owner or mode open refuses, with a"
          + " warning line; it also warns of processes still mapping a deleted or replaced"
          + " earlier file of the path (fileWarnings in --json; the exit status is unchanged)."
    })
final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "<region-file>", description = "the region file")
  Path file;

  @Option(
      names = "--json",
      description = "one JSON document per snapshot, on one line, for scripts")
  boolean json;

  @Option(
      names = "--watch",
      description = "refresh every --interval until interrupted (or --count snapshots)")
  boolean watch;

  @Option(
      names = "--interval",
      paramLabel = "<ms>",
      defaultValue = "1000",
      description = "milliseconds between --watch snapshots (default: ${DEFAULT-VALUE})")
  long intervalMillis;

  @Option(
      names = "--count",
      paramLabel = "<n>",
      description = "with --watch: stop after n snapshots (default: until interrupted)")
  Integer count;

  // --watch: the previous snapshot's objects, by type and name, and when it was read
  private Map<String, RegionReport.ObjectReport> previous;
  private long previousAt;

  @Override
  public Integer call() throws InterruptedException {
    if (intervalMillis < 50) {
      throw new ParameterException(
          spec.commandLine(), "--interval must be at least 50 ms, not " + intervalMillis);
    }
    if (count != null && (count < 1 || !watch)) {
      throw new ParameterException(
          spec.commandLine(), "--count needs --watch and a positive number, not " + count);
    }
    PrintWriter out = spec.commandLine().getOut();
    long snapshots = !watch ? 1 : count == null ? Long.MAX_VALUE : count;
    boolean clearScreen = watch && !json && System.console() != null;
    int status = 0;
    for (long i = 0; i < snapshots; i++) {
      if (i > 0) {
        Thread.sleep(intervalMillis);
      }
      RegionReport snapshot;
      long readAt;
      try {
        readAt = System.nanoTime();
        snapshot = RegionReport.read(file);
      } catch (NoSuchFileException e) {
        return fail(file + ": no such file", Ringlock.FAILED);
      } catch (InvalidRegionException e) {
        return fail(e.getMessage(), exitCodeFor(e));
      } catch (UncheckedIOException e) {
        // a directory found corrupt after the header's checks
        return fail(
            e.getMessage(),
            e.getCause() instanceof InvalidRegionException invalid
                ? exitCodeFor(invalid)
                : Ringlock.FAILED);
      } catch (IOException e) {
        return fail(file + ": cannot be read: " + e.getMessage(), Ringlock.FAILED);
      }
      if (json) {
        out.println(Json.write(snapshot.toJson()));
      } else {
        if (clearScreen) {
          out.print("\033[H\033[2J");
        } else if (i > 0) {
          out.println();
        }
        printText(snapshot, out, readAt);
      }
      previous = new HashMap<>();
      for (RegionReport.ObjectReport object : snapshot.objects()) {
        previous.put(key(object), object);
      }
      previousAt = readAt;
      out.flush();
      status = snapshot.hasProblems() ? Ringlock.DAMAGED : 0;
    }
    return status;
  }

  private int fail(String message, int exitCode) {
    PrintWriter err = spec.commandLine().getErr();
    err.println("ringlock inspect: " + escape(message));
    err.flush();
    return exitCode;
  }

  /**
   * A ringlock region whose header or directory is damaged is a damage like any object's: exit 3,
   * as for every value the library refuses. A file that is no region of this version (another file,
   * a newer layout, another PID namespace) is a failure to inspect: exit 1.
   */
  private static int exitCodeFor(InvalidRegionException e) {
    return switch (e.problem()) {
      case CORRUPT, TRUNCATED, DIRECTORY_OUT_OF_BOUNDS -> Ringlock.DAMAGED;
      default -> Ringlock.FAILED; // another file, a newer layout, another PID namespace...
    };
  }

  /**
   * Text as one line of the table: control characters (a newline in an object's name would forge a
   * row; an escape sequence would rewrite the terminal) and backslashes become escapes, so every
   * name reads back unambiguously. JSON output escapes on its own.
   */
  static String escape(String text) {
    StringBuilder escaped = new StringBuilder(text.length());
    text.codePoints()
        .forEach(
            c -> {
              if (c == '\\') {
                escaped.append("\\\\");
              } else if (c == '\n') {
                escaped.append("\\n");
              } else if (c == '\t') {
                escaped.append("\\t");
              } else if (c == '\r') {
                escaped.append("\\r");
              } else if (Character.isISOControl(c)
                  || Character.getType(c) == Character.FORMAT
                  || c == 0x2028
                  || c == 0x2029) {
                escaped.append(c <= 0xFFFF ? "\\u%04x".formatted(c) : "\\U%08x".formatted(c));
              } else {
                escaped.appendCodePoint(c);
              }
            });
    return escaped.toString();
  }

  private static String key(RegionReport.ObjectReport object) {
    return object.type() + "\0" + object.name();
  }

  /**
   * The rates of {@code now}'s counters since {@code before}'s, {@code seconds} earlier: per second
   * for acquisitions and contended ones, the mean wait of the contended ones of the interval, and
   * the takeovers in it. A counter that went down (the file was recreated, or damaged) is shown as
   * "?": the values are only shown, never trusted.
   */
  static String ratesLine(Counters now, Counters before, double seconds, String type) {
    long acquired = now.acquisitions() - before.acquisitions();
    long contended = now.contended() - before.contended();
    long waited = now.waitNanos() - before.waitNanos();
    long takeovers = now.takeovers() - before.takeovers();
    String waits = type.endsWith("queue") || type.startsWith("condition") ? "woken" : "contended";
    StringBuilder line =
        new StringBuilder("rates: ")
            .append(perSecond(acquired, seconds))
            .append(" ")
            .append(type.endsWith("queue") || type.startsWith("condition") ? "waits" : "acq")
            .append("/s, ")
            .append(perSecond(contended, seconds))
            .append(" ")
            .append(waits)
            .append("/s");
    if (contended > 0 && waited >= 0) {
      line.append(" (mean wait ").append(RegionReport.duration(waited / contended)).append(")");
    }
    line.append(", ").append(takeovers < 0 ? "?" : "+" + takeovers).append(" takeovers");
    return line.toString();
  }

  private static String perSecond(long delta, double seconds) {
    return delta < 0 || seconds <= 0 ? "?" : "%,.1f".formatted(delta / seconds);
  }

  private void printText(RegionReport snapshot, PrintWriter out, long readAt) {
    out.printf(
        "%s: layout version %d, %,d bytes, %d of %d objects%s%n",
        escape(snapshot.file().toString()),
        snapshot.layoutVersion(),
        snapshot.size(),
        snapshot.objects().size(),
        snapshot.capacity(),
        watch ? " (" + LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + ")" : "");
    for (String warning : snapshot.fileWarnings()) {
      out.println("  warning: " + warning);
    }
    int nameWidth = 4;
    int typeWidth = 4;
    for (RegionReport.ObjectReport object : snapshot.objects()) {
      nameWidth = Math.max(nameWidth, escape(object.name()).length());
      typeWidth = Math.max(typeWidth, object.type().length());
    }
    if (snapshot.objects().isEmpty()) {
      out.println("  (no objects yet)");
      return;
    }
    String row = "  %-" + typeWidth + "s  %-" + nameWidth + "s  %s%n";
    out.printf(row, "TYPE", "NAME", "STATE");
    double seconds = (readAt - previousAt) / 1e9;
    for (RegionReport.ObjectReport object : snapshot.objects()) {
      out.printf(row, object.type(), escape(object.name()), escape(object.summary()));
      if (object.counters() == null) {
        continue;
      }
      out.printf(row, "", "", "totals: " + object.countersLine());
      RegionReport.ObjectReport before = previous == null ? null : previous.get(key(object));
      if (before != null && before.counters() != null) {
        out.printf(
            row, "", "", ratesLine(object.counters(), before.counters(), seconds, object.type()));
      }
    }
  }
}
