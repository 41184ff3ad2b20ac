package dev.ringlock.locks;

import dev.ringlock.locks.internal.ScopedFuture;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.function.Supplier;

/**
 * A read-write lock shared by every process that maps its region: any number of readers, in any
 * processes, or one writer. Created with {@link SharedRegion#readWriteMutex(String)}.
 *
 * <pre>{@code
 * ReadWriteMutex prices = region.readWriteMutex("prices");
 * prices.read().thenAccept(guard -> { try (guard) { ...read... } });
 * prices.write().thenAccept(guard -> { try (guard) { ...write, guard.fence()... } });
 * prices.withRead(() -> cache.refreshAsync());     // released when the stage completes
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
  /**
   * The name in its region.
   *
   * @return the name this lock has in its region
   */
  String name();

  /**
   * A shared hold: completes once no writer holds or has claimed the lock.
   *
   * @return a future of the read guard
   */
  CompletableFuture<ReadGuard> read();

  /**
   * As {@link #read()}, failing with {@link java.util.concurrent.TimeoutException} if not granted
   * within {@code timeout}.
   *
   * @param timeout how long to wait for the hold at most
   * @return a future of the read guard, failed with {@code TimeoutException} after {@code timeout}
   */
  CompletableFuture<ReadGuard> read(Duration timeout);

  /**
   * A shared hold if one can be had at once, without waiting.
   *
   * @return the read guard, or empty if a read hold cannot be had at once
   * @throws WriterDiedException if a writer died holding the lock and none has repaired it yet
   * @throws NotRecoverableException if the lock is not recoverable
   */
  Optional<ReadGuard> tryRead();

  /**
   * The exclusive hold: completes once no other writer and no reader holds the lock.
   *
   * @return a future of the write guard
   */
  CompletableFuture<WriteGuard> write();

  /**
   * As {@link #write()}, failing with {@link java.util.concurrent.TimeoutException} if not granted
   * within {@code timeout}; a writer that timed out while readers drained lets new readers in.
   *
   * @param timeout how long to wait for the hold at most
   * @return a future of the write guard, failed with {@code TimeoutException} after {@code timeout}
   */
  CompletableFuture<WriteGuard> write(Duration timeout);

  /**
   * The exclusive hold if it can be had at once (taking it over from a dead writer if need be).
   *
   * @return the write guard, or empty if the exclusive hold cannot be had at once
   * @throws NotRecoverableException if the lock is not recoverable
   */
  Optional<WriteGuard> tryWrite();

  /**
   * Takes a read hold, runs {@code action}, and releases the hold when the stage {@code action}
   * returns completes, however it completes (also if {@code action} throws or returns null);
   * completes with that stage's outcome. The hold is released before the returned future completes.
   * Exactly {@link Mutex#withLock(Supplier)}'s semantics, for a read hold: the form that cannot
   * leak it (docs/read-write-mutex.md in the project).
   *
   * <p>Cancelling the returned future (or its {@code orTimeout}) before the hold is granted
   * withdraws the request and {@code action} never runs; once {@code action} has started, a cancel
   * completes the returned future but the hold stays until the action's stage completes. {@code
   * action} runs on the thread that grants the hold (the caller's, a releasing thread of this
   * process, or the ring's completion thread); it should not block.
   *
   * @param action starts the work and returns the stage that completes when it is done
   * @param <T> the action's result type
   * @return a future of the action's result; it fails with {@link WriterDiedException} if a writer
   *     died holding the lock and none has repaired it yet
   */
  default <T> CompletableFuture<T> withRead(Supplier<? extends CompletionStage<T>> action) {
    return ScopedFuture.scoped(read(), action, ReadGuard::unlock, "withRead", name());
  }

  /**
   * As {@link #withRead(Supplier)}, but fails with {@link java.util.concurrent.TimeoutException}
   * (and {@code action} never runs) if the read hold is not granted within {@code timeout}.
   *
   * @param timeout how long to wait for the hold at most
   * @param action starts the work and returns the stage that completes when it is done
   * @param <T> the action's result type
   * @return a future of the action's result
   */
  default <T> CompletableFuture<T> withRead(
      Duration timeout, Supplier<? extends CompletionStage<T>> action) {
    return ScopedFuture.scoped(read(timeout), action, ReadGuard::unlock, "withRead", name());
  }

  /**
   * Takes the write hold, runs {@code action}, and releases the hold when the stage {@code action}
   * returns completes, however it completes; as {@link #withRead(Supplier)} in every other respect.
   *
   * <p>If the previous writer died holding the lock, {@code action} cannot see it and cannot call
   * {@link WriteGuard#markConsistent()}: the release then makes the lock not recoverable, as an
   * unlock without markConsistent does. Code that must repair after a writer's death uses {@link
   * #write()} and reads {@link WriteGuard#ownerDied()}.
   *
   * @param action starts the work and returns the stage that completes when it is done
   * @param <T> the action's result type
   * @return a future of the action's result
   */
  default <T> CompletableFuture<T> withWrite(Supplier<? extends CompletionStage<T>> action) {
    return ScopedFuture.scoped(write(), action, WriteGuard::unlock, "withWrite", name());
  }

  /**
   * As {@link #withWrite(Supplier)}, but fails with {@link java.util.concurrent.TimeoutException}
   * (and {@code action} never runs) if the write hold is not granted within {@code timeout}.
   *
   * @param timeout how long to wait for the hold at most
   * @param action starts the work and returns the stage that completes when it is done
   * @param <T> the action's result type
   * @return a future of the action's result
   */
  default <T> CompletableFuture<T> withWrite(
      Duration timeout, Supplier<? extends CompletionStage<T>> action) {
    return ScopedFuture.scoped(write(timeout), action, WriteGuard::unlock, "withWrite", name());
  }

  /**
   * A snapshot: the read holds in all processes.
   *
   * @return the read holds now, in every process
   */
  int readers();

  /**
   * A snapshot: whether a writer holds the lock or has claimed it and waits for readers to leave.
   *
   * @return true if a writer holds the lock or has claimed it
   */
  boolean isWriteLocked();

  /**
   * A snapshot: the pid of the writer that holds or has claimed the lock, 0 when none.
   *
   * @return the writer's process id, or 0
   */
  int writerPid();

  /**
   * A blocking view: its read and write locks are thread-owned (only the locking thread may unlock)
   * and not reentrant; {@code newCondition()} is not supported.
   *
   * @return the blocking {@code ReadWriteLock} view of this lock
   */
  ReadWriteLock asReadWriteLock();
}
