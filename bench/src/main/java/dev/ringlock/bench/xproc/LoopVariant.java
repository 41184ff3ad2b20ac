package dev.ringlock.bench.xproc;

import dev.ringlock.core.FutexRing;
import java.io.IOException;
import java.nio.file.Path;

/** The Java locks the contended loop measures, each opened in a child process. */
public enum LoopVariant {
  FILE_LOCK("FileChannel.lock") {
    @Override
    ContendedLock<?> open(ControlFile control, Path regionFile) {
      return new FileChannelLock(control.channel());
    }
  },
  SPIN_CAS("spin CAS (Chronicle-style)") {
    @Override
    ContendedLock<?> open(ControlFile control, Path regionFile) {
      return new SpinCasLock(control);
    }
  },
  RINGLOCK_MUTEX("ringlock Mutex") {
    @Override
    ContendedLock<?> open(ControlFile control, Path regionFile) throws IOException {
      return new RinglockMutexLock(regionFile, FutexRing.Backend.AUTO);
    }
  },
  /** The same Mutex, its process's ring forced onto the futex-syscalls backend. */
  RINGLOCK_MUTEX_SYSCALLS("ringlock Mutex (syscalls)") {
    @Override
    ContendedLock<?> open(ControlFile control, Path regionFile) throws IOException {
      return new RinglockMutexLock(regionFile, FutexRing.Backend.SYSCALLS);
    }
  };

  /** Whether the variant is ringlock's own (a row the report marks as ours). */
  public boolean isRinglock() {
    return this == RINGLOCK_MUTEX || this == RINGLOCK_MUTEX_SYSCALLS;
  }

  final String label;

  LoopVariant(String label) {
    this.label = label;
  }

  /** The variant's name in tables. */
  public String label() {
    return label;
  }

  /**
   * Opens this process's side of the lock.
   *
   * @param regionFile a file of its own for a lock that lives in a region, the same path in both
   *     children; unused by the others
   */
  abstract ContendedLock<?> open(ControlFile control, Path regionFile) throws IOException;
}
