package dev.ringlock.bench.xproc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/*
 * Overview
 *
 * One of the two processes of the lock handoff ping-pong: the lock passes from one process to the
 * other and back, and each handover is timed from just before the holder's unlock to the moment
 * the waiter, blocked in lock(), holds it.
 *
 * Handovers are numbered 1..H. Process 1 takes the lock before READY; it gives it away on the odd
 * handovers and takes it back on the even ones; process 2 the reverse. Giving: sleep a
 * millisecond (a tenth of one in the WARMUP handovers) (the other process is blocked in lock() by then: it asked as soon as it saw this
 * one take the lock), store the stamp (System.nanoTime(), CLOCK_MONOTONIC: one clock for the
 * machine), unlock, then wait until the turn word names the other process, so that this one asks
 * for the lock again only once the other holds it. Taking: lock(), note now - stamp, store this
 * process in the turn word. So every handover goes to a waiter that is asleep in the lock, with
 * no barging by the process that just let go.
 *
 * On stdout: READY once process 1 holds the lock (or process 2 has the lock open); after the
 * driver moves the phase past WAITING, the handovers; then RESULT handoff samples=n,n,... (ns,
 * the handovers this process took after the first WARMUP handovers of both).
 *
 * Arguments: VARIANT CONTROL_FILE REGION_FILE 1|2 WARMUP HANDOVERS.
 */
public final class HandoffChild {
  private static final long GAP_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
  // Warm-up handovers come faster: the JIT needs thousands of them before the contended path is
  // compiled (measured: p50 139 us after 200 warm-up handovers, 45 us after 6,000), and a
  // millisecond each would make that take too long. A tenth of a millisecond still lets the
  // waiter fall asleep in the kernel, so the same code runs.
  static final long WARMUP_GAP_NANOS = TimeUnit.MICROSECONDS.toNanos(100);

  private HandoffChild() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 6
        || !(args[3].equals("1") || args[3].equals("2"))
        || Integer.parseInt(args[5]) < 1) {
      throw new IllegalArgumentException(
          "usage: HandoffChild VARIANT CONTROL_FILE REGION_FILE 1|2 WARMUP HANDOVERS (>= 1)");
    }
    LoopVariant variant = LoopVariant.valueOf(args[0]);
    int me = Integer.parseInt(args[3]);
    int warmup = Integer.parseInt(args[4]);
    int handovers = Integer.parseInt(args[5]);
    long[] samples = new long[handovers];
    int taken;
    try (ControlFile control = ControlFile.attach(Path.of(args[1]));
        ContendedLock<?> lock = variant.open(control, Path.of(args[2]))) {
      taken = hand(lock, control, me, warmup, samples);
    }
    System.out.println(
        "RESULT handoff samples=" + ResultLine.samples(java.util.Arrays.copyOf(samples, taken), 0));
  }

  /**
   * This process's part of the handovers; the lock's hold stays in a local between taking and
   * handing over (ContendedLock says why).
   *
   * @return how many latencies it put in {@code samples} (its measured handovers)
   */
  private static <H> int hand(
      ContendedLock<H> lock, ControlFile control, int me, int warmup, long[] samples)
      throws IOException {
    int handovers = samples.length;
    int taken = 0;
    H hold = null;
    if (me == 1) {
      hold = lock.lock();
      control.setTurn(1);
    }
    System.out.println("READY");
    control.awaitStart();
    for (int handover = 1; handover <= handovers; handover++) {
      if (!takes(me, handover)) {
        LockSupport.parkNanos(handover <= warmup ? WARMUP_GAP_NANOS : GAP_NANOS);
        control.setStamp(System.nanoTime());
        lock.unlock(hold);
        while (control.turn() == me) {
          LockSupport.parkNanos(10_000);
        }
      } else {
        hold = lock.lock(); // the first time: process 1 held it before READY, so this one waits
        long latency = System.nanoTime() - control.stamp();
        control.setTurn(me);
        if (handover > warmup) {
          samples[taken++] = latency;
        }
      }
    }
    if (takes(me, handovers)) {
      lock.unlock(hold); // this process took the last handover
    }
    return taken;
  }

  /** Whether process {@code me} (1 or 2) is the one that takes the lock on {@code handover}. */
  static boolean takes(int me, int handover) {
    return (handover % 2 == 0) == (me == 1);
  }

  /** How many of handovers WARMUP+1..HANDOVERS process {@code me} takes: its sample count. */
  static int measuredTakes(int me, int warmup, int handovers) {
    int count = 0;
    for (int handover = warmup + 1; handover <= handovers; handover++) {
      count += takes(me, handover) ? 1 : 0;
    }
    return count;
  }
}
