package dev.ringlock.locks.internal;

import dev.ringlock.locks.ReadGuard;
import dev.ringlock.locks.WriteGuard;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The blocking {@link ReadWriteLock} view of a read-write mutex. Each side blocks the calling
 * thread on the request's future (a virtual thread unmounts rather than pins) and remembers which
 * threads hold it, so only a holding thread may unlock (IllegalMonitorStateException otherwise).
 * Neither side is reentrant: a thread that asks again for what it holds, or for the write lock
 * while it reads (or the reverse), would wait for itself, and is refused with
 * IllegalStateException.
 */
final class BlockingReadWriteLock implements ReadWriteLock {
  private final Side<ReadGuard> readLock;
  private final Side<WriteGuard> writeLock;

  BlockingReadWriteLock(ReadWriteMutexCore lock) {
    this.readLock =
        new Side<>(lock, "read", lock::read, lock::read, lock::tryRead, ReadGuard::unlock);
    this.writeLock =
        new Side<>(lock, "write", lock::write, lock::write, lock::tryWrite, WriteGuard::unlock);
    readLock.other = writeLock;
    writeLock.other = readLock;
  }

  @Override
  public Lock readLock() {
    return readLock;
  }

  @Override
  public Lock writeLock() {
    return writeLock;
  }

  private static final class Side<G> implements Lock {
    private final ReadWriteMutexCore lock;
    private final String kind;
    private final Supplier<CompletableFuture<G>> acquire;
    private final Function<Duration, CompletableFuture<G>> acquireWithin;
    private final Supplier<Optional<G>> tryAcquire;
    private final Consumer<G> release;
    private final ConcurrentHashMap<Thread, G> holders = new ConcurrentHashMap<>();
    private Side<?> other; // set once, before the view is published

    Side(
        ReadWriteMutexCore lock,
        String kind,
        Supplier<CompletableFuture<G>> acquire,
        Function<Duration, CompletableFuture<G>> acquireWithin,
        Supplier<Optional<G>> tryAcquire,
        Consumer<G> release) {
      this.lock = lock;
      this.kind = kind;
      this.acquire = acquire;
      this.acquireWithin = acquireWithin;
      this.tryAcquire = tryAcquire;
      this.release = release;
    }

    @Override
    public void lock() {
      checkNotHeldHere();
      boolean interrupted = false;
      CompletableFuture<G> request = acquire.get();
      for (; ; ) {
        try {
          holders.put(Thread.currentThread(), request.get());
          break;
        } catch (InterruptedException e) {
          interrupted = true; // lock() is not interruptible: wait on, then restore the flag
        } catch (ExecutionException e) {
          throw BlockingLock.failure(e);
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void lockInterruptibly() throws InterruptedException {
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
      checkNotHeldHere();
      CompletableFuture<G> request = acquire.get();
      try {
        holders.put(Thread.currentThread(), request.get());
      } catch (InterruptedException e) {
        giveUp(request);
        throw e;
      } catch (ExecutionException e) {
        throw BlockingLock.failure(e);
      }
    }

    @Override
    public boolean tryLock() {
      checkNotHeldHere();
      Optional<G> taken = tryAcquire.get();
      taken.ifPresent(guard -> holders.put(Thread.currentThread(), guard));
      return taken.isPresent();
    }

    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
      checkNotHeldHere();
      CompletableFuture<G> request =
          acquireWithin.apply(Duration.ofNanos(Math.max(0, unit.toNanos(time))));
      try {
        holders.put(Thread.currentThread(), request.get());
        return true;
      } catch (InterruptedException e) {
        giveUp(request);
        throw e;
      } catch (ExecutionException e) {
        if (e.getCause() instanceof TimeoutException) {
          return false;
        }
        throw BlockingLock.failure(e);
      }
    }

    @Override
    public void unlock() {
      G held = holders.remove(Thread.currentThread());
      if (held == null) {
        throw new IllegalMonitorStateException(
            "the "
                + kind
                + " lock of read-write mutex '"
                + lock.name()
                + "' is not held by this thread through asReadWriteLock()");
      }
      release.accept(held);
    }

    /** Not supported: a condition needs an exclusive lock of its own to release and re-take. */
    @Override
    public Condition newCondition() {
      throw new UnsupportedOperationException(
          "the read-write mutex view has no conditions; use a Mutex with a ConditionVariable");
    }

    private void checkNotHeldHere() {
      Thread current = Thread.currentThread();
      if (holders.containsKey(current) || other.holders.containsKey(current)) {
        throw new IllegalStateException(
            "this thread already holds a lock of read-write mutex '"
                + lock.name()
                + "' through asReadWriteLock(), which is not reentrant: asking for the "
                + kind
                + " lock would wait for itself");
      }
    }

    /** Withdraws the request; if it was granted in the meantime, releases the hold again. */
    private void giveUp(CompletableFuture<G> request) {
      if (!request.cancel(false) && !request.isCompletedExceptionally()) {
        release.accept(request.join());
      }
    }

    @Override
    public String toString() {
      return kind + " lock view of " + lock;
    }
  }
}
