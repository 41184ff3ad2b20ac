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
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Linux futex operations as {@link CompletableFuture}s: on an io_uring ring where io_uring works,
 * else on plain futex system calls (see {@link Backend}).
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
 *   <li>Blocking there is detected: {@code join()}, {@code get()} or {@code get(timeout)} of one of
 *       this ring's futures that is not complete yet, on its completion thread, throws {@link
 *       CompletionThreadBlockingException} at once instead of deadlocking; and user code that runs
 *       there longer than {@link Options#blockedThreadWarning} (100 ms) is logged with the thread's
 *       stack.
 *   <li>Requests made on the completion thread join the batch being built, with no doorbell.
 *   <li>A {@link WakeSignal}, or a {@link #wakeEach} of one word, from another thread while the
 *       completion thread sleeps is a direct system call: the doorbell would cost the same call
 *       plus that thread's wake-up.
 *   <li>The completion thread is a platform daemon thread; the ring holds no other thread (the
 *       blocked-thread checker is one daemon thread per JVM, shared by every ring).
 * </ul>
 *
 * <h2>Outcomes of a wait</h2>
 *
 * <ul>
 *   <li>{@link WaitOutcome#isWoken()}: a wake reached the wait. On io_uring, always a wake of this
 *       wait's own: the wake's count includes it. On the syscalls backend it may also be spurious
 *       (see below), as a futex wait's return may be: re-check the word either way;
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
 *
 * <h2>Backends</h2>
 *
 * <p>{@link Options#backend} (default {@link Backend#AUTO}) or the system property {@value
 * #BACKEND_PROPERTY} ({@code io_uring}, {@code syscalls} or {@code auto}; the property decides only
 * when the option is AUTO) chooses what carries the requests. AUTO takes io_uring when this process
 * may set up a ring with the futex operations (Linux 6.7+, not refused by seccomp or sysctl), else
 * the syscalls backend, which needs only futex_waitv (Linux 5.16+), futex(2), pidfd_open and poll;
 * the first choice in a JVM is logged at INFO with the reason. Both keep this class's whole
 * contract and the same futex words, so processes on either backend share a region. On the syscalls
 * backend:
 *
 * <ul>
 *   <li>waits sleep in futex_waitv on at most {@value SyscallBackend#MAX_THREADS} platform threads
 *       of the ring, {@value WaitvThread#CAPACITY} words each; a wait beyond that throws {@link
 *       WaitCapacityException}. A wait with a bitset other than {@link #ANY_BITSET} takes a thread
 *       of its own (futex_waitv has no bitsets), at most {@value SyscallBackend#MAX_BITSET_WAITS}
 *       at once;
 *   <li>futures complete on one completion thread of the backend's (or the completion executor), as
 *       on io_uring; the waitv threads hand their outcomes to it. Except a wait joined by the
 *       platform thread that blocks in {@code join()} or {@code get()} on it before a waitv thread
 *       has armed it (on a ring without a completion executor): that thread then sleeps on the word
 *       itself and completes the future, so its non-async continuations run there
 *       (docs/backends.md, "A ring wait joined by its thread");
 *   <li>every wake is a direct system call on the caller's thread, one per word: a wake's future is
 *       complete when the method returns;
 *   <li>{@link #stats()} maps its counters onto the ring's: see {@link Stats}.
 *   <li>a wait may end {@link WaitOutcome#isWoken() woken} with no wake of its own (a spurious
 *       wakeup), so that no wake is ever lost. futex_waitv reports one woken word of its array, the
 *       last; when a second wake reaches another of its words before the thread leaves the kernel,
 *       the kernel does not say so. A wait the backend cannot then prove unwoken ends woken: one on
 *       a word that another process may wake ({@link FutexScope#SHARED}), or one on a private word
 *       that this process woke meanwhile. Waits on one word are kept in one array in order, so a
 *       wake of several of them is reported exactly, and different words get different threads
 *       while there are threads to spare, so this needs two wakes of different words reaching one
 *       thread at once. A spurious wakeup is not counted by any wake; ringlock's primitives
 *       re-check their words and sleep again;
 *   <li>as on io_uring, a wake made through a ring of this process reaches every wait whose future
 *       was returned before the wake was called, as far as its count goes, oldest first, and counts
 *       it; a wait made after the wake began is not woken by it. A thread re-arms its call (after a
 *       wake, a timeout, a cancellation or a new wait), its waits out of the kernel meanwhile; a
 *       wake that finds fewer waiters than it asked hands the rest of its count to the threads that
 *       may have been re-arming, which end those waits woken. (A wait with a bitset other than
 *       {@link #ANY_BITSET} ends woken instead within one 50 ms slice, maybe spuriously,
 *       uncounted.) What this backend cannot do: a wake that changes no word, made by another
 *       process (or by {@link Futex#wake}, or an io_uring ring of this process) in that instant,
 *       finds none of that thread's waits. Change the word before a wake, as every futex protocol
 *       does.
 * </ul>
 */
public final class FutexRing implements AutoCloseable {
  /** The most words {@link #waitAny} takes (FUTEX_WAITV_MAX). */
  public static final int MAX_WAIT_ANY = IoUringAbi.FUTEX_WAITV_MAX;

  /** A wake count that wakes every waiter. */
  public static final int WAKE_ALL = Integer.MAX_VALUE;

  /** A bitset that matches every waiter. */
  public static final int ANY_BITSET = FutexFlags.BITSET_MATCH_ANY;

  /** The system property that chooses the backend when {@link Options#backend} is AUTO. */
  public static final String BACKEND_PROPERTY = "ringlock.backend";

  private static final System.Logger LOG = System.getLogger(FutexRing.class.getName());
  private static final AtomicInteger RING_NUMBER = new AtomicInteger();
  private static final AtomicBoolean CHOICE_LOGGED = new AtomicBoolean();
  private static volatile FutexRing defaultRing; // started on first use; see defaultRing()

  private FutexBackend backend; // set once, by start()
  private final boolean processDefault;
  private final ProcessWatch processes = new ProcessWatch(this);

  private FutexRing(boolean processDefault) {
    this.processDefault = processDefault;
  }

  /** What carries a ring's requests to the kernel. */
  public enum Backend {
    /**
     * io_uring where this process may use its futex operations, else {@link #SYSCALLS}; the {@value
     * FutexRing#BACKEND_PROPERTY} system property may force either.
     */
    AUTO,
    /** An io_uring ring and its completion thread (Linux 6.7+). */
    IO_URING,
    /** futex_waitv, futex(2), pidfd_open and poll on a few platform threads (Linux 5.16+). */
    SYSCALLS;

    /**
     * The backend a {@value FutexRing#BACKEND_PROPERTY} value names: {@code io_uring}, {@code
     * syscalls} or {@code auto}, in any case; null or blank is AUTO.
     *
     * @param value the property's value, or null
     * @return the backend it names
     * @throws IllegalArgumentException for any other value
     */
    public static Backend fromProperty(String value) {
      if (value == null || value.isBlank()) {
        return AUTO;
      }
      return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
        case "auto" -> AUTO;
        case "io_uring", "iouring", "io-uring" -> IO_URING;
        case "syscalls", "syscall" -> SYSCALLS;
        default ->
            throw new IllegalArgumentException(
                "-D"
                    + BACKEND_PROPERTY
                    + "="
                    + value
                    + " names no FutexRing backend; use io_uring, syscalls or auto");
      };
    }
  }

  /**
   * Opens a ring with the default {@link Options}.
   *
   * @return the open ring; close it when done
   */
  public static FutexRing open() {
    return open(options());
  }

  /**
   * Opens a ring on the backend {@link Options#backend} chooses and starts its threads.
   *
   * @param options the ring's options (copied: later changes do not apply)
   * @return the open ring; close it when done
   * @throws IoUringUnavailableException if io_uring was asked for (IO_URING) and this process
   *     cannot use its futex operations; or, on AUTO, if it cannot and the syscalls backend is
   *     refused too (a suppressed exception says why). Its {@link
   *     IoUringUnavailableException#reason()} says why io_uring is unavailable
   * @throws RingException if the kernel refused for another reason (ENOMEM, EMFILE), or SYSCALLS
   *     was asked for and futex_waitv is refused (before Linux 5.16, or by seccomp)
   * @throws IllegalArgumentException if the {@value #BACKEND_PROPERTY} property names no backend
   */
  public static FutexRing open(Options options) {
    Objects.requireNonNull(options, "options");
    Options copy = options.copy();
    return start(new FutexRing(false), copy, copy.threadName());
  }

  private static FutexRing start(FutexRing ring, Options options, String threadName) {
    Backend wanted = options.backend();
    String why = "Options.backend(" + wanted + ")";
    if (wanted == Backend.AUTO) {
      wanted = Backend.fromProperty(System.getProperty(BACKEND_PROPERTY));
      why = "-D" + BACKEND_PROPERTY + "=" + System.getProperty(BACKEND_PROPERTY);
    }
    switch (wanted) {
      case IO_URING -> {
        ring.backend = startUring(ring, options, threadName);
        logChoice(Backend.IO_URING, "forced by " + why);
      }
      case SYSCALLS -> {
        ring.backend = startSyscalls(ring, options, threadName);
        logChoice(Backend.SYSCALLS, "forced by " + why);
      }
      case AUTO -> {
        try {
          ring.backend = startUring(ring, options, threadName);
          logChoice(Backend.IO_URING, "io_uring and its futex operations work here");
        } catch (IoUringUnavailableException unavailable) {
          try {
            ring.backend = startSyscalls(ring, options, threadName);
          } catch (RingException refused) {
            unavailable.addSuppressed(refused);
            throw unavailable;
          }
          logChoice(
              Backend.SYSCALLS,
              "io_uring is unavailable ("
                  + unavailable.reason()
                  + ": "
                  + unavailable.reason().advice()
                  + ")");
        }
      }
    }
    return ring;
  }

  private static FutexBackend startUring(FutexRing ring, Options options, String threadName) {
    UringBackend uring = new UringBackend(ring, options, threadName);
    uring.start();
    return uring;
  }

  private static FutexBackend startSyscalls(FutexRing ring, Options options, String threadName) {
    SyscallBackend syscalls = new SyscallBackend(ring, options, threadName);
    syscalls.start();
    return syscalls;
  }

  private static void logChoice(Backend chosen, String why) {
    if (CHOICE_LOGGED.compareAndSet(false, true)) {
      LOG.log(
          System.Logger.Level.INFO, "ringlock FutexRing backend: " + chosen + ", because " + why);
    }
  }

  /**
   * The process-wide ring, started on first use with the default options and used by ringlock's
   * primitives when none is given. It closes when the JVM exits (a shutdown hook cancels its
   * kernel-side waits first); {@link #close()} on it throws.
   *
   * @return the process-wide ring
   * @throws IoUringUnavailableException if neither io_uring futex operations nor futex_waitv are
   *     usable here (see {@link #open(Options)})
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
    FutexRing ring = start(new FutexRing(true), options(), "ringlock-default-ring");
    Runtime.getRuntime()
        .addShutdownHook(
            Thread.ofPlatform().name("ringlock-default-ring-close").unstarted(ring::closeRing));
    return ring;
  }

  /**
   * A builder of ring options, holding the defaults.
   *
   * @return a new builder
   */
  public static Options options() {
    return new Options();
  }

  // ---- waits ----

  /**
   * Waits for a wake on {@code word}, if it holds {@code expected}, matching any bitset.
   *
   * @param word the futex word
   * @param expected the value the word must hold for the wait to start
   * @return a future of the outcome: woken, or value changed if the word did not hold {@code
   *     expected}
   */
  public CompletableFuture<WaitOutcome> wait(FutexWord word, int expected) {
    return wait(word, expected, ANY_BITSET, null, AbandonedWakeHandler.PASS_ON);
  }

  /**
   * Waits for a wake on {@code word} whose bitset shares a bit with {@code bitset}, if the word
   * holds {@code expected}.
   *
   * @param word the futex word
   * @param expected the value the word must hold for the wait to start
   * @param bitset the wakes this wait accepts: those whose bitset shares a bit with it
   * @return a future of the outcome: woken, or value changed if the word did not hold {@code
   *     expected}
   * @throws IllegalArgumentException if {@code bitset} is 0 (it would match no wake)
   */
  public CompletableFuture<WaitOutcome> wait(FutexWord word, int expected, int bitset) {
    return wait(word, expected, bitset, null, AbandonedWakeHandler.PASS_ON);
  }

  /**
   * As {@link #wait(FutexWord, int, int)}, failing with {@link
   * java.util.concurrent.TimeoutException} if no wake arrives within {@code timeout} (a linked
   * timeout in the kernel, not a Java timer).
   *
   * @param word the futex word
   * @param expected the value the word must hold for the wait to start
   * @param bitset the wakes this wait accepts: those whose bitset shares a bit with it
   * @param timeout how long to wait for a wake at most
   * @return a future of the outcome, failed with {@code TimeoutException} after {@code timeout}
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
   * @param word the futex word
   * @param expected the value the word must hold for the wait to start
   * @param bitset the wakes this wait accepts: those whose bitset shares a bit with it
   * @return a future of the outcome: woken, or value changed if the word did not hold {@code
   *     expected}
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
    return backend.wait(word, expected, bitset, timeoutNanos(timeout), onAbandonedWake);
  }

  /**
   * Waits for a wake on any of {@code targets}; the outcome's index says which.
   *
   * @param targets 1 to {@value #MAX_WAIT_ANY} words, each with its expected value
   * @return a future of the outcome: woken with the index of the word woken, or value changed
   */
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
   * @param targets 1 to {@value #MAX_WAIT_ANY} words, each with its expected value
   * @param onAbandonedWake gets each word's wake that reached the wait after its future was
   *     abandoned
   * @return a future of the outcome: woken with the index of the word woken, or value changed
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
    return backend.waitAny(copy, timeoutNanos(timeout), onAbandonedWake);
  }

  // ---- wakes ----

  /**
   * Wakes up to {@code count} waiters on {@code word}, whatever their bitsets.
   *
   * @param word the futex word
   * @param count how many waiters to wake at most; {@link #WAKE_ALL} for every one
   * @return a future of the number woken, in every process
   */
  public CompletableFuture<Integer> wake(FutexWord word, int count) {
    return wake(word, count, ANY_BITSET);
  }

  /**
   * Wakes up to {@code count} waiters on {@code word} whose bitsets share a bit with {@code
   * bitset}, oldest first. Completes with the number woken, in every process. It reaches every wait
   * of this process whose future was returned before this call (on the syscalls backend too, see
   * the class comment), and none made after it completed.
   *
   * @param count 0 wakes none; {@link #WAKE_ALL} wakes every one
   * @param word the futex word
   * @param bitset the waiters to wake: those whose bitset shares a bit with it
   * @return a future of the number woken, in every process
   * @throws IllegalArgumentException if {@code count} is negative or {@code bitset} is 0
   */
  public CompletableFuture<Integer> wake(FutexWord word, int count, int bitset) {
    Objects.requireNonNull(word, "word");
    if (count < 0) {
      throw new IllegalArgumentException("wake count must be 0 or more, not " + count);
    }
    requireBitset(bitset);
    return backend.wake(word, count, bitset);
  }

  /**
   * Completes once every request this process queued on the ring before the call (a {@link
   * WakeSignal}'s wake, {@link #wake}, {@link #wakeEach}, a wait) has been submitted to the kernel.
   * Call it before unmapping memory that holds futex words: the kernel reads a wake's address when
   * the wake is submitted, and a wake submitted after the unmap fails with EFAULT, so its waiters
   * in other processes would sleep on. On the ring's completion thread it submits at once and
   * returns a completed future. On the syscalls backend every wake is a system call made already. A
   * closed ring's queued wakes were made by system calls: completed.
   *
   * @return a future completed (with null) once those requests are in the kernel
   */
  public CompletableFuture<Void> flush() {
    return backend.flush();
  }

  /**
   * A reusable, fire-and-forget wake of up to {@code count} waiters on {@code word} whose bitsets
   * share a bit with {@code bitset}; see {@link WakeSignal}.
   *
   * @param word the futex word
   * @param count how many waiters each signal wakes at most, at least 1
   * @param bitset the waiters to wake: those whose bitset shares a bit with it
   * @return the signal, to keep and signal again
   * @throws IllegalArgumentException if {@code count} is not positive or {@code bitset} is 0
   */
  public WakeSignal wakeSignal(FutexWord word, int count, int bitset) {
    Objects.requireNonNull(word, "word");
    if (count <= 0) {
      throw new IllegalArgumentException("a wake signal's count must be positive, not " + count);
    }
    requireBitset(bitset);
    return backend.wakeSignal(word, count, bitset);
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
   * @param words the words to wake one waiter of each
   * @return a future that completes when the last wake has run
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
    return backend.wakeEach(copy);
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
   * @param pid the process to watch, positive
   * @return a future that completes when the process exits; cancel it to stop watching
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

  /**
   * An exit watch on {@code pidfd} (a POLL_ADD on io_uring, poll(2) on the syscalls backend), which
   * the returned future owns and closes on every way out.
   */
  CompletableFuture<Void> pollProcessExit(int pid, int pidfd) {
    return backend.pollProcessExit(pid, pidfd);
  }

  /**
   * This ring's exit notifications for other processes: one pidfd poll per watched process, shared
   * by every caller in this process (see {@link ProcessWatch}).
   *
   * @return this ring's process watch
   */
  public ProcessWatch processes() {
    return processes;
  }

  // ---- state ----

  /**
   * True on the thread where this ring completes futures: the completion thread (on io_uring, where
   * requests made join the batch).
   *
   * @return true on the thread where this ring completes futures
   */
  public boolean inCompletionThread() {
    return backend.inCompletionThread();
  }

  /**
   * Which backend this ring runs on: {@link Backend#IO_URING} or {@link Backend#SYSCALLS}.
   *
   * @return the backend this ring runs on
   */
  public Backend backend() {
    return backend.kind();
  }

  /** For tests: the completion thread (every thread, on syscalls) sleeps with nothing queued. */
  boolean completionThreadAsleep() {
    return backend.completionThreadAsleep();
  }

  /**
   * Whether {@link #close()} has begun: no new operation starts on this ring.
   *
   * @return true once close has begun
   */
  public boolean isClosed() {
    return backend.isClosing();
  }

  /**
   * Counters since the ring opened: exact once closed, a recent snapshot before that.
   *
   * @return the ring's counters
   */
  public Stats stats() {
    return backend.stats();
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
    backend.close();
  }

  @Override
  public String toString() {
    return "FutexRing["
        + backend.threadName()
        + (backend.kind() == Backend.SYSCALLS ? ", syscalls" : "")
        + (isClosed() ? ", closed" : "")
        + "]";
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
   * Counters of a ring. On the syscalls backend, which has no ring: enterCalls counts the blocking
   * calls its threads made (futex_waitv, futex waits, poll; an idle tick that ended one with
   * nothing to do is not counted), sqesSubmitted is 0, completions counts the futures it completed,
   * doorbellWakeups the times a sleeping thread was woken to take a new or abandoned wait,
   * largestSubmission the most words one futex_waitv waited on, and inFlight the pending waits and
   * watched processes. Wakes are direct system calls there and are not counted.
   *
   * @param enterCalls io_uring_enter system calls made by the completion thread; a sleep counts as
   *     one however many idle ticks (docs/threading.md in the project) it spans
   * @param sqesSubmitted SQEs the kernel consumed
   * @param completions CQEs reaped
   * @param doorbellWakeups times another thread woke the sleeping completion thread
   * @param largestSubmission the most SQEs one io_uring_enter submitted
   * @param inFlight requests in the kernel now
   * @param wakesFailed fire-and-forget wakes the kernel refused (each also logged as a WARNING):
   *     EFAULT means the word's memory was unmapped before the wake was submitted (see {@link
   *     #flush()}); always 0 on the syscalls backend
   */
  public record Stats(
      long enterCalls,
      long sqesSubmitted,
      long completions,
      long doorbellWakeups,
      long largestSubmission,
      int inFlight,
      long wakesFailed) {}

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
    private Backend backend = Backend.AUTO;
    private Duration blockedThreadWarning = BlockedThreadChecker.DEFAULT_THRESHOLD;

    private Options() {}

    /**
     * Which backend carries the ring's requests. Default {@link Backend#AUTO}, which lets the
     * {@value FutexRing#BACKEND_PROPERTY} system property decide, then io_uring where it works. The
     * io_uring options (queue sizes, setup flags, doorbell) do not apply to SYSCALLS.
     *
     * @param backend the backend to use
     * @return these options
     */
    public Options backend(Backend backend) {
      this.backend = Objects.requireNonNull(backend, "backend");
      return this;
    }

    Backend backend() {
      return backend;
    }

    /**
     * SQ size: the most requests one io_uring_enter submits (the kernel rounds up to a power of
     * two). Default 1024.
     *
     * @param entries the SQ size, at least 1
     * @return these options
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
     *
     * @param entries the CQ size, at least 1
     * @return these options
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
     * @param flags the io_uring_setup flags
     * @return these options
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

    /**
     * How other threads wake the sleeping completion thread. Default FUTEX.
     *
     * @param kind the doorbell to use
     * @return these options
     */
    public Options doorbell(DoorbellKind kind) {
      this.doorbell = Objects.requireNonNull(kind, "kind");
      return this;
    }

    /**
     * Complete futures on {@code executor} instead of the completion thread, so continuations may
     * block. Costs a hand-off per completion. If the executor rejects a task, the future completes
     * on the completion thread.
     *
     * @param executor where futures complete, or null for the completion thread
     * @return these options
     */
    public Options completionExecutor(Executor executor) {
      this.completionExecutor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Reports user code (a future's continuations, an {@link AbandonedWakeHandler}) that has run on
     * the completion thread longer than {@code threshold}: a WARNING through {@code System.Logger}
     * ({@code dev.ringlock.core.FutexRing}) with the completion thread's stack, and a JFR event
     * {@code dev.ringlock.BlockedCompletionThread}, once per stall. While such code runs, no other
     * future of the ring completes. One daemon thread per JVM samples every ring's completion
     * thread each half threshold, so a stall is reported once it has lasted between one and one and
     * a half thresholds. Default 100 ms; {@link Duration#ZERO} turns the check off.
     *
     * @param threshold how long user code may run on the completion thread before it is reported
     * @return these options
     * @throws IllegalArgumentException if {@code threshold} is negative
     */
    public Options blockedThreadWarning(Duration threshold) {
      Objects.requireNonNull(threshold, "threshold");
      if (threshold.isNegative()) {
        throw new IllegalArgumentException(
            "the blocked-thread warning threshold must not be negative, but is "
                + threshold
                + "; Duration.ZERO turns the check off");
      }
      this.blockedThreadWarning = threshold;
      return this;
    }

    Duration blockedThreadWarning() {
      return blockedThreadWarning;
    }

    /**
     * Name of the completion thread. Default "ringlock-ring-N".
     *
     * @param name the completion thread's name
     * @return these options
     */
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
      copy.backend = backend;
      copy.blockedThreadWarning = blockedThreadWarning;
      return copy;
    }
  }
}
