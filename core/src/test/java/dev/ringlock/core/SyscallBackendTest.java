package dev.ringlock.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What only the syscalls backend has: its thread bound, its placement, its repairs, selection. */
@Timeout(120)
class SyscallBackendTest {
  private FutexRing ring;

  @BeforeEach
  void openRing() {
    ring = FutexRing.open(FutexRing.options().backend(FutexRing.Backend.SYSCALLS));
  }

  @AfterEach
  void closeRing() {
    ring.close();
  }

  private static <T> T await(CompletableFuture<T> future) throws Exception {
    return future.get(10, TimeUnit.SECONDS);
  }

  @Test
  void theRingSaysWhichBackendItRunsOn() {
    assertEquals(FutexRing.Backend.SYSCALLS, ring.backend());
    assertTrue(ring.toString().contains("syscalls"), ring.toString());
    assertEquals(0, ring.stats().sqesSubmitted(), "there is no ring to submit to");
  }

  /**
   * A wake on a word whose file mapping was unmapped while a wait on it was pending (a region
   * closed meanwhile) must not read the unmapped memory from Java: that read would kill the JVM
   * with SIGSEGV, where the kernel's own read is a harmless EFAULT.
   */
  @Test
  void aWordUnmappedWhileAWaitIsPendingIsNeverReadFromJava() throws Exception {
    Path file = Files.createTempFile(Path.of("/dev/shm"), "ringlock-unmapped-", ".word");
    try {
      Arena arena = Arena.ofShared();
      MemorySegment mapping;
      try (FileChannel channel =
          FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        mapping = channel.map(FileChannel.MapMode.READ_WRITE, 0, 4096, arena);
      }
      FutexWord word = FutexWord.of(mapping, 0);
      CompletableFuture<WaitOutcome> wait = ring.wait(word, 0);
      arena.close(); // munmap: the page is gone
      CompletableFuture<Integer> woken = ring.wake(word, 1); // survives: no raw read
      assertTrue(woken.isDone());
      ring.close();
      assertTrue(wait.isDone(), "close completes the pending wait");
    } finally {
      Files.deleteIfExists(file);
    }
  }

  @Test
  void theBackendPropertyNamesABackendOrFailsClearly() {
    assertEquals(FutexRing.Backend.AUTO, FutexRing.Backend.fromProperty(null));
    assertEquals(FutexRing.Backend.AUTO, FutexRing.Backend.fromProperty(" auto "));
    assertEquals(FutexRing.Backend.IO_URING, FutexRing.Backend.fromProperty("IO_URING"));
    assertEquals(FutexRing.Backend.SYSCALLS, FutexRing.Backend.fromProperty("syscalls"));
    IllegalArgumentException bad =
        assertThrows(IllegalArgumentException.class, () -> FutexRing.Backend.fromProperty("epoll"));
    assertTrue(bad.getMessage().contains("io_uring, syscalls or auto"), bad.getMessage());
  }

  @Test
  void waitsBeyondSixteenThreadsOf126WordsAreRefusedWithWhatToDo() throws Exception {
    int capacity = SyscallBackend.MAX_PENDING_WAITS;
    assertEquals(16 * 126, capacity);
    Words words = new Words(capacity + 1);
    List<CompletableFuture<WaitOutcome>> waits = new ArrayList<>();
    for (int i = 0; i < capacity; i++) {
      waits.add(ring.wait(words.word(i), 0));
    }
    WaitCapacityException full =
        assertThrows(WaitCapacityException.class, () -> ring.wait(words.word(capacity), 0));
    assertTrue(full.getMessage().contains("2016"), full.getMessage());
    long waitThreads =
        Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().startsWith(threadPrefix()) && t.getName().contains("waitv"))
            .count();
    assertEquals(16, waitThreads, "one thread per 126 waits, no more than 16");
    assertEquals(capacity, ring.stats().inFlight());
    assertEquals(0, await(ring.wake(words.word(capacity), 1)));
    assertEquals(1, await(ring.wake(words.word(capacity - 1), 1)));
    assertTrue(await(waits.get(capacity - 1)).isWoken());
    // room again for one
    CompletableFuture<WaitOutcome> more = ring.wait(words.word(capacity), 0);
    assertEquals(1, await(ring.wake(words.word(capacity), 1)));
    assertTrue(await(more).isWoken());
  }

  private String threadPrefix() {
    String name = ring.toString();
    return name.substring("FutexRing[".length(), name.indexOf(','));
  }

  /**
   * Two wakes of different words that reach one futex_waitv thread before it leaves the kernel: the
   * call reports only the later entry, and the earlier one must not sleep on (that wake would be
   * lost for good, as this test's waits were before the fix). Futex.wake makes each wake a bare
   * system call, so the second lands while the thread is still being woken by the first. Private
   * words end woken because this process woke them (InProcessWakes), shared ones because another
   * process might have.
   */
  @Test
  void aWakeTheKernelCannotReportStillEndsItsWait() throws Exception {
    Path file = Files.createTempFile(Path.of("/dev/shm"), "ringlock-unreported-", ".words");
    try (Arena arena = Arena.ofShared();
        FileChannel channel =
            FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      MemorySegment mapped = channel.map(FileChannel.MapMode.READ_WRITE, 0, 4096, arena);
      Words fillers = new Words(SyscallBackend.MAX_THREADS);
      List<CompletableFuture<WaitOutcome>> parked = fillThreadsLeavingTheFirstLeast(fillers);
      Words words = new Words(2);
      FutexWord[][] pairs = {
        {words.word(0), words.word(1)}, {FutexWord.of(mapped, 0), FutexWord.of(mapped, 64)}
      };
      for (FutexWord[] pair : pairs) {
        int bothCounted = 0;
        for (int round = 0; round < 40; round++) {
          // both on the first thread, which holds the fewest: [filler, first, second]
          CompletableFuture<WaitOutcome> first = ring.wait(pair[0], 0);
          CompletableFuture<WaitOutcome> second = ring.wait(pair[1], 0);
          Rings.awaitSettled(ring, 10);
          assertEquals(1, Futex.wake(pair[0], 1, FutexRing.ANY_BITSET), "round " + round);
          if (Futex.wake(pair[1], 1, FutexRing.ANY_BITSET) == 1) {
            bothCounted++; // the second reached the thread too, maybe before it left the kernel
          } else {
            // the thread had left the kernel already; a ring wake hands its count to it
            assertEquals(1, await(ring.wake(pair[1], 1)), "round " + round);
          }
          assertTrue(await(second).isWoken(), "round " + round);
          assertTrue(await(first).isWoken(), "round " + round + ": a wake was lost");
        }
        assertTrue(bothCounted > 0, "no round had both wakes reach the thread: proved nothing");
      }
      parked.forEach(wait -> wait.cancel(false));
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /**
   * The other side of the test above: a wait on a private word before the reported entry, whose
   * word this process did not wake, sleeps on instead of ending in a spurious wakeup (in a JVM that
   * never opened an io_uring ring; see UnwokenPrivateWaitChild).
   */
  @Test
  void aPrivateWaitThatNoWakeReachedSleepsOn() throws Exception {
    try (Child child = Child.jvm(UnwokenPrivateWaitChild.class).captureStdout().start()) {
      assertEquals("OK", child.expect(""));
      assertEquals(0, child.awaitExit(Duration.ofSeconds(60)));
    }
  }

  /**
   * One wait on the first thread and two on each other thread (one word each), so that the next
   * waits on new words all go to the first thread (the least loaded).
   */
  private List<CompletableFuture<WaitOutcome>> fillThreadsLeavingTheFirstLeast(Words fillers)
      throws Exception {
    List<CompletableFuture<WaitOutcome>> parked = new ArrayList<>();
    for (int i = 0; i < SyscallBackend.MAX_THREADS; i++) {
      parked.add(ring.wait(fillers.word(i), 0));
    }
    for (int i = 1; i < SyscallBackend.MAX_THREADS; i++) {
      parked.add(ring.wait(fillers.word(i), 0)); // to the thread that holds word i
    }
    awaitInFlight(parked.size());
    return parked;
  }

  /**
   * The pure-wake gap, made deterministic: a futex_waitv thread woken a moment before (here by a
   * cancel's poke) is out of the kernel but still reads as asleep, so a wake that changes no word
   * finds none of its entries queued and the re-arm that follows sees the word unchanged. The wake
   * must hand its unused count to that thread, which ends the wait woken and lets the wake count it
   * (for wake, wakeEach and WakeSignal, private and shared words, a wake of one reaching only the
   * oldest, and a wait made after the wake began left asleep); a bitset wait between two slices of
   * its futex wait must end woken too. And the other way round: a wake goes ahead of a held thread
   * that holds no wait (nothing to be ordered after), and still reaches a wait placed on it before
   * the wake. HeldRearmChild holds the thread at that instant through TestPausePoints, which needs
   * a JVM of its own.
   */
  @Test
  void aPureWakeReachesAWaitWhoseThreadIsOutOfTheKernel() throws Exception {
    try (Child child = Child.jvm(HeldRearmChild.class).captureStdout().start()) {
      assertEquals(0, child.awaitExit(Duration.ofSeconds(60)), child.output());
      assertEquals(
          List.of(
              "OK wake of all, private",
              "OK wake of all, shared",
              "OK wake of one",
              "OK wakeEach",
              "OK wakeSignal",
              "OK bitset wait",
              "OK wake passes a thread that holds no wait",
              "DONE"),
          child.seen());
    }
  }

  @Test
  void aWaitAnyTooBigForOneThreadIsSplitAndTheFirstWakeCompletesIt() throws Exception {
    Words words = new Words(FutexRing.MAX_WAIT_ANY + 1);
    CompletableFuture<WaitOutcome> single = ring.wait(words.word(FutexRing.MAX_WAIT_ANY), 0);
    List<WaitTarget> targets = new ArrayList<>();
    for (int i = 0; i < FutexRing.MAX_WAIT_ANY; i++) {
      targets.add(new WaitTarget(words.word(i), 0));
    }
    CompletableFuture<WaitOutcome> any = ring.waitAny(targets); // 128 words: two threads
    assertEquals(1, await(ring.wake(words.word(5), 1)));
    assertEquals(5, await(any).wokenIndex());
    awaitInFlight(1); // the other thread dropped its part of the waitAny
    assertEquals(0, await(ring.wake(words.word(127), 1)), "no stray entry left in the kernel");
    assertFalse(single.isDone());
    single.cancel(false);
  }

  @Test
  void pureWakesOfTwoWordsOfOneThreadMadeBackToBackBothArrive() throws Exception {
    Words words = new Words(2);
    for (int round = 0; round < 200; round++) {
      CompletableFuture<WaitOutcome> a = ring.wait(words.word(0), 0);
      CompletableFuture<WaitOutcome> b = ring.wait(words.word(1), 0);
      // Both sit in one futex_waitv; the second wake often lands while the thread is leaving the
      // kernel for the first, and then reaches its wait only through the handover.
      assertEquals(1, await(ring.wake(words.word(0), 1)), "round " + round);
      assertEquals(1, await(ring.wake(words.word(1), 1)), "round " + round);
      assertTrue(await(a).isWoken());
      assertTrue(await(b).isWoken());
    }
  }

  @Test
  void waitsOnOneWordAreSpreadSoThatAWakeOfAllReachesEveryOne() throws Exception {
    Words words = new Words(1);
    List<CompletableFuture<WaitOutcome>> waits = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      waits.add(ring.wait(words.word(0), 0));
    }
    assertEquals(10, await(ring.wake(words.word(0), FutexRing.WAKE_ALL)));
    for (CompletableFuture<WaitOutcome> wait : waits) {
      assertTrue(await(wait).isWoken());
    }
  }

  @Test
  void aCancelRacingAWakeThatChangesTheWordNeverStrandsTheLiveWaiter() throws Exception {
    Words words = new Words(1);
    FutexWord word = words.word(0);
    ExecutorService canceller = Executors.newSingleThreadExecutor();
    try {
      for (int round = 0; round < 500; round++) {
        int value = round;
        words.set(0, value);
        CompletableFuture<WaitOutcome> abandoned = ring.wait(word, value);
        CompletableFuture<WaitOutcome> live = ring.wait(word, value);
        CyclicBarrier start = new CyclicBarrier(2);
        Future<Boolean> cancelled =
            canceller.submit(
                () -> {
                  start.await();
                  return abandoned.cancel(false);
                });
        start.await();
        words.set(0, value + 1); // as every protocol does: change the word, then wake
        ring.wake(word, 1);
        if (!cancelled.get(10, TimeUnit.SECONDS)) {
          assertTrue(await(abandoned).isWoken() || abandoned.join().isValueChanged());
          ring.wake(word, 1);
        }
        // Woken directly, through the cancelled wait's hand-on, or by the change of the word;
        // a stranded waiter times out here.
        WaitOutcome outcome = await(live);
        assertTrue(outcome.isWoken() || outcome.isValueChanged(), "round " + round);
        awaitInFlight(0);
      }
    } finally {
      canceller.shutdownNow();
    }
  }

  @Test
  void aWaitWithABitsetTakesAThreadOfItsOwnAndTimesOut() throws Exception {
    Words words = new Words(1);
    CompletableFuture<WaitOutcome> timed =
        ring.wait(words.word(0), 0, 0b100, java.time.Duration.ofMillis(120));
    Throwable failure =
        assertThrows(java.util.concurrent.ExecutionException.class, () -> await(timed)).getCause();
    assertInstanceOf(java.util.concurrent.TimeoutException.class, failure);
  }

  @Test
  void aClosedRingFailsItsPendingWaitsAndLeavesNoneInTheKernel() throws Exception {
    Words words = new Words(3);
    CompletableFuture<WaitOutcome> plain = ring.wait(words.word(0), 0);
    CompletableFuture<WaitOutcome> bitset = ring.wait(words.word(1), 0, 0b1);
    CompletableFuture<WaitOutcome> any =
        ring.waitAny(List.of(new WaitTarget(words.word(2), 0), new WaitTarget(words.word(0), 0)));
    ring.close();
    for (CompletableFuture<WaitOutcome> wait : List.of(plain, bitset, any)) {
      Throwable failure =
          assertThrows(java.util.concurrent.ExecutionException.class, () -> await(wait)).getCause();
      assertInstanceOf(RingClosedException.class, failure);
    }
    for (int i = 0; i < 3; i++) {
      assertEquals(0, Futex.wake(words.word(i), FutexRing.WAKE_ALL, FutexRing.ANY_BITSET));
    }
  }

  private void awaitInFlight(int expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (ring.stats().inFlight() != expected && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    assertEquals(expected, ring.stats().inFlight());
  }
}
