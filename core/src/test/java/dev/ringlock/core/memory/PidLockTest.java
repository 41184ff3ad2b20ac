package dev.ringlock.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.InternalLockTimeoutException;
import dev.ringlock.core.ffi.FutexFlags;
import dev.ringlock.testsupport.Child;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pid-owned lock word (the directory's, and any other): held by a pid, waited on with a futex,
 * taken from a dead owner.
 */
@Timeout(60)
class PidLockTest {
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  private static final long LOCK = RegionDescriptor.DIRECTORY_LOCK_OFFSET;

  @TempDir Path directory;

  @Test
  void lockOfADeadOwnerIsTakenOver() throws Exception {
    int deadPid = Child.deadPid();
    assertFalse(ProcessHandle.of(deadPid).isPresent());

    try (MappedRegion region = MappedRegion.open(directory.resolve("r"), 64 * 1024, 8)) {
      // As if that process had died while inserting.
      INT.setVolatile(region.segment(), LOCK, deadPid);
      CompletableFuture<NamedObject> insert =
          CompletableFuture.supplyAsync(() -> region.findOrCreate("after", 1, 8, o -> {}));
      NamedObject object = insert.get(30, TimeUnit.SECONDS);
      assertEquals(Optional.of(object), region.find("after"));
      assertEquals(0, (int) INT.getVolatile(region.segment(), LOCK), "the lock was not released");
    }
  }

  @Test
  void lockOfAZombieOwnerIsTakenOver() throws Exception {
    // The shell's background child exits; its parent (the shell, exec'd into sleep) never reaps
    // it, so it stays a zombie, which ProcessHandle.isAlive and kill(pid, 0) still call alive.
    Process parent =
        new ProcessBuilder("sh", "-c", "sleep 0.1 & echo $!; exec sleep 60")
            .redirectErrorStream(true)
            .start();
    try (MappedRegion region = MappedRegion.open(directory.resolve("r"), 64 * 1024, 8)) {
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8));
      int zombie = Integer.parseInt(out.readLine().trim());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!isZombie(zombie)) {
        assertTrue(System.nanoTime() < deadline, "the child did not become a zombie");
        Thread.sleep(20);
      }
      assertTrue(ProcessHandle.of(zombie).map(ProcessHandle::isAlive).orElse(false));
      assertFalse(PidLock.isAlive(zombie), "a zombie has exited");

      // As if that process had died while inserting; it stays a zombie throughout.
      INT.setVolatile(region.segment(), LOCK, zombie);
      long start = System.nanoTime();
      NamedObject object = region.findOrCreate("after zombie", 1, 8, o -> {});
      long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertEquals(Optional.of(object), region.find("after zombie"));
      assertEquals(0, (int) INT.getVolatile(region.segment(), LOCK), "the lock was not released");
      assertTrue(isZombie(zombie), "the owner was reaped meanwhile: the test proved nothing");
      // Taken over at the first re-check (10 ms), far from the 5 s a live holder is waited for.
      assertTrue(tookMillis < 3_000, "took " + tookMillis + " ms");
    } finally {
      parent.destroyForcibly();
      parent.waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static boolean isZombie(int pid) throws Exception {
    Path stat = Path.of("/proc/" + pid + "/stat");
    if (!Files.exists(stat)) {
      return false;
    }
    String line = Files.readString(stat);
    return line.substring(line.lastIndexOf(')') + 2).startsWith("Z");
  }

  @Test
  void lockOfALiveOwnerIsWaitedForUntilTheOwnerDies() throws Exception {
    try (Child owner = Child.program("sleep", "60").start();
        MappedRegion region = MappedRegion.open(directory.resolve("r"), 64 * 1024, 8)) {
      INT.setVolatile(region.segment(), LOCK, owner.intPid());
      CompletableFuture<NamedObject> insert =
          CompletableFuture.supplyAsync(() -> region.findOrCreate("blocked", 1, 8, o -> {}));
      Thread.sleep(300); // thirty liveness checks: the owner is alive each time
      assertFalse(insert.isDone(), "took the lock of a live owner");
      // The waiter announced itself, so an unlock by the owner would wake it.
      int word = (int) INT.getVolatile(region.segment(), LOCK);
      assertEquals(owner.intPid() | RegionDescriptor.LOCK_WAITERS, word);

      owner.signal("TERM");
      assertTrue(owner.waitFor(Duration.ofSeconds(30)));
      assertEquals("blocked", insert.get(30, TimeUnit.SECONDS).name());
      assertEquals(0, (int) INT.getVolatile(region.segment(), LOCK));
    }
  }

  @Test
  void waiterProceedsWhenTheHolderUnlocksAndWakes() throws Exception {
    try (MappedRegion region = MappedRegion.open(directory.resolve("r"), 64 * 1024, 8)) {
      MemorySegment segment = region.segment();
      int self = (int) ProcessHandle.current().pid();
      // Another thread of this process holds the lock: alive, so only an unlock lets us in.
      INT.setVolatile(segment, LOCK, self);
      CompletableFuture<NamedObject> insert =
          CompletableFuture.supplyAsync(() -> region.findOrCreate("waited", 1, 8, o -> {}));
      Thread.sleep(100);
      assertFalse(insert.isDone(), "took a lock held by a live thread");
      assertEquals(Optional.empty(), region.find("waited"));

      int previous = (int) INT.getAndSet(segment, LOCK, 0);
      if ((previous & RegionDescriptor.LOCK_WAITERS) != 0) {
        Futex.wake(FutexWord.of(segment, LOCK), 1, FutexFlags.BITSET_MATCH_ANY);
      }
      assertEquals("waited", insert.get(30, TimeUnit.SECONDS).name());
    }
  }

  @Test
  void aLockAtAnyWordSaysWhenItTookOverAndNamesWhatItGuards() throws Exception {
    int deadPid = Child.deadPid();
    try (Arena arena = Arena.ofShared()) {
      MemorySegment memory = arena.allocate(256, 64);
      PidLock lock = new PidLock(memory, 132, null, "wait queue 'q'");
      assertFalse(lock.lock(), "a free lock is not a takeover");
      assertEquals((int) ProcessHandle.current().pid(), lock.holder());
      lock.unlock();
      assertEquals(0, lock.holder());

      INT.setVolatile(memory, 132L, deadPid);
      assertTrue(lock.lock(), "taken from a dead owner: what it guards may need repair");
      lock.unlock();

      INT.setVolatile(memory, 132L, 0x8000_0001);
      UncheckedIOException e = assertThrows(UncheckedIOException.class, lock::lock);
      assertTrue(e.getMessage().contains("wait queue 'q' lock word of 0x80000001"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> new PidLock(memory, 130, null, "x"));
      assertThrows(IllegalArgumentException.class, () -> new PidLock(memory, 256, null, "x"));
    }
  }

  @Test
  void lockWordWithUnknownBitsIsCorruption() throws Exception {
    try (MappedRegion region = MappedRegion.open(directory.resolve("r"), 64 * 1024, 8)) {
      INT.setVolatile(region.segment(), LOCK, 0x8000_0001);
      UncheckedIOException e =
          assertThrows(UncheckedIOException.class, () -> region.findOrCreate("x", 1, 8, o -> {}));
      assertTrue(e.getMessage().contains("lock word"), e.getMessage());
    }
  }

  @Test
  void lockHeldByALiveProcessFailsAfterTheBoundNamingTheHolderAndTheObject() throws Exception {
    try (Arena arena = Arena.ofShared()) {
      MemorySegment memory = arena.allocate(256, 64);
      PidLock lock = new PidLock(memory, 128, null, "wait queue 'q'");
      INT.setVolatile(memory, 128L, 1); // init: alive for ever, and never unlocks
      long start = System.nanoTime();
      InternalLockTimeoutException e =
          assertThrows(
              InternalLockTimeoutException.class, () -> lock.lock(200_000_000L, () -> false));
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(millis >= 195 && millis < 3_000, "gave up after " + millis + " ms");
      assertEquals(1, e.holderPid());
      assertEquals("wait queue 'q'", e.lockedObject());
      assertTrue(e.getMessage().contains("pid 1"), e.getMessage());
      assertEquals(1 | RegionDescriptor.LOCK_WAITERS, (int) INT.getVolatile(memory, 128L));

      // Asked to give up (the caller's object closed): at once, whatever the bound.
      start = System.nanoTime();
      assertThrows(InternalLockTimeoutException.class, () -> lock.lock(Long.MAX_VALUE, () -> true));
      assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 1_000);
    }
  }

  @Test
  void anAsynchronousWaiterAnnouncesItselfAndTakesOverOnlyADeadOwnersLock() throws Exception {
    int deadPid = Child.deadPid();
    int self = (int) ProcessHandle.current().pid();
    try (Arena arena = Arena.ofShared()) {
      MemorySegment memory = arena.allocate(256, 64);
      PidLock lock = new PidLock(memory, 64, null, "wait queue 'q'");
      assertEquals(0, lock.waitValue(), "a free lock is not waited for");

      INT.setVolatile(memory, 64L, 1);
      assertFalse(lock.tryLock());
      int observed = lock.waitValue();
      assertEquals(1 | RegionDescriptor.LOCK_WAITERS, observed, "the holder's unlock must wake");
      assertFalse(lock.takeOverIfDead(observed), "pid 1 is alive");
      assertEquals(observed, (int) INT.getVolatile(memory, 64L));

      INT.setVolatile(memory, 64L, deadPid);
      observed = lock.waitValue();
      assertTrue(lock.takeOverIfDead(observed));
      assertEquals(self | RegionDescriptor.LOCK_WAITERS, (int) INT.getVolatile(memory, 64L));
      lock.unlock();

      assertTrue(lock.tryLockAfterWait());
      assertEquals(
          self | RegionDescriptor.LOCK_WAITERS,
          (int) INT.getVolatile(memory, 64L),
          "a woken waiter keeps the bit: other sleepers may remain");
      lock.unlock();
      assertTrue(lock.tryLock());
      assertEquals(self, lock.holder());
      lock.unlock();
    }
  }

  @Test
  void anInsertFailsAfterTheBoundWhileALiveProcessHoldsTheDirectoryLock() throws Exception {
    try (MappedRegion region = MappedRegion.open(directory.resolve("r"), 64 * 1024, 8)) {
      region.internalLockTimeout(Duration.ofMillis(200));
      INT.setVolatile(region.segment(), LOCK, 1);
      InternalLockTimeoutException e =
          assertThrows(
              InternalLockTimeoutException.class, () -> region.findOrCreate("x", 1, 8, o -> {}));
      assertEquals("directory", e.lockedObject());
      assertEquals(Optional.empty(), region.find("x"), "nothing was changed");
    }
  }
}
