package dev.ringlock.jcstress;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Objects a test instance takes for itself alone and its arbiter gives back once it has restored
 * them: made on demand (numbered from 0), so a pool grows to the number of instances alive at once
 * (a whole jcstress epoch: strideSize x strideCount, 10,240 by default), and reused once given
 * back. An object an arbiter could not restore (a forbidden outcome) is simply not given back.
 */
final class ObjectPool<T> {
  private final ConcurrentLinkedQueue<T> free = new ConcurrentLinkedQueue<>();
  private final AtomicInteger made = new AtomicInteger();
  private final int max;
  private final IntFunction<T> make;

  ObjectPool(int max, IntFunction<T> make) {
    this.max = max;
    this.make = make;
  }

  T take() {
    T object = free.poll();
    if (object != null) {
      return object;
    }
    int number = made.getAndIncrement();
    if (number >= max) {
      throw new IllegalStateException("more than " + max + " pooled objects in use at once");
    }
    return make.apply(number);
  }

  void giveBack(T object) {
    free.add(object);
  }
}
