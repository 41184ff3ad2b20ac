package dev.ringlock.core;

import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.FileLimits;
import dev.ringlock.core.ffi.FutexFlags;
import dev.ringlock.core.ffi.Syscalls;
import dev.ringlock.core.uring.IoUringAbi;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An io_uring ring that turns Linux futex operations into {@link CompletableFuture}s.
 *
 * <p>A wait submits IORING_OP_FUTEX_WAIT and parks no thread: one completion thread per ring owns
 * the ring, submits every request, and completes the futures. A wake submits IORING_OP_FUTEX_WAKE.
 * Every request gathered while the completion thread is busy, and every request made from the
 * completion thread itself (in a continuation, say), reaches the kernel in one {@code
 * io_uring_enter}: waking 200 words is one system call, not 200.
 *
 * <h2>Threading contract</h2>
 *
 * <ul>
 *   <li>Any thread may call any method.
 *   <li>Futures complete on the ring's completion thread, so non-async continuations ({@code
 *       thenApply}, {@code whenComplete}) run there. They must not block: while one runs, no other
 *       future of this ring completes. Use the {@code *Async} variants, or {@link
 *       Options#completionExecutor(Executor)}, to run them elsewhere.
 *   <li>Requests made on the completion thread join the batch being built, with no doorbell.
 *   <li>A {@link WakeSignal}, or a {@link #wakeEach} of one word, from another thread while the
 *       completion thread sleeps is a direct system call: the doorbell would cost the same call
 *       plus that thread's wake-up.
 *   <li>The completion thread is a platform daemon thread; the ring holds no other thread.
 * </ul>
 *
 * <h2>Outcomes of a wait</h2>
 *
 * <ul>
 *   <li>{@link WaitOutcome#isWoken()}: a wake reached the wait;
 *   <li>{@link WaitOutcome#isValueChanged()}: the word did not hold the expected value (EAGAIN), so
 *       the wait never slept: re-check the word;
 *   <li>{@link java.util.concurrent.TimeoutException}: the linked timeout fired first;
 *   <li>{@link java.util.concurrent.CancellationException}: the caller cancelled the future; an
 *       ASYNC_CANCEL reaches the kernel. If a wake beat the cancel, the wake is not lost: the
 *       wait's {@link AbandonedWakeHandler} gets it ({@link AbandonedWakeHandler#PASS_ON} by
 *       default);
 *   <li>{@link RingClosedException}: the ring closed first.
 * </ul>
 *
 * <p>Words in memory that another process maps must be {@link FutexScope#SHARED}.
 */
public final class FutexRing implements AutoCloseable {
  /** The most words {@link #waitAny} takes (FUTEX_WAITV_MAX). */
  public static final int MAX_WAIT_ANY = IoUringAbi.FUTEX_WAITV_MAX;

  /** A wake count that wakes every waiter. */
  public static final int WAKE_ALL = Integer.MAX_VALUE;

  /** A bitset that matches every waiter. */
  public static final int ANY_BITSET = FutexFlags.BITSET_MATCH_ANY;

  private static final AtomicInteger RING_NUMBER = new AtomicInteger();
  private static volatile FutexRing defaultRing; // started on first use; see defaultRing()

  private final CompletionLoop loop;
  private final boolean processDefault;
  private final ProcessWatch processes = new ProcessWatch(this);

  private FutexRing(Options options, String threadName, boolean processDefault) {
    this.loop = new CompletionLoop(this, options, threadName);
    this.processDefault = processDefault;
  }

  /** Opens a ring with the default {@link Options}. */
  public static FutexRing open() {
    return open(options());
  }

  /**
   * Opens a ring and starts its completion thread.
   *
   * @throws IoUringUnavailableException if this process cannot use io_uring futex operations; its
   *     {@link IoUringUnavailableException#reason()} says why
   * @throws RingException if the kernel refused the ring for another reason (ENOMEM, EMFILE)
   */
  public static FutexRing open(Options options) {
    Objects.requireNonNull(options, "options");
    return start(new FutexRing(options.copy(), options.threadName(), false));
  }

  private static FutexRing start(FutexRing ring) {
    ring.loop.start();
    try {
      ring.loop.started.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        cause.addSuppressed(new Exception("opening the FutexRing"));
        throw cause;
      }
      throw e;
    }
    return ring;
  }

  /**
   * The process-wide ring, started on first use with the default options and used by ringlock's
   * primitives when none is given. It closes when the JVM exits (a shutdown hook cancels its
   * kernel-side waits first); {@link #close()} on it throws.
   *
   * @throws IoUringUnavailableException if this process cannot use io_uring futex operations
   */
  public static FutexRing defaultRing() {
    FutexRing ring = defaultRing;
    if (ring != null) {
      return ring;
    }
    synchronized (FutexRing.class) {
      if (defaultRing == null) {
        defaultRing = startDefault(); // a failure is thrown to this caller; the next one retries
      }
      return defaultRing;
    }
  }

  private static FutexRing startDefault() {
    FutexRing ring = start(new FutexRing(options(), "ringlock-default-ring", true));
    Runtime.getRuntime()
        .addShutdownHook(
            Thread.ofPlatform().name("ringlock-default-ring-close").unstarted(ring::closeRing));
    return ring;
  }

  /** A builder of ring options, holding the defaults. */
  public static Options options() {
    return new Options();
  }

  // ---- waits ----

  /** Waits for a wake on {@code word}, if it holds {@code expected}, matching any bitset. */
  public CompletableFuture<WaitOutcome> wait(FutexWord word, int expected) {
    return wait(word, expected, ANY_BITSET, null, AbandonedWakeHandler.PASS_ON);
  }

  /**
   * Waits for a wake on {@code word} whose bitset shares a bit with {@code bitset}, if the word
   * holds {@code expected}.
   *
   * @throws IllegalArgumentException if {@code bitset} is 0 (it would match no wake)
   */
  public CompletableFuture<WaitOutcome> wait(FutexWord word, int expected, int bitset) {
    return wait(word, expected, bitset, null, AbandonedWakeHandler.PASS_ON);
  }

  /**
   * As {@link #wait(FutexWord, int, int)}, failing with {@link
   * java.util.concurrent.TimeoutException} if no wake arrives within {@code timeout} (a linked
   * timeout in the kernel, not a Java timer).
   */
  public CompletableFuture<WaitOutcome> wait(
      FutexWord word, int expected, int bitset, Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    return wait(word, expected, bitset, timeout, AbandonedWakeHandler.PASS_ON);
  }

  /**
   * The general form of a wait.
   *
   * @param timeout null for none
   * @param onAbandonedWake gets a wake that reached the wait after its future was abandoned
   */
  public CompletableFuture<WaitOutcome> wait(
      FutexWord word,
      int expected,
      int bitset,
      Duration timeout,
      AbandonedWakeHandler onAbandonedWake) {
    Objects.requireNonNull(word, "word");
    Objects.requireNonNull(onAbandonedWake, "onAbandonedWake");
    requireBitset(bitset);
    WaitOp op = new WaitOp(loop, word, expected, bitset, timeoutNanos(timeout), onAbandonedWake);
    loop.submit(op);
    return op;
  }

  /** Waits for a wake on any of {@code targets}; the outcome's index says which. */
  public CompletableFuture<WaitOutcome> waitAny(List<WaitTarget> targets) {
    return waitAny(targets, null, AbandonedWakeHandler.PASS_ON);
  }

  /**
   * Waits for a wake on any of {@code targets} (IORING_OP_FUTEX_WAITV). The outcome is woken with
   * the index of the word that was woken, or value-changed if any word did not hold its expected
   * value. FUTEX_WAITV has no bitsets: a wake with any bitset reaches it.
   *
   * <p><b>It can swallow wakes.</b> Once one of its words is woken (or it is cancelled), the kernel
   * leaves it queued on the other words until its completion runs, and a FUTEX_WAKE that meets it
   * there counts it as woken but wakes nobody (io_uring/futex.c, io_futex_wakev_fn). A protocol
   * whose releaser wakes a limited number of waiters must therefore repair the other words after
   * every completion that is not value-changed, e.g. pass one wake on to each. For an abandoned
   * wait the ring does this itself: {@code onAbandonedWake} is called for every word, the reported
   * one first.
   *
   * @param timeout null for none
   * @throws IllegalArgumentException for 0 or more than {@value #MAX_WAIT_ANY} targets
   */
  public CompletableFuture<WaitOutcome> waitAny(
      List<WaitTarget> targets, Duration timeout, AbandonedWakeHandler onAbandonedWake) {
    Objects.requireNonNull(targets, "targets");
    Objects.requireNonNull(onAbandonedWake, "onAbandonedWake");
    if (targets.isEmpty() || targets.size() > MAX_WAIT_ANY) {
      throw new IllegalArgumentException(
          "waitAny takes 1 to " + MAX_WAIT_ANY + " words, not " + targets.size());
    }
    WaitTarget[] copy = targets.toArray(new WaitTarget[0]);
    for (WaitTarget target : copy) {
      Objects.requireNonNull(target, "a waitAny target is null");
    }
    WaitAnyOp op = new WaitAnyOp(loop, copy, timeoutNanos(timeout), onAbandonedWake);
    loop.submit(op);
    return op;
  }

  // ---- wakes ----

  /** Wakes up to {@code count} waiters on {@code word}, whatever their bitsets. */
  public CompletableFuture<Integer> wake(FutexWord word, int count) {
    return wake(word, count, ANY_BITSET);
  }

  /**
   * Wakes up to {@code count} waiters on {@code word} whose bitsets share a bit with {@code
   * bitset}, oldest first. Completes with the number woken.
   *
   * @param count 0 wakes none; {@link #WAKE_ALL} wakes every one
   * @throws IllegalArgumentException if {@code count} is negative or {@code bitset} is 0
   */
  public CompletableFuture<Integer> wake(FutexWord word, int count, int bitset) {
    Objects.requireNonNull(word, "word");
    if (count < 0) {
      throw new IllegalArgumentException("wake count must be 0 or more, not " + count);
    }
    requireBitset(bitset);
    WakeOp op = new WakeOp(loop, word, count, bitset);
    loop.submit(op);
    return op;
  }

  /**
   * A reusable, fire-and-forget wake of up to {@code count} waiters on {@code word} whose bitsets
   * share a bit with {@code bitset}; see {@link WakeSignal}.
   *
   * @throws IllegalArgumentException if {@code count} is not positive or {@code bitset} is 0
   */
  public WakeSignal wakeSignal(FutexWord word, int count, int bitset) {
    Objects.requireNonNull(word, "word");
    if (count <= 0) {
      throw new IllegalArgumentException("a wake signal's count must be positive, not " + count);
    }
    requireBitset(bitset);
    return new WakeSignal(loop, word, count, bitset);
  }

  /**
   * Wakes up to one waiter on each of {@code words}, in one submission: every FUTEX_WAKE reaches
   * the kernel in the same io_uring_enter (more than one only if they overflow the submission
   * queue), and only the last posts a completion. For directed wake-ups of many waiters that each
   * sleep on a word of their own. The future completes when the last wake has run; the wakes are
   * made even if the ring closes first (then by direct system calls). A single word from another
   * thread while the completion thread sleeps is woken by a direct system call, as a {@link
   * WakeSignal} is.
   *
   * @throws IllegalArgumentException if {@code words} is empty
   */
  public CompletableFuture<Void> wakeEach(List<FutexWord> words) {
    Objects.requireNonNull(words, "words");
    if (words.isEmpty()) {
      throw new IllegalArgumentException("wakeEach needs at least one word");
    }
    FutexWord[] copy = words.toArray(new FutexWord[0]);
    for (FutexWord word : copy) {
      Objects.requireNonNull(word, "a wakeEach word is null");
    }
    if (copy.length == 1 && loop.isAsleep()) { // a lone wake; batches keep going through the ring
      int result = CompletionLoop.wakeBySyscall(copy[0], 1, ANY_BITSET);
      return result >= 0
          ? CompletableFuture.completedFuture(null)
          : CompletableFuture.failedFuture(WakeEachOp.failure(copy[0], -result));
    }
    WakeEachOp op = new WakeEachOp(loop, copy);
    loop.submit(op);
    return op;
  }

  // ---- process exit ----

  /**
   * Completes when process {@code pid} exits: an IORING_OP_POLL_ADD on its pidfd, on this ring.
   * Completes at once if no such process exists (also when the pid now names a thread). PIDs are
   * reused: a caller that learned {@code pid} from shared memory must check again, after this call,
   * that it still names the process it meant.
   *
   * <p>Where pidfd_open is refused (ENOSYS, EPERM) the exit is seen through /proc instead, as
   * {@link ProcessWatch} does; cancelling the returned future then ends the watch.
   *
   * @throws RingException if pidfd_open fails for another reason than ESRCH (EMFILE: the message
   *     says which limit ran out)
   */
  public CompletableFuture<Void> onProcessExit(int pid) {
    if (pid <= 0) {
      throw new IllegalArgumentException("pid must be positive, not " + pid);
    }
    int pidfd = Syscalls.pidfdOpen(pid, 0);
    if (ProcessWatch.namesNoProcess(pidfd)) {
      return CompletableFuture.completedFuture(null);
    }
    if (pidfd == -Errno.ENOSYS || pidfd == -Errno.EPERM) {
      return processes.exitWithoutPidfd(pid, -pidfd); // a sandbox refuses it: /proc stands in
    }
    if (pidfd < 0) {
      String outOfFiles = FileLimits.explain("pidfd_open(" + pid + ")", -pidfd);
      throw new RingException(
          outOfFiles != null ? outOfFiles : "pidfd_open(" + pid + ") failed", -pidfd);
    }
    return pollProcessExit(pid, pidfd);
  }

  /** POLL_ADD on {@code pidfd}, which the returned op owns and closes on every way out. */
  CompletableFuture<Void> pollProcessExit(int pid, int pidfd) {
    ProcessExitOp op = new ProcessExitOp(loop, pid, pidfd);
    loop.submit(op);
    return op;
  }

  /**
   * This ring's exit notifications for other processes: one pidfd poll per watched process, shared
   * by every caller in this process (see {@link ProcessWatch}).
   */
  public ProcessWatch processes() {
    return processes;
  }

  // ---- state ----

  /** True on this ring's completion thread, where futures complete and requests join the batch. */
  public boolean inCompletionThread() {
    return Thread.currentThread() == loop.thread();
  }

  /** For tests: the completion thread sleeps in io_uring_enter with nothing queued. */
  boolean completionThreadAsleep() {
    return loop.isAsleep();
  }

  public boolean isClosed() {
    return loop.isClosing();
  }

  /** Counters since the ring opened: exact once closed, a recent snapshot before that. */
  public Stats stats() {
    return new Stats(
        loop.counter(CompletionLoop.ENTER_CALLS),
        loop.counter(CompletionLoop.SQES_SUBMITTED),
        loop.counter(CompletionLoop.COMPLETIONS),
        loop.counter(CompletionLoop.DOORBELL_WAKEUPS),
        loop.counter(CompletionLoop.LARGEST_SUBMISSION),
        loop.inFlight());
  }

  /**
   * Closes the ring: cancels every request it has in the kernel (a futex wait left queued would
   * swallow a wake meant for a live waiter), fails every pending future with {@link
   * RingClosedException}, and joins the completion thread. Idempotent. On the completion thread it
   * starts the close and returns; the thread finishes it when the current iteration ends.
   *
   * @throws IllegalStateException on the {@link #defaultRing()}, which other code shares
   */
  @Override
  public void close() {
    if (processDefault) {
      throw new IllegalStateException(
          "the default FutexRing is shared by the whole process and closes when the JVM exits;"
              + " open a ring of your own to control its lifetime");
    }
    closeRing();
  }

  private void closeRing() {
    loop.requestClose();
    if (!inCompletionThread()) {
      boolean interrupted = false;
      while (loop.thread().isAlive()) { // the thread ends only after shutdown has finished
        try {
          loop.thread().join();
        } catch (InterruptedException e) {
          interrupted = true; // close must finish: remember the interrupt and wait on
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public String toString() {
    return "FutexRing[" + loop.thread().getName() + (isClosed() ? ", closed" : "") + "]";
  }

  private static void requireBitset(int bitset) {
    if (bitset == 0) {
      throw new IllegalArgumentException(
          "a futex bitset of 0 matches nothing (the kernel says EINVAL)");
    }
  }

  private static long timeoutNanos(Duration timeout) {
    if (timeout == null) {
      return WaitOp.NO_TIMEOUT;
    }
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must not be negative: " + timeout);
    }
    try {
      return timeout.toNanos();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(
          "timeout is too long to express in nanoseconds: " + timeout, e);
    }
  }

  /**
   * Counters of a ring.
   *
   * @param enterCalls io_uring_enter system calls made by the completion thread
   * @param sqesSubmitted SQEs the kernel consumed
   * @param completions CQEs reaped
   * @param doorbellWakeups times another thread woke the sleeping completion thread
   * @param largestSubmission the most SQEs one io_uring_enter submitted
   * @param inFlight requests in the kernel now
   */
  public record Stats(
      long enterCalls,
      long sqesSubmitted,
      long completions,
      long doorbellWakeups,
      long largestSubmission,
      int inFlight) {}

  /** io_uring_setup flags a ring may be created with. */
  public enum SetupFlag {
    /** IORING_SETUP_SUBMIT_ALL: keep submitting a batch past a request that fails at submit. */
    SUBMIT_ALL(IoUringAbi.SETUP_SUBMIT_ALL),
    /** IORING_SETUP_SINGLE_ISSUER: only the completion thread submits (it always does). */
    SINGLE_ISSUER(IoUringAbi.SETUP_SINGLE_ISSUER),
    /** IORING_SETUP_DEFER_TASKRUN: completions run when the completion thread asks. */
    DEFER_TASKRUN(IoUringAbi.SETUP_DEFER_TASKRUN),
    /** IORING_SETUP_COOP_TASKRUN: no IPI to interrupt the completion thread for completions. */
    COOP_TASKRUN(IoUringAbi.SETUP_COOP_TASKRUN);

    final int bit;

    SetupFlag(int bit) {
      this.bit = bit;
    }
  }

  /** How other threads wake a completion thread asleep in io_uring_enter. */
  public enum DoorbellKind {
    /** A FUTEX_WAIT on a private word of the ring's own; a producer stores and wakes it. */
    FUTEX,
    /** A READ on an eventfd; a producer writes to it. */
    EVENTFD
  }

  /** Options of a ring. A builder: each setter returns this. */
  public static final class Options {
    private int submissionQueueEntries = 1024;
    private int completionQueueEntries = 16384;
    private EnumSet<SetupFlag> setupFlags =
        EnumSet.of(SetupFlag.SUBMIT_ALL, SetupFlag.SINGLE_ISSUER, SetupFlag.DEFER_TASKRUN);
    private DoorbellKind doorbell = DoorbellKind.FUTEX;
    private Executor completionExecutor;
    private String threadName;

    private Options() {}

    /**
     * SQ size: the most requests one io_uring_enter submits (the kernel rounds up to a power of
     * two). Default 1024.
     */
    public Options submissionQueueEntries(int entries) {
      if (entries < 2 || entries > 32768) {
        throw new IllegalArgumentException(
            "submission queue entries must be 2..32768, not " + entries);
      }
      this.submissionQueueEntries = entries;
      return this;
    }

    /**
     * CQ size: completions the kernel can post before the completion thread reaps. More are kept by
     * the kernel (IORING_FEAT_NODROP), at a cost. Default 16384.
     */
    public Options completionQueueEntries(int entries) {
      if (entries < 2 || entries > 1 << 20) {
        throw new IllegalArgumentException(
            "completion queue entries must be 2..1048576, not " + entries);
      }
      this.completionQueueEntries = entries;
      return this;
    }

    /**
     * io_uring_setup flags. Default SUBMIT_ALL, SINGLE_ISSUER, DEFER_TASKRUN.
     *
     * @throws IllegalArgumentException if DEFER_TASKRUN is asked for without SINGLE_ISSUER
     */
    public Options setupFlags(Set<SetupFlag> flags) {
      EnumSet<SetupFlag> copy =
          flags.isEmpty() ? EnumSet.noneOf(SetupFlag.class) : EnumSet.copyOf(flags);
      if (copy.contains(SetupFlag.DEFER_TASKRUN) && !copy.contains(SetupFlag.SINGLE_ISSUER)) {
        throw new IllegalArgumentException(
            "DEFER_TASKRUN needs SINGLE_ISSUER (the kernel says EINVAL)");
      }
      this.setupFlags = copy;
      return this;
    }

    /** How other threads wake the sleeping completion thread. Default FUTEX. */
    public Options doorbell(DoorbellKind kind) {
      this.doorbell = Objects.requireNonNull(kind, "kind");
      return this;
    }

    /**
     * Complete futures on {@code executor} instead of the completion thread, so continuations may
     * block. Costs a hand-off per completion. If the executor rejects a task, the future completes
     * on the completion thread.
     */
    public Options completionExecutor(Executor executor) {
      this.completionExecutor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** Name of the completion thread. Default "ringlock-ring-N". */
    public Options threadName(String name) {
      this.threadName = Objects.requireNonNull(name, "name");
      return this;
    }

    int submissionQueueEntries() {
      return submissionQueueEntries;
    }

    int completionQueueEntries() {
      return Math.max(completionQueueEntries, submissionQueueEntries);
    }

    int setupFlagBits() {
      int bits = 0;
      for (SetupFlag flag : setupFlags) {
        bits |= flag.bit;
      }
      return bits;
    }

    DoorbellKind doorbell() {
      return doorbell;
    }

    Executor completionExecutor() {
      return completionExecutor;
    }

    String threadName() {
      return threadName != null ? threadName : "ringlock-ring-" + RING_NUMBER.incrementAndGet();
    }

    Options copy() {
      Options copy = new Options();
      copy.submissionQueueEntries = submissionQueueEntries;
      copy.completionQueueEntries = completionQueueEntries;
      copy.setupFlags = setupFlags.clone();
      copy.doorbell = doorbell;
      copy.completionExecutor = completionExecutor;
      copy.threadName = threadName;
      return copy;
    }
  }
}
