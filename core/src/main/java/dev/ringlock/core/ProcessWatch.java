package dev.ringlock.core;

import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.FileLimits;
import dev.ringlock.core.ffi.Syscalls;
import dev.ringlock.core.uring.IoUringAbi;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/*
 * Overview
 *
 * Which other processes are alive, as this process knows it, kept current by the ring, with as
 * few file descriptors as the callers' watches need.
 *
 * Two ways to see a process exit, chosen once per JVM (the first pidfd_open that is refused
 * switches for good; a seccomp filter is never lifted):
 *   - pidfd (the normal one): pidfd_open gives a handle on that very process (a later process
 *     that reuses the pid is not it); a zero-timeout poll tells whether it has exited (a pidfd is
 *     readable once its process is a zombie); an IORING_OP_POLL_ADD on it completes at its exit.
 *   - /proc (where pidfd_open is ENOSYS or EPERM: gVisor, old sandboxes, seccomp profiles that
 *     lack it): the process is identified by pid and start time (ProcStat), and every watched
 *     process is re-read every PROC_POLL_MILLIS by a timed wait on the ring that nothing wakes.
 *     Detection is late by up to that period, never missed. If /proc cannot be read either,
 *     requireExitDetection (called when a region is opened) refuses with a message naming
 *     pidfd_open: never a lock whose dead owner nobody can detect.
 *
 * Entries. A pid gets an entry while at least one listener (onExit) waits for it: one pidfd and
 * one pending poll (or one /proc identity) for every listener on that pid, however many. When its
 * last listener is cancelled a pidfd entry *lingers*: it keeps its pidfd and poll, so that the
 * next watch of that process finds them (a lock handed back and forth between two processes
 * watches the other at every handover). Without that, every handover cancelled the poll and opened
 * a new one: an ASYNC_CANCEL and a POLL_ADD, each waking the completion thread, and the cancel was
 * made by the woken waiter between its wake-up and its grant, which on 2 vCPUs then waited for the
 * completion thread to run (bench/README.md, "Where a cross-process handover's time goes"). A
 * lingering entry goes, its poll cancelled, once it has lingered LINGER_MILLIS (a timed ring wait
 * on a word nothing wakes sweeps them while any linger: so 1 to 2 periods after its last
 * listener), or when more than MAX_LINGERING linger (the oldest goes); the pidfd is closed when
 * the cancelled poll completes, on the completion thread. A /proc entry holds nothing and goes at
 * once. So the pidfds this process holds are bounded by the distinct live processes its waiters
 * wait on now, plus MAX_LINGERING for a moment; not by every process it ever asked about (which,
 * kept for each peer's lifetime, once took ~50 of a 64-descriptor limit). isAlive answers from an
 * entry, lingering or not, if there is one, and otherwise probes:
 * pidfd_open, poll, close (three system calls), or one read of /proc; it keeps nothing.
 *
 * PIDs are reused. Between a process's exit and the completion that drops its entry, isAlive still
 * answers true and the listeners are about to run, so the answer is late, never wrong for long.
 * After that, a new process with the same pid gets a new entry. A caller that read the pid from
 * shared memory must read the memory again after asking (the pid may have been released and reused
 * in between). One case no check can catch: a process that dies holding a word, and whose pid is
 * reused before anyone asks, looks alive until the new process exits.
 *
 * Running out. pidfd_open failing with EMFILE or ENFILE throws a RingException whose message says
 * which limit ran out, its value and what to do, and logs it (at most every LOG_INTERVAL): the
 * callers that cannot tell then assume alive and ask again at their next re-check, and that must
 * not happen silently.
 *
 * Locking: `this` guards the map, every entry's listener list and the /proc timer. Listeners run
 * outside it, on the ring's completion thread; polls are cancelled outside it.
 */
/**
 * Exit notifications for other processes, on one ring: {@link FutexRing#processes()}. One pidfd
 * poll per watched process serves every caller in this process, and lasts only as long as someone
 * listens; where pidfd_open is refused, /proc stands in (see {@link #requireExitDetection()}).
 */
public final class ProcessWatch {
  /** How often, where pidfd_open is refused, every watched process is looked up in /proc. */
  public static final int PROC_POLL_MILLIS = 100;

  private static final int POLLFD_BYTES = 8; // struct pollfd { int fd; short events, revents; }
  private static final long POLLFD_EVENTS = 4;
  private static final long POLLFD_REVENTS = 6;
  private static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
  // How long an entry whose last listener left keeps its pidfd and poll, and how many may: enough
  // for a handover back and forth, or round 4 processes, to find the entry it left (see above).
  static final int LINGER_MILLIS = 1000;

  /** The most entries that linger after their last listener left, each with its pidfd. */
  public static final int MAX_LINGERING = 4;

  private static final System.Logger LOG = System.getLogger(ProcessWatch.class.getName());

  /** 0 while pidfd_open works (or has not been refused); else the errno it was refused with. */
  private static volatile int pidfdRefusedErrno;

  private static volatile long lastExhaustionLog = System.nanoTime() - LOG_INTERVAL_NANOS;

  private final FutexRing ring;
  private final Map<Integer, Watched> watched = new HashMap<>(); // guarded by this
  private final FutexWord procTimer; // nothing wakes it: a timed wait on it is the /proc poll
  private boolean procTimerArmed; // guarded by this
  private final FutexWord lingerTimer; // nothing wakes it: a timed wait on it sweeps lingerers
  private boolean lingerTimerArmed; // guarded by this
  private final Duration linger; // LINGER_MILLIS but in tests

  ProcessWatch(FutexRing ring) {
    this(ring, Duration.ofMillis(LINGER_MILLIS));
  }

  /** With another linger period: tests that must not depend on how fast they run. */
  ProcessWatch(FutexRing ring, Duration linger) {
    this.ring = ring;
    this.linger = linger;
    this.procTimer = FutexWord.of(Arena.ofAuto().allocate(Integer.BYTES), 0, FutexScope.PRIVATE);
    this.lingerTimer = FutexWord.of(Arena.ofAuto().allocate(Integer.BYTES), 0, FutexScope.PRIVATE);
  }

  /** A listener registered with {@link #onExit}; cancelling it keeps it from running. */
  public interface Subscription {
    /** Removes the listener; harmless after it ran. The last one on a pid closes its pidfd. */
    void cancel();
  }

  /** One watched process: how its exit is seen, and who listens for it. */
  private final class Watched {
    final int pid;
    final long startTime; // the /proc identity; ProcStat.NOT_ALIVE when a pidfd poll watches it
    final List<Listener> listeners = new ArrayList<>(); // guarded by ProcessWatch.this
    CompletableFuture<Void> exitPoll; // guarded by ProcessWatch.this; the pidfd poll, or null
    boolean exited; // guarded by ProcessWatch.this; set once, as the entry leaves the map
    // guarded by ProcessWatch.this: when its last listener left, or NOT_LINGERING while listened to
    long lingeringSince = NOT_LINGERING;

    Watched(int pid, long startTime) {
      this.pid = pid;
      this.startTime = startTime;
    }

    boolean byProc() {
      return startTime != ProcStat.NOT_ALIVE;
    }

    void exited() {
      List<Listener> toRun;
      synchronized (ProcessWatch.this) {
        if (exited) {
          return;
        }
        exited = true;
        watched.remove(pid, this);
        toRun = List.copyOf(listeners);
        listeners.clear();
      }
      for (Listener listener : toRun) {
        listener.action.run();
      }
    }
  }

  private final class Listener implements Subscription {
    final Watched watched;
    final Runnable action;

    Listener(Watched watched, Runnable action) {
      this.watched = watched;
      this.action = action;
    }

    @Override
    public void cancel() {
      List<CompletableFuture<Void>> evicted;
      boolean armTimer;
      synchronized (ProcessWatch.this) {
        if (!watched.listeners.remove(this) || !watched.listeners.isEmpty() || watched.exited) {
          return;
        }
        if (watched.byProc()) { // nothing held: a /proc entry simply stops being polled
          ProcessWatch.this.watched.remove(watched.pid, watched);
          return;
        }
        // The last listener: the entry lingers, its poll armed, for the next watch of the pid.
        watched.lingeringSince = System.nanoTime();
        evicted = evictBeyondMaxLingering();
        armTimer = !lingerTimerArmed; // armed already in the common case: no ring request at all
        lingerTimerArmed = true;
      }
      cancelPolls(evicted);
      if (armTimer) {
        armLingerTimer();
      }
    }
  }

  /**
   * Checks that this process can see other processes exit: pidfd_open works, or, where it is
   * refused (ENOSYS, EPERM), /proc/&lt;pid&gt;/stat can be read instead. Called when a region is
   * opened, so that a process that could never detect a dead lock owner fails at once.
   *
   * @throws ExitDetectionUnavailableException if neither works; the message names pidfd_open
   */
  public static void requireExitDetection() {
    int self = (int) ProcessHandle.current().pid();
    int pidfd = openPidfd(self);
    if (pidfd >= 0) {
      Syscalls.close(pidfd);
      return;
    }
    if (pidfd != PIDFD_REFUSED) {
      return; // EMFILE or the like: pidfd_open exists; the caller's next open will say so
    }
    try {
      if (ProcStat.startTimeIfAlive(self) != ProcStat.NOT_ALIVE) {
        return;
      }
      throw new RingException(
          "/proc/" + self + "/stat, this process's own, is missing: is /proc mounted?", 0);
    } catch (RingException e) {
      throw new ExitDetectionUnavailableException(
          "cannot detect the exit of other processes: pidfd_open is refused ("
              + Errno.name(pidfdRefusedErrno)
              + ", by a seccomp filter or an old kernel) and /proc cannot stand in for it ("
              + e.getMessage()
              + "). Without either, a lock whose owner dies would never be taken over. Allow"
              + " pidfd_open (syscall 434) in the seccomp profile, or mount /proc",
          pidfdRefusedErrno,
          e);
    }
  }

  /**
   * True once pidfd_open has been refused in this JVM and /proc is read instead.
   *
   * @return true if this JVM reads /proc to watch processes
   */
  public static boolean watchesByProc() {
    return pidfdRefusedErrno != 0;
  }

  /**
   * Whether process {@code pid} has not exited, as far as this process can tell (see the overview:
   * an exit is noticed within one ring completion, or one /proc poll). A pid with a listener is a
   * lookup; any other costs three system calls (or one /proc read) and keeps nothing open.
   *
   * @param pid the process id, positive
   * @return false once the process has exited
   * @throws IllegalArgumentException if {@code pid} is not positive
   * @throws RingException if it cannot tell (out of file descriptors: the message says which limit)
   */
  public boolean isAlive(int pid) {
    requirePositive(pid);
    Watched entry;
    synchronized (this) {
      entry = watched.get(pid);
    }
    if (entry != null && !entry.byProc()) {
      return true; // its poll has not completed: it has not exited, or has only just
    }
    if (entry != null) {
      return ProcStat.isStillAlive(pid, entry.startTime);
    }
    return isAliveNow(pid);
  }

  /**
   * Whether process {@code pid} is to be treated as alive: {@link #isAlive}, and alive when it
   * cannot tell (out of file descriptors; logged). The one "cannot tell" policy of every waiter: a
   * dead owner is then taken over at a later look, never a live one robbed now.
   *
   * @param pid the process id, positive
   * @return false only once the process is known to have exited
   * @throws IllegalArgumentException if {@code pid} is not positive
   */
  public boolean isAliveOrUnknown(int pid) {
    try {
      return isAlive(pid);
    } catch (RingException cannotTell) {
      return true;
    }
  }

  /**
   * {@link #isAliveNow}, with {@link #isAliveOrUnknown}'s policy: alive when it cannot tell. For
   * code that waits without a ring (the region's pid locks); a zombie is dead here too.
   *
   * @param pid the process id, positive
   * @return false only once the process is known to have exited
   * @throws IllegalArgumentException if {@code pid} is not positive
   */
  public static boolean isAliveNowOrUnknown(int pid) {
    try {
      return isAliveNow(pid);
    } catch (RingException cannotTell) {
      return true;
    }
  }

  /**
   * Runs {@code listener} once, on the ring's completion thread, when process {@code pid} exits;
   * unless the subscription is cancelled first. It must not block.
   *
   * @param pid the process id, positive
   * @param listener what to run when it exits
   * @return the subscription, or null if the process has exited already (the listener never runs)
   * @throws IllegalArgumentException if {@code pid} is not positive
   * @throws RingException if it cannot watch (out of file descriptors: the message says which)
   */
  public Subscription onExit(int pid, Runnable listener) {
    requirePositive(pid);
    synchronized (this) {
      Watched process = watched.get(pid);
      if (process != null) {
        process.lingeringSince = NOT_LINGERING; // listened to again: its poll serves this one
      } else {
        process = startWatching(pid);
        if (process == null) {
          return null;
        }
      }
      Listener subscription = new Listener(process, listener);
      process.listeners.add(subscription);
      return subscription;
    }
  }

  /** A new entry for {@code pid}, watched from now on; null if the process has exited. */
  private Watched startWatching(int pid) { // under this
    int pidfd = openPidfd(pid);
    if (pidfd == PIDFD_REFUSED) {
      long startTime = ProcStat.startTimeIfAlive(pid);
      if (startTime == ProcStat.NOT_ALIVE) {
        return null;
      }
      Watched fresh = new Watched(pid, startTime);
      watched.put(pid, fresh);
      armProcTimer();
      return fresh;
    }
    if (pidfd == NO_PROCESS || hasExited(pidfd, pid)) {
      if (pidfd >= 0) {
        Syscalls.close(pidfd);
      }
      return null;
    }
    Watched fresh = new Watched(pid, ProcStat.NOT_ALIVE);
    watched.put(pid, fresh);
    CompletableFuture<Void> exit = armExitPoll(pid, pidfd);
    fresh.exitPoll = exit;
    // A closed (or closing) ring fails the poll, and so does a cancel (the last listener went):
    // the entry goes, its listeners never run (nothing completes on a closed ring), and the
    // process is not called dead: the next question probes it again, as this one did.
    exit.whenComplete(
        (ignored, failure) -> {
          if (failure == null) {
            fresh.exited();
          } else {
            synchronized (this) {
              watched.remove(pid, fresh);
            }
          }
        });
    // The poll may have completed already, inline above: then the process has exited.
    return fresh.exited ? null : fresh;
  }

  /**
   * The one place an exit poll is armed: POLL_ADD on {@code pidfd}, which the returned future owns
   * and closes on every way out (its completion, its cancellation, the ring's close).
   */
  private CompletableFuture<Void> armExitPoll(int pid, int pidfd) {
    return ring.pollProcessExit(pid, pidfd);
  }

  /**
   * FutexRing.onProcessExit where pidfd_open was refused with {@code refusedErrno}: a future that
   * an exit watch completes; completing or cancelling it ends the watch.
   */
  CompletableFuture<Void> exitWithoutPidfd(int pid, int refusedErrno) {
    pidfdRefused(refusedErrno);
    CompletableFuture<Void> exit = new CompletableFuture<>();
    Subscription watch = onExit(pid, () -> exit.complete(null));
    if (watch == null) {
      exit.complete(null);
    } else {
      exit.whenComplete((ignored, failure) -> watch.cancel()); // harmless after the exit
    }
    return exit;
  }

  // ---- lingering entries ----

  private static final long NOT_LINGERING = Long.MIN_VALUE;

  /**
   * Takes the oldest lingering entries out of the map while more than MAX_LINGERING linger; their
   * polls, to cancel outside the monitor (the cancelled polls' completions close the pidfds).
   */
  private List<CompletableFuture<Void>> evictBeyondMaxLingering() { // under this
    List<CompletableFuture<Void>> evicted = List.of();
    for (; ; ) {
      Watched oldest = null;
      int lingering = 0;
      for (Watched entry : watched.values()) {
        if (entry.lingeringSince != NOT_LINGERING) {
          lingering++;
          if (oldest == null || entry.lingeringSince - oldest.lingeringSince < 0) {
            oldest = entry;
          }
        }
      }
      if (lingering <= MAX_LINGERING) {
        return evicted;
      }
      evicted = evicted.isEmpty() ? new ArrayList<>() : evicted;
      evicted.add(drop(oldest));
    }
  }

  /** Takes a lingering entry out of the map; its poll, to cancel outside the monitor. */
  private CompletableFuture<Void> drop(Watched entry) { // under this
    watched.remove(entry.pid, entry);
    CompletableFuture<Void> poll = entry.exitPoll;
    entry.exitPoll = null;
    return poll;
  }

  private static void cancelPolls(List<CompletableFuture<Void>> polls) {
    for (CompletableFuture<Void> poll : polls) {
      if (poll != null) {
        poll.cancel(false); // ASYNC_CANCEL; the poll's completion closes the pidfd
      }
    }
  }

  /**
   * Arms the sweep of lingering entries, LINGER_MILLIS from now: a timed wait on a word nothing
   * wakes. Outside the monitor: on a closed ring the wait fails inline, and the sweep runs here.
   */
  private void armLingerTimer() {
    ring.wait(lingerTimer, 0, FutexRing.ANY_BITSET, linger)
        .whenComplete((outcome, failure) -> sweepLingering(failure));
  }

  /**
   * On the completion thread (or inline, on a closed ring): drops the entries that have lingered
   * LINGER_MILLIS, and re-arms while any still linger. {@code timerFailure} as pollProcEntries's:
   * anything but the period's TimeoutException means the ring cannot run the timer, and then every
   * lingering entry goes (a closed ring has cancelled their polls already).
   */
  private void sweepLingering(Throwable timerFailure) {
    Throwable cause =
        timerFailure instanceof CompletionException wrapped ? wrapped.getCause() : timerFailure;
    boolean timerWorks = (cause == null || cause instanceof TimeoutException) && !ring.isClosed();
    List<CompletableFuture<Void>> expired = new ArrayList<>();
    boolean rearm = false;
    synchronized (this) {
      long now = System.nanoTime();
      for (Watched entry : List.copyOf(watched.values())) {
        if (entry.lingeringSince == NOT_LINGERING) {
          continue;
        }
        if (!timerWorks || now - entry.lingeringSince >= linger.toNanos()) {
          expired.add(drop(entry));
        } else {
          rearm = true;
        }
      }
      lingerTimerArmed = rearm;
    }
    cancelPolls(expired);
    if (rearm) {
      armLingerTimer();
    }
  }

  // ---- the /proc fallback's timer ----

  /** Arms the next /proc poll unless one is armed: a timed wait on a word nothing wakes. */
  private void armProcTimer() { // under this
    if (procTimerArmed) {
      return;
    }
    procTimerArmed = true;
    ring.wait(procTimer, 0, FutexRing.ANY_BITSET, Duration.ofMillis(PROC_POLL_MILLIS))
        .whenComplete((outcome, failure) -> pollProcEntries(failure));
  }

  /**
   * On the completion thread: looks up every /proc-watched process, runs the exits' listeners.
   * {@code timerFailure} is the timed wait's: a TimeoutException is the period ending; anything
   * else means the ring cannot run the timer (it is closed or closing, and then the wait failed
   * inline, so re-arming would recurse).
   */
  private void pollProcEntries(Throwable timerFailure) {
    Throwable cause =
        timerFailure instanceof CompletionException wrapped ? wrapped.getCause() : timerFailure;
    List<Watched> polled = new ArrayList<>();
    synchronized (this) {
      procTimerArmed = false;
      if ((cause != null && !(cause instanceof TimeoutException)) || ring.isClosed()) {
        // As a pidfd poll on a closed ring: the entries go, their listeners never run.
        watched.values().removeIf(Watched::byProc);
        return;
      }
      for (Watched entry : watched.values()) {
        if (entry.byProc()) {
          polled.add(entry);
        }
      }
    }
    for (Watched entry : polled) {
      boolean alive;
      try {
        alive = ProcStat.isStillAlive(entry.pid, entry.startTime);
      } catch (RingException e) {
        logExhaustion(e.getMessage()); // cannot tell now: the next poll asks again
        alive = true;
      }
      if (!alive) {
        entry.exited();
      }
    }
    synchronized (this) {
      for (Watched entry : watched.values()) {
        if (entry.byProc()) {
          armProcTimer();
          break;
        }
      }
    }
  }

  // ---- one-shot questions ----

  /**
   * Whether process {@code pid} has not exited, asked once and without a ring: pidfd_open, then a
   * zero-timeout poll of the pidfd, which is readable once the process has exited (a zombie counts
   * as exited, unlike {@code kill(pid, 0)} or {@link ProcessHandle#isAlive()}); where pidfd_open is
   * refused, a read of /proc/&lt;pid&gt;/stat and status, with the same answers. For tools that
   * look at a region without taking part (they may run where io_uring is blocked); a process that
   * waits for another's exit uses {@link FutexRing#processes()}, which keeps the answer current.
   *
   * @param pid the process id, positive
   * @return false if the process has exited (or never existed)
   * @throws IllegalArgumentException if {@code pid} is not positive
   * @throws RingException if pidfd_open or poll fails for another reason than "no such process"
   *     (EMFILE, for one: the message says which limit ran out and what to do)
   */
  public static boolean isAliveNow(int pid) {
    requirePositive(pid);
    int pidfd = openPidfd(pid);
    if (pidfd == PIDFD_REFUSED) {
      return ProcStat.startTimeIfAlive(pid) != ProcStat.NOT_ALIVE;
    }
    if (pidfd == NO_PROCESS) {
      return false;
    }
    boolean exited = hasExited(pidfd, pid);
    Syscalls.close(pidfd);
    return !exited;
  }

  private static final int NO_PROCESS = -1;
  private static final int PIDFD_REFUSED = -2;

  /**
   * A pidfd on process {@code pid} (the caller closes it); NO_PROCESS if no process has that pid;
   * PIDFD_REFUSED if pidfd_open is refused in this JVM (ENOSYS, EPERM), which it remembers.
   *
   * @throws RingException for any other failure, with the EMFILE and ENFILE explained
   */
  private static int openPidfd(int pid) {
    if (pidfdRefusedErrno != 0) {
      return PIDFD_REFUSED;
    }
    int pidfd = Syscalls.pidfdOpen(pid, 0);
    if (pidfd >= 0) {
      return pidfd;
    }
    if (namesNoProcess(pidfd)) {
      return NO_PROCESS;
    }
    if (pidfd == -Errno.ENOSYS || pidfd == -Errno.EPERM) {
      pidfdRefused(-pidfd);
      return PIDFD_REFUSED;
    }
    String explained = FileLimits.explain("pidfd_open(" + pid + ")", -pidfd);
    if (explained != null) {
      logExhaustion(explained);
      throw new RingException(explained, -pidfd);
    }
    throw new RingException("pidfd_open(" + pid + ") failed", -pidfd);
  }

  private static void pidfdRefused(int errno) {
    synchronized (ProcessWatch.class) {
      if (pidfdRefusedErrno != 0) {
        return;
      }
      pidfdRefusedErrno = errno;
    }
    LOG.log(
        System.Logger.Level.WARNING,
        "pidfd_open is refused ({0}): ringlock now sees other processes exit by reading"
            + " /proc/<pid>/stat every {1} ms (pid and start time, so a reused pid is not taken"
            + " for the process it watched). Allow pidfd_open (syscall 434) for immediate"
            + " notice.",
        Errno.name(errno),
        PROC_POLL_MILLIS);
  }

  /**
   * Logs running out of file descriptors, at most every LOG_INTERVAL: never silent, not a flood.
   */
  private static void logExhaustion(String message) {
    long now = System.nanoTime();
    long last = lastExhaustionLog;
    if (now - last < LOG_INTERVAL_NANOS) {
      return;
    }
    lastExhaustionLog = now;
    try {
      LOG.log(
          System.Logger.Level.ERROR,
          "ringlock cannot watch a process for its exit: {0}. Until it can, a lock or permit held"
              + " by a process that died is taken over only once a later look succeeds.",
          message);
    } catch (RuntimeException | Error loggerFailed) {
      // A logger may need a file too: java.util.logging's first record opens tzdb.dat and throws
      // an Error when no descriptor is left. The caller's exception carries the same message.
    }
  }

  /**
   * Whether pidfd_open's result says no process has that pid: ESRCH; or the pid now names a thread
   * that leads no process (ENOENT since Linux 6.9, EINVAL before), so the process that had it is
   * gone and its pid was reused for a thread.
   */
  static boolean namesNoProcess(int pidfdOrError) {
    return pidfdOrError == -Errno.ESRCH
        || pidfdOrError == -Errno.ENOENT
        || pidfdOrError == -Errno.EINVAL;
  }

  /** A zero-timeout poll of a pidfd: readable means its process has exited. */
  private static boolean hasExited(int pidfd, int pid) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment pollfd = arena.allocate(POLLFD_BYTES, Integer.BYTES);
      pollfd.set(ValueLayout.JAVA_INT, 0, pidfd);
      pollfd.set(ValueLayout.JAVA_SHORT, POLLFD_EVENTS, (short) IoUringAbi.POLLIN);
      int ready = Syscalls.poll(pollfd, 1, 0);
      if (ready < 0) {
        Syscalls.close(pidfd);
        throw new RingException("poll of the pidfd of process " + pid + " failed", -ready);
      }
      return ready > 0 && (pollfd.get(ValueLayout.JAVA_SHORT, POLLFD_REVENTS) & 0xFFFF) != 0;
    }
  }

  private static void requirePositive(int pid) {
    if (pid <= 0) {
      throw new IllegalArgumentException("a process id must be positive, not " + pid);
    }
  }

  /**
   * How many processes are watched now, for a listener: one pidfd and one pending poll (or /proc
   * entry) each. Entries that linger after their last listener left are not counted.
   *
   * @return the processes watched now
   */
  public synchronized int watchedProcesses() {
    int listened = 0;
    for (Watched entry : watched.values()) {
      listened += entry.lingeringSince == NOT_LINGERING ? 1 : 0;
    }
    return listened;
  }

  /**
   * How many entries linger after their last listener left, each still with its pidfd and poll: at
   * most {@value #MAX_LINGERING}, none once two {@value #LINGER_MILLIS} ms periods have passed
   * without a watch ending.
   *
   * @return the lingering entries now
   */
  public synchronized int lingeringProcesses() {
    return watched.size() - watchedProcesses();
  }
}
