package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.MutexWords;
import dev.ringlock.testsupport.Child;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Owner death through the j.u.c view: a holder that System.exit()s while holding through asLock(),
 * and the next taker through asLock() with each {@link OwnerDeathPolicy}; and the operator's reset
 * of a mutex left not recoverable. The child also shows a sleeping process in queueLength().
 */
@Timeout(60)
class AsLockOwnerDeathTest extends RegionTestBase {
  private static final int PID = (int) ProcessHandle.current().pid();

  @Test
  void aSleeperIsQueuedAndItsExitIsReportedOrTakenAsAReleaseByPolicy() throws Exception {
    Mutex reported = region.mutex("reported");
    Mutex released = region.mutex("released");
    try (Child holder =
        Child.jvm(AsLockChild.class)
            .args(region.file().toString(), "reported", "released")
            .captureOutput()
            .start()) {
      holder.awaitStarted("READY");
      MutexGuard first = await(reported.lock()); // the child sleeps on it: queueLength counts it
      holder.send("lock");
      awaitQueueLength(reported, 1);
      CompletableFuture<MutexGuard> local = reported.lock();
      assertEquals(2, reported.queueLength(), "a request here and a process asleep");
      assertEquals(2, reported.asLock().getQueueLength());
      local.cancel(false);
      first.unlock();
      holder.expect("HELD");
      assertEquals(0, reported.queueLength());
      holder.send("exit"); // System.exit while holding both: an owner death
      assertEquals(0, holder.awaitExit(Duration.ofSeconds(30)));
    }

    // REPORT, the default: the taker holds the lock and is told so by the exception.
    MutexLock lock = reported.asLock();
    assertSame(OwnerDeathPolicy.REPORT, lock.ownerDeathPolicy());
    OwnerDiedException told = assertThrows(OwnerDiedException.class, lock::lock);
    assertTrue(told.getMessage().contains("markConsistent()"), told.getMessage());
    assertTrue(lock.isHeldByCurrentThread(), "the exception comes with the lock held");
    assertTrue(lock.ownerDied());
    assertEquals(PID, reported.ownerPid());
    assertFalse(reported.isConsistent());
    lock.markConsistent();
    assertFalse(lock.ownerDied());
    lock.unlock();
    assertTrue(reported.isConsistent(), "repaired, then released: consistent again");
    assertTrue(lock.tryLock(), "and usable: nothing is left not recoverable");
    lock.unlock();

    // RELEASE: the death is a plain release, as FileChannel.lock treats it.
    MutexLock releasing = released.asLock(OwnerDeathPolicy.RELEASE);
    releasing.lock();
    assertFalse(releasing.ownerDied());
    assertTrue(released.isConsistent());
    releasing.unlock();
    MutexGuard next = released.tryLock().orElseThrow();
    assertFalse(next.ownerDied(), "the next holder is told nothing");
    next.unlock();
  }

  private static void awaitQueueLength(Mutex mutex, int expected) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (mutex.queueLength() != expected && System.nanoTime() - deadline < 0) {
      Thread.sleep(5);
    }
    assertEquals(expected, mutex.queueLength(), "the child's kernel wait is counted");
  }

  @Test
  void aTakerThroughAsLockThatUnlocksWithoutRepairLeavesItNotRecoverableUntilAnOperatorResets()
      throws Exception {
    Mutex mutex = region.mutex("m");
    try (MappedRegion raw = openRawMapping()) {
      new MutexWords(raw.segment(), raw.find("m").orElseThrow().offset())
          .spWord(Child.deadPid() | MutexDescriptor.WAITERS);
    }
    MutexLock lock = mutex.asLock();
    assertThrows(OwnerDiedException.class, () -> lock.tryLock());
    lock.unlock(); // without markConsistent: POSIX's ENOTRECOVERABLE
    assertInstanceOf(NotRecoverableException.class, failureOf(mutex.lock()));
    assertThrows(NotRecoverableException.class, mutex::tryLock);
    assertFalse(mutex.isConsistent());

    assertTrue(mutex.resetNotRecoverable(), "the operator checked the data and resets it");
    assertFalse(mutex.resetNotRecoverable(), "nothing left to reset");
    assertTrue(mutex.isConsistent());
    MutexGuard guard = await(mutex.lock());
    assertFalse(guard.ownerDied());
    guard.unlock();
    assertFalse(mutex.isLocked());
  }

  @Test
  void resetLeavesAHeldOrFreeMutexAlone() throws Exception {
    Mutex mutex = region.mutex("m");
    assertFalse(mutex.resetNotRecoverable());
    MutexGuard guard = await(mutex.lock());
    assertFalse(mutex.resetNotRecoverable());
    assertEquals(PID, mutex.ownerPid(), "still held");
    guard.unlock();
  }
}
