package dev.ringlock.core.memory;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.InvalidRegionException;
import dev.ringlock.core.RegionFullException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class MappedRegionTest {
  private static final long SIZE = 64 * 1024;
  private static final int CAPACITY = 16;
  private static final int MUTEX = 1;
  private static final int SEMAPHORE = 2;

  @TempDir Path directory;

  private static final Consumer<MemorySegment> NOTHING = object -> {};

  @Test
  void secondOpenAttachesAndSeesObjectsTheFirstCreated() throws IOException {
    Path file = directory.resolve("region");
    NamedObject first;
    try (MappedRegion creator = MappedRegion.open(file, SIZE, CAPACITY)) {
      assertTrue(creator.created());
      first = creator.findOrCreate("orders", MUTEX, 8, o -> o.set(JAVA_INT, 0, 42));
      try (MappedRegion attached = MappedRegion.open(file, SIZE, CAPACITY)) {
        assertFalse(attached.created());
        assertEquals(Optional.of(first), attached.find("orders"));
        assertEquals(42, attached.segment(first).get(JAVA_INT, 0));
        // A word written through one mapping is read through the other: one file, shared.
        attached.segment(first).set(JAVA_INT, 4, 7);
        assertEquals(7, creator.segment(first).get(JAVA_INT, 4));
      }
    }
    try (MappedRegion reopened = MappedRegion.open(file, SIZE, CAPACITY)) {
      assertFalse(reopened.created());
      assertEquals(List.of(first), reopened.objects());
      assertEquals(RegionDescriptor.LAYOUT_VERSION, reopened.layoutVersion());
      assertTrue(reopened.isFileBacked());
      assertEquals(file, reopened.file());
    }
  }

  @Test
  void createdFileIsOwnerReadWriteOnlyAndLeavesNoTemporaryFile() throws IOException {
    Path file = directory.resolve("region");
    try (MappedRegion region = MappedRegion.open(file, SIZE, CAPACITY)) {
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
      assertEquals(SIZE, Files.size(file));
      try (Stream<Path> files = Files.list(directory)) {
        assertEquals(List.of(file), files.toList());
      }
    }
  }

  @Test
  void attachingUsesTheFilesSizeAndCapacityNotTheArguments() throws IOException {
    Path file = directory.resolve("region");
    MappedRegion.open(file, SIZE, CAPACITY).close();
    try (MappedRegion attached = MappedRegion.open(file, 4 * SIZE, 2)) {
      assertEquals(SIZE, attached.size());
      assertEquals(CAPACITY, attached.capacity());
      assertEquals(SIZE, attached.segment().byteSize());
    }
    assertEquals(SIZE, Files.size(file));
  }

  @Test
  void sizeIsRoundedUpToWholeLines() throws IOException {
    try (MappedRegion region = MappedRegion.open(directory.resolve("r"), 100_001, 4)) {
      assertEquals(100_032, region.size());
      assertEquals(100_032, Files.size(region.file()));
    }
  }

  @Test
  void inMemoryRegionCreatesAndFindsObjects() {
    try (MappedRegion region = MappedRegion.inMemory(SIZE, CAPACITY)) {
      assertFalse(region.isFileBacked());
      assertNull(region.file());
      assertTrue(region.created());
      assertEquals(SIZE, region.size());
      NamedObject object = region.findOrCreate("a", MUTEX, 4, o -> o.set(JAVA_INT, 0, 5));
      assertEquals(Optional.of(object), region.find("a"));
      assertEquals(5, region.segment(object).get(JAVA_INT, 0));
      assertEquals(0, region.segment().address() % 64);
      assertEquals(0, (region.segment().address() + object.offset()) % 64);
    }
  }

  @Test
  void sameNameReturnsTheSameObject() {
    try (MappedRegion region = MappedRegion.inMemory(SIZE, CAPACITY)) {
      NamedObject first = region.findOrCreate("x", MUTEX, 16, NOTHING);
      NamedObject second = region.findOrCreate("x", MUTEX, 16, NOTHING);
      assertEquals(first, second);
      assertEquals(1, region.objects().size());
    }
  }

  @Test
  void differentNamesGetDistinctLineAlignedObjectsThatDoNotOverlap() {
    try (MappedRegion region = MappedRegion.inMemory(SIZE, CAPACITY)) {
      List<NamedObject> objects = new ArrayList<>();
      int[] sizes = {1, 64, 65, 4, 200, 128};
      for (int i = 0; i < sizes.length; i++) {
        objects.add(region.findOrCreate("object-" + i, MUTEX, sizes[i], NOTHING));
      }
      long dataStart = RegionDescriptor.dataStart(CAPACITY);
      for (int i = 0; i < objects.size(); i++) {
        NamedObject a = objects.get(i);
        assertEquals(sizes[i], a.length());
        assertEquals(0, a.offset() % 64, a::toString);
        assertTrue(a.offset() >= dataStart, a::toString);
        assertTrue(a.offset() + a.length() <= SIZE, a::toString);
        for (int j = i + 1; j < objects.size(); j++) {
          NamedObject b = objects.get(j);
          assertTrue(
              a.offset() + a.length() <= b.offset() || b.offset() + b.length() <= a.offset(),
              a + " overlaps " + b);
        }
      }
      assertEquals(objects, region.objects());
    }
  }

  @Test
  void initializerRunsOnceOnZeroedBytesOfTheRequestedLength() {
    try (MappedRegion region = MappedRegion.inMemory(SIZE, CAPACITY)) {
      // Leave garbage where the object will go: the creator must zero it first.
      long dataStart = RegionDescriptor.dataStart(CAPACITY);
      region.segment().asSlice(dataStart, 128).fill((byte) 0x5A);
      AtomicInteger runs = new AtomicInteger();
      List<Long> seenLengths = new ArrayList<>();
      Consumer<MemorySegment> initializer =
          object -> {
            runs.incrementAndGet();
            seenLengths.add(object.byteSize());
            for (long i = 0; i < object.byteSize(); i++) {
              assertEquals(0, object.get(JAVA_BYTE, i));
            }
            object.set(JAVA_LONG, 0, 99L);
          };
      NamedObject object = region.findOrCreate("once", SEMAPHORE, 100, initializer);
      region.findOrCreate("once", SEMAPHORE, 100, initializer);
      region.findOrCreate("once", SEMAPHORE, 50, initializer);
      assertEquals(1, runs.get());
      assertEquals(List.of(100L), seenLengths);
      assertEquals(99L, region.segment(object).get(JAVA_LONG, 0));
      assertEquals(0, region.segment().get(JAVA_INT, object.offset() + 124)); // tail zeroed too
    }
  }

  @Test
  void initializerThatThrowsPublishesNothingAndReleasesTheLock() {
    try (MappedRegion region = MappedRegion.inMemory(SIZE, CAPACITY)) {
      IllegalStateException failure = new IllegalStateException("initializer failed");
      assertThrows(
          IllegalStateException.class,
          () ->
              region.findOrCreate(
                  "doomed",
                  MUTEX,
                  64,
                  o -> {
                    o.set(JAVA_INT, 0, 1);
                    throw failure;
                  }));
      assertEquals(Optional.empty(), region.find("doomed"));
      assertEquals(List.of(), region.objects());
      // The lock was released (this would block forever otherwise: the owner pid is alive).
      NamedObject retried = region.findOrCreate("doomed", MUTEX, 64, NOTHING);
      assertEquals(RegionDescriptor.dataStart(CAPACITY), retried.offset());
      assertEquals(0, region.segment(retried).get(JAVA_INT, 0));
    }
  }

  @Test
  void initializerCannotCreateObjectsInItsOwnRegion() {
    try (MappedRegion region = MappedRegion.inMemory(SIZE, CAPACITY)) {
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class,
              () ->
                  region.findOrCreate(
                      "outer", MUTEX, 8, o -> region.findOrCreate("inner", MUTEX, 8, NOTHING)));
      assertTrue(e.getMessage().contains("initializer"), e.getMessage());
      assertEquals(List.of(), region.objects());
    }
  }

  @Test
  void nameThatExistsWithAnotherTypeIsRefused() {
    try (MappedRegion region = MappedRegion.inMemory(SIZE, CAPACITY)) {
      region.findOrCreate("x", SEMAPHORE, 8, NOTHING);
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> region.findOrCreate("x", MUTEX, 8, NOTHING));
      assertTrue(e.getMessage().contains("'x' already exists as type 2"), e.getMessage());
    }
  }

  @Test
  void anObjectShorterThanItsTypeIsCorruptionNamingIt() {
    // every creator of a type asks for the same bytes: a shorter one is damage, not a user error
    try (MappedRegion region = MappedRegion.inMemory(SIZE, CAPACITY)) {
      region.findOrCreate("x", MUTEX, 8, NOTHING);
      java.io.UncheckedIOException e =
          assertThrows(
              java.io.UncheckedIOException.class,
              () -> region.findOrCreate("x", MUTEX, 9, NOTHING));
      InvalidRegionException invalid = (InvalidRegionException) e.getCause();
      assertEquals(InvalidRegionException.Problem.CORRUPT, invalid.problem());
      assertTrue(e.getMessage().contains("'x', a type 1 object of 8 bytes"), e.getMessage());
      assertTrue(e.getMessage().contains("needs at least 9"), e.getMessage());
    }
  }

  @Test
  void typeZeroAndEmptyObjectsAreRefused() {
    try (MappedRegion region = MappedRegion.inMemory(SIZE, CAPACITY)) {
      assertThrows(IllegalArgumentException.class, () -> region.findOrCreate("x", 0, 8, NOTHING));
      assertThrows(
          IllegalArgumentException.class, () -> region.findOrCreate("x", MUTEX, 0, NOTHING));
      assertThrows(NullPointerException.class, () -> region.findOrCreate("x", MUTEX, 8, null));
      assertEquals(List.of(), region.objects());
    }
  }

  @Test
  void emptyTooLongAndUnencodableNamesAreRefusedWithTheirByteLength() {
    try (MappedRegion region = MappedRegion.inMemory(SIZE, CAPACITY)) {
      IllegalArgumentException empty =
          assertThrows(
              IllegalArgumentException.class, () -> region.findOrCreate("", MUTEX, 8, NOTHING));
      assertTrue(empty.getMessage().contains("is 0 bytes"), empty.getMessage());
      assertTrue(empty.getMessage().contains("1 to 96 bytes"), empty.getMessage());

      String ascii97 = "a".repeat(97);
      IllegalArgumentException tooLong =
          assertThrows(
              IllegalArgumentException.class,
              () -> region.findOrCreate(ascii97, MUTEX, 8, NOTHING));
      assertTrue(tooLong.getMessage().contains("is 97 bytes"), tooLong.getMessage());

      String multiByte97 = "é".repeat(48) + "a"; // 49 chars, 97 bytes
      assertThrows(
          IllegalArgumentException.class,
          () -> region.findOrCreate(multiByte97, MUTEX, 8, NOTHING));

      IllegalArgumentException surrogate =
          assertThrows(
              IllegalArgumentException.class,
              () -> region.findOrCreate("lock\uD800", MUTEX, 8, NOTHING));
      assertTrue(surrogate.getMessage().contains("UTF-8"), surrogate.getMessage());
      assertThrows(IllegalArgumentException.class, () -> region.find("\uDC00x"));

      assertThrows(NullPointerException.class, () -> region.findOrCreate(null, MUTEX, 8, NOTHING));
      assertThrows(NullPointerException.class, () -> region.find(null));
      assertEquals(List.of(), region.objects());
    }
  }

  @Test
  void ninetySixBytesOfMultiByteUtf8AreAValidName() {
    try (MappedRegion region = MappedRegion.inMemory(SIZE, CAPACITY)) {
      String euros = "€".repeat(32); // 3 bytes each
      String accents = "é".repeat(48); // 2 bytes each
      String emoji = "\uD83D\uDD12".repeat(24); // a surrogate pair, 4 bytes each
      for (String name : List.of(euros, accents, emoji, "a".repeat(96))) {
        assertEquals(96, name.getBytes(StandardCharsets.UTF_8).length);
        NamedObject object = region.findOrCreate(name, MUTEX, 8, NOTHING);
        assertEquals(name, object.name());
        assertEquals(Optional.of(object), region.find(name));
      }
      assertEquals(
          List.of(euros, accents, emoji, "a".repeat(96)),
          region.objects().stream().map(NamedObject::name).toList());
    }
  }

  @Test
  void fullDirectoryThrowsRegionFullNamingTheCapacity() throws IOException {
    Path file = directory.resolve("small-directory");
    try (MappedRegion region = MappedRegion.open(file, SIZE, 2)) {
      region.findOrCreate("a", MUTEX, 8, NOTHING);
      region.findOrCreate("b", MUTEX, 8, NOTHING);
      RegionFullException e =
          assertThrows(
              RegionFullException.class, () -> region.findOrCreate("c", MUTEX, 8, NOTHING));
      assertTrue(e.getMessage().contains("directory is full (capacity 2"), e.getMessage());
      assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
      assertTrue(e.getMessage().contains("larger capacity (RegionOptions)"), e.getMessage());
      // Existing names are still found; a full region is not a broken one.
      assertEquals("a", region.findOrCreate("a", MUTEX, 8, NOTHING).name());
      assertEquals(2, region.objects().size());
    }
  }

  @Test
  void fullDataAreaThrowsRegionFullNamingTheSize() {
    long size = RegionDescriptor.minimumRegionBytes(4) + 64; // two lines of data
    try (MappedRegion region = MappedRegion.inMemory(size, 4)) {
      region.findOrCreate("first", MUTEX, 64, NOTHING);
      RegionFullException e =
          assertThrows(
              RegionFullException.class, () -> region.findOrCreate("big", MUTEX, 65, NOTHING));
      assertTrue(e.getMessage().contains("no data space left"), e.getMessage());
      assertTrue(
          e.getMessage().contains("needs 128 bytes, 64 of the region's " + size), e.getMessage());
      assertTrue(e.getMessage().contains("larger size (RegionOptions)"), e.getMessage());
      // The failed request took nothing: the last line is still there for one that fits.
      assertEquals(size - 64, region.findOrCreate("second", MUTEX, 64, NOTHING).offset());
    }
  }

  @Test
  void sizeAndCapacityOutOfRangeAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> MappedRegion.inMemory(SIZE, 0));
    assertThrows(IllegalArgumentException.class, () -> MappedRegion.inMemory(SIZE, 65_537));
    assertThrows(
        IllegalArgumentException.class,
        () -> MappedRegion.inMemory(RegionDescriptor.minimumRegionBytes(4) - 64, 4));
    assertThrows(IllegalArgumentException.class, () -> MappedRegion.inMemory((1L << 30) + 1, 4));
    assertThrows(IllegalArgumentException.class, () -> MappedRegion.inMemory(-1, 4));
    MappedRegion.inMemory(RegionDescriptor.minimumRegionBytes(4), 4).close();
    Path file = directory.resolve("never");
    assertThrows(IllegalArgumentException.class, () -> MappedRegion.open(file, SIZE, 0));
    assertFalse(Files.exists(file));
  }

  @Test
  void readOnlyOpenSeesTheObjectsAndCannotWriteOrCreate() throws IOException {
    Path file = directory.resolve("region");
    NamedObject orders;
    try (MappedRegion creator = MappedRegion.open(file, SIZE, CAPACITY)) {
      orders = creator.findOrCreate("orders", MUTEX, 8, o -> o.set(JAVA_INT, 0, 42));
    }
    // Readable only: a read-only open needs no write permission.
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
    byte[] before = Files.readAllBytes(file);
    try (MappedRegion reader = MappedRegion.openReadOnly(file)) {
      assertTrue(reader.isReadOnly());
      assertFalse(reader.created());
      assertEquals(List.of(orders), reader.objects());
      assertEquals(Optional.of(orders), reader.find("orders"));
      assertEquals(42, reader.segment(orders).get(JAVA_INT, 0));
      assertTrue(reader.segment().isReadOnly());
      assertThrows(
          IllegalArgumentException.class, () -> reader.segment(orders).set(JAVA_INT, 0, 7));
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class, () -> reader.findOrCreate("other", MUTEX, 8, NOTHING));
      assertTrue(e.getMessage().contains("read-only"), e.getMessage());
    }
    assertArrayEquals(before, Files.readAllBytes(file));
  }

  @Test
  void readOnlyOpenOfAMissingFileIsNoSuchFileAndCreatesNothing() {
    Path file = directory.resolve("absent");
    assertThrows(NoSuchFileException.class, () -> MappedRegion.openReadOnly(file));
    assertFalse(Files.exists(file));
  }

  @Test
  void pathOfADirectoryIsRefused() {
    IOException e =
        assertThrows(IOException.class, () -> MappedRegion.open(directory, SIZE, CAPACITY));
    assertTrue(e.getMessage().contains(directory.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
  }

  @Test
  void missingDirectoryIsNoSuchFile() {
    Path file = directory.resolve("missing").resolve("region");
    NoSuchFileException e =
        assertThrows(NoSuchFileException.class, () -> MappedRegion.open(file, SIZE, CAPACITY));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  @Test
  void closeIsIdempotentAndLaterCallsFail() {
    MappedRegion region = MappedRegion.inMemory(SIZE, CAPACITY);
    MemorySegment segment = region.segment();
    region.close();
    region.close();
    assertFalse(segment.scope().isAlive());
    assertThrows(IllegalStateException.class, () -> region.find("x"));
    assertThrows(IllegalStateException.class, () -> region.findOrCreate("x", MUTEX, 8, NOTHING));
    assertThrows(IllegalStateException.class, region::objects);
  }

  @Test
  void corruptionAfterOpenIsAnUncheckedInvalidRegion() throws IOException {
    Path file = directory.resolve("region");
    try (MappedRegion region = MappedRegion.open(file, SIZE, CAPACITY)) {
      region.findOrCreate("a", MUTEX, 8, NOTHING);
      MemorySegment segment = region.segment();
      segment.set(JAVA_INT, RegionDescriptor.ENTRY_COUNT_OFFSET, CAPACITY + 1);
      assertCorrupt(file, () -> region.find("a"), "capacity");
      segment.set(JAVA_INT, RegionDescriptor.ENTRY_COUNT_OFFSET, 1);

      segment.set(JAVA_LONG, RegionDescriptor.DATA_CURSOR_OFFSET, SIZE + 64);
      assertCorrupt(file, () -> region.findOrCreate("b", MUTEX, 8, NOTHING), "data cursor");
      segment.set(JAVA_LONG, RegionDescriptor.DATA_CURSOR_OFFSET, SIZE);

      long entry = RegionFileEditor.entryOffset(0);
      segment.set(
          JAVA_LONG, entry + RegionDescriptor.ENTRY_OBJECT_OFFSET_OFFSET, Long.MAX_VALUE - 63);
      assertCorrupt(file, region::objects, "entry 0");
    }
  }

  private static void assertCorrupt(Path file, Runnable call, String detail) {
    UncheckedIOException e = assertThrows(UncheckedIOException.class, call::run);
    InvalidRegionException cause = assertInstanceOf(InvalidRegionException.class, e.getCause());
    assertEquals(InvalidRegionException.Problem.CORRUPT, cause.problem());
    assertEquals(file, cause.file());
    assertTrue(cause.getMessage().contains(file.toString()), cause.getMessage());
    assertTrue(cause.getMessage().contains(detail), cause.getMessage());
  }
}
