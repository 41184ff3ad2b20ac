package dev.ringlock.core;

/** Whether other processes may map a futex word's memory; it decides how the kernel keys it. */
public enum FutexScope {
  /**
   * The word may be in memory that several processes map (a MAP_SHARED file mapping): the kernel
   * keys the futex by inode and offset, so a wake from any process finds every waiter. Correct for
   * any memory, at the cost of a slower key lookup.
   */
  SHARED,

  /**
   * Only this process maps the word (FUTEX2_PRIVATE): the kernel keys the futex by address. A wake
   * from another process that maps the same file finds nobody, so use it only for memory no other
   * process maps.
   */
  PRIVATE
}
