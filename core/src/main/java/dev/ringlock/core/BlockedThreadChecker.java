package dev.ringlock.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/*
 * Overview
 *
 * Vert.x's blocked-thread checker for ringlock's completion threads. A continuation that blocks (a
 * join, a sleep, I/O) on the thread where a ring's futures complete stops every other future of
 * that ring; this makes such a stall visible: a WARNING with the completion thread's stack, and a
 * JFR event (BlockedCompletionThreadEvent), once per stall.
 *
 * Each completion thread has a Watch. The thread marks each stretch of user code it runs (a
 * future's completion, which runs its continuations; an AbandonedWakeHandler) by bumping a
 * counter, `stretch`, when it enters and again when it leaves: odd inside user code, even outside,
 * and a new value for every stretch. That costs the completion thread one opaque store per mark
 * and no clock read: System.nanoTime() per completion would cost more than the mark itself, on a
 * VM whose clock source is slow far more. Nested entries (a completion run from inside another,
 * when a full submission queue makes the loop reap inside a continuation) count depth on the
 * watched thread alone, so only the outermost stretch is marked.
 *
 * One daemon thread per JVM (ringlock-blocked-thread-checker) samples every watch each half
 * threshold (the smallest among the watches). It times a stretch from the sample that first saw it
 * odd: a stretch still the same, and still odd, a threshold later has run at least that long, and
 * is reported, once (reportedStretch). So every stretch longer than 1.5 thresholds is reported,
 * some between 1 and 1.5, none shorter; the duration reported is the time since that first sample,
 * short of the truth by less than a period. With no watch registered the checker parks without a
 * timeout and costs nothing; a new watch unparks it.
 *
 * Memory ordering: `stretch` is written by the watched thread only (a plain read of its own value,
 * an opaque store) and read by the checker with an opaque load: coherence is all that matters, a
 * stale value can only delay a report by a period. The checker's own fields are the checker's
 * alone.
 */
final class BlockedThreadChecker implements Runnable {
  /**
   * The default threshold: user code running longer than this on a completion thread is reported.
   */
  static final Duration DEFAULT_THRESHOLD = Duration.ofMillis(100);

  private static final System.Logger LOG = System.getLogger(FutexRing.class.getName());
  private static final long MIN_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
  private static final int MAX_STACK_FRAMES = 64; // in the JFR event's text
  private static final Set<Watch> WATCHES = ConcurrentHashMap.newKeySet();
  private static Thread checker; // guarded by the class: started once, with the first watch

  private BlockedThreadChecker() {}

  /** One completion thread's marks of user code, and the checker's view of them. */
  static final class Watch {
    private static final VarHandle STRETCH;

    static {
      try {
        STRETCH = MethodHandles.lookup().findVarHandle(Watch.class, "stretch", long.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    private final Thread thread;
    private final long thresholdNanos; // 0: marks, never checked

    @SuppressWarnings("unused") // through STRETCH, and plain reads by the watched thread
    private long stretch; // odd while user code runs; a new value per stretch

    private int depth; // the watched thread only: nested entries

    // the checker thread only
    private long seenStretch; // the odd stretch last sampled
    private long seenAt; // System.nanoTime() of the first sample that saw it
    private long reportedStretch; // the stretch already reported

    private Watch(Thread thread, long thresholdNanos) {
      this.thread = thread;
      this.thresholdNanos = thresholdNanos;
    }

    /** The watched thread enters user code. */
    void enter() {
      if (depth++ == 0) {
        STRETCH.setOpaque(this, stretch + 1); // odd: inside
      }
    }

    /** The watched thread leaves user code. */
    void leave() {
      if (--depth == 0) {
        STRETCH.setOpaque(this, stretch + 1); // even: outside
      }
    }

    /**
     * Starts checking, unless the threshold is zero: called by the watched thread once it runs, so
     * that a ring that fails to start leaves no watch behind.
     */
    void activate() {
      if (thresholdNanos > 0) {
        WATCHES.add(this);
        wakeChecker();
      }
    }

    /** Stops checking: the watched thread is ending. */
    void cancel() {
      WATCHES.remove(this);
    }

    /** The checker's look at this watch at {@code now}: reports a stretch over the threshold. */
    private void sample(long now) {
      long current = (long) STRETCH.getOpaque(this);
      if ((current & 1) == 0) {
        return; // outside user code
      }
      if (current != seenStretch) {
        seenStretch = current; // a new stretch: time it from here
        seenAt = now;
      } else if (current != reportedStretch && now - seenAt >= thresholdNanos) {
        reportedStretch = current;
        report(this, now - seenAt);
      }
    }

    private long periodNanos() {
      return Math.max(MIN_PERIOD_NANOS, thresholdNanos / 2);
    }
  }

  /**
   * A watch of {@code thread}, which will report user code that runs on it longer than {@code
   * threshold} once {@link Watch#activate activated}; with a threshold of zero it only marks.
   */
  static Watch watch(Thread thread, Duration threshold) {
    return new Watch(thread, threshold.toNanos());
  }

  /** Starts the checker, or unparks it so that it samples the new watch on its period. */
  private static synchronized void wakeChecker() {
    if (checker == null) {
      checker =
          Thread.ofPlatform()
              .name("ringlock-blocked-thread-checker")
              .daemon(true)
              .start(new BlockedThreadChecker());
    } else {
      LockSupport.unpark(checker);
    }
  }

  @Override
  public void run() {
    for (; ; ) {
      long period = Long.MAX_VALUE;
      long now = System.nanoTime();
      for (Watch watch : WATCHES) {
        period = Math.min(period, watch.periodNanos());
        try {
          watch.sample(now);
        } catch (RuntimeException | Error e) {
          // a failing logger or recorder must not end the checking of every ring
          LOG.log(System.Logger.Level.ERROR, "the blocked-thread checker failed to report", e);
        }
      }
      if (period == Long.MAX_VALUE) {
        LockSupport.park(this); // nothing to watch: a new watch unparks (a permit if it came first)
      } else {
        LockSupport.parkNanos(this, period);
      }
    }
  }

  private static void report(Watch watch, long blockedNanos) {
    StackTraceElement[] frames = watch.thread.getStackTrace();
    CompletionThreadStack stack = new CompletionThreadStack(watch.thread, frames);
    LOG.log(
        System.Logger.Level.WARNING,
        "ringlock completion thread '"
            + watch.thread.getName()
            + "' has been running user code (a future's continuations, or an"
            + " AbandonedWakeHandler) for at least "
            + TimeUnit.NANOSECONDS.toMillis(blockedNanos)
            + " ms, over its "
            + TimeUnit.NANOSECONDS.toMillis(watch.thresholdNanos)
            + " ms threshold: no other future of its ring completes meanwhile. Continuations that"
            + " block belong on an executor of your own (FutexRing.options()"
            + ".completionExecutor(executor)) or behind the *Async variants (thenApplyAsync,"
            + " thenComposeAsync); FutexRing.options().blockedThreadWarning(threshold) sets the"
            + " threshold, Duration.ZERO turns this check off. Its stack:",
        stack);
    BlockedCompletionThreadEvent event = new BlockedCompletionThreadEvent();
    if (event.isEnabled()) {
      event.completionThread = watch.thread;
      event.blockedFor = blockedNanos;
      event.threshold = watch.thresholdNanos;
      event.completionThreadStack = format(frames);
      event.commit();
    }
  }

  private static String format(StackTraceElement[] frames) {
    StringBuilder text = new StringBuilder();
    int shown = Math.min(frames.length, MAX_STACK_FRAMES);
    for (int i = 0; i < shown; i++) {
      text.append("at ").append(frames[i]).append('\n');
    }
    if (shown < frames.length) {
      text.append("... ").append(frames.length - shown).append(" more\n");
    }
    return text.toString();
  }

  /** The completion thread's stack, as the Throwable a log record carries. */
  private static final class CompletionThreadStack extends Throwable {
    private static final long serialVersionUID = 1L;

    CompletionThreadStack(Thread thread, StackTraceElement[] frames) {
      super("the stack of completion thread '" + thread.getName() + "'", null, false, true);
      setStackTrace(frames);
    }
  }
}
