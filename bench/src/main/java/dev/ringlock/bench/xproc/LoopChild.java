package dev.ringlock.bench.xproc;

import java.nio.file.Path;

/**
 * One of the two processes of a contended loop: {@code lock → increment the plain counter → unlock}
 * until the driver says STOP, counting the sections it saw in the MEASURE phase.
 *
 * <p>Protocol on stdout: {@code READY} once the lock is open, then after STOP {@code RESULT loop
 * variant=V total_ops=N measured_ops=M}. The driver checks that the counter equals both children's
 * total_ops.
 *
 * <p>Arguments: {@code VARIANT CONTROL_FILE REGION_FILE}.
 */
public final class LoopChild {
  private LoopChild() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      throw new IllegalArgumentException("usage: LoopChild VARIANT CONTROL_FILE REGION_FILE");
    }
    LoopVariant variant = LoopVariant.valueOf(args[0]);
    try (ControlFile control = ControlFile.attach(Path.of(args[1]));
        ContendedLock lock = variant.open(control, Path.of(args[2]))) {
      System.out.println("READY");
      control.awaitStart();
      long total = 0;
      long measured = 0;
      int phase;
      do {
        lock.lock();
        control.incrementCounter();
        lock.unlock();
        total++;
        phase = control.phase(); // the section counts in the phase seen just after it
        if (phase == ControlFile.MEASURE) {
          measured++;
        }
      } while (phase != ControlFile.STOP);
      System.out.println(
          "RESULT loop variant=" + variant + " total_ops=" + total + " measured_ops=" + measured);
    }
  }
}
