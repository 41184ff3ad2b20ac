package dev.ringlock.locks;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexScope;
import dev.ringlock.core.InvalidRegionException;
import dev.ringlock.core.ProcessWatch;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.NamedObject;
import dev.ringlock.core.memory.RegionAccess;
import dev.ringlock.locks.internal.ConditionCore;
import dev.ringlock.locks.internal.MutexCore;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.ObjectStatsDescriptor;
import dev.ringlock.locks.internal.ObjectType;
import dev.ringlock.locks.internal.ReadWriteMutexCore;
import dev.ringlock.locks.internal.ReadWriteMutexDescriptor;
import dev.ringlock.locks.internal.SemaphoreCore;
import dev.ringlock.locks.internal.SemaphoreDescriptor;
import dev.ringlock.locks.internal.WaitQueueCore;
import dev.ringlock.locks.internal.WaitQueueDescriptor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A region of shared memory holding named locks: a file, mapped by every process that opens it
 * (default home: /dev/shm), or memory private to this process ({@link #inMemory()}).
 *
 * <pre>{@code
 * try (SharedRegion region = SharedRegion.open(Path.of("/dev/shm/orders.locks"))) {
 *   Mutex mutex = region.mutex("orders");            // the same lock in every process
 *   mutex.lock().thenAccept(guard -> {
 *     try (guard) { ...critical section... }
 *   });
 *   Semaphore connections = region.semaphore("db-connections", 8); // 8 permits, if new
 *   connections.acquire(1).thenRun(...);
 * }
 * }</pre>
 *
 * <p>{@link #open(Path)} creates the file (mode 0600, complete before it appears under its name) or
 * attaches to it after checking its type, owner, mode, header, directory and size; a symbolic link,
 * a file another user owns or others may write (unless {@link
 * RegionOptions.Builder#sharedWithGroup(String)}), and a file that is not a sound region are
 * refused with {@link dev.ringlock.core.InvalidRegionException} and left untouched.
 *
 * <p>If the file is deleted or replaced while the region is open (systemd-logind's {@code
 * RemoveIPC=yes}, a tmp cleaner), processes opening the path afterwards no longer share this one's
 * locks. The region notices within about a second (system property {@code
 * ringlock.regionFileCheckMillis}; at once on a lookup of a new object), logs one ERROR and closes
 * itself: every further call fails with {@link RegionClosedException}, whose cause is the {@link
 * dev.ringlock.core.InvalidRegionException} with problem {@code FILE_REPLACED}. Open the region
 * again to join the others on the new file. See docs/region-files.md. Names are 1 to {@value
 * dev.ringlock.core.memory.MappedRegion#MAX_NAME_BYTES} bytes of UTF-8; several processes creating
 * the same name at once get the same object.
 *
 * <p>Processes that share a region must trust each other, as with a POSIX process-shared mutex: any
 * of them can corrupt it. They must also share a PID namespace, since lock words hold PIDs. Never
 * shrink a region file: a compare-and-set on a mapping whose file shrank kills the JVM.
 *
 * <p>Thread-safe. {@link #close()} fails pending acquisitions and waits with {@link
 * RegionClosedException}, releases the mutexes this process still holds (as closing a {@code
 * FileChannel} releases its locks; left held they would wedge every other process) and unmaps the
 * memory. Semaphore permits are counts, not ownership: closing releases none.
 */
public final class SharedRegion implements AutoCloseable {
  private final MappedRegion memory;
  private final RegionOptions options;
  private final FutexRing ring;
  private static final long FLUSH_PATIENCE_MILLIS = 100; // close(): see awaitWakesSubmitted
  private final FutexScope scope;
  private final int pid;
  private final ConcurrentHashMap<String, MutexCore> mutexes = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, SemaphoreCore> semaphores = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, WaitQueueCore> waitQueues = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, ConditionCore> conditions = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, ReadWriteMutexCore> readWriteMutexes =
      new ConcurrentHashMap<>();
  private volatile boolean closed;
  private volatile InvalidRegionException fileLost; // why the region closed itself, if it did

  private SharedRegion(MappedRegion memory, RegionOptions options, FutexRing ring) {
    this.memory = memory;
    this.options = options;
    this.ring = ring;
    this.scope = memory.isFileBacked() ? FutexScope.SHARED : FutexScope.PRIVATE;
    this.pid = Math.toIntExact(ProcessHandle.current().pid());
  }

  /** Closes the region once its file is lost: its locks no longer exclude other processes'. */
  private void closeBecauseFileLost(InvalidRegionException lost) {
    fileLost = lost;
    close();
  }

  /**
   * Creates the region file with the default options, or attaches to it.
   *
   * @param file the region file
   * @return the open region; close it when done
   * @throws IOException if the file cannot be created, opened or mapped
   */
  public static SharedRegion open(Path file) throws IOException {
    return open(file, RegionOptions.defaults());
  }

  /**
   * Creates the region file (mode 0600) or attaches to it. Size and capacity in {@code options}
   * apply only when this call creates the file.
   *
   * @param file the region file
   * @param options the region's options; size and capacity apply only when it is created
   * @return the open region; close it when done
   * @throws dev.ringlock.core.InvalidRegionException if the file exists but is not a sound region
   *     (not a region, a newer layout, truncated, a directory pointing outside the file), or is a
   *     symbolic link, not a regular file, owned by another user or writable by others (problems
   *     SYMBOLIC_LINK, NOT_A_REGULAR_FILE, FOREIGN_OWNER, WRITABLE_BY_OTHERS); the file is not
   *     modified
   * @throws IllegalArgumentException if {@link RegionOptions#sharingGroup()} names no group
   * @throws dev.ringlock.core.IoUringUnavailableException if the ring cannot be opened
   * @throws dev.ringlock.core.ExitDetectionUnavailableException if this process cannot see other
   *     processes exit (pidfd_open refused, and no readable /proc): a dead owner's lock could never
   *     be taken over
   */
  public static SharedRegion open(Path file, RegionOptions options) throws IOException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(options, "options");
    FutexRing ring = options.ring(); // first: without a ring the region is useless
    ProcessWatch.requireExitDetection(); // before the file: refused, it is left untouched
    RegionAccess access =
        options.sharingGroup().map(RegionAccess::sharedWithGroup).orElse(RegionAccess.ownerOnly());
    MappedRegion memory = MappedRegion.open(file, options.regionSize(), options.capacity(), access);
    memory.internalLockTimeout(options.internalLockTimeout());
    SharedRegion region = new SharedRegion(memory, options, ring);
    memory.onFileLost(region::closeBecauseFileLost);
    return region;
  }

  /**
   * A region in this process's memory with the default options: private futexes, no file.
   *
   * @return the region
   */
  public static SharedRegion inMemory() {
    return inMemory(RegionOptions.defaults());
  }

  /**
   * A region in this process's memory: the same API with private futexes, for one process.
   *
   * @param options the region's options
   * @return the region
   */
  public static SharedRegion inMemory(RegionOptions options) {
    Objects.requireNonNull(options, "options");
    FutexRing ring = options.ring();
    return new SharedRegion(
        MappedRegion.inMemory(options.regionSize(), options.capacity()), options, ring);
  }

  /**
   * The mutex called {@code name}, created free if the region has none yet. Every call with the
   * same name returns the same object in this process, and the same lock in every process.
   *
   * @param name the object's name in the region
   * @return the mutex
   * @throws IllegalArgumentException if the name is empty, longer than {@value
   *     MappedRegion#MAX_NAME_BYTES} UTF-8 bytes, or names another kind of object
   * @throws dev.ringlock.core.RegionFullException if the directory or the data area is full
   * @throws RegionClosedException if the region is closed
   */
  public Mutex mutex(String name) {
    Objects.requireNonNull(name, "name");
    checkOpen();
    return cachedOrAttached(mutexes, name, this::attachMutex);
  }

  private MutexCore attachMutex(String name) {
    NamedObject object =
        namedObject(
            name,
            ObjectType.MUTEX,
            ObjectStatsDescriptor.withStats(MutexDescriptor.SIZE),
            created -> {});
    return new MutexCore(
        name,
        memory,
        object.offset(),
        scope,
        ring,
        pid,
        options.localHandoff(),
        options.spinTries(),
        options.waitQueueCapacity());
  }

  /** The most stripes a {@link #stripedMutex} may have. */
  public static final int MAX_STRIPES = 4096;

  /**
   * A fixed table of {@code stripes} mutexes over which keys are spread ({@link
   * StripedMutex#forKey(long)}): per-entity locks that never fill the region, however many entities
   * there are. The stripes are named mutexes {@code name#i/stripes}, created as first used (stripe
   * 0 now), so the family takes at most {@code stripes} of the region's names.
   *
   * @param name the family's name; its stripes' names ({@code name#i/stripes}) must fit in {@value
   *     MappedRegion#MAX_NAME_BYTES} UTF-8 bytes
   * @param stripes how many mutexes, 1 to {@value #MAX_STRIPES}; every process must use the same
   * @return the striped mutex
   * @throws IllegalArgumentException if {@code stripes} is out of range or the names do not fit
   * @throws IllegalStateException if the family was first opened in this region with another stripe
   *     count
   * @throws dev.ringlock.core.RegionFullException if the region has no room for stripe 0
   * @throws RegionClosedException if the region is closed
   */
  public StripedMutex stripedMutex(String name, int stripes) {
    Objects.requireNonNull(name, "name");
    if (stripes < 1 || stripes > MAX_STRIPES) {
      throw new IllegalArgumentException(
          "striped mutex '" + name + "': stripes must be 1 to " + MAX_STRIPES + ", not " + stripes);
    }
    String longest = StripedMutex.stripeName(name, stripes - 1, stripes);
    if (longest.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
        > MappedRegion.MAX_NAME_BYTES) {
      throw new IllegalArgumentException(
          "striped mutex '"
              + name
              + "': its stripes' names ('"
              + longest
              + "') exceed "
              + MappedRegion.MAX_NAME_BYTES
              + " UTF-8 bytes; use a shorter name");
    }
    StripedMutex family = new StripedMutex(this, name, stripes);
    family.stripe(0); // published before the count check, so racing openers agree (see there)
    checkOnlyStripeCount(name, stripes);
    return family;
  }

  /**
   * Refuses a family opened with another stripe count than the one first used in this region: two
   * counts map one key to two different mutexes, and would exclude nothing. Each opener publishes
   * its stripe 0 first, then looks: the directory lists objects in creation order, so every opener
   * sees the same first family, and every other one is refused (its stray stripe 0 stays unused).
   */
  private void checkOnlyStripeCount(String name, int stripes) {
    String prefix = name + "#0/";
    for (NamedObject object : memory.objects()) {
      String other = object.name();
      if (other.startsWith(prefix)) {
        if (other.equals(StripedMutex.stripeName(name, 0, stripes))) {
          return; // ours is the first family of this name
        }
        throw new IllegalStateException(
            "striped mutex '"
                + name
                + "' was first opened in "
                + (memory.isFileBacked() ? memory.file() : "this in-memory region")
                + " with "
                + other.substring(prefix.length())
                + " stripes, not "
                + stripes
                + ": every process must open it with the same count (or use another name)");
      }
    }
  }

  /**
   * The read-write mutex called {@code name}, created free if the region has none yet. Every call
   * with the same name returns the same object in this process, and the same lock in every process
   * (docs/read-write-mutex.md).
   *
   * @param name the object's name in the region
   * @return the read-write mutex
   * @throws IllegalArgumentException if the name is empty, longer than {@value
   *     MappedRegion#MAX_NAME_BYTES} UTF-8 bytes, or names another kind of object
   * @throws dev.ringlock.core.RegionFullException if the directory or the data area is full
   * @throws RegionClosedException if the region is closed
   */
  public ReadWriteMutex readWriteMutex(String name) {
    Objects.requireNonNull(name, "name");
    checkOpen();
    return cachedOrAttached(readWriteMutexes, name, this::attachReadWriteMutex);
  }

  private ReadWriteMutexCore attachReadWriteMutex(String name) {
    NamedObject object =
        namedObject(
            name,
            ObjectType.READ_WRITE_MUTEX,
            ObjectStatsDescriptor.withStats(ReadWriteMutexDescriptor.SIZE),
            created -> {});
    return new ReadWriteMutexCore(
        name, memory, object.offset(), scope, ring, pid, options.localHandoff());
  }

  /**
   * The wait queue called {@code name}, created empty with room for {@link
   * RegionOptions#waitQueueCapacity()} waiters if the region has none yet. Every call with the same
   * name returns the same object in this process, and the same queue in every process.
   *
   * @param name the object's name in the region
   * @return the wait queue
   * @throws IllegalArgumentException if the name is empty, longer than {@value
   *     MappedRegion#MAX_NAME_BYTES} UTF-8 bytes, or names another kind of object
   * @throws dev.ringlock.core.RegionFullException if the directory or the data area is full
   * @throws RegionClosedException if the region is closed
   */
  public WaitQueue waitQueue(String name) {
    return waitQueue(name, options.waitQueueCapacity());
  }

  /**
   * As {@link #waitQueue(String)}, with room for {@code capacity} waiters (32 bytes of the region
   * each) if this call creates the queue; an existing queue keeps the capacity it was created with.
   *
   * @param name the object's name in the region
   * @param capacity the most waiters at once, if it is created now
   * @return the wait queue
   * @throws IllegalArgumentException also if the capacity is outside 1..16,777,216
   */
  public WaitQueue waitQueue(String name, int capacity) {
    Objects.requireNonNull(name, "name");
    WaitQueueDescriptor.checkCapacity(capacity);
    checkOpen();
    return cachedOrAttached(
        waitQueues, name, created -> attachQueue(created, ObjectType.WAIT_QUEUE, capacity));
  }

  /** A wait queue object, as a WAIT_QUEUE or as the queue of a CONDITION. */
  private WaitQueueCore attachQueue(String name, int type, int capacity) {
    checkType(name, type);
    NamedObject object =
        memory.findOrCreateSizedByCreator(
            name,
            type,
            WaitQueueDescriptor.objectBytesFor(capacity),
            WaitQueueDescriptor.initializer(capacity));
    return new WaitQueueCore(
        ObjectType.name(type),
        name,
        memory,
        object,
        scope,
        ring,
        pid,
        options.internalLockTimeout());
  }

  /**
   * The condition variable called {@code name}, created with room for {@link
   * RegionOptions#waitQueueCapacity()} waiters if the region has none yet. Every call with the same
   * name returns the same object in this process, and the same condition in every process. It may
   * be used with any mutex, of this region or another.
   *
   * @param name the object's name in the region
   * @return the condition variable
   * @throws IllegalArgumentException if the name is empty, longer than {@value
   *     MappedRegion#MAX_NAME_BYTES} UTF-8 bytes, or names another kind of object
   * @throws dev.ringlock.core.RegionFullException if the directory or the data area is full
   * @throws RegionClosedException if the region is closed
   */
  public ConditionVariable condition(String name) {
    return condition(name, options.waitQueueCapacity());
  }

  /**
   * As {@link #condition(String)}, with room for {@code capacity} waiters (32 bytes of the region
   * each) if this call creates it; an existing condition keeps its capacity.
   *
   * @param name the object's name in the region
   * @param capacity the most waiters at once, if it is created now
   * @return the condition variable
   * @throws IllegalArgumentException also if the capacity is outside 1..16,777,216
   */
  public ConditionVariable condition(String name, int capacity) {
    Objects.requireNonNull(name, "name");
    WaitQueueDescriptor.checkCapacity(capacity);
    checkOpen();
    return cachedOrAttached(
        conditions,
        name,
        created ->
            new ConditionCore(created, attachQueue(created, ObjectType.CONDITION, capacity)));
  }

  /**
   * The semaphore called {@code name}, created with {@code initialPermits} permits and the default
   * {@link SemaphoreOptions} (undo on exit: a dead process's permits come back) if the region has
   * none yet; for an existing semaphore {@code initialPermits} is ignored (it is still checked).
   * Every call with the same name returns the same object in this process, and the same semaphore
   * in every process.
   *
   * @param initialPermits 0 or more; at most {@link Semaphore#MAX_PERMITS}, or {@link
   *     Semaphore#MAX_UNDO_PERMITS} with undo on exit (the default)
   * @param name the object's name in the region
   * @return the semaphore
   * @throws IllegalArgumentException if {@code initialPermits} is negative or above that maximum,
   *     or the name is empty, longer than {@value MappedRegion#MAX_NAME_BYTES} UTF-8 bytes, or
   *     names another kind of object
   * @throws IllegalStateException if the semaphore exists with other options (undo on exit off)
   * @throws dev.ringlock.core.RegionFullException if the directory or the data area is full
   * @throws RegionClosedException if the region is closed
   */
  public Semaphore semaphore(String name, int initialPermits) {
    return semaphore(name, initialPermits, SemaphoreOptions.defaults());
  }

  /**
   * As {@link #semaphore(String, int)}, created with {@code options} if the region has none yet.
   * The options are fixed at creation: every process must open the semaphore with the same ones.
   *
   * @param name the object's name in the region
   * @param initialPermits as {@link #semaphore(String, int)}
   * @param options the semaphore's options, fixed when it is created
   * @return the semaphore
   * @throws IllegalStateException if the semaphore exists with other options; nothing changes
   */
  public Semaphore semaphore(String name, int initialPermits, SemaphoreOptions options) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(options, "options");
    SemaphoreCore.checkInitial(initialPermits, options);
    checkOpen();
    SemaphoreCore semaphore =
        cachedOrAttached(
            semaphores, name, created -> attachSemaphore(created, initialPermits, options));
    semaphore.checkOptions(options);
    return semaphore;
  }

  private SemaphoreCore attachSemaphore(String name, int initialPermits, SemaphoreOptions options) {
    NamedObject object =
        namedObject(
            name,
            ObjectType.SEMAPHORE,
            ObjectStatsDescriptor.withStats(SemaphoreDescriptor.SIZE),
            created -> SemaphoreCore.initialize(created, initialPermits, options));
    return new SemaphoreCore(
        name, memory, object.offset(), scope, ring, pid, this.options.spinTries());
  }

  /**
   * A fixed-size object: found, or created and given its initial bytes by {@code initializer}.
   * {@code bytes} include its stats line (ObjectStatsDescriptor.withStats).
   */
  private NamedObject namedObject(
      String name, int type, int bytes, Consumer<MemorySegment> initializer) {
    checkType(name, type);
    // findOrCreate also refuses an existing object shorter than `bytes` (IllegalArgumentException)
    return memory.findOrCreate(name, type, bytes, initializer);
  }

  /** A clear refusal of a name that exists as another kind of object. */
  private void checkType(String name, int type) {
    Optional<NamedObject> found = memory.find(name);
    if (found.isPresent() && found.get().type() != type) {
      throw new IllegalArgumentException(
          "'"
              + name
              + "' already exists in "
              + this
              + " as a "
              + ObjectType.name(found.get().type())
              + ", not a "
              + ObjectType.name(type));
    }
  }

  /**
   * This process's object for {@code name}: the one made before, or a new one {@code attach} makes
   * (once, however many threads ask at the same time).
   */
  private <T> T cachedOrAttached(
      ConcurrentHashMap<String, T> cache, String name, Function<String, T> attach) {
    T existing = cache.get(name); // the common case, without computeIfAbsent's locking
    if (existing != null) {
      return existing;
    }
    try {
      memory.checkFile(); // an object new to this process: make sure the file is still the one
    } catch (java.io.UncheckedIOException lost) {
      checkOpen(); // the listener closed the region: say so the way every later call does
      throw lost;
    }
    // Attaching and close() both hold the monitor: an object is either attached before close
    // flips `closed` (and so is in the map close() then walks, and gets closed) or refused. Without
    // it, close could walk the maps while an attach was inserting, and that object's kernel waits
    // would outlive the mapping. A cached object found after close fails its own calls.
    synchronized (this) {
      checkOpen();
      try {
        return cache.computeIfAbsent(name, attach);
      } catch (InternalError fault) {
        throw memory.truncated(fault); // the file shrank under the mapping
      }
    }
  }

  /**
   * The region file, or null for an in-memory region.
   *
   * @return the region file, or null
   */
  public Path file() {
    return memory.file();
  }

  /**
   * The region's size in bytes.
   *
   * @return the size in bytes
   */
  public long size() {
    return memory.size();
  }

  /**
   * How many named objects the region's directory holds.
   *
   * @return the directory's capacity in names
   */
  public int capacity() {
    return memory.capacity();
  }

  /**
   * The ring this region's locks wait through.
   *
   * @return the ring
   */
  public FutexRing ring() {
    return ring;
  }

  /**
   * Whether {@link #close()} was called, or the region closed itself (its file was lost).
   *
   * @return true once the region is closed
   */
  public boolean isClosed() {
    return closed;
  }

  /**
   * Fails pending acquisitions and waits with {@link RegionClosedException}, releases what this
   * process holds, unmaps. Wakes already issued (a wait queue's, a release's) reach the kernel
   * before the memory goes (waiting at most 100 ms for a busy completion thread). Always finishes,
   * in bounded time, and never throws: an object whose internal lock another live process holds, or
   * whose words are damaged, is closed without it (see docs/internal-locks.md), and the next object
   * is closed regardless. Idempotent: a second call does nothing.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    try {
      mutexes.values().forEach(mutex -> closeQuietly(mutex, mutex::close));
      readWriteMutexes.values().forEach(lock -> closeQuietly(lock, lock::close));
      semaphores.values().forEach(semaphore -> closeQuietly(semaphore, semaphore::close));
      waitQueues.values().forEach(queue -> closeQuietly(queue, queue::close));
      conditions.values().forEach(condition -> closeQuietly(condition, condition::close));
      awaitWakesSubmitted();
    } finally {
      memory.close(); // unmapped whatever happened above
      // Now no access through this region's read-write mutexes can reach their reader records:
      // another view of this process may reuse them (ReaderRecords.ensureSlot).
      readWriteMutexes.values().forEach(ReadWriteMutexCore::recordUnmapped);
    }
  }

  /**
   * The wakes of releases made before close (a mutex's, a semaphore's, a read-write mutex's
   * fire-and-forget signals) must reach the kernel while the words are mapped: submitted after the
   * unmap they fail (EFAULT), and the waiters in other processes would sleep until their re-check.
   * Waits for the ring's submission of them (at once on the completion thread, where it submits
   * itself), at most FLUSH_PATIENCE_MILLIS: a completion thread held that long by a continuation
   * must not hold close() up; then those waiters wake at their re-check.
   */
  private void awaitWakesSubmitted() {
    try {
      ring.flush().get(FLUSH_PATIENCE_MILLIS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // the completion thread is busy in a continuation, or the ring failed (its wakes were made)
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Closes one object; a failure (a damaged region) stops neither close() nor the other objects. It
   * is logged: the caller of close() can do nothing about it, and each object has failed its own
   * pending futures by then.
   */
  private void closeQuietly(Object object, Runnable close) {
    try {
      close.run();
    } catch (RuntimeException | InternalError e) { // InternalError: a mapping whose file shrank
      System.getLogger(SharedRegion.class.getName())
          .log(System.Logger.Level.WARNING, "closing " + object + " in " + this + " failed", e);
    }
  }

  private void checkOpen() {
    if (closed) {
      InvalidRegionException lost = fileLost;
      if (lost != null) {
        throw new RegionClosedException(this + " closed itself because " + lost.getMessage(), lost);
      }
      throw new RegionClosedException(this + " is closed; open it again to use its locks");
    }
  }

  @Override
  public String toString() {
    return "SharedRegion[" + (memory.isFileBacked() ? memory.file() : "in memory") + "]";
  }
}
