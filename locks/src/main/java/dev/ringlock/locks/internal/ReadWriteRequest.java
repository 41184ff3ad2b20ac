package dev.ringlock.locks.internal;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.internal.jfr.ContendedAcquisitionEvent;
import dev.ringlock.locks.internal.jfr.LockEvents;

/**
 * A pending read or write request of a {@link ReadWriteMutexCore}; see {@link QueuedRequest}. One
 * request type for both, so that readers and writers queue in one FIFO: it completes with a {@link
 * ReadHold} or a {@link WriteHold}, and the core hands the future out typed as the caller asked.
 */
final class ReadWriteRequest extends QueuedRequest<Object, ReadWriteRequest>
    implements ContendedRequest {
  final ReadWriteMutexCore lock;
  final boolean write;
  final long queuedAt; // System.nanoTime() when queued: a writer's age decides starvation

  // The JFR event timing this wait; null unless a recording enabled it when the request was made
  private final ContendedAcquisitionEvent contention;
  private boolean leftQueue; // written under the lock's monitor, read by the granting thread

  /** {@code timeoutNanos}: the caller's time limit, for the timeout message; -1 if none. */
  ReadWriteRequest(ReadWriteMutexCore lock, boolean write, long deadline, long timeoutNanos) {
    super(deadline, timeoutNanos);
    this.lock = lock;
    this.write = write;
    this.queuedAt = System.nanoTime();
    this.contention =
        LockEvents.beginContended(
            lock.name(), ObjectType.name(ObjectType.READ_WRITE_MUTEX), write ? "write" : "read", 0);
    if (contention != null) {
      // the writer, or a writer's pending claim, that the request queued behind; 0: readers only
      contention.ownerPidAtStart = ReadWriteMutexDescriptor.writerOf(lock.words.lvWord());
      whenComplete(this::completed);
    }
  }

  @Override
  public void leftQueue() {
    if (contention != null) {
      contention.end();
      leftQueue = true;
    }
  }

  /**
   * Commits the contended acquisition if this request was granted: it left the queue first, and
   * completed with a hold of this lock (a caller's complete() withdraws it only after its
   * continuations, this one among them, have run; so it finds leftQueue unset).
   */
  private void completed(Object hold, Throwable failure) {
    if (failure != null || !leftQueue) {
      return;
    }
    if (hold instanceof WriteHold writeHold && writeHold.lock() == lock) {
      contention.granted(writeHold.fence(), writeHold.ownerDied());
    } else if (hold instanceof ReadHold readHold && readHold.lock() == lock) {
      contention.granted(0, false);
    }
  }

  @Override
  FutexRing boundRing() {
    return lock.sleeper.ring();
  }

  @Override
  String refusalName() {
    return "a " + (write ? "write" : "read") + " request of read-write mutex '" + lock.name() + "'";
  }

  @Override
  void withdrawn() {
    try {
      lock.withdraw(this);
    } catch (InternalError fault) {
      // the file shrank under the mapping: fail what is queued (TRUNCATED); never throw from the
      // caller's cancel or timeout
      lock.regionFaulted(fault);
    }
  }

  /** A hold granted to a request withdrawn meanwhile must not stay with nobody: release it. */
  @Override
  void grantLost(Object hold) {
    try {
      if (hold instanceof WriteHold writeHold) {
        writeHold.unlock();
      } else {
        ((ReadHold) hold).unlock();
      }
    } catch (dev.ringlock.locks.RegionClosedException e) {
      // closing the region released the hold already
    }
  }
}
