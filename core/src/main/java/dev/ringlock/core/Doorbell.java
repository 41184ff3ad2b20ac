package dev.ringlock.core;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.ringlock.core.ffi.FutexFlags;
import dev.ringlock.core.ffi.Syscalls;
import dev.ringlock.core.uring.Prep;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;

/*
 * Overview
 *
 * How a thread wakes the completion loop while it sleeps in io_uring_enter. The loop keeps one
 * request armed in its own ring that completes when rung; the request stack decides who rings
 * (only the producer that replaces the SLEEPING sentinel), so a doorbell is rung at most once
 * per sleep and never while the loop is awake.
 *
 * A ring that lands before the armed request reaches the kernel must not be lost:
 *   - futex: the loop arms FUTEX_WAIT(bell, expected 0); ring() stores 1 and then wakes. A wait
 *     submitted after the store finds 1, completes -EAGAIN at once, and the loop wakes. The
 *     loop stores 0 again when it reaps the completion, while awake, so no ring can be pending.
 *   - eventfd: the loop arms READ(eventfd); ring() writes 1. The counter holds the ring until
 *     the read consumes it.
 */
abstract sealed class Doorbell {
  private boolean armed; // loop thread only: a doorbell request is in the kernel

  static Doorbell create(FutexRing.DoorbellKind kind) {
    return switch (kind) {
      case FUTEX -> new FutexBell();
      case EVENTFD -> new EventfdBell();
    };
  }

  /** Arms the doorbell request if none is in the kernel. Loop thread. */
  final void arm(Submission submission, long userData) {
    if (!armed) {
      long sqe = submission.sqe();
      prepare(submission, sqe);
      Prep.userData(submission.sqes(), sqe, userData);
      armed = true;
    }
  }

  final boolean armed() {
    return armed;
  }

  /** The armed request completed. Loop thread. */
  final void completed() {
    armed = false;
    reset();
  }

  /** Wakes the loop. Any thread; only called by the producer that found the loop asleep. */
  abstract void ring();

  abstract void prepare(Submission submission, long sqe);

  abstract void reset();

  /** Releases the doorbell once no request is armed and no producer can ring any more. */
  abstract void close();

  static final class FutexBell extends Doorbell {
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final int FLAGS = FutexFlags.SIZE_U32 | FutexFlags.PRIVATE;

    // An automatic arena: a producer that rang late may still touch the word after close.
    private final MemorySegment bell = Arena.ofAuto().allocate(JAVA_INT); // 0 = quiet, 1 = rung

    @Override
    void ring() {
      INT.setVolatile(bell, 0L, 1);
      Syscalls.futexWake(bell.address(), FutexFlags.BITSET_MATCH_ANY, 1, FLAGS);
    }

    @Override
    void prepare(Submission submission, long sqe) {
      Prep.futexWait(submission.sqes(), sqe, bell.address(), 0, FutexFlags.BITSET_MATCH_ANY, FLAGS);
    }

    @Override
    void reset() {
      INT.setRelease(bell, 0L, 0);
    }

    @Override
    void close() {}
  }

  static final class EventfdBell extends Doorbell {
    private static final MemorySegment ONE = Arena.global().allocate(JAVA_LONG);

    static {
      ONE.set(JAVA_LONG, 0L, 1L);
    }

    private final int eventfd;
    private final MemorySegment readBuffer = Arena.ofAuto().allocate(JAVA_LONG);
    // Producers inside ring(); close() waits for them, so the fd is never reused under a write.
    private final AtomicInteger ringing = new AtomicInteger();
    private volatile boolean closed;

    EventfdBell() {
      int fd = Syscalls.eventfd(0, Syscalls.EFD_CLOEXEC);
      if (fd < 0) {
        throw new RingException("eventfd for the ring's doorbell failed", -fd);
      }
      this.eventfd = fd;
    }

    @Override
    void ring() {
      ringing.incrementAndGet();
      try {
        if (!closed) {
          Syscalls.writeNonBlocking(eventfd, ONE);
        }
      } finally {
        ringing.decrementAndGet();
      }
    }

    @Override
    void prepare(Submission submission, long sqe) {
      Prep.read(submission.sqes(), sqe, eventfd, readBuffer.address(), (int) readBuffer.byteSize());
    }

    @Override
    void reset() {}

    @Override
    void close() {
      closed = true;
      while (ringing.get() != 0) {
        Thread.onSpinWait();
      }
      Syscalls.close(eventfd);
    }
  }
}
