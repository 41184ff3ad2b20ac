package dev.ringlock.bench.cli;

import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code ringlock} command: {@code ringlock demo}, {@code ringlock inspect <region-file>} and
 * {@code ringlock reset <region-file> <name>}. Run it as {@code java
 * --enable-native-access=ALL-UNNAMED -jar bench/target/ringlock.jar}.
 *
 * <p>Exit codes: 0 success; 1 the command could not do its job (a file that is not a region, a demo
 * whose counter came out wrong), with a message on stderr; 2 bad usage; 3 inspect found damaged
 * objects (shown in its output).
 */
@Command(
    name = "ringlock",
    mixinStandardHelpOptions = true,
    versionProvider = Ringlock.Version.class,
    description = "ringlock's demo and inspection tool.",
    subcommands = {
      DemoCommand.class,
      InspectCommand.class,
      ResetCommand.class,
      CommandLine.HelpCommand.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:success",
      "1:the command failed (not a region file; a demo that found a wrong count; nothing to reset)",
      "2:bad usage",
      "3:inspect found damaged objects (shown in its output)"
    })
public final class Ringlock implements Runnable {
  /** Exit code: the command could not do its job; the message is on stderr. */
  static final int FAILED = 1;

  /** Exit code: inspect read the region and found damaged objects. */
  static final int DAMAGED = 3;

  @Spec CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line with ringlock's subcommands, writing to System.out and System.err. */
  static CommandLine commandLine() {
    return new CommandLine(new Ringlock());
  }

  /** As {@link #commandLine()}, writing to {@code out} and {@code err} (for tests). */
  static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    return commandLine().setOut(out).setErr(err);
  }

  /**
   * The command line that runs this tool again with {@code args}, as a user can paste it: there is
   * no {@code ringlock} launcher on the PATH, so it is this JVM's own java binary (the default
   * {@code java} may be older than 25) with native access and, when running from ringlock.jar,
   * {@code -jar} that jar, else this class path and main class.
   */
  static String commandLineFor(String... args) {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    Path codeSource;
    try {
      codeSource =
          Path.of(Ringlock.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException | RuntimeException e) {
      codeSource = null; // no file location (a custom class loader): fall back to the class path
    }
    return shellLine(
        launchCommand(java, codeSource, System.getProperty("java.class.path"), List.of(args)));
  }

  /** As {@link #commandLineFor}, from the parts it reads off the running JVM. */
  static List<String> launchCommand(
      String java, Path codeSource, String classPath, List<String> args) {
    List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
    if (codeSource != null
        && Files.isRegularFile(codeSource)
        && codeSource.getFileName().toString().endsWith(".jar")) {
      command.addAll(List.of("-jar", codeSource.toString()));
    } else {
      command.addAll(List.of("-cp", classPath, Ringlock.class.getName()));
    }
    command.addAll(args);
    return command;
  }

  private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

  /** {@code words} joined for a POSIX shell, single-quoting any word that needs it. */
  static String shellLine(List<String> words) {
    List<String> quoted = new ArrayList<>();
    for (String word : words) {
      quoted.add(
          SHELL_SAFE.matcher(word).matches() ? word : "'" + word.replace("'", "'\\''") + "'");
    }
    return String.join(" ", quoted);
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "Missing a command: demo or inspect (see 'ringlock help')");
  }

  /** The version of the jar, as its manifest records it. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Ringlock.class.getPackage().getImplementationVersion();
      return new String[] {"ringlock " + (version == null ? "(development build)" : version)};
    }
  }
}
