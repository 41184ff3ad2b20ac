package dev.ringlock.bench.xproc;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import dev.ringlock.locks.SharedRegion;
import dev.ringlock.locks.WaitQueue;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/*
 * Overview
 *
 * One of the waiter processes of the fan-out measurement: a driver process wakes the waiters of
 * several other processes at once, round after round, and every waiter notes how long after the
 * driver's stamp it ran again. Two kinds of waiter:
 *   queue  a ringlock WaitQueue waiter: await(round) on the queue named QUEUE of the region file;
 *          the continuation, on this process's ring's completion thread, notes the time and
 *          arms await(round + 1). The driver wakes with wakeUpTo(round).
 *   futex  a thread blocked in futex_wait (direct syscall) on the control file's generation word
 *          until it holds round. The driver stores round and wakes every waiter of the word.
 *
 * Protocol. After arming its wait for a round the waiter adds 1 to the control file's armed
 * count; the driver starts round r once armed reaches (waiters x r), sleeps a millisecond so
 * every waiter is asleep in the kernel, stores the stamp (System.nanoTime(): CLOCK_MONOTONIC,
 * one clock for every process of the machine) and wakes. No wake is lost: a queue waiter is on
 * the queue once await returns (before armed counts it), and a futex waiter's wait names the
 * generation it saw. On stdout: READY once the first wait is armed; at the end RESULT fanout
 * samples=n,n,... (ns from the stamp to this waiter running, one per measured round, in order).
 *
 * Arguments: queue|futex CONTROL_FILE REGION_FILE WARMUP ROUNDS.
 */
public final class FanOutWaiter {
  static final String QUEUE = "fan-out";

  private FanOutWaiter() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 5 || !(args[0].equals("queue") || args[0].equals("futex"))) {
      throw new IllegalArgumentException(
          "usage: FanOutWaiter queue|futex CONTROL_FILE REGION_FILE WARMUP ROUNDS");
    }
    int warmup = Integer.parseInt(args[3]);
    long[] samples = new long[warmup + Integer.parseInt(args[4])];
    try (ControlFile control = ControlFile.attach(Path.of(args[1]))) {
      if (args[0].equals("queue")) {
        try (SharedRegion region = SharedRegion.open(Path.of(args[2]))) {
          CompletableFuture<Void> done = new CompletableFuture<>();
          new QueueWaiter(region.waitQueue(QUEUE), control, samples, done).arm(1);
          System.out.println("READY");
          done.get(10, TimeUnit.MINUTES);
        }
      } else {
        System.out.println("READY");
        waitOnGeneration(control, samples);
      }
    }
    System.out.println("RESULT fanout samples=" + ResultLine.samples(samples, warmup));
  }

  private static void waitOnGeneration(ControlFile control, long[] samples) {
    FutexWord word = control.generationWord();
    for (int round = 1; round <= samples.length; round++) {
      control.addArmed();
      for (int seen; (seen = control.generation()) < round; ) {
        Futex.await(word, seen, FutexRing.ANY_BITSET);
      }
      samples[round - 1] = System.nanoTime() - control.stamp();
    }
  }

  /** A chain of queue waits, each armed by the continuation of the one before. */
  private record QueueWaiter(
      WaitQueue queue, ControlFile control, long[] samples, CompletableFuture<Void> done) {
    void arm(int round) {
      queue
          .await(round)
          .whenComplete(
              (unused, failure) -> {
                if (failure != null) {
                  done.completeExceptionally(failure);
                  return;
                }
                try {
                  samples[round - 1] = System.nanoTime() - control.stamp();
                  if (round == samples.length) {
                    done.complete(null);
                  } else {
                    arm(round + 1);
                  }
                } catch (RuntimeException | Error e) {
                  done.completeExceptionally(e); // whenComplete would swallow it
                }
              });
      control.addArmed();
    }
  }
}
