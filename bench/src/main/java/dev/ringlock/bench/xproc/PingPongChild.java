package dev.ringlock.bench.xproc;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.WakeSignal;
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
 * The initiator publishes round n in ping, wakes it and waits with ring.wait(pong, seen) until
 * pong holds n; the responder waits with ring.wait(ping, answered), copies ping into pong and
 * wakes pong. Wakes are WakeSignals, the fire-and-forget wake a lock's release makes: from the
 * completion thread it joins the batch being built; from another thread while the completion
 * thread sleeps it is a direct FUTEX_WAKE. Each side runs in one of two styles:
 *   thread        the main thread sends and sleeps in ring.wait(..).join(), so every round
 *                 parks and unparks it (the completion thread completes the future);
 *   continuation  no thread sleeps: the wait's continuation, on the ring's completion thread,
 *                 does the next step, and its wake and its next wait join the batch being built
 *                 (one io_uring_enter).
 * Continuations are whenComplete rather than thenRun: thenRun skips a failed wait, which would
 * leave the other side asleep for ever.
 *
 * No wake is lost, for the reason given in futex_pingpong.c: each wait names the value last
 * seen and the kernel re-checks it. Stopping: the initiator stores STOP_ROUND in ping and wakes
 * it; a responder that fails stores FAILED_ROUND in pong and wakes it with a direct syscall, so
 * the initiator throws instead of sleeping.
 *
 * Protocol on stdout: READY, then (initiator only) RESULT pingpong mean_ns= p50_ns= p99_ns=
 * p999_ns= rounds=. The initiator starts when the driver moves the phase past WAITING; each round
 * trip is timed from the store of ping to the moment its side sees pong hold that round.
 */
public final class PingPongChild {
  private final ControlFile control;
  private final FutexRing ring = FutexRing.defaultRing();
  private final FutexWord ping;
  private final FutexWord pong;
  private final WakeSignal wakePing;
  private final WakeSignal wakePong;

  private PingPongChild(ControlFile control) {
    this.control = control;
    this.ping = control.pingWord();
    this.pong = control.pongWord();
    this.wakePing = ring.wakeSignal(ping, 1, FutexRing.ANY_BITSET);
    this.wakePong = ring.wakeSignal(pong, 1, FutexRing.ANY_BITSET);
  }

  /**
   * Arguments: {@code initiator thread|continuation CONTROL_FILE WARMUP ROUNDS} or {@code responder
   * thread|continuation CONTROL_FILE}.
   */
  public static void main(String[] args) throws Exception {
    boolean initiator = args.length == 5 && args[0].equals("initiator");
    boolean responder = args.length == 3 && args[0].equals("responder");
    boolean continuation = args.length > 1 && args[1].equals("continuation");
    if (!(initiator || responder) || !(continuation || args[1].equals("thread"))) {
      throw new IllegalArgumentException(
          "usage: PingPongChild initiator thread|continuation CONTROL_FILE WARMUP ROUNDS"
              + " | PingPongChild responder thread|continuation CONTROL_FILE");
    }
    try (ControlFile control = ControlFile.attach(Path.of(args[2]))) {
      PingPongChild child = new PingPongChild(control);
      if (responder) {
        child.respond(continuation ? child::answerFromCompletionThread : child::answerOnThisThread);
        return;
      }
      int warmup = Integer.parseInt(args[3]);
      long[] samples = new long[Integer.parseInt(args[4])];
      System.out.println("READY");
      control.awaitStart();
      if (continuation) {
        child.initiateFromCompletionThread(warmup, samples);
      } else {
        child.initiateOnThisThread(warmup, samples);
      }
      control.setPingVolatile(ControlFile.STOP_ROUND);
      child.ring.wake(child.ping, FutexRing.WAKE_ALL).join(); // delivered before the ring closes
      System.out.println(
          "RESULT pingpong "
              + RoundTripStats.of(samples).resultFields()
              + " rounds="
              + samples.length);
    }
  }

  // ---- initiators ----

  /** Runs {@code warmup} round trips, then times one round trip per sample. */
  private void initiateOnThisThread(int warmup, long[] samples) {
    int round = 0;
    for (int i = 0; i < warmup; i++) {
      roundTrip(++round);
    }
    for (int i = 0; i < samples.length; i++) {
      long start = System.nanoTime();
      roundTrip(++round);
      samples[i] = System.nanoTime() - start;
    }
  }

  private void roundTrip(int round) {
    control.setPingVolatile(round);
    wakePing.signal();
    for (int seen; (seen = control.pongVolatile()) != round; ) {
      requireResponderAlive(seen);
      ring.wait(pong, seen).join();
    }
  }

  private static void requireResponderAlive(int pong) {
    if (pong == ControlFile.FAILED_ROUND) {
      throw new IllegalStateException("the responder process failed");
    }
  }

  /**
   * As {@link #initiateOnThisThread}, but every round after the first is sent by the continuation
   * of the previous round's wait, on the completion thread: no thread of this process sleeps or is
   * woken, the wake and the next wait join one batch. The main thread only waits for the end.
   */
  private void initiateFromCompletionThread(int warmup, long[] samples) {
    ContinuationInitiator initiator = new ContinuationInitiator(warmup, samples);
    initiator.sendNextRound();
    initiator.finished.join(); // the completion thread's writes to samples happen-before this
  }

  /** The state of a ping-pong driven by continuations; touched by one thread at a time. */
  private final class ContinuationInitiator {
    final CompletableFuture<Void> finished = new CompletableFuture<>();
    private final int warmup;
    private final long[] samples;
    private int round; // the last round sent
    private long sentAt;

    ContinuationInitiator(int warmup, long[] samples) {
      this.warmup = warmup;
      this.samples = samples;
    }

    void sendNextRound() {
      round++;
      sentAt = System.nanoTime();
      control.setPingVolatile(round);
      wakePing.signal();
      awaitAnswer(round - 1); // pong still holds the previous round, unless answered already
    }

    private void awaitAnswer(int seen) {
      ring.wait(pong, seen)
          .whenComplete(
              (outcome, failure) -> {
                if (failure != null) {
                  finished.completeExceptionally(failure);
                  return;
                }
                try {
                  int answered = control.pongVolatile();
                  if (answered != round) {
                    requireResponderAlive(answered);
                    awaitAnswer(answered); // spurious: sleep again
                    return;
                  }
                  long roundTrip = System.nanoTime() - sentAt;
                  if (round > warmup) {
                    samples[round - warmup - 1] = roundTrip;
                  }
                  if (round == warmup + samples.length) {
                    finished.complete(null);
                  } else {
                    sendNextRound();
                  }
                } catch (RuntimeException | Error e) {
                  finished.completeExceptionally(e); // whenComplete would swallow it
                }
              });
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
    wakePong.signal();
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
