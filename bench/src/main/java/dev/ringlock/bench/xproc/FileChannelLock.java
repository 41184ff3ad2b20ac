package dev.ringlock.bench.xproc;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;

/**
 * Java's standard cross-process lock: {@link FileChannel#lock()} on the whole control file (an
 * fcntl F_SETLKW record lock on Linux). The channel is the control file's own, so no second
 * descriptor of the file exists whose close would drop the lock (an fcntl pitfall).
 */
final class FileChannelLock implements ContendedLock {
  private final FileChannel channel;
  private FileLock held; // null when not held

  FileChannelLock(FileChannel channel) {
    this.channel = channel;
  }

  @Override
  public void lock() throws IOException {
    held = channel.lock();
  }

  @Override
  public void unlock() throws IOException {
    held.release();
    held = null;
  }

  @Override
  public void close() throws IOException {
    if (held != null) {
      unlock();
    }
  }
}
