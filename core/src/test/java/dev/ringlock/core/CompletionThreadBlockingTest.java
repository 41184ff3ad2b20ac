package dev.ringlock.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.OnCompletionThread;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blocking on the completion thread is detected: join()/get() there of a future the ring has yet to
 * complete throws at once, and user code that holds the thread past the threshold is reported (a
 * WARNING with its stack, a JFR event), once per stall. On the backend -Dringlock.backend chooses:
 * CI runs this class once per backend.
 */
@Timeout(60)
class CompletionThreadBlockingTest {
  private static final String EVENT = "dev.ringlock.BlockedCompletionThread";

  private final Words words = new Words(8);
  // a strong reference: java.util.logging holds loggers weakly, and would drop the handler
  private final Logger ringLogger = Logger.getLogger(FutexRing.class.getName());
  private final List<LogRecord> warnings = new CopyOnWriteArrayList<>();
  private final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord record) {
          if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
            warnings.add(record);
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  private boolean parentHandlers;

  /** Captures the ring's log records, and keeps the expected warnings out of the build's log. */
  @BeforeEach
  void captureTheRingsLog() {
    parentHandlers = ringLogger.getUseParentHandlers();
    ringLogger.setUseParentHandlers(false);
    ringLogger.addHandler(capture);
  }

  @AfterEach
  void stopCapturing() {
    ringLogger.removeHandler(capture);
    ringLogger.setUseParentHandlers(parentHandlers);
  }

  /** Runs {@code body} as the continuation of a wait on {@code ring}, on its completion thread. */
  private <T> T onCompletionThread(FutexRing ring, int triggerIndex, Supplier<T> body)
      throws Exception {
    return onCompletionThread(ring, triggerIndex, body, () -> {});
  }

  /**
   * As {@link #onCompletionThread(FutexRing, int, Supplier)}; if {@code body} is still blocked
   * after 10 s (its blocking call was not refused), runs {@code unblock} so that the ring can
   * close, and fails.
   */
  private <T> T onCompletionThread(
      FutexRing ring, int triggerIndex, Supplier<T> body, Runnable unblock) throws Exception {
    FutexWord trigger = words.word(triggerIndex);
    return OnCompletionThread.run(
        ring.wait(trigger, 0),
        () -> ring.wake(trigger, 1).get(10, TimeUnit.SECONDS) > 0,
        body,
        unblock);
  }

  /** The message of the CompletionThreadBlockingException {@code call} throws, or what it did. */
  private static String refusal(OnCompletionThread.Call call) {
    return OnCompletionThread.refusal(call, CompletionThreadBlockingException.class);
  }

  @Test
  void joinOrGetOfAPendingFutureOnItsRingsCompletionThreadThrowsSayingWhatToDo() throws Exception {
    try (FutexRing ring = FutexRing.open()) {
      CompletableFuture<WaitOutcome> pending = ring.wait(words.word(1), 0);
      List<String> refusals =
          onCompletionThread(
              ring,
              0,
              () ->
                  Arrays.asList(
                      refusal(pending::join),
                      refusal(pending::get),
                      refusal(() -> pending.get(1, TimeUnit.SECONDS))),
              () -> pending.cancel(false));
      for (String message : refusals) {
        assertTrue(message.startsWith("join()") || message.startsWith("get"), message);
        assertTrue(message.contains("completion thread"), message);
        assertTrue(message.contains("completionExecutor"), message);
        assertTrue(message.contains("thenComposeAsync"), message);
      }
      // refusing left the wait as it was: a wake still completes it
      assertEquals(1, ring.wake(words.word(1), 1).get(10, TimeUnit.SECONDS));
      assertTrue(pending.get(10, TimeUnit.SECONDS).isWoken());
    }
  }

  @Test
  void aCompleteFutureMayBeJoinedOnTheCompletionThread() throws Exception {
    try (FutexRing ring = FutexRing.open()) {
      CompletableFuture<Integer> done = ring.wake(words.word(2), 1);
      done.get(10, TimeUnit.SECONDS);
      assertEquals(0, onCompletionThread(ring, 0, done::join));
    }
  }

  @Test
  void anotherRingsFutureMayBeAwaitedOnACompletionThread() throws Exception {
    try (FutexRing ring = FutexRing.open();
        FutexRing other = FutexRing.open(FutexRing.options().backend(ring.backend()))) {
      CompletableFuture<WaitOutcome> pending = other.wait(words.word(3), 0);
      Thread waker =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      while (other.wake(words.word(3), 1).get(10, TimeUnit.SECONDS) == 0) {
                        Thread.sleep(5);
                      }
                    } catch (Exception e) {
                      throw new AssertionError(e);
                    }
                  });
      String outcome =
          onCompletionThread(
              ring,
              0,
              () -> {
                try {
                  return pending.get(20, TimeUnit.SECONDS).isWoken() ? "woken" : "not woken";
                } catch (InterruptedException | ExecutionException | TimeoutException e) {
                  return "failed: " + e;
                }
              });
      waker.join();
      assertEquals("woken", outcome);
    }
  }

  @Test
  void userCodeHoldingTheCompletionThreadIsLoggedOnceWithItsStack() throws Exception {
    try (FutexRing ring = FutexRing.open(FutexRing.options().threadName("blocked-log-ring"))) {
      onCompletionThread(ring, 0, () -> sleepOnCompletionThread(600)); // default threshold 100 ms
    }
    List<LogRecord> ours = warningsAbout("blocked-log-ring");
    assertEquals(1, ours.size(), "one warning per stall, not one per sample: " + messages(ours));
    LogRecord warning = ours.get(0);
    assertEquals(Level.WARNING, warning.getLevel());
    String message = warning.getMessage();
    assertTrue(message.contains("for at least"), message);
    assertTrue(message.contains("over its 100 ms threshold"), message);
    assertTrue(message.contains("completionExecutor"), message);
    assertNotNull(warning.getThrown(), "the record carries the completion thread's stack");
    assertTrue(
        Arrays.stream(warning.getThrown().getStackTrace())
            .anyMatch(frame -> frame.getMethodName().equals("sleepOnCompletionThread")),
        "the stack shows where the completion thread is held: "
            + Arrays.toString(warning.getThrown().getStackTrace()));
  }

  @Test
  void aShortContinuationOrAZeroThresholdIsNotLogged() throws Exception {
    try (FutexRing ring = FutexRing.open(FutexRing.options().threadName("quick-ring"));
        FutexRing unchecked =
            FutexRing.open(
                FutexRing.options()
                    .backend(ring.backend())
                    .threadName("unchecked-ring")
                    .blockedThreadWarning(Duration.ZERO))) {
      onCompletionThread(ring, 0, () -> sleepOnCompletionThread(20));
      onCompletionThread(unchecked, 1, () -> sleepOnCompletionThread(400));
    }
    assertEquals(List.of(), messages(warningsAbout("quick-ring")));
    assertEquals(List.of(), messages(warningsAbout("unchecked-ring")));
  }

  @Test
  void aStallIsRecordedAsAJfrEventWithItsDurationAndStack(@TempDir Path directory)
      throws Exception {
    Path file = directory.resolve("blocked.jfr");
    try (Recording recording = new Recording()) {
      recording.enable(EVENT);
      recording.start();
      try (FutexRing ring =
          FutexRing.open(
              FutexRing.options()
                  .threadName("blocked-jfr-ring")
                  .blockedThreadWarning(Duration.ofMillis(50)))) {
        onCompletionThread(ring, 0, () -> sleepOnCompletionThread(400));
      }
      recording.stop();
      recording.dump(file);
    }
    List<RecordedEvent> events = new ArrayList<>();
    for (RecordedEvent event : RecordingFile.readAllEvents(file)) {
      if (event.getEventType().getName().equals(EVENT)
          && "blocked-jfr-ring".equals(event.getThread("completionThread").getJavaName())) {
        events.add(event);
      }
    }
    assertEquals(1, events.size(), events.toString());
    RecordedEvent event = events.get(0);
    assertEquals(Duration.ofMillis(50), event.getDuration("threshold"));
    Duration blockedFor = event.getDuration("blockedFor");
    assertTrue(blockedFor.compareTo(Duration.ofMillis(50)) >= 0, blockedFor.toString());
    assertTrue(blockedFor.compareTo(Duration.ofMillis(400)) <= 0, blockedFor.toString());
    String stack = event.getString("completionThreadStack");
    assertTrue(stack.contains("sleepOnCompletionThread"), stack);
  }

  @Test
  void aNegativeThresholdIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> FutexRing.options().blockedThreadWarning(Duration.ofMillis(-1)));
    assertTrue(e.getMessage().contains("Duration.ZERO"), e.getMessage());
    assertInstanceOf(
        NullPointerException.class,
        assertThrows(
            NullPointerException.class, () -> FutexRing.options().blockedThreadWarning(null)));
  }

  private List<LogRecord> warningsAbout(String threadName) {
    return warnings.stream()
        .filter(r -> r.getMessage() != null && r.getMessage().contains("'" + threadName + "'"))
        .toList();
  }

  private static List<String> messages(List<LogRecord> records) {
    return records.stream().map(LogRecord::getMessage).toList();
  }

  /** Holds the completion thread; the reports must show this method. */
  private static String sleepOnCompletionThread(long millis) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    for (long left; (left = deadline - System.nanoTime()) > 0; ) {
      LockSupport.parkNanos(left);
    }
    return "slept";
  }
}
