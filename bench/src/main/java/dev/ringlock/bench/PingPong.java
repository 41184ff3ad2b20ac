package dev.ringlock.bench;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;

/*
 * Overview
 *
 * The classic futex ping-pong over two words, written once for every way of sleeping and
 * waking (a Signalling). The initiator publishes round n in ping and wakes it, then sleeps until
 * pong holds n. The responder sleeps until ping moves past the last round it answered, copies it
 * into pong and wakes pong.
 *
 * No wake is lost: every sleep names the value its caller last saw, and the kernel re-checks
 * the word under its futex bucket lock. A wake that lands before the sleeper is queued finds
 * nobody, but then the word has already changed, so the sleep returns at once (EAGAIN). For the
 * same reason spurious returns are harmless: each side re-reads its word and sleeps again.
 *
 * Words are written with setVolatile before the wake's system call and read with getVolatile;
 * the kernel's own barriers order the rest.
 *
 * Stopping never hangs: the stop flag is set first, then ping is moved (a responder about to
 * sleep finds it changed) and woken with a direct syscall (a responder asleep returns, whether
 * it sleeps in futex_wait or in an io_uring FUTEX_WAIT: both queue on the same private futex).
 * A responder that fails stores NO_ROUND in pong and wakes it the same way, so the initiator
 * wakes up and throws instead of sleeping forever.
 */
final class PingPong implements AutoCloseable {
  /** How long a teardown waits for a responder, or a ring, to stop before it gives up. */
  static final Duration STOP_PATIENCE = Duration.ofSeconds(5);

  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  private static final long PING = 0;
  private static final long PONG = 128; // two cache lines apart: x86 prefetches lines in pairs
  private static final int NO_ROUND = -1; // rounds count up from 1

  private final Arena arena = Arena.ofShared();
  private final MemorySegment memory = arena.allocate(2 * PONG, PONG);
  final FutexWord ping = FutexWord.of(memory, PING);
  final FutexWord pong = FutexWord.of(memory, PONG);

  private int round; // initiator only: the last round it sent
  private volatile boolean stopping;
  private volatile Throwable responderFailure;
  private Thread responderThread;

  // ---- initiator ----

  /** One round trip; returns its round number. */
  int roundTrip(Signalling signalling) {
    int sent = ++round;
    INT.setVolatile(memory, PING, sent);
    signalling.wakeOne(ping);
    for (int seen; (seen = (int) INT.getVolatile(memory, PONG)) != sent; ) {
      if (responderFailure != null) {
        throw new IllegalStateException("the responder failed", responderFailure);
      }
      signalling.awaitChange(pong, seen);
    }
    return sent;
  }

  /** Round trips made so far. Initiator thread, or after it has stopped. */
  int roundTrips() {
    return round;
  }

  // ---- responder ----

  int pingVolatile() {
    return (int) INT.getVolatile(memory, PING);
  }

  /** Answers round {@code pinged}: publishes it in pong and wakes the initiator. */
  void answer(int pinged, Signalling signalling) {
    INT.setVolatile(memory, PONG, pinged);
    signalling.wakeOne(pong);
  }

  boolean stopping() {
    return stopping;
  }

  /** Starts a platform thread that blocks in {@code signalling} to answer every round. */
  void startResponderThread(Signalling signalling) {
    responderThread =
        Thread.ofPlatform()
            .name("ping-pong-responder")
            .daemon(true) // a responder stuck by a bug must not keep the forked JVM alive
            .start(() -> answerUntilStopped(signalling));
  }

  private void answerUntilStopped(Signalling signalling) {
    int answered = 0;
    try {
      while (!stopping) {
        int pinged = pingVolatile();
        if (pinged == answered) {
          signalling.awaitChange(ping, answered);
        } else {
          answered = pinged;
          answer(pinged, signalling);
        }
      }
    } catch (RuntimeException | Error e) {
      if (!stopping) { // a ring closed under a stopping responder is the fallback, not a failure
        responderFailed(e);
      }
    }
  }

  /** Records why the responder gave up and wakes the initiator so it can throw. */
  void responderFailed(Throwable failure) {
    responderFailure = failure;
    INT.setVolatile(memory, PONG, NO_ROUND);
    Futex.wake(pong, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
  }

  /** Tells the responder, whether a thread or a continuation, to stop, and wakes it. */
  void requestStop() {
    stopping = true;
    INT.getAndAdd(memory, PING, 1);
    Futex.wake(ping, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
  }

  /** Stops the responder thread and waits up to {@code patience}; true once it has ended. */
  boolean stopResponderThread(Duration patience) throws InterruptedException {
    requestStop();
    return awaitResponderThread(patience);
  }

  boolean awaitResponderThread(Duration patience) throws InterruptedException {
    return responderThread == null || responderThread.join(patience);
  }

  /** Frees the words. Only once no responder and no ring operation can touch them. */
  @Override
  public void close() {
    arena.close();
  }
}
