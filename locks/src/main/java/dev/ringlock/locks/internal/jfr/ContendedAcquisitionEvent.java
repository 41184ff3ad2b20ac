package dev.ringlock.locks.internal.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;

/*
 * Overview
 *
 * One acquisition that had to queue (a lock, read, write or semaphore acquire that the fast path
 * could not grant), timed from its request to its grant, and committed only if the wait reached
 * the recording's threshold (10 ms unless a recording or .jfc says otherwise). Shaped like the
 * JDK's own timed events (jdk.ThreadPark, jdk.SocketRead): begin() when the wait starts, end() when
 * it stops, and the fields are filled in only once shouldCommit() said the event will be written.
 *
 * What it costs: nothing on an uncontended acquisition, which never creates one. A queued request
 * asks isEnabled() once (a static flag the JVM keeps for the event type; false while no recording
 * enables the event); only then does it begin an event and, at its grant, ask shouldCommit()
 * (enabled and past the threshold) before it sets the fields and commits.
 *
 * No stack trace: the event is committed by the thread that granted (often the ring's completion
 * thread, or the releasing holder's thread), and an asynchronous caller may have had no thread
 * waiting at all, so neither thread's stack would say who waited. The event's thread is likewise
 * the granting one; the object's name says what was waited for.
 */
/** A contended acquisition of a ringlock object that waited at least the threshold. */
@Name(ContendedAcquisitionEvent.NAME)
@Label("Contended Acquisition")
@Category({"ringlock", "Locks"})
@Description(
    "A lock, read, write or semaphore acquisition that queued, from its request to its grant")
@Enabled(true)
@Threshold(ContendedAcquisitionEvent.DEFAULT_THRESHOLD)
@StackTrace(false)
public final class ContendedAcquisitionEvent extends Event {
  /** The event type's name, as recordings and .jfc files name it. */
  public static final String NAME = "dev.ringlock.ContendedAcquisition";

  /** The threshold unless a recording's settings say otherwise. */
  public static final String DEFAULT_THRESHOLD = "10 ms";

  @Label("Object")
  @Description("The name of the object in its region")
  public String objectName;

  @Label("Object Type")
  @Description("mutex, semaphore or read-write mutex")
  public String objectType;

  @Label("Operation")
  @Description("lock, acquire, read or write")
  public String operation;

  @Label("Permits")
  @Description("The permits a semaphore acquire asked for; 0 for the locks")
  public int permits;

  @Label("Owner PID at Start")
  @Description(
      "The process that held the lock (the writer, for a read-write mutex) when the request"
          + " queued; 0 if none did, or a semaphore")
  public int ownerPidAtStart;

  @Label("Fence")
  @Description("The fence of the hold granted; 0 for a read hold or semaphore permits")
  public long fence;

  @Label("Owner Died")
  @Description("The hold was taken over from an owner that died holding the lock")
  public boolean ownerDied;

  /**
   * An event begun now for a request of {@code objectType} object {@code objectName}, or null if no
   * recording enables the event type: a request that gets null records nothing and pays nothing
   * more. The caller sets {@link #ownerPidAtStart} on an event it gets, since that reads the word.
   */
  public static ContendedAcquisitionEvent beginIfEnabled(
      String objectName, String objectType, String operation, int permits) {
    ContendedAcquisitionEvent event = new ContendedAcquisitionEvent();
    if (!event.isEnabled()) {
      return null; // the event never escapes, so the JIT may drop the allocation
    }
    event.objectName = objectName;
    event.objectType = objectType;
    event.operation = operation;
    event.permits = permits;
    event.begin();
    return event;
  }

  /**
   * The grant: commits the event, ended earlier when its request left the queue, with the hold's
   * {@code fence} and {@code ownerDied}, if it reached the threshold.
   */
  public void granted(long fence, boolean ownerDied) {
    if (shouldCommit()) {
      this.fence = fence;
      this.ownerDied = ownerDied;
      commit();
    }
  }
}
