package dev.ringlock.locks.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

/**
 * A lock became not recoverable: a process that took it over from a dead owner released it (or
 * closed its region holding it) without {@code markConsistent()}. Every later acquisition fails
 * with NotRecoverableException until an operator resets it, so the event names who did it: the
 * process, and (the stack trace, on by default) the release that did it.
 */
@Name(NotRecoverableEvent.NAME)
@Label("Not Recoverable")
@Category({"ringlock", "Locks"})
@Description(
    "A lock taken over from a dead owner was released without markConsistent(): it is not"
        + " recoverable now")
@Enabled(true)
public final class NotRecoverableEvent extends Event {
  /** The event type's name, as recordings and .jfc files name it. */
  public static final String NAME = "dev.ringlock.NotRecoverable";

  @Label("Object")
  @Description("The name of the object in its region")
  public String objectName;

  @Label("Object Type")
  @Description("mutex or read-write mutex")
  public String objectType;

  @Label("PID")
  @Description("The process that made the lock not recoverable: this one")
  public int pid;

  @Label("Fence")
  @Description("The fence of the hold released without markConsistent()")
  public long fence;

  @Label("How")
  @Description("unlock, or close: the region closed while the hold was still held")
  public String how;

  /**
   * Records that this process made {@code objectType} object {@code objectName} not recoverable.
   */
  public static void record(String objectName, String objectType, int pid, long fence, String how) {
    NotRecoverableEvent event = new NotRecoverableEvent();
    if (event.shouldCommit()) {
      event.objectName = objectName;
      event.objectType = objectType;
      event.pid = pid;
      event.fence = fence;
      event.how = how;
      event.commit();
    }
  }
}
