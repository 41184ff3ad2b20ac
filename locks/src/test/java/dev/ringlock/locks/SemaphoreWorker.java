package dev.ringlock.locks;

import dev.ringlock.core.memory.MappedRegion;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM of {@link SemaphoreCrossProcessTest}. Roles:
 *
 * <ul>
 *   <li>{@code producer FILE GO ITEMS}: puts ITEMS sequence numbers into the region's bounded
 *       buffer: acquire a slot, write, release an item;
 *   <li>{@code consumer FILE GO ITEMS}: takes them out in batches of 1 to 3 (acquire items, read,
 *       release the slots), checking they arrive in order;
 *   <li>{@code taker FILE GO CHUNK TOTAL}: acquires TOTAL permits of semaphore "pool", CHUNK at a
 *       time, with up to 4 acquires pending at once;
 *   <li>{@code holder FILE GO NAME:PERMITS[:signal]...}: acquires PERMITS of each semaphore NAME
 *       (created by the test; ":signal" opens it with undo on exit off, as it was created), prints
 *       HELD and waits to be killed;
 *   <li>{@code mover FILE GO NAME HOLD MOVE N}: acquires HOLD permits of undo semaphore NAME
 *       (created by the test), prints HELD, then acquires (MOVE "take") or releases ("release") N
 *       more: the JVM runs with a pause point in that move (TestPausePoints), where it prints
 *       PAUSED and waits to be killed;
 *   <li>{@code waiter FILE GO NAME PERMITS}: prints WAITING once its acquire of PERMITS is queued,
 *       then GOT and the System.nanoTime() at which it got them, and exits.
 * </ul>
 *
 * "slots", "items" and "pool" signal between processes: they are created, and opened, with undo on
 * exit off ({@link #SIGNAL}). Each role prints one result line, or STUCK with the semaphores' state
 * if a watchdog fires first.
 */
public final class SemaphoreWorker {
  static final int BUFFER_TYPE = 98;
  static final int SLOTS = 4;

  /** Options of a semaphore that signals: a dead process's permits were consumed for good. */
  static final SemaphoreOptions SIGNAL = SemaphoreOptions.builder().undoOnExit(false).build();

  private static final long WATCHDOG_MILLIS = 20_000;

  private SemaphoreWorker() {}

  public static void main(String[] args) throws Exception {
    String role = args[0];
    Path regionFile = Path.of(args[1]);
    Path go = Path.of(args[2]);
    try (SharedRegion region = SharedRegion.open(regionFile);
        MappedRegion raw =
            MappedRegion.open(
                regionFile, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      Semaphore slots = region.semaphore("slots", SLOTS, SIGNAL);
      Semaphore items = region.semaphore("items", 0, SIGNAL);
      Semaphore pool = region.semaphore("pool", 0, SIGNAL);
      watchdog(slots, items, pool);
      while (!Files.exists(go)) {
        Thread.sleep(1);
      }
      switch (role) {
        case "producer" -> produce(slots, items, bufferOf(raw), Integer.parseInt(args[3]));
        case "consumer" -> consume(slots, items, bufferOf(raw), Integer.parseInt(args[3]));
        case "taker" -> take(pool, Integer.parseInt(args[3]), Integer.parseInt(args[4]));
        case "holder" -> hold(region, List.of(args).subList(3, args.length));
        case "mover" ->
            move(region.semaphore(args[3], 0), Integer.parseInt(args[4]), args[5], args[6]);
        case "waiter" -> await(region.semaphore(args[3], 0), Integer.parseInt(args[4]));
        default -> throw new IllegalArgumentException("unknown role " + role);
      }
    }
  }

  private static void watchdog(Semaphore... semaphores) {
    Thread.ofPlatform()
        .daemon(true)
        .start(
            () -> {
              try {
                Thread.sleep(WATCHDOG_MILLIS);
              } catch (InterruptedException e) {
                return;
              }
              StringBuilder state = new StringBuilder("STUCK");
              for (Semaphore semaphore : semaphores) {
                state.append(' ').append(semaphore);
              }
              System.out.println(state);
              System.exit(4);
            });
  }

  /** The bounded buffer: SLOTS longs, the producer's writes ordered by the semaphores only. */
  static MemorySegment bufferOf(MappedRegion raw) {
    long bytes = (long) SLOTS * Long.BYTES;
    return raw.segment()
        .asSlice(raw.findOrCreate("buffer", BUFFER_TYPE, (int) bytes, s -> {}).offset(), bytes);
  }

  private static void produce(Semaphore slots, Semaphore items, MemorySegment buffer, int count)
      throws Exception {
    for (int i = 0; i < count; i++) {
      if (!slots.tryAcquire(1)) {
        slots.acquire(1).get(WATCHDOG_MILLIS, TimeUnit.MILLISECONDS);
      }
      buffer.setAtIndex(ValueLayout.JAVA_LONG, i % SLOTS, i); // plain: the semaphores order it
      items.release(1);
    }
    System.out.println("PRODUCED " + count);
  }

  private static void consume(Semaphore slots, Semaphore items, MemorySegment buffer, int count)
      throws Exception {
    SplittableRandom random = new SplittableRandom(11);
    long sum = 0;
    for (int next = 0; next < count; ) {
      int batch = Math.min(1 + random.nextInt(3), count - next);
      items.acquire(batch).get(WATCHDOG_MILLIS, TimeUnit.MILLISECONDS);
      for (int i = 0; i < batch; i++, next++) {
        long value = buffer.getAtIndex(ValueLayout.JAVA_LONG, next % SLOTS);
        if (value != next) {
          System.out.println("OUT OF ORDER: read " + value + " where " + next + " belongs");
          System.exit(3);
        }
        sum += value;
      }
      slots.release(batch);
    }
    System.out.println("CONSUMED " + count + " " + sum);
  }

  private static void move(Semaphore semaphore, int hold, String move, String permits)
      throws Exception {
    if (hold > 0) {
      semaphore.acquire(hold).get(WATCHDOG_MILLIS, TimeUnit.MILLISECONDS);
    }
    System.out.println("HELD");
    int n = Integer.parseInt(permits);
    if (move.equals("take")) {
      semaphore.acquire(n).get(WATCHDOG_MILLIS, TimeUnit.MILLISECONDS);
    } else {
      semaphore.release(n);
    }
    System.out.println("MOVED without pausing"); // the test fails on this line
    Thread.sleep(WATCHDOG_MILLIS * 2);
  }

  private static void hold(SharedRegion region, List<String> specs) throws Exception {
    for (String spec : specs) {
      String[] parts = spec.split(":");
      SemaphoreOptions options = parts.length > 2 ? SIGNAL : SemaphoreOptions.defaults();
      region
          .semaphore(parts[0], 0, options)
          .acquire(Integer.parseInt(parts[1]))
          .get(WATCHDOG_MILLIS, TimeUnit.MILLISECONDS);
    }
    System.out.println("HELD");
    Thread.sleep(WATCHDOG_MILLIS * 2); // the watchdog ends it if the test does not kill it
  }

  private static void await(Semaphore semaphore, int permits) throws Exception {
    CompletableFuture<Void> acquired = semaphore.acquire(permits);
    System.out.println("WAITING " + acquired.isDone());
    acquired.get(WATCHDOG_MILLIS, TimeUnit.MILLISECONDS);
    System.out.println("GOT " + System.nanoTime());
  }

  private static void take(Semaphore pool, int chunk, int total) throws Exception {
    ArrayDeque<CompletableFuture<Void>> pending = new ArrayDeque<>();
    int asked = 0;
    int taken = 0;
    while (taken < total) {
      while (pending.size() < 4 && asked < total) {
        pending.add(pool.acquire(chunk));
        asked += chunk;
      }
      pending.poll().get(WATCHDOG_MILLIS, TimeUnit.MILLISECONDS);
      taken += chunk;
    }
    System.out.println("TOOK " + taken);
  }
}
