package dev.ringlock.locks;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A fixed table of mutexes for per-entity locking ({@code order-<id>}) that never fills the region:
 * every key maps to one of {@link #stripes()} mutexes, as Guava's {@code Striped} does. From {@link
 * SharedRegion#stripedMutex(String, int)}.
 *
 * <pre>{@code
 * StripedMutex orders = region.stripedMutex("orders", 64);
 * orders.forKey(orderId).withLock(() -> ship(orderId));   // the same stripe in every process
 * }</pre>
 *
 * <p><b>Why striping, not deletion.</b> Named objects are never deleted, so one mutex per entity
 * fills the directory (1,024 names by default). Deleting a named object once no process uses it
 * would need every process's use of every name counted in the region, and a process that dies while
 * counted repaired; a stale count either leaks the name or, worse, lets a name be deleted and
 * recreated while a paused process still holds the old word, so two processes would hold "the same"
 * lock. A fixed table has none of that: {@code n} names, forever, whatever the number of keys. The
 * price is false contention: two keys on one stripe exclude each other.
 *
 * <p><b>Stable across processes.</b> A key's stripe depends on its value alone: a {@code long}
 * through a fixed bit mixer, a string through its UTF-8 bytes (FNV-1a), never on {@code hashCode()}
 * of an arbitrary object, which may be an identity hash that differs in every JVM (two processes
 * would then lock different stripes for one key, and exclude nothing). The stripes are named
 * mutexes {@code name#i/n}: the count is part of every name, and the region records the first count
 * used for a name; opening it with another count is refused ({@link IllegalStateException}), since
 * two counts would map one key to two different mutexes.
 *
 * <p><b>Not reentrant, and keys share stripes.</b> A holder of {@code forKey(a)} that calls {@code
 * forKey(b).lock()} waits for itself if both keys fall on one stripe. To hold several keys, take
 * {@link #forKeys(long...)}: their distinct stripes, in index order (a global order, so two
 * processes taking overlapping sets cannot deadlock).
 */
public final class StripedMutex {
  private final SharedRegion region;
  private final String name;
  private final int stripes;
  // created on first use (racing creators get the same object); the array publishes it safely
  private final AtomicReferenceArray<Mutex> mutexes;

  StripedMutex(SharedRegion region, String name, int stripes) {
    this.region = region;
    this.name = name;
    this.stripes = stripes;
    this.mutexes = new AtomicReferenceArray<>(stripes);
  }

  /**
   * The name of stripe {@code index} of family {@code name} with {@code stripes} stripes.
   *
   * @param name the family's name
   * @param index the stripe, 0 to stripes - 1
   * @param stripes the family's stripe count
   * @return the stripe's mutex name
   */
  static String stripeName(String name, int index, int stripes) {
    return name + "#" + index + "/" + stripes;
  }

  /**
   * The family's name, as given to {@link SharedRegion#stripedMutex(String, int)}.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * How many mutexes the keys are spread over.
   *
   * @return the stripe count
   */
  public int stripes() {
    return stripes;
  }

  /**
   * The mutex for {@code key}: the same stripe for the same key in every process.
   *
   * @param key an entity's id
   * @return its stripe's mutex
   * @throws dev.ringlock.core.RegionFullException if the stripe is used for the first time and the
   *     region has no room for it
   * @throws RegionClosedException if the region is closed
   */
  public Mutex forKey(long key) {
    return stripe(indexOf(key));
  }

  /**
   * The mutex for {@code key}, by its characters (their UTF-8 bytes): the same stripe for equal
   * strings in every process.
   *
   * @param key an entity's id
   * @return its stripe's mutex
   * @throws dev.ringlock.core.RegionFullException if the stripe is used for the first time and the
   *     region has no room for it
   * @throws RegionClosedException if the region is closed
   */
  public Mutex forKey(CharSequence key) {
    return stripe(indexOf(key));
  }

  /**
   * The distinct stripes of {@code keys}, in stripe order: lock them in that order (and release in
   * any order) to hold several keys at once without deadlock.
   *
   * @param keys entities' ids
   * @return their stripes' mutexes, each once, by increasing index
   */
  public List<Mutex> forKeys(long... keys) {
    int[] indexes = new int[keys.length];
    for (int i = 0; i < keys.length; i++) {
      indexes[i] = indexOf(keys[i]);
    }
    int[] distinct = Arrays.stream(indexes).sorted().distinct().toArray();
    List<Mutex> ordered = new ArrayList<>(distinct.length);
    for (int index : distinct) {
      ordered.add(stripe(index));
    }
    return ordered;
  }

  /**
   * Stripe {@code index} itself.
   *
   * @param index 0 to {@link #stripes()} - 1
   * @return that stripe's mutex
   * @throws IndexOutOfBoundsException if {@code index} is out of range
   */
  public Mutex stripe(int index) {
    Objects.checkIndex(index, stripes);
    Mutex mutex = mutexes.get(index);
    if (mutex == null) {
      // a benign race: region.mutex returns the one object per name to every caller
      mutex = region.mutex(stripeName(name, index, stripes));
      mutexes.set(index, mutex);
    }
    return mutex;
  }

  /**
   * The stripe of {@code key}: murmur3's 64-bit finalizer spreads neighbouring ids over all
   * stripes.
   *
   * @param key an entity's id
   * @return the stripe index, 0 to stripes - 1
   */
  public int indexOf(long key) {
    long h = key;
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return (int) Long.remainderUnsigned(h, stripes);
  }

  /**
   * The stripe of {@code key}: FNV-1a over its UTF-8 bytes, then {@link #indexOf(long)}'s mixer.
   *
   * @param key an entity's id
   * @return the stripe index, 0 to stripes - 1
   */
  public int indexOf(CharSequence key) {
    long hash = 0xcbf29ce484222325L;
    for (byte b : key.toString().getBytes(StandardCharsets.UTF_8)) {
      hash ^= b & 0xff;
      hash *= 0x100000001b3L;
    }
    return indexOf(hash);
  }

  @Override
  public String toString() {
    return "StripedMutex[" + name + ", " + stripes + " stripes]";
  }
}
