package dev.ringlock.locks.internal;

import dev.ringlock.core.ProcessWatch;
import dev.ringlock.core.RingException;
import java.util.function.IntConsumer;
import java.util.function.IntPredicate;
import org.agrona.collections.Int2ObjectHashMap;

/*
 * Overview
 *
 * The other processes one primitive (a mutex, a semaphore, a wait queue view) waits on, watched for
 * their exit, keyed by pid: the one registry every primitive uses, and the one liveness question.
 *
 * Liveness: ProcessWatch's (a pidfd: it names one process, never a number; a zombie has exited).
 * When it cannot tell (pidfd_open out of file descriptors), the answer is ALIVE: a live holder must
 * never be robbed, and a dead one is then taken over at a later look (every kernel wait re-checks
 * the word within Sleeper.RECHECK_MILLIS). A pid that cannot be watched for the same reason is
 * treated the same way: watch() says "watched", and the re-check stands in for the notification.
 *
 * A watch is one ProcessWatch subscription per pid, however often it is asked for; the pidfd behind
 * it is shared with every other watcher of that pid in this process. When the process exits, the
 * entry leaves the map and then the primitive's peer-exit event runs, on the ring's completion
 * thread, outside every monitor. An exit that races an unwatch (the listener already running) is
 * not reported: the primitive no longer waits on that process.
 *
 * Locking: this object's monitor guards the map. Callers may hold their own monitor when they call
 * in (a primitive's monitor, then this one, then ProcessWatch's); the peer-exit event is called
 * with none of them held, since it takes the primitive's monitor.
 */
/** The processes one primitive watches for their exit; see the overview in the source. */
final class PeerWatches {
  private final ProcessWatch processes;
  private final IntConsumer peerExited; // the primitive's peer-exit event: the pid that exited
  private final Int2ObjectHashMap<ProcessWatch.Subscription> watches =
      new Int2ObjectHashMap<>(); // guarded by this: pid -> its exit subscription

  /**
   * @param peerExited runs once per watched process that exits, with its pid, on the ring's
   *     completion thread; it must not block
   */
  PeerWatches(ProcessWatch processes, IntConsumer peerExited) {
    this.processes = processes;
    this.peerExited = peerExited;
  }

  /**
   * Whether process {@code pid} is to be treated as alive: the one liveness definition (pidfd; a
   * zombie is dead) and the one "cannot tell" policy (alive).
   */
  boolean alive(int pid) {
    return processes.isAliveOrUnknown(pid); // a lookup while ProcessWatch watches the pid
  }

  /**
   * Watches process {@code pid}'s exit from now on, unless it is watched already.
   *
   * @return false if it has exited already (nothing is watched); true if it is watched, or cannot
   *     be watched now (out of file descriptors: the caller's re-check stands in)
   */
  synchronized boolean watch(int pid) {
    if (watches.containsKey(pid)) {
      return true;
    }
    ProcessWatch.Subscription subscription;
    WatchedExit listener = new WatchedExit(pid);
    try {
      subscription = processes.onExit(pid, listener);
    } catch (RingException cannotWatch) {
      return true;
    }
    if (subscription == null) {
      return false;
    }
    listener.subscription = subscription;
    watches.put(pid, subscription);
    return true;
  }

  /** Whether process {@code pid} is watched now (its exit not yet reported). */
  synchronized boolean isWatched(int pid) {
    return watches.containsKey(pid);
  }

  /** Stops watching process {@code pid}, if it is watched. */
  void unwatch(int pid) {
    ProcessWatch.Subscription subscription;
    synchronized (this) {
      subscription = watches.remove(pid);
    }
    if (subscription != null) {
      subscription.cancel();
    }
  }

  /** Stops watching every process for which {@code keep} is false. */
  synchronized void unwatchUnless(IntPredicate keep) {
    if (!watches.isEmpty()) {
      watches
          .entrySet()
          .removeIfInt(
              (pid, subscription) -> {
                if (keep.test(pid)) {
                  return false;
                }
                subscription.cancel();
                return true;
              });
    }
  }

  /** Stops watching every process. */
  void unwatchAll() {
    unwatchUnless(pid -> false);
  }

  /** How many processes are watched now. */
  synchronized int size() {
    return watches.size();
  }

  /** ProcessWatch's listener for one pid: reports the exit if the watch is still wanted. */
  private final class WatchedExit implements Runnable {
    private final int pid;
    private ProcessWatch.Subscription subscription; // set before it can matter: see watch()

    WatchedExit(int pid) {
      this.pid = pid;
    }

    @Override
    public void run() {
      boolean wanted;
      synchronized (PeerWatches.this) {
        // ProcessWatch runs listeners after releasing its monitor, and watch() takes ours before
        // subscribing, so the map holds this subscription by now unless it was unwatched.
        wanted = subscription != null && watches.remove(pid, subscription);
      }
      if (wanted) {
        peerExited.accept(pid);
      }
    }
  }
}
