package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.testsupport.Child;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
      try (Child child =
          Child.jvm(
                  ConditionPingPong.class,
                  regionFile.toString(),
                  go.toString(),
                  "1",
                  Integer.toString(TURNS))
              .logTo(log)
              .start()) {
        Files.createFile(go);
        ConditionPingPong.play(region, counter, 0, TURNS);
        child.awaitSuccess(Duration.ofSeconds(60));
        assertEquals(2L * TURNS, counter.get(ValueLayout.JAVA_LONG, 0));
        assertEquals(0, region.condition("ping-pong-turn").waiting());
      }
    }
  }
}
