package dev.ringlock.bench.xproc;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;

/**
 * Java's standard cross-process lock: {@link FileChannel#lock()} on the whole control file (an
 * fcntl F_SETLKW record lock on Linux). The channel is the control file's own, so no second
 * descriptor of the file exists whose close would drop the lock (an fcntl pitfall).
 */
final class FileChannelLock implements ContendedLock<FileLock> {
  private final FileChannel channel;

  FileChannelLock(FileChannel channel) {
    this.channel = channel;
  }

  @Override
  public FileLock lock() throws IOException {
    return channel.lock();
  }

  @Override
  public void unlock(FileLock hold) throws IOException {
    hold.release();
  }

  /** Nothing to do: closing the control file's channel releases a lock this process holds. */
  @Override
  public void close() {}
}
