package dev.ringlock.core;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SmokeTest {
  @Test
  void waitAndWake() throws Exception {
    try (FutexRing ring = FutexRing.open(); Arena arena = Arena.ofShared()) {
      MemorySegment seg = arena.allocate(ValueLayout.JAVA_INT);
      FutexWord word = FutexWord.of(seg, 0);
      var w = ring.wait(word, 0);
      Thread.sleep(50);
      assertFalse(w.isDone());
      assertEquals(1, ring.wake(word, 1).get(5, TimeUnit.SECONDS));
      assertTrue(w.get(5, TimeUnit.SECONDS).isWoken());
      seg.set(ValueLayout.JAVA_INT, 0, 7);
      assertTrue(ring.wait(word, 0).get(5, TimeUnit.SECONDS).isValueChanged());
      System.out.println(ring.stats());
    }
  }
}
