package dev.ringlock.locks;

import static dev.ringlock.locks.internal.WaitQueueDescriptor.LIST_LOCK_OFFSET;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WOKEN_ALL;

import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.PidLock;
import dev.ringlock.locks.internal.WaitQueueWords;
import dev.ringlock.testsupport.Watchdog;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM of {@link WaitQueueOwnerDeathTest}, usually killed by it, in one of these roles:
 *
 * <ul>
 *   <li>{@code await NAME}: awaits key 0 on queue "q", announces "armed-NAME", and prints "WOKEN"
 *       and exits 0 once woken;
 *   <li>{@code signalled NAME}: the same through condition "c" and mutex "m";
 *   <li>{@code wake-one}: wake(1) on queue "q", prints "WOKE n", and exits (closing the region
 *       sends the wake first);
 *   <li>{@code hold-list-lock}: takes the list lock of queue "q" and, as if halfway through a wake,
 *       unlinks the tail waiter (tail and count updated, the old tail's link not yet) and stores
 *       WOKEN_ALL in it without sending the wake; then announces "locked" and sleeps until killed.
 * </ul>
 *
 * A watchdog prints the objects' state and exits 4 if the worker is stuck.
 *
 * <p>Arguments: role, region file, sync directory, then the role's own.
 */
public final class QueueDeathWorker {
  static final int CAPACITY = 8;
  private static final long STEP_MILLIS = 20_000;

  private QueueDeathWorker() {}

  public static void main(String[] args) throws Exception {
    String role = args[0];
    Path regionFile = Path.of(args[1]);
    Path sync = Path.of(args[2]);
    if (role.equals("hold-list-lock")) {
      holdListLock(regionFile, sync);
      return;
    }
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      WaitQueue queue = region.waitQueue("q", CAPACITY);
      ConditionVariable condition = region.condition("c", CAPACITY);
      Watchdog.start(STEP_MILLIS + 5_000, () -> queue + " / " + condition);
      switch (role) {
        case "await" -> {
          CompletableFuture<Void> woken = queue.await(0);
          Files.createFile(sync.resolve("armed-" + args[3]));
          woken.get(STEP_MILLIS, TimeUnit.MILLISECONDS);
          System.out.println("WOKEN");
        }
        case "signalled" -> {
          Mutex mutex = region.mutex("m");
          CompletableFuture<MutexGuard> signalled =
              condition.await(mutex.lock().get(STEP_MILLIS, TimeUnit.MILLISECONDS));
          Files.createFile(sync.resolve("armed-" + args[3]));
          signalled.get(STEP_MILLIS, TimeUnit.MILLISECONDS).unlock();
          System.out.println("WOKEN");
        }
        case "wake-one" -> System.out.println("WOKE " + queue.wake(1));
        default -> throw new IllegalArgumentException(role);
      }
    }
  }

  private static void holdListLock(Path regionFile, Path sync) throws Exception {
    try (MappedRegion raw =
        MappedRegion.open(
            regionFile, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      MemorySegment bytes = raw.segment(raw.find("q").orElseThrow());
      PidLock listLock = new PidLock(bytes, LIST_LOCK_OFFSET, regionFile, "wait queue 'q'");
      listLock.lock();
      // half a wake, through the flyweight the library writes with
      WaitQueueWords words = new WaitQueueWords(bytes, 0, bytes.byteSize());
      int tail = words.lpTail();
      words.spTail(words.lpPrev(tail));
      words.spWaiting(words.lpWaiting() - 1);
      words.spState(tail, WOKEN_ALL);
      Files.createFile(sync.resolve("locked"));
      Thread.sleep(60_000); // killed by the test long before
    }
  }
}
