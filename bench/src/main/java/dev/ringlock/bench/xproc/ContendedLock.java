package dev.ringlock.bench.xproc;

import java.io.IOException;

/**
 * One cross-process lock under test, as a loop child drives it: {@link #lock}, critical section,
 * {@link #unlock}, from one thread. Each child runs one implementation, so the calls stay
 * monomorphic.
 */
interface ContendedLock extends AutoCloseable {
  void lock() throws IOException;

  void unlock() throws IOException;

  @Override
  void close() throws IOException;
}
