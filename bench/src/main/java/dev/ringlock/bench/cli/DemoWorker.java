package dev.ringlock.bench.cli;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import dev.ringlock.locks.RegionClosedException;
import dev.ringlock.locks.Semaphore;
import dev.ringlock.locks.SharedRegion;
import dev.ringlock.locks.WaitQueue;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/*
 * Overview
 *
 * One worker JVM of `ringlock demo`, started by DemoCommand; stdin carries commands, stdout
 * carries reports, one line each.
 *
 *   start-up     opens the region, arms TICK_WAITERS waits on the "ticks" queue (each re-arms
 *                when woken: the coordinator's wakeAll reaches them all in one io_uring_enter),
 *                queues one wait on the "start" queue, prints READY <pid> and sleeps until the
 *                coordinator wakes "start" (every worker starts at once).
 *   the loop     on each of its threads: acquire 1 permit of the "slots" semaphore (fewer permits
 *                than threads in all: they queue), lock the "counter" mutex, increment the
 *                counter and this worker's tally in the DemoState file, unlock, release.
 *   hold         (stdin) the next critical section writes the counter, prints HOLDING and never
 *                finishes: the coordinator kills this process there, holding the mutex and a
 *                permit, with the counter one ahead of the tallies.
 *   recovery     a lock whose guard says ownerDied() repairs the counter to the sum of the
 *                tallies, prints RECOVERED <counter before> <sum> <nanoTime>, marks it consistent.
 *   stop         (stdin, or stdin closed: the coordinator is gone) threads finish their section,
 *                the region closes, DONE <key=value...> reports the counts and the ring's stats.
 *
 * A watchdog exits with status 4 and prints the objects' state (STUCK ...) if the worker has not
 * finished 30 s after being told to stop, so a lost wake shows itself instead of hanging the demo.
 */
/** A worker process of {@code ringlock demo}. */
public final class DemoWorker {
  static final String MUTEX = "demo.counter";
  static final String SLOTS = "demo.slots";
  static final String START = "demo.start";
  static final String TICKS = "demo.ticks";

  /** Waits each worker keeps armed on the ticks queue. */
  static final int TICK_WAITERS = 4;

  private static final long STOP_PATIENCE_MILLIS = 30_000;

  private final int slot;
  private final DemoState state;
  private final Mutex mutex;
  private final Semaphore slots;
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicBoolean holdRequested = new AtomicBoolean();
  private final AtomicLong tickWakes = new AtomicLong();

  // Written only while holding the mutex (its atomics order them between this worker's threads).
  private long acquisitions;
  private long arrivals; // acquisitions whose fence did not follow this process's previous one
  private long firstFence;
  private long lastFence;
  private long recoveries;

  private DemoWorker(int slot, DemoState state, Mutex mutex, Semaphore slots) {
    this.slot = slot;
    this.state = state;
    this.mutex = mutex;
    this.slots = slots;
  }

  /** Arguments: region file, state file, slot, threads, semaphore permits. */
  public static void main(String[] args) throws Exception {
    Path regionFile = Path.of(args[0]);
    Path stateFile = Path.of(args[1]);
    int slot = Integer.parseInt(args[2]);
    int threads = Integer.parseInt(args[3]);
    int permits = Integer.parseInt(args[4]);
    try (Arena arena = Arena.ofShared();
        SharedRegion region = SharedRegion.open(regionFile)) {
      DemoWorker worker =
          new DemoWorker(
              slot,
              DemoState.map(stateFile, arena),
              region.mutex(MUTEX),
              region.semaphore(SLOTS, permits));
      worker.run(region, threads);
    }
  }

  private void run(SharedRegion region, int threads) throws Exception {
    WaitQueue ticks = region.waitQueue(TICKS);
    for (int i = 0; i < TICK_WAITERS; i++) {
      armTick(ticks);
    }
    var started = region.waitQueue(START).await(0);
    listenForCommands();
    report("READY " + ProcessHandle.current().pid());
    started.join();

    List<Thread> lanes = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      lanes.add(Thread.ofPlatform().name("demo-worker-" + slot + "-" + i).start(this::loop));
    }
    while (!stop.get()) {
      Thread.sleep(50);
    }
    startWatchdog(region);
    for (Thread lane : lanes) {
      lane.join();
    }
    FutexRing.Stats ring = region.ring().stats();
    long wakes = tickWakes.get();
    region.close(); // fails the armed tick waits: they stop re-arming
    // The lanes' fields: their writes happen-before the joins above.
    report(
        ("DONE acquisitions=%d arrivals=%d firstFence=%d lastFence=%d recoveries=%d"
                + " tickWakes=%d enterCalls=%d sqes=%d completions=%d largestSubmission=%d")
            .formatted(
                acquisitions,
                arrivals,
                firstFence,
                lastFence,
                recoveries,
                wakes,
                ring.enterCalls(),
                ring.sqesSubmitted(),
                ring.completions(),
                ring.largestSubmission()));
  }

  /** One wait on the ticks queue that counts its wake and arms the next; ends when closed. */
  private void armTick(WaitQueue ticks) {
    ticks
        .await(0)
        .whenComplete(
            (ignored, failure) -> {
              if (failure == null) {
                tickWakes.incrementAndGet();
                armTick(ticks);
              } else if (!(unwrap(failure) instanceof RegionClosedException)) {
                report("TICK-FAILED " + unwrap(failure));
              }
            });
  }

  private void loop() {
    while (!stop.get()) {
      slots.acquire(1).join();
      try {
        MutexGuard guard = mutex.lock().join();
        try {
          criticalSection(guard);
        } finally {
          guard.unlock();
        }
      } finally {
        slots.release(1);
      }
    }
  }

  private void criticalSection(MutexGuard guard) {
    if (guard.ownerDied()) {
      long counter = state.counter();
      long sum = state.sumOfTallies();
      state.counter(sum);
      guard.markConsistent();
      recoveries++;
      report("RECOVERED " + counter + " " + sum + " " + System.nanoTime());
    }
    long fence = guard.fence();
    if (firstFence == 0) {
      firstFence = fence;
    }
    if (fence != lastFence + 2) { // our release moved it on by one: lastFence + 1
      arrivals++;
    }
    lastFence = fence;
    state.counter(state.counter() + 1);
    if (holdRequested.compareAndSet(true, false)) {
      report("HOLDING " + fence);
      for (; ; ) {
        LockSupport.park(); // killed here: counter written, tally not
      }
    }
    state.tally(slot, state.tally(slot) + 1);
    acquisitions++;
  }

  private void listenForCommands() {
    Thread.ofPlatform()
        .daemon(true)
        .name("demo-worker-commands")
        .start(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                  switch (line.trim()) {
                    case "hold" -> holdRequested.set(true);
                    case "stop" -> stop.set(true);
                    default -> report("UNKNOWN-COMMAND " + line);
                  }
                }
              } catch (Exception e) {
                // stdin broken: the coordinator is gone
              }
              stop.set(true);
            });
  }

  private void startWatchdog(SharedRegion region) {
    Thread.ofPlatform()
        .daemon(true)
        .name("demo-worker-watchdog")
        .start(
            () -> {
              try {
                Thread.sleep(STOP_PATIENCE_MILLIS);
              } catch (InterruptedException e) {
                return;
              }
              report("STUCK mutex=" + mutex + " slots=" + slots + " region=" + region);
              System.exit(4);
            });
  }

  private static Throwable unwrap(Throwable failure) {
    return failure instanceof CompletionException && failure.getCause() != null
        ? failure.getCause()
        : failure;
  }

  private static void report(String line) {
    synchronized (System.out) {
      System.out.println(line);
      System.out.flush();
    }
  }
}
