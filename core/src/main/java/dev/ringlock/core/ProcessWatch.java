package dev.ringlock.core;

import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.Syscalls;
import dev.ringlock.core.uring.IoUringAbi;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/*
 * Overview
 *
 * Which other processes are alive, as this process knows it, kept current by the ring. The first
 * question about a pid opens a pidfd, a handle on that very process (a later process that reuses
 * the pid is not it), polls it once with a zero timeout (a pidfd is readable once its process has
 * exited, whether still a zombie or reaped), and if it has not exited arms one IORING_OP_POLL_ADD
 * on it. From then on that one poll answers every question and serves every listener about the
 * pid in this process: isAlive is a map lookup, and however many waiters watch one owner, one
 * POLL_ADD stands for them. When the process exits the completion thread drops the entry and runs
 * the listeners.
 *
 * An entry lives as long as its process: one pidfd and one pending poll per live process this one
 * has asked about, however often it asked.
 *
 * PIDs are reused. Between a process's exit and the completion that drops its entry, isAlive still
 * answers true and the listeners are about to run, so the answer is late, never wrong for long.
 * After that, a new process with the same pid gets a new entry. A caller that read the pid from
 * shared memory must read the memory again after asking (the pid may have been released and reused
 * in between). One case no check can catch: a process that dies holding a word, and whose pid is
 * reused before anyone asks, looks alive until the new process exits.
 *
 * Locking: `this` guards the map and every entry's listener list. Listeners run outside it.
 */
/**
 * Exit notifications for other processes, on one ring: {@link FutexRing#processes()}. One pidfd
 * poll per watched process serves every caller in this process.
 */
public final class ProcessWatch {
  private static final int POLLFD_BYTES = 8; // struct pollfd { int fd; short events, revents; }
  private static final long POLLFD_EVENTS = 4;
  private static final long POLLFD_REVENTS = 6;

  private final FutexRing ring;
  private final Map<Integer, Watched> watched = new HashMap<>(); // guarded by this

  ProcessWatch(FutexRing ring) {
    this.ring = ring;
  }

  /** A listener registered with {@link #onExit}; cancelling it keeps it from running. */
  public interface Subscription {
    /** Removes the listener; harmless after it ran. */
    void cancel();
  }

  /** One watched process: its exit poll and who listens for it. */
  private final class Watched {
    final int pid;
    final List<Listener> listeners = new ArrayList<>(); // guarded by ProcessWatch.this
    boolean exited; // guarded by ProcessWatch.this; set once, as the entry leaves the map

    Watched(int pid) {
      this.pid = pid;
    }

    void exited() {
      List<Listener> toRun;
      synchronized (ProcessWatch.this) {
        exited = true;
        watched.remove(pid, this);
        toRun = List.copyOf(listeners);
        listeners.clear();
      }
      for (Listener listener : toRun) {
        listener.action.run();
      }
    }
  }

  private final class Listener implements Subscription {
    final Watched watched;
    final Runnable action;

    Listener(Watched watched, Runnable action) {
      this.watched = watched;
      this.action = action;
    }

    @Override
    public void cancel() {
      synchronized (ProcessWatch.this) {
        watched.listeners.remove(this);
      }
    }
  }

  /**
   * Whether process {@code pid} has not exited, as far as this process can tell (see the overview:
   * an exit is noticed within one ring completion). The first question about a pid costs three
   * system calls and arms a poll; later ones are a lookup.
   *
   * @throws IllegalArgumentException if {@code pid} is not positive
   */
  public boolean isAlive(int pid) {
    return watch(pid) != null;
  }

  /**
   * Runs {@code listener} once, on the ring's completion thread, when process {@code pid} exits;
   * unless the subscription is cancelled first. It must not block.
   *
   * @return the subscription, or null if the process has exited already (the listener never runs)
   * @throws IllegalArgumentException if {@code pid} is not positive
   */
  public Subscription onExit(int pid, Runnable listener) {
    synchronized (this) {
      Watched process = watch(pid);
      if (process == null) {
        return null;
      }
      Listener subscription = new Listener(process, listener);
      process.listeners.add(subscription);
      return subscription;
    }
  }

  /** The live entry for {@code pid}, made if there is none; null if the process has exited. */
  private synchronized Watched watch(int pid) {
    if (pid <= 0) {
      throw new IllegalArgumentException("a process id must be positive, not " + pid);
    }
    Watched process = watched.get(pid);
    if (process != null) {
      return process;
    }
    int pidfd = openIfAlive(pid);
    if (pidfd < 0) {
      return null;
    }
    Watched fresh = new Watched(pid);
    CompletableFuture<Void> exit = ring.pollProcessExit(pid, pidfd);
    watched.put(pid, fresh);
    // A closed (or closing) ring fails the poll: the entry goes, its listeners never run (nothing
    // completes on a closed ring), and the process is not called dead: the next question probes
    // it again with pidfd_open and poll, as this one did.
    exit.whenComplete(
        (ignored, failure) -> {
          if (failure == null) {
            fresh.exited();
          } else {
            synchronized (this) {
              watched.remove(pid, fresh);
            }
          }
        });
    // The poll may have completed already, inline above: then the process has exited.
    return fresh.exited ? null : fresh;
  }

  /**
   * Whether process {@code pid} has not exited, asked once and without a ring: pidfd_open, then a
   * zero-timeout poll of the pidfd, which is readable once the process has exited (a zombie counts
   * as exited, unlike {@code kill(pid, 0)} or {@link ProcessHandle#isAlive()}). For tools that look
   * at a region without taking part (they may run where io_uring is blocked); a process that waits
   * for another's exit uses {@link FutexRing#processes()}, which keeps the answer current.
   *
   * @throws IllegalArgumentException if {@code pid} is not positive
   * @throws RingException if pidfd_open or poll fails for another reason than "no such process"
   *     (EMFILE, for one)
   */
  public static boolean isAliveNow(int pid) {
    if (pid <= 0) {
      throw new IllegalArgumentException("a process id must be positive, not " + pid);
    }
    int pidfd = openIfAlive(pid);
    if (pidfd < 0) {
      return false;
    }
    Syscalls.close(pidfd);
    return true;
  }

  /** A pidfd on process {@code pid} if it has not exited (the caller closes it); else -1. */
  private static int openIfAlive(int pid) {
    int pidfd = Syscalls.pidfdOpen(pid, 0);
    if (namesNoProcess(pidfd)) {
      return -1;
    }
    if (pidfd < 0) {
      throw new RingException("pidfd_open(" + pid + ") failed", -pidfd);
    }
    if (hasExited(pidfd, pid)) {
      Syscalls.close(pidfd);
      return -1;
    }
    return pidfd;
  }

  /**
   * Whether pidfd_open's result says no process has that pid: ESRCH; or the pid now names a thread
   * that leads no process (ENOENT since Linux 6.9, EINVAL before), so the process that had it is
   * gone and its pid was reused for a thread.
   */
  static boolean namesNoProcess(int pidfdOrError) {
    return pidfdOrError == -Errno.ESRCH
        || pidfdOrError == -Errno.ENOENT
        || pidfdOrError == -Errno.EINVAL;
  }

  /** A zero-timeout poll of a pidfd: readable means its process has exited. */
  private static boolean hasExited(int pidfd, int pid) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment pollfd = arena.allocate(POLLFD_BYTES, Integer.BYTES);
      pollfd.set(ValueLayout.JAVA_INT, 0, pidfd);
      pollfd.set(ValueLayout.JAVA_SHORT, POLLFD_EVENTS, (short) IoUringAbi.POLLIN);
      int ready = Syscalls.poll(pollfd, 1, 0);
      if (ready < 0) {
        throw new RingException("poll of the pidfd of process " + pid + " failed", -ready);
      }
      return ready > 0 && (pollfd.get(ValueLayout.JAVA_SHORT, POLLFD_REVENTS) & 0xFFFF) != 0;
    }
  }

  /** How many processes are watched now: one pidfd and one pending poll each. */
  public synchronized int watchedProcesses() {
    return watched.size();
  }
}
