package dev.ringlock.locks;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM with no recording that makes every kind of contended acquisition once (a mutex
 * handoff, a queued semaphore acquire, a read queued behind a write), for {@link JfrEventsTest}:
 * run with class-load logging, it shows what those paths load of JFR. Argument: the region file.
 * Prints DONE.
 */
public final class JfrIdleChild {
  private JfrIdleChild() {}

  public static void main(String[] args) throws Exception {
    try (SharedRegion region = SharedRegion.open(Path.of(args[0]))) {
      Mutex mutex = region.mutex("idle-mutex");
      MutexGuard held = mutex.tryLock().orElseThrow();
      CompletableFuture<MutexGuard> waiter = mutex.lock();
      held.unlock();
      waiter.get(20, TimeUnit.SECONDS).unlock();

      Semaphore semaphore = region.semaphore("idle-semaphore", 1);
      semaphore.acquire(1).get(20, TimeUnit.SECONDS);
      CompletableFuture<Void> acquirer = semaphore.acquire(1);
      semaphore.release(1);
      acquirer.get(20, TimeUnit.SECONDS);
      semaphore.release(1);

      ReadWriteMutex lock = region.readWriteMutex("idle-rw");
      WriteGuard writing = lock.write().get(20, TimeUnit.SECONDS);
      CompletableFuture<ReadGuard> reader = lock.read();
      writing.unlock();
      reader.get(20, TimeUnit.SECONDS).unlock();
      System.out.println("DONE");
    }
  }
}
