package dev.ringlock.bench.xproc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class ChildProcessTest {
  /**
   * Killing a child closes its output pipe under the reader thread, which then fails with "Stream
   * closed": that is the end of a child we killed, not an error to show (demo --kill-one printed it
   * as a line of the killed worker). A child that never stops printing keeps the reader inside a
   * read when the kill comes.
   */
  @Test
  void aChildWeKillEndsItsOutputWithoutAReadFailureLine() throws Exception {
    for (int round = 0; round < 20; round++) {
      ChildProcess child = ChildProcess.start("yes", List.of("yes", "line"));
      assertEquals("line", child.awaitLine("", Duration.ofSeconds(10)));
      child.kill();
      List<String> rest = new ArrayList<>();
      IllegalStateException end =
          assertThrows(
              IllegalStateException.class,
              () -> {
                for (; ; ) {
                  rest.add(child.awaitLine("", Duration.ofSeconds(10)));
                }
              });
      assertTrue(end.getMessage().contains("ended its output"), end.getMessage());
      assertTrue(rest.stream().allMatch("line"::equals), () -> "round " + distinct(rest));
      assertFalse(child.isAlive());
    }
  }

  private static List<String> distinct(List<String> lines) {
    return lines.stream().distinct().toList();
  }
}
