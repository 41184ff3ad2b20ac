package dev.ringlock.locks;

/** The wait queue on an in-memory region: private futexes, one process. */
class WaitQueueInMemoryTest extends AbstractWaitQueueTest {
  WaitQueueInMemoryTest() {
    super(Backing.IN_MEMORY);
  }
}
