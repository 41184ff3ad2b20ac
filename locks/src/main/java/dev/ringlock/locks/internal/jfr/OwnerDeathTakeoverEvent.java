package dev.ringlock.locks.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

/**
 * A process took a lock over from an owner that died holding it: the new holder's guard reports
 * {@code ownerDied()} and must repair what the lock protects. Rare by nature, so it is enabled by
 * default with its stack trace (the takeover is committed on the thread that took the lock: the
 * caller of tryLock, or the thread whose queue pump won the word).
 */
@Name(OwnerDeathTakeoverEvent.NAME)
@Label("Owner-Death Takeover")
@Category({"ringlock", "Locks"})
@Description("A lock taken over from an owner that died holding it")
@Enabled(true)
public final class OwnerDeathTakeoverEvent extends Event {
  /** The event type's name, as recordings and .jfc files name it. */
  public static final String NAME = "dev.ringlock.OwnerDeathTakeover";

  @Label("Object")
  @Description("The name of the object in its region")
  public String objectName;

  @Label("Object Type")
  @Description("mutex or read-write mutex")
  public String objectType;

  @Label("Dead PID")
  @Description(
      "The process that died holding the lock; 0 if another process had recorded the death"
          + " and the word no longer names it")
  public int deadPid;

  @Label("New Owner PID")
  @Description("The process that took the lock over: this one")
  public int newOwnerPid;

  @Label("Fence")
  @Description("The fence of the hold that took over")
  public long fence;

  /** Records a takeover of {@code objectType} object {@code objectName}, if enabled. */
  public static void record(
      String objectName, String objectType, int deadPid, int newOwnerPid, long fence) {
    OwnerDeathTakeoverEvent event = new OwnerDeathTakeoverEvent();
    if (event.shouldCommit()) {
      event.objectName = objectName;
      event.objectType = objectType;
      event.deadPid = deadPid;
      event.newOwnerPid = newOwnerPid;
      event.fence = fence;
      event.commit();
    }
  }
}
