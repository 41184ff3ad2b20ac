/**
 * ringlock locks: the primitives (Mutex, lockAny, ReadWriteMutex, Semaphore, WaitQueue,
 * ConditionVariable) that live in words of a shared region and wait through {@code
 * dev.ringlock.core.FutexRing}.
 *
 * <p>It requires {@code dev.ringlock.core} transitively, since its API names core's types ({@code
 * FutexRing}, the exceptions). It makes no downcalls itself: native access is for {@code
 * dev.ringlock.core} alone.
 */
module dev.ringlock.locks {
  requires transitive dev.ringlock.core;
  requires org.agrona;
  // JFR events (dev.ringlock.locks.internal.jfr): contended acquisitions, takeovers, not
  // recoverable
  requires jdk.jfr;

  exports dev.ringlock.locks;
}
