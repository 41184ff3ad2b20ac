package dev.ringlock.locks;

import dev.ringlock.locks.internal.WaitQueueCore;
import dev.ringlock.testsupport.Child;
import dev.ringlock.testsupport.Watchdog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM of {@link WaitQueueCrossProcessTest}, in one of three roles, coordinated through
 * files in a sync directory:
 *
 * <ul>
 *   <li>{@code wait NAME KEY...}: awaits each key on queue "wq", announces "armed-NAME", and once
 *       "woken" appears reports which waiters a wakeUpTo(LIMIT) woke (and that the others stay
 *       pending), announces "checked-NAME", then waits for the rest.
 *   <li>{@code wake}: once "armed-a", "armed-b" and "armed-parent" exist, wakeUpTo(LIMIT) from this
 *       process, reporting how many kernel wakes it made; after the three "checked-" files,
 *       wakeAll.
 *   <li>{@code hog}: fills queue "small" with waiters, announces "armed-hog" and sleeps until it is
 *       killed.
 *   <li>{@code wake-one NAME}: wake(1) on queue NAME (which a pause point may stop half-way).
 * </ul>
 *
 * A watchdog prints the queue's state and exits 4 if the worker is stuck.
 *
 * <p>Arguments: role, region file, sync directory, then the role's own.
 */
public final class WaitQueueWorker {
  static final long LIMIT = 19;
  static final int SMALL_CAPACITY = 4;
  static final List<String> WAITERS = List.of("a", "b", "parent"); // the processes with waiters
  private static final long STEP_MILLIS = 30_000; // four JVMs start at once on a loaded 2-core VM

  private WaitQueueWorker() {}

  public static void main(String[] args) throws Exception {
    String role = args[0];
    Path regionFile = Path.of(args[1]);
    Path sync = Path.of(args[2]);
    try (SharedRegion region = SharedRegion.open(regionFile)) {
      WaitQueue queue = region.waitQueue("wq", 64);
      WaitQueue small = region.waitQueue("small", SMALL_CAPACITY);
      Watchdog.start(90_000, () -> queue + " / " + small);
      switch (role) {
        case "wait" -> waitRole(queue, sync, args[3], keys(args));
        case "wake" -> wakeRole(queue, sync);
        case "hog" -> hogRole(small, sync);
        case "wake-one" -> System.out.println("WOKE " + region.waitQueue(args[3]).wake(1));
        default -> throw new IllegalArgumentException(role);
      }
    }
  }

  private static long[] keys(String[] args) {
    long[] keys = new long[args.length - 4];
    for (int i = 4; i < args.length; i++) {
      keys[i - 4] = Long.parseLong(args[i]);
    }
    return keys;
  }

  private static void waitRole(WaitQueue queue, Path sync, String name, long[] keys)
      throws Exception {
    List<CompletableFuture<Void>> waiters = new ArrayList<>();
    for (long key : keys) {
      waiters.add(queue.await(key)); // linked when await returns
    }
    Files.createFile(sync.resolve("armed-" + name));
    System.out.println(checkWakeUpTo(queue, sync, keys, waiters));
    Files.createFile(sync.resolve("checked-" + name));
    CompletableFuture.allOf(waiters.toArray(CompletableFuture[]::new))
        .get(STEP_MILLIS, TimeUnit.MILLISECONDS);
    System.out.println("ALL DONE");
  }

  /**
   * Once "woken" appears: the waiters with keys up to LIMIT must complete, the others must not.
   * Returns "WOKE k1 k2 ..." (sorted), or throws.
   */
  static String checkWakeUpTo(
      WaitQueue queue, Path sync, long[] keys, List<CompletableFuture<Void>> waiters)
      throws Exception {
    awaitFileAfterStartUp(sync.resolve("woken"), queue);
    TreeSet<Long> woke = new TreeSet<>();
    for (int i = 0; i < keys.length; i++) {
      if (keys[i] <= LIMIT) {
        waiters.get(i).get(STEP_MILLIS, TimeUnit.MILLISECONDS);
      }
    }
    Thread.sleep(200); // time for a wrong wake to arrive
    for (int i = 0; i < keys.length; i++) {
      if (waiters.get(i).isDone()) {
        woke.add(keys[i]);
      }
    }
    StringBuilder line = new StringBuilder("WOKE");
    woke.forEach(key -> line.append(' ').append(key));
    return line.toString();
  }

  private static void wakeRole(WaitQueue queue, Path sync) throws Exception {
    for (String waiter : WAITERS) {
      awaitFileAfterStartUp(sync.resolve("armed-" + waiter), queue);
    }
    long kernelWakes = ((WaitQueueCore) queue).kernelWakes();
    int woken = queue.wakeUpTo(LIMIT);
    long madeByIt = ((WaitQueueCore) queue).kernelWakes() - kernelWakes;
    System.out.println("WOKEN " + woken + " WITH " + madeByIt + " KERNEL WAKES " + queue);
    Files.createFile(sync.resolve("woken"));
    for (String waiter : WAITERS) {
      awaitFile(sync.resolve("checked-" + waiter), queue);
    }
    System.out.println("ALL " + queue.wakeAll());
  }

  private static void hogRole(WaitQueue small, Path sync) throws Exception {
    for (int i = 0; i < SMALL_CAPACITY; i++) {
      small.await(i);
    }
    Files.createFile(sync.resolve("armed-hog"));
    Thread.sleep(60_000); // killed by the test long before
  }

  static void awaitFile(Path file, WaitQueue queue) throws InterruptedException {
    awaitFile(file, queue, TimeUnit.MILLISECONDS.toNanos(STEP_MILLIS));
  }

  /**
   * Waits for a file that another JVM makes once it has started ("armed-..." and "woken", which
   * comes after every waiter is armed): bounded by {@link Child#STARTUP_TIMEOUT}, as a start-up is
   * not what these tests measure.
   */
  static void awaitFileAfterStartUp(Path file, WaitQueue queue) throws InterruptedException {
    awaitFile(file, queue, Child.STARTUP_TIMEOUT.toNanos());
  }

  private static void awaitFile(Path file, WaitQueue queue, long boundNanos)
      throws InterruptedException {
    long end = System.nanoTime() + boundNanos;
    while (!Files.exists(file)) {
      if (System.nanoTime() > end) {
        throw new IllegalStateException("no " + file + " in time; queue: " + queue);
      }
      Thread.sleep(2);
    }
  }
}
