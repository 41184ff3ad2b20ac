package dev.ringlock.core;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * JFR: user code ran on a ring's completion thread longer than the ring's blocked-thread threshold
 * (BlockedThreadChecker), so no other future of that ring completed meanwhile. Committed by the
 * checker thread, once per stall, when it sees the stall: its own stack would say nothing, so the
 * event carries the completion thread's stack as text instead.
 */
@Name("dev.ringlock.BlockedCompletionThread")
@Label("Blocked Completion Thread")
@Category({"ringlock"})
@Description(
    "User code (a future's continuations, or an AbandonedWakeHandler) ran on a ring's completion"
        + " thread longer than FutexRing.Options.blockedThreadWarning: no other future of the ring"
        + " completed meanwhile")
@StackTrace(false)
final class BlockedCompletionThreadEvent extends Event {
  @Label("Completion Thread")
  Thread completionThread;

  @Label("Blocked For")
  @Description("How long the user code had run when the checker saw it, at least")
  @Timespan(Timespan.NANOSECONDS)
  long blockedFor;

  @Label("Threshold")
  @Timespan(Timespan.NANOSECONDS)
  long threshold;

  @Label("Completion Thread Stack")
  @Description("Where the completion thread was when the stall was seen")
  String completionThreadStack;
}
