package dev.ringlock.locks.internal.jfr;

import jdk.jfr.FlightRecorder;

/*
 * Overview
 *
 * The one way the locks start an event: every entry asks first whether JFR has been initialized in
 * this JVM (FlightRecorder.isInitialized(), a static flag), and only then touches an event class.
 * Until a recording has been started (-XX:StartFlightRecording, jcmd JFR.start, a
 * jdk.jfr.Recording), no event can be enabled, and the first instantiation of a jdk.jfr.Event
 * subclass would load JFR's machinery: measured here at 1.1 to 1.6 s on a loaded 2-vCPU VM, paid by
 * the first contended acquisition or takeover of every JVM, which is exactly where latency hurts
 * (a takeover delayed by a second; a writer's claim late). With the check, a JVM that never
 * records loads this class and FlightRecorder (about 0.3 ms, once) and nothing else of JFR. Once
 * JFR is up, an event class loads in milliseconds and its own isEnabled()/shouldCommit() decide.
 *
 * This class extends nothing of JFR: calling a static method of an event class would initialize
 * it, which is the cost the check avoids.
 */
/** Starts the locks' JFR events, touching JFR only once it is initialized; see the source. */
public final class LockEvents {
  private LockEvents() {}

  /**
   * A contended-acquisition event begun now, or null if no recording enables it (or JFR is not up):
   * see {@link ContendedAcquisitionEvent#beginIfEnabled}.
   */
  public static ContendedAcquisitionEvent beginContended(
      String objectName, String objectType, String operation, int permits) {
    if (!FlightRecorder.isInitialized()) {
      return null;
    }
    return ContendedAcquisitionEvent.beginIfEnabled(objectName, objectType, operation, permits);
  }

  /** Records an owner-death takeover, if a recording enables it. */
  public static void takeover(
      String objectName, String objectType, int deadPid, int newOwnerPid, long fence) {
    if (FlightRecorder.isInitialized()) {
      OwnerDeathTakeoverEvent.record(objectName, objectType, deadPid, newOwnerPid, fence);
    }
  }

  /** Records a not-recoverable transition, if a recording enables it. */
  public static void notRecoverable(
      String objectName, String objectType, int pid, long fence, String how) {
    if (FlightRecorder.isInitialized()) {
      NotRecoverableEvent.record(objectName, objectType, pid, fence, how);
    }
  }
}
