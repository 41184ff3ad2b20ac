package dev.ringlock.core;

import dev.ringlock.testsupport.Child;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Run under a seccomp filter that refuses pidfd_open (Child.Builder#refusing): checks that
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
      Child sleeper = Child.program("sleep", "60").start();
      int pid = sleeper.intPid();
      check(processes.isAlive(pid), "a running process is alive");
      check(ProcessWatch.isAliveNow(pid), "and alive to the one-shot probe");
      CountDownLatch exited = new CountDownLatch(1);
      ProcessWatch.Subscription watch = processes.onExit(pid, exited::countDown);
      check(watch != null, "a running process can be watched");
      check(processes.watchedProcesses() == 1, "it has an entry");
      Thread.sleep(3 * ProcessWatch.PROC_POLL_MILLIS);
      check(exited.getCount() == 1, "its listener has not run while it runs");
      long killedAt = System.nanoTime();
      sleeper.kill();
      check(exited.await(10, TimeUnit.SECONDS), "its exit ran the listener");
      System.out.println(
          "exit noticed "
              + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt)
              + " ms after SIGKILL");
      check(!processes.isAlive(pid), "an exited process is not alive");
      check(processes.watchedProcesses() == 0, "its entry is gone");

      Child other = Child.program("sleep", "60").start();
      ProcessWatch.Subscription cancelled = processes.onExit(other.intPid(), () -> {});
      cancelled.cancel();
      check(processes.watchedProcesses() == 0, "a cancelled watch leaves no entry");
      other.kill();

      Child fourth = Child.program("sleep", "60").start();
      java.util.concurrent.CompletableFuture<Void> exit = ring.onProcessExit(fourth.intPid());
      check(!exit.isDone(), "the ring's onProcessExit works without pidfd_open");
      fourth.kill();
      exit.get(10, TimeUnit.SECONDS);
      check(exit.isDone(), "and completes at the exit");

      // A zombie: the shell's background child exits and is never reaped.
      try (Child parent =
          Child.program("sh", "-c", "sleep 0.1 & echo $!; exec sleep 30").captureOutput().start()) {
        int zombie = Integer.parseInt(parent.expect("").trim());
        Thread.sleep(1_000);
        check(ProcessHandle.of(zombie).isPresent(), "the zombie's pid still exists");
        check(!processes.isAlive(zombie), "a zombie is not alive");
        check(processes.onExit(zombie, () -> {}) == null, "a zombie cannot be watched");
      }
    }
    FutexRing closed = FutexRing.open();
    closed.close();
    Child third = Child.program("sleep", "60").start();
    closed.processes().onExit(third.intPid(), () -> {});
    check(closed.processes().watchedProcesses() == 0, "a closed ring keeps no /proc entry");
    check(closed.processes().isAlive(third.intPid()), "and still answers, by probing");
    third.kill();
    System.exit(failed ? 1 : 0);
  }

  private static void check(boolean holds, String what) {
    System.out.println((holds ? "OK   " : "FAIL ") + what);
    failed |= !holds;
  }
}
