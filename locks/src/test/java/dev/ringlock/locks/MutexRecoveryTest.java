package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.MutexWords;
import dev.ringlock.testsupport.Child;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Owner-death recovery within this JVM, against real processes: a word holding the pid of a process
 * that has exited (a dead owner), or of a live {@code sleep} that the test then kills. The
 * multi-process tests with killed JVMs are MutexOwnerDeathTest.
 */
@Timeout(60)
class MutexRecoveryTest extends RegionTestBase {
  private static final int PID = (int) ProcessHandle.current().pid();

  private MappedRegion raw;
  private Child sleeper; // a live process that tests make the owner, then kill

  @BeforeEach
  void mapRaw() throws Exception {
    raw = openRawMapping();
  }

  @AfterEach
  void unmapRaw() {
    raw.close();
    if (sleeper != null) {
      sleeper.close();
    }
  }

  private int livePid() throws Exception {
    sleeper = Child.program("sleep", "60").start();
    return sleeper.intPid();
  }

  private MemorySegment object(String name) {
    return raw.segment(raw.find(name).orElseThrow());
  }

  private MutexWords words(String name) {
    return new MutexWords(raw.segment(), raw.find(name).orElseThrow().offset());
  }

  private int word(String name) {
    return words(name).lvWord();
  }

  private void setWord(String name, int value) {
    words(name).spWord(value);
  }

  /** Gives pending kernel waits time to reach the kernel. */
  private static void letWaitsSettle() throws InterruptedException {
    Thread.sleep(50);
  }

  @Test
  void tryLockTakesOverFromADeadOwnerAndReportsIt() throws Exception {
    Mutex mutex = region.mutex("m");
    int dead = Child.deadPid();
    setWord("m", dead);
    assertFalse(mutex.isConsistent(), "held by a dead process");
    MutexGuard guard = mutex.tryLock().orElseThrow();
    assertTrue(guard.ownerDied());
    assertEquals(PID, mutex.ownerPid());
    assertFalse(mutex.isConsistent(), "taken over, not yet marked consistent");
    assertEquals(
        PID | MutexDescriptor.WAITERS | MutexDescriptor.OWNER_DIED, word("m"), "the word says so");
    guard.markConsistent();
    assertTrue(mutex.isConsistent());
    guard.unlock();
    MutexGuard next = mutex.tryLock().orElseThrow();
    assertFalse(next.ownerDied(), "consistent again: the next holder is told nothing");
    next.unlock();
  }

  @Test
  void aLaterLockTakesOverWhenNobodyWaitedAtTheDeath() throws Exception {
    Mutex mutex = region.mutex("m");
    setWord("m", Child.deadPid() | MutexDescriptor.WAITERS);
    MutexGuard guard = await(mutex.lock());
    assertTrue(guard.ownerDied());
    guard.markConsistent();
    guard.unlock();
    assertFalse(mutex.isLocked());
  }

  @Test
  void aQueuedWaiterTakesOverWhenTheLiveOwnerDies() throws Exception {
    Mutex mutex = region.mutex("m");
    setWord("m", livePid());
    CompletableFuture<MutexGuard> waiter = mutex.lock();
    letWaitsSettle();
    assertFalse(waiter.isDone(), "the owner is alive");
    assertEquals(1, ring.processes().watchedProcesses(), "one exit watch on the owner");
    long killedAt = System.nanoTime();
    sleeper.kill();
    MutexGuard guard = await(waiter);
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
    assertTrue(guard.ownerDied());
    assertTrue(tookMillis < 5_000, "the exit watch, not a re-check, woke it: " + tookMillis);
    guard.markConsistent();
    guard.unlock();
  }

  @Test
  void aLockAnyWaiterWatchesTheLiveOwnerAndTakesOverWhenItDies() throws Exception {
    Mutex held = region.mutex("m");
    Mutex other = region.mutex("n");
    MutexGuard otherGuard = other.tryLock().orElseThrow(); // held here: lockAny sleeps on both
    setWord("m", livePid());
    CompletableFuture<MutexGuard> waiter = Mutex.lockAny(List.of(held, other));
    letWaitsSettle();
    assertFalse(waiter.isDone(), "the owner is alive");
    // Its FUTEX_WAITV depends on the foreign owner: watched, as a mutex sleeper watches its owner.
    assertEquals(1, ring.processes().watchedProcesses(), "one exit watch on the owner");
    long killedAt = System.nanoTime();
    sleeper.kill();
    MutexGuard guard = await(waiter);
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
    assertEquals("m", guard.mutex().name());
    assertTrue(guard.ownerDied());
    assertTrue(tookMillis < 5_000, "took " + tookMillis + " ms");
    guard.markConsistent();
    guard.unlock();
    otherGuard.unlock();
    long dropped = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (ring.processes().watchedProcesses() != 0) {
      assertTrue(System.nanoTime() < dropped, "the watch was never dropped");
      Thread.sleep(10);
    }
  }

  @Test
  void anOwnerKilledAfterFreeingTheWordButBeforeItsWakeStrandsNobody() throws Exception {
    Mutex mutex = region.mutex("m");
    int owner = livePid();
    setWord("m", owner);
    CompletableFuture<MutexGuard> waiter = mutex.lock();
    letWaitsSettle();
    assertEquals(owner | MutexDescriptor.WAITERS, word("m"), "the waiter sleeps on the word");
    setWord("m", 0); // the owner's release: the word is free, and no wake follows
    sleeper.kill();
    MutexGuard guard = await(waiter);
    assertFalse(guard.ownerDied(), "it had released the mutex: nothing to repair");
    guard.unlock();
  }

  @Test
  void unlockingWithoutMarkConsistentMakesTheMutexNotRecoverableEverywhere() throws Exception {
    Mutex mutex = region.mutex("m");
    setWord("m", Child.deadPid());
    MutexGuard guard = mutex.tryLock().orElseThrow();
    try (SharedRegion other = SharedRegion.open(region.file(), withRing())) {
      Mutex seenElsewhere = other.mutex("m");
      CompletableFuture<MutexGuard> queuedHere = mutex.lock();
      CompletableFuture<MutexGuard> queuedThere = seenElsewhere.lock();
      letWaitsSettle();
      guard.unlock();
      assertInstanceOf(NotRecoverableException.class, failureOf(queuedHere));
      assertInstanceOf(NotRecoverableException.class, failureOf(queuedThere));
      assertThrows(NotRecoverableException.class, mutex::tryLock);
      assertThrows(NotRecoverableException.class, seenElsewhere::tryLock);
      assertInstanceOf(NotRecoverableException.class, failureOf(seenElsewhere.lock()));
      assertInstanceOf(
          NotRecoverableException.class, failureOf(Mutex.lockAny(List.of(seenElsewhere))));
      assertThrows(NotRecoverableException.class, () -> mutex.asLock().lock());
      assertFalse(mutex.isLocked());
      assertFalse(mutex.isConsistent());
    }
  }

  @Test
  void theNextHolderSeesOwnerDiedAgainWhenTheTakerDiesToo() throws Exception {
    Mutex mutex = region.mutex("m");
    // A taker (a process that died since) holds it, not marked consistent.
    setWord("m", Child.deadPid() | MutexDescriptor.WAITERS | MutexDescriptor.OWNER_DIED);
    MutexGuard guard = mutex.tryLock().orElseThrow();
    assertTrue(guard.ownerDied());
    guard.markConsistent();
    guard.unlock();
    assertTrue(mutex.isConsistent());
  }

  @Test
  void markConsistentIsRefusedAfterUnlockAndHarmlessWhenNobodyDied() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard guard = mutex.tryLock().orElseThrow();
    assertFalse(guard.ownerDied());
    guard.markConsistent();
    assertTrue(mutex.isConsistent());
    guard.unlock();
    assertThrows(IllegalStateException.class, guard::markConsistent);
    assertFalse(mutex.isLocked());
  }

  @Test
  void theLockViewReportsATakeoverWithTheLockHeldAndCanMarkConsistent() throws Exception {
    Mutex mutex = region.mutex("m");
    setWord("m", Child.deadPid());
    MutexLock lock = mutex.asLock();
    assertThrows(OwnerDiedException.class, lock::tryLock, "the view tells of the dead owner");
    assertTrue(lock.isHeldByCurrentThread());
    assertFalse(mutex.isConsistent());
    lock.markConsistent();
    lock.unlock();
    assertTrue(mutex.isConsistent());
    assertTrue(lock.tryLock(), "recovered, not bricked");
    lock.unlock();
  }

  @Test
  void lockAnyTakesOverACandidateWhoseOwnerIsDead() throws Exception {
    Mutex first = region.mutex("first");
    Mutex second = region.mutex("second");
    MutexGuard held = first.tryLock().orElseThrow();
    setWord("second", Child.deadPid());
    MutexGuard guard = await(Mutex.lockAny(List.of(first, second)));
    assertEquals("second", guard.mutex().name());
    assertTrue(guard.ownerDied());
    guard.markConsistent();
    guard.unlock();
    held.unlock();
  }

  @Test
  void aDeadProcessMarkedStarvingNoLongerStopsOthersFromTakingAFreeMutex() throws Exception {
    Mutex mutex = region.mutex("m");
    markStarving(Child.deadPid());
    assertTrue(mutex.tryLock().isPresent(), "the dead process's mark is cleared, not obeyed");
    assertEquals(0, words("m").lvStarvingPid(0));
    assertEquals(0, words("m").lvStarvingSummary(), "and the summary with it");
    mutex.tryLock().ifPresent(MutexGuard::unlock);
  }

  @Test
  void aWaiterStandingBackForADeadStarvingProcessTakesTheFreeMutex() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard held = mutex.tryLock().orElseThrow();
    CompletableFuture<MutexGuard> waiter = mutex.lock(); // queued behind our own hold
    markStarving(livePid());
    held.unlock(); // local handoff is refused while another process starves
    MutexGuard guard;
    if (waiter.isDone()) {
      guard = await(waiter); // handed over before the mark was seen: still a correct outcome
    } else {
      letWaitsSettle();
      assertFalse(waiter.isDone(), "it stands back for the starving process");
      sleeper.kill();
      guard = waiter.get(5, TimeUnit.SECONDS);
    }
    assertFalse(guard.ownerDied());
    guard.unlock();
  }

  @Test
  void closingTheRegionWhileHoldingAnInconsistentMutexLeavesItNotRecoverable() throws Exception {
    Mutex mutex = region.mutex("m");
    setWord("m", Child.deadPid());
    try (SharedRegion other = SharedRegion.open(region.file(), withRing())) {
      MutexGuard guard = other.mutex("m").tryLock().orElseThrow();
      assertTrue(guard.ownerDied());
    }
    assertThrows(NotRecoverableException.class, mutex::tryLock);
  }

  @Test
  void aWaitReChecksTheWordWithinTheBoundEvenWithoutAWake() throws Exception {
    Mutex mutex = region.mutex("m");
    MutexGuard held = mutex.tryLock().orElseThrow();
    try (SharedRegion other = SharedRegion.open(region.file(), withRing())) {
      CompletableFuture<MutexGuard> waiter = other.mutex("m").lock(Duration.ofSeconds(20));
      letWaitsSettle();
      // Free the word behind the protocol's back: no wake is sent, as when a wake is lost.
      setWord("m", 0);
      long freedAt = System.nanoTime();
      MutexGuard guard = waiter.get(5, TimeUnit.SECONDS);
      long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - freedAt);
      assertTrue(tookMillis < 2_000, "re-checked after " + tookMillis + " ms");
      guard.unlock();
    }
    assertFalse(held.ownerDied()); // still "held" here: the region's close frees the word
  }

  /** Marks {@code pid} starving in mutex m's slot 0 as a marking process does: slot, summary. */
  private void markStarving(int pid) {
    words("m").spStarvingPid(0, pid);
    words("m").spStarvingSummary(1);
  }
}
