package dev.ringlock.locks.internal;

import dev.ringlock.core.FutexRing;
import dev.ringlock.locks.internal.jfr.ContendedAcquisitionEvent;
import dev.ringlock.locks.internal.jfr.LockEvents;

/**
 * A pending read or write request of a {@link ReadWriteMutexCore}; see {@link QueuedRequest}. One
 * request type for both, so that readers and writers queue in one FIFO: it completes with a {@link
 * ReadHold} or a {@link WriteHold}, and the core hands the future out typed as the caller asked.
 */
final class ReadWriteRequest extends QueuedRequest<Object, ReadWriteRequest> {
  final ReadWriteMutexCore lock;
  final boolean write;
  final long queuedAt; // System.nanoTime() when queued: a writer's age decides starvation

  /** {@code timeoutNanos}: the caller's time limit, for the timeout message; -1 if none. */
  ReadWriteRequest(ReadWriteMutexCore lock, boolean write, long deadline, long timeoutNanos) {
    super(deadline, timeoutNanos);
    this.lock = lock;
    this.write = write;
    this.queuedAt = System.nanoTime();
    ContendedAcquisitionEvent event =
        LockEvents.beginContended(
            lock.name(), ObjectType.name(ObjectType.READ_WRITE_MUTEX), write ? "write" : "read", 0);
    if (event != null) {
      // the writer, or a writer's pending claim, that the request queued behind; 0: readers only
      event.ownerPidAtStart = ReadWriteMutexDescriptor.writerOf(lock.words.lvWord());
    }
    timeContention(event);
  }

  @Override
  void recordGrant(ContendedAcquisitionEvent event, Object hold) {
    if (hold instanceof WriteHold writeHold && writeHold.lock() == lock) {
      event.granted(writeHold.fence(), writeHold.ownerDied());
    } else if (hold instanceof ReadHold readHold && readHold.lock() == lock) {
      event.granted(0, false);
    }
  }

  /** A read is counted as an acquisition; a write is counted by the fence it draws. */
  @Override
  void countGrant(long waitedNanos, Object hold) {
    lock.stats.contendedGrant(waitedNanos, !write);
  }

  /** A thread blocked in join() may run the queue's kernel wait (QueuedPrimitive.joinHere). */
  @Override
  QueuedPrimitive<ReadWriteRequest> primitive() {
    return lock;
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
