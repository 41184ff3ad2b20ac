package dev.ringlock.bench.xproc;

import java.nio.file.Path;

/**
 * One of the processes of a contended loop: {@code lock → increment the plain counter → unlock}
 * until the driver says STOP, counting the sections it saw in the MEASURE phase and timing every
 * {@link LatencyReservoir#SAMPLE_EVERY}-th acquisition of that phase, from just before {@code
 * lock()} to holding the lock, into a {@link LatencyReservoir}.
 *
 * <p>Protocol on stdout: {@code READY} once the lock is open, then after STOP {@code RESULT loop
 * variant=V total_ops=N measured_ops=M timed=T kept=K samples=a,b,...}. The driver checks that the
 * counter equals all children's total_ops and merges their samples.
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
    LatencyReservoir latencies = LatencyReservoir.forThisProcess();
    // WARMUP times its acquisitions too, into a small reservoir that is thrown away, so that the
    // JIT has run every path of a timed acquisition (and Algorithm R's replacement) before
    // MEASURE; timing MEASURE only would leave them unprofiled, to be deoptimized and recompiled
    // inside the measured window.
    LatencyReservoir warmupLatencies = new LatencyReservoir(LatencyReservoir.SAMPLE_EVERY, 0);
    try (ControlFile control = ControlFile.attach(Path.of(args[1]));
        ContendedLock lock = variant.open(control, Path.of(args[2]))) {
      System.out.println("READY");
      control.awaitStart();
      long total = 0;
      long measured = 0;
      int untilTimed = LatencyReservoir.SAMPLE_EVERY;
      int phase = control.phase();
      do {
        boolean timed = --untilTimed == 0;
        long before = timed ? System.nanoTime() : 0;
        lock.lock();
        if (timed) {
          long latency = System.nanoTime() - before;
          (phase == ControlFile.MEASURE ? latencies : warmupLatencies).offer(latency);
          untilTimed = LatencyReservoir.SAMPLE_EVERY;
        }
        control.incrementCounter();
        lock.unlock();
        total++;
        phase = control.phase(); // the section counts in the phase seen just after it
        if (phase == ControlFile.MEASURE) {
          measured++;
        }
      } while (phase != ControlFile.STOP);
      System.out.println(
          "RESULT loop variant="
              + variant
              + " total_ops="
              + total
              + " measured_ops="
              + measured
              + " "
              + latencies.sample().resultFields());
    }
  }
}
