package dev.ringlock.core;

/**
 * A JVM that opens a ring (on the backend the test JVM runs), gives it a pending wait and a watched
 * process so that every kind of ringlock thread sleeps in the kernel, then prints {@code HALT
 * <System.nanoTime()>} and calls {@code Runtime.halt}. System.nanoTime is CLOCK_MONOTONIC on Linux,
 * one clock for every process, so the parent can time the exit from that line.
 */
public final class HaltWithRingChild {
  private HaltWithRingChild() {}

  public static void main(String[] args) throws Exception {
    FutexRing ring = FutexRing.open();
    Words words = new Words(1);
    ring.wait(words.word(0), 0); // never woken: the ring's threads sleep until the halt
    ring.processes()
        .onExit(Math.toIntExact(ProcessHandle.current().parent().orElseThrow().pid()), () -> {});
    Thread.sleep(100); // time for every thread to reach its sleep
    System.out.println("HALT " + System.nanoTime());
    System.out.flush();
    Runtime.getRuntime().halt(0);
  }
}
