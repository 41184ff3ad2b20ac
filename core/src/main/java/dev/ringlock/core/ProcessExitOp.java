package dev.ringlock.core;

import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.Syscalls;
import dev.ringlock.core.uring.IoUringAbi;
import dev.ringlock.core.uring.Prep;

/**
 * POLL_ADD on a pidfd: a pidfd becomes readable when its process exits, so the poll's completion is
 * an asynchronous death notification. The op owns the pidfd and closes it on every way out:
 * completion, cancellation, a drop before submission, a closing ring.
 */
final class ProcessExitOp extends RingOp<Void> {
  private final int pid;
  private final int pidfd;

  ProcessExitOp(CompletionLoop loop, int pid, int pidfd) {
    super(loop);
    this.pid = pid;
    this.pidfd = pidfd;
  }

  @Override
  void prepare(Submission submission, long userData) {
    long sqe = submission.sqe();
    Prep.pollAdd(submission.sqes(), sqe, pidfd, IoUringAbi.POLLIN);
    Prep.userData(submission.sqes(), sqe, userData);
  }

  @Override
  void completed(int result, boolean ringClosing) {
    Syscalls.close(pidfd);
    if (result > 0) {
      deliver(null);
    } else if (result == -Errno.ECANCELED && ringClosing) {
      deliver(new RingClosedException("the ring was closed while watching process " + pid));
    } else {
      deliver(new RingException("POLL_ADD on the pidfd of process " + pid + " failed", -result));
    }
  }

  @Override
  void dropped() {
    Syscalls.close(pidfd);
  }
}
