package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.ObjectStatsDescriptor.ACQUISITIONS_OFFSET;
import static dev.ringlock.locks.internal.ObjectStatsDescriptor.CONTENDED_OFFSET;
import static dev.ringlock.locks.internal.ObjectStatsDescriptor.RECOVERED_OFFSET;
import static dev.ringlock.locks.internal.ObjectStatsDescriptor.RESCUED_OFFSET;
import static dev.ringlock.locks.internal.ObjectStatsDescriptor.SIZE;
import static dev.ringlock.locks.internal.ObjectStatsDescriptor.TAKEOVERS_OFFSET;
import static dev.ringlock.locks.internal.ObjectStatsDescriptor.WAIT_NANOS_OFFSET;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/*
 * Overview
 *
 * One object's counters in its region (ObjectStatsDescriptor's line), as one process's view of
 * that object writes and reads them. Every process adds to the same line, so the totals are the
 * sum over every process that ever used the object; they live as long as the file.
 *
 * Cost. Nothing here is on an uncontended path except countFastAcquisition, which is a plain
 * (opaque) increment of a field of this view, no atomic: every PUBLISH_EVERY-th call, and at every
 * contended grant and close, the view adds what it counted to the region with one atomic add (so
 * a fast acquisition costs an opaque load and store, and 1/PUBLISH_EVERY of an atomic add). Two
 * threads of one process that count at the same instant may lose an increment to each other
 * (a racy read-modify-write), so this count is approximate, and behind by at most PUBLISH_EVERY - 1
 * per process until that process's next publish. The mutex counts every acquisition this way
 * (MutexCore.newGuard; its fence also moves on release, so it counts nothing one to one), while
 * the read-write mutex's fence counts its writes exactly.
 *
 * Every other counter is written on a path that has already queued, slept or repaired: a
 * volatile read, then an atomic add (getAndAdd), exact. Except a mutex's grants
 * (countContendedInView): an in-process handoff is on the async contended path, where three
 * atomic adds on the mapped line cost more than the handoff's own decision; so a grant adds to
 * two heap atomics of this view, and the view adds them (and its fast acquisitions) to the region
 * when the mutex's queue empties, every PUBLISH_EVERY grants, and at close. Exact, since the heap
 * counters are taken with getAndSet, only later: while a queue stays long, the region lags by
 * fewer than PUBLISH_EVERY grants.
 *
 * Distrust and faults. The counters are only summed and shown: never an index, a length or a
 * decision, so a wrapped or planted value is harmless. Each add reads the counter first: on a
 * mapping whose file shrank an atomic add kills the JVM with SIGBUS where a read throws
 * InternalError (docs/validation.md, the CAS audit). A counter is diagnostics, so that fault is
 * swallowed here: the next access of the object's word reports the truncation (TRUNCATED).
 */
/** One object's counters in a region, by access mode. */
public final class ObjectStats {
  /** A view publishes its count of fast acquisitions to the region at least this often. */
  public static final int PUBLISH_EVERY = 256;

  private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
  private static final VarHandle UNPUBLISHED;
  private static final VarHandle CONTENDED_HERE;
  private static final VarHandle WAITED_HERE;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      UNPUBLISHED = lookup.findVarHandle(ObjectStats.class, "unpublished", long.class);
      CONTENDED_HERE = lookup.findVarHandle(ObjectStats.class, "contendedHere", long.class);
      WAITED_HERE = lookup.findVarHandle(ObjectStats.class, "waitedHere", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final MemorySegment line; // exactly the stats line

  // Fast acquisitions counted by this view and not yet added to the region: opaque accesses,
  // racy between this view's threads (an increment may be lost: the count is approximate).
  @SuppressWarnings("unused") // through UNPUBLISHED
  private long unpublished;

  // A mutex's grants counted by this view and not yet added to the region (countContendedInView):
  // heap atomics, exact; taken with getAndSet by publish.
  @SuppressWarnings("unused") // through CONTENDED_HERE
  private long contendedHere;

  @SuppressWarnings("unused") // through WAITED_HERE
  private long waitedHere;

  /**
   * @param region the mapped region (or any segment holding the line)
   * @param offset where the stats line starts in it (64-byte aligned)
   * @throws IndexOutOfBoundsException if the line does not fit in {@code region}
   */
  public ObjectStats(MemorySegment region, long offset) {
    this.line = region.asSlice(offset, SIZE);
  }

  // ---- writers ----

  /**
   * An acquisition granted on the uncontended path: counted in this view, published in batches (see
   * the overview). No atomic.
   */
  void countFastAcquisition() {
    long counted = (long) UNPUBLISHED.getOpaque(this) + 1;
    if (counted >= PUBLISH_EVERY) {
      UNPUBLISHED.setOpaque(this, 0L);
      add(ACQUISITIONS_OFFSET, counted);
    } else {
      UNPUBLISHED.setOpaque(this, counted);
    }
  }

  /**
   * Adds what this view counted to the region now (its fast acquisitions, and a mutex's grants
   * counted in the view): at a slow event, when a mutex's queue empties, or close.
   */
  void publish() {
    long counted = (long) UNPUBLISHED.getOpaque(this);
    if (counted != 0) {
      UNPUBLISHED.setOpaque(this, 0L);
      add(ACQUISITIONS_OFFSET, counted);
    }
    if ((long) CONTENDED_HERE.getOpaque(this) != 0) {
      add(CONTENDED_OFFSET, (long) CONTENDED_HERE.getAndSet(this, 0L));
      add(WAIT_NANOS_OFFSET, (long) WAITED_HERE.getAndSet(this, 0L));
    }
  }

  /**
   * A mutex's queued request was granted after {@code waitedNanos}: counted in this view with two
   * heap atomics, for publish to add (see the overview). True when PUBLISH_EVERY grants wait to be
   * published: the caller publishes then.
   */
  boolean countContendedInView(long waitedNanos) {
    WAITED_HERE.getAndAdd(this, Math.max(0, waitedNanos));
    return (long) CONTENDED_HERE.getAndAdd(this, 1L) + 1 >= PUBLISH_EVERY;
  }

  /**
   * A request that queued was granted after {@code waitedNanos}.
   *
   * @param countAcquisition also count it as an acquisition (not for a mutex, whose guard counted
   *     it, or a writer, whose fence counts it)
   */
  void contendedGrant(long waitedNanos, boolean countAcquisition) {
    add(CONTENDED_OFFSET, 1);
    add(WAIT_NANOS_OFFSET, Math.max(0, waitedNanos));
    if (countAcquisition) {
      add(ACQUISITIONS_OFFSET, 1 + (long) UNPUBLISHED.getAndSet(this, 0L));
    }
  }

  /** Acquisitions counted on a slow path (a wait queue's waits): added now, exactly. */
  void countAcquisitions(long n) {
    add(ACQUISITIONS_OFFSET, n);
  }

  /** {@code n} owner deaths taken over (mutex, writer), or dead waiters' slots reclaimed. */
  void countTakeovers(long n) {
    add(TAKEOVERS_OFFSET, n);
  }

  /** {@code n} permits recovered from dead holders, or read holds dropped with a dead reader. */
  void countRecovered(long n) {
    add(RECOVERED_OFFSET, n);
  }

  /**
   * A kernel wait on the object's word timed out at the re-check (Sleeper.RECHECK_MILLIS) and its
   * owner then found what it waited for: a wake that never came. For the Sleeper's path.
   */
  public void countRescuedWait() {
    add(RESCUED_OFFSET, 1);
  }

  private void add(long at, long n) {
    try {
      LONG.getVolatile(line, at); // faults catchably on a shrunk file, where the add would not
      LONG.getAndAdd(line, at, n);
    } catch (InternalError fault) {
      // the file shrank under the mapping: a counter is diagnostics; the word's next access
      // reports TRUNCATED
    }
  }

  // ---- readers: acquire loads; any value is possible and only shown ----

  /**
   * @return acquisitions published to the region (semaphore acquires, reads, waits)
   */
  public long laAcquisitions() {
    return (long) LONG.getAcquire(line, ACQUISITIONS_OFFSET);
  }

  /**
   * @return acquisitions that queued and were granted
   */
  public long laContended() {
    return (long) LONG.getAcquire(line, CONTENDED_OFFSET);
  }

  /**
   * @return the nanoseconds the contended acquisitions waited, in total
   */
  public long laWaitNanos() {
    return (long) LONG.getAcquire(line, WAIT_NANOS_OFFSET);
  }

  /**
   * @return owner deaths taken over, or dead waiters' slots reclaimed
   */
  public long laTakeovers() {
    return (long) LONG.getAcquire(line, TAKEOVERS_OFFSET);
  }

  /**
   * @return permits or read holds recovered from dead processes
   */
  public long laRecovered() {
    return (long) LONG.getAcquire(line, RECOVERED_OFFSET);
  }

  /**
   * @return kernel waits rescued by the re-check
   */
  public long laRescued() {
    return (long) LONG.getAcquire(line, RESCUED_OFFSET);
  }

  /** A plain store: for a test that plants a state, never for the protocol. */
  public void spCounter(long offset, long value) {
    line.set(ValueLayout.JAVA_LONG, offset, value);
  }
}
