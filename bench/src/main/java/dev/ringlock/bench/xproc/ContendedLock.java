package dev.ringlock.bench.xproc;

import java.io.IOException;

/**
 * One cross-process lock under test, as a loop child drives it: {@link #lock}, critical section,
 * {@link #unlock}, from one thread. Each child runs one implementation, so the calls stay
 * monomorphic.
 *
 * <p>{@code lock()} returns what its {@code unlock} needs (a ringlock guard, a {@code FileLock}),
 * and the caller keeps it in a local, as code using the lock would ({@code try (MutexGuard g =
 * mutex.lock().join()) { ... }}). A field of the lock object would make the JIT allocate every
 * ringlock guard, since a guard stored in a field escapes; kept in a local and inlined, it is
 * scalar-replaced (bench/README.md, session 12). C's {@code pthread_mutex_lock} has no object to
 * carry.
 *
 * @param <H> what {@code lock()} returns and {@code unlock} takes back
 */
interface ContendedLock<H> extends AutoCloseable {
  H lock() throws IOException;

  void unlock(H hold) throws IOException;

  /** Releases what the lock needs; a lock still held by this process is released by the close. */
  @Override
  void close() throws IOException;
}
