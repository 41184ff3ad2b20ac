package dev.ringlock.locks;

/** The wait queue on a region file: shared futexes, as between processes. */
class WaitQueueFileTest extends AbstractWaitQueueTest {
  WaitQueueFileTest() {
    super(Backing.FILE);
  }
}
