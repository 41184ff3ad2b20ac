package dev.ringlock.bench.xproc;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The C peers: mutex_loop.c, futex_pingpong.c, mutex_handoff.c and rwlock_loop.c, packaged in the
 * jar under {@code c/}, copied out and compiled with the system gcc when the driver starts, then
 * run one measurement at a time.
 */
final class CAnchors {
  // what the programs share: anchors.h all of them, phased_workers.h the two loops
  static final List<String> HEADERS = List.of("anchors.h", "phased_workers.h");

  static final List<String> PROGRAMS =
      List.of("mutex_loop", "futex_pingpong", "mutex_handoff", "rwlock_loop");

  private final Path binaries;

  private CAnchors(Path binaries) {
    this.binaries = binaries;
  }

  /**
   * Compiles the C programs into {@code outputDirectory}, or returns empty if gcc is not on PATH.
   *
   * @throws IllegalStateException if gcc rejects a program (warnings included: -Werror)
   */
  static Optional<CAnchors> compile(Path outputDirectory) throws IOException, InterruptedException {
    Optional<Path> gcc = onPath("gcc");
    if (gcc.isEmpty()) {
      return Optional.empty();
    }
    Files.createDirectories(outputDirectory);
    for (String header : HEADERS) {
      copyOut(header, outputDirectory);
    }
    for (String program : PROGRAMS) {
      Path source = copyOut(program + ".c", outputDirectory);
      Process gccRun =
          new ProcessBuilder(
                  gcc.get().toString(),
                  "-O2",
                  "-Wall",
                  "-Wextra",
                  "-Werror",
                  "-pthread",
                  "-o",
                  outputDirectory.resolve(program).toString(),
                  source.toString())
              .redirectErrorStream(true)
              .start();
      String output = new String(gccRun.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (gccRun.waitFor() != 0) {
        throw new IllegalStateException("gcc failed on " + source + ":\n" + output);
      }
    }
    return Optional.of(new CAnchors(outputDirectory));
  }

  /** Copies {@code c/name} from the class path into {@code directory}. */
  private static Path copyOut(String name, Path directory) throws IOException {
    Path file = directory.resolve(name);
    try (InputStream packaged = CAnchors.class.getResourceAsStream("/c/" + name)) {
      if (packaged == null) {
        throw new IllegalStateException("c/" + name + " is missing from the class path");
      }
      Files.copy(packaged, file, StandardCopyOption.REPLACE_EXISTING);
    }
    return file;
  }

  private static Optional<Path> onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String directory : path.split(Pattern.quote(File.pathSeparator))) {
      if (directory.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(directory, program);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /**
   * One run of mutex_loop: {@code workers} forked workers (2 to 8), {@code robust} or {@code
   * plain}.
   *
   * @return ns per critical section, and the acquire latency merged over the workers
   * @throws IllegalStateException if the counter was not exact or the program failed
   */
  Harness.LoopResult mutexLoop(
      String variant, Path file, int workers, Duration warmup, Duration measure)
      throws InterruptedException {
    Map<String, String> fields =
        run(
            "mutex_loop",
            List.of(
                variant,
                file.toString(),
                Long.toString(warmup.toMillis()),
                Long.toString(measure.toMillis()),
                Integer.toString(workers)),
            warmup.plus(measure));
    if (!"1".equals(fields.get("counter_ok"))) {
      throw new IllegalStateException("mutex_loop " + variant + ": counter not exact: " + fields);
    }
    return Harness.LoopResult.of(
        Double.parseDouble(ResultLine.field(fields, "ns_per_cs")), LatencyReservoir.parse(fields));
  }

  /**
   * One run of rwlock_loop: {@code workers} forked workers (2 to 8) on a process-shared
   * pthread_rwlock of glibc's {@code default} or {@code prefer-writer} kind.
   *
   * @throws IllegalStateException if a read was torn, the record not exact or the program failed
   */
  Harness.ReadMostlyResult rwlockLoop(
      String variant, Path file, int workers, int readPercent, Duration warmup, Duration measure)
      throws InterruptedException {
    Map<String, String> fields =
        run(
            "rwlock_loop",
            List.of(
                variant,
                file.toString(),
                Integer.toString(readPercent),
                Long.toString(warmup.toMillis()),
                Long.toString(measure.toMillis()),
                Integer.toString(workers)),
            warmup.plus(measure));
    if (!"1".equals(fields.get("counter_ok"))) {
      throw new IllegalStateException(
          "rwlock_loop " + variant + ": torn reads or the record not exact: " + fields);
    }
    return Harness.ReadMostlyResult.parse(fields);
  }

  /** One run of futex_pingpong. */
  RoundTripStats futexPingPong(Path file, int warmup, int rounds) throws InterruptedException {
    return RoundTripStats.parse(
        run(
            "futex_pingpong",
            List.of(file.toString(), Integer.toString(warmup), Integer.toString(rounds)),
            Duration.ofSeconds(60)));
  }

  /** One run of mutex_handoff: {@code handovers} in all, the first {@code warmup} not timed. */
  RoundTripStats mutexHandoff(Path file, int warmup, int handovers) throws InterruptedException {
    return RoundTripStats.parse(
        run(
            "mutex_handoff",
            List.of(file.toString(), Integer.toString(warmup), Integer.toString(handovers)),
            Duration.ofMillis(2L * handovers)));
  }

  private Map<String, String> run(String program, List<String> args, Duration expected)
      throws InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(binaries.resolve(program).toString());
    command.addAll(args);
    try (ChildProcess child = ChildProcess.start(program, command)) {
      Duration patience = expected.plusSeconds(30);
      String line = child.awaitLine(ResultLine.PREFIX, patience);
      child.awaitSuccess(patience);
      return ResultLine.fields(line);
    }
  }
}
