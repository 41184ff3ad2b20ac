package dev.ringlock.locks.internal;

import dev.ringlock.locks.ReadGuard;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/*
 * Overview
 *
 * One shared hold of a read-write mutex, counted in its view's reader record (one per view:
 * closing the view gives back the whole record, so nothing else counts it). Released is claimed
 * with a compare-and-set, so that of two threads that unlock one hold at once (or an unlock racing
 * a try-with-resources close), exactly one gives the hold back: a second subtraction from the
 * record would take a hold that another thread of this view has, which no check of the record can
 * tell apart (the record counts holds, not acquisitions).
 *
 * Why the claim is not merged into the record's compare-and-set: deciding which of two racing
 * unlocks releases is consensus between them, which needs an atomic read-modify-write on something
 * only this hold owns. The record's is shared by every hold of the view: a plain flag beside it
 * cannot tell the second unlock from an unrelated release that changed the record (both see the
 * flag they or their twin wrote, and both compare-and-sets can succeed one after the other). A
 * per-hold mark inside the record (a bit per hold, or a generation) runs out of bits, and then an
 * unlock stalled before its compare-and-set releases a newer hold (ABA). So the claim stays: three
 * atomic instructions per read and unlock (docs/read-write-mutex.md, "What a read costs").
 *
 * As the mutex's Guard it is not its own future. An uncontended read() returns an AcquiredFuture
 * carrying it: completed with one volatile store, where completing a self-completing hold is a
 * compare-and-set (the only way a subclass can set a CompletableFuture's result), and answering
 * join() from a final field, through which the hold does not escape (AcquiredFuture's overview).
 * unlock() compiled with its release inlined stays under C2's InlineSmallCode, so a caller inlines
 * it (ReaderRecords.leaveRead keeps its retries out of line for that).
 */
/** One shared hold of a read-write mutex; see the overview in the source. */
final class ReadHold implements ReadGuard {
  private static final VarHandle RELEASED;

  static {
    try {
      RELEASED = MethodHandles.lookup().findVarHandle(ReadHold.class, "released", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final ReadWriteMutexCore lock;
  private volatile boolean released;

  ReadHold(ReadWriteMutexCore lock) {
    this.lock = lock;
  }

  /** The lock this holds (a contended acquisition's record checks what it was granted). */
  ReadWriteMutexCore lock() {
    return lock;
  }

  @Override
  public void unlock() {
    if (!RELEASED.compareAndSet(this, false, true)) {
      throw new IllegalStateException(
          "this read guard of read-write mutex '" + lock.name() + "' was already unlocked");
    }
    lock.releaseRead();
  }

  /**
   * As unlock(), but a no-op once this guard was released: AutoCloseable asks close() to be
   * idempotent, so {@code try (guard) { ...; guard.unlock(); }} must not throw at the closing
   * brace. The claim is the one unlock() makes, so a close racing an unlock releases once.
   */
  @Override
  public void close() {
    if (RELEASED.compareAndSet(this, false, true)) {
      lock.releaseRead();
    }
  }

  @Override
  public String toString() {
    return "ReadGuard[" + lock.name() + (released ? ", released" : "") + "]";
  }
}
