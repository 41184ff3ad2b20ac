package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.FutexRing;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class LockAnyTest {
  @TempDir Path directory;

  private FutexRing ring;
  private SharedRegion region;

  @BeforeEach
  void open() throws Exception {
    ring = FutexRing.open();
    region = openRegion("region");
  }

  @AfterEach
  void close() {
    region.close();
    ring.close();
  }

  private SharedRegion openRegion(String file) throws Exception {
    return SharedRegion.open(directory.resolve(file), RegionOptions.builder().ring(ring).build());
  }

  private static <T> T await(CompletableFuture<T> future) throws Exception {
    return future.get(20, TimeUnit.SECONDS);
  }

  private static Throwable failureOf(CompletableFuture<?> future) throws Exception {
    return assertThrows(ExecutionException.class, () -> future.get(20, TimeUnit.SECONDS))
        .getCause();
  }

  private List<Mutex> mutexes(SharedRegion in, int count) {
    List<Mutex> list = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      list.add(in.mutex("m" + i));
    }
    return list;
  }

  /** Holds a mutex through a second region on the same file: another holder, as far as it knows. */
  private MutexGuard holdElsewhere(SharedRegion other, Mutex mutex) throws Exception {
    return await(other.mutex(mutex.name()).lock());
  }

  @Test
  void picksTheFreeCandidateWhileTheOthersStayHeld() throws Exception {
    List<Mutex> candidates = mutexes(region, 3);
    MutexGuard first = await(candidates.get(0).lock());
    MutexGuard third = await(candidates.get(2).lock());

    CompletableFuture<MutexGuard> any = Mutex.lockAny(candidates);

    assertTrue(any.isDone(), "a free candidate is taken without waiting");
    MutexGuard guard = any.join();
    assertSame(candidates.get(1), guard.mutex());
    assertTrue(candidates.get(0).isLocked());
    assertTrue(candidates.get(2).isLocked());
    guard.unlock();
    assertFalse(candidates.get(1).isLocked());
    first.unlock();
    third.unlock();
  }

  @Test
  void freeCandidatesAreTriedInListOrder() throws Exception {
    List<Mutex> candidates = mutexes(region, 4);
    MutexGuard guard = await(Mutex.lockAny(candidates.reversed()));
    assertSame(candidates.get(3), guard.mutex());
    assertFalse(candidates.get(0).isLocked(), "it never holds two");
    guard.unlock();
  }

  @Test
  void waitsWithOneWaitvAndTakesWhicheverIsReleased() throws Exception {
    try (SharedRegion other = openRegion("region")) {
      List<Mutex> candidates = mutexes(region, 3);
      List<MutexGuard> held = new ArrayList<>();
      for (Mutex mutex : candidates) {
        held.add(holdElsewhere(other, mutex));
      }
      FutexRing.Stats before = ring.stats();

      CompletableFuture<MutexGuard> any = Mutex.lockAny(candidates);
      assertFalse(any.isDone());
      waitForInFlight(before, 1); // one FUTEX_WAITV for all three

      held.get(1).unlock();
      MutexGuard guard = await(any);
      assertSame(candidates.get(1), guard.mutex());
      assertTrue(candidates.get(0).isLocked());
      assertTrue(candidates.get(2).isLocked());
      guard.unlock();
      held.get(0).unlock();
      held.get(2).unlock();
      for (Mutex mutex : candidates) {
        assertFalse(mutex.isLocked());
      }
    }
  }

  @Test
  void takes128CandidatesAndRefusesMore() throws Exception {
    List<Mutex> candidates = mutexes(region, 129);
    assertThrows(IllegalArgumentException.class, () -> Mutex.lockAny(candidates));
    try (SharedRegion other = openRegion("region")) {
      List<MutexGuard> held = new ArrayList<>();
      for (Mutex mutex : candidates.subList(0, 128)) {
        held.add(holdElsewhere(other, mutex));
      }
      CompletableFuture<MutexGuard> any = Mutex.lockAny(candidates.subList(0, 128));
      assertFalse(any.isDone());
      held.get(127).unlock();
      MutexGuard guard = await(any);
      assertSame(candidates.get(127), guard.mutex());
      guard.unlock();
      for (MutexGuard h : held.subList(0, 127)) {
        h.unlock();
      }
    }
  }

  @Test
  void refusesBadCandidateLists() throws Exception {
    Mutex m0 = region.mutex("m0");
    assertThrows(IllegalArgumentException.class, () -> Mutex.lockAny(List.of()));
    IllegalArgumentException twice =
        assertThrows(IllegalArgumentException.class, () -> Mutex.lockAny(List.of(m0, m0)));
    assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
    Mutex foreign = new ForeignMutex();
    IllegalArgumentException notOurs =
        assertThrows(IllegalArgumentException.class, () -> Mutex.lockAny(List.of(m0, foreign)));
    assertTrue(notOurs.getMessage().contains("SharedRegion"), notOurs.getMessage());
    assertThrows(NullPointerException.class, () -> Mutex.lockAny(null));
    assertThrows(
        IllegalArgumentException.class, () -> Mutex.lockAny(List.of(m0), Duration.ofSeconds(-1)));
    assertFalse(m0.isLocked());
  }

  @Test
  void refusesCandidatesOnDifferentRings() throws Exception {
    try (FutexRing otherRing = FutexRing.open();
        SharedRegion elsewhere =
            SharedRegion.open(
                directory.resolve("elsewhere"), RegionOptions.builder().ring(otherRing).build())) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Mutex.lockAny(List.of(region.mutex("a"), elsewhere.mutex("b"))));
      assertTrue(e.getMessage().contains("one ring"), e.getMessage());
    }
  }

  @Test
  void candidatesMayComeFromSeveralRegionsOnOneRing() throws Exception {
    try (SharedRegion second = openRegion("second");
        SharedRegion otherOfSecond = openRegion("second")) {
      Mutex a = region.mutex("a");
      Mutex b = second.mutex("b");
      MutexGuard holdingA = await(a.lock());
      MutexGuard holdingB = holdElsewhere(otherOfSecond, b);
      CompletableFuture<MutexGuard> any = Mutex.lockAny(List.of(a, b));
      assertFalse(any.isDone());
      holdingB.unlock();
      assertSame(b, await(any).mutex());
      any.join().unlock();
      holdingA.unlock();
    }
  }

  @Test
  void theTimeoutMessageStatesTheDuration() throws Exception {
    try (SharedRegion other = openRegion("region")) {
      List<Mutex> candidates = mutexes(region, 2);
      MutexGuard g0 = holdElsewhere(other, candidates.get(0));
      MutexGuard g1 = holdElsewhere(other, candidates.get(1));
      Throwable failure = failureOf(Mutex.lockAny(candidates, Duration.ofMillis(40)));
      assertInstanceOf(TimeoutException.class, failure);
      assertEquals(
          "none of the 2 lockAny candidates was acquired within 40 ms", failure.getMessage());
      g0.unlock();
      g1.unlock();
    }
  }

  @Test
  void timesOutHoldingNothing() throws Exception {
    try (SharedRegion other = openRegion("region")) {
      List<Mutex> candidates = mutexes(region, 2);
      MutexGuard g0 = holdElsewhere(other, candidates.get(0));
      MutexGuard g1 = holdElsewhere(other, candidates.get(1));
      CompletableFuture<MutexGuard> any = Mutex.lockAny(candidates, Duration.ofMillis(50));
      assertInstanceOf(TimeoutException.class, failureOf(any));
      g0.unlock();
      g1.unlock();
      assertFalse(candidates.get(0).isLocked());
      assertFalse(candidates.get(1).isLocked());
      // a zero timeout still takes a free candidate
      MutexGuard guard = await(Mutex.lockAny(candidates, Duration.ZERO));
      assertSame(candidates.get(0), guard.mutex());
      guard.unlock();
    }
  }

  @Test
  void aCancelledRequestHoldsNothingAndPassesItsWakeOn() throws Exception {
    try (SharedRegion other = openRegion("region");
        SharedRegion third = openRegion("region")) {
      Mutex mutex = region.mutex("m");
      MutexGuard held = holdElsewhere(other, mutex);
      CompletableFuture<MutexGuard> any = Mutex.lockAny(List.of(mutex));
      // a second sleeper, behind it in the kernel's queue: the release's one wake must reach it
      CompletableFuture<MutexGuard> sleeper = third.mutex("m").lock();
      assertTrue(any.cancel(false));
      assertInstanceOf(CancellationException.class, assertThrows(Exception.class, any::join));
      held.unlock();
      MutexGuard next = await(sleeper);
      next.unlock();
      assertFalse(mutex.isLocked());
    }
  }

  @Test
  void closingTheRegionFailsAWaitingRequest() throws Exception {
    SharedRegion closing = openRegion("closing");
    try (SharedRegion other = openRegion("closing")) {
      Mutex mutex = closing.mutex("m");
      MutexGuard held = holdElsewhere(other, mutex);
      CompletableFuture<MutexGuard> any = Mutex.lockAny(List.of(mutex));
      assertFalse(any.isDone());
      closing.close();
      assertInstanceOf(RegionClosedException.class, failureOf(any));
      assertThrows(RegionClosedException.class, () -> Mutex.lockAny(List.of(mutex)));
      held.unlock();
    }
  }

  @Test
  void manyRacingRequestsNeverShareAMutex() throws Exception {
    List<Mutex> candidates = mutexes(region, 3);
    int[] counters = new int[candidates.size()];
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    int rounds = 4_000;
    // Each pending lockAny is a FUTEX_WAITV of 3 words: at most 600 outstanding keeps them within
    // the syscalls backend's room (16 threads of 126 words), which a loaded machine otherwise
    // exceeds with WaitCapacityException, as documented; the race under test is the same.
    java.util.concurrent.Semaphore outstanding = new java.util.concurrent.Semaphore(600);
    List<CompletableFuture<Void>> done = new ArrayList<>();
    for (int i = 0; i < rounds; i++) {
      outstanding.acquire();
      CompletableFuture<MutexGuard> acquired =
          i % 3 == 0 ? candidates.get(i % candidates.size()).lock() : Mutex.lockAny(candidates);
      done.add(
          acquired
              .thenAcceptAsync(
                  guard -> {
                    int index = candidates.indexOf(guard.mutex());
                    try (guard) {
                      if (inside.incrementAndGet() > candidates.size()) {
                        overlaps.incrementAndGet();
                      }
                      counters[index]++; // plain: the mutex must make this safe
                      inside.decrementAndGet();
                    }
                  })
              .whenComplete((ignored, failure) -> outstanding.release()));
    }
    CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    int total = 0;
    for (int counter : counters) {
      total += counter;
    }
    assertEquals(rounds, total);
    assertEquals(0, overlaps.get());
    for (Mutex mutex : candidates) {
      assertFalse(mutex.isLocked(), mutex.toString());
    }
  }

  /** Waits until {@code count} more requests are in the kernel than {@code before}. */
  private void waitForInFlight(FutexRing.Stats before, int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (ring.stats().inFlight() - before.inFlight() < count) {
      assertTrue(System.nanoTime() < deadline, "the FUTEX_WAITV never reached the kernel");
      Thread.sleep(1);
    }
    Thread.sleep(20); // room for a wrong extra wait to show up
    assertEquals(count, ring.stats().inFlight() - before.inFlight());
  }

  private static final class ForeignMutex implements Mutex {
    @Override
    public String name() {
      return "foreign";
    }

    @Override
    public CompletableFuture<MutexGuard> lock() {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<MutexGuard> lock(Duration timeout) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Optional<MutexGuard> tryLock() {
      return Optional.empty();
    }

    @Override
    public boolean isLocked() {
      return false;
    }

    @Override
    public int queueLength() {
      return 0;
    }

    @Override
    public int ownerPid() {
      return 0;
    }

    @Override
    public boolean isConsistent() {
      return true;
    }

    @Override
    public MutexLock asLock() {
      throw new UnsupportedOperationException();
    }

    @Override
    public MutexLock asLock(OwnerDeathPolicy policy) {
      throw new UnsupportedOperationException();
    }

    @Override
    public boolean resetNotRecoverable() {
      return false;
    }
  }
}
