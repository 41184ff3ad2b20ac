package dev.ringlock.locks;

/**
 * A process could not read a {@link ReadWriteMutex} because every one of its reader records (one
 * per reading process, {@code ReadWriteMutexDescriptor.READER_SLOTS}) belongs to another live
 * process. A record is freed when its process closes the region or dies; retry later, or spread the
 * readers over fewer processes.
 */
public final class ReaderSlotsFullException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /**
   * Says which lock has no reader record left.
   *
   * @param message which lock, in which region, and what to do
   */
  public ReaderSlotsFullException(String message) {
    super(message);
  }
}
