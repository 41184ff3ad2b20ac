package dev.ringlock.bench;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.SharedRegion;
import dev.ringlock.locks.WaitQueue;
import dev.ringlock.locks.internal.WaitQueueCore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
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
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * Waking {@code waiters} sleeping waiters, each on a futex word of its own (every waiter asleep in
 * the kernel before an operation starts: the per-invocation setup waits for that, untimed; the
 * operations take tens of microseconds or more, so the setup's timestamps do not weigh):
 *
 * <ul>
 *   <li>{@code queue*}: a {@link WaitQueue}'s waiters, futures on one ring (no thread each) behind
 *       the queue's one kernel wait for this process, woken by {@code wakeAll()} or {@code
 *       wakeUpTo(waiters - 1)} (one FUTEX_WAKE either way); the latter with as many bystanders
 *       (larger keys) on the queue, which stay asleep;
 *   <li>{@code syscallPerWaiter*}: one platform thread per waiter, blocked in futex_wait on its own
 *       word, woken by one futex_wake system call each ({@link Futex#wake});
 *   <li>{@code sharedWord*}: the same threads all blocked on one word, woken by a single futex_wake
 *       of every waiter (the thundering herd);
 *   <li>{@code conditionSignalAll}: the same threads waiting on one {@link Condition} of a {@link
 *       ReentrantLock} for a generation count to move, woken by {@code signalAll()} (each resumes
 *       once it holds the lock again, as a condition variable's waiter does);
 *   <li>{@code ringWakeEach}: the backend-level row under the queue: {@code waiters} waits of one
 *       ring ({@code ring.wait(word, 0)}), each on a word of its own in a mapped file as a region's
 *       words are, woken by one {@link FutexRing#wakeEach} over all the words after a store of 1 to
 *       each (io_uring: one batch in one io_uring_enter; syscalls: one futex(2) wake per word).
 * </ul>
 *
 * The plain methods end when every waiter has resumed (its future completed, or its thread returned
 * from futex_wait and counted down); the {@code *Sent} methods when the waker's wakes have all been
 * made in the kernel (for the queue: its one wake's completion joined).
 *
 * <p>{@link #backend} is the backend of the ring under the {@code queue*} and {@code ring*}
 * methods: {@code AUTO} (io_uring where it works), {@code IO_URING} or {@code SYSCALLS} ({@code -p
 * backend=SYSCALLS}); the thread baselines ignore it. The queue keeps one kernel wait per process
 * whatever its number of waiters, so every size fits on either backend.
 *
 * <p>At the end of a trial it prints, per operation: the blocking kernel calls of the ring
 * (io_uring_enter; on the syscalls backend futex_waitv, futex waits and poll), and voluntary
 * context switches of the woken side (the ring's completion thread and, on the syscalls backend,
 * its futex_waitv threads; or the sum over the waiting threads), from /proc/self/task/TID/status,
 * counted from "all asleep" to "all asleep again".
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 8, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xss512k"})
public class WaitQueueWakeBenchmark {
  @Param({"1", "64", "1024"})
  public int waiters;

  @Param({"AUTO"})
  public String backend;

  private Side side;
  private QueueSide queueSide; // the side, when it is a queue
  private RingSide ringSide; // the side, when it is bare ring waits
  private ThreadSide threadSide; // the side, when it is threads

  @Setup(Level.Trial)
  public void open(BenchmarkParams params) throws Exception {
    String benchmark = params.getBenchmark();
    String method = benchmark.substring(benchmark.lastIndexOf('.') + 1);
    if (method.startsWith("queue")) {
      queueSide = new QueueSide(waiters, method.contains("WakeUpTo"), backend);
      side = queueSide;
    } else if (method.startsWith("ring")) {
      ringSide = new RingSide(waiters, backend);
      side = ringSide;
    } else {
      threadSide =
          new ThreadSide(
              waiters,
              method.contains("sharedWord")
                  ? ThreadSide.Kind.SHARED_WORD
                  : method.contains("condition")
                      ? ThreadSide.Kind.CONDITION
                      : ThreadSide.Kind.OWN_WORD);
      side = threadSide;
    }
  }

  @Setup(Level.Invocation)
  public void arm() throws Exception {
    side.arm();
    side.awaitAsleep();
    side.snapshot();
  }

  @TearDown(Level.Invocation)
  public void settle() throws Exception {
    side.awaitResumed();
    side.awaitAsleep();
    side.account();
  }

  @TearDown(Level.Trial)
  public void close() throws Exception {
    side.report();
    side.close();
  }

  // ---- the operations ----

  @Benchmark
  public void queueWakeAll() throws InterruptedException {
    queueSide.queue.wakeAll();
    queueSide.awaitResumed();
  }

  @Benchmark
  public void queueWakeUpTo() throws InterruptedException {
    queueSide.queue.wakeUpTo(waiters - 1);
    queueSide.awaitResumed();
  }

  @Benchmark
  public void queueWakeAllSent() {
    queueSide.queue.wakeAll();
    ((WaitQueueCore) queueSide.queue).wakesSent().join();
  }

  @Benchmark
  public void ringWakeEach() throws InterruptedException {
    ringSide.wakeEach();
    ringSide.awaitResumed();
  }

  @Benchmark
  public void syscallPerWaiter() throws InterruptedException {
    threadSide.wakeEachWord();
    threadSide.awaitResumed();
  }

  @Benchmark
  public void syscallPerWaiterSent() {
    threadSide.wakeEachWord();
  }

  @Benchmark
  public void sharedWord() throws InterruptedException {
    threadSide.wakeSharedWord();
    threadSide.awaitResumed();
  }

  @Benchmark
  public void sharedWordSent() {
    threadSide.wakeSharedWord();
  }

  @Benchmark
  public void conditionSignalAll() throws InterruptedException {
    threadSide.signalAll();
    threadSide.awaitResumed();
  }

  // ---- the woken sides ----

  private abstract static class Side {
    volatile CountDownLatch resumed = new CountDownLatch(0);
    long switchesAtStart;
    long entersAtStart;
    long switches;
    long enters;
    long operations;

    abstract void arm() throws InterruptedException;

    abstract List<String> wokenSideTids();

    abstract long enterCalls();

    abstract String describe();

    abstract void close() throws Exception;

    void awaitResumed() throws InterruptedException {
      if (!resumed.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("waiters did not resume: " + describe());
      }
    }

    /** Every woken-side thread blocked in the kernel (state S), so a wake has work to do. */
    void awaitAsleep() throws InterruptedException {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      for (String tid : wokenSideTids()) {
        for (char state; (state = ProcTasks.state(tid)) != 'S' && state != 'X'; ) {
          if (System.nanoTime() > end) {
            throw new IllegalStateException("thread " + tid + " never went to sleep");
          }
          Thread.sleep(0, 50_000);
        }
      }
    }

    void snapshot() {
      switchesAtStart = voluntarySwitches();
      entersAtStart = enterCalls();
    }

    void account() {
      switches += voluntarySwitches() - switchesAtStart;
      enters += enterCalls() - entersAtStart;
      operations++;
    }

    private long voluntarySwitches() {
      long sum = 0;
      for (String tid : wokenSideTids()) {
        sum += ProcTasks.voluntarySwitches(tid);
      }
      return sum;
    }

    void report() {
      System.out.printf(
          "%n[%s] per operation, over %d: %.2f blocking kernel calls of the ring (io_uring_enter;"
              + " on the syscalls backend futex_waitv, futex waits and poll), %.2f voluntary"
              + " context switches of the woken side%n",
          describe(), operations, enters / (double) operations, switches / (double) operations);
    }
  }

  /**
   * The threads of a ring named {@code ringName}: its completion thread and, on the syscalls
   * backend, its futex_waitv threads (started as waits need them, so looked up each time). Short
   * names, so that /proc's 15-character comm holds them whole.
   */
  private static List<String> ringThreads(String ringName) {
    return ProcTasks.tidsNamed(
        comm -> comm.equals(ringName) || comm.startsWith(ringName + "-waitv-"));
  }

  /**
   * Waits until the ring's waits are in the kernel: {@code expected} pending waits, or, when the
   * waiters share fewer kernel waits than that (a queue that keeps one kernel wait per process), a
   * count that no longer changes while every thread of the ring sleeps.
   */
  private static void awaitArmed(FutexRing ring, String ringName, int expected, Object what)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    long previous = -1;
    int stableChecks = 0;
    for (long inFlight; (inFlight = ring.stats().inFlight()) < expected; ) {
      boolean settled =
          inFlight > 0
              && inFlight == previous
              && ringThreads(ringName).stream()
                  .allMatch(tid -> ProcTasks.state(tid) == 'S' || ProcTasks.state(tid) == 'X');
      stableChecks = settled ? stableChecks + 1 : 0;
      if (stableChecks == 3) {
        return;
      }
      if (System.nanoTime() > end) {
        throw new IllegalStateException("waits not armed: " + ring.stats() + " " + what);
      }
      previous = inFlight;
      Thread.sleep(1);
    }
  }

  /**
   * A wait queue's waiters: futures on one ring, whose completion thread (and futex_waitv threads)
   * are the woken side.
   */
  private static final class QueueSide extends Side {
    private static final String RING_THREAD = "wqb-queue"; // with "-waitv-N", under 16 chars
    final FutexRing ring;
    final SharedRegion region;
    final WaitQueue queue;
    final int waiters;
    final int bystanders;

    QueueSide(int waiters, boolean withBystanders, String backend) throws Exception {
      this.waiters = waiters;
      this.bystanders = withBystanders ? waiters : 0;
      ring =
          FutexRing.open(
              FutexRing.options()
                  .backend(FutexRing.Backend.valueOf(backend))
                  .threadName(RING_THREAD));
      region =
          BenchFiles.openRegion(RegionOptions.builder().ring(ring).regionSize(4 << 20).build());
      queue = region.waitQueue("bench", 2 * waiters);
      for (int i = 0; i < bystanders; i++) {
        queue.await(waiters + i); // never woken: wakeUpTo(waiters - 1) passes them by
      }
    }

    @Override
    void arm() throws InterruptedException {
      CountDownLatch latch = new CountDownLatch(waiters);
      resumed = latch;
      for (int i = 0; i < waiters; i++) {
        queue.await(i).thenRun(latch::countDown);
      }
      // The queue keeps one kernel wait for all its waiters in this process.
      awaitArmed(ring, RING_THREAD, 1, queue);
    }

    @Override
    List<String> wokenSideTids() {
      return ringThreads(RING_THREAD);
    }

    @Override
    long enterCalls() {
      return ring.stats().enterCalls();
    }

    @Override
    String describe() {
      return "queue on " + ring.backend() + ", " + waiters + " woken of " + (waiters + bystanders);
    }

    @Override
    void close() {
      queue.wakeAll();
      region.close();
      ring.close();
    }
  }

  /**
   * Bare ring waits, a word each in a mapped file, woken by one wakeEach: what the queue's wakeAll
   * costs on the backend without the queue's list and slots.
   */
  private static final class RingSide extends Side {
    private static final String RING_THREAD = "wqb-ring";
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    final FutexRing ring;
    final Arena arena = Arena.ofShared();
    final MemorySegment memory;
    final List<FutexWord> words;

    RingSide(int waiters, String backend) throws IOException {
      ring =
          FutexRing.open(
              FutexRing.options()
                  .backend(FutexRing.Backend.valueOf(backend))
                  .threadName(RING_THREAD));
      memory = BenchFiles.mapScratch(4L * waiters, arena);
      List<FutexWord> list = new ArrayList<>();
      for (int i = 0; i < waiters; i++) {
        list.add(FutexWord.of(memory, 4L * i));
      }
      words = List.copyOf(list);
    }

    @Override
    void arm() throws InterruptedException {
      CountDownLatch latch = new CountDownLatch(words.size());
      resumed = latch;
      for (int i = 0; i < words.size(); i++) {
        INT.setVolatile(memory, 4L * i, 0);
        ring.wait(words.get(i), 0).thenRun(latch::countDown);
      }
      awaitArmed(ring, RING_THREAD, words.size(), this);
    }

    void wakeEach() {
      for (int i = 0; i < words.size(); i++) {
        INT.setVolatile(memory, 4L * i, 1); // as a lock's release changes its word, then wakes
      }
      ring.wakeEach(words).join();
    }

    @Override
    List<String> wokenSideTids() {
      return ringThreads(RING_THREAD);
    }

    @Override
    long enterCalls() {
      return ring.stats().enterCalls();
    }

    @Override
    String describe() {
      return "ring waits on " + ring.backend() + ", " + words.size() + " words";
    }

    @Override
    void close() {
      for (int i = 0; i < words.size(); i++) {
        INT.setVolatile(memory, 4L * i, 1);
      }
      ring.wakeEach(words).join();
      ring.close();
      arena.close();
    }
  }

  /**
   * A platform thread per waiter, blocked in futex_wait: on its own word, or all on one; or parked
   * in a {@link Condition}'s await.
   */
  private static final class ThreadSide extends Side {
    enum Kind {
      OWN_WORD,
      SHARED_WORD,
      CONDITION
    }

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    final int waiters;
    final Kind kind;
    final ReentrantLock lock = new ReentrantLock();
    final Condition condition = lock.newCondition();
    long generation; // guarded by lock
    final Arena arena = Arena.ofShared();
    final MemorySegment memory;
    final FutexWord[] words;
    final FutexWord sharedWord;
    final List<Thread> threads = new ArrayList<>();
    final List<String> tids = new ArrayList<>();
    volatile boolean running = true;

    ThreadSide(int waiters, Kind kind) throws InterruptedException {
      this.waiters = waiters;
      this.kind = kind;
      memory = arena.allocate(4L * (waiters + 1), 64);
      words = new FutexWord[waiters];
      for (int i = 0; i < waiters; i++) {
        words[i] = FutexWord.of(memory, 4L * i);
      }
      sharedWord = FutexWord.of(memory, 4L * waiters);
      String[] found = new String[waiters];
      CountDownLatch started = new CountDownLatch(waiters);
      for (int i = 0; i < waiters; i++) {
        int index = i;
        threads.add(
            Thread.ofPlatform()
                .daemon(true)
                .name("waiter-" + i)
                .start(
                    () -> {
                      found[index] = ProcTasks.ownTid();
                      started.countDown();
                      switch (kind) {
                        case OWN_WORD -> waitOnOwnWord(words[index], 4L * index);
                        case SHARED_WORD -> waitOnSharedWord();
                        case CONDITION -> waitOnCondition();
                      }
                    }));
      }
      started.await();
      tids.addAll(List.of(found));
    }

    private void waitOnOwnWord(FutexWord word, long offset) {
      while (running) {
        while ((int) INT.getVolatile(memory, offset) == 0 && running) {
          Futex.await(word, 0, FutexRing.ANY_BITSET);
        }
        INT.setVolatile(memory, offset, 0);
        resumed.countDown();
      }
    }

    private void waitOnSharedWord() {
      long offset = 4L * waiters;
      while (running) {
        int seen = (int) INT.getVolatile(memory, offset);
        while ((int) INT.getVolatile(memory, offset) == seen && running) {
          Futex.await(sharedWord, seen, FutexRing.ANY_BITSET);
        }
        resumed.countDown();
      }
    }

    private void waitOnCondition() {
      lock.lock();
      try {
        while (running) {
          long seen = generation;
          while (generation == seen && running) {
            condition.awaitUninterruptibly();
          }
          resumed.countDown();
        }
      } finally {
        lock.unlock();
      }
    }

    void signalAll() {
      lock.lock();
      try {
        generation++;
        condition.signalAll();
      } finally {
        lock.unlock();
      }
    }

    void wakeEachWord() {
      for (int i = 0; i < waiters; i++) {
        INT.setVolatile(memory, 4L * i, 1);
        Futex.wake(words[i], 1, FutexRing.ANY_BITSET);
      }
    }

    void wakeSharedWord() {
      long offset = 4L * waiters;
      INT.getAndAdd(memory, offset, 1);
      Futex.wake(sharedWord, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
    }

    @Override
    void arm() {
      resumed = new CountDownLatch(waiters);
    }

    @Override
    List<String> wokenSideTids() {
      return tids;
    }

    @Override
    long enterCalls() {
      return 0;
    }

    @Override
    String describe() {
      return switch (kind) {
            case OWN_WORD -> "a word each, ";
            case SHARED_WORD -> "one shared word, ";
            case CONDITION -> "a Condition, ";
          }
          + waiters
          + " threads";
    }

    @Override
    void close() throws InterruptedException {
      running = false;
      for (int i = 0; i < waiters; i++) {
        INT.setVolatile(memory, 4L * i, 1);
        Futex.wake(words[i], 1, FutexRing.ANY_BITSET);
      }
      wakeSharedWord();
      signalAll();
      for (Thread thread : threads) {
        thread.join();
      }
      arena.close();
    }
  }

  /** This process's threads as /proc shows them. */
  static final class ProcTasks {
    private ProcTasks() {}

    /** The kernel's id of the calling thread. */
    static String ownTid() {
      try {
        return Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** The threads whose comm (name, cut to 15 characters) {@code wanted} accepts. */
    static List<String> tidsNamed(java.util.function.Predicate<String> wanted) {
      List<String> found = new ArrayList<>();
      try (var tasks = Files.list(Path.of("/proc/self/task"))) {
        for (Path task : (Iterable<Path>) tasks::iterator) {
          try {
            if (wanted.test(Files.readString(task.resolve("comm")).strip())) {
              found.add(task.getFileName().toString());
            }
          } catch (java.nio.file.NoSuchFileException exited) {
            // a thread that ended while we listed: not one we wait for
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      if (found.isEmpty()) {
        throw new IllegalStateException("no thread named as wanted in /proc/self/task");
      }
      return found;
    }

    /** The scheduler state letter: S sleeping, R running...; X for a thread that has ended. */
    static char state(String tid) {
      String stat = read(tid, "stat");
      return stat.isEmpty() ? 'X' : stat.charAt(stat.lastIndexOf(')') + 2);
    }

    /** 0 for a thread that has ended (a futex_waitv thread of the syscalls backend may). */
    static long voluntarySwitches(String tid) {
      String status = read(tid, "status");
      if (status.isEmpty()) {
        return 0;
      }
      for (String line : status.split("\n")) {
        if (line.startsWith("voluntary_ctxt_switches:")) {
          return Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
        }
      }
      throw new IllegalStateException("no voluntary_ctxt_switches for thread " + tid);
    }

    /** The file's text, or "" if the thread has ended. */
    private static String read(String tid, String file) {
      try {
        return Files.readString(Path.of("/proc/self/task", tid, file));
      } catch (java.nio.file.NoSuchFileException ended) {
        return "";
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
