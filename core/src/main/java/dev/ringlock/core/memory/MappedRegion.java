package dev.ringlock.core.memory;

import dev.ringlock.core.InvalidRegionException;
import dev.ringlock.core.InvalidRegionException.Problem;
import dev.ringlock.core.ffi.Errno;
import dev.ringlock.core.ffi.FileLimits;
import dev.ringlock.core.ffi.Statx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/*
 * Overview
 *
 * A region is a file (usually under /dev/shm) mapped MAP_SHARED by every process that uses it,
 * holding named objects: a name, an int type tag, and 64-byte-aligned bytes. Core knows nothing
 * of what an object is; the locks module builds its primitives inside them.
 *
 * Layout (RegionDescriptor defines every offset):
 *
 *   0      header line 0   magic "RINGLOCK", layout version, sizes, directory and data offsets;
 *                          written once before the file gets its name, constant after
 *   64     header line 1   directory lock word, published entry count, data cursor
 *   128    directory       capacity entries of 128 bytes: type, name length, object offset,
 *                          object length, name (up to 96 bytes of UTF-8)
 *   ...    data            objects, bump-allocated in whole 64-byte lines, never freed
 *
 * Creation protocol (RegionFiles). A region is built completely in a temporary 0600 file and
 * then published with link(2), which fails if the name exists; the loser attaches to the
 * winner's file. So the name never refers to a partial region, and every process that opens
 * the name ends up on one file. Attaching reads and checks the header with FileChannel.read,
 * writes nothing, and maps exactly the size the header records (never beyond the file's end:
 * a compareAndSet on such a page kills the JVM with SIGBUS: docs/kernel-notes.md, "A shrunk
 * mapping"). The size and capacity passed to
 * open apply only when this call creates the file; attaching takes the file's own.
 *
 * Memory ordering (Directory). Lookups take no lock. An insert runs under the directory lock
 * and publishes with two release stores, each paired with an acquire load in every reader:
 *
 *   writer (under the lock)                   reader
 *   zero + initialise object, write entry
 *   setRelease(data cursor)        <-pairs->  getAcquire(data cursor), after the count
 *   setRelease(entry count)        <-pairs->  getAcquire(entry count), first
 *
 * Acquiring count n makes entries [0, n), their objects' initialised bytes and a cursor at or
 * past their end visible. The count's store is the only step of an insert anyone can see.
 *
 * Directory lock (PidLock). A 32-bit word holding the owner's pid (0 = free), taken with
 * compareAndSet and slept on with futex_wait (shared futex for a file, private in memory).
 * Sleeps are bounded; after each, a sleeper checks that the owner's pid is alive and takes a
 * dead owner's lock over. That is safe because of the ordering above: an inserter that dies
 * before its count store published nothing.
 *
 * Trust. Values read from the mapping are checked before use as an index or an offset; a bad
 * one is an InvalidRegionException (CORRUPT), unchecked after open. Still, processes sharing a
 * region must trust each other, as with a POSIX process-shared mutex: one that truncates the
 * file can crash the others. So open refuses a file another user could write (RegionAccess:
 * owner, group and mode of the opened file, never of a symbolic link, which it never follows),
 * and processes must never shrink one and must share one PID namespace.
 *
 * A lost file. The file stays open (FileHandle) while mapped. RegionFileWatch checks every
 * period that it still has its name: the path naming the same device and inode (the fd's link
 * count then only words the report: deleted, or renamed away). When it does not (deleted by systemd-logind's RemoveIPC or a tmp cleaner, or
 * replaced), processes that open the path from then on use another file, so this region's
 * locks no longer exclude theirs. The loss is recorded once (fileProblem), logged as one ERROR,
 * passed to the onFileLost listeners (SharedRegion closes itself), and every later lookup
 * throws it. findOrCreate also checks at once before it creates anything.
 */
/**
 * A region of shared memory holding named objects, mapped from a file (shared between processes) or
 * allocated in memory (shared between threads). Thread-safe.
 *
 * <p>Objects are created by {@link #findOrCreate}: every thread and process that calls it with the
 * same name gets the same object, initialised exactly once. Objects are never removed and a region
 * never grows; when it is full, create a larger one under a new name.
 */
public final class MappedRegion implements AutoCloseable {
  /** The longest object name, in UTF-8 bytes. */
  public static final int MAX_NAME_BYTES = RegionDescriptor.MAX_NAME_BYTES;

  private final Path file; // null in memory
  private final Arena arena;
  private final MemorySegment segment;
  private final RegionGeometry geometry;
  private final int layoutVersion;
  private final boolean created;
  private final boolean readOnly;
  private final Directory directory;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final FileHandle handle; // null in memory; open while mapped
  private final Statx identity; // the mapped file's status at open; null in memory
  private final MemorySegment cPath; // the path in C form, for the watch's lstat; null in memory
  private final String accessWarning; // read-only: what open would refuse; else null
  private final ScheduledFuture<?> watch; // the periodic file check; null unless read-write file
  private final List<Consumer<InvalidRegionException>> fileLostListeners =
      new CopyOnWriteArrayList<>();
  private volatile InvalidRegionException fileLost; // set once, when the file lost its name
  private volatile long lastGoodCheckNanos; // System.nanoTime() after the last check that passed

  /**
   * A check that passed this recently stands for a new one: creating thousands of objects in a row
   * would otherwise pay an lstat (~3 µs here) each, against a watch period of a second.
   */
  private static final long CHECK_FRESH_NANOS = 1_000_000;

  private MappedRegion(Path file, RegionFiles.Mapping mapping) {
    this.file = file;
    this.handle = mapping.handle();
    this.identity = mapping.identity();
    this.cPath = file == null ? null : FileHandle.cPath(Arena.ofAuto(), file);
    this.lastGoodCheckNanos = System.nanoTime() - 2 * CHECK_FRESH_NANOS; // none yet
    this.accessWarning = mapping.accessWarning();
    this.readOnly = mapping.segment().isReadOnly();
    this.arena = mapping.arena();
    this.segment = mapping.segment();
    this.geometry = mapping.geometry();
    this.layoutVersion = mapping.layoutVersion();
    this.created = mapping.created();
    this.directory = new Directory(segment, geometry, file);
    this.watch = file != null && !readOnly ? RegionFileWatch.watch(this::checkFileQuietly) : null;
  }

  /**
   * Attaches to the region file {@code file}, or creates it if it does not exist. Any number of
   * threads and processes may do this at once: all of them end up on one file, and {@link
   * #created()} is true for exactly one.
   *
   * @param sizeIfCreated the region's size in bytes when this call creates it (rounded up to 64; at
   *     least header, directory and one 64-byte line; at most 1 GiB). Ignored when attaching: the
   *     file's own size applies.
   * @param capacityIfCreated how many objects its directory holds when this call creates it
   *     (1..65536). Ignored when attaching.
   * @throws IllegalArgumentException if the size or capacity is out of range (checked even when the
   *     file exists)
   * @throws InvalidRegionException if the file exists but is not a region this version can use, is
   *     a symbolic link or not a regular file, or is owned by another user or writable by others
   *     (the file is left untouched)
   * @throws java.nio.file.NoSuchFileException if the file's directory does not exist
   * @throws IOException if the file cannot be created, read or mapped, or is a directory
   */
  public static MappedRegion open(Path file, long sizeIfCreated, int capacityIfCreated)
      throws IOException {
    return open(file, sizeIfCreated, capacityIfCreated, RegionAccess.ownerOnly());
  }

  /**
   * As {@link #open(Path, long, int)}, accepting and creating files as {@code access} says: owned
   * by this process's effective uid and mode 0600, or shared with a group (0660).
   *
   * @throws IllegalArgumentException also if {@code access} names a group that does not exist
   */
  public static MappedRegion open(
      Path file, long sizeIfCreated, int capacityIfCreated, RegionAccess access)
      throws IOException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(access, "access");
    RegionGeometry ifCreated = RegionGeometry.forCreation(sizeIfCreated, capacityIfCreated);
    try {
      return checked(new MappedRegion(file, RegionFiles.openOrCreate(file, ifCreated, access)));
    } catch (FileSystemException e) {
      throw explainedIfOutOfFiles(file, e);
    }
  }

  /**
   * Attaches to the existing region file {@code file} for reading only, as inspection tools do: the
   * file is opened read-only and mapped read-only, after the same checks as {@link #open}, so
   * nothing this region does can change the file. {@link #segment()} is read-only and {@link
   * #findOrCreate} throws; {@link #find} and {@link #objects()} work. A symbolic link or a file
   * that is not regular is refused as by {@link #open}, without blocking on a FIFO; an owner or
   * mode that {@link #open} would refuse is not, but {@link #accessWarning()} describes it.
   *
   * @throws InvalidRegionException if the file is not a region this version can read (the file is
   *     left untouched)
   * @throws java.nio.file.NoSuchFileException if the file does not exist
   * @throws IOException if the file cannot be read or mapped, or is a directory
   */
  public static MappedRegion openReadOnly(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    try {
      return checked(new MappedRegion(file, RegionFiles.attachReadOnly(file)));
    } catch (FileSystemException e) {
      throw explainedIfOutOfFiles(file, e);
    }
  }

  /**
   * EMFILE and ENFILE, which Java reports as "Too many open files (in system)", with which limit
   * ran out, its value and what to do; any other failure as it was.
   */
  private static FileSystemException explainedIfOutOfFiles(Path file, FileSystemException e) {
    int errno =
        switch (String.valueOf(e.getReason())) {
          case "Too many open files" -> Errno.EMFILE;
          case "Too many open files in system" -> Errno.ENFILE;
          default -> 0;
        };
    if (errno == 0) {
      return e;
    }
    FileSystemException explained =
        new FileSystemException(
            file.toString(), null, FileLimits.explain("opening the region file", errno));
    explained.initCause(e);
    return explained;
  }

  /** The region, once its published directory passed the checks; closed if it did not. */
  private static MappedRegion checked(MappedRegion region) throws InvalidRegionException {
    try {
      region.directory.checkPublished();
    } catch (InvalidRegionException | RuntimeException e) {
      region.close();
      throw e;
    }
    return region;
  }

  /**
   * A region with the same layout in memory of this process ({@link Arena#ofShared()}), for objects
   * that only its threads share; futexes on its words may be private.
   *
   * @throws IllegalArgumentException as {@link #open}
   */
  public static MappedRegion inMemory(long size, int capacity) {
    RegionGeometry geometry = RegionGeometry.forCreation(size, capacity);
    Arena arena = Arena.ofShared();
    // Page-aligned like a file mapping, so objects are 64-byte aligned in absolute terms too.
    MemorySegment segment = arena.allocate(geometry.regionBytes(), 4096);
    MemorySegment.copy(
        MemorySegment.ofBuffer(RegionHeader.image(geometry)),
        0,
        segment,
        0,
        RegionDescriptor.HEADER_BYTES);
    return new MappedRegion(
        null,
        new RegionFiles.Mapping(
            arena, segment, geometry, RegionDescriptor.LAYOUT_VERSION, true, null, null, null));
  }

  /**
   * The whole region, read-write (read-only if opened with {@link #openReadOnly}). Valid until
   * {@link #close()}.
   */
  public MemorySegment segment() {
    return segment;
  }

  /** The bytes of {@code object}, a slice of {@link #segment()}. */
  public MemorySegment segment(NamedObject object) {
    return segment.asSlice(object.offset(), object.length());
  }

  /** The region file; null for an in-memory region. */
  public Path file() {
    return file;
  }

  public boolean isFileBacked() {
    return file != null;
  }

  /** The region's size in bytes: the file's recorded size when attached. */
  public long size() {
    return geometry.regionBytes();
  }

  /** How many objects the directory holds: the file's recorded capacity when attached. */
  public int capacity() {
    return geometry.capacity();
  }

  /** The layout version recorded in the header. */
  public int layoutVersion() {
    return layoutVersion;
  }

  /** True if opened with {@link #openReadOnly}: nothing can be written through it. */
  public boolean isReadOnly() {
    return readOnly;
  }

  /** True if this call created the file (always true in memory). */
  public boolean created() {
    return created;
  }

  /**
   * For a region opened read-only: what {@link #open} would refuse about the file's owner or mode
   * (another user's file, or one others may write), as a sentence naming owner, group and mode.
   * Empty when open would accept it as a private region, and for regions opened read-write.
   */
  public Optional<String> accessWarning() {
    return Optional.ofNullable(accessWarning);
  }

  /**
   * The loss of the region's file, once noticed: it was deleted, or its path names another file now
   * ({@link Problem#FILE_REPLACED}). Empty while the file is in place, and for in-memory and
   * read-only regions, which are not watched.
   */
  public Optional<InvalidRegionException> fileProblem() {
    return Optional.ofNullable(fileLost);
  }

  /**
   * Runs {@code listener} once when the file is found lost (on the watch thread, or the thread
   * whose lookup found it), or now if it already was. Keep it short: other regions' checks wait.
   */
  public void onFileLost(Consumer<InvalidRegionException> listener) {
    Objects.requireNonNull(listener, "listener");
    fileLostListeners.add(listener);
    InvalidRegionException lost = fileLost;
    if (lost != null && fileLostListeners.remove(listener)) {
      listener.accept(lost);
    }
  }

  /**
   * Checks now that the file still has its name (the watch does so every {@value
   * RegionFileWatch#DEFAULT_PERIOD_MILLIS} ms by default; system property {@code
   * ringlock.regionFileCheckMillis}). A check that passed less than a millisecond ago counts as
   * this one.
   *
   * @throws UncheckedIOException wrapping an {@link InvalidRegionException} with {@link
   *     Problem#FILE_REPLACED} if it was deleted or replaced
   */
  public void checkFile() {
    if (handle == null || readOnly) {
      return;
    }
    InvalidRegionException lost = fileLost;
    if (lost == null && !closed.get()) {
      if (System.nanoTime() - lastGoodCheckNanos < CHECK_FRESH_NANOS) {
        return;
      }
      lost = lookForLoss();
      if (lost != null) {
        recordLoss(lost);
        lost = fileLost;
      } else {
        lastGoodCheckNanos = System.nanoTime();
      }
    }
    if (lost != null) {
      throw new UncheckedIOException(lost);
    }
  }

  private void checkFileQuietly() {
    try {
      checkFile();
    } catch (UncheckedIOException lost) {
      if (watch != null) {
        watch.cancel(false); // recorded and reported once; nothing more to learn
      }
    } catch (RuntimeException unexpected) {
      // a failed check is retried next period; the watch must not die of it
      System.getLogger(MappedRegion.class.getName())
          .log(System.Logger.Level.WARNING, "checking region file " + file + " failed", unexpected);
    }
  }

  /** The loss of the file, or null if it still has its name (or that cannot be told now). */
  private InvalidRegionException lookForLoss() {
    try {
      Statx atPath = FileHandle.lstat(file, cPath);
      if (atPath != null && atPath.sameFile(identity)) {
        return null;
      }
      boolean nameless = handle.stat().linkCount() == 0;
      if (atPath == null) {
        return lost(
            nameless
                ? "was deleted while this process mapped it"
                : "was renamed away from its path while this process mapped it");
      }
      return lost(
          "was replaced while this process mapped it: its path now names another file (inode "
              + Long.toUnsignedString(atPath.inode())
              + "; this process maps inode "
              + Long.toUnsignedString(identity.inode())
              + (nameless ? ", which has no name left)" : ")"));
    } catch (IOException unknown) {
      return null; // e.g. the directory became unreadable: nothing proves a loss
    }
  }

  private InvalidRegionException lost(String finding) {
    return new InvalidRegionException(file, Problem.FILE_REPLACED, finding);
  }

  private void recordLoss(InvalidRegionException lost) {
    synchronized (fileLostListeners) {
      if (fileLost != null || closed.get()) {
        return; // a check that raced close() found the file its owner deleted after closing
      }
      fileLost = lost;
    }
    System.getLogger(MappedRegion.class.getName())
        .log(
            System.Logger.Level.ERROR,
            lost.getMessage()
                + " (processes opening the path from now on do not share this process's locks)");
    for (Consumer<InvalidRegionException> listener : fileLostListeners) {
      if (fileLostListeners.remove(listener)) {
        listener.accept(lost);
      }
    }
  }

  /**
   * The object called {@code name}, created if there is none: {@code objectBytes} bytes (rounded up
   * to whole 64-byte lines in the data area), zeroed, then passed to {@code initializer}, all
   * before any other thread or process can see it. The initializer runs once per object across all
   * processes, under the directory lock: keep it short, and do not create objects from it.
   *
   * <p>Lookups take no lock; only a creation does.
   *
   * @param type the caller's tag for what the object is; never 0
   * @throws IllegalArgumentException if the name is empty, longer than {@link #MAX_NAME_BYTES}
   *     bytes of UTF-8 or not encodable; if type is 0 or objectBytes below 1; if the name exists
   *     with another type, or with fewer bytes than {@code objectBytes}
   * @throws IllegalStateException if the region was opened with {@link #openReadOnly}
   * @throws dev.ringlock.core.RegionFullException if the directory or the data area is full
   * @throws java.io.UncheckedIOException wrapping an {@link InvalidRegionException} if the region
   *     was found corrupt, or its file deleted or replaced ({@link Problem#FILE_REPLACED})
   */
  public NamedObject findOrCreate(
      String name, int type, int objectBytes, Consumer<MemorySegment> initializer) {
    return findOrCreate(name, type, objectBytes, objectBytes, initializer);
  }

  /**
   * As {@link #findOrCreate}, for an object whose size its creator chooses (a wait queue's
   * capacity): an existing object is returned whatever its length, and the caller checks that
   * length against what the object's own bytes say. {@code bytesIfCreated} applies only when this
   * call creates the object.
   *
   * @throws IllegalArgumentException as {@link #findOrCreate}, except that an existing object is
   *     never refused for its length
   */
  public NamedObject findOrCreateSizedByCreator(
      String name, int type, int bytesIfCreated, Consumer<MemorySegment> initializer) {
    return findOrCreate(name, type, bytesIfCreated, 1, initializer);
  }

  private NamedObject findOrCreate(
      String name,
      int type,
      int objectBytes,
      int minimumBytes,
      Consumer<MemorySegment> initializer) {
    byte[] utf8 = ObjectNames.encode(name);
    if (type == 0) {
      throw new IllegalArgumentException(
          "object type 0 is reserved; pass a nonzero type for '" + name + "'");
    }
    if (objectBytes < 1) {
      throw new IllegalArgumentException(
          "object '" + name + "' must have at least 1 byte, not " + objectBytes);
    }
    Objects.requireNonNull(initializer, "initializer");
    ensureOpen();
    if (readOnly) {
      throw new IllegalStateException(
          this + " was opened read-only; open it with MappedRegion.open to create '" + name + "'");
    }
    checkFile(); // a lost file's objects are not the ones other processes create now
    return directory.findOrCreate(name, utf8, type, objectBytes, minimumBytes, initializer);
  }

  /**
   * How long creating an object waits for a live process holding the directory lock before it fails
   * with {@link dev.ringlock.core.InternalLockTimeoutException}; {@link PidLock#DEFAULT_TIMEOUT}
   * until set.
   */
  public void internalLockTimeout(java.time.Duration timeout) {
    directory.lockTimeout(java.util.Objects.requireNonNull(timeout, "timeout"));
  }

  /**
   * Damage found in this region after it was opened (a value read from the mapping that no ringlock
   * writes), as every accessor reports it: an {@link java.io.UncheckedIOException} wrapping an
   * {@link InvalidRegionException} with {@link InvalidRegionException.Problem#CORRUPT} whose
   * message names the region and says what to do.
   *
   * @param finding what was found, phrased to follow the region's name ("has a wait queue ...")
   */
  public java.io.UncheckedIOException corruption(String finding) {
    return Directory.corrupt(file, finding);
  }

  /**
   * The ringlock exception for a fault on this region's memory, to throw in place of the JVM's
   * {@link InternalError} ("a fault occurred in an unsafe memory access"): the file was shrunk
   * under the mapping, so the pages past its new end no longer exist. An {@link
   * java.io.UncheckedIOException} wrapping an {@link InvalidRegionException} with {@link
   * InvalidRegionException.Problem#TRUNCATED}, naming the file and its sizes, with the fault as its
   * cause. Called only once a fault was thrown, so it costs nothing on any hot path.
   */
  public java.io.UncheckedIOException truncated(InternalError fault) {
    String now;
    try {
      now = file == null ? "?" : "%,d".formatted(java.nio.file.Files.size(file));
    } catch (IOException | RuntimeException e) {
      now = "?"; // deleted as well, or unreadable: the mapping's fault says enough
    }
    InvalidRegionException truncated =
        new InvalidRegionException(
            file,
            InvalidRegionException.Problem.TRUNCATED,
            "faulted when its mapping of %,d bytes was accessed: the file is now %s bytes long"
                .formatted(size(), now));
    truncated.initCause(fault);
    return new java.io.UncheckedIOException(truncated.getMessage(), truncated);
  }

  /**
   * The object called {@code name}, if one has been published.
   *
   * @throws IllegalArgumentException if the name could never be stored (see {@link #findOrCreate})
   */
  public Optional<NamedObject> find(String name) {
    byte[] utf8 = ObjectNames.encode(name);
    ensureOpen();
    throwIfFileLost();
    return Optional.ofNullable(directory.find(name, utf8));
  }

  /** Every published object, in creation order: a snapshot, for inspection tools. */
  public List<NamedObject> objects() {
    ensureOpen();
    return directory.objects();
  }

  private void throwIfFileLost() {
    InvalidRegionException lost = fileLost;
    if (lost != null) {
      throw new UncheckedIOException(lost);
    }
  }

  /**
   * Unmaps the region and closes its file. Idempotent. Segments obtained from it become
   * inaccessible.
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      if (watch != null) {
        watch.cancel(false);
      }
      try {
        arena.close();
      } finally {
        if (handle != null) {
          handle.close();
        }
      }
    }
  }

  @Override
  public String toString() {
    return "MappedRegion["
        + (file == null ? "in memory" : file)
        + ", "
        + geometry.regionBytes()
        + " bytes, capacity "
        + geometry.capacity()
        + (readOnly ? ", read-only" : "")
        + "]";
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException(this + " is closed");
    }
  }
}
