package dev.ringlock.locks.internal;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.NamedObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The condition variables of one mutex's {@code asLock().newCondition()}: private to this process
 * (a j.u.c. Condition has no name another process could find), so each one's wait queue lives in
 * memory of its own, with private futexes, on the mutex's ring. They last until the mutex's region
 * closes ({@link #closeAll}).
 */
final class LocalConditions {
  // a region's header and one directory entry, around a private condition's queue
  private static final long SPARE_BYTES = 4096;

  private final String mutexName;
  private final FutexRing ring;
  private final int pid;
  private final int capacity; // of each condition's queue
  private final Supplier<RuntimeException> closedException; // the mutex's
  private final List<ConditionCore> conditions = new ArrayList<>(); // guarded by this
  private boolean closed; // guarded by this

  LocalConditions(
      String mutexName,
      FutexRing ring,
      int pid,
      int capacity,
      Supplier<RuntimeException> closedException) {
    this.mutexName = mutexName;
    this.ring = ring;
    this.pid = pid;
    this.capacity = capacity;
    this.closedException = closedException;
  }

  /** A new condition, in memory of its own; refused once the mutex's region has closed. */
  synchronized ConditionCore create() {
    if (closed) {
      throw closedException.get();
    }
    String conditionName = mutexName + " condition " + (conditions.size() + 1);
    MappedRegion memory =
        MappedRegion.inMemory(WaitQueueDescriptor.objectBytesFor(capacity) + SPARE_BYTES, 1);
    NamedObject object =
        memory.findOrCreateSizedByCreator(
            conditionName,
            ObjectType.CONDITION,
            WaitQueueDescriptor.objectBytesFor(capacity),
            WaitQueueDescriptor.initializer(capacity));
    WaitQueueCore queue =
        new WaitQueueCore(
            ObjectType.name(ObjectType.CONDITION),
            conditionName,
            memory,
            object,
            FutexScope.PRIVATE,
            ring,
            pid);
    ConditionCore condition = new ConditionCore(conditionName, queue, memory::close);
    conditions.add(condition);
    return condition;
  }

  /** Closes every condition (their awaits fail with RegionClosedException) and frees its memory. */
  void closeAll() {
    List<ConditionCore> closing;
    synchronized (this) {
      closed = true;
      closing = List.copyOf(conditions);
      conditions.clear();
    }
    closing.forEach(ConditionCore::close);
  }
}
