package dev.ringlock.locks;

import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.MutexWords;
import dev.ringlock.locks.internal.ReadWriteMutexWords;
import dev.ringlock.locks.internal.jfr.ContendedAcquisitionEvent;
import dev.ringlock.locks.internal.jfr.NotRecoverableEvent;
import dev.ringlock.locks.internal.jfr.OwnerDeathTakeoverEvent;
import dev.ringlock.testsupport.Child;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import jdk.jfr.EventType;
import jdk.jfr.Recording;
import jdk.jfr.SettingDescriptor;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The JFR events of the locks, read back from real recordings with jdk.jfr.consumer: a contended
 * acquisition past the threshold (and none below it, none for an uncontended one), an owner-death
 * takeover, a not-recoverable transition. Every wait the tests time is one they hold open on
 * purpose (HOLD_MILLIS), well past the thresholds they set, so a loaded machine only makes it
 * longer.
 */
@Timeout(60)
class JfrEventsTest extends RegionTestBase {
  private static final int PID = (int) ProcessHandle.current().pid();

  /** How long a test keeps a lock held while a request waits for it. */
  private static final long HOLD_MILLIS = 120;

  private MappedRegion raw;
  private Child owner; // a live process planted as a lock's owner, then killed

  @AfterEach
  void cleanUp() {
    if (raw != null) {
      raw.close();
    }
    if (owner != null) {
      owner.close();
    }
  }

  /** A recording of the three lock events, the contended one at {@code threshold}. */
  private static Recording recording(Duration threshold) {
    Recording recording = new Recording();
    recording.enable(ContendedAcquisitionEvent.NAME).withThreshold(threshold);
    recording.enable(OwnerDeathTakeoverEvent.NAME);
    recording.enable(NotRecoverableEvent.NAME);
    recording.start();
    return recording;
  }

  /** Stops {@code recording} and reads back its events of type {@code name}. */
  private List<RecordedEvent> stopAndRead(Recording recording, String name) throws Exception {
    recording.stop();
    Path file = directory.resolve("recording-" + System.nanoTime() + ".jfr");
    recording.dump(file);
    recording.close();
    return RecordingFile.readAllEvents(file).stream()
        .filter(e -> e.getEventType().getName().equals(name))
        .toList();
  }

  private static Map<String, List<RecordedEvent>> byType(List<RecordedEvent> events) {
    return events.stream()
        .collect(java.util.stream.Collectors.groupingBy(e -> e.getEventType().getName()));
  }

  private List<RecordedEvent> stopAndReadAll(Recording recording) throws Exception {
    recording.stop();
    Path file = directory.resolve("recording-" + System.nanoTime() + ".jfr");
    recording.dump(file);
    recording.close();
    return RecordingFile.readAllEvents(file).stream()
        .filter(e -> e.getEventType().getName().startsWith("dev.ringlock."))
        .toList();
  }

  private MappedRegion raw() throws Exception {
    if (raw == null) {
      raw = openRawMapping();
    }
    return raw;
  }

  private MutexWords mutexWords(String name) throws Exception {
    return new MutexWords(raw().segment(), raw().find(name).orElseThrow().offset());
  }

  private ReadWriteMutexWords readWriteWords(String name) throws Exception {
    return new ReadWriteMutexWords(raw().segment(), raw().find(name).orElseThrow().offset());
  }

  private static long millis(RecordedEvent event) {
    return event.getDuration().toMillis();
  }

  // ---- contended acquisitions ----

  @Test
  void aContendedLockPastTheThresholdIsRecordedWithItsWaitOwnerAndFence() throws Exception {
    Mutex mutex = region.mutex("orders");
    Recording recording = recording(Duration.ofMillis(50));
    MutexGuard held = mutex.tryLock().orElseThrow();
    CompletableFuture<MutexGuard> waiter = mutex.lock();
    Thread.sleep(HOLD_MILLIS);
    held.unlock();
    MutexGuard granted = await(waiter);
    granted.unlock();
    List<RecordedEvent> events = stopAndRead(recording, ContendedAcquisitionEvent.NAME);

    assertEquals(1, events.size(), "one contended acquisition: " + events);
    RecordedEvent event = events.get(0);
    assertEquals("orders", event.getString("objectName"));
    assertEquals("mutex", event.getString("objectType"));
    assertEquals("lock", event.getString("operation"));
    assertEquals(PID, event.getInt("ownerPidAtStart"), "this process held it when it queued");
    assertEquals(granted.fence(), event.getLong("fence"));
    assertFalse(event.getBoolean("ownerDied"));
    assertTrue(millis(event) >= HOLD_MILLIS - 20, "waited while held: " + event.getDuration());
  }

  @Test
  void theRecordedWaitEndsAtTheGrantNotAfterTheContinuationsItRuns() throws Exception {
    Mutex mutex = region.mutex("m");
    long continuationMillis = 400;
    Recording recording = recording(Duration.ofMillis(50));
    MutexGuard held = mutex.tryLock().orElseThrow();
    CompletableFuture<Void> done =
        mutex
            .lock()
            .thenAccept(
                guard -> {
                  try {
                    Thread.sleep(continuationMillis); // the holder's own work, run by the grant
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  guard.unlock();
                });
    Thread.sleep(HOLD_MILLIS);
    held.unlock(); // hands the lock on here, and runs the continuation on this thread
    await(done);
    List<RecordedEvent> events = stopAndRead(recording, ContendedAcquisitionEvent.NAME);

    assertEquals(1, events.size(), "" + events);
    long waited = millis(events.get(0));
    assertTrue(waited >= HOLD_MILLIS - 20, "the wait: " + waited + " ms");
    assertTrue(waited < continuationMillis, "the continuation is no wait: " + waited + " ms");
  }

  @Test
  void aContendedAcquisitionUnderTheThresholdIsNotRecorded() throws Exception {
    Mutex mutex = region.mutex("m");
    Semaphore semaphore = region.semaphore("s", 1);
    Recording recording = recording(Duration.ofSeconds(30));
    MutexGuard held = mutex.tryLock().orElseThrow();
    CompletableFuture<MutexGuard> waiter = mutex.lock();
    semaphore.acquire(1).get();
    CompletableFuture<Void> acquirer = semaphore.acquire(1);
    Thread.sleep(HOLD_MILLIS);
    held.unlock();
    semaphore.release(1);
    await(waiter).unlock();
    await(acquirer);
    semaphore.release(1);
    // the control: the same recording shows a takeover, so it was recording all along
    Mutex other = region.mutex("other");
    mutexWords("other").spWord(Child.deadPid());
    MutexGuard takenOver = other.tryLock().orElseThrow();
    takenOver.markConsistent();
    takenOver.unlock();
    Map<String, List<RecordedEvent>> events = byType(stopAndReadAll(recording));

    assertEquals(null, events.get(ContendedAcquisitionEvent.NAME), "below 30 s: " + events);
    assertEquals(1, events.get(OwnerDeathTakeoverEvent.NAME).size(), "recording: " + events);
  }

  @Test
  void uncontendedAcquisitionsRecordNothingEvenAtAZeroThreshold() throws Exception {
    Mutex mutex = region.mutex("m");
    Semaphore semaphore = region.semaphore("s", 3);
    ReadWriteMutex lock = region.readWriteMutex("rw");
    Recording recording = recording(Duration.ZERO);
    for (int i = 0; i < 100; i++) {
      await(mutex.lock()).unlock();
      mutex.tryLock().orElseThrow().unlock();
      await(semaphore.acquire(2));
      semaphore.release(2);
      await(lock.read()).unlock();
      await(lock.write()).unlock();
    }
    // then one contended acquisition, which a zero threshold records
    MutexGuard held = await(mutex.lock());
    CompletableFuture<MutexGuard> waiter = mutex.lock();
    Thread.sleep(20);
    held.unlock();
    MutexGuard granted = await(waiter);
    granted.unlock();
    List<RecordedEvent> events = stopAndRead(recording, ContendedAcquisitionEvent.NAME);

    assertEquals(1, events.size(), "only the one that queued: " + events);
    assertEquals(granted.fence(), events.get(0).getLong("fence"));
  }

  @Test
  void contendedSemaphoreReadAndWriteAcquisitionsAreRecordedWithTheirType() throws Exception {
    Semaphore semaphore = region.semaphore("pool", 2);
    ReadWriteMutex lock = region.readWriteMutex("table");
    Recording recording = recording(Duration.ofMillis(50));
    await(semaphore.acquire(2));
    CompletableFuture<Void> acquirer = semaphore.acquire(2);
    WriteGuard writing = await(lock.write());
    CompletableFuture<ReadGuard> reader = lock.read();
    Thread.sleep(HOLD_MILLIS);
    semaphore.release(2);
    writing.unlock();
    await(acquirer);
    semaphore.release(2);
    ReadGuard reading = await(reader);
    CompletableFuture<WriteGuard> writer = lock.write();
    Thread.sleep(HOLD_MILLIS);
    reading.unlock();
    WriteGuard written = await(writer);
    written.unlock();
    Map<String, List<RecordedEvent>> operations =
        stopAndRead(recording, ContendedAcquisitionEvent.NAME).stream()
            .collect(java.util.stream.Collectors.groupingBy(e -> e.getString("operation")));

    RecordedEvent acquire = operations.get("acquire").get(0);
    assertEquals("pool", acquire.getString("objectName"));
    assertEquals("semaphore", acquire.getString("objectType"));
    assertEquals(2, acquire.getInt("permits"));
    assertEquals(0, acquire.getInt("ownerPidAtStart"), "a semaphore has no one owner");
    assertTrue(millis(acquire) >= HOLD_MILLIS - 20, acquire.toString());
    RecordedEvent read = operations.get("read").get(0);
    assertEquals("table", read.getString("objectName"));
    assertEquals("read-write mutex", read.getString("objectType"));
    assertEquals(PID, read.getInt("ownerPidAtStart"), "queued behind this process's writer");
    assertTrue(millis(read) >= HOLD_MILLIS - 20, read.toString());
    RecordedEvent write = operations.get("write").get(0);
    assertEquals(0, write.getInt("ownerPidAtStart"), "queued behind readers only");
    assertEquals(written.fence(), write.getLong("fence"));
    assertEquals(3, operations.values().stream().mapToInt(List::size).sum(), "" + operations);
  }

  @Test
  void aLockAnyThatWaitedIsRecordedWithTheMutexItGot() throws Exception {
    Mutex first = region.mutex("first");
    Mutex second = region.mutex("second");
    Recording recording = recording(Duration.ofMillis(50));
    MutexGuard heldFirst = first.tryLock().orElseThrow();
    MutexGuard heldSecond = second.tryLock().orElseThrow();
    CompletableFuture<MutexGuard> any = Mutex.lockAny(List.of(first, second));
    Thread.sleep(HOLD_MILLIS);
    heldSecond.unlock();
    MutexGuard got = await(any);
    assertEquals(second, got.mutex());
    got.unlock();
    heldFirst.unlock();
    List<RecordedEvent> events = stopAndRead(recording, ContendedAcquisitionEvent.NAME);

    assertEquals(1, events.size(), "" + events);
    RecordedEvent event = events.get(0);
    assertEquals("lockAny", event.getString("operation"));
    assertEquals("second", event.getString("objectName"));
    assertEquals("mutex", event.getString("objectType"));
    assertEquals(PID, event.getInt("ownerPidAtStart"));
    assertEquals(got.fence(), event.getLong("fence"));
    assertTrue(millis(event) >= HOLD_MILLIS - 20, event.toString());
  }

  // ---- owner death ----

  @Test
  void aQueuedLockThatTakesOverAKilledOwnerRecordsTheTakeoverAndTheWait() throws Exception {
    Mutex mutex = region.mutex("jobs");
    owner = Child.program("sleep", "60").start();
    int ownerPid = owner.intPid();
    mutexWords("jobs").spWord(ownerPid);
    Recording recording = recording(Duration.ofMillis(50));
    CompletableFuture<MutexGuard> waiter = mutex.lock();
    Thread.sleep(HOLD_MILLIS);
    owner.kill();
    MutexGuard guard = await(waiter);
    assertTrue(guard.ownerDied());
    guard.markConsistent();
    guard.unlock();
    Map<String, List<RecordedEvent>> events = byType(stopAndReadAll(recording));

    RecordedEvent takeover = events.get(OwnerDeathTakeoverEvent.NAME).get(0);
    assertEquals("jobs", takeover.getString("objectName"));
    assertEquals("mutex", takeover.getString("objectType"));
    assertEquals(ownerPid, takeover.getInt("deadPid"));
    assertEquals(PID, takeover.getInt("newOwnerPid"));
    assertEquals(guard.fence(), takeover.getLong("fence"));
    RecordedEvent wait = events.get(ContendedAcquisitionEvent.NAME).get(0);
    assertEquals(ownerPid, wait.getInt("ownerPidAtStart"), "the owner when it queued");
    assertTrue(wait.getBoolean("ownerDied"));
    assertEquals(guard.fence(), wait.getLong("fence"));
    assertTrue(millis(wait) >= HOLD_MILLIS - 20, wait.toString());
    assertEquals(null, events.get(NotRecoverableEvent.NAME), "marked consistent: " + events);
  }

  @Test
  void anUnlockWithoutMarkConsistentRecordsTheNotRecoverableTransitionAndWhoMadeIt()
      throws Exception {
    Mutex mutex = region.mutex("ledger");
    int dead = Child.deadPid();
    mutexWords("ledger").spWord(dead | MutexDescriptor.WAITERS);
    Recording recording = recording(Duration.ofMillis(50));
    MutexGuard guard = mutex.tryLock().orElseThrow();
    assertTrue(guard.ownerDied());
    guard.unlock(); // without markConsistent: not recoverable
    Map<String, List<RecordedEvent>> events = byType(stopAndReadAll(recording));

    RecordedEvent takeover = events.get(OwnerDeathTakeoverEvent.NAME).get(0);
    assertEquals(dead, takeover.getInt("deadPid"));
    assertEquals(guard.fence(), takeover.getLong("fence"));
    assertEquals(1, events.get(NotRecoverableEvent.NAME).size(), "" + events);
    RecordedEvent brick = events.get(NotRecoverableEvent.NAME).get(0);
    assertEquals("ledger", brick.getString("objectName"));
    assertEquals("mutex", brick.getString("objectType"));
    assertEquals(PID, brick.getInt("pid"));
    assertEquals(guard.fence(), brick.getLong("fence"));
    assertEquals("unlock", brick.getString("how"));
    assertTrue(
        brick.getStackTrace().getFrames().stream()
            .map(RecordedFrame::getMethod)
            .anyMatch(m -> m.getName().equals("unlock")),
        "the stack shows the unlock that did it: " + brick.getStackTrace());
  }

  @Test
  void closingTheRegionOverAnUnrepairedTakeoverRecordsItAsNotRecoverable() throws Exception {
    Mutex mutex = region.mutex("ledger");
    mutexWords("ledger").spWord(Child.deadPid());
    Recording recording = recording(Duration.ofMillis(50));
    MutexGuard guard = mutex.tryLock().orElseThrow();
    assertTrue(guard.ownerDied());
    region.close(); // still held, never marked consistent
    List<RecordedEvent> events = stopAndRead(recording, NotRecoverableEvent.NAME);

    assertEquals(1, events.size(), "" + events);
    assertEquals("close", events.get(0).getString("how"));
    assertEquals(guard.fence(), events.get(0).getLong("fence"));
    assertEquals(MutexDescriptor.OWNER_DIED, mutexWords("ledger").lvWord(), "not recoverable");
  }

  @Test
  void aReadWriteTakeoverAndItsNotRecoverableReleaseAreRecorded() throws Exception {
    ReadWriteMutex lock = region.readWriteMutex("rw");
    int dead = Child.deadPid();
    readWriteWords("rw").spWord(WRITE | dead);
    Recording recording = recording(Duration.ofMillis(50));
    WriteGuard guard = lock.tryWrite().orElseThrow();
    assertTrue(guard.ownerDied());
    guard.unlock();
    Map<String, List<RecordedEvent>> events = byType(stopAndReadAll(recording));

    RecordedEvent takeover = events.get(OwnerDeathTakeoverEvent.NAME).get(0);
    assertEquals("read-write mutex", takeover.getString("objectType"));
    assertEquals(dead, takeover.getInt("deadPid"));
    assertEquals(guard.fence(), takeover.getLong("fence"));
    RecordedEvent brick = events.get(NotRecoverableEvent.NAME).get(0);
    assertEquals("rw", brick.getString("objectName"));
    assertEquals("read-write mutex", brick.getString("objectType"));
    assertEquals(guard.fence(), brick.getLong("fence"));
  }

  // ---- a JVM that never records ----

  @Test
  void contendedAcquisitionsInAJvmThatNeverRecordsLoadNothingOfJfrButItsFlag() throws Exception {
    try (Child child =
        Child.jvm(JfrIdleChild.class)
            .args(region.file().toString())
            .jvmOptions("-Xlog:class+load=info:stdout")
            .captureOutput()
            .start()) {
      child.expect("DONE");
      child.awaitSuccess(Duration.ofSeconds(30));
      String loaded = child.output();
      assertTrue(loaded.contains(" dev.ringlock.locks.internal.jfr.LockEvents "), "it queued");
      assertFalse(
          loaded.contains(" dev.ringlock.locks.internal.jfr.ContendedAcquisitionEvent "),
          "no event class: loading the first one loads JFR (about a second)");
      assertFalse(loaded.contains(" jdk.jfr.internal."), "nothing of JFR's machinery");
    }
  }

  // ---- defaults ----

  @Test
  void theEventsAreOnByDefaultWithTheContendedThresholdASetting() throws Exception {
    Map<String, String> contended = defaultSettings(ContendedAcquisitionEvent.class);
    assertEquals("true", contended.get("enabled"));
    assertEquals("10 ms", contended.get("threshold"));
    assertEquals("false", contended.get("stackTrace"), "the granting thread's stack says nothing");
    assertEquals("true", defaultSettings(OwnerDeathTakeoverEvent.class).get("enabled"));
    assertEquals("true", defaultSettings(NotRecoverableEvent.class).get("enabled"));

    // A recording that names none of them records them with those defaults.
    Mutex mutex = region.mutex("m");
    Recording recording = new Recording();
    recording.start();
    MutexGuard held = mutex.tryLock().orElseThrow();
    CompletableFuture<MutexGuard> waiter = mutex.lock();
    Thread.sleep(HOLD_MILLIS);
    held.unlock();
    await(waiter).unlock();
    assertEquals(1, stopAndRead(recording, ContendedAcquisitionEvent.NAME).size());
  }

  private static Map<String, String> defaultSettings(Class<? extends jdk.jfr.Event> event) {
    return EventType.getEventType(event).getSettingDescriptors().stream()
        .collect(
            java.util.stream.Collectors.toMap(
                SettingDescriptor::getName, SettingDescriptor::getDefaultValue));
  }
}
