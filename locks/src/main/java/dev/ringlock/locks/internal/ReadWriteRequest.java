package dev.ringlock.locks.internal;

/**
 * A pending read or write request of a {@link ReadWriteMutexCore}; see {@link QueuedRequest}. One
 * request type for both, so that readers and writers queue in one FIFO: it completes with a {@link
 * ReadHold} or a {@link WriteHold}, and the core hands the future out typed as the caller asked.
 */
final class ReadWriteRequest extends QueuedRequest<Object, ReadWriteRequest> {
  final ReadWriteMutexCore lock;
  final boolean write;
  final long queuedAt; // System.nanoTime() when queued: a writer's age decides starvation

  ReadWriteRequest(ReadWriteMutexCore lock, boolean write, long deadline) {
    super(deadline);
    this.lock = lock;
    this.write = write;
    this.queuedAt = System.nanoTime();
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
