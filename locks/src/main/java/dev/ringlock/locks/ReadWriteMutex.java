package dev.ringlock.locks;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReadWriteLock;

/**
 * A read-write lock shared by every process that maps its region: any number of readers, in any
 * processes, or one writer. Created with {@link SharedRegion#readWriteMutex(String)}.
 *
 * <pre>{@code
 * ReadWriteMutex prices = region.readWriteMutex("prices");
 * prices.read().thenAccept(guard -> { try (guard) { ...read... } });
 * prices.write().thenAccept(guard -> { try (guard) { ...write, guard.fence()... } });
 * }</pre>
 *
 * <p><b>Fairness (docs/read-write-mutex.md).</b> A writer that has claimed the lock keeps new
 * readers out, so it waits only for the readers already inside. A reader kept out by a writer marks
 * its process as waiting, and no new writer may claim the lock until that process's readers have
 * entered: a reader waits for at most the writer holding when it came plus one more.
 *
 * <p><b>Owner death.</b> A reader that dies holding is released silently: readers change nothing. A
 * writer that dies holding is taken over by the next writer, whose guard reports {@link
 * WriteGuard#ownerDied()}; until then every read fails with {@link WriterDiedException}, so no
 * reader sees the half-written state unknowingly. Unlocking a takeover without {@link
 * WriteGuard#markConsistent()} makes the lock not recoverable ({@link NotRecoverableException}).
 *
 * <p>Cancelling a pending future, or its timeout, withdraws the request and never leaks a hold: a
 * writer that was waiting for readers to leave lets new readers in again. Closing the region
 * releases the holds of this process.
 */
public interface ReadWriteMutex {
  /** The name in its region. */
  String name();

  /** A shared hold: completes once no writer holds or has claimed the lock. */
  CompletableFuture<ReadGuard> read();

  /**
   * As {@link #read()}, failing with {@link java.util.concurrent.TimeoutException} if not granted
   * within {@code timeout}.
   */
  CompletableFuture<ReadGuard> read(Duration timeout);

  /**
   * A shared hold if one can be had at once, without waiting.
   *
   * @throws WriterDiedException if a writer died holding the lock and none has repaired it yet
   * @throws NotRecoverableException if the lock is not recoverable
   */
  Optional<ReadGuard> tryRead();

  /** The exclusive hold: completes once no other writer and no reader holds the lock. */
  CompletableFuture<WriteGuard> write();

  /**
   * As {@link #write()}, failing with {@link java.util.concurrent.TimeoutException} if not granted
   * within {@code timeout}; a writer that timed out while readers drained lets new readers in.
   */
  CompletableFuture<WriteGuard> write(Duration timeout);

  /**
   * The exclusive hold if it can be had at once (taking it over from a dead writer if need be).
   *
   * @throws NotRecoverableException if the lock is not recoverable
   */
  Optional<WriteGuard> tryWrite();

  /** A snapshot: the read holds in all processes. */
  int readers();

  /**
   * A snapshot: whether a writer holds the lock or has claimed it and waits for readers to leave.
   */
  boolean isWriteLocked();

  /** A snapshot: the pid of the writer that holds or has claimed the lock, 0 when none. */
  int writerPid();

  /**
   * A blocking view: its read and write locks are thread-owned (only the locking thread may unlock)
   * and not reentrant; {@code newCondition()} is not supported.
   */
  ReadWriteLock asReadWriteLock();
}
