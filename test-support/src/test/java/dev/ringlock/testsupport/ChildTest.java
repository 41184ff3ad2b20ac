package dev.ringlock.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What the tests of every module rely on when they start a child process. */
@Timeout(120)
class ChildTest {
  private static final Duration EXIT = Duration.ofSeconds(60);
  private static final int EPERM = 1;

  @TempDir Path directory;

  @Test
  void aChildJvmRunsOnTheBackendTheTestJvmWasGiven() throws Exception {
    String before = System.getProperty(Child.BACKEND_PROPERTY);
    System.setProperty(Child.BACKEND_PROPERTY, "syscalls");
    try (Child child = Child.jvm(EchoChild.class).captureOutput().start()) {
      assertEquals("BACKEND syscalls", child.expect("BACKEND"));
    } finally {
      if (before == null) {
        System.clearProperty(Child.BACKEND_PROPERTY);
      } else {
        System.setProperty(Child.BACKEND_PROPERTY, before);
      }
    }
  }

  @Test
  void aBackendNamedForTheChildReplacesTheInheritedOne() throws Exception {
    try (Child child =
        Child.jvm(EchoChild.class)
            .systemProperty(Child.BACKEND_PROPERTY, "io_uring")
            .captureOutput()
            .start()) {
      assertEquals("BACKEND io_uring", child.expect("BACKEND"));
      long backends =
          Child.jvm(EchoChild.class)
              .systemProperty(Child.BACKEND_PROPERTY, "io_uring")
              .command()
              .stream()
              .filter(word -> word.startsWith("-D" + Child.BACKEND_PROPERTY))
              .count();
      assertEquals(1, backends, "one -D for the backend, whatever the test JVM has");
    }
  }

  @Test
  void aChildJvmStartsWithC1AndTheSerialCollectorUnlessItAsksForTheFullJvm() throws Exception {
    try (Child quick = Child.jvm(EchoChild.class).captureOutput().start();
        Child full = Child.jvm(EchoChild.class).fullJvm().captureOutput().start()) {
      quick.send("VM");
      full.send("VM");
      assertEquals("VM 1 Copy,MarkSweepCompact", quick.expect("VM"));
      String fullVm = full.expect("VM");
      assertTrue(fullVm.startsWith("VM 4 G1 "), fullVm);
    }
    List<String> command =
        Child.jvm(EchoChild.class).jvmOptions("-XX:TieredStopAtLevel=4").command();
    assertTrue(
        command.indexOf("-XX:TieredStopAtLevel=1") < command.indexOf("-XX:TieredStopAtLevel=4"),
        "a test's own options come after the quick-start ones, so they win: " + command);
  }

  @Test
  void aConversationSendsLinesAndExpectsTheirAnswersSkippingOthers() throws Exception {
    try (Child child = Child.jvm(EchoChild.class).captureOutput().start()) {
      child.send("ECHO one");
      child.send("ECHO two");
      assertEquals("GOT two", child.expect("GOT t"), "GOT one is skipped");
      child.send("EXIT 3");
      assertEquals(3, child.awaitExit(EXIT));
      assertTrue(child.seen().containsAll(List.of("GOT one", "GOT two")), child.output());
    }
  }

  /** A logging child (its stdin /dev/null) prints BACKEND and exits: one JVM for both cases. */
  @Test
  void awaitStartedReadsTheLogOfALoggingChildAndFailsAtOnceWhenItExitedWithoutTheLine(
      @TempDir Path directory) throws Exception {
    try (Child child = Child.jvm(EchoChild.class).logTo(directory.resolve("echo.log")).start()) {
      assertTrue(child.awaitStarted("BACKEND").startsWith("BACKEND "), child.log());
      long start = System.nanoTime();
      AssertionError failure =
          assertThrows(AssertionError.class, () -> child.awaitStarted("NEVER"));
      assertTrue(
          System.nanoTime() - start < Child.STARTUP_TIMEOUT.toNanos() / 2,
          "it waited for the start-up bound");
      assertTrue(failure.getMessage().contains("BACKEND"), "it shows what the child logged");
    }
  }

  @Test
  void expectFailsAtOnceWhenTheOutputEndsWithoutTheLine() throws Exception {
    try (Child child = Child.jvm(EchoChild.class).captureOutput().start()) {
      child.send("EXIT 0");
      long start = System.nanoTime();
      AssertionError failure =
          assertThrows(AssertionError.class, () -> child.expect("NEVER", Duration.ofSeconds(50)));
      assertTrue(System.nanoTime() - start < Duration.ofSeconds(40).toNanos(), "it waited on");
      assertTrue(failure.getMessage().contains("BACKEND"), "it shows what the child printed");
    }
  }

  @Test
  void capturingStdoutOnlySendsStderrToTheLog() throws Exception {
    Path log = directory.resolve("child.log");
    try (Child child = Child.jvm(EchoChild.class).logTo(log).captureStdout().start()) {
      child.send("ERR to the log");
      child.send("ECHO to the test");
      child.send("EXIT 0");
      child.awaitSuccess(EXIT);
      String inherited = System.getProperty(Child.BACKEND_PROPERTY, "none");
      assertEquals(List.of("BACKEND " + inherited, "GOT to the test"), child.seen());
      assertTrue(child.log().contains("to the log"), child.log());
    }
  }

  @Test
  void anUncapturedChildWritesStdoutAndStderrToItsLog() throws Exception {
    Path log = directory.resolve("program.log");
    Files.writeString(log, "an earlier run\n");
    try (Child child = Child.program("sh", "-c", "echo out; echo err >&2").logTo(log).start()) {
      child.awaitSuccess(EXIT);
      assertEquals(List.of("out", "err"), child.log().lines().sorted().toList().reversed());
      assertThrows(IllegalStateException.class, () -> child.send("no stdin"));
    }
  }

  @Test
  void closeKillsARunningChildAndWhatItStarted() throws Exception {
    Child child = Child.program("sh", "-c", "sleep 60 & echo $!; wait").captureOutput().start();
    long grandchild = Long.parseLong(child.expect(""));
    assertTrue(ProcessHandle.of(grandchild).map(ProcessHandle::isAlive).orElse(false));
    child.close();
    assertFalse(child.isAlive());
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (ProcessHandle.of(grandchild).map(ProcessHandle::isAlive).orElse(false)) {
      assertTrue(System.nanoTime() < deadline, "the child's own child survived close()");
      Thread.sleep(10);
    }
  }

  @Test
  void aStoppedChildRunsNoMoreUntilResumed() throws Exception {
    try (Child child = Child.jvm(EchoChild.class).captureOutput().start()) {
      child.expect("BACKEND");
      child.stop();
      awaitState(child.pid(), 'T');
      child.send("ECHO while stopped");
      Thread.sleep(300);
      assertFalse(child.seen().contains("GOT while stopped"), "a stopped child answered");
      child.resume();
      assertEquals("GOT while stopped", child.expect("GOT"));
    }
  }

  @Test
  void aStoppedChildIsKilled() throws Exception {
    Child child = Child.jvm(EchoChild.class).captureOutput().start();
    child.expect("BACKEND");
    child.stop();
    awaitState(child.pid(), 'T');
    child.kill();
    assertFalse(child.isAlive());
    child.close();
  }

  @Test
  void aRefusedSystemCallFailsWithTheErrnoTheFilterAnswers() throws Exception {
    try (Child free = Child.jvm(PidfdOpenChild.class).captureOutput().start();
        Child refused =
            Child.jvm(PidfdOpenChild.class)
                .refusing(EPERM, SeccompFilter.SYS_PIDFD_OPEN)
                .captureOutput()
                .start()) {
      assertEquals("ERRNO 0", free.expect("ERRNO"));
      assertEquals("ERRNO " + EPERM, refused.expect("ERRNO"));
      refused.awaitSuccess(EXIT);
    }
  }

  @Test
  void aFileLimitAppliesToTheChild() throws Exception {
    try (Child child =
        Child.program("sh", "-c", "ulimit -n").fileLimit(64).captureOutput().start()) {
      assertEquals("64", child.expect(""));
      assertEquals(0, child.awaitExit(EXIT));
    }
  }

  @Test
  void runReturnsTheOutputOfAProgramThatSucceedsAndFailsOnAnyOtherExit() throws Exception {
    assertEquals("hello", Child.program("echo", "hello").run(EXIT));
    AssertionError failure =
        assertThrows(
            AssertionError.class, () -> Child.program("sh", "-c", "echo why; exit 5").run(EXIT));
    assertTrue(failure.getMessage().contains("exited 5"), failure.getMessage());
    assertTrue(failure.getMessage().contains("why"), failure.getMessage());
  }

  @Test
  void aDeadPidNamesNoProcess() throws Exception {
    int pid = Child.deadPid();
    assertTrue(pid > 0);
    assertFalse(ProcessHandle.of(pid).isPresent());
  }

  @Test
  void optionsThatNeedAJvmAreRefusedForAProgram() {
    Child.Builder program = Child.program("true");
    assertThrows(IllegalStateException.class, () -> program.jvmOptions("-Xint"));
    assertThrows(IllegalStateException.class, () -> program.refusing(EPERM, 434));
  }

  /** Waits until /proc/pid/stat shows {@code state} for the process and every thread. */
  private static void awaitState(long pid, char state) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!allThreadsIn(pid, state)) {
      assertTrue(System.nanoTime() < deadline, "pid " + pid + " never reached state " + state);
      Thread.sleep(10);
    }
  }

  private static boolean allThreadsIn(long pid, char state) throws Exception {
    try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      return tasks.allMatch(
          task -> {
            try {
              String stat = Files.readString(task.resolve("stat"));
              return stat.charAt(stat.lastIndexOf(')') + 2) == state;
            } catch (Exception gone) {
              return true; // a thread that exited meanwhile runs nothing
            }
          });
    }
  }
}
