package dev.ringlock.core.memory;

import static dev.ringlock.core.memory.RegionDescriptor.DATA_CURSOR_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.ENTRY_BYTES;
import static dev.ringlock.core.memory.RegionDescriptor.ENTRY_COUNT_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.ENTRY_NAME_BYTES_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.ENTRY_NAME_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.ENTRY_OBJECT_BYTES_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.ENTRY_OBJECT_OFFSET_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.ENTRY_TYPE_OFFSET;
import static dev.ringlock.core.memory.RegionDescriptor.MAX_NAME_BYTES;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.ringlock.core.InvalidRegionException;
import dev.ringlock.core.RegionFullException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/*
 * Overview
 *
 * The directory of a mapped region: lock-free lookups, and inserts serialised by the
 * directory's PidLock, between every thread and process that maps the region.
 *
 * Publication. An insert, holding the lock, writes the object (zeroed, then the caller's
 * initializer), then the entry at index count, then three release stores:
 *
 *   soIndexSlot(slot, count + 1)              pairs with lvIndexSlot in every lookup
 *   soDataCursor(cursor + object's lines)    pairs with lvDataCursor in every reader
 *   soEntryCount(count + 1)                   pairs with lvEntryCount in every reader
 *
 * A reader loads the count first (acquire), then the cursor (acquire). Acquiring the count
 * makes the entries [0, count), their objects' initialised contents, and the cursor stored
 * before that count visible; so the cursor read after it lies at or beyond the end of every
 * entry the reader will look at. Published entries are never rewritten, so plain reads of their
 * fields are enough once the count that covers them has been acquired.
 *
 * Until the count's store, nothing of an insert is visible: a reader (or a lookup racing the
 * insert) simply does not see the entry, and an inserter that dies before that store leaves
 * nothing behind that the next insert does not overwrite or step over. That is why the
 * directory's PidLock may hand a dead owner's lock to the next inserter with no repair.
 *
 * Name index. Lookups do not scan the entries: they probe an open-addressing table (layout in
 * RegionDescriptor) from nameHash(name), slot after slot, until a slot names an entry with that
 * name (found) or a slot is 0 (absent), at most every slot once. A slot is written before the
 * count that publishes its entry, so a lookup that acquired a count finds every entry below it.
 * A slot naming an entry at or beyond the acquired count is an insert not yet published, or one
 * whose inserter died before publishing (the entry will be rewritten by the next insert, and the
 * slot then names that entry under another name): the lookup steps over it, as over a slot of
 * another name. Slots are never cleared, so no probe chain is ever cut. Under the lock, an
 * insert takes the first slot of its chain that is empty or names an unpublished entry (nobody
 * else inserts then), so a dead inserter's slot is reused when the same chain needs one.
 * The table has at least twice as many slots as the directory has entries, so it is at most half
 * full and a probe is short; a full table is possible only if damaged (CORRUPT).
 *
 * Distrust. Another process can write anything into the mapping, so every value read from it is
 * checked before it is used as an index or an offset: the count against the capacity, the
 * cursor against the data area, each entry's name length, type and object bounds against the
 * cursor, each index slot against the capacity. A bad value is reported as InvalidRegionException(CORRUPT), wrapped in an
 * UncheckedIOException at run time; at open it is thrown as is.
 */
final class Directory {
  private static final VarHandle INT = JAVA_INT.varHandle();
  private static final VarHandle LONG = JAVA_LONG.varHandle();

  private final MemorySegment region;
  private final RegionGeometry geometry;
  private final Path file; // null in memory
  private final PidLock lock;

  /** How long an insert waits for a live holder of the directory lock; see PidLock. */
  private volatile long lockTimeoutNanos = PidLock.DEFAULT_TIMEOUT.toNanos();

  /** The thread inserting through this instance, so an initializer cannot deadlock on it. */
  private volatile Thread inserter;

  /** An entry that passed every check. Its fields are final once published. */
  private record Entry(int index, int type, int nameBytes, long offset, long length) {}

  Directory(MemorySegment region, RegionGeometry geometry, Path file) {
    this.region = region;
    this.geometry = geometry;
    this.file = file;
    this.lock = new PidLock(region, RegionDescriptor.DIRECTORY_LOCK_OFFSET, file, "directory");
  }

  /** How long an insert waits for a live holder of the directory lock before it gives up. */
  void lockTimeout(Duration timeout) {
    this.lockTimeoutNanos = timeout.toNanos();
  }

  /**
   * Checks every published entry (and the count and cursor that cover them), every index slot, and
   * that the index leads to every entry, at open.
   */
  void checkPublished() throws InvalidRegionException {
    try {
      for (int slot = 0; slot < geometry.indexSlots(); slot++) {
        lvIndexSlot(slot);
      }
      int count = lvEntryCount();
      long cursor = lvDataCursor();
      for (int index = 0; index < count; index++) {
        Entry entry = entry(index, cursor);
        byte[] utf8 = nameOf(entry).toArray(JAVA_BYTE);
        if (ObjectNames.decodeOrNull(utf8) == null) {
          throw corruptEntry(index, "its name is not UTF-8");
        }
        Entry indexed = lookup(utf8);
        if (indexed == null) {
          throw corrupt(file, "has a name index that does not lead to directory entry " + index);
        }
      }
      checkDisjoint();
    } catch (UncheckedIOException e) {
      if (e.getCause() instanceof InvalidRegionException invalid) {
        throw invalid;
      }
      throw e;
    }
  }

  /**
   * Refuses published objects that share bytes. Every insert takes the lines at the data cursor and
   * moves the cursor past them, so in creation order each object starts at or after the end of the
   * lines of the one before. Entries that break this would make one object's writes another's
   * values (a mutex placed on a semaphore's word reads its permit count as an owner pid). One pass,
   * at open; kept in this one method so the rest of the directory's reads need not know of it.
   */
  private void checkDisjoint() {
    int count = lvEntryCount();
    long cursor = lvDataCursor();
    long previousEnd = geometry.dataStart();
    for (int index = 0; index < count; index++) {
      Entry entry = entry(index, cursor); // offset and length checked against the cursor
      if (entry.offset < previousEnd) {
        throw corruptEntry(
            index,
            ("an object at offset %d, inside the lines of the object before it, which end at %d;"
                    + " objects never share bytes")
                .formatted(entry.offset, previousEnd));
      }
      previousEnd = entry.offset + RegionDescriptor.roundUpToLine(entry.length);
    }
  }

  /** The object named {@code utf8} (the encoding of {@code name}), or null. */
  NamedObject find(String name, byte[] utf8) {
    Entry entry = lookup(utf8);
    return entry == null ? null : new NamedObject(name, entry.type, entry.offset, entry.length);
  }

  /**
   * @param minimumBytes an existing object shorter than this is refused
   */
  NamedObject findOrCreate(
      String name,
      byte[] utf8,
      int type,
      int objectBytes,
      int minimumBytes,
      Consumer<MemorySegment> initializer) {
    Entry entry = lookup(utf8);
    if (entry == null) {
      entry = insert(name, utf8, type, objectBytes, initializer);
    }
    if (entry.type != type) {
      throw new IllegalArgumentException(
          "'" + name + "' already exists as type " + entry.type + " (asked for type " + type + ")");
    }
    if (entry.length < minimumBytes) {
      // Every creator of a type asks for the same bytes: a shorter object of that type was not
      // written by ringlock, and using it would read and write past its end.
      throw corruptEntry(
          entry.index,
          "'%s', a type %d object of %d bytes; that type needs at least %d"
              .formatted(name, type, entry.length, minimumBytes));
    }
    return new NamedObject(name, entry.type, entry.offset, entry.length);
  }

  /** Every published object, in creation order. */
  List<NamedObject> objects() {
    int count = lvEntryCount();
    long cursor = lvDataCursor();
    List<NamedObject> objects = new ArrayList<>(count);
    for (int index = 0; index < count; index++) {
      Entry entry = entry(index, cursor);
      byte[] utf8 = nameOf(entry).toArray(JAVA_BYTE);
      String name = ObjectNames.decodeOrNull(utf8);
      if (name == null) {
        throw corrupt(file, "has a corrupt directory entry " + index + " (its name is not UTF-8)");
      }
      objects.add(new NamedObject(name, entry.type, entry.offset, entry.length));
    }
    return List.copyOf(objects);
  }

  /** The published entry named {@code utf8}, found through the name index; or null. */
  private Entry lookup(byte[] utf8) {
    int count = lvEntryCount();
    long cursor = lvDataCursor(); // after the count: covers every entry below it
    MemorySegment wanted = MemorySegment.ofArray(utf8);
    int slots = geometry.indexSlots();
    int slot = RegionDescriptor.nameHash(utf8) & (slots - 1);
    for (int probed = 0; probed < slots; probed++, slot = (slot + 1) & (slots - 1)) {
      int named = lvIndexSlot(slot);
      if (named == 0) {
        return null; // the end of this name's chain
      }
      int index = named - 1;
      if (index >= count) {
        continue; // not published (yet, or ever): see the overview
      }
      Entry entry = entry(index, cursor);
      if (entry.nameBytes == utf8.length && nameOf(entry).mismatch(wanted) == -1) {
        return entry;
      }
    }
    return null; // every slot probed: a full (damaged) table, and the name is not in it
  }

  /**
   * The slot an insert of entry {@code count} takes: the first of the chain of {@code utf8} that is
   * empty or names an unpublished entry (under the lock, a dead inserter's). The caller has looked
   * the name up under the lock and not found it.
   */
  private int freeIndexSlot(String name, byte[] utf8, int count) {
    int slots = geometry.indexSlots();
    int slot = RegionDescriptor.nameHash(utf8) & (slots - 1);
    for (int probed = 0; probed < slots; probed++, slot = (slot + 1) & (slots - 1)) {
      int named = lvIndexSlot(slot);
      if (named == 0 || named - 1 >= count) {
        return slot;
      }
    }
    throw corrupt(
        file,
        "has a name index with no free slot for '"
            + name
            + "' ("
            + slots
            + " slots for "
            + count
            + " entries; a sound index is at most half full)");
  }

  private Entry insert(
      String name, byte[] utf8, int type, int objectBytes, Consumer<MemorySegment> initializer) {
    if (inserter == Thread.currentThread()) {
      throw new IllegalStateException(
          "an initializer must not create objects in its own region (it runs under the"
              + " directory lock); creating '"
              + name
              + "'");
    }
    // Bounded: a stopped holder fails this insert with InternalLockTimeoutException, never hangs
    // it.
    // A dead owner's half-done insert is invisible: nothing to repair.
    lock.lock(lockTimeoutNanos, () -> false);
    inserter = Thread.currentThread();
    try {
      // Another thread or process may have inserted the name since our lock-free lookup.
      Entry existing = lookup(utf8);
      if (existing != null) {
        return existing;
      }
      // Under the lock only this thread writes count and cursor; the acquire reads still
      // check them, since a process outside the protocol could have written anything.
      int count = lvEntryCount();
      if (count == geometry.capacity()) {
        throw RegionFullException.directoryFull(describe(file), name, geometry.capacity());
      }
      long cursor = lvDataCursor();
      long lines = RegionDescriptor.roundUpToLine(objectBytes);
      long free = geometry.regionBytes() - cursor;
      if (lines > free) {
        throw RegionFullException.dataFull(
            describe(file), name, lines, free, geometry.regionBytes());
      }
      // A dead inserter may have left bytes here; the initializer sees zeros, as on creation.
      region.asSlice(cursor, lines).fill((byte) 0);
      initializer.accept(region.asSlice(cursor, objectBytes));

      long entry = geometry.entryOffset(count);
      region.asSlice(entry, ENTRY_BYTES).fill((byte) 0);
      region.set(JAVA_INT, entry + ENTRY_TYPE_OFFSET, type);
      region.set(JAVA_INT, entry + ENTRY_NAME_BYTES_OFFSET, utf8.length);
      region.set(JAVA_LONG, entry + ENTRY_OBJECT_OFFSET_OFFSET, cursor);
      region.set(JAVA_LONG, entry + ENTRY_OBJECT_BYTES_OFFSET, objectBytes);
      MemorySegment.copy(utf8, 0, region, JAVA_BYTE, entry + ENTRY_NAME_OFFSET, utf8.length);

      soIndexSlot(freeIndexSlot(name, utf8, count), count + 1); // after the entry it names
      soDataCursor(cursor + lines);
      soEntryCount(count + 1); // the insert's only visible step; see the overview
      return new Entry(count, type, utf8.length, cursor, objectBytes);
    } finally {
      inserter = null;
      lock.unlock();
    }
  }

  /** Entry {@code index} (below an acquired count), checked against {@code cursor}. */
  private Entry entry(int index, long cursor) {
    long at = geometry.entryOffset(index);
    int type = region.get(JAVA_INT, at + ENTRY_TYPE_OFFSET);
    int nameBytes = region.get(JAVA_INT, at + ENTRY_NAME_BYTES_OFFSET);
    long offset = region.get(JAVA_LONG, at + ENTRY_OBJECT_OFFSET_OFFSET);
    long length = region.get(JAVA_LONG, at + ENTRY_OBJECT_BYTES_OFFSET);
    if (type == 0) {
      throw corruptEntry(index, "type 0");
    }
    if (nameBytes < 1 || nameBytes > MAX_NAME_BYTES) {
      throw corruptEntry(
          index,
          "a name of "
              + Integer.toUnsignedString(nameBytes)
              + " bytes; names are 1 to "
              + MAX_NAME_BYTES);
    }
    // Checked one bound at a time, so no sum can overflow: offset <= cursor <= 1 GiB first.
    if (!RegionDescriptor.isLineAligned(offset)
        || offset < geometry.dataStart()
        || offset > cursor
        || length < 1
        || length > cursor - offset) {
      throw corruptEntry(
          index,
          ("an object of %s bytes at offset %s; objects start on a 64-byte line inside the"
                  + " data in use, [%d, %d)")
              .formatted(
                  Long.toUnsignedString(length),
                  Long.toUnsignedString(offset),
                  geometry.dataStart(),
                  cursor));
    }
    return new Entry(index, type, nameBytes, offset, length);
  }

  private MemorySegment nameOf(Entry entry) {
    return region.asSlice(geometry.entryOffset(entry.index) + ENTRY_NAME_OFFSET, entry.nameBytes);
  }

  /** The published entry count, checked against the capacity. */
  private int lvEntryCount() {
    int count = (int) INT.getAcquire(region, ENTRY_COUNT_OFFSET);
    if (Integer.compareUnsigned(count, geometry.capacity()) > 0) {
      throw corrupt(
          file,
          "records "
              + Integer.toUnsignedString(count)
              + " published entries, more than its capacity of "
              + geometry.capacity());
    }
    return count;
  }

  /** The first free data byte, checked against the data area. */
  private long lvDataCursor() {
    long cursor = (long) LONG.getAcquire(region, DATA_CURSOR_OFFSET);
    if (cursor < geometry.dataStart()
        || cursor > geometry.regionBytes()
        || !RegionDescriptor.isLineAligned(cursor)) {
      throw corrupt(
          file,
          "records a data cursor of %s; it must be a 64-byte line in [%d, %d]"
              .formatted(
                  Long.toUnsignedString(cursor), geometry.dataStart(), geometry.regionBytes()));
    }
    return cursor;
  }

  /** Name index slot {@code slot} (already masked): 0, or an entry index + 1 within capacity. */
  private int lvIndexSlot(int slot) {
    int named = (int) INT.getAcquire(region, geometry.indexSlotOffset(slot));
    if (Integer.compareUnsigned(named, geometry.capacity()) > 0) {
      throw corrupt(
          file,
          "has a corrupt name index (slot "
              + slot
              + " names entry "
              + (Integer.toUnsignedLong(named) - 1)
              + "; the directory has "
              + geometry.capacity()
              + ")");
    }
    return named;
  }

  private void soIndexSlot(int slot, int named) {
    INT.setRelease(region, geometry.indexSlotOffset(slot), named);
  }

  private void soEntryCount(int count) {
    INT.setRelease(region, ENTRY_COUNT_OFFSET, count);
  }

  private void soDataCursor(long cursor) {
    LONG.setRelease(region, DATA_CURSOR_OFFSET, cursor);
  }

  private UncheckedIOException corruptEntry(int index, String finding) {
    return corrupt(file, "has a corrupt directory entry " + index + " (" + finding + ")");
  }

  /** The region as error messages name it. */
  static String describe(Path file) {
    return file == null ? "an in-memory region" : file.toString();
  }

  /** Corruption found after open, as the unchecked exception every accessor may throw. */
  static UncheckedIOException corrupt(Path file, String finding) {
    InvalidRegionException invalid =
        new InvalidRegionException(file, InvalidRegionException.Problem.CORRUPT, finding);
    return new UncheckedIOException(invalid.getMessage(), invalid);
  }
}
