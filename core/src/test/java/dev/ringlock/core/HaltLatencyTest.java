package dev.ringlock.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A JVM that halts with a ring open exits about as fast as one without: HotSpot's exit waits up to
 * 300 ms for threads in native code, and no ringlock thread stays in a system call longer than a
 * tick (NativeWaitTick). Runs on the backend of the test JVM, so once per backend.
 */
@Timeout(120)
class HaltLatencyTest {
  private static final int HALTS = 3;

  @Test
  void aJvmHaltingWithARingOpenExitsWithoutWaitingForTheRingsThreads() throws Exception {
    long[] millis = new long[HALTS];
    for (int i = 0; i < HALTS; i++) {
      try (Child child = Child.jvm(HaltWithRingChild.class).captureStdout().start()) {
        String line = child.expect("HALT ");
        long haltedAt = Long.parseLong(line.substring("HALT ".length()).trim());
        assertTrue(child.process().waitFor(30, TimeUnit.SECONDS), "the child did not exit");
        long exitedAt = System.nanoTime();
        assertEquals(0, child.process().exitValue(), child.output());
        millis[i] = TimeUnit.NANOSECONDS.toMillis(exitedAt - haltedAt);
      }
    }
    long[] sorted = millis.clone();
    Arrays.sort(sorted);
    long median = sorted[HALTS / 2];
    // Without the tick no halt can take less than 300 ms: HotSpot's wait for threads in native
    // code ends on a wall-clock deadline, and the ring's threads never leave the kernel. With it a
    // halt takes about as long as without a ring (6 to 35 ms on an idle machine, 165 ms median at
    // a load average of 20 here), so 250 ms leaves a loaded machine the most room that still
    // tells the two apart.
    assertTrue(
        median < Duration.ofMillis(250).toMillis(),
        "halts took " + Arrays.toString(millis) + " ms, median " + median + " ms");
  }
}
