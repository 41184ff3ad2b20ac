package dev.ringlock.core;

import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.FutexFlags;
import dev.ringlock.core.ffi.Syscalls;
import dev.ringlock.core.uring.UringLayouts;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/*
 * Overview
 *
 * The FutexRing backend for processes that may not use io_uring (a container's default seccomp
 * profile, kernel.io_uring_disabled, a kernel before 6.7): the same futex words and the same
 * contract, on plain system calls.
 *
 *   - Waits: up to MAX_THREADS WaitvThreads, started as needed, each asleep in futex_waitv(2) on
 *     up to 126 words between a control word used to hand it new waits and a sentinel (see
 *     WaitvThread). A wait goes to the thread that holds its word already (one word's waits in
 *     one array, in order), else to an empty thread (starting one: different words on different
 *     threads while there are threads to spare), else to the least loaded; a waitAny larger than
 *     any thread's room is split over several, empty ones first, and the first entry woken
 *     completes it. Why this placement: WaitvThread's overview. Past MAX_PENDING_WAITS a wait
 *     throws WaitCapacityException. futex_waitv has no bitsets, so a wait with a bitset other than
 *     all-ones sleeps in futex(2) FUTEX_WAIT_BITSET on a thread of its own (at most
 *     MAX_BITSET_WAITS at once); it re-checks cancellation and close every BITSET_SLICE.
 *   - Wakes: a direct futex(2) FUTEX_WAKE_BITSET on the caller's thread, one system call per
 *     word (no batching without a ring); their futures are complete when the call returns. Made in
 *     order: first every thread of the ring settles (it drained what was queued before and is in
 *     the kernel); then, if the kernel woke fewer than asked, the rest of the count is handed to
 *     the threads holding the word that may have been re-arming meanwhile, and they end that many
 *     of the word's earlier waits WOKEN (wakeSettled; WaitvThread's "Handed-over wakes"). So a
 *     pure wake (one that changes no word) of this process never misses a wait made before it.
 *   - Process exits: one ExitPoller thread in poll(2) on every watched pidfd.
 *   - Futures complete on one completion thread (SyscallCompleter), or the completion
 *     executor, and AbandonedWakeHandlers run there too: the io_uring backend's threading
 *     contract. The waitv threads only hand their outcomes over and go back into the kernel, so
 *     no continuation keeps their other waits out of it.
 *
 * Everything here uses calls that exist since Linux 5.16 (futex_waitv) or earlier (futex(2),
 * pidfd_open 5.3, poll, eventfd), which start() probes.
 *
 * Closing: `closing` is set, every thread is poked; each fails what it holds with
 * RingClosedException and leaves the kernel before it ends, so no wait of a closed ring stays
 * queued on a futex to swallow a wake. close() joins them.
 */
final class SyscallBackend implements FutexBackend {
  static final int MAX_THREADS = 16;
  static final int MAX_PENDING_WAITS = MAX_THREADS * WaitvThread.CAPACITY;
  static final int MAX_BITSET_WAITS = 16;

  private static final System.Logger LOG = System.getLogger(FutexRing.class.getName());
  // Short enough for a JVM exit too (NativeWaitTick: it waits for threads in native code), so
  // not the tick itself: each slice's end may complete the wait spuriously (see BitsetWait)
  private static final long BITSET_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  private static final long SETTLE_PATIENCE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
  // How long a wake waits for a thread to take its handover: one pass of a thread that runs no user
  // code, so only a starved or stopped thread takes longer; then the wake returns without those
  // waits, which the thread still completes when it gets there (uncounted: spurious, not lost).
  static final long HANDOVER_PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final ThreadLocal<SyscallBackend> OWNER = new ThreadLocal<>();
  // every started, unclosed backend of this process: a wake through one hands its unused count to
  // the threads of all (a word may have waits on several rings of this process)
  private static final Set<SyscallBackend> LIVE = ConcurrentHashMap.newKeySet();
  // numbers the waits of this process in the order they were placed (SyscallWait.sequence)
  private static final AtomicLong WAIT_SEQUENCE = new AtomicLong();

  // counters, for stats()
  private static final int WAIT_CALLS = 0;
  private static final int COMPLETIONS = 1;
  private static final int POKES = 2;
  private static final int LARGEST_WAIT = 3;

  private final FutexRing ring;
  private final SyscallCompleter completer; // where futures complete and handlers run
  private final Executor completionExecutor;
  private final String name;
  private final WaitvThread[] threads = new WaitvThread[MAX_THREADS];
  private volatile int threadCount; // threads[0..threadCount) are started
  private volatile ExitPoller poller; // started on first watch
  private final AtomicInteger bitsetWaits = new AtomicInteger();
  private final AtomicInteger pendingWaits = new AtomicInteger(); // placed, not yet let go
  private final Set<BitsetWait> bitsetThreads = ConcurrentHashMap.newKeySet();
  private final AtomicLongArray counters = new AtomicLongArray(4);
  // address -> bitmask of the WaitvThreads holding a wait on it: spreads waits on one word
  private final ConcurrentHashMap<Long, Integer> holders = new ConcurrentHashMap<>();
  // address -> the thread blocked in join() that runs the only wait of this backend on it
  private final ConcurrentHashMap<Long, JoinedRingWait> joiners = new ConcurrentHashMap<>();
  private volatile boolean closing;
  private volatile Throwable failure; // why a backend thread failed, if one did

  SyscallBackend(FutexRing ring, FutexRing.Options options, String name) {
    this.ring = ring;
    this.completionExecutor = options.completionExecutor();
    this.name = name;
    this.completer = new SyscallCompleter(this, name, options.blockedThreadWarning());
  }

  @Override
  public FutexRing.Backend kind() {
    return FutexRing.Backend.SYSCALLS;
  }

  @Override
  public void start() {
    probe();
    completer.start();
    LIVE.add(this);
  }

  SyscallCompleter completer() {
    return completer;
  }

  /** Every thread but the completer has ended (close: the completer drains what they left). */
  boolean othersEnded() {
    int count = threadCount;
    for (int i = 0; i < count; i++) {
      if (threads[i].thread().isAlive()) {
        return false;
      }
    }
    ExitPoller current = poller;
    return (current == null || !current.thread().isAlive()) && bitsetThreads.isEmpty();
  }

  /**
   * Proves that futex_waitv and futex(2) are allowed here: a futex_waitv on a private word that
   * does not hold the expected value must say EAGAIN at once, a wake of it must wake nobody.
   *
   * @throws RingException naming the refused call and what it means
   */
  static void probe() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment word = arena.allocate(Integer.BYTES, Integer.BYTES);
      word.set(ValueLayout.JAVA_INT, 0, 1);
      MemorySegment waitv = arena.allocate(UringLayouts.FUTEX_WAITV);
      waitv.set(ValueLayout.JAVA_LONG, UringLayouts.WAITV_VAL, 0L);
      waitv.set(ValueLayout.JAVA_LONG, UringLayouts.WAITV_UADDR, word.address());
      waitv.set(
          ValueLayout.JAVA_INT, UringLayouts.WAITV_FLAGS, FutexFlags.SIZE_U32 | FutexFlags.PRIVATE);
      int waited = Syscalls.futexWaitv(waitv, 1, MemorySegment.NULL);
      if (waited != -Errno.EAGAIN) {
        throw new RingException(
            "the syscalls backend needs futex_waitv(2) (Linux 5.16 or newer, allowed by any"
                + " seccomp filter); it answered "
                + (waited < 0 ? Errno.name(-waited) : String.valueOf(waited))
                + ". Below Linux 5.16 ringlock's primitives cannot run; run on a newer kernel, or"
                + " allow futex_waitv in the seccomp profile",
            waited < 0 ? -waited : 0);
      }
      int woken = Syscalls.futexWakeBitset(word.address(), 1, FutexRing.ANY_BITSET, true);
      if (woken < 0) {
        throw new RingException(
            "the syscalls backend needs futex(2) FUTEX_WAKE_BITSET, which was refused", -woken);
      }
    }
  }

  // ---- waits ----

  @Override
  public CompletableFuture<WaitOutcome> wait(
      FutexWord word,
      int expected,
      int bitset,
      long timeoutNanos,
      AbandonedWakeHandler onAbandonedWake) {
    SyscallWait op =
        new SyscallWait(this, word, expected, null, bitset, timeoutNanos, onAbandonedWake);
    if (bitset != FutexRing.ANY_BITSET) {
      return waitWithBitset(op, word, expected, bitset);
    }
    return place(op);
  }

  @Override
  public CompletableFuture<WaitOutcome> waitAny(
      WaitTarget[] targets, long timeoutNanos, AbandonedWakeHandler onAbandonedWake) {
    return place(
        new SyscallWait(
            this, null, 0, targets, FutexRing.ANY_BITSET, timeoutNanos, onAbandonedWake));
  }

  /** Hands a wait's entries to WaitvThreads with room; see the overview. */
  private CompletableFuture<WaitOutcome> place(SyscallWait op) {
    if (closing) {
      op.claim();
      op.deliver(closedException());
      return op;
    }
    int needed = op.entries();
    // First the thread that holds this word already: all of one word's waits in one array, in
    // order. The kernel wakes a word's waiters oldest first and queues an array in order, so a
    // re-arm keeps their order, and a wake of several of them is reported exactly (WaitvThread).
    int held = needed == 1 ? holders.getOrDefault(op.word(0).address(), 0) : 0;
    for (int i = 0; held != 0 && i < threadCount; i++) {
      if ((held & (1 << i)) != 0 && reserveAll(threads[i], needed)) {
        return placed(op, threads[i]);
      }
    }
    // Then an empty thread, starting one if need be: different words on different threads while
    // there are threads to spare, so that two wakes of different words rarely reach one array,
    // the one case futex_waitv cannot report exactly (WaitvThread's overview).
    for (int i = 0; ; i++) {
      if (i >= threadCount && !startThread(i)) {
        break;
      }
      if (threads[i].reserved.get() == 0 && reserveAll(threads[i], needed)) {
        return placed(op, threads[i]);
      }
    }
    // Then the least loaded thread with room.
    for (; ; ) {
      WaitvThread emptiest = null;
      for (int i = 0; i < threadCount; i++) {
        int used = threads[i].reserved.get();
        if (used + needed <= WaitvThread.CAPACITY
            && (emptiest == null || used < emptiest.reserved.get())) {
          emptiest = threads[i];
        }
      }
      if (emptiest == null) {
        return split(op, needed);
      }
      if (reserveAll(emptiest, needed)) {
        return placed(op, emptiest);
      }
    }
  }

  private SyscallWait placed(SyscallWait op, WaitvThread thread) {
    int heldBefore = 0;
    for (int entry = 0; entry < op.entries(); entry++) {
      thread.holdWord(op.word(entry).address());
      heldBefore |= holders.getOrDefault(op.word(entry).address(), 0);
    }
    if (op.entries() == 1) {
      // After the hold, against registerJoiner's look at the holds (each writes, then reads the
      // other's map): a joined thread runs the only wait on its word, so a second one takes it back
      // first, and the word's waits share a thread again, in the order they were made.
      JoinedRingWait joiner = joiners.get(op.word(0).address());
      if (joiner != null && joiner.ringWait() != op) {
        joiner.handBackAndAwait(SETTLE_PATIENCE_NANOS);
      }
    }
    op.homes(thread);
    // After its words are held, so that a wake that counts it eligible finds its thread; a wait
    // handed back by its joiner keeps its place in the order
    if (op.sequence() == 0) {
      op.sequence(WAIT_SEQUENCE.incrementAndGet());
    }
    thread.add(op.placement() == 0 ? op : new WaitvThread.TakenBack(op, op.placement()));
    if ((heldBefore & ~(1 << thread.index)) != 0 && ownThread() == null) {
      // Another thread sleeps on this word already: the kernel wakes waiters on a word oldest
      // first, so this one must be queued before wait() returns to keep that order.
      long deadline = 0;
      int spins = 0;
      while (!thread.settled() && (deadline = backOff(deadline, spins++)) != -1) {
        // waiting for the thread to arm
      }
    }
    return op;
  }

  /**
   * Registers {@code joiner} as the runner of its wait's kernel wait, if that wait is the only one
   * of this backend on its word (held once, by the thread it was placed on) and no other joiner
   * runs one; false otherwise. Registered before the take-over, so that from then on a wake of the
   * word finds the joiner (wakeSettled) whichever of it and the thread holds the wait.
   */
  boolean registerJoiner(JoinedRingWait joiner) {
    long address = joiner.ringWait().word(0).address();
    if (joiners.putIfAbsent(address, joiner) != null) {
      return false;
    }
    // After the registration, against placed()'s look at the joiners: see there
    WaitvThread home = joiner.ringWait().home();
    if (home == null
        || holders.getOrDefault(address, 0) != 1 << home.index
        || home.heldCount(address) != 1) {
      joiners.remove(address, joiner);
      return false;
    }
    return true;
  }

  /** The joined thread that runs a wait of this backend on {@code address}, or null. */
  JoinedRingWait joinerOf(long address) {
    return joiners.get(address);
  }

  void unregisterJoiner(JoinedRingWait joiner) {
    joiners.remove(joiner.ringWait().word(0).address(), joiner);
  }

  /**
   * Places a wait its joiner hands back to the ring (an interrupt of get(), another wait on its
   * word), keeping its place in the order of this process's waits; queued again under its next
   * placement number (SyscallWait.queueAgain).
   */
  void placeAgain(SyscallWait op) {
    place(op);
  }

  /** Thread {@code index} holds a wait on {@code address} (called under its count's lock). */
  void addHolder(long address, int index) {
    holders.merge(address, 1 << index, (a, b) -> a | b);
  }

  /** Thread {@code index} holds no wait on {@code address} any more (under its count's lock). */
  void dropHolder(long address, int index) {
    holders.computeIfPresent(
        address, (key, mask) -> (mask & ~(1 << index)) == 0 ? null : mask & ~(1 << index));
  }

  private static boolean reserveAll(WaitvThread thread, int needed) {
    int granted = thread.reserve(needed);
    if (granted == needed) {
      return true;
    }
    thread.release(granted);
    return false;
  }

  /**
   * Too big for any one thread's room: spread over several, or refuse. Before refusing it lets
   * every thread finish its pass: a wait whose future has completed keeps its room until its thread
   * sweeps it, a moment later, and a caller that saw it complete may count on that room.
   */
  private CompletableFuture<WaitOutcome> split(SyscallWait op, int needed) {
    CompletableFuture<WaitOutcome> placed = trySplit(op, needed);
    if (placed == null) {
      // Bounded by backOff's patience, and no deadlock: a futex_waitv thread never waits for a
      // caller of wait() (it hands outcomes to the completer without blocking), so its pass ends.
      for (int i = 0; i < threadCount; i++) {
        long deadline = 0;
        int spins = 0;
        while (!threads[i].settled() && (deadline = backOff(deadline, spins++)) != -1) {
          // waiting for the thread to sweep what finished
        }
      }
      placed = trySplit(op, needed);
    }
    if (placed == null) {
      throw new WaitCapacityException(
          "the syscalls backend holds at most "
              + MAX_PENDING_WAITS
              + " pending kernel waits per FutexRing ("
              + MAX_THREADS
              + " threads in futex_waitv, "
              + WaitvThread.CAPACITY
              + " words each), and this wait needs "
              + needed
              + " more. Each Mutex, Semaphore and WaitQueue a process waits on takes one, and a"
              + " raw FutexRing wait one per word. Spread them over more FutexRings (each has its"
              + " own threads), or run where io_uring is allowed (-Dringlock.backend=io_uring),"
              + " which has no such bound");
    }
    return placed;
  }

  /** {@link #split}'s placement, or null (nothing reserved) if the threads lack the room. */
  private CompletableFuture<WaitOutcome> trySplit(SyscallWait op, int needed) {
    // Empty threads first (starting them as need be), as place() does, then the others.
    int[] granted = new int[MAX_THREADS];
    int total = 0;
    for (int i = 0; i < MAX_THREADS && total < needed; i++) {
      if ((i < threadCount || startThread(i)) && threads[i].reserved.get() == 0) {
        granted[i] = threads[i].reserve(needed - total);
        total += granted[i];
      }
    }
    int count = threadCount;
    for (int i = 0; i < count && total < needed; i++) {
      int more = threads[i].reserve(needed - total);
      granted[i] += more;
      total += more;
    }
    if (total < needed) {
      for (int i = 0; i < count; i++) {
        threads[i].release(granted[i]);
      }
      return null;
    }
    int parts = 0;
    for (int g : granted) {
      parts += g > 0 ? 1 : 0;
    }
    WaitvThread[] homes = new WaitvThread[parts];
    WaitvThread.Placement[] placements = new WaitvThread.Placement[parts];
    int from = 0;
    for (int i = 0, part = 0; i < count; i++) {
      if (granted[i] > 0) {
        homes[part] = threads[i];
        placements[part++] = new WaitvThread.Placement(op, from, from + granted[i], op.placement());
        from += granted[i];
      }
    }
    op.homes(homes);
    for (int part = 0; part < parts; part++) {
      WaitvThread.Placement placement = placements[part];
      for (int entry = placement.from(); entry < placement.to(); entry++) {
        homes[part].holdWord(op.word(entry).address());
      }
    }
    if (op.sequence() == 0) { // after its words are held, as in placed()
      op.sequence(WAIT_SEQUENCE.incrementAndGet());
    }
    for (int part = 0; part < parts; part++) {
      homes[part].add(placements[part]);
    }
    return op;
  }

  private WaitvThread ownThread() {
    if (OWNER.get() != this) {
      return null;
    }
    Thread current = Thread.currentThread();
    int count = threadCount;
    for (int i = 0; i < count; i++) {
      if (threads[i].thread() == current) {
        return threads[i];
      }
    }
    return null;
  }

  /** Starts thread {@code index} if none is there yet; false past MAX_THREADS or when closing. */
  private synchronized boolean startThread(int index) {
    if (index < threadCount) {
      return true;
    }
    if (index >= MAX_THREADS || closing) {
      return false;
    }
    WaitvThread thread = new WaitvThread(this, index, name + "-waitv-" + index);
    threads[index] = thread;
    thread.start();
    threadCount = index + 1;
    return true;
  }

  /** A wait with a bitset: futex(2) FUTEX_WAIT_BITSET on a thread of its own. */
  private CompletableFuture<WaitOutcome> waitWithBitset(
      SyscallWait op, FutexWord word, int expected, int bitset) {
    if (closing) {
      op.claim();
      op.deliver(closedException());
      return op;
    }
    if (bitsetWaits.incrementAndGet() > MAX_BITSET_WAITS) {
      bitsetWaits.decrementAndGet();
      throw new WaitCapacityException(
          "the syscalls backend runs at most "
              + MAX_BITSET_WAITS
              + " waits with a bitset other than ANY_BITSET at once (futex_waitv has no bitsets,"
              + " so each takes a thread of its own); wait with ANY_BITSET, or run where io_uring"
              + " is allowed");
    }
    BitsetWait wait = new BitsetWait(op, word, expected, bitset);
    bitsetThreads.add(wait);
    wait.thread.start();
    return op;
  }

  /**
   * One wait with a bitset, on a thread of its own in futex(2) FUTEX_WAIT_BITSET, re-armed every
   * BITSET_SLICE to look at cancellation and close. Between two slices it is out of the kernel, and
   * a pure wake landing then would find nothing. So the thread keeps an InProcessWakes snapshot of
   * its word, taken first on the caller's thread before wait() returns and again after each slice
   * (before looking): a slice that ended unwoken ends the wait WOKEN if this process began a wake
   * of the word since the previous snapshot. That wake may have missed it between slices or passed
   * it by in the kernel (another bitset, its count used up): the kernel cannot say which, so it may
   * be a spurious wakeup, uncounted by the wake, as FutexRing allows here; never a lost one. It
   * lands at most one slice late. Wakes of this process's io_uring rings and of other processes are
   * not recorded, as for every re-arm on this backend.
   */
  private final class BitsetWait implements Runnable {
    final SyscallWait op;
    final FutexWord word;
    final int expected;
    final int bitset;
    final Thread thread;
    volatile boolean sleeping; // in (or about to enter) the futex wait
    volatile int tid;
    private long wakes; // InProcessWakes snapshot of the word before the current slice

    BitsetWait(SyscallWait op, FutexWord word, int expected, int bitset) {
      this.op = op;
      this.word = word;
      this.expected = expected;
      this.bitset = bitset;
      this.wakes = InProcessWakes.snapshot(word.address()); // before wait() returns: see above
      this.thread = Thread.ofPlatform().name(name + "-bitset-wait").daemon(true).unstarted(this);
    }

    /** In the kernel's futex queue, or done: a wake made now reaches it or is not for it. */
    boolean settled() {
      return op.finished() || !thread.isAlive() || (sleeping && threadSleeps(tid));
    }

    @Override
    public void run() {
      markBackendThread(SyscallBackend.this);
      tid = currentTid();
      try {
        waitForWake();
      } finally {
        bitsetWaits.decrementAndGet();
        bitsetThreads.remove(this);
      }
    }

    private void waitForWake() {
      boolean privateFutex = word.scope() == FutexScope.PRIVATE;
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment until = arena.allocate(UringLayouts.KERNEL_TIMESPEC);
        while (!op.finished()) {
          if (closing) {
            if (op.claim()) {
              op.deliver(closedException());
            }
            return;
          }
          long now = System.nanoTime();
          if (op.deadline - now <= 0) {
            if (op.claim()) {
              op.deliverTimeout();
            }
            return;
          }
          long at = Math.min(op.deadline - now, BITSET_SLICE_NANOS) + now;
          until.set(ValueLayout.JAVA_LONG, UringLayouts.TIMESPEC_SEC, at / 1_000_000_000L);
          until.set(ValueLayout.JAVA_LONG, UringLayouts.TIMESPEC_NSEC, at % 1_000_000_000L);
          countWait(1);
          sleeping = true;
          int result =
              Syscalls.futexWaitBitset(word.address(), expected, bitset, privateFutex, until);
          if (TestPausePoints.HOLD_AFTER_KERNEL_RETURN) {
            TestPausePoints.afterKernelReturn(); // out of the kernel, `sleeping` not yet cleared
          }
          sleeping = false;
          if (result == 0) {
            if (op.claim()) {
              op.deliverWoken(0);
            } else {
              op.passOn(0); // abandoned while it slept: the wake it took was someone else's
            }
            return;
          }
          if (result == -Errno.EAGAIN) {
            if (op.claim()) {
              op.deliverValueChanged();
            }
            return;
          }
          if (result != -Errno.ETIMEDOUT && result != -Errno.EINTR) {
            if (op.claim()) {
              op.deliver(new RingException("futex(FUTEX_WAIT_BITSET) failed", -result));
            }
            return;
          }
          // The next snapshot first: a wake that begins after the look below is then seen by the
          // next slice's look.
          long next = InProcessWakes.snapshot(word.address());
          if (InProcessWakes.begunSince(word.address(), wakes)) {
            if (op.claim()) {
              op.deliverWoken(0);
            }
            return;
          }
          wakes = next;
        }
      }
    }
  }

  // ---- wakes: direct system calls ----

  /** FUTEX_WAKE_BITSET of {@code word}: the number woken, or -errno. Works on every kernel. */
  static int wakeDirectly(FutexWord word, int count, int bitset) {
    if (count == 0) {
      return 0; // futex(2) would wake one: it counts only after a wake
    }
    // recorded, so that a futex_waitv thread can tell whether this wake may have reached an entry
    // it cannot see reported (InProcessWakes, WaitvThread's overview)
    InProcessWakes.begin(word.address());
    try {
      return Syscalls.futexWakeBitset(
          word.address(), count, bitset, word.scope() == FutexScope.PRIVATE);
    } finally {
      InProcessWakes.end(word.address());
    }
  }

  /**
   * A wake made in order after every wait this process asked for before it (see WaitvThread's
   * overview), and that no thread of this backend swallows: the wake every method of this backend
   * makes. On a thread of a backend's own it is a plain system call.
   */
  int wakeInOrder(FutexWord word, int count, int bitset) {
    if (onBackendThread()) {
      // a waitv, bitset or exit thread, which never waits for others
      return wakeDirectly(word, count, bitset);
    }
    long wakeSequence = WAIT_SEQUENCE.get(); // before the settle: every wait placed so far
    // Every thread, not only those holding this word: as on io_uring, a wake is ordered after every
    // wait this ring was asked for before it, whatever its word (callers rely on a wake of an
    // unrelated word as a barrier).
    awaitSettled(threadCount);
    return wakeSettled(word, count, bitset, wakeSequence);
  }

  /** The calling thread is one of a syscalls backend's own, a completion thread included. */
  static boolean onAnyBackendThread() {
    return OWNER.get() != null;
  }

  /** The calling thread is one of a syscalls backend's own, other than a completion thread. */
  private static boolean onBackendThread() {
    SyscallBackend owner = OWNER.get();
    return owner != null && !owner.inCompletionThread();
  }

  /**
   * The kernel's wake of {@code word}, made after the settle, then what it did not use handed to
   * the threads that hold a wait on the word placed before the wake began (sequence up to {@code
   * wakeSequence}) and were not provably queued in the kernel across it: WaitvThread's overview,
   * "Handed-over wakes". Returns the kernel's count plus the waits the threads completed for it.
   */
  private int wakeSettled(FutexWord word, int count, int bitset, long wakeSequence) {
    // Every thread holding an eligible wait, with the generation it is proved queued in now (-1:
    // not proved). A wait numbered up to wakeSequence held its word before it was numbered, and a
    // thread lets go of a word only when its last wait on it is gone, so none is missed here.
    WaitvThread[] holding = null;
    long[] generations = null;
    int holderCount = 0;
    long address = word.address();
    JoinedRingWait[] joined = null; // threads blocked in join() that run a wait on the word
    int joinedCount = 0;
    for (SyscallBackend backend : LIVE) {
      JoinedRingWait joiner = backend.joiners.get(address);
      if (joiner != null) {
        if (joined == null || joinedCount == joined.length) {
          joined = joined == null ? new JoinedRingWait[2] : Arrays.copyOf(joined, 2 * joinedCount);
        }
        joined[joinedCount++] = joiner;
      }
      int mask = backend.holders.getOrDefault(address, 0);
      int started = backend.threadCount;
      for (int i = 0; mask != 0 && i < started; i++) {
        if ((mask & (1 << i)) != 0) {
          if (holding == null || holderCount == holding.length) {
            holding =
                holding == null ? new WaitvThread[2] : Arrays.copyOf(holding, 2 * holderCount);
            generations =
                Arrays.copyOf(generations == null ? new long[0] : generations, holding.length);
          }
          holding[holderCount] = backend.threads[i];
          generations[holderCount++] = backend.threads[i].settledGeneration();
        }
      }
    }
    int woken = wakeDirectly(word, count, bitset);
    // Fewer than asked: the kernel woke every entry queued on the word (a futex_waitv entry
    // matches every bitset), so an eligible wait it did not reach was out of the kernel.
    // Joiners first: one that hands its wait back to a thread answers only once the wait is queued
    // there, so a handover to that thread made after the answer finds it (JoinedRingWait).
    for (int j = 0; j < joinedCount && woken >= 0 && woken < count; j++) {
      woken +=
          joined[j].handOver(
              address, word.scope(), count - woken, wakeSequence, HANDOVER_PATIENCE_NANOS);
    }
    for (int h = 0; h < holderCount && woken >= 0 && woken < count; h++) {
      WaitvThread thread = holding[h];
      if (generations[h] >= 0 && thread.stillQueuedIn(generations[h])) {
        continue; // queued across the wake: it took all it could there
      }
      WaitvThread.Handover handover = new WaitvThread.Handover(word, count - woken, wakeSequence);
      thread.add(handover);
      woken += thread.awaitTaken(handover, HANDOVER_PATIENCE_NANOS);
    }
    return woken;
  }

  /**
   * Waits, bounded, until every thread that holds a wait has drained what was queued and sleeps in
   * the kernel. A thread that holds none is passed over, in the kernel or out of it: nothing there
   * for the wake to be ordered after (WaitvThread.holdsWaits). That is the common case of a wake
   * made by a continuation of the wait that its thread just completed, which used to wait here for
   * that thread to go back to sleep on an empty array before its wake could leave.
   */
  private void awaitSettled(int threads) {
    long deadline = 0;
    int spins = 0;
    for (int i = 0; i < threads; i++) {
      WaitvThread thread = this.threads[i];
      while (thread.holdsWaits() && !thread.settled()) {
        deadline = backOff(deadline, spins++);
        if (deadline == -1) {
          return;
        }
      }
    }
    for (JoinedRingWait joiner : joiners.values()) { // a wait run by the thread joined on it
      while (!joiner.settled()) {
        deadline = backOff(deadline, spins++);
        if (deadline == -1) {
          return;
        }
      }
    }
    for (BitsetWait wait : bitsetThreads) {
      while (!wait.settled()) {
        deadline = backOff(deadline, spins++);
        if (deadline == -1) {
          return;
        }
      }
    }
  }

  /**
   * One step of a bounded wait for another thread: spin, then yield, then sleep 20 us; returns the
   * deadline to keep, or -1 once the patience is spent (a thread held up by a blocking continuation
   * must not stall a wake for long: the wake goes ahead, unordered).
   */
  private static long backOff(long deadline, int spins) {
    long now = System.nanoTime();
    if (deadline == 0) {
      return now + SETTLE_PATIENCE_NANOS;
    }
    if (now - deadline > 0) {
      return -1;
    }
    pause(spins);
    return deadline;
  }

  /** The pause of the {@code spins}-th look at another backend thread: spin, yield, then 20 us. */
  static void pause(int spins) {
    if (spins < 64) {
      Thread.onSpinWait();
    } else if (spins < 128) {
      Thread.yield();
    } else {
      LockSupport.parkNanos(20_000);
    }
  }

  /** The kernel's id of the calling thread (from /proc/thread-self), or 0 if unknown. */
  static int currentTid() {
    try {
      Path link = Files.readSymbolicLink(Path.of("/proc/thread-self"));
      return Integer.parseInt(link.getFileName().toString());
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /**
   * Whether thread {@code tid} of this process is asleep ('S' in /proc/self/task/TID/stat), that
   * is, not woken; true when that cannot be read, so that a wake never waits on a guess.
   */
  static boolean threadSleeps(int tid) {
    if (tid == 0) {
      return true;
    }
    try {
      byte[] stat = Files.readAllBytes(Path.of("/proc/self/task/" + tid + "/stat"));
      for (int i = stat.length - 1; i > 0; i--) {
        if (stat[i] == ')') { // the state follows the command name, which may hold anything
          return i + 2 < stat.length && stat[i + 2] == 'S';
        }
      }
      return true;
    } catch (IOException | RuntimeException e) {
      return true;
    }
  }

  @Override
  public CompletableFuture<Integer> wake(FutexWord word, int count, int bitset) {
    if (closing) {
      return CompletableFuture.failedFuture(closedException());
    }
    int woken = wakeInOrder(word, count, bitset);
    return woken >= 0
        ? CompletableFuture.completedFuture(woken)
        : CompletableFuture.failedFuture(
            new RingException("FUTEX_WAKE of " + word + " failed", -woken));
  }

  @Override
  public WakeSignal wakeSignal(FutexWord word, int count, int bitset) {
    return new WakeSignal(null, this, word, count, bitset);
  }

  @Override
  public CompletableFuture<Void> flush() {
    return CompletableFuture.completedFuture(
        null); // every wake here is a system call, made already
  }

  @Override
  public CompletableFuture<Void> wakeEach(FutexWord[] words) {
    RingException failed = null;
    // One settle for the batch, as io_uring submits it at once: each word's wake then hands what it
    // did not use to the threads holding that word, which keeps two wakes one after the other both
    // arriving without settling again before each word.
    boolean direct = onBackendThread();
    long wakeSequence = WAIT_SEQUENCE.get();
    if (!direct) {
      awaitSettled(threadCount);
    }
    for (FutexWord word : words) { // made even on a closed ring, as the io_uring backend does
      int woken =
          direct
              ? wakeDirectly(word, 1, FutexRing.ANY_BITSET)
              : wakeSettled(word, 1, FutexRing.ANY_BITSET, wakeSequence);
      if (woken < 0 && failed == null) {
        failed = WakeEachOp.failure(word, -woken);
      }
    }
    if (closing) {
      return CompletableFuture.failedFuture(closedException());
    }
    return failed == null
        ? CompletableFuture.completedFuture(null)
        : CompletableFuture.failedFuture(failed);
  }

  // ---- process exits ----

  @Override
  public CompletableFuture<Void> pollProcessExit(int pid, int pidfd) {
    ExitPoller current = closing ? null : exitPoller();
    if (current == null) {
      Syscalls.close(pidfd);
      return CompletableFuture.failedFuture(
          new RingClosedException("the ring was closed while watching process " + pid));
    }
    return current.watch(pid, pidfd);
  }

  private ExitPoller exitPoller() {
    ExitPoller current = poller;
    if (current != null) {
      return current;
    }
    synchronized (this) {
      if (poller == null && !closing) {
        ExitPoller fresh = new ExitPoller(this, name + "-exits");
        fresh.start();
        poller = fresh;
      }
      return poller;
    }
  }

  // ---- state ----

  /** Tags the current thread as one of {@code backend}'s: its futures complete there. */
  static void markBackendThread(SyscallBackend backend) {
    OWNER.set(backend);
  }

  @Override
  public boolean inCompletionThread() {
    return Thread.currentThread() == completer.thread();
  }

  @Override
  public boolean completionThreadAsleep() {
    if (!completer.idle()) {
      return false;
    }
    int count = threadCount;
    for (int i = 0; i < count; i++) {
      if (!threads[i].idle()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean isClosing() {
    return closing;
  }

  Executor completionExecutor() {
    return completionExecutor;
  }

  void countWait(int words) {
    counters.incrementAndGet(WAIT_CALLS);
    if (words > counters.get(LARGEST_WAIT)) {
      counters.accumulateAndGet(LARGEST_WAIT, words, Math::max);
    }
  }

  void waitStarted() {
    pendingWaits.incrementAndGet();
  }

  void waitEnded() {
    pendingWaits.decrementAndGet();
  }

  void countCompletion() {
    counters.incrementAndGet(COMPLETIONS);
  }

  void countDoorbell() {
    counters.incrementAndGet(POKES);
  }

  /**
   * The counters, mapped onto the io_uring ones: enterCalls are the blocking calls the backend's
   * threads made (futex_waitv, futex(2) waits, poll), sqesSubmitted is 0 (there is no ring),
   * completions the futures the backend completed, doorbellWakeups the times a sleeping thread was
   * woken to take a new wait, largestSubmission the most words one futex_waitv waited on, inFlight
   * the pending waits and watched processes.
   */
  @Override
  public FutexRing.Stats stats() {
    int inFlight = bitsetWaits.get() + pendingWaits.get(); // waits, not their words
    ExitPoller current = poller;
    if (current != null) {
      inFlight += current.watching();
    }
    return new FutexRing.Stats(
        counters.get(WAIT_CALLS),
        0,
        counters.get(COMPLETIONS),
        counters.get(POKES),
        counters.get(LARGEST_WAIT),
        inFlight,
        0); // its wakes are system calls: a failure is the caller's to see
  }

  /** Runs {@code handler} on the completion thread, as the io_uring backend does. */
  void handOnConsumedWake(AbandonedWakeHandler handler, FutexWord word, int bitset) {
    completer.execute(
        () -> {
          try {
            handler.wakeConsumed(ring, word, bitset == -1 ? FutexRing.ANY_BITSET : bitset);
          } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, "AbandonedWakeHandler failed for " + word, e);
          }
        });
  }

  RingClosedException closedException() {
    Throwable cause = failure;
    return cause == null
        ? new RingClosedException("the FutexRing is closed")
        : new RingClosedException("the FutexRing failed and is closed: " + cause, cause);
  }

  /** A backend thread failed: the ring fails as a whole, as the io_uring loop's failure does. */
  void threadFailed(Object who, Throwable t) {
    failure = new RingException("a thread of the syscalls backend failed: " + t, 0, t);
    LOG.log(System.Logger.Level.ERROR, "FutexRing syscalls backend thread failed: " + who, t);
    closing = true;
    LIVE.remove(this);
    pokeAll();
  }

  private void pokeAll() {
    for (JoinedRingWait joiner : joiners.values()) {
      joiner.poke(); // it sees the ring closing and fails its wait
    }
    int count = threadCount;
    for (int i = 0; i < count; i++) {
      threads[i].poke();
    }
    ExitPoller current = poller;
    if (current != null) {
      current.poke();
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      closing = true; // under the lock: no thread starts after this
    }
    LIVE.remove(this);
    pokeAll();
    if (OWNER.get() == this) {
      return; // the threads finish the close when they next look; the completer drains last
    }
    boolean interrupted = false;
    int count = threadCount;
    for (int i = 0; i <= count; i++) {
      Thread thread = i < count ? threads[i].thread() : (poller == null ? null : poller.thread());
      while (thread != null && thread.isAlive()) {
        try {
          thread.join();
        } catch (InterruptedException e) {
          interrupted = true; // close must finish: remember the interrupt and wait on
        }
      }
    }
    for (BitsetWait wait : bitsetThreads) {
      while (wait.thread.isAlive()) {
        try {
          wait.thread.join();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    LockSupport.unpark(completer.thread());
    while (completer.thread().isAlive()) { // it ends once it ran what the others delivered
      try {
        completer.thread().join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String threadName() {
    return name;
  }
}
