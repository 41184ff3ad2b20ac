package dev.ringlock.locks.internal;

import static dev.ringlock.locks.internal.WaitQueueDescriptor.FREE;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WAITING;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WOKEN_ALL;
import static dev.ringlock.locks.internal.WaitQueueDescriptor.WOKEN_ONE;

/**
 * A wait queue view's dealings with dead processes (WaitQueueCore's overview, Process death):
 * whether a slot's owner lives, the exit watches on the foreign owners it examined, and reclaiming
 * a dead owner's slots, whose WOKEN_ONE wakes are passed on. Everything here runs under the queue's
 * list lock, which guards its state, except {@link #stopWatching} after a close's drain.
 */
final class WaitQueueReaper {
  /** Slots a re-check examines for dead owners each time, from where the last stopped. */
  private static final int SWEEP_SLOTS = 4096;

  private final WaitQueueCore queue;
  private final WaitQueueList list;
  private final int pid;
  private final boolean shared; // other processes may own slots: distrust them

  // foreign processes whose slots this view examined, watched for their exit
  private final PeerWatches watchedOwners;
  private int sweepCursor; // where the next sweep starts

  WaitQueueReaper(WaitQueueCore queue, int pid) {
    this.queue = queue;
    this.list = queue.list;
    this.watchedOwners = queue.waiters.peers; // the base's registry: an exit is its PEER_EXIT
    this.pid = pid;
    this.shared = queue.shared;
  }

  /**
   * Whether a slot's owner, as the slot names it, is alive. A live foreign owner is watched from
   * now on (once per queue and pid), so that its death reclaims its slots.
   */
  boolean ownerAlive(int owner) {
    if (owner == pid || !shared) {
      return true; // no other process maps a private queue
    }
    if (owner <= 0) {
      return false; // a slot half-freed by a list lock holder that died, or abandoned: nobody's
    }
    if (queue.gate.isClosed()) { // closing: ask, but leave no watch behind
      return watchedOwners.isWatched(owner) || watchedOwners.alive(owner);
    }
    // Watched already (alive, or its exit event is on its way), or now; false if it has exited.
    // Cannot tell (out of file descriptors): alive, PeerWatches's one policy; a sweep asks again.
    return watchedOwners.watch(owner);
  }

  /**
   * Event PEER_EXIT: a foreign owner this queue watched has exited: reclaim its slots. On the
   * ring's completion thread, which never waits for the list lock. A damaged region: nobody to tell
   * here; the next call that takes the list lock reports it to its caller. The registry dropped the
   * pid first, so that ownerAlive asks again: a reused pid lives.
   */
  void reclaimAllDead() {
    queue.tasks.runNowOrDefer(batch -> reclaimDeadSlots(0, list.capacity(), batch));
  }

  /** At close: no more exit listeners for this queue. */
  void stopWatching() {
    watchedOwners.unwatchAll();
  }

  /** At a re-check of a view with waiters: examines the next SWEEP_SLOTS slots (sweep (c)). */
  void sweep(WaitQueueBatch batch) {
    if (!shared) {
      return;
    }
    int capacity = list.capacity();
    int sweep = Math.min(SWEEP_SLOTS, capacity);
    reclaimDeadSlots(sweepCursor, sweep, batch);
    sweepCursor = (int) ((sweepCursor + (long) sweep) % capacity);
  }

  /**
   * Reclaims the slots of dead processes among {@code count} slots from {@code from} (wrapping
   * around), and passes on the WOKEN_ONE wakes they did not take. True if any slot was freed.
   */
  boolean reclaimDeadSlots(int from, int count, WaitQueueBatch batch) {
    int reclaimed = 0;
    int declined = 0;
    for (int i = 0, slot = from; i < count; i++, slot = list.nextIndex(slot)) {
      int state = list.lvState(slot);
      if (state != FREE && !queue.waiters.ownsSlot(slot) && !ownerAlive(list.owner(slot))) {
        if (reclaim(slot, state)) {
          declined++;
        }
        reclaimed++;
      }
    }
    if (declined > 0) {
      queue.choose(declined, Long.MAX_VALUE, WOKEN_ONE, batch); // to the longest live waiters
    }
    return reclaimed > 0;
  }

  /**
   * Frees a dead process's slot. True if the slot held a WOKEN_ONE wake that nobody took, which the
   * caller passes on.
   */
  boolean reclaim(int slot, int state) {
    switch (state) {
      case WAITING -> list.unlink(slot);
      case WOKEN_ONE, WOKEN_ALL -> {}
      default -> throw list.badState(slot, state);
    }
    list.free(slot);
    queue.stats.countTakeovers(1); // a wait queue's takeovers: dead waiters' slots reclaimed
    return state == WOKEN_ONE;
  }
}
