package dev.ringlock.bench;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Baseline for {@link RingPingPongBenchmark}: the wake round trip between two platform threads that
 * sleep in futex_wait and wake with futex_wake, one system call each, no ring.
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
public class DirectPingPongBenchmark {
  private static final Signalling SYSCALLS =
      new Signalling() {
        @Override
        public void awaitChange(FutexWord word, int seen) {
          Futex.await(word, seen, FutexRing.ANY_BITSET);
        }

        @Override
        public void wakeOne(FutexWord word) {
          Futex.wake(word, 1, FutexRing.ANY_BITSET);
        }
      };

  private PingPong pingPong;

  @Setup(Level.Trial)
  public void startResponder() {
    pingPong = new PingPong();
    pingPong.startResponderThread(SYSCALLS);
  }

  @Benchmark
  public int roundTrip() {
    return pingPong.roundTrip(SYSCALLS);
  }

  @TearDown(Level.Trial)
  public void stopResponder() throws InterruptedException {
    if (!pingPong.stopResponderThread(PingPong.STOP_PATIENCE)) {
      // Leave the words mapped: freeing them under a live thread would be worse than the leak.
      throw new IllegalStateException(
          "the responder thread did not stop within " + PingPong.STOP_PATIENCE);
    }
    pingPong.close();
  }
}
