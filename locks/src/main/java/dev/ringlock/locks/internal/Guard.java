package dev.ringlock.locks.internal;

import dev.ringlock.locks.Mutex;
import dev.ringlock.locks.MutexGuard;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** One acquisition of a mutex; releasing it twice is refused. */
final class Guard implements MutexGuard {
  private static final VarHandle RELEASED;

  static {
    try {
      RELEASED = MethodHandles.lookup().findVarHandle(Guard.class, "released", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final MutexCore mutex;
  private final long fence;
  private volatile boolean released;

  Guard(MutexCore mutex, long fence) {
    this.mutex = mutex;
    this.fence = fence;
  }

  @Override
  public Mutex mutex() {
    return mutex;
  }

  @Override
  public long fence() {
    return fence;
  }

  @Override
  public void unlock() {
    if (!RELEASED.compareAndSet(this, false, true)) {
      throw new IllegalStateException(
          "this guard of mutex '" + mutex.name() + "' (fence " + fence + ") was already unlocked");
    }
    mutex.release();
  }

  @Override
  public void close() {
    unlock();
  }

  @Override
  public String toString() {
    return "MutexGuard[" + mutex.name() + ", fence " + fence + (released ? ", released" : "") + "]";
  }
}
