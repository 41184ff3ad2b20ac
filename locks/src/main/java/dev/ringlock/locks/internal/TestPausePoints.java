package dev.ringlock.locks.internal;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Pause points for tests that must kill a process at one exact step, such as between freeing a
 * mutex's word and its wake reaching the kernel, or hold one a while in a race's window. Off unless
 * the JVM was started with the system property naming the object; the check is a static final, so
 * the JIT drops it otherwise.
 */
final class TestPausePoints {
  /** A mutex name: its release stops for good after freeing the word, before the wake. */
  static final String PAUSE_AFTER_FREEING_PROPERTY = "dev.ringlock.test.pauseAfterFreeing";

  /**
   * A wait queue name: its wakes stop for good after choosing and marking waiters and bumping the
   * wake sequence, before the kernel wake.
   */
  static final String PAUSE_AFTER_CHOOSING_PROPERTY = "dev.ringlock.test.pauseAfterChoosing";

  /**
   * A read-write mutex name: the first time a decision of its queue is about to arm the kernel wait
   * (the records and the word read), it stops for {@link #PAUSE_BEFORE_SLEEPING_MILLIS} and goes
   * on.
   */
  static final String PAUSE_BEFORE_SLEEPING_PROPERTY = "dev.ringlock.test.pauseBeforeSleeping";

  static final long PAUSE_BEFORE_SLEEPING_MILLIS = 600;

  /**
   * {@code STEP:NAME}: a move of permits of undo semaphore NAME stops for good at STEP, one of
   * take-busy (its entry BUSY, the word not yet moved), take-word (the word moved, the entry not
   * yet recorded), release-busy and release-word (the same two points of a release).
   */
  static final String PAUSE_IN_SEMAPHORE_MOVE_PROPERTY = "dev.ringlock.test.pauseInSemaphoreMove";

  private static final String PAUSE_AFTER_FREEING =
      System.getProperty(PAUSE_AFTER_FREEING_PROPERTY);
  private static final String PAUSE_BEFORE_SLEEPING =
      System.getProperty(PAUSE_BEFORE_SLEEPING_PROPERTY);
  private static final AtomicBoolean PAUSED_BEFORE_SLEEPING = new AtomicBoolean();
  private static final String PAUSE_AFTER_CHOOSING =
      System.getProperty(PAUSE_AFTER_CHOOSING_PROPERTY);

  private static final String PAUSE_IN_SEMAPHORE_MOVE = semaphoreMovePoint();

  /**
   * An object's description ({@code mutex 'NAME'}): the first time one of its kernel waits ends
   * woken, its completion stops for {@link #PAUSE_BEFORE_SLEEPING_MILLIS} between forgetting the
   * wait and the decision on the wake, and goes on.
   */
  static final String PAUSE_AFTER_WOKEN_PROPERTY = "dev.ringlock.test.pauseAfterWoken";

  private static final String PAUSE_AFTER_WOKEN = System.getProperty(PAUSE_AFTER_WOKEN_PROPERTY);
  private static final AtomicBoolean PAUSED_AFTER_WOKEN = new AtomicBoolean();

  /**
   * A mutex name: the first time a release of it takes the slow look (a guard released before, or a
   * compare-and-set that lost), it stops for {@link #PAUSE_IN_RELEASE_RETRY_MILLIS} between reading
   * the fence and reading the hold, and goes on: a test moves the mutex on meanwhile.
   */
  static final String PAUSE_IN_RELEASE_RETRY_PROPERTY = "dev.ringlock.test.pauseInReleaseRetry";

  static final long PAUSE_IN_RELEASE_RETRY_MILLIS = 2_000;

  private static final String PAUSE_IN_RELEASE_RETRY =
      System.getProperty(PAUSE_IN_RELEASE_RETRY_PROPERTY);
  private static final AtomicBoolean PAUSED_IN_RELEASE_RETRY = new AtomicBoolean();

  /**
   * A mutex name: the first time a decision of its queue wins the word for a request (the CAS made,
   * the grant not yet), it stops for {@link #PAUSE_BEFORE_SLEEPING_MILLIS} and goes on: a test
   * reads the mutex's starving table meanwhile.
   */
  static final String PAUSE_AFTER_WINNING_PROPERTY = "dev.ringlock.test.pauseAfterWinning";

  private static final String PAUSE_AFTER_WINNING =
      System.getProperty(PAUSE_AFTER_WINNING_PROPERTY);
  private static final AtomicBoolean PAUSED_AFTER_WINNING = new AtomicBoolean();

  private TestPausePoints() {}

  /** A decision of mutex {@code name} won the word for its oldest request: see the property. */
  static void afterWinningWord(String name) {
    if (PAUSE_AFTER_WINNING != null
        && PAUSE_AFTER_WINNING.equals(name)
        && PAUSED_AFTER_WINNING.compareAndSet(false, true)) {
      pauseAWhile("PAUSED after winning mutex '" + name + "'");
    }
  }

  /** MutexOwnership.releaseHoldAgain read the fence and not yet the hold: see the property. */
  static void inReleaseRetry(String name) {
    if (PAUSE_IN_RELEASE_RETRY != null
        && PAUSE_IN_RELEASE_RETRY.equals(name)
        && PAUSED_IN_RELEASE_RETRY.compareAndSet(false, true)) {
      long until = System.nanoTime() + PAUSE_IN_RELEASE_RETRY_MILLIS * 1_000_000;
      for (long left; (left = until - System.nanoTime()) > 0; ) {
        LockSupport.parkNanos(left);
      }
    }
  }

  /** "STEP:NAME" as the semaphore's description and step would say it: "STEP semaphore 'NAME'". */
  private static String semaphoreMovePoint() {
    String point = System.getProperty(PAUSE_IN_SEMAPHORE_MOVE_PROPERTY);
    if (point == null) {
      return null;
    }
    int colon = point.indexOf(':');
    return point.substring(0, colon) + " semaphore '" + point.substring(colon + 1) + "'";
  }

  /**
   * A move of permits of the undo semaphore {@code described} ("semaphore 'NAME'") reached {@code
   * step} (see {@link #PAUSE_IN_SEMAPHORE_MOVE_PROPERTY}).
   */
  static void inSemaphoreMove(String described, String step) {
    if (PAUSE_IN_SEMAPHORE_MOVE != null
        && PAUSE_IN_SEMAPHORE_MOVE.length() == step.length() + 1 + described.length()
        && PAUSE_IN_SEMAPHORE_MOVE.startsWith(step)
        && PAUSE_IN_SEMAPHORE_MOVE.endsWith(described)) {
      pause("PAUSED at " + step + " of " + described);
    }
  }

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

  /**
   * A decision of read-write mutex {@code name} read what it waits for and is about to arm its
   * kernel wait on the word's value it read: the first time, it stops for a while, so that a test
   * can change what it waits for (and the word back) in between.
   */
  static void beforeSleeping(String name) {
    if (PAUSE_BEFORE_SLEEPING != null
        && PAUSE_BEFORE_SLEEPING.equals(name)
        && PAUSED_BEFORE_SLEEPING.compareAndSet(false, true)) {
      System.out.println("PAUSED before sleeping on read-write mutex '" + name + "'");
      System.out.flush();
      long until = System.nanoTime() + PAUSE_BEFORE_SLEEPING_MILLIS * 1_000_000;
      for (long left; (left = until - System.nanoTime()) > 0; ) {
        LockSupport.parkNanos(left);
      }
    }
  }

  /**
   * A kernel wait of {@code described} ended woken and was forgotten; the decision on the wake has
   * not run: the first time, it stops for a while, so that a test can make another decision of the
   * queue (an arrival) run in between.
   */
  static void afterWokenWait(QueuedPrimitive<?> primitive) {
    if (PAUSE_AFTER_WOKEN != null
        && PAUSE_AFTER_WOKEN.equals(primitive.describe())
        && PAUSED_AFTER_WOKEN.compareAndSet(false, true)) {
      pauseAWhile("PAUSED after a woken wait of " + primitive.describe());
    }
  }

  /** Announces the pause, then stops for PAUSE_BEFORE_SLEEPING_MILLIS and goes on. */
  private static void pauseAWhile(String announcement) {
    System.out.println(announcement);
    System.out.flush();
    long until = System.nanoTime() + PAUSE_BEFORE_SLEEPING_MILLIS * 1_000_000;
    for (long left; (left = until - System.nanoTime()) > 0; ) {
      LockSupport.parkNanos(left);
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
