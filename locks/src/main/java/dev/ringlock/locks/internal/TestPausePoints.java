package dev.ringlock.locks.internal;

/**
 * Pause points for tests that must kill a process at one exact step, such as between freeing a
 * mutex's word and its wake reaching the kernel. Off unless the JVM was started with the system
 * property naming the object; the check is a static final, so the JIT drops it otherwise.
 */
final class TestPausePoints {
  /** A mutex name: its release stops for good after freeing the word, before the wake. */
  static final String PAUSE_AFTER_FREEING_PROPERTY = "dev.ringlock.test.pauseAfterFreeing";

  private static final String PAUSE_AFTER_FREEING =
      System.getProperty(PAUSE_AFTER_FREEING_PROPERTY);

  private TestPausePoints() {}

  /** The release of mutex {@code name} freed its word; its wake is not yet submitted. */
  static void afterFreeingWord(String name) {
    if (PAUSE_AFTER_FREEING != null && PAUSE_AFTER_FREEING.equals(name)) {
      System.out.println("PAUSED after freeing mutex '" + name + "'");
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
}
