package dev.ringlock.bench;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexRing.DoorbellKind;
import dev.ringlock.core.FutexRing.SetupFlag;
import dev.ringlock.core.FutexWord;
import java.util.EnumSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The ping-pong of {@link DirectPingPongBenchmark} through one shared {@link FutexRing}: the
 * initiator wakes ping with {@code ring.wake} and sleeps on pong with {@code ring.wait(..).join()}.
 *
 * <p>The responder is either a platform thread that does the same ({@link Responder#THREAD}), or no
 * thread at all: a continuation on the ring's completion thread that answers and re-arms its wait
 * in the batch being built ({@link Responder#CONTINUATION}). Doorbell and setup flags are
 * parameters so the ring's defaults can be chosen by measurement; the teardown prints enters and
 * doorbell wake-ups per round trip.
 *
 * <p>SampleTime only: its mean is the average time, and its percentiles show late wake-ups.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class RingPingPongBenchmark {
  /** Who answers the initiator. */
  public enum Responder {
    /** A platform thread blocked in {@code ring.wait(..).join()}. */
    THREAD,
    /** A whenComplete continuation on the completion thread; no thread blocks for it. */
    CONTINUATION
  }

  /** io_uring_setup flags to compare. */
  public enum RingSetup {
    /** The library default. */
    DEFER_TASKRUN(
        EnumSet.of(SetupFlag.SUBMIT_ALL, SetupFlag.SINGLE_ISSUER, SetupFlag.DEFER_TASKRUN)),
    COOP_TASKRUN(EnumSet.of(SetupFlag.SUBMIT_ALL, SetupFlag.COOP_TASKRUN));

    final EnumSet<SetupFlag> flags;

    RingSetup(EnumSet<SetupFlag> flags) {
      this.flags = flags;
    }
  }

  @Param({"THREAD", "CONTINUATION"})
  public Responder responder;

  @Param({"FUTEX", "EVENTFD"})
  public DoorbellKind doorbell;

  @Param({"DEFER_TASKRUN", "COOP_TASKRUN"})
  public RingSetup setup;

  private FutexRing ring;
  private Signalling throughRing;
  private PingPong pingPong;
  private FutexRing.Stats atStart;
  private final CompletableFuture<Void> continuationStopped = new CompletableFuture<>();

  @Setup(Level.Trial)
  public void startResponder() {
    ring = FutexRing.open(FutexRing.options().setupFlags(setup.flags).doorbell(doorbell));
    throughRing = new RingSignalling(ring);
    pingPong = new PingPong();
    switch (responder) {
      case THREAD -> pingPong.startResponderThread(throughRing);
      // Armed from this thread, its first continuation still runs on the completion thread:
      // the wait cannot complete before the first ping, which comes after whenComplete is set.
      case CONTINUATION -> answerFromCompletionThread(0);
    }
    atStart = ring.stats();
  }

  @Benchmark
  public int roundTrip() {
    return pingPong.roundTrip(throughRing);
  }

  /** Waits for a ping past {@code answered}; its continuation answers and arms the next wait. */
  private void answerFromCompletionThread(int answered) {
    ring.wait(pingPong.ping, answered)
        .whenComplete(
            (outcome, failure) -> {
              if (pingPong.stopping() || failure != null) {
                endContinuation(failure);
                return;
              }
              try {
                // The answer's wake and the next wait join this batch: one enter carries both.
                int pinged = pingPong.pingVolatile();
                if (pinged != answered) {
                  pingPong.answer(pinged, throughRing);
                }
                answerFromCompletionThread(pinged);
              } catch (RuntimeException e) {
                endContinuation(e); // whenComplete would swallow it and strand the initiator
              }
            });
  }

  private void endContinuation(Throwable failure) {
    if (failure != null && !pingPong.stopping()) {
      pingPong.responderFailed(failure);
    }
    continuationStopped.complete(null);
  }

  @TearDown(Level.Trial)
  public void stopResponder() throws InterruptedException {
    FutexRing.Stats atEnd = ring.stats();
    int roundTrips = pingPong.roundTrips();
    boolean stoppedInTime =
        switch (responder) {
          case THREAD -> pingPong.stopResponderThread(PingPong.STOP_PATIENCE);
          case CONTINUATION -> awaitContinuationStopped();
        };
    // Fails any wait still pending, so a responder that missed the stop ends now.
    ring.close();
    boolean ended =
        stoppedInTime
            || switch (responder) {
              case THREAD -> pingPong.awaitResponderThread(PingPong.STOP_PATIENCE);
              case CONTINUATION -> continuationStopped.isDone();
            };
    if (!ended) {
      // Leave the words mapped: freeing them under a live responder would be worse than the leak.
      throw new IllegalStateException(
          "the " + responder + " responder did not stop, even after the ring closed");
    }
    pingPong.close();
    printPerRoundTrip(atEnd, roundTrips);
  }

  private boolean awaitContinuationStopped() throws InterruptedException {
    pingPong.requestStop();
    try {
      continuationStopped.get(PingPong.STOP_PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException | ExecutionException e) {
      return false;
    }
  }

  private void printPerRoundTrip(FutexRing.Stats atEnd, int roundTrips) {
    double perRoundTrip = Math.max(roundTrips, 1);
    System.out.printf(
        "%n[ring per round trip, responder=%s doorbell=%s setup=%s] %d round trips:"
            + " %.2f io_uring_enter, %.2f SQEs, %.2f doorbell wake-ups%n",
        responder,
        doorbell,
        setup,
        roundTrips,
        (atEnd.enterCalls() - atStart.enterCalls()) / perRoundTrip,
        (atEnd.sqesSubmitted() - atStart.sqesSubmitted()) / perRoundTrip,
        (atEnd.doorbellWakeups() - atStart.doorbellWakeups()) / perRoundTrip);
  }

  /** Sleeps by joining a ring wait; wakes with a ring wake it does not wait for. */
  private record RingSignalling(FutexRing ring) implements Signalling {
    @Override
    public void awaitChange(FutexWord word, int seen) {
      ring.wait(word, seen).join();
    }

    @Override
    public void wakeOne(FutexWord word) {
      ring.wake(word, 1);
    }
  }
}
