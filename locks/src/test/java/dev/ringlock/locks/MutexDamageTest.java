package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.InvalidRegionException;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.internal.MutexCore;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.MutexWords;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Values in a mutex's memory that no ringlock writes (a pid no process can have, a fence that would
 * overflow) are reported as corruption naming the mutex; a starving mark naming a live process that
 * is not waiting decays.
 */
@Timeout(60)
class MutexDamageTest extends RegionTestBase {
  private MappedRegion raw;

  @BeforeEach
  void mapRaw() throws Exception {
    raw = openRawMapping();
  }

  @AfterEach
  void unmapRaw() {
    raw.close();
  }

  private MemorySegment object(String name) {
    return raw.segment(raw.find(name).orElseThrow());
  }

  private MutexWords words(String name) {
    return new MutexWords(raw.segment(), raw.find(name).orElseThrow().offset());
  }

  /** Marks {@code pid} starving as a marking process does: its slot, then the summary. */
  private void setStarving(String name, int slot, int pid) {
    words(name).spStarvingPid(slot, pid);
    words(name).spStarvingSummary(1);
  }

  private static void assertCorruptNaming(String name, Throwable thrown) {
    UncheckedIOException unchecked = assertInstanceOf(UncheckedIOException.class, thrown);
    InvalidRegionException invalid =
        assertInstanceOf(InvalidRegionException.class, unchecked.getCause());
    assertEquals(InvalidRegionException.Problem.CORRUPT, invalid.problem());
    assertTrue(invalid.getMessage().contains("mutex '" + name + "'"), invalid.getMessage());
  }

  /** How lock() fails: at once (found on the caller's thread) or through its future. */
  private static Throwable lockFailure(Mutex mutex) throws Exception {
    try {
      return failureOf(mutex.lock());
    } catch (UncheckedIOException thrown) {
      return thrown;
    }
  }

  @Test
  void aNegativePidInAStarvingSlotIsCorruptionNamingTheMutex() throws Exception {
    Mutex mutex = region.mutex("m");
    setStarving("m", 3, -5);
    assertCorruptNaming("m", assertThrows(UncheckedIOException.class, mutex::tryLock));
    // a queued lock() decides on the completion path: its future fails with the same damage
    assertCorruptNaming("m", lockFailure(mutex));
    setStarving("m", 3, 0);
    try (MutexGuard guard = mutex.tryLock().orElseThrow()) {
      assertTrue(guard.fence() > 0);
    }
  }

  @Test
  void anOwnerWordNamingNoPossiblePidIsCorruptionNotATakeover() throws Exception {
    Mutex mutex = region.mutex("m");
    words("m").spWord(0xffffffff);
    assertCorruptNaming("m", assertThrows(UncheckedIOException.class, mutex::tryLock));
    assertCorruptNaming("m", lockFailure(mutex));
    assertEquals(0xffffffff, words("m").lvWord());
  }

  @Test
  void aFenceAtLongMaxValueIsRefusedAndTheMutexStaysFree() throws Exception {
    Mutex mutex = region.mutex("m");
    words("m").spFence(Long.MAX_VALUE);
    assertCorruptNaming("m", assertThrows(UncheckedIOException.class, mutex::tryLock));
    assertEquals(0, mutex.ownerPid(), "the word taken for the refused fence is freed again");
    assertCorruptNaming("m", lockFailure(mutex));
    assertEquals(0, mutex.ownerPid());
    words("m").spFence(-7L);
    assertCorruptNaming("m", assertThrows(UncheckedIOException.class, mutex::tryLock));
    // the last fence that can be incremented: its acquisition gets Long.MAX_VALUE, the next none
    words("m").spFence(MutexDescriptor.MAX_FENCE);
    words("m").spHoldTag((int) MutexDescriptor.MAX_FENCE); // as its holder would have left it
    try (MutexGuard guard = mutex.tryLock().orElseThrow()) {
      assertEquals(Long.MAX_VALUE, guard.fence());
    }
    assertCorruptNaming("m", assertThrows(UncheckedIOException.class, mutex::tryLock));
  }

  @Test
  void aFenceThatCannotGrowFailsTheRequestAnInProcessHandoffWasFor() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard held = mutex.tryLock().orElseThrow();
    CompletableFuture<MutexGuard> queued = mutex.lock(); // handed over in-process on unlock
    words("m").spFence(Long.MAX_VALUE);
    assertCorruptNaming("m", assertThrows(UncheckedIOException.class, held::unlock));
    assertCorruptNaming("m", failureOf(queued));
    assertEquals(0, mutex.ownerPid(), "the word is free again");
  }

  @Test
  void aStarvingMarkOfALiveProcessThatIsNotWaitingDecays() throws Exception {
    Mutex mutex = region.mutex("m");
    setStarving("m", 0, 1); // init: alive, and never waiting on this mutex
    long start = System.nanoTime();
    Optional<MutexGuard> taken = mutex.tryLock();
    int refusals = 0;
    while (taken.isEmpty() && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10)) {
      refusals++;
      Thread.sleep(5);
      taken = mutex.tryLock();
    }
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(taken.isPresent(), "tryLock still refused after " + refusals + " attempts");
    taken.get().close();
    // bounded barging stays: the mark holds for the decay time, not less
    assertTrue(
        tookMillis >= MutexCore.STARVING_MARK_DECAY_MILLIS,
        "the mark was cleared after " + tookMillis + " ms");
    assertEquals(0, words("m").lvStarvingPid(0));
    // and lock() on a free mutex no longer stands back
    long lockStart = System.nanoTime();
    await(mutex.lock()).close();
    assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lockStart) < 200);
  }

  @Test
  void aQueuedLockIsNotHeldBackForEverByAStaleStarvingMark() throws Exception {
    Mutex mutex = region.mutex("m");
    setStarving("m", 5, 1);
    for (int i = 0; i < 5; i++) {
      await(mutex.lock()).close(); // each within the sleeper's re-check, not for ever
    }
    // the stale mark was cleared along the way, so an uncontended lock() completes at once
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(5);
    while (words("m").lvStarvingPid(5) != 0 && System.nanoTime() < deadline) {
      await(mutex.lock()).close();
    }
    assertEquals(0, words("m").lvStarvingPid(5));
    assertTrue(mutex.lock().isDone());
  }
}
