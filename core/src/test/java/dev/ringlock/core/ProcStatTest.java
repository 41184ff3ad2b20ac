package dev.ringlock.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ProcStatTest {
  private static final String TAIL =
      " 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 424242 20 21 22 23 24 25 26 27 28 29 30\n";

  @Test
  void theStartTimeIsField22CountedFromTheLastParenthesis() {
    ProcStat.Fields fields = ProcStat.Fields.parse("77 (a) b) c (d)) S" + TAIL, 77);
    assertEquals('S', fields.state());
    assertEquals(424242, fields.startTime());
  }

  @Test
  void aMalformedStatLineIsARingExceptionNotAnIndexError() {
    assertThrows(RingException.class, () -> ProcStat.Fields.parse("77 (java", 77));
    assertThrows(RingException.class, () -> ProcStat.Fields.parse("77 (java) S 1 2", 77));
    assertThrows(
        RingException.class,
        () -> ProcStat.Fields.parse("77 (java) S" + TAIL.replace("424242", "x"), 77));
  }

  @Test
  void thisProcessIsAliveWithTheStartTimeProcShows() throws Exception {
    int self = (int) ProcessHandle.current().pid();
    long startTime = ProcStat.startTimeIfAlive(self);
    String stat = Files.readString(Path.of("/proc/self/stat"));
    assertEquals(ProcStat.Fields.parse(stat, self).startTime(), startTime);
    assertTrue(ProcStat.isStillAlive(self, startTime));
  }

  @Test
  void theSamePidWithAnotherStartTimeIsAnotherProcess() {
    int self = (int) ProcessHandle.current().pid();
    long startTime = ProcStat.startTimeIfAlive(self);
    assertFalse(ProcStat.isStillAlive(self, startTime - 1), "a pid reused after the first look");
  }

  @Test
  void aProcessThatIsGoneAndAThreadThatLeadsNoProcessAreNotAlive() throws Exception {
    int deadPid = Child.deadPid();
    assertEquals(ProcStat.NOT_ALIVE, ProcStat.startTimeIfAlive(deadPid));
    int self = (int) ProcessHandle.current().pid();
    int thread;
    try (var ids = Files.list(Path.of("/proc/self/task"))) {
      thread =
          ids.map(path -> Integer.parseInt(path.getFileName().toString()))
              .filter(id -> id != self)
              .findFirst()
              .orElseThrow();
    }
    assertEquals(ProcStat.NOT_ALIVE, ProcStat.startTimeIfAlive(thread));
  }
}
