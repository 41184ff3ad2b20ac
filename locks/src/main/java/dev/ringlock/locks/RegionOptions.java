package dev.ringlock.locks;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.memory.PidLock;
import dev.ringlock.locks.internal.WaitQueueDescriptor;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How to open a {@link SharedRegion}. Size and capacity apply only when the call creates the region
 * file; attaching to an existing file uses the size and capacity recorded in it.
 *
 * <pre>{@code
 * RegionOptions options = RegionOptions.builder().regionSize(4 << 20).capacity(4096).build();
 * }</pre>
 *
 * <p>By default a region file is private to its owner: created 0600, and a file owned by another
 * user or writable by others is refused. {@link Builder#sharedWithGroup(String)} shares it with a
 * group instead (see docs/region-files.md for the trust model).
 */
public final class RegionOptions {
  /** 1 MiB. */
  public static final long DEFAULT_REGION_SIZE = 1 << 20;

  /** Named objects a region holds by default. */
  public static final int DEFAULT_CAPACITY = 1024;

  /** Waiters a wait queue holds at once, by default, when it is created. */
  public static final int DEFAULT_WAIT_QUEUE_CAPACITY = 1024;

  /**
   * Spins (each a {@link Thread#onSpinWait()}) a contended mutex lock() or semaphore acquire()
   * tries before it queues.
   */
  public static final int DEFAULT_SPIN_TRIES = 100;

  /** How long a synchronous call waits for another live process holding an internal lock (5 s). */
  public static final Duration DEFAULT_INTERNAL_LOCK_TIMEOUT = PidLock.DEFAULT_TIMEOUT;

  private static final RegionOptions DEFAULTS = builder().build();

  private final long regionSize;
  private final int capacity;
  private final FutexRing ring;
  private final int spinTries;
  private final boolean localHandoff;
  private final int waitQueueCapacity;
  private final Duration internalLockTimeout;
  private final String sharingGroup; // null: private to the owner

  private RegionOptions(Builder builder) {
    this.sharingGroup = builder.sharingGroup;
    this.regionSize = builder.regionSize;
    this.capacity = builder.capacity;
    this.ring = builder.ring;
    this.spinTries = builder.spinTries;
    this.localHandoff = builder.localHandoff;
    this.waitQueueCapacity = builder.waitQueueCapacity;
    this.internalLockTimeout = builder.internalLockTimeout;
  }

  /**
   * The defaults: 1 MiB, 1,024 objects, the default ring, private to this user.
   *
   * @return the default options
   */
  public static RegionOptions defaults() {
    return DEFAULTS;
  }

  /**
   * A builder that starts from {@link #defaults()}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Bytes of the region file when an open creates it.
   *
   * @return the size in bytes
   */
  public long regionSize() {
    return regionSize;
  }

  /**
   * How many named objects the directory holds when an open creates the region.
   *
   * @return the directory's capacity in names
   */
  public int capacity() {
    return capacity;
  }

  /**
   * The ring waits go through: the one given, or else the process-wide default ring.
   *
   * @return the ring
   */
  public FutexRing ring() {
    return ring != null ? ring : FutexRing.defaultRing();
  }

  /**
   * Spins before a contended acquire queues (a mutex's only while a thread of this process holds
   * it).
   *
   * @return the number of spins
   */
  public int spinTries() {
    return spinTries;
  }

  /**
   * Whether a release may hand the lock straight to a waiter queued in this process.
   *
   * @return true if in-process handoff is on
   */
  public boolean localHandoff() {
    return localHandoff;
  }

  /**
   * How many waiters a wait queue holds when {@link SharedRegion#waitQueue(String)} creates it.
   *
   * @return the capacity in waiters
   */
  public int waitQueueCapacity() {
    return waitQueueCapacity;
  }

  /**
   * How long a synchronous call (await, wake, signal, creating an object, close) waits for another
   * live process that holds one of the region's internal locks before it fails with {@link
   * dev.ringlock.core.InternalLockTimeoutException}. See docs/internal-locks.md.
   *
   * @return the bound on waiting for an internal lock
   */
  public Duration internalLockTimeout() {
    return internalLockTimeout;
  }

  /**
   * The group the region file is shared with ({@link Builder#sharedWithGroup(String)}); empty for a
   * file private to its owner.
   *
   * @return the group's name, or empty
   */
  public Optional<String> sharingGroup() {
    return Optional.ofNullable(sharingGroup);
  }

  @Override
  public String toString() {
    return "RegionOptions[size "
        + regionSize
        + ", capacity "
        + capacity
        + ", ring "
        + (ring != null ? ring : "default")
        + ", spinTries "
        + spinTries
        + ", localHandoff "
        + localHandoff
        + ", waitQueueCapacity "
        + waitQueueCapacity
        + ", internalLockTimeout "
        + internalLockTimeout
        + (sharingGroup != null ? ", sharedWithGroup " + sharingGroup : "")
        + "]";
  }

  /** A builder holding the defaults; sizes are checked when the region is opened. */
  public static final class Builder {
    private long regionSize = DEFAULT_REGION_SIZE;
    private int capacity = DEFAULT_CAPACITY;
    private FutexRing ring;
    private int spinTries = DEFAULT_SPIN_TRIES;
    private boolean localHandoff = true;
    private int waitQueueCapacity = DEFAULT_WAIT_QUEUE_CAPACITY;
    private Duration internalLockTimeout = DEFAULT_INTERNAL_LOCK_TIMEOUT;
    private String sharingGroup;

    private Builder() {}

    /**
     * Shares the region file with the members of {@code group}, for services whose processes run as
     * several users. A file this call creates gets that group and mode 0660 (set before the file
     * appears under its name; the creating user must be a member). Attaching accepts a file of that
     * group that others cannot write, whoever of the members owns it, as well as a file private to
     * this user. Every process must pass the same group. Without this option a region is private:
     * created 0600, and only files owned by this process's effective uid that nobody else may write
     * are accepted.
     *
     * @param group a group name, looked up (getgrnam) when the region is opened
     * @return this builder
     */
    public Builder sharedWithGroup(String group) {
      Objects.requireNonNull(group, "group");
      if (group.isEmpty() || group.indexOf('\0') >= 0) {
        throw new IllegalArgumentException("a group name must be nonempty, without NUL: " + group);
      }
      this.sharingGroup = group;
      return this;
    }

    /**
     * Bytes of the region file when this call creates it (rounded up to 64).
     *
     * @param bytes the size in bytes
     * @return this builder
     */
    public Builder regionSize(long bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("region size must be positive, not " + bytes);
      }
      this.regionSize = bytes;
      return this;
    }

    /**
     * How many named objects the region's directory holds, when this call creates it.
     *
     * @param objects the directory's capacity in names
     * @return this builder
     */
    public Builder capacity(int objects) {
      if (objects <= 0) {
        throw new IllegalArgumentException("capacity must be positive, not " + objects);
      }
      this.capacity = objects;
      return this;
    }

    /**
     * The ring for waits and wakes; by default the process-wide {@link FutexRing#defaultRing()}.
     *
     * @param ring the ring, or null for the default ring
     * @return this builder
     */
    public Builder ring(FutexRing ring) {
      this.ring = Objects.requireNonNull(ring, "ring");
      return this;
    }

    /**
     * Spins before a contended acquire queues (a mutex's lock(), a semaphore's acquire()); 0 queues
     * at once. A mutex spins only while a thread of this process holds it: against another process
     * a waiter that sleeps lets the holder's process run uncontended, as a robust pthread mutex
     * does (docs/mutex.md).
     *
     * @param tries the number of spins, 0 or more
     * @return this builder
     */
    public Builder spinTries(int tries) {
      if (tries < 0) {
        throw new IllegalArgumentException("spin tries must be 0 or more, not " + tries);
      }
      this.spinTries = tries;
      return this;
    }

    /**
     * Whether a release may hand the lock straight to a waiter queued in this process, with no
     * kernel round trip (the default). Off, every handover goes through FUTEX_WAKE and FUTEX_WAIT;
     * benchmarks use this to measure the difference.
     *
     * @param enabled whether in-process handoff is on
     * @return this builder
     */
    public Builder localHandoff(boolean enabled) {
      this.localHandoff = enabled;
      return this;
    }

    /**
     * How many waiters a wait queue created by {@link SharedRegion#waitQueue(String)} holds at once
     * (1 to 16,777,216; each takes 32 bytes of the region). It applies only when the queue is
     * created: an existing queue keeps its own.
     *
     * @param waiters the capacity in waiters
     * @return this builder
     */
    public Builder waitQueueCapacity(int waiters) {
      WaitQueueDescriptor.checkCapacity(waiters);
      this.waitQueueCapacity = waiters;
      return this;
    }

    /**
     * How long a synchronous call waits for another live process holding one of the region's
     * internal locks (a wait queue's or condition's list lock, the directory lock) before it fails
     * with {@link dev.ringlock.core.InternalLockTimeoutException}; 5 s by default. A timed await
     * waits at most its own timeout. A dead holder's lock is taken over at once, whatever this is.
     *
     * @param timeout the bound on waiting for an internal lock
     * @return this builder
     */
    public Builder internalLockTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException(
            "internal lock timeout must be positive, not " + timeout);
      }
      this.internalLockTimeout = timeout;
      return this;
    }

    /**
     * The options set so far.
     *
     * @return the options
     */
    public RegionOptions build() {
      return new RegionOptions(this);
    }
  }
}
