package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.memory.MappedRegion;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A condition variable signalled across processes: this JVM and a child take strict turns. */
@Timeout(120)
class ConditionVariableCrossProcessTest {
  private static final int TURNS = 500;

  @TempDir Path directory;

  @Test
  void twoProcessesTakeTurnsThroughOneCondition() throws Exception {
    Path regionFile = directory.resolve("region");
    Path go = directory.resolve("go");
    Path log = directory.resolve("child.log");
    try (SharedRegion region = SharedRegion.open(regionFile);
        MappedRegion raw =
            MappedRegion.open(
                regionFile, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      MemorySegment counter = MutexWorker.counterOf(raw);
      Process child =
          ChildJvm.start(
              log,
              ConditionPingPong.class,
              regionFile.toString(),
              go.toString(),
              "1",
              Integer.toString(TURNS));
      try {
        Files.createFile(go);
        ConditionPingPong.play(region, counter, 0, TURNS);
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child did not finish");
        assertEquals(0, child.exitValue(), Files.readString(log));
        assertEquals(2L * TURNS, counter.get(ValueLayout.JAVA_LONG, 0));
        assertEquals(0, region.condition("ping-pong-turn").waiting());
      } finally {
        child.destroyForcibly();
      }
    }
  }
}
