package dev.ringlock.core;

import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.FutexFlags;
import dev.ringlock.core.ffi.Syscalls;
import dev.ringlock.core.uring.UringLayouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/*
 * Overview
 *
 * One platform thread of the syscalls backend, asleep in futex_waitv(2) on up to 126 waited
 * words between two private words of its own: the kernel array is [control, entry 0..n-1,
 * sentinel]. Entries are kept dense: entry p (kernel index p + 1) is (ops[p], entryOf[p]).
 *
 * Why this order. futex_waitv returns the index of the LAST entry found woken when it leaves the
 * kernel (futex_unqueue_multiple), and every entry after it was not woken. The control word is
 * first, so a poke never hides a wake of a waited word: a return of 0 means that no waited word
 * was woken, and a return p + 1 means entry p was woken and no later entry was. The sentinel
 * (private, always 0, never woken) is last because the kernel queues the entries in order: once
 * it is queued, so is every other, which is what settled() counts.
 *
 * Adding and removing waits: any thread queues the request (incoming) and pokes: it bumps the
 * control word and, if this thread sleeps, FUTEX_WAKEs it. This thread reads the control word
 * BEFORE it drains the queue and waits for exactly that value, so a request queued after the
 * drain has changed the word and the futex_waitv returns -EAGAIN at once: no request waits for
 * another wake-up. The poker reads `sleeping` after its bump and this thread sets it before it
 * enters the kernel (both volatile), so at least one of them sees the other: a poke that skips
 * the FUTEX_WAKE is always caught by the value check.
 *
 * Swallowed wakes, and their repair. futex_waitv leaves its other entries queued until the
 * woken thread runs; a second wake on another of its words in that window counts as delivered,
 * and the call reports only one index, the last woken. So after a return that reports entry r
 * woken, every live entry is decided (woken()):
 *   - after r: not woken (futex_unqueue_multiple returns the LAST index it found woken);
 *   - r, and this thread's earlier entries on r's word: woken. The kernel queues one call's
 *     entries in array order and wakes a word's waiters oldest first (the hash bucket's plist is
 *     FIFO among equal priorities; a waitv entry matches every bitset), so a wake that took r took
 *     them first. (Spurious, never lost, in one race: a call already leaving the kernel unqueues
 *     its entries in order, and a wake landing between two of them on one word takes the later.)
 *     SyscallBackend keeps one word's waits in one thread, so this case is the common one;
 *   - an entry whose word no longer holds the expected value: value changed (it must not sleep
 *     on: every wake ringlock makes follows a change of the word); one before r may have consumed
 *     a wake, which it passes on (calling it woken would end a wait no wake was for);
 *   - before r, on another word that did not change: the kernel cannot say. It ends woken when a
 *     wake may have reached it (mayHaveBeenWoken: a SHARED word, which another process may wake,
 *     or a PRIVATE one that InProcessWakes saw woken since the snapshot taken before the call),
 *     so no wake is lost; the price is a spurious wakeup, which FutexRing allows on this backend.
 *     Otherwise it was not woken and sleeps on. SyscallBackend gives different words different
 *     threads while there are threads to spare, so this needs two wakes of words that share a
 *     thread at once.
 * An entry of a finished wait (abandoned by its caller, or completed through another entry on
 * another thread) up to r (any entry of a waitAny) may have consumed a wake meant for a live
 * waiter, so its wake goes to its AbandonedWakeHandler (pass it on); the entries of a wait
 * completed in this very pass are the caller's to repair, exactly as a waitAny on io_uring. A
 * single wait's entry that this pass decided not woken (it sleeps on) and that its caller completes
 * before the finished entries are dropped (a cancel while this thread is descheduled) consumed
 * nothing: it goes without a pass-on, which would wake a live waiter of its word spuriously.
 *
 * Returns with no waited word woken (the control word, -EAGAIN, -ETIMEDOUT, -EINTR) consumed
 * nothing: finished entries just
 * go; with -EAGAIN each live entry whose word changed completes as value-changed.
 *
 * Order, as on a ring: a wake that another thread makes after wait() returned reaches that
 * wait. Before such a wake the backend waits (briefly, bounded) until every thread is settled:
 * it drained every request queued before, and it is queued in the kernel in the generation it
 * announced (armGeneration, bumped before each call). The last is proved without waking it: a
 * FUTEX_REQUEUE of the sentinel onto itself, waking none, counts the waiters queued on it.
 *
 * Handed-over wakes. Settled is a past fact: a thread settled a moment ago may since have been
 * woken (a poke, a timeout, a wake of another of its words) and be re-arming, its entries out of
 * the kernel, when the wake lands. A wake that changes no word (a pure wake) then finds nothing
 * there, and the re-arm sees the word unchanged and sleeps on: on io_uring, where every wait
 * stays queued until it completes, that wait would have been woken. So a wake of this process
 * that the kernel reports as having woken fewer than it asked (which means it woke every entry
 * queued on the word then: a futex_waitv entry matches every bitset) hands its unused count to
 * each thread holding the word, unless that thread provably stayed queued across the wake: its
 * sentinel (the last entry) queued before the wake, and its control word (the first) still queued
 * after it, in the same generation. A woken thread unqueues its call's entries in array order, the
 * control word first, so every entry that no wake took was queued throughout. The thread takes the Handover through its queue, after the outcome of the
 * call it was in (afterWait comes before the next drain), and completes as WOKEN up to that many
 * of its live entries on the word, oldest first, that were placed before the wake began (their
 * sequence). Such an entry was not queued when the wake landed: had it been, the wake would have
 * taken it and the call's outcome would have completed it already. So nothing is counted twice,
 * no wait made after the wake is woken by it, and the waker adds what the thread used to its
 * count (SyscallBackend.wakeSettled).
 *
 * Timeouts: the call's absolute CLOCK_MONOTONIC deadline is the nearest deadline of the set
 * (System.nanoTime is CLOCK_MONOTONIC on Linux), but never more than a tick away
 * (NativeWaitTick: a JVM exit waits for threads in native code); overdue entries complete with
 * TimeoutException at the top of each pass. A tick's return is the ETIMEDOUT case below, as a
 * poke is the control word's: nothing consumed, the entries re-armed by the next pass.
 */
final class WaitvThread implements Runnable {
  /** Waited words per thread: futex_waitv takes 128 entries; the control word and sentinel. */
  static final int CAPACITY = FutexRing.MAX_WAIT_ANY - 2;

  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  private static final long ENTRY_BYTES = UringLayouts.FUTEX_WAITV.byteSize();
  private static final int CONTROL_FLAGS = FutexFlags.SIZE_U32 | FutexFlags.PRIVATE;

  private final SyscallBackend backend;
  final int index; // its bit in SyscallBackend's holders masks
  // address -> this thread's entries on it, placed (by the submitter, before it queues them) and
  // not yet removed; its bit in the backend's holders mask changes with it, under this map's lock
  private final ConcurrentHashMap<Long, Integer> heldWords = new ConcurrentHashMap<>();
  private final Thread thread;
  final AtomicInteger reserved = new AtomicInteger(); // entries promised to queued or held waits
  private final ConcurrentLinkedQueue<Object> incoming = new ConcurrentLinkedQueue<>();
  // Automatic: a late poke() from another thread may touch the control word after this thread ends.
  private final Arena arena = Arena.ofAuto();
  private final MemorySegment control = arena.allocate(Integer.BYTES, Integer.BYTES);
  private final MemorySegment sentinel = arena.allocate(Integer.BYTES, Integer.BYTES); // always 0
  // the kernel array: [control, entries..., sentinel]; `waitv` is its entries, from index 1
  private final MemorySegment kernelArray =
      arena.allocate(ENTRY_BYTES * FutexRing.MAX_WAIT_ANY, Long.BYTES);
  private final MemorySegment waitv = kernelArray.asSlice(ENTRY_BYTES);
  private final MemorySegment deadlineSpec = arena.allocate(UringLayouts.KERNEL_TIMESPEC);
  private volatile boolean sleeping; // in (or about to enter) futex_waitv
  private volatile boolean exited; // the run loop has ended
  private final AtomicLong submitted = new AtomicLong(); // requests queued so far
  private volatile long drainedUpTo; // every request counted up to here is in the array
  private volatile long armGeneration; // bumped (after drainedUpTo) before each futex_waitv
  private volatile long confirmedGeneration = -1; // a generation proved queued in the kernel

  // ---- this thread only ----
  private final SyscallWait[] ops = new SyscallWait[CAPACITY];
  private final int[] entryOf = new int[CAPACITY];
  // InProcessWakes.snapshot of each entry's word, taken before the call; PRIVATE words use it
  private final long[] wakeSnapshot = new long[CAPACITY];
  // Set by woken() for the entries that may have consumed the wake of the call just returned:
  // finished before woken() decided them, or decided woken (or changed) but completed by their
  // caller first. dropFinished passes on only those; see woken().
  private final boolean[] mayHaveConsumed = new boolean[CAPACITY];
  private int count;
  private final List<SyscallWait> completedThisPass = new ArrayList<>();

  /** One wait's entries [from, to) that this thread holds, when a wait is split over threads. */
  record Placement(SyscallWait op, int from, int to, int placement) {}

  /** A single wait handed back to the ring by its joiner, as its placement {@code placement}. */
  record TakenBack(SyscallWait op, int placement) {}

  /**
   * The unused count of a wake of {@code address} (scope {@code scope}) that began when waits up to
   * {@code wakeSequence} had been placed; see the overview. The thread sets {@code used} (the waits
   * it completed) once it has taken it; -1 until then.
   */
  static final class Handover {
    final long address;
    final FutexScope scope;
    final int count;
    final long wakeSequence;
    volatile int used = -1;

    Handover(FutexWord word, int count, long wakeSequence) {
      this(word.address(), word.scope(), count, wakeSequence);
    }

    Handover(long address, FutexScope scope, int count, long wakeSequence) {
      this.address = address;
      this.scope = scope;
      this.count = count;
      this.wakeSequence = wakeSequence;
    }
  }

  WaitvThread(SyscallBackend backend, int index, String name) {
    this.backend = backend;
    this.index = index;
    this.thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this);
  }

  void start() {
    thread.start();
  }

  Thread thread() {
    return thread;
  }

  boolean idle() {
    return sleeping && incoming.isEmpty();
  }

  /** Reserves up to {@code wanted} entries; returns how many it got (0 when full). */
  int reserve(int wanted) {
    for (; ; ) {
      int used = reserved.get();
      int granted = Math.min(wanted, CAPACITY - used);
      if (granted <= 0) {
        return 0;
      }
      if (reserved.compareAndSet(used, used + granted)) {
        return granted;
      }
    }
  }

  void release(int entries) {
    reserved.addAndGet(-entries);
  }

  /**
   * Queues all of an op's entries (reserved already, its words held: holdWord), a {@link
   * Placement}, or a {@link Handover}.
   */
  void add(Object request) {
    incoming.add(request);
    submitted.incrementAndGet(); // after the add: a drain that counts it finds it
    if (Thread.currentThread() != thread) {
      poke();
    }
    if (exited) { // closed meanwhile: the final drain may have missed it
      failQueued();
    }
  }

  /** Makes the thread look at its queue and its waits again. Any thread. */
  void poke() {
    INT.getAndAdd(control, 0L, 1);
    if (sleeping) {
      backend.countDoorbell();
      Syscalls.futexWakeBitset(control.address(), 1, FutexRing.ANY_BITSET, true);
    }
  }

  @Override
  public void run() {
    SyscallBackend.markBackendThread(backend);
    try {
      while (!backend.isClosing()) {
        int controlValue = (int) INT.getAcquire(control, 0L); // before the drain: see overview
        long queued = submitted.get();
        completedThisPass.clear();
        drain();
        long deadline = expireAndSweep();
        if (backend.isClosing()) {
          break;
        }
        // the control word first, the sentinel last: see overview
        setEntry(kernelArray, 0, control.address(), controlValue);
        setEntry(waitv, count * ENTRY_BYTES, sentinel.address(), 0);
        drainedUpTo = queued;
        // never past a tick, so that a JVM exit never waits for this thread (NativeWaitTick)
        long tickEnd = System.nanoTime() + NativeWaitTick.NANOS;
        boolean onTick = deadline == SyscallWait.NO_DEADLINE || deadline - tickEnd > 0;
        long until = onTick ? tickEnd : deadline;
        deadlineSpec.set(ValueLayout.JAVA_LONG, UringLayouts.TIMESPEC_SEC, until / 1_000_000_000L);
        deadlineSpec.set(ValueLayout.JAVA_LONG, UringLayouts.TIMESPEC_NSEC, until % 1_000_000_000L);
        int words = count;
        snapshotWakes();
        // single writer; volatile: publishes drainedUpTo. Before `sleeping`, so that a settled()
        // that reads one generation on both sides of `sleeping` knows which call it is
        armGeneration++;
        sleeping = true;
        int result = Syscalls.futexWaitv(kernelArray, count + 2, deadlineSpec);
        if (TestPausePoints.HOLD_AFTER_KERNEL_RETURN) {
          TestPausePoints.afterKernelReturn(); // out of the kernel, `sleeping` not yet cleared
        }
        sleeping = false;
        if (!(onTick && result == -Errno.ETIMEDOUT)) {
          backend.countWait(words); // before afterWait completes futures; idle ticks not counted
        }
        afterWait(result);
      }
    } catch (Throwable t) {
      backend.threadFailed(this, t);
    } finally {
      shutdown();
    }
  }

  private void drain() {
    Object request;
    while ((request = incoming.poll()) != null) {
      if (request instanceof SyscallWait op) {
        place(op, 0, op.entries(), 0);
      } else if (request instanceof Placement part) {
        place(part.op(), part.from(), part.to(), part.placement());
      } else if (request instanceof TakenBack back) {
        place(back.op(), 0, 1, back.placement());
      } else if (request instanceof Handover handover) {
        handover.used = complete(handover);
      }
    }
  }

  /**
   * Completes as woken up to {@code handover.count} live entries on its word placed before its wake
   * began, oldest first, and returns how many. None of them is in the kernel now, and none was
   * woken by a call already returned (afterWait completed those): see the overview.
   */
  private int complete(Handover handover) {
    int used = 0;
    for (int p = 0; p < count && used < handover.count; p++) {
      SyscallWait op = ops[p];
      FutexWord word = op.word(entryOf[p]);
      if (word.address() == handover.address
          && word.scope() == handover.scope
          && op.sequence() <= handover.wakeSequence
          && !op.finished()
          && op.claim()) {
        op.deliverWoken(entryOf[p]);
        used++;
      }
    }
    if (used < handover.count) {
      // A wait this thread dropped unarmed because a joined thread took it over (drained before
      // this handover, so its joiner registered before) may be the one the wake missed: the wake
      // lists the joiners it finds when it begins, and one that registered later, while this thread
      // was stalled past the wake's settle patience, is reached only from here.
      JoinedRingWait joiner = backend.joinerOf(handover.address);
      if (joiner != null) {
        used +=
            joiner.handOver(
                handover.address,
                handover.scope,
                handover.count - used,
                handover.wakeSequence,
                SyscallBackend.HANDOVER_PATIENCE_NANOS);
      }
    }
    return used;
  }

  private void place(SyscallWait op, int from, int to, int placement) {
    // Abandoned before it reached the kernel, or taken over by a thread blocked in join() (or
    // placed again since): nothing consumed here.
    boolean mine = op.arm(placement); // false: taken over by a joined thread, or placed again
    if (!mine || op.finished()) {
      release(to - from);
      if (mine) { // else it is still in flight: its joiner or its next placement ends it
        op.entriesDropped(to - from);
      }
      for (int entry = from; entry < to; entry++) {
        releaseWord(op.word(entry).address());
      }
      return;
    }
    for (int entry = from; entry < to; entry++) {
      FutexWord word = op.word(entry);
      long at = count * ENTRY_BYTES;
      waitv.set(
          ValueLayout.JAVA_LONG,
          at + UringLayouts.WAITV_VAL,
          Integer.toUnsignedLong(op.expected(entry)));
      waitv.set(ValueLayout.JAVA_LONG, at + UringLayouts.WAITV_UADDR, word.address());
      waitv.set(ValueLayout.JAVA_INT, at + UringLayouts.WAITV_FLAGS, word.futex2Flags());
      waitv.set(ValueLayout.JAVA_INT, at + UringLayouts.WAITV_RESERVED, 0);
      ops[count] = op;
      entryOf[count] = entry;
      count++;
    }
  }

  /** Before the call: what InProcessWakes knows of each entry's word (see woken()). */
  private void snapshotWakes() {
    for (int p = 0; p < count; p++) {
      wakeSnapshot[p] = InProcessWakes.snapshot(addressOf(p));
    }
  }

  private long addressOf(int p) {
    return waitv.get(ValueLayout.JAVA_LONG, p * ENTRY_BYTES + UringLayouts.WAITV_UADDR);
  }

  private static void setEntry(MemorySegment array, long at, long address, int expected) {
    array.set(ValueLayout.JAVA_LONG, at + UringLayouts.WAITV_VAL, Integer.toUnsignedLong(expected));
    array.set(ValueLayout.JAVA_LONG, at + UringLayouts.WAITV_UADDR, address);
    array.set(ValueLayout.JAVA_INT, at + UringLayouts.WAITV_FLAGS, CONTROL_FLAGS);
    array.set(ValueLayout.JAVA_INT, at + UringLayouts.WAITV_RESERVED, 0);
  }

  /** Times out overdue waits, drops finished ones (none was in the kernel since the last pass). */
  private long expireAndSweep() {
    long now = System.nanoTime();
    long nearest = SyscallWait.NO_DEADLINE;
    for (int p = count - 1; p >= 0; p--) {
      SyscallWait op = ops[p];
      if (!op.finished() && op.deadline - now <= 0 && op.claim()) {
        op.deliverTimeout();
      }
      if (op.finished()) {
        remove(p);
      } else if (op.deadline < nearest) {
        nearest = op.deadline;
      }
    }
    return nearest;
  }

  private void afterWait(int result) {
    if (result >= 1 && result <= count) {
      woken(result - 1);
    } else if (result >= 0) {
      dropFinished(-1); // the control word was the last entry woken, so no waited word was
    } else if (result == -Errno.EAGAIN) {
      valueChanged();
    } else if (result != -Errno.ETIMEDOUT && result != -Errno.EINTR) {
      failAll(new RingException("futex_waitv failed", -result));
    } // ETIMEDOUT, EINTR: nothing consumed; the next pass times out and sweeps
  }

  /**
   * Entry {@code reported} was the last one woken: no later entry was (see overview). An earlier
   * entry on the same word was woken too: the kernel wakes the waiters of a word oldest first and
   * queued this thread's in array order. An entry whose word changed ends as value changed. An
   * earlier entry on another, unchanged word ends as woken when a wake may have reached it
   * (mayHaveBeenWoken); otherwise it was not woken and sleeps on.
   */
  private void woken(int reported) {
    completedThisPass.clear();
    // The reported entry first: a waitAny whose other entries may end as woken too reports the
    // word that surely woke it.
    SyscallWait reportedOp = ops[reported];
    if (!reportedOp.finished() && reportedOp.claim()) {
      completedThisPass.add(reportedOp);
      reportedOp.deliverWoken(entryOf[reported]);
    }
    for (int p = 0; p < count; p++) {
      SyscallWait op = ops[p];
      // Only what this pass finds or decides: an entry decided not woken (it sleeps on) whose
      // caller completes it a moment later, before dropFinished runs (a cancel while this thread
      // is descheduled), consumed nothing, and passing a wake on for it would wake a live waiter
      // of its word spuriously (SyscallBackendTest.aPrivateWaitThatNoWakeReachedSleepsOn).
      mayHaveConsumed[p] = op.finished(); // finished before any decision: maybe woken in the kernel
      if (mayHaveConsumed[p]) {
        continue;
      }
      int entry = entryOf[p];
      boolean woken;
      if (p == reported || p < reported && sameWord(p, reported)) {
        woken = true;
      } else if (holdsOther(p)) {
        // Its word changed, so it must not sleep on. After the last woken entry it was not woken;
        // before it, it may have been or not: it ends as value changed either way, and the wake
        // it may have consumed is passed on, as an abandoned wait's is. Every wake ringlock's
        // primitives make follows a change of the word, so this is their usual case.
        if (op.claim()) {
          completedThisPass.add(op);
          op.deliverValueChanged();
          if (p < reported) {
            op.passOn(entry);
          }
        } else {
          mayHaveConsumed[p] = true; // its caller completed it first: dropFinished passes on
        }
        continue;
      } else {
        // Unchanged word, before the reported entry: a wake of it may have reached it in the
        // window and the kernel cannot say. Ending it as woken, maybe spuriously, is FutexRing's
        // contract on this backend; re-arming it would lose that wake for good if there was one.
        woken = p < reported && mayHaveBeenWoken(p);
      }
      if (woken && op.claim()) {
        completedThisPass.add(op);
        op.deliverWoken(entry);
      } else {
        mayHaveConsumed[p] = woken; // woken, but its caller completed it first: pass it on
      }
    }
    dropFinished(reported);
    completedThisPass.clear();
  }

  /**
   * Removes the entries of finished waits after a call that returned, {@code lastWoken} being the
   * last entry woken (-1: none). A finished single wait's entry up to it that woken() found
   * finished, or decided woken but lost to its caller (mayHaveConsumed), may have consumed a wake,
   * which goes to its handler; one after it consumed none, nor did one woken() decided not woken
   * and its caller completed since. A finished waitAny hands every entry on, as an abandoned
   * FUTEX_WAITV does on io_uring (FutexRing's contract for waitAny).
   */
  private void dropFinished(int lastWoken) {
    for (int p = count - 1; p >= 0; p--) {
      SyscallWait op = ops[p];
      if (!op.finished()) {
        continue;
      }
      boolean consumedMaybe = p <= lastWoken && mayHaveConsumed[p]; // lastWoken >= 0: from woken()
      if ((consumedMaybe || op.entries() > 1) && !completedThisPass.contains(op)) {
        op.passOn(entryOf[p]); // it was in the kernel and may have consumed a wake
      }
      remove(p);
    }
  }

  private void valueChanged() {
    for (int p = 0; p < count; p++) {
      SyscallWait op = ops[p];
      if (!op.finished() && holdsOther(p) && op.claim()) {
        op.deliverValueChanged();
      }
    }
    for (int p = count - 1; p >= 0; p--) {
      if (ops[p].finished()) {
        remove(p);
      }
    }
  }

  /**
   * Whether entry p waits on the same word as the reported entry: a wake of several waiters on one
   * word that reached more than one entry of this thread is reported once, at the last of them, so
   * the entries on that word before it were woken too, and those after it were not (woken in FIFO
   * order). The backend spreads the waits on one word over its threads to make this rare.
   */
  private boolean sameWord(int p, int reported) {
    return waitv.get(ValueLayout.JAVA_LONG, p * ENTRY_BYTES + UringLayouts.WAITV_UADDR)
        == waitv.get(ValueLayout.JAVA_LONG, reported * ENTRY_BYTES + UringLayouts.WAITV_UADDR);
  }

  /**
   * Whether entry p, before the reported one and on another word whose value did not change, may
   * have been woken too: always for a SHARED word (another process may have woken it), and for a
   * PRIVATE word when this process made a wake of it since the snapshot (InProcessWakes).
   */
  private boolean mayHaveBeenWoken(int p) {
    return ops[p].word(entryOf[p]).scope() == FutexScope.SHARED
        || InProcessWakes.mayHaveWoken(addressOf(p), wakeSnapshot[p]);
  }

  /** Whether entry p's word no longer holds its expected value (unreadable counts as changed). */
  private boolean holdsOther(int p) {
    int expected = (int) waitv.get(ValueLayout.JAVA_LONG, p * ENTRY_BYTES + UringLayouts.WAITV_VAL);
    try {
      // Through the op's word, never the raw address: its region may have closed (unmapped) since
      // the wait was armed, and a raw read of unmapped memory would kill the JVM.
      return ops[p].word(entryOf[p]).getAcquire() != expected;
    } catch (InternalError | IllegalStateException e) { // shrunk or unmapped: let the waiter see
      return true;
    }
  }

  /** Removes entry p, keeping the others in order: the kernel queues them in array order. */
  private void remove(int p) {
    long address = waitv.get(ValueLayout.JAVA_LONG, p * ENTRY_BYTES + UringLayouts.WAITV_UADDR);
    SyscallWait op = ops[p];
    int last = count - 1;
    if (p != last) {
      MemorySegment.copy(
          waitv, (p + 1) * ENTRY_BYTES, waitv, p * ENTRY_BYTES, (last - p) * ENTRY_BYTES);
      System.arraycopy(ops, p + 1, ops, p, last - p);
      System.arraycopy(entryOf, p + 1, entryOf, p, last - p);
      System.arraycopy(wakeSnapshot, p + 1, wakeSnapshot, p, last - p);
    }
    ops[last] = null;
    count = last;
    release(1);
    op.entriesDropped(1);
    releaseWord(address);
  }

  // ---- which words it holds (any thread) ----

  /**
   * A submitter placed an entry on {@code address} here, before queuing it: the thread counts as a
   * holder of the word from now until the entry is removed, so a wake finds it (wakeSettled) even
   * while the entry is still in the queue.
   */
  void holdWord(long address) {
    heldWords.compute(
        address,
        (key, held) -> {
          backend.addHolder(address, index); // under this key's lock: ordered with releaseWord
          return held == null ? 1 : held + 1;
        });
  }

  /** This thread's entries on {@code address}, placed and not yet removed. */
  int heldCount(long address) {
    return heldWords.getOrDefault(address, 0);
  }

  private void releaseWord(long address) {
    heldWords.computeIfPresent(
        address,
        (key, held) -> {
          if (held > 1) {
            return held - 1;
          }
          backend.dropHolder(address, index);
          return null;
        });
  }

  // ---- what wakers ask (any thread) ----

  /**
   * Whether a wait of the ring is placed here: its room is reserved before its request is queued
   * and released only when this thread drops its entry (finished, or taken over unarmed). A wake
   * need not wait for a thread that holds none to settle (SyscallBackend.awaitSettled): a wait
   * whose wait() returned before the wake began reserved its room before that, and the waker reads
   * `reserved` after (both on one atomic), so it sees such a wait unless it has ended already.
   */
  boolean holdsWaits() {
    return reserved.get() != 0;
  }

  /**
   * Settled: every request queued so far is in the array, and the thread is queued in the kernel on
   * it (proved by a FUTEX_REQUEUE of the sentinel onto itself, once per generation).
   */
  boolean settled() {
    if (exited) {
      return true;
    }
    long queued = submitted.get();
    // One generation read on both sides of drainedUpTo and sleeping (written in that order, before
    // and after the generation): both belong to that generation's call, not to the next one's.
    long generation = armGeneration;
    boolean drained = drainedUpTo >= queued;
    if (!drained || !sleeping || armGeneration != generation) {
      return false;
    }
    if (confirmedGeneration == generation) {
      return true;
    }
    int waiting = Syscalls.futexCountWaiters(sentinel.address(), true);
    if (waiting >= 1 && sleeping && armGeneration == generation) {
      confirmedGeneration = generation;
      return true;
    }
    return false;
  }

  /**
   * The generation this thread is settled in (see settled()), or -1 if it is not settled now. A
   * wake made after this returned g either finds the thread's entries of generation g queued, or
   * the thread was woken meanwhile: stillQueuedIn(g) tells which, afterwards.
   */
  long settledGeneration() {
    long generation = armGeneration;
    return settled() && armGeneration == generation && !exited ? generation : -1;
  }

  /**
   * Whether the call of generation {@code generation}, proved wholly queued before
   * (settledGeneration: its sentinel, the last entry, was queued), still has its control word
   * queued now. The thread, once woken, unqueues its entries in array order (the kernel's
   * futex_unqueue_multiple), the control word first: so with the control word still queued it has
   * not begun, and every entry that no wake took was queued the whole time in between. (The
   * sentinel would not do: it stays queued while the entries before it are being unqueued.) A poke
   * takes the control word itself, which answers false: the caller then hands over, which is never
   * wrong. One FUTEX_REQUEUE counting the control word's waiters, between two reads of the
   * generation.
   */
  boolean stillQueuedIn(long generation) {
    if (armGeneration != generation || !sleeping) {
      return false;
    }
    int waiting = Syscalls.futexCountWaiters(control.address(), true);
    return waiting >= 1 && sleeping && armGeneration == generation;
  }

  /**
   * Waits, bounded, until this thread has taken {@code handover}, and returns how many waits it
   * completed; 0 if it ended first or the patience ran out (then the handover stays queued, and the
   * waits it completes later end woken uncounted: spurious, as FutexRing allows, but not lost).
   */
  int awaitTaken(Handover handover, long patienceNanos) {
    long deadline = System.nanoTime() + patienceNanos;
    for (int spins = 0; ; spins++) {
      int used = handover.used;
      if (used >= 0) {
        return used;
      }
      if (exited && incoming.isEmpty() || System.nanoTime() - deadline > 0) {
        return Math.max(handover.used, 0);
      }
      SyscallBackend.pause(spins);
    }
  }

  private void failAll(Throwable failure) {
    for (int p = count - 1; p >= 0; p--) {
      SyscallWait op = ops[p];
      if (op.claim()) {
        op.deliver(failure);
      }
      remove(p);
    }
  }

  private void shutdown() {
    exited = true;
    drain();
    failAll(backend.closedException());
    failQueued();
  }

  /** Fails whatever is still queued: the thread has exited. */
  private void failQueued() {
    Object request;
    while ((request = incoming.poll()) != null) {
      if (request instanceof Handover handover) {
        handover.used = 0; // its waits fail as closed below, or already did
        continue;
      }
      SyscallWait op =
          request instanceof SyscallWait whole
              ? whole
              : request instanceof TakenBack back ? back.op() : ((Placement) request).op();
      int from = request instanceof Placement part ? part.from() : 0;
      int to = request instanceof Placement part ? part.to() : op.entries();
      int placement =
          request instanceof TakenBack back
              ? back.placement()
              : request instanceof Placement part ? part.placement() : 0;
      release(to - from);
      for (int entry = from; entry < to; entry++) {
        releaseWord(op.word(entry).address());
      }
      if (!op.arm(placement)) {
        continue; // its joiner, or its next placement, runs it and ends it
      }
      op.entriesDropped(to - from);
      if (op.claim()) {
        op.deliver(backend.closedException());
      }
    }
  }
}
