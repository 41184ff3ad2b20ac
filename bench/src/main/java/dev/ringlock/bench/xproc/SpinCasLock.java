package dev.ringlock.bench.xproc;

/**
 * The Chronicle approach: a mapped word that holds 0 when free and the owner's pid when held.
 * Acquire is a CAS from 0 to the pid; a loser spins with {@link Thread#onSpinWait} on acquire reads
 * until the word looks free (test-and-test-and-set, so spinners do not keep the line in exclusive
 * state), then tries again. Release is a release store of 0, which pairs with the next owner's CAS.
 * Nobody sleeps: a preempted owner costs spinners whole time slices.
 */
final class SpinCasLock implements ContendedLock<Void> {
  private final ControlFile control;
  private final int pid = Math.toIntExact(ProcessHandle.current().pid());

  SpinCasLock(ControlFile control) {
    this.control = control;
  }

  @Override
  public Void lock() {
    while (!control.casSpinLock(0, pid)) {
      while (control.spinLockAcquire() != 0) {
        Thread.onSpinWait();
      }
    }
    return null;
  }

  @Override
  public void unlock(Void hold) {
    control.releaseSpinLock();
  }

  @Override
  public void close() {}
}
