package dev.ringlock.bench.xproc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

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
    // WARMUP times its acquisitions too, into a reservoir that is thrown away, so that the JIT
    // has run every path of a timed acquisition (and Algorithm R's replacement) before MEASURE;
    // timing MEASURE only would leave them unprofiled, to be deoptimized and recompiled inside
    // the measured window. As large as MEASURE's: with 64 places, its filling branch ran only
    // before the JIT profiled offer(), which C2 then compiled as never taken, and MEASURE's
    // first 20,000 offers take it (an uncommon trap, seen in -XX:+LogCompilation).
    LatencyReservoir warmupLatencies = new LatencyReservoir(LatencyReservoir.CAPACITY, 0);
    try (ControlFile control = ControlFile.attach(Path.of(args[1]));
        ContendedLock<?> lock = variant.open(control, Path.of(args[2]))) {
      System.out.println("READY");
      control.awaitStart();
      LatencyReservoir[] reservoirs = new LatencyReservoir[ControlFile.STOP + 1];
      Arrays.fill(reservoirs, warmupLatencies);
      reservoirs[ControlFile.MEASURE] = latencies;
      long[] sections = loop(lock, control, reservoirs);
      long total = Arrays.stream(sections).sum();
      long measured = sections[ControlFile.MEASURE];
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

  /**
   * Runs sections until the driver says STOP, timing every SAMPLE_EVERY-th acquisition into the
   * reservoir of the phase it was made in.
   *
   * <p>Everything that depends on the phase is indexed by it, so the loop has no branch on it: a
   * branch never taken in WARMUP (counting a MEASURE section) was compiled by C2 as an uncommon
   * trap, and MEASURE began with a deoptimization, a spell in the interpreter and two
   * recompilations inside the measured window (bench/README.md, session 12). C's loop has no JIT to
   * pay; this one does the same work in every phase, as C's does.
   *
   * @return the sections counted in each phase (indexed by it), each in the phase seen just after
   *     it
   */
  private static <H> long[] loop(
      ContendedLock<H> lock, ControlFile control, LatencyReservoir[] reservoirs)
      throws IOException {
    long[] sections = new long[ControlFile.STOP + 1];
    int untilTimed = LatencyReservoir.SAMPLE_EVERY;
    int phase = control.phase();
    do {
      boolean timed = --untilTimed == 0;
      long before = timed ? System.nanoTime() : 0;
      H hold = lock.lock();
      if (timed) {
        reservoirs[phase].offer(System.nanoTime() - before);
        untilTimed = LatencyReservoir.SAMPLE_EVERY;
      }
      control.incrementCounter();
      lock.unlock(hold);
      phase = control.phase();
      sections[phase]++;
    } while (phase != ControlFile.STOP);
    return sections;
  }
}
