package dev.ringlock.core;

import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.uring.CompletionQueue;
import dev.ringlock.core.uring.IoUringAbi;
import dev.ringlock.core.uring.Prep;
import dev.ringlock.core.uring.Ring;
import dev.ringlock.core.uring.SubmissionQueue;
import dev.ringlock.core.uring.UserData;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/*
 * Overview
 *
 * The one platform thread that owns a ring. It creates the ring (so that SINGLE_ISSUER names
 * it), and it alone writes SQEs, enters the kernel and reaps CQEs. Any thread may make a
 * request; requests reach the loop through a lock-free intrusive stack of LoopRequests: an
 * operation's future (RingOp), a WakeSignal's queued wake (plain data, no future), a close. A
 * request is its own node, so it allocates nothing beyond its future, and a signal nothing.
 *
 * One iteration:
 *   1. drain: take the whole request stack with one getAndSet, restore FIFO order, and let
 *      each request act (takenBy): write its SQEs into the Submission, or an ASYNC_CANCEL, or
 *      end the loop. The loop never asks what kind a request is;
 *   2. reap: complete a future per CQE. Continuations run here, on this thread, and whatever
 *      they request (a wake in a continuation, say) is written straight into the SQ;
 *   3. enter: submit everything written in 1 and 2 with one io_uring_enter. If nothing was
 *      reaped and the stack is still empty, the loop parks instead: it submits what it wrote,
 *      swings the stack head from null to SLEEPING, arms the doorbell, and waits (submitting the
 *      doorbell's request in the same call). Submitting first is what lets a lone wake made
 *      while the head reads SLEEPING go straight to the kernel (isAsleep). That wait ends after a
 *      tick (NativeWaitTick) even with nothing to do, so that a JVM exit never waits for this
 *      thread; the loop then goes round again, its doorbell still armed.
 * So every request gathered in one iteration reaches the kernel in one system call; more only
 * when they overflow the SQ, which is then submitted and refilled.
 *
 * The request stack head is null (empty, loop awake), SLEEPING (empty, loop parked or about
 * to), CLOSED (the loop has shut down; push fails) or the newest request. The producer whose
 * CAS replaces SLEEPING is the one, and only one, that rings the doorbell; the loop swings
 * SLEEPING back to null when it wakes. A request pushed between the loop's reap and its CAS to
 * SLEEPING makes that CAS fail, so the loop cannot sleep on a non-empty stack.
 *
 * user_data indexes a slot table (RingOp[] plus a generation per slot) that grows by doubling,
 * so a completion finds its future without a map and, in steady state, without allocating.
 *
 * Closing: the close request travels through the stack like any other. The loop then swings
 * the head to CLOSED and refuses whatever was queued (a future fails, a queued wake is made by
 * system call), cancels every request it has in the kernel with ASYNC_CANCEL(ANY|ALL), and
 * reaps until none is left, because a futex wait left queued after the fd closes would swallow
 * a wake meant for a live waiter. Only then does it unmap and close the ring (docs/kernel-notes.md,
 * "Ring lifetime").
 *
 * User code runs on this thread (a future's continuations, an AbandonedWakeHandler), and while it
 * runs nothing else of the ring does. Each stretch of it is marked on `userCode`, which the
 * blocked-thread checker samples (BlockedThreadChecker); a join()/get() here of a future this loop
 * has yet to complete is refused (BackendFuture).
 */
final class CompletionLoop implements Runnable {
  static final int KIND_OPERATION = 1;
  static final int KIND_LINK_TIMEOUT = 2;
  static final int KIND_CANCEL = 3;
  static final int KIND_DOORBELL = 4;
  static final int KIND_TICK = 5;
  static final int KIND_SIGNAL = 6;

  private static final System.Logger LOG = System.getLogger(FutexRing.class.getName());
  private static final int INITIAL_SLOTS = 1024;
  private static final long CLOSE_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  private static final long CLOSE_PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(5);

  private static final VarHandle HEAD;
  private static final VarHandle COUNTER;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      HEAD = lookup.findVarHandle(CompletionLoop.class, "head", LoopRequest.class);
      COUNTER = MethodHandles.arrayElementVarHandle(long[].class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private static final LoopRequest SLEEPING = new Sentinel("SLEEPING");
  private static final LoopRequest CLOSED = new Sentinel("CLOSED");

  // counters, written by the loop thread with opaque stores and read by stats()
  static final int ENTER_CALLS = 0;
  static final int SQES_SUBMITTED = 1;
  static final int COMPLETIONS = 2;
  static final int DOORBELL_WAKEUPS = 3;
  static final int IN_FLIGHT = 4;
  static final int LARGEST_SUBMISSION = 5;
  static final int WAKES_FAILED = 6;

  private final FutexRing ring;
  private final FutexRing.Options options;
  private final Executor completionExecutor; // null: complete futures on this thread
  private final Thread thread;
  final BlockedThreadChecker.Watch userCode; // marks the user code this thread runs
  private final long[] counters = new long[7];
  final CompletableFuture<Void> started = new CompletableFuture<>();

  private volatile LoopRequest head; // null, SLEEPING, CLOSED or the newest request
  // loop thread: flushes taken from the stack, completed once the SQ is submitted (iterate)
  private final List<CompletableFuture<Void>> flushes = new ArrayList<>();
  private volatile boolean closing; // set on the loop thread when shutdown begins
  private volatile Throwable failure; // why the ring failed, if it did

  // ---- loop thread only ----
  private Ring uring;
  private SubmissionQueue sq;
  private CompletionQueue cq;
  private Doorbell doorbell;
  private Submission submission;
  private boolean closeRequested;
  private boolean getEventsOnSubmit; // DEFER_TASKRUN: completions post only under GETEVENTS
  private RingOp<?>[] slots = new RingOp<?>[INITIAL_SLOTS];
  private int[] generations = new int[INITIAL_SLOTS];
  private int[] freeSlots = new int[INITIAL_SLOTS];
  private int freeCount;
  // a sleep that the tick interrupted with nothing done: its first enter is counted when it ends
  private boolean sleepGoesOn;
  private long deferredEnters;
  private long deferredSqes;

  CompletionLoop(FutexRing ring, FutexRing.Options options, String threadName) {
    this.ring = ring;
    this.options = options;
    this.completionExecutor = options.completionExecutor();
    for (int i = 0; i < INITIAL_SLOTS; i++) {
      freeSlots[i] = INITIAL_SLOTS - 1 - i;
    }
    freeCount = INITIAL_SLOTS;
    this.thread = Thread.ofPlatform().name(threadName).daemon(true).unstarted(this);
    this.userCode = BlockedThreadChecker.watch(thread, options.blockedThreadWarning());
  }

  void start() {
    thread.start();
  }

  Thread thread() {
    return thread;
  }

  boolean inLoopThread() {
    return Thread.currentThread() == thread;
  }

  boolean isClosing() {
    return closing || head == CLOSED;
  }

  /**
   * Parked (or about to park) in io_uring_enter with nothing queued: a request would ring the
   * doorbell. Then a lone wake is cheaper as a direct system call (WakeSignal, FutexRing.wakeEach):
   * the doorbell costs the caller the same one call and adds this thread's wake-up. Never true
   * while the loop thread runs a continuation: it swings SLEEPING back to null before it reaps. And
   * never true with a request of this loop not yet in the kernel: the loop submits before its CAS
   * to SLEEPING (iterate), so a direct wake made now reaches every wait whose wait() returned
   * before it, even a wake that changes no word. A stale answer is harmless otherwise: a direct
   * wake made while the loop wakes up is merely not batched.
   */
  boolean isAsleep() {
    return head == SLEEPING;
  }

  long counter(int which) {
    return (long) COUNTER.getOpaque(counters, which);
  }

  int inFlight() {
    return (int) counter(IN_FLIGHT);
  }

  private void count(int which, long delta) {
    COUNTER.setOpaque(counters, which, counters[which] + delta);
  }

  // ---- requests from any thread ----

  /**
   * Hands {@code request} to the loop: on the loop thread it is taken at once (its SQEs join the
   * batch being built); from any other thread it goes through the stack. A request the loop will
   * never take, because it has closed, is refused.
   */
  void submit(LoopRequest request) {
    if (Thread.currentThread() == thread) {
      if (closing) {
        request.refused(failure);
      } else {
        request.takenBy(this);
      }
    } else if (!push(request)) {
      request.refused(failure);
    }
  }

  void requestClose() {
    submit(new CloseRequest());
  }

  /**
   * See FutexRing.flush: on the loop thread, submits what is prepared now; from another thread, a
   * request that the loop completes after the submission that carries everything queued before it
   * (iterate does not sleep while one is pending).
   */
  CompletableFuture<Void> flush() {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (Thread.currentThread() == thread) {
      if (!closing) {
        submitAll(); // from inside a continuation too, as a full SQ does
      }
      done.complete(null);
    } else {
      submit(new FlushRequest(done));
    }
    return done;
  }

  /**
   * Treiber push. The CAS fails only when another producer pushed, or the loop took the stack,
   * swung null to SLEEPING or back, or closed it; each retry re-reads the head, so the request's
   * next always names the head the successful CAS replaced. Replacing SLEEPING makes this producer
   * the only one to ring for that sleep: any other push now sees a request, not SLEEPING. Replacing
   * CLOSED is impossible, so nothing is pushed after the loop's final drain.
   */
  private boolean push(LoopRequest request) {
    for (; ; ) {
      LoopRequest current = head;
      if (current == CLOSED) {
        return false;
      }
      request.setNext(current == SLEEPING ? null : current);
      if (HEAD.compareAndSet(this, current, request)) {
        if (current == SLEEPING) {
          doorbell.ring();
        }
        return true;
      }
    }
  }

  // ---- for a request the loop has taken (loop thread) ----

  /** Where a request taken by the loop writes its SQEs. Loop thread. */
  Submission submission() {
    return submission;
  }

  /**
   * Writes {@code op}'s SQEs under a slot of its own, unless it was abandoned while queued: then it
   * never reaches the kernel. Loop thread.
   */
  void prepare(RingOp<?> op) {
    Submission s = submission.reserve(op.sqeCount(), op.scratchBytes());
    if (!op.casRequestState(RingOp.QUEUED, RingOp.IN_KERNEL)) {
      op.setDone(); // abandoned while queued: it never reaches the kernel
      op.dropped();
      return;
    }
    int slot = acquireSlot(op);
    long userData = UserData.encode(KIND_OPERATION, generations[slot], slot);
    op.userData = userData;
    op.prepare(s, userData);
  }

  /** Writes an ASYNC_CANCEL of the request in the kernel under {@code userData}. Loop thread. */
  void cancel(long userData) {
    Submission s = submission.reserve(1, 0);
    long sqe = s.sqe();
    Prep.asyncCancel(s.sqes(), sqe, userData, 0);
    Prep.userData(s.sqes(), sqe, UserData.encode(KIND_CANCEL, 0, 0));
  }

  // ---- for an op that completes ----

  boolean deliverOnExecutor(RingOp<?> op) {
    if (completionExecutor == null) {
      return false;
    }
    try {
      completionExecutor.execute(op);
      return true;
    } catch (RejectedExecutionException e) {
      return false; // a shut-down executor must not strand the future: complete it here
    }
  }

  void handOnConsumedWake(AbandonedWakeHandler handler, FutexWord word, int bitset) {
    boolean here = inLoopThread(); // else a caller's thread or the executor: not watched
    if (here) {
      userCode.enter();
    }
    try {
      handler.wakeConsumed(ring, word, bitset);
    } catch (RuntimeException | Error e) {
      LOG.log(System.Logger.Level.ERROR, "AbandonedWakeHandler failed for " + word, e);
    } finally {
      if (here) {
        userCode.leave();
      }
    }
  }

  RingClosedException closedException(Throwable cause) {
    return cause == null
        ? new RingClosedException("the FutexRing is closed")
        : new RingClosedException("the FutexRing failed and is closed: " + cause, cause);
  }

  // ---- the loop ----

  @Override
  public void run() {
    try {
      uring =
          Ring.setup(
              options.submissionQueueEntries(),
              options.completionQueueEntries(),
              options.setupFlagBits());
      sq = uring.submissionQueue();
      cq = uring.completionQueue();
      getEventsOnSubmit = (options.setupFlagBits() & IoUringAbi.SETUP_DEFER_TASKRUN) != 0;
      submission = new Submission(sq, this::submitAll);
      IoUringSupport.requireFutexOperations(uring);
      doorbell = Doorbell.create(options.doorbell());
      IoUringSupport.requireWorkingEnter(nopRoundTrip());
    } catch (Throwable t) {
      HEAD.setVolatile(this, CLOSED);
      if (doorbell != null) {
        doorbell.close();
      }
      if (submission != null) {
        submission.close();
      }
      if (uring != null) {
        uring.close();
      }
      started.completeExceptionally(IoUringSupport.explain(t));
      return;
    }
    started.complete(null);
    userCode.activate();
    try {
      try {
        while (!closeRequested) {
          iterate();
        }
      } catch (Throwable t) {
        failure = new RingException("the ring's completion loop failed: " + t, 0, t);
        LOG.log(System.Logger.Level.ERROR, "FutexRing completion loop failed", t);
      }
      shutdown(failure); // close() joins this thread, so it returns however shutdown ends
    } finally {
      userCode.cancel(); // after shutdown: the continuations of the futures it fails are watched
    }
  }

  private void iterate() {
    drainRequests();
    int reaped = reapCompletions();
    // A drained close request must not be followed by a sleep: nobody would ring to end it. Nor a
    // drained flush: its caller waits for this iteration's submission, not for a completion.
    boolean maySleep = reaped == 0 && !closeRequested && flushes.isEmpty();
    if (maySleep && sq.flush() > 0) {
      // Submitted before the loop reads as asleep, not by the sleeping enter: a lone wake from
      // another thread that finds it asleep goes straight to the kernel (isAsleep), and must find
      // there every wait this loop took. One enter more, only for requests that came while it
      // was awake (a doorbell's wake-up reaps the doorbell, so that iteration never sleeps).
      enter(false);
    }
    if (maySleep && sq.pending() == 0 && HEAD.compareAndSet(this, null, SLEEPING)) {
      if (TestPausePoints.HOLD_AFTER_KERNEL_RETURN) {
        TestPausePoints.beforeSleep();
      }
      doorbell.arm(submission.reserve(1, 0), UserData.encode(KIND_DOORBELL, 0, 0));
      enter(true);
      // Fails when a producer replaced SLEEPING (and rang): its request stays for the next drain.
      HEAD.compareAndSet(this, SLEEPING, null);
    } else {
      enter(false);
    }
    if (!flushes.isEmpty() && sq.pending() == 0) {
      flushes.forEach(flush -> flush.complete(null)); // everything queued before them is submitted
      flushes.clear();
    }
  }

  private void drainRequests() {
    LoopRequest list = (LoopRequest) HEAD.getAndSet(this, null);
    if (list == null || list == SLEEPING) {
      return;
    }
    LoopRequest fifo = null; // the stack is newest first; reverse it so requests keep their order
    while (list != null) {
      LoopRequest next = list.next();
      list.setNext(fifo);
      fifo = list;
      list = next;
    }
    while (fifo != null) {
      LoopRequest request = fifo;
      fifo = request.next();
      request.setNext(null); // before takenBy: a RingOp may be pushed again once it is IN_KERNEL
      request.takenBy(this);
    }
  }

  /**
   * Completes a future per CQE. The head is read afresh for every CQE, and each CQE is given back
   * before it is dispatched, because a continuation may fill the SQ and make this thread submit
   * (and, on EBUSY, reap) from inside dispatch: a stale local head would then process a CQE twice.
   */
  private int reapCompletions() {
    int reaped = 0;
    for (; ; ) {
      int next = cq.head();
      if (next == cq.tail()) {
        if (sq.completionsOverflowed()) {
          flushOverflow();
          continue;
        }
        count(COMPLETIONS, reaped);
        return reaped;
      }
      long userData = cq.userData(next);
      int result = cq.result(next);
      cq.advance(next + 1);
      dispatch(userData, result);
      reaped++;
    }
  }

  private void dispatch(long userData, int result) {
    switch (UserData.kind(userData)) {
      case KIND_OPERATION -> {
        int slot = UserData.index(userData);
        if (slot < 0 || slot >= slots.length) {
          throw new IllegalStateException(
              "CQE user_data names slot " + slot + " of " + slots.length);
        }
        RingOp<?> op = slots[slot];
        if (op == null || generations[slot] != UserData.generation(userData)) {
          throw new IllegalStateException(
              "CQE for a slot that is not in use: " + Long.toHexString(userData));
        }
        releaseSlot(slot);
        op.setDone();
        op.completed(result, closing);
      }
      case KIND_DOORBELL -> {
        count(DOORBELL_WAKEUPS, 1);
        doorbell.completed();
      }
      // only failures post (CQE_SKIP_SUCCESS): a WakeSignal's wake, wakeEach's leading wakes
      case KIND_SIGNAL -> {
        count(WAKES_FAILED, 1);
        LOG.log(
            System.Logger.Level.WARNING,
            "a fire-and-forget FUTEX_WAKE failed: " + Errno.name(-result));
      }
      default -> {} // a link timeout, a cancel or a close tick: their effect shows on the op
    }
  }

  private void flushOverflow() {
    int result = uring.enter(0, 0, IoUringAbi.ENTER_GETEVENTS);
    count(ENTER_CALLS, 1);
    if (result < 0 && result != -Errno.EINTR && result != -Errno.EAGAIN && result != -Errno.EBUSY) {
      throw new RingException("io_uring_enter (flushing overflowed completions) failed", -result);
    }
  }

  /**
   * Submits what was prepared; with {@code wait}, also sleeps until a completion arrives. One
   * io_uring_enter does both.
   */
  private void enter(boolean wait) {
    int toSubmit = sq.flush();
    if (toSubmit == 0 && !wait) {
      // Nothing to submit. Under DEFER_TASKRUN, completions waiting as task work are posted
      // by the next iteration's sleeping enter, which returns at once if there are any.
      return;
    }
    int result;
    boolean continuation = false; // re-enters a sleep that the tick interrupted, submitting nothing
    if (wait) {
      continuation = toSubmit == 0 && sleepGoesOn;
      // Bounded by a tick, so that a JVM exit never waits for this thread (NativeWaitTick)
      result = uring.enterAndWait(toSubmit, NativeWaitTick.NANOS);
      if (result == -Errno.ETIME || result >= 0 && cq.head() == cq.tail()) {
        // The tick passed and nothing completed: the sleep goes on in the next enter. Stats count
        // the whole sleep as the one call that began it, when it ends, as before there was a tick,
        // so that they do not move while the ring idles.
        if (!continuation) {
          deferredEnters++;
          deferredSqes += Math.max(0, result);
        }
        sleepGoesOn = true;
        if (result > 0) {
          noteSubmission(result);
        }
        return;
      }
    } else {
      result = uring.enter(toSubmit, 0, getEventsOnSubmit ? IoUringAbi.ENTER_GETEVENTS : 0);
    }
    sleepGoesOn = false;
    if (deferredEnters > 0) {
      count(ENTER_CALLS, deferredEnters);
      count(SQES_SUBMITTED, deferredSqes);
      deferredEnters = 0;
      deferredSqes = 0;
    }
    if (!continuation) {
      count(ENTER_CALLS, 1);
    }
    if (result >= 0) {
      count(SQES_SUBMITTED, result);
      noteSubmission(result);
      return;
    }
    switch (-result) {
      case Errno.EINTR, Errno.ETIME -> {} // a signal, or a wait timeout: just go round again
      case Errno.EAGAIN, Errno.EBUSY ->
          reapCompletions(); // make room in the kernel, retry next time
      default -> throw new RingException("io_uring_enter failed", -result);
    }
  }

  private void noteSubmission(int submitted) {
    if (submitted > counters[LARGEST_SUBMISSION]) {
      count(LARGEST_SUBMISSION, submitted - counters[LARGEST_SUBMISSION]);
    }
    if (sq.pending() == 0) {
      submission.resetScratch();
    }
  }

  /** Submits a NOP and waits for it: proves io_uring_enter works here. Returns its result. */
  private int nopRoundTrip() {
    long sqe = submission.reserve(1, 0).sqe();
    Prep.nop(sq.sqes(), sqe);
    Prep.userData(sq.sqes(), sqe, UserData.encode(KIND_TICK, 0, 0));
    int entered = uring.enter(sq.flush(), 1, IoUringAbi.ENTER_GETEVENTS);
    if (entered < 0) {
      return entered;
    }
    int next = cq.head();
    if (next == cq.tail()) {
      return -Errno.EAGAIN;
    }
    int result = cq.result(next);
    cq.advance(next + 1);
    return result;
  }

  /** Submits until the SQ is empty; used when it is full mid-iteration. */
  private void submitAll() {
    int spins = 0;
    while (sq.flush() > 0) {
      enter(false);
      if (sq.pending() > 0 && ++spins > 1000) {
        Thread.yield();
      }
    }
    submission.resetScratch();
  }

  // ---- the slot table ----

  private int acquireSlot(RingOp<?> op) {
    if (freeCount == 0) {
      growSlots();
    }
    int slot = freeSlots[--freeCount];
    slots[slot] = op;
    count(IN_FLIGHT, 1);
    return slot;
  }

  private void releaseSlot(int slot) {
    slots[slot] = null;
    generations[slot] = (generations[slot] + 1) & UserData.GENERATION_MASK;
    freeSlots[freeCount++] = slot;
    count(IN_FLIGHT, -1);
  }

  private void growSlots() {
    int old = slots.length;
    int grown = old * 2;
    slots = Arrays.copyOf(slots, grown);
    generations = Arrays.copyOf(generations, grown);
    freeSlots = Arrays.copyOf(freeSlots, grown);
    for (int i = grown - 1; i >= old; i--) {
      freeSlots[freeCount++] = i;
    }
  }

  // ---- shutdown ----

  private void shutdown(Throwable cause) {
    closing = true;
    // After this swap every push fails (and fails its op), so the list taken here is the last
    // set of requests that can reach the loop: none is stranded between a push and a drain.
    LoopRequest queued = (LoopRequest) HEAD.getAndSet(this, CLOSED);
    for (LoopRequest request = queued; request != null && request != SLEEPING; ) {
      LoopRequest next = request.next();
      request.setNext(null);
      request.refused(cause);
      request = next;
    }
    try {
      cancelEverythingInKernel();
    } catch (Throwable t) {
      LOG.log(System.Logger.Level.ERROR, "FutexRing could not cancel its pending requests", t);
    }
    for (int slot = 0; slot < slots.length; slot++) {
      RingOp<?> op = slots[slot];
      if (op != null) { // not cancelled in time: the kernel cancels it when the fd closes
        releaseSlot(slot);
        op.failClosed(cause);
      }
    }
    uring.close();
    doorbell.close();
    submission.close();
    flushes.forEach(flush -> flush.complete(null)); // what they waited for was made or cancelled
    flushes.clear();
  }

  /**
   * ASYNC_CANCEL(ANY|ALL) removes every futex wait and poll from the kernel; reap until their CQEs
   * are in. A TIMEOUT tick bounds each wait, and the whole wait is bounded too.
   */
  private void cancelEverythingInKernel() {
    long deadline = System.nanoTime() + CLOSE_PATIENCE_NANOS;
    while ((counters[IN_FLIGHT] > 0 || doorbell.armed()) && System.nanoTime() < deadline) {
      Submission s = submission.reserve(2, Submission.TIMESPEC_BYTES);
      long cancel = s.sqe();
      Prep.asyncCancel(
          s.sqes(), cancel, 0L, IoUringAbi.ASYNC_CANCEL_ANY | IoUringAbi.ASYNC_CANCEL_ALL);
      Prep.userData(s.sqes(), cancel, UserData.encode(KIND_CANCEL, 0, 0));
      s.timeout(UserData.encode(KIND_TICK, 0, 0), CLOSE_TICK_NANOS);
      enter(true);
      reapCompletions();
    }
  }

  /** The SLEEPING and CLOSED heads of the request stack: never a node, so never taken. */
  private static final class Sentinel implements LoopRequest {
    private final String name;

    Sentinel(String name) {
      this.name = name;
    }

    @Override
    public LoopRequest next() {
      return null;
    }

    @Override
    public void setNext(LoopRequest next) {
      throw new AssertionError(name + " is never pushed");
    }

    @Override
    public void takenBy(CompletionLoop loop) {
      throw new AssertionError(name + " is never taken");
    }

    @Override
    public void refused(Throwable cause) {
      throw new AssertionError(name + " is never refused");
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /** A flush (FutexRing.flush) carried through the stack: completed after the next submission. */
  private static final class FlushRequest extends LinkedRequest {
    private final CompletableFuture<Void> done;

    FlushRequest(CompletableFuture<Void> done) {
      this.done = done;
    }

    @Override
    public void takenBy(CompletionLoop loop) {
      loop.flushes.add(done);
    }

    @Override
    public void refused(Throwable cause) {
      done.complete(null); // closing: queued wakes are made by system calls (WakeSignal)
    }
  }

  /** A close carried through the stack, so that it wakes a sleeping loop like any request. */
  private static final class CloseRequest extends LinkedRequest {

    @Override
    public void takenBy(CompletionLoop loop) {
      loop.closeRequested = true;
    }

    @Override
    public void refused(Throwable cause) {} // already closed
  }
}
