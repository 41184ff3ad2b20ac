package dev.ringlock.bench.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code ringlock} command: {@code ringlock demo} and {@code ringlock inspect <region-file>}.
 * Run it as {@code java --enable-native-access=ALL-UNNAMED -jar bench/target/ringlock.jar}.
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
    subcommands = {DemoCommand.class, InspectCommand.class, CommandLine.HelpCommand.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:success",
      "1:the command failed (not a region file; a demo that found a wrong count)",
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
