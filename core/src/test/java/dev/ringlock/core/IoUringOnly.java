package dev.ringlock.core;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A test about the io_uring backend itself (its batches, queues, doorbell, completion thread): its
 * ring is opened with {@link FutexRing.Backend#IO_URING} whatever {@code -Dringlock.backend} says,
 * so it runs, and means the same, in both CI executions. {@link #value()} says why.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@interface IoUringOnly {
  /** What makes the test io_uring-specific. */
  String value();
}
