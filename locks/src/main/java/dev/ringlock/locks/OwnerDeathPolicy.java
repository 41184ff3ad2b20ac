package dev.ringlock.locks;

/**
 * What the blocking {@link MutexLock} view of a {@link Mutex} does when an acquisition takes the
 * mutex over from a process that died holding it (killed, crashed, or {@code System.exit} while
 * holding). Chosen per view: {@link Mutex#asLock(OwnerDeathPolicy)}.
 */
public enum OwnerDeathPolicy {
  /**
   * The default, a POSIX robust mutex's rule made loud: the acquiring call ({@code lock()}, {@code
   * tryLock()}, a condition's {@code await} re-acquiring) returns by throwing {@link
   * OwnerDiedException} with the mutex <em>held</em> by the calling thread. Repair what the mutex
   * protects, call {@link MutexLock#markConsistent()}, then {@code unlock()}; an {@code unlock()}
   * without it makes the mutex not recoverable for every process ({@link NotRecoverableException};
   * an operator can undo that with {@link Mutex#resetNotRecoverable()}).
   */
  REPORT,

  /**
   * An owner's death is a plain release, as {@link java.nio.channels.FileChannel#lock()} treats the
   * death of a process holding a file lock: the acquisition marks the mutex consistent at once and
   * returns normally. Right when the mutex guards no shared state that a dead holder could leave
   * half-updated (it only serializes work, or the state is checked anyway); wrong otherwise, since
   * nobody is told that the state may be torn.
   */
  RELEASE
}
