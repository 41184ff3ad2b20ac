package dev.ringlock.locks.internal;

import dev.ringlock.locks.ReadGuard;

/*
 * Overview
 *
 * One shared hold of a read-write mutex, counted in its view's reader record (one per view:
 * closing the view gives back the whole record, so nothing else counts it). Released is claimed
 * once, under this hold's monitor, so that of two threads that unlock one hold at once (or an
 * unlock racing a try-with-resources close), exactly one gives the hold back: a second subtraction
 * from the record would take a hold that another thread of this view has, which no check of the
 * record can tell apart (the record counts holds, not acquisitions).
 *
 * Why a monitor and not a compare-and-set on a field: C2 removes the monitor of an object that does
 * not escape the compiled method (escape analysis's lock elimination) and then scalar-replaces the
 * object, where a compare-and-set on a field keeps the object allocated and the locked instruction
 * made. A hold that does not escape is one no other thread can reach, so there is nobody to race,
 * and that is exactly when the JIT drops the claim: a caller that inlines read().join() ...
 * unlock() (the blocking style, try (ReadGuard g = lock.read().join()) { ... }) makes two locked
 * instructions, the record's getAndAdd and its compare-and-set, and allocates nothing. Where the
 * hold escapes (a continuation, a field, another thread), the monitor is real: entering and
 * leaving it are a compare-and-set each on the object's header, one locked instruction more than
 * the compare-and-set claim made (docs/read-write-mutex.md, "What a read costs", measures both).
 * The monitor is held for the flag's test and store only, never across the release or a wait (a
 * caller that synchronizes on a guard itself only delays that guard's unlock by other threads).
 *
 * Why the claim is not merged into the record's compare-and-set: deciding which of two racing
 * unlocks releases is consensus between them, which needs an atomic read-modify-write (or a lock)
 * on something only this hold owns. The record is shared by every hold of the view: a plain flag
 * beside it cannot tell the second unlock from an unrelated release that changed the record (both
 * see the flag they or their twin wrote, and both compare-and-sets can succeed one after the
 * other). A per-hold mark inside the record (a bit per hold, or a generation) runs out of bits,
 * and then an unlock stalled before its compare-and-set releases a newer hold (ABA).
 *
 * As the mutex's Guard it is not its own future. An uncontended read() returns an AcquiredFuture
 * carrying it: completed with one volatile store, where completing a self-completing hold is a
 * compare-and-set (the only way a subclass can set a CompletableFuture's result), and answering
 * join() from a final field, through which the hold does not escape (AcquiredFuture's overview).
 * unlock() compiled with its release inlined stays under C2's InlineSmallCode, so a caller inlines
 * it (ReaderRecords.leaveRead keeps its retries out of line for that); read() must be inlined too,
 * and is, being small, once its caller is hot.
 */
/** One shared hold of a read-write mutex; see the overview in the source. */
final class ReadHold implements ReadGuard {
  private final ReadWriteMutexCore lock;
  private boolean released; // under this hold's monitor

  ReadHold(ReadWriteMutexCore lock) {
    this.lock = lock;
  }

  /** The lock this holds (a contended acquisition's record checks what it was granted). */
  ReadWriteMutexCore lock() {
    return lock;
  }

  @Override
  public void unlock() {
    if (!claimRelease()) {
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
    if (claimRelease()) {
      lock.releaseRead();
    }
  }

  /** True for the one caller that releases this hold (the overview says why a monitor). */
  private boolean claimRelease() {
    synchronized (this) {
      if (released) {
        return false;
      }
      released = true;
      return true;
    }
  }

  @Override
  public synchronized String toString() {
    return "ReadGuard[" + lock.name() + (released ? ", released" : "") + "]";
  }
}
