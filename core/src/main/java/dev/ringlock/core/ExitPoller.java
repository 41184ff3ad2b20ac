package dev.ringlock.core;

import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.Syscalls;
import dev.ringlock.core.uring.IoUringAbi;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/*
 * Overview
 *
 * The syscalls backend's process-exit notifications: one platform thread in poll(2) on every
 * watched pidfd (readable once its process has exited) plus an eventfd that other threads write
 * to when they add a watch or abandon one. A pidfd that turns readable completes its watch on
 * this thread, where ProcessWatch's listeners then run, as they run on the completion thread of
 * the io_uring backend. A watch owns its pidfd and closes it on every way out. The poll returns
 * after a tick (NativeWaitTick) even when nothing is ready, so that a JVM exit never waits for
 * this thread; the next pass polls the same set again.
 */
final class ExitPoller implements Runnable {
  private static final int POLLFD_BYTES = 8; // struct pollfd { int fd; short events, revents; }
  private static final long EVENTS = 4;
  private static final long REVENTS = 6;

  private final SyscallBackend backend;
  private final Thread thread;
  private final int eventfd;
  private final ConcurrentLinkedQueue<Watch> incoming = new ConcurrentLinkedQueue<>();
  private final Arena arena = Arena.ofAuto();
  private final MemorySegment eventCount = arena.allocate(Long.BYTES, Long.BYTES);
  private final MemorySegment bump = arena.allocate(Long.BYTES, Long.BYTES);
  private volatile boolean exited;

  // ---- this thread only ----
  private final List<Watch> watches = new ArrayList<>();
  private MemorySegment pollfds = arena.allocate(POLLFD_BYTES * 64L, Integer.BYTES);

  ExitPoller(SyscallBackend backend, String name) {
    this.backend = backend;
    int fd = Syscalls.eventfd(0, Syscalls.EFD_CLOEXEC);
    if (fd < 0) {
      throw new RingException("eventfd for the process-exit poller failed", -fd);
    }
    this.eventfd = fd;
    bump.set(ValueLayout.JAVA_LONG, 0, 1L);
    this.thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this);
  }

  void start() {
    thread.start();
  }

  Thread thread() {
    return thread;
  }

  int watching() {
    return watches.size() + incoming.size();
  }

  Watch watch(int pid, int pidfd) {
    Watch watch = new Watch(backend, this, pid, pidfd);
    incoming.add(watch);
    poke();
    if (exited) {
      failQueued();
    }
    return watch;
  }

  /**
   * Wakes the poller. Locked against the eventfd's close, so a late poke never hits a reused fd.
   */
  void poke() {
    if (Thread.currentThread() != thread) {
      synchronized (bump) {
        if (!exited) {
          Syscalls.writeNonBlocking(eventfd, bump);
        }
      }
    }
  }

  @Override
  public void run() {
    SyscallBackend.markBackendThread(backend);
    try {
      while (!backend.isClosing()) {
        Watch watch;
        while ((watch = incoming.poll()) != null) {
          watches.add(watch);
        }
        sweepAbandoned();
        int fds = watches.size() + 1;
        if (pollfds.byteSize() < (long) fds * POLLFD_BYTES) {
          pollfds = arena.allocate((long) fds * 2 * POLLFD_BYTES, Integer.BYTES);
        }
        setPollfd(0, eventfd);
        for (int i = 0; i < watches.size(); i++) {
          setPollfd(i + 1, watches.get(i).pidfd);
        }
        // never past a tick, so that a JVM exit never waits for this thread (NativeWaitTick)
        int ready = Syscalls.poll(pollfds, fds, NativeWaitTick.MILLIS);
        if (ready != 0) {
          backend.countWait(0); // an idle tick is not counted
        }
        if (ready < 0) {
          if (ready == -Errno.EINTR) {
            continue;
          }
          throw new RingException("poll of " + (fds - 1) + " pidfds failed", -ready);
        }
        if (revents(0) != 0) {
          Syscalls.read(eventfd, eventCount); // resets the counter: every poke since is seen
        }
        for (int i = watches.size() - 1; i >= 0; i--) {
          if (revents(i + 1) != 0) {
            Watch exitedWatch = watches.remove(i);
            Syscalls.close(exitedWatch.pidfd);
            if (exitedWatch.claim()) {
              exitedWatch.deliver(null);
            }
          }
        }
      }
    } catch (Throwable t) {
      backend.threadFailed(thread, t);
    } finally {
      synchronized (bump) {
        exited = true;
      }
      for (Watch watch : watches) {
        Syscalls.close(watch.pidfd);
        if (watch.claim()) {
          watch.deliver(
              new RingClosedException("the ring was closed while watching process " + watch.pid));
        }
      }
      watches.clear();
      failQueued();
      Syscalls.close(eventfd);
    }
  }

  private void sweepAbandoned() {
    for (int i = watches.size() - 1; i >= 0; i--) {
      Watch watch = watches.get(i);
      if (watch.finished()) {
        watches.remove(i);
        Syscalls.close(watch.pidfd);
      }
    }
  }

  private void failQueued() {
    Watch watch;
    while ((watch = incoming.poll()) != null) {
      Syscalls.close(watch.pidfd);
      if (watch.claim()) {
        watch.deliver(
            new RingClosedException("the ring was closed while watching process " + watch.pid));
      }
    }
  }

  private void setPollfd(int index, int fd) {
    long at = (long) index * POLLFD_BYTES;
    pollfds.set(ValueLayout.JAVA_INT, at, fd);
    pollfds.set(ValueLayout.JAVA_SHORT, at + EVENTS, (short) IoUringAbi.POLLIN);
    pollfds.set(ValueLayout.JAVA_SHORT, at + REVENTS, (short) 0);
  }

  private int revents(int index) {
    return pollfds.get(ValueLayout.JAVA_SHORT, (long) index * POLLFD_BYTES + REVENTS) & 0xFFFF;
  }

  /** One watched process: completes when its pidfd turns readable. */
  static final class Watch extends SyscallFuture<Void> {
    private final ExitPoller poller;
    final int pid;
    final int pidfd;

    Watch(SyscallBackend backend, ExitPoller poller, int pid, int pidfd) {
      super(backend);
      this.poller = poller;
      this.pid = pid;
      this.pidfd = pidfd;
    }

    @Override
    void abandoned() {
      poller.poke(); // the poller closes the pidfd when it next sweeps
    }
  }
}
