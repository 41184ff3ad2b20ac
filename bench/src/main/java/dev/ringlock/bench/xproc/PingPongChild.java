package dev.ringlock.bench.xproc;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/*
 * Overview
 *
 * One side of the ringlock handoff ping-pong between two processes: futex_pingpong.c with the
 * process's default FutexRing in place of the syscalls. The words are ping and pong of the
 * control file, a MAP_SHARED file mapping, so both are SHARED futexes (keyed by inode and
 * offset): a wake in one process reaches the ring wait of the other.
 *
 * The initiator publishes round n in ping, wakes it with ring.wake and sleeps in
 * ring.wait(pong, seen).join() until pong holds n. The responder is either
 *   THREAD        the main thread, asleep in ring.wait(ping, answered).join(), or
 *   CONTINUATION  no thread: a continuation on the ring's completion thread answers and re-arms
 *                 its wait, both joining the batch being built (one io_uring_enter).
 * The continuation is whenComplete rather than thenRun: thenRun skips a failed wait, which
 * would leave the initiator asleep for ever.
 *
 * No wake is lost, for the reason given in futex_pingpong.c: each wait names the value last
 * seen and the kernel re-checks it. Stopping: the initiator stores STOP_ROUND in ping and wakes
 * it; a responder that fails stores FAILED_ROUND in pong and wakes it with a direct syscall, so
 * the initiator throws instead of sleeping.
 *
 * Protocol on stdout: READY, then (initiator only) RESULT pingpong mean_ns= p50_ns= p99_ns=
 * p999_ns= rounds=. The initiator starts when the driver moves the phase past WAITING.
 */
public final class PingPongChild {
  private final ControlFile control;
  private final FutexRing ring = FutexRing.defaultRing();
  private final FutexWord ping;
  private final FutexWord pong;

  private PingPongChild(ControlFile control) {
    this.control = control;
    this.ping = control.pingWord();
    this.pong = control.pongWord();
  }

  /**
   * Arguments: {@code initiator CONTROL_FILE WARMUP ROUNDS} or {@code thread|continuation
   * CONTROL_FILE}.
   */
  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      throw new IllegalArgumentException(
          "usage: PingPongChild initiator CONTROL_FILE WARMUP ROUNDS"
              + " | PingPongChild thread|continuation CONTROL_FILE");
    }
    try (ControlFile control = ControlFile.attach(Path.of(args[1]))) {
      PingPongChild child = new PingPongChild(control);
      switch (args[0]) {
        case "initiator" -> child.initiate(Integer.parseInt(args[2]), Integer.parseInt(args[3]));
        case "thread" -> child.respond(child::answerOnThisThread);
        case "continuation" -> child.respond(child::answerFromCompletionThread);
        default -> throw new IllegalArgumentException("unknown role " + args[0]);
      }
    }
  }

  // ---- initiator ----

  private void initiate(int warmup, int rounds) {
    System.out.println("READY");
    control.awaitStart();
    int round = 0;
    for (int i = 0; i < warmup; i++) {
      roundTrip(++round);
    }
    long[] samples = new long[rounds];
    for (int i = 0; i < rounds; i++) {
      long start = System.nanoTime();
      roundTrip(++round);
      samples[i] = System.nanoTime() - start;
    }
    control.setPingVolatile(ControlFile.STOP_ROUND);
    ring.wake(ping, FutexRing.WAKE_ALL).join(); // delivered before this JVM's ring closes
    System.out.println(
        "RESULT pingpong " + RoundTripStats.of(samples).resultFields() + " rounds=" + rounds);
  }

  private void roundTrip(int round) {
    control.setPingVolatile(round);
    ring.wake(ping, 1);
    for (int seen; (seen = control.pongVolatile()) != round; ) {
      if (seen == ControlFile.FAILED_ROUND) {
        throw new IllegalStateException("the responder process failed");
      }
      ring.wait(pong, seen).join();
    }
  }

  // ---- responders ----

  private interface Responder {
    /** Answers every round until ping holds STOP_ROUND; returns when done. */
    void answerUntilStopped();
  }

  private void respond(Responder responder) {
    System.out.println("READY");
    try {
      responder.answerUntilStopped();
    } catch (RuntimeException | Error e) {
      control.setPongVolatile(ControlFile.FAILED_ROUND);
      Futex.wake(pong, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET); // not through a broken ring
      throw e;
    }
  }

  private void answerOnThisThread() {
    int answered = 0;
    for (int pinged; (pinged = control.pingVolatile()) != ControlFile.STOP_ROUND; ) {
      if (pinged == answered) {
        ring.wait(ping, answered).join();
      } else {
        answered = pinged;
        answer(pinged);
      }
    }
  }

  private void answer(int pinged) {
    control.setPongVolatile(pinged);
    ring.wake(pong, 1);
  }

  private void answerFromCompletionThread() {
    CompletableFuture<Void> stopped = new CompletableFuture<>();
    armContinuation(0, stopped);
    stopped.join(); // the main thread only waits for the end
  }

  /** Waits for a ping past {@code answered}; the continuation answers and arms the next wait. */
  private void armContinuation(int answered, CompletableFuture<Void> stopped) {
    ring.wait(ping, answered)
        .whenComplete(
            (outcome, failure) -> {
              if (failure != null) {
                stopped.completeExceptionally(failure);
                return;
              }
              try {
                int pinged = control.pingVolatile();
                if (pinged == ControlFile.STOP_ROUND) {
                  stopped.complete(null);
                  return;
                }
                if (pinged != answered) {
                  answer(pinged); // the wake and the next wait share this batch
                }
                armContinuation(pinged, stopped);
              } catch (RuntimeException | Error e) {
                stopped.completeExceptionally(e); // whenComplete would swallow it
              }
            });
  }
}
