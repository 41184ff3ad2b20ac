package dev.ringlock.locks;

import java.util.concurrent.locks.Lock;

/**
 * The blocking {@link Lock} view of a {@link Mutex} ({@link Mutex#asLock()}), with what {@code
 * ReentrantLock} users look for beside the {@code Lock} interface, and the owner-death handling a
 * shared mutex needs ({@link OwnerDeathPolicy}).
 *
 * <p>It blocks the calling thread on the mutex's future, which on a virtual thread unmounts it
 * instead. It remembers the holding thread: only it may {@code unlock()}
 * (IllegalMonitorStateException otherwise). It is not reentrant.
 */
public interface MutexLock extends Lock {
  /**
   * The mutex this is a view of.
   *
   * @return the mutex
   */
  Mutex mutex();

  /**
   * What acquisitions through this view do when they take the mutex over from a dead owner.
   *
   * @return this view's policy
   */
  OwnerDeathPolicy ownerDeathPolicy();

  /**
   * How many acquisitions wait for the mutex, in this process and in others: {@link
   * Mutex#queueLength()} (an estimate across processes, as {@code ReentrantLock.getQueueLength} is
   * one across threads).
   *
   * @return waiting requests here plus other processes asleep on the mutex
   */
  int getQueueLength();

  /**
   * Whether the calling thread holds the mutex through this view.
   *
   * @return true if it does
   */
  boolean isHeldByCurrentThread();

  /**
   * Whether the calling thread holds the mutex through this view after taking it over from a
   * process that died holding it, and has not yet called {@link #markConsistent()}: unlocking now
   * would make the mutex not recoverable.
   *
   * @return true if the state the mutex protects still waits for repair
   */
  boolean ownerDied();

  /**
   * Declares the state the mutex protects repaired after an owner's death ({@link
   * OwnerDiedException}): the mutex is consistent again, and {@code unlock()} releases it normally.
   * Does nothing if the owner did not die.
   *
   * @throws IllegalMonitorStateException if the calling thread does not hold the mutex through this
   *     view
   */
  void markConsistent();
}
