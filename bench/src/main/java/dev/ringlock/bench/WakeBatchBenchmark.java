package dev.ringlock.bench;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
 * {@code wakes} wakes of distinct words nobody waits on: one futex_wake system call each, versus
 * one batch on a {@link FutexRing}. The score is the time of the whole batch.
 *
 * <ul>
 *   <li>{@link #directSyscalls}: the baseline, {@code wakes} system calls.
 *   <li>{@link #ringFromCallerThread}: the benchmark thread requests every wake and joins them; the
 *       requests batch only as far as they pile up while the completion thread wakes.
 *   <li>{@link #ringWakeEach}: one {@link FutexRing#wakeEach} request from the benchmark thread,
 *       joined: the N wakes go to the kernel in one io_uring_enter with one completion in all.
 *   <li>{@link #ringFromCompletionThread}: a continuation requests every wake on the completion
 *       thread, so all of them go to the kernel in the same io_uring_enter. Its time includes the
 *       hop to the completion thread and back.
 * </ul>
 *
 * <p>The teardown prints io_uring_enter calls per batch, from the ring's counters.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class WakeBatchBenchmark {

  @Param({"1", "16", "64", "256", "1024"})
  public int wakes;

  private Arena arena;
  private FutexWord[] words;
  private List<FutexWord> wordList;
  private FutexWord gate; // always 0: a ring wait on it completes only when the benchmark wakes it
  private FutexRing ring;
  private CompletableFuture<?>[] wakesInFlight;
  private FutexRing.Stats atStart;
  private long batches; // benchmark thread
  private long entersCarryingWakes; // completion thread; read once the ring has closed

  @Setup(Level.Trial)
  public void openRing() {
    arena = Arena.ofShared();
    MemorySegment memory = arena.allocate(ValueLayout.JAVA_INT, wakes + 1L);
    words = new FutexWord[wakes];
    for (int i = 0; i < wakes; i++) {
      words[i] = FutexWord.of(memory, i * ValueLayout.JAVA_INT.byteSize());
    }
    wordList = List.of(words);
    gate = FutexWord.of(memory, wakes * ValueLayout.JAVA_INT.byteSize());
    wakesInFlight = new CompletableFuture<?>[wakes];
    ring = FutexRing.open();
    atStart = ring.stats();
  }

  @Benchmark
  public int directSyscalls() {
    int woken = 0;
    for (FutexWord word : words) {
      woken += Futex.wake(word, 1, FutexRing.ANY_BITSET);
    }
    return woken;
  }

  @Benchmark
  public void ringFromCallerThread() {
    for (int i = 0; i < wakes; i++) {
      wakesInFlight[i] = ring.wake(words[i], 1);
    }
    for (CompletableFuture<?> wake : wakesInFlight) {
      wake.join();
    }
    batches++;
  }

  /** One {@code wakeEach} request: N fire-and-forget SQEs and one completion, joined. */
  @Benchmark
  public void ringWakeEach() {
    ring.wakeEach(wordList).join();
    batches++;
  }

  @Benchmark
  public void ringFromCompletionThread() {
    // Attached before the gate's wake is even requested, so the continuation cannot run here.
    CompletableFuture<Void> allWoken =
        ring.wait(gate, 0).thenCompose(opened -> wakeAllOnCompletionThread());
    ring.wake(gate, 1);
    allWoken.join();
    batches++;
  }

  private CompletableFuture<Void> wakeAllOnCompletionThread() {
    if (!ring.inCompletionThread()) {
      throw new IllegalStateException("the batch must be requested on the completion thread");
    }
    long entersBefore = ring.stats().enterCalls(); // exact here: this thread writes the counter
    for (int i = 0; i < wakes; i++) {
      wakesInFlight[i] = ring.wake(words[i], 1);
    }
    // Completes on the completion thread, in the reap that delivers the last wake.
    return CompletableFuture.allOf(wakesInFlight)
        .thenRun(() -> entersCarryingWakes += ring.stats().enterCalls() - entersBefore);
  }

  @TearDown(Level.Trial)
  public void closeRing() {
    FutexRing.Stats atEnd = ring.stats();
    // Also the happens-before edge for entersCarryingWakes: it joins the completion thread.
    ring.close();
    if (batches > 0) {
      double perBatch = batches;
      System.out.printf(
          "%n[ring per batch of %d wakes] %d batches: %.2f io_uring_enter in all"
              + " (%s from issuing the wakes to their last completion), %.2f SQEs,"
              + " %.2f doorbell wake-ups%n",
          wakes,
          batches,
          (atEnd.enterCalls() - atStart.enterCalls()) / perBatch,
          entersCarryingWakes == 0 ? "n/a" : String.format("%.2f", entersCarryingWakes / perBatch),
          (atEnd.sqesSubmitted() - atStart.sqesSubmitted()) / perBatch,
          (atEnd.doorbellWakeups() - atStart.doorbellWakeups()) / perBatch);
    }
    arena.close();
  }
}
