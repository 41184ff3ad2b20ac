package dev.ringlock.core.memory;

import dev.ringlock.core.InvalidRegionException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
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
 * a compareAndSet on such a page kills the JVM with SIGBUS). The size and capacity passed to
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
 * file can crash the others. Keep region files 0600 (as created), never shrink one, and share
 * one PID namespace.
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

  private MappedRegion(Path file, RegionFiles.Mapping mapping) {
    this.file = file;
    this.readOnly = mapping.segment().isReadOnly();
    this.arena = mapping.arena();
    this.segment = mapping.segment();
    this.geometry = mapping.geometry();
    this.layoutVersion = mapping.layoutVersion();
    this.created = mapping.created();
    this.directory = new Directory(segment, geometry, file);
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
   * @throws InvalidRegionException if the file exists but is not a region this version can use (the
   *     file is left untouched)
   * @throws java.nio.file.NoSuchFileException if the file's directory does not exist
   * @throws IOException if the file cannot be created, read or mapped, or is a directory
   */
  public static MappedRegion open(Path file, long sizeIfCreated, int capacityIfCreated)
      throws IOException {
    Objects.requireNonNull(file, "file");
    RegionGeometry ifCreated = RegionGeometry.forCreation(sizeIfCreated, capacityIfCreated);
    return checked(new MappedRegion(file, RegionFiles.openOrCreate(file, ifCreated)));
  }

  /**
   * Attaches to the existing region file {@code file} for reading only, as inspection tools do: the
   * file is opened read-only and mapped read-only, after the same checks as {@link #open}, so
   * nothing this region does can change the file. {@link #segment()} is read-only and {@link
   * #findOrCreate} throws; {@link #find} and {@link #objects()} work.
   *
   * @throws InvalidRegionException if the file is not a region this version can read (the file is
   *     left untouched)
   * @throws java.nio.file.NoSuchFileException if the file does not exist
   * @throws IOException if the file cannot be read or mapped, or is a directory
   */
  public static MappedRegion openReadOnly(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    return checked(new MappedRegion(file, RegionFiles.attachReadOnly(file)));
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
        new RegionFiles.Mapping(arena, segment, geometry, RegionDescriptor.LAYOUT_VERSION, true));
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
   *     was found corrupt
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
    return directory.findOrCreate(name, utf8, type, objectBytes, minimumBytes, initializer);
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
    return Optional.ofNullable(directory.find(name, utf8));
  }

  /** Every published object, in creation order: a snapshot, for inspection tools. */
  public List<NamedObject> objects() {
    ensureOpen();
    return directory.objects();
  }

  /** Unmaps the region. Idempotent. Segments obtained from it become inaccessible. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      arena.close();
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
