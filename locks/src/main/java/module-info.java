/**
 * ringlock locks: the primitives (Mutex, lockAny, Semaphore, WaitQueue, ConditionVariable) that
 * live in 32-bit words of a shared region and wait through {@code dev.ringlock.core.FutexRing}.
 */
module dev.ringlock.locks {
  requires transitive dev.ringlock.core;
  requires org.agrona;

  exports dev.ringlock.locks;
}
