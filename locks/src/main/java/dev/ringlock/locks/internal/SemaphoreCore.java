package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.SemaphoreDescriptor.HOLDER_SLOTS;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.MAX_PERMITS;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.PERMITS_MASK;
import static dev.ringlock.locks.internal.SemaphoreDescriptor.WAITERS;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.ProcessWatch;
import dev.ringlock.core.ProcessWatch.Subscription;
import dev.ringlock.core.RingException;
import dev.ringlock.core.WaitOutcome;
import dev.ringlock.core.WakeSignal;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.Semaphore;
import dev.ringlock.locks.SemaphoreHoldersFullException;
import dev.ringlock.locks.SemaphoreOptions;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/*
 * Overview
 *
 * One process's view of one semaphore. The shared state is the object of SemaphoreDescriptor: the
 * word (permits in bits 0..30 | WAITERS in bit 31) and the count of processes sleeping in the
 * kernel. The local state is built like MutexCore's: a FIFO RequestQueue of this process's pending
 * requests (SemaphoreRequests, each the caller's future) and at most one kernel wait, the Sleeper,
 * standing for the whole queue; QueuedPrimitive holds both, and the plumbing around them.
 *
 * Acquiring. A request takes its permits with one CAS (word - n; WAITERS stays as it was) if they
 * are available and nothing of this process is queued; otherwise it is queued and the queue is
 * pumped. The pump, under the monitor:
 *   1. fails the requests whose deadline has passed (TimeoutException);
 *   2. takes permits for the head while the word covers it (CAS word - head's n), unlinking each
 *      such request as it takes its permits; it stops at the first request that does not fit, so
 *      a request for 5 is never overtaken by later requests for 1 of this process;
 *   2b. with undo on exit, if the head does not fit, returns dead holders' permits (see below);
 *   3. if requests remain and no sleeper is armed (or one just arrived with a deadline earlier
 *      than the sleeper's timeout), sets WAITERS with a CAS on the value v it decided on, and arms
 *      FUTEX_WAIT(word, v | WAITERS) with the earliest deadline in the queue as linked timeout.
 * The granted requests are completed after the monitor is released, through Grants: a
 * continuation that releases permits pumps again, and the trampoline keeps that from nesting.
 *
 * An armed sleeper stands for the queue until it completes, and it always completes after the
 * word changes: it was armed with WAITERS in its expected value, so either the word still has
 * WAITERS and the next release will wake it, or a release has cleared the bit and owes a wake,
 * issued after the clearing; then the wait is woken if it is in the kernel, or fails with EAGAIN
 * when it gets there (the value differs), which the ring reports as value-changed. So a pump that
 * finds it armed need not arm another. Its completion (woken, value changed or timed out) pumps;
 * the pump re-arms if the head still cannot proceed.
 *
 * Releasing: one CAS adds n to the permits and CLEARS WAITERS in the same step; if the old word
 * had WAITERS, one FUTEX_WAKE of every sleeper (FutexRing.WAKE_ALL) goes out as a WakeSignal. A
 * sleeper's CAS that set the bit before the release is seen by it; one after it fails (the value
 * changed) or sees the new value, so no wake is lost. Each process has at most one sleeper per
 * semaphore, so "every sleeper" is at most one per waiting process: each woken process grants as
 * many of its requests as the permits now cover, and sets WAITERS again and sleeps if its head
 * still cannot proceed. Why not wake only n sleepers: a count-limited wake can reach a process
 * whose head needs more than is available; it goes back to sleep while a process that could
 * proceed was never woken, a lost wakeup. Passing such a wake on instead livelocks: two
 * processes whose heads cannot proceed can hand it back and forth forever. Waking every process
 * costs one SQE, and a woken process that cannot proceed only re-arms. Then the releaser pumps its
 * own queue: local waiters proceed without a kernel round trip.
 *
 * The wake is a WakeSignal: fire-and-forget, batched with everything else the ring submits in
 * that iteration, and coalesced while queued, which the protocol allows (a queued wake reaches the
 * kernel after every release that asked for it).
 *
 * drainPermits sets the permits to 0 and keeps WAITERS: nothing was added, so no sleeper is owed
 * a wake, and the bit must stay for the next release to wake them.
 *
 * Cancel safety. Permits leave the word only in step 2, for a request unlinked in the same
 * critical section, or in a direct CAS whose caller gets a completed future (or, if the permits
 * cannot be recorded as a holding, goes back into the word at once: see undo on exit). A request completed
 * by its caller (cancel, complete, orTimeout) that is still queued is unlinked and never takes
 * permits; if it was withdrawn as its head position let the next request fit, the queue is pumped
 * again. A grant that loses the race with the caller's completion (Grants sees grant() fail)
 * releases the permits it carried. An expired request is unlinked before it takes anything. So
 * every permit is in the word or held by exactly one successfully completed future.
 *
 * A sleeper that is no longer needed (the queue emptied) is cancelled; a wake it consumed in that
 * race is passed on by the ring (AbandonedWakeHandler.PASS_ON). With wake-all nobody needed it
 * (every sleeper of that moment was woken), so it is only a spurious wake-up elsewhere.
 *
 * Fairness: none across processes. Any process may take released permits, so a process whose
 * head needs many can starve while others keep taking few (as in java.util.concurrent.Semaphore's
 * non-fair mode). The descriptor reserves a word should bounded barging, as the mutex has it, be
 * added.
 *
 * Memory ordering: the word is changed only with CAS (volatile, full fence), so actions before a
 * release happen-before actions after the acquire that takes its permits, in any process. The
 * sleepers count is a plain atomic add: diagnostics only.
 *
 * Undo on exit (on unless the semaphore was created with SemaphoreOptions.undoOnExit(false), which
 * the descriptor's flags record; then none of this runs and the holder table stays zero). Each
 * process's holding, what it acquired minus what it released and never below zero, is recorded in
 * the holder table (HolderTable: entries of (pid, held), each changed only by a CAS of the whole
 * 8-byte entry). When a holder dies, its holding goes back to the word.
 *   - Acquiring takes the permits from the word first, then records them (in the pump, under the
 *     monitor, right after the CAS that took them; or right after the direct CAS). A death between
 *     the two loses those permits for good; the other order would return permits the dead process
 *     never got. If they cannot be recorded (no entry free: SemaphoreHoldersFullException; or a
 *     damaged table) they go back into the word at once and the acquire fails with the reason:
 *     permits are never held unrecorded. drainPermits records what it took likewise.
 *   - Releasing takes the permits off the holding first (at most what it holds: a release beyond
 *     it is a signal), then adds them to the word; a death between the two loses them, never
 *     doubles them. A release refused for overflow puts the holding back.
 *   - A grant that loses to its request's withdrawal gives back permits that were recorded: off
 *     the holding, then into the word.
 * Returning a dead holder's permits: read the entry, ask whether its pid is alive, and if not CAS
 * the entry as read to 0 and add its count to the word as a release does (clear WAITERS, wake
 * every sleeper; capped at MAX_PERMITS, which signalling releases by others can have filled).
 * Exactly one recoverer wins the CAS, however many processes notice the death at once; and the
 * holder cannot race it (it is dead). The CAS compares pid and count, so a holder that was alive
 * and changed its entry after the read (it released, or acquired, or a reused pid took a freed
 * entry) makes it fail. Who notices a death:
 *   (a) a process with requests queued: each pump that is about to arm a sleeper (and every
 *       sleeper completion pumps with none armed) sweeps the table, and subscribes with
 *       ProcessWatch.onExit to the exit of every other live holder, one subscription per entry;
 *       the exit's listener pumps with a sweep. The subscriptions go when the queue empties. A
 *       process that starts holding after the last sweep is seen at the next sleeper completion:
 *       a wake, a timeout, or the Sleeper's bounded periodic re-check;
 *   (b) tryAcquire that finds too few permits sweeps (asking isAlive, no subscriptions) and tries
 *       once more, and acquire queues and pumps: a death with nobody waiting is noticed by the
 *       next acquire that needs the permits;
 *   (c) nobody else: until some process needs permits, a dead holder's stay recorded.
 * PID reuse: a pid asked about names the process that has it now. A holder that died and whose
 * pid was reused before anyone asked looks alive until the new process exits (then its permits
 * return too). A new process with a reused pid also takes the dead holder's entry for its own:
 * the counts add up and return together at its exit; permits are late, never doubled. One window
 * is left: the entry freed by its live holder, that process dying, and a new process with its pid
 * recording the very same count in the same entry, all between a recoverer's read and its CAS.
 *
 * Locking: `this` guards the queue, the sleeper and the exit subscriptions. Futures are
 * completed, and sleepers cancelled, only after the monitor is released, because completion runs
 * user continuations. Subscriptions are made and cancelled under it: ProcessWatch runs listeners
 * outside its own monitor, so the order is always this, then ProcessWatch.
 */
public final class SemaphoreCore extends QueuedPrimitive<SemaphoreRequest> implements Semaphore {
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  private static final CompletableFuture<Void> ACQUIRED = new Acquired();

  private final String name;
  private final MemorySegment memory;
  private final long wordAt;
  private final FutexWord word;
  private final WakeSignal wakeAll;
  private final FutexRing ring;
  private final ProcessWatch processes;
  private final int pid;
  private final HolderTable holders; // null: undo on exit is off
  private final MappedRegion region; // names the file when its memory faults (regionFault)

  // ---- guarded by this: exit subscriptions while requests are queued, one per holder entry ----
  private final int[] watchedPids; // the pid of the entry each subscription watches, or 0
  private final Subscription[] exitWatches;

  /**
   * @param region the region
   * @param offset where the semaphore object starts (SemaphoreDescriptor.SIZE bytes, 64-byte
   *     aligned), initialised by {@link #initialize}
   * @param pid this process's id, as holder entries record it
   * @throws UncheckedIOException of an InvalidRegionException (CORRUPT) if the object's flags have
   *     a bit this version does not know
   */
  public SemaphoreCore(
      String name, MappedRegion region, long offset, FutexScope scope, FutexRing ring, int pid) {
    MemorySegment memory = region.segment();
    FutexWord word = FutexWord.of(memory, offset + SemaphoreDescriptor.WORD_OFFSET, scope);
    super(new Sleeper(ring, word, memory, offset + SemaphoreDescriptor.SLEEPERS_OFFSET));
    this.name = name;
    this.region = region;
    this.memory = memory;
    this.wordAt = offset + SemaphoreDescriptor.WORD_OFFSET;
    this.word = word;
    this.wakeAll = ring.wakeSignal(word, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
    this.ring = ring;
    this.processes = ring.processes();
    this.pid = pid;
    // Written by the creator before the object was published, never changed: a plain read.
    int flags = memory.get(ValueLayout.JAVA_INT, offset + SemaphoreDescriptor.FLAGS_OFFSET);
    String flagsProblem = SemaphoreDescriptor.flagsProblem(flags);
    if (flagsProblem != null) {
      throw region.corruption("has a " + describe() + " whose " + flagsProblem);
    }
    boolean undo = (flags & SemaphoreDescriptor.FLAG_NO_UNDO) == 0;
    this.holders = undo ? new HolderTable(region, offset, pid, describe()) : null;
    this.watchedPids = undo ? new int[HOLDER_SLOTS] : null;
    this.exitWatches = undo ? new Subscription[HOLDER_SLOTS] : null;
  }

  /**
   * Writes a new semaphore object's initial state: {@code initialPermits}, no waiters, the flags of
   * {@code options}. Runs in the region's creating initializer only, before any other process can
   * see the object (which arrives zeroed, so the holder table is empty and the rest zero).
   *
   * @throws IllegalArgumentException if {@code initialPermits} is negative
   */
  public static void initialize(
      MemorySegment object, int initialPermits, SemaphoreOptions options) {
    object.set(ValueLayout.JAVA_INT, SemaphoreDescriptor.WORD_OFFSET, checkInitial(initialPermits));
    object.set(
        ValueLayout.JAVA_INT,
        SemaphoreDescriptor.FLAGS_OFFSET,
        options.undoOnExit() ? 0 : SemaphoreDescriptor.FLAG_NO_UNDO);
  }

  /** Returns {@code initialPermits} if it is a valid initial count (0 is). */
  public static int checkInitial(int initialPermits) {
    if (initialPermits < 0) {
      throw new IllegalArgumentException(
          "a semaphore's initial permits must be 0 or more, not " + initialPermits);
    }
    return initialPermits;
  }

  /**
   * Refuses {@code options} that disagree with those the semaphore was created with: two processes
   * must not disagree on whether a dead holder's permits come back.
   *
   * @throws IllegalStateException if they disagree
   */
  public void checkOptions(SemaphoreOptions options) {
    if (options.undoOnExit() != (holders != null)) {
      throw new IllegalStateException(
          describe()
              + " was created with undoOnExit "
              + (holders != null)
              + ", and this call asks for "
              + options
              + ": a semaphore's options are fixed when it is created. Pass the options it was"
              + " created with (every process must), or use another name");
    }
  }

  // ---- shared memory, access mode in the name ----

  private int lvWord() {
    return (int) INT.getVolatile(memory, wordAt);
  }

  /**
   * Read first, then CAS (test-and-test-and-set): on a page that the file no longer covers (shrunk
   * under the mapping) a compareAndSet kills the JVM with SIGBUS, where the read throws
   * InternalError, which the public API turns into InvalidRegionException(TRUNCATED). A value that
   * differs would fail the CAS anyway. See docs/validation.md, the CAS audit.
   */
  private boolean casWord(int expected, int next) {
    return lvWord() == expected && INT.compareAndSet(memory, wordAt, expected, next);
  }

  // ---- Semaphore ----

  @Override
  public String name() {
    return name;
  }

  // Every public entry that reads the region turns a fault on its memory (InternalError: the file
  // shrank under the mapping) into InvalidRegionException(TRUNCATED); see regionFaulted.

  @Override
  public CompletableFuture<Void> acquire(int permits) {
    checkPermits(permits);
    try {
      return acquire(permits, SemaphoreRequest.NO_DEADLINE);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public CompletableFuture<Void> acquire(int permits, Duration timeout) {
    checkPermits(permits);
    long deadline = Deadlines.after(timeout);
    try {
      return acquire(permits, deadline);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public boolean tryAcquire(int permits) {
    checkPermits(permits);
    checkOpen();
    try {
      if (takeNow(permits)) {
        return true;
      }
      // Too few: a dead holder's permits may be what is missing, and with nobody waiting nobody
      // has returned them yet. Then one more try, as if they had been there.
      return holders != null && returnDeadHoldings(false) > 0 && takeNow(permits);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public void release(int permits) {
    checkPermits(permits);
    checkOpen();
    try {
      releaseChecked(permits);
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  private void releaseChecked(int permits) {
    // Off the holding first, then into the word: a death between the two loses these permits
    // (the word never gets them) instead of returning them twice.
    int forgotten = holders != null ? holders.forget(permits) : 0;
    try {
      add(permits, true);
    } catch (IllegalArgumentException refused) {
      // Changes nothing: the holding is put back. If the table filled meanwhile it cannot be, and
      // these permits would not return if this process died; say so beside the refusal.
      if (forgotten > 0) {
        try {
          holders.record(forgotten);
        } catch (SemaphoreHoldersFullException full) {
          refused.addSuppressed(full);
        }
      }
      throw refused;
    }
  }

  @Override
  public int availablePermits() {
    checkOpen();
    try {
      return lvWord() & PERMITS_MASK;
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  @Override
  public int drainPermits() {
    checkOpen();
    try {
      return drainChecked();
    } catch (InternalError fault) {
      throw regionFaulted(fault);
    }
  }

  private int drainChecked() {
    for (int v = lvWord(); ; v = lvWord()) {
      int available = v & PERMITS_MASK;
      // keeps WAITERS: nothing was added, and the next release must still wake the sleepers
      if (available == 0) {
        return 0;
      }
      if (casWord(v, v & WAITERS)) {
        throwIfRefused(recordTaken(available));
        return available;
      }
    }
  }

  @Override
  public String toString() {
    if (closed) {
      return "Semaphore['" + name + "', closed]";
    }
    int v = lvWord();
    String local;
    synchronized (this) {
      SemaphoreRequest head = queue.head();
      local =
          ", "
              + queue.length()
              + " queued here"
              + (head != null ? " (the oldest wants " + head.permits + ")" : "")
              + (sleeper.isArmed() ? ", a kernel wait armed" : "");
    }
    return "Semaphore['"
        + name
        + "', "
        + (v & PERMITS_MASK)
        + " permits available"
        + ((v & WAITERS) != 0 ? " with waiters" : "")
        + local
        + ", sleeping processes "
        + sleeper.processesSleeping()
        + describeHolders()
        + "]";
  }

  private String describeHolders() {
    if (holders == null) {
      return ", undo on exit off";
    }
    try {
      return ", held here "
          + holders.heldHere()
          + ", holder entries in use "
          + holders.entriesInUse()
          + " of "
          + HOLDER_SLOTS;
    } catch (UncheckedIOException corrupt) {
      return ", holder table corrupt: " + corrupt.getMessage();
    }
  }

  // ---- acquiring ----

  private CompletableFuture<Void> acquire(int permits, long deadline) {
    checkOpen();
    if (queue.length() == 0 && tryTake(permits)) {
      RuntimeException refused = recordTaken(permits);
      if (refused == null) {
        return ACQUIRED;
      }
      pumpIfQueued();
      return CompletableFuture.failedFuture(refused);
    }
    SemaphoreRequest request = new SemaphoreRequest(this, permits, deadline);
    if (link(request)) {
      pump(deadline, false);
    }
    return request;
  }

  /** Takes and records {@code permits} if they are available and nothing here is queued. */
  private boolean takeNow(int permits) {
    if (queue.length() == 0 && tryTake(permits)) {
      throwIfRefused(recordTaken(permits));
      return true;
    }
    return false;
  }

  /** Takes {@code permits} from the word if it has that many; keeps WAITERS as it is. */
  private boolean tryTake(int permits) {
    for (int v = lvWord(); (v & PERMITS_MASK) >= permits; v = lvWord()) {
      if (casWord(v, v - permits)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Records {@code permits} just taken from the word as this process's holding (with undo on exit).
   * If they cannot be recorded they go back into the word, waking its sleepers, and the reason is
   * returned: permits are never held unrecorded.
   *
   * @return null if recorded (or undo is off); else the SemaphoreHoldersFullException or the
   *     corruption found
   */
  private RuntimeException recordTaken(int permits) {
    if (holders == null) {
      return null;
    }
    try {
      holders.record(permits);
      return null;
    } catch (SemaphoreHoldersFullException | UncheckedIOException refused) {
      addToWord(permits, false);
      return refused;
    }
  }

  /** Outside the monitor: the permits a refused record gave back may fit a request queued here. */
  private void throwIfRefused(RuntimeException refused) {
    if (refused != null) {
      pumpIfQueued();
      throw refused;
    }
  }

  /**
   * After permits were added outside the pump: requests queued here may fit now. Dekker-style with
   * acquire: it writes the queue's length then reads the word (in the pump), we wrote the word then
   * read the length, both with full fences, so one of us sees the other.
   */
  private void pumpIfQueued() {
    if (queue.length() > 0) {
      pump(SemaphoreRequest.NO_DEADLINE, false);
    }
  }

  /**
   * Moves the queue forward: expires overdue requests, grants the oldest ones while the permits
   * cover them, returns dead holders' permits when the head does not fit, and keeps a sleeper armed
   * while requests remain (see the overview).
   *
   * @param arrivingDeadline the deadline of a request just queued (NO_DEADLINE otherwise): only an
   *     arrival can make the queue's earliest deadline earlier than the sleeper's timeout
   * @param holderExited a watched holder process has exited: sweep the holder table even though a
   *     sleeper is armed
   */
  private void pump(long arrivingDeadline, boolean holderExited) {
    List<SemaphoreRequest> expired;
    List<SemaphoreRequest> granted = null;
    List<Refusal> refused = null;
    RuntimeException corrupt = null;
    CompletableFuture<WaitOutcome> cancelled = null;
    CompletableFuture<WaitOutcome> armed = null;
    synchronized (this) {
      if (closed) {
        return;
      }
      expired = queue.unlinkOverdue();
      // Sweep at most once a pump, and only when it may find what nobody else will report: before
      // arming a sleeper (every sleeper completion pumps with none armed), or on a holder's exit.
      // An armed sleeper's pumps (local releases, arrivals) rely on the subscriptions made then.
      boolean sweep = holders != null && (holderExited || !sleeper.isArmed());
      // Every `continue` follows a change of the word, ours (a grant, returned permits) or
      // another's (a failed CAS): deciding afresh on the new value is always safe.
      for (int v = lvWord(); ; v = lvWord()) {
        SemaphoreRequest head = queue.head();
        if (head == null) {
          cancelled = sleeper.detach();
          unwatchHolders();
          break;
        }
        if ((v & PERMITS_MASK) >= head.permits) {
          if (casWord(v, v - head.permits)) {
            queue.unlink(head);
            RuntimeException refusal = recordTaken(head.permits);
            if (refusal == null) {
              granted = added(granted, head);
            } else {
              refused = added(refused, new Refusal(head, refusal));
            }
          }
          continue;
        }
        if (sweep) {
          sweep = false;
          try {
            if (returnDeadHoldings(true) > 0) {
              continue;
            }
          } catch (UncheckedIOException e) {
            corrupt = e; // the holder table is damaged: fail the queue with it (below)
            unwatchHolders();
            break;
          }
        }
        if (sleeper.isArmed() && arrivingDeadline >= sleeper.deadline()) {
          break; // it completes after the next release (see the overview), and pumps then
        }
        int expected = v | WAITERS;
        if (v != expected && !casWord(v, expected)) {
          continue;
        }
        cancelled = sleeper.detach(); // armed with a later timeout than the new arrival's
        armed = sleeper.arm(expected, queue.earliestDeadline());
        break;
      }
    }
    finish(expired, cancelled);
    if (armed != null) {
      watch(armed);
    }
    if (granted != null) {
      for (SemaphoreRequest request : granted) {
        Grants.grant(request, null);
      }
    }
    if (refused != null) {
      for (Refusal refusal : refused) {
        refusal.request.fail(refusal.reason);
      }
    }
    if (corrupt != null) {
      failAll(corrupt);
    }
  }

  private static <T> List<T> added(List<T> list, T element) {
    List<T> to = list != null ? list : new ArrayList<>();
    to.add(element);
    return to;
  }

  /** A request unlinked for a grant whose permits could not be recorded (and went back). */
  private record Refusal(SemaphoreRequest request, RuntimeException reason) {}

  /** Woken, the word changed before it slept, or the earliest deadline came: look again. */
  @Override
  void sleeperCompleted(boolean woken) {
    pump(SemaphoreRequest.NO_DEADLINE, false);
  }

  /** A request completed by its caller (cancel, orTimeout...): take it out of the queue. */
  void withdraw(SemaphoreRequest request) {
    CompletableFuture<WaitOutcome> cancelled = null;
    boolean headLeft = false;
    synchronized (this) {
      if (!request.queued) {
        // Already unlinked for a grant: that grant fails and gives the permits back (Grants).
        // Or unlinked as expired, or never queued (the region closed first).
        return;
      }
      headLeft = queue.head() == request;
      queue.unlink(request);
      if (queue.isEmpty()) {
        cancelled = sleeper.detach();
        unwatchHolders();
        headLeft = false;
      }
    }
    finish(null, cancelled);
    if (headLeft) {
      pump(SemaphoreRequest.NO_DEADLINE, false); // the next request may fit where this one did not
    }
  }

  // ---- dead holders ----

  /**
   * Returns to the word the permits of every holder process that has exited: claims its entry (CAS
   * of the entry as read, to 0), then adds what it held, as a release does. With {@code subscribe}
   * (under the monitor, requests queued) it also watches each live holder's exit, so that the exit
   * pumps; without, it only asks.
   *
   * @return the permits returned
   * @throws UncheckedIOException of an InvalidRegionException (CORRUPT) for a damaged entry
   */
  private long returnDeadHoldings(boolean subscribe) {
    long returned = 0;
    for (int slot = 0; slot < HOLDER_SLOTS; slot++) {
      long entry = holders.checkedEntry(slot);
      int holder = HolderTable.pidOf(entry);
      boolean watched = subscribe && watchedPids[slot] == holder;
      if (subscribe && !watched) {
        unwatch(slot); // the entry names another process now, or none
      }
      if (entry == 0 || holder == pid || watched || holderAlive(holder, subscribe ? slot : -1)) {
        continue; // free, ours, or a live process whose exit a subscription will report
      }
      // Exited. The CAS compares pid and count with what was read before asking: if the process
      // released or acquired meanwhile (it was alive then), or the entry was freed and taken by
      // another process, it fails and the entry is left to that one. Only one recoverer wins it.
      if (holders.claim(slot, entry)) {
        int held = HolderTable.heldOf(entry);
        if (held > 0) {
          addToWord(held, false);
          returned += held;
        }
      }
    }
    if (!subscribe && returned > 0) {
      pumpIfQueued();
    }
    return returned;
  }

  /**
   * Whether holder process {@code holder} is alive; with {@code watchSlot} >= 0 it also subscribes
   * to its exit for that entry (guarded by this).
   */
  private boolean holderAlive(int holder, int watchSlot) {
    try {
      if (watchSlot < 0) {
        if (processes.isAlive(holder)) {
          return true;
        }
      } else {
        Subscription exit = processes.onExit(holder, () -> holderExited(watchSlot, holder));
        if (exit != null) {
          watchedPids[watchSlot] = holder;
          exitWatches[watchSlot] = exit;
          return true;
        }
      }
    } catch (RingException e) {
      // pidfd_open failed for another reason than "no such process" (EMFILE...): it cannot tell,
      // so keep the holding; a later sweep asks again.
      return true;
    }
    return false;
  }

  /** On the ring's completion thread: a watched holder exited; its permits may now return. */
  private void holderExited(int slot, int holder) {
    synchronized (this) {
      if (watchedPids[slot] == holder) {
        watchedPids[slot] = 0;
        exitWatches[slot] = null;
      }
    }
    pump(SemaphoreRequest.NO_DEADLINE, true);
  }

  /** Cancels the exit subscription of {@code slot}, if any; guarded by this. */
  private void unwatch(int slot) {
    Subscription exit = exitWatches[slot];
    if (exit != null) {
      exit.cancel();
      exitWatches[slot] = null;
    }
    watchedPids[slot] = 0;
  }

  /** Cancels every exit subscription (the queue emptied, or closes); guarded by this. */
  private void unwatchHolders() {
    if (holders != null) {
      for (int slot = 0; slot < HOLDER_SLOTS; slot++) {
        unwatch(slot);
      }
    }
  }

  @Override
  void closing() {
    unwatchHolders();
  }

  // ---- releasing ----

  /**
   * Gives back the permits of a grant that lost to its request's withdrawal: they were recorded as
   * this process's holding, and leave it again. Never throws: it runs inside another caller's grant
   * loop. If the region is closed the permits go with the mapping.
   */
  void giveBack(int permits) {
    if (!closed) {
      try {
        if (holders != null) {
          holders.forget(permits);
        }
        add(permits, false);
      } catch (IllegalStateException e) {
        // closed meanwhile (RegionClosedException, or the memory's arena): nothing to give back to
      } catch (UncheckedIOException corrupt) {
        // a damaged holder table: the permits still go back; the damage is reported to the next
        // caller that reads the table
        add(permits, false);
      }
    }
  }

  /**
   * Adds permits (see {@link #addToWord}) and pumps this process's queue.
   *
   * @param refuseOverflow see {@link #addToWord}
   */
  private void add(int permits, boolean refuseOverflow) {
    addToWord(permits, refuseOverflow);
    pumpIfQueued();
  }

  /**
   * Adds permits, clearing WAITERS in the same CAS, and wakes every sleeper if the bit was set. The
   * wake is a WakeSignal: it never blocks, so this may run under the monitor.
   *
   * @param refuseOverflow throw IllegalArgumentException, changing nothing, if the count would
   *     exceed MAX_PERMITS; else add what fits (a grant's give-back, or a dead holder's permits,
   *     and only when other releases filled the word meanwhile)
   */
  private void addToWord(int permits, boolean refuseOverflow) {
    int old;
    for (old = lvWord(); ; old = lvWord()) {
      int available = old & PERMITS_MASK;
      int room = MAX_PERMITS - available;
      if (permits > room && refuseOverflow) {
        throw new IllegalArgumentException(
            "releasing "
                + permits
                + " permits to semaphore '"
                + name
                + "', which has "
                + available
                + " available, would exceed the maximum of "
                + MAX_PERMITS
                + "; release fewer");
      }
      if (casWord(old, available + Math.min(permits, room))) {
        break;
      }
    }
    if ((old & WAITERS) != 0) {
      wakeAll.signal();
    }
  }

  // ---- closing ----

  /**
   * Fails every queued request and withdraws the sleeper. Releases nothing: a semaphore has no
   * owner. Wakes by direct system call: the mapping goes away next.
   */
  public void close() {
    if (closeQueue()) {
      // Stands in for a WakeSignal still queued: it would reach an unmapped word.
      Futex.wake(word, FutexRing.WAKE_ALL, FutexRing.ANY_BITSET);
    }
  }

  @Override
  String describe() {
    return "semaphore '" + name + "'";
  }

  @Override
  RuntimeException regionFault(InternalError fault) {
    return region.truncated(fault);
  }

  @Override
  String timeoutMessage(SemaphoreRequest request) {
    return describe() + ": " + request.permits + " permits were not acquired within the timeout";
  }

  private int checkPermits(int permits) {
    if (permits <= 0) {
      throw new IllegalArgumentException(
          "semaphore '" + name + "': a permit count must be positive, not " + permits);
    }
    return permits;
  }

  /**
   * The future every immediate acquire returns: completed, and shared, so its result cannot be
   * replaced.
   */
  private static final class Acquired extends CompletableFuture<Void> {
    Acquired() {
      super.complete(null);
    }

    @Override
    public void obtrudeValue(Void value) {
      throw new UnsupportedOperationException("an acquire's result cannot be replaced");
    }

    @Override
    public void obtrudeException(Throwable failure) {
      throw new UnsupportedOperationException("an acquire's result cannot be replaced");
    }
  }
}
