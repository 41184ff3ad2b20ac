package dev.ringlock.locks.internal;

/**
 * Pause points for tests that must kill a process at one exact step, such as between freeing a
 * mutex's word and its wake reaching the kernel. Off unless the JVM was started with the system
 * property naming the object; the check is a static final, so the JIT drops it otherwise.
 */
final class TestPausePoints {
  /** A mutex name: its release stops for good after freeing the word, before the wake. */
  static final String PAUSE_AFTER_FREEING_PROPERTY = "dev.ringlock.test.pauseAfterFreeing";

  /**
   * A wait queue name: its wakes stop for good after choosing and marking waiters and bumping the
   * wake sequence, before the kernel wake.
   */
  static final String PAUSE_AFTER_CHOOSING_PROPERTY = "dev.ringlock.test.pauseAfterChoosing";

  private static final String PAUSE_AFTER_FREEING =
      System.getProperty(PAUSE_AFTER_FREEING_PROPERTY);
  private static final String PAUSE_AFTER_CHOOSING =
      System.getProperty(PAUSE_AFTER_CHOOSING_PROPERTY);

  private TestPausePoints() {}

  /** The release of mutex {@code name} freed its word; its wake is not yet submitted. */
  static void afterFreeingWord(String name) {
    if (PAUSE_AFTER_FREEING != null && PAUSE_AFTER_FREEING.equals(name)) {
      pause("PAUSED after freeing mutex '" + name + "'");
    }
  }

  /**
   * A wake of wait queue {@code name} chose and marked its waiters; its kernel wake is not made.
   */
  static void afterChoosingWaiters(String name) {
    if (PAUSE_AFTER_CHOOSING != null && PAUSE_AFTER_CHOOSING.equals(name)) {
      pause("PAUSED after choosing waiters of wait queue '" + name + "'");
    }
  }

  private static void pause(String announcement) {
    System.out.println(announcement);
    System.out.flush();
    for (; ; ) {
      try {
        Thread.sleep(Long.MAX_VALUE); // until the test kills this process
      } catch (InterruptedException e) {
        // stay paused: the point is to die here
      }
    }
  }
}
