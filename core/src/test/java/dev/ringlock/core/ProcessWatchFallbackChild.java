package dev.ringlock.core;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Run under a seccomp filter that refuses pidfd_open (SeccompChild refuse ...): checks that
 * ProcessWatch still sees processes exit, through /proc. Prints one line per finding; exits 0 if
 * every check held, 1 otherwise.
 */
public final class ProcessWatchFallbackChild {
  private static boolean failed;

  private ProcessWatchFallbackChild() {}

  public static void main(String[] args) throws Exception {
    ProcessWatch.requireExitDetection(); // refused pidfd_open, readable /proc: no exception
    check(ProcessWatch.watchesByProc(), "pidfd_open is refused, so /proc is read instead");
    try (FutexRing ring = FutexRing.open()) {
      ProcessWatch processes = ring.processes();
      Process sleeper = new ProcessBuilder("sleep", "60").start();
      int pid = (int) sleeper.pid();
      check(processes.isAlive(pid), "a running process is alive");
      check(ProcessWatch.isAliveNow(pid), "and alive to the one-shot probe");
      CountDownLatch exited = new CountDownLatch(1);
      ProcessWatch.Subscription watch = processes.onExit(pid, exited::countDown);
      check(watch != null, "a running process can be watched");
      check(processes.watchedProcesses() == 1, "it has an entry");
      Thread.sleep(3 * ProcessWatch.PROC_POLL_MILLIS);
      check(exited.getCount() == 1, "its listener has not run while it runs");
      long killedAt = System.nanoTime();
      sleeper.destroyForcibly();
      check(exited.await(10, TimeUnit.SECONDS), "its exit ran the listener");
      System.out.println(
          "exit noticed "
              + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt)
              + " ms after SIGKILL");
      check(!processes.isAlive(pid), "an exited process is not alive");
      check(processes.watchedProcesses() == 0, "its entry is gone");

      Process other = new ProcessBuilder("sleep", "60").start();
      ProcessWatch.Subscription cancelled = processes.onExit((int) other.pid(), () -> {});
      cancelled.cancel();
      check(processes.watchedProcesses() == 0, "a cancelled watch leaves no entry");
      other.destroyForcibly();

      Process fourth = new ProcessBuilder("sleep", "60").start();
      java.util.concurrent.CompletableFuture<Void> exit = ring.onProcessExit((int) fourth.pid());
      check(!exit.isDone(), "the ring's onProcessExit works without pidfd_open");
      fourth.destroyForcibly();
      exit.get(10, TimeUnit.SECONDS);
      check(exit.isDone(), "and completes at the exit");

      // A zombie: the shell's background child exits and is never reaped.
      Process parent =
          new ProcessBuilder("sh", "-c", "sleep 0.1 & echo $!; exec sleep 30")
              .redirectErrorStream(true)
              .start();
      int zombie =
          Integer.parseInt(
              new BufferedReader(
                      new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8))
                  .readLine()
                  .trim());
      Thread.sleep(1_000);
      check(ProcessHandle.of(zombie).isPresent(), "the zombie's pid still exists");
      check(!processes.isAlive(zombie), "a zombie is not alive");
      check(processes.onExit(zombie, () -> {}) == null, "a zombie cannot be watched");
      parent.destroyForcibly();
    }
    FutexRing closed = FutexRing.open();
    closed.close();
    Process third = new ProcessBuilder("sleep", "60").start();
    closed.processes().onExit((int) third.pid(), () -> {});
    check(closed.processes().watchedProcesses() == 0, "a closed ring keeps no /proc entry");
    check(closed.processes().isAlive((int) third.pid()), "and still answers, by probing");
    third.destroyForcibly();
    System.exit(failed ? 1 : 0);
  }

  private static void check(boolean holds, String what) {
    System.out.println((holds ? "OK   " : "FAIL ") + what);
    failed |= !holds;
  }
}
