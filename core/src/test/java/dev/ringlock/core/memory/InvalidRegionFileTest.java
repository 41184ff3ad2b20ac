package dev.ringlock.core.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.InvalidRegionException;
import dev.ringlock.core.InvalidRegionException.Problem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kind of bad file is refused with the right problem, a message naming the file, and the file
 * left exactly as it was (bytes and modification time).
 */
class InvalidRegionFileTest {
  private static final long SIZE = 64 * 1024;
  private static final int CAPACITY = 8;

  @TempDir Path directory;

  @Test
  void fileWithAnotherMagicIsNotARegion() throws IOException {
    Path file = directory.resolve("other");
    Files.write(file, "#!/bin/sh\necho this is a script\n".repeat(200).getBytes());
    InvalidRegionException e = assertRefusedUntouched(file, Problem.NOT_A_REGION);
    assertTrue(e.getMessage().contains("magic 0x"), e.getMessage());
    assertTrue(e.getMessage().contains("expected 0x4b434f4c474e4952"), e.getMessage());
    assertTrue(e.getMessage().contains("delete it if nothing uses it"), e.getMessage());
  }

  @Test
  void emptyFileIsNotARegion() throws IOException {
    Path file = Files.createFile(directory.resolve("empty"));
    InvalidRegionException e = assertRefusedUntouched(file, Problem.NOT_A_REGION);
    assertTrue(e.getMessage().contains("empty"), e.getMessage());
  }

  @Test
  void shortFileNotStartingWithTheMagicIsNotARegion() throws IOException {
    Path file = directory.resolve("short");
    Files.write(file, "RINGBELL!!".getBytes(StandardCharsets.US_ASCII));
    assertRefusedUntouched(file, Problem.NOT_A_REGION);
  }

  @Test
  void regionOfANewerLayoutVersionIsRefused() throws IOException {
    Path file = region("newer");
    RegionFileEditor.putInt(file, RegionDescriptor.LAYOUT_VERSION_OFFSET, 8);
    InvalidRegionException e = assertRefusedUntouched(file, Problem.UNSUPPORTED_VERSION);
    assertTrue(
        e.getMessage()
            .contains("written by a newer ringlock (layout version 8; this one reads up to 7)"),
        e.getMessage());
    assertTrue(e.getMessage().contains("same ringlock version"), e.getMessage());
  }

  /** Each older layout version, and what its refusal says the file lacks. */
  static Stream<Arguments> olderVersions() {
    String tail = " of version 7; this one reads only version 7)";
    return Stream.of(
        Arguments.of(1, "(layout version 1, without the name index"),
        Arguments.of(
            2,
            "(layout version 2, without the wait-queue wake sequences, the starving marks, the"
                + " objects' counters, the mutexes' hold tags and the read-write mutexes' record"
                + " bounds"
                + tail),
        Arguments.of(
            3,
            "(layout version 3, without the mutexes' starving summaries, the read-write mutexes'"
                + " starving marks, the objects' counters, the mutexes' hold tags and the"
                + " read-write mutexes' per-view reader records and record bounds"
                + tail),
        Arguments.of(
            4,
            "(layout version 4, without the objects' counters (a stats line after every object,"
                + " which inspect reads), the mutexes' hold tags and the read-write mutexes'"
                + " per-view reader records and record bounds"
                + tail),
        Arguments.of(
            5,
            "(layout version 5, without the mutexes' hold tags (beside each mutex word, where"
                + " version 5 keeps its starving summary; a release moves the tag with the word in"
                + " one atomic step) and the read-write mutexes' per-view reader records (a closed"
                + " view's record carries a bit that version 5 counts as read holds) and record"
                + " bounds"
                + tail),
        Arguments.of(
            6,
            "(layout version 6, without the read-write mutexes' record bounds (a writer looks only"
                + " at the reader records below the bound, which a version 6 process does not raise"
                + " when it claims a record)"
                + tail));
  }

  @ParameterizedTest
  @MethodSource("olderVersions")
  void regionOfAnOlderLayoutVersionIsRefusedSayingWhatItLacksAndWhatToDo(int version, String lacks)
      throws IOException {
    Path file = region("version-" + version);
    RegionFileEditor.putInt(file, RegionDescriptor.LAYOUT_VERSION_OFFSET, version);
    InvalidRegionException e = assertRefusedUntouched(file, Problem.UNSUPPORTED_VERSION);
    assertTrue(e.getMessage().contains("written by an older ringlock " + lacks), e.getMessage());
    assertTrue(e.getMessage().contains("delete it"), e.getMessage());
  }

  @Test
  void nameIndexOutsideItsPlaceIsOutOfBounds() throws IOException {
    Path file = region("index-offset");
    RegionFileEditor.putLong(
        file, RegionDescriptor.INDEX_OFFSET_OFFSET, RegionDescriptor.dataStart(CAPACITY));
    InvalidRegionException e = assertRefusedUntouched(file, Problem.DIRECTORY_OUT_OF_BOUNDS);
    assertTrue(e.getMessage().contains("name index out of bounds"), e.getMessage());
  }

  @Test
  void nameIndexSlotBeyondTheCapacityIsCorruptAtOpen() throws IOException {
    Path file = region("index-slot");
    RegionFileEditor.putInt(file, RegionDescriptor.indexOffset(CAPACITY) + 4, CAPACITY + 1);
    InvalidRegionException e = assertRefusedUntouched(file, Problem.CORRUPT);
    assertTrue(e.getMessage().contains("corrupt name index"), e.getMessage());
  }

  @Test
  void nameIndexThatLostAnEntryIsCorruptAtOpen() throws IOException {
    Path file = region("index-lost");
    for (int slot = 0; slot < RegionDescriptor.indexSlots(CAPACITY); slot++) {
      RegionFileEditor.putInt(file, RegionDescriptor.indexOffset(CAPACITY) + 4L * slot, 0);
    }
    InvalidRegionException e = assertRefusedUntouched(file, Problem.CORRUPT);
    assertTrue(e.getMessage().contains("does not lead to directory entry 0"), e.getMessage());
  }

  @Test
  void regionCreatedInAnotherPidNamespaceIsRefused() throws IOException {
    Path file = region("other-namespace");
    long ours = RegionHeader.pidNamespaceOfThisProcess();
    assertTrue(ours != 0, "this machine has /proc/self/ns/pid");
    RegionFileEditor.putLong(file, RegionDescriptor.PID_NAMESPACE_OFFSET, ours + 1);
    InvalidRegionException e = assertRefusedUntouched(file, Problem.OTHER_PID_NAMESPACE);
    assertTrue(
        e.getMessage().contains("created in PID namespace pid:[" + (ours + 1) + "]"),
        e.getMessage());
    assertTrue(e.getMessage().contains("one PID namespace"), e.getMessage());
  }

  @Test
  void regionThatRecordedNoPidNamespaceIsAccepted() throws IOException {
    Path file = region("no-namespace");
    RegionFileEditor.putLong(file, RegionDescriptor.PID_NAMESPACE_OFFSET, 0);
    try (MappedRegion region = MappedRegion.open(file, SIZE, CAPACITY)) {
      assertEquals(file, region.file());
    }
  }

  @Test
  void layoutVersionZeroIsCorrupt() throws IOException {
    Path file = region("version-zero");
    RegionFileEditor.putInt(file, RegionDescriptor.LAYOUT_VERSION_OFFSET, 0);
    assertRefusedUntouched(file, Problem.CORRUPT);
  }

  @Test
  void regionTruncatedToHalfIsTruncated() throws IOException {
    Path file = region("half");
    RegionFileEditor.truncate(file, SIZE / 2);
    InvalidRegionException e = assertRefusedUntouched(file, Problem.TRUNCATED);
    assertTrue(
        e.getMessage().contains("(" + SIZE / 2 + " bytes; its header records " + SIZE + ")"),
        e.getMessage());
  }

  @Test
  void regionTruncatedToTenBytesIsTruncated() throws IOException {
    Path file = region("ten-bytes");
    RegionFileEditor.truncate(file, 10);
    assertRefusedUntouched(file, Problem.TRUNCATED);
  }

  @Test
  void regionTruncatedInsideTheMagicIsTruncated() throws IOException {
    Path file = region("five-bytes");
    RegionFileEditor.truncate(file, 5);
    assertRefusedUntouched(file, Problem.TRUNCATED);
  }

  @Test
  void recordedSizeThatIsNotWholeLinesIsCorrupt() throws IOException {
    Path file = region("odd-size");
    RegionFileEditor.putLong(file, RegionDescriptor.REGION_BYTES_OFFSET, SIZE - 1);
    assertRefusedUntouched(file, Problem.CORRUPT);
  }

  @Test
  void directoryPointingOutsideTheFileIsOutOfBounds() throws IOException {
    Path file = region("far-directory");
    RegionFileEditor.putLong(file, RegionDescriptor.DIRECTORY_OFFSET_OFFSET, SIZE * 4);
    assertRefusedUntouched(file, Problem.DIRECTORY_OUT_OF_BOUNDS);
  }

  @Test
  void directoryInsideTheHeaderIsOutOfBounds() throws IOException {
    Path file = region("header-directory");
    RegionFileEditor.putLong(file, RegionDescriptor.DIRECTORY_OFFSET_OFFSET, 64);
    assertRefusedUntouched(file, Problem.DIRECTORY_OUT_OF_BOUNDS);
  }

  @Test
  void directoryRunningIntoTheDataAreaIsOutOfBounds() throws IOException {
    Path file = region("big-directory");
    RegionFileEditor.putInt(file, RegionDescriptor.CAPACITY_OFFSET, CAPACITY + 1);
    assertRefusedUntouched(file, Problem.DIRECTORY_OUT_OF_BOUNDS);
  }

  @Test
  void entrySizeOfAnotherLayoutIsCorrupt() throws IOException {
    Path file = region("entry-size");
    RegionFileEditor.putInt(file, RegionDescriptor.ENTRY_BYTES_OFFSET, 64);
    assertRefusedUntouched(file, Problem.CORRUPT);
  }

  @Test
  void entryPointingOutsideTheDataInUseIsCorrupt() throws IOException {
    Path file = region("entry-outside");
    long entry = RegionFileEditor.entryOffset(1);
    RegionFileEditor.putLong(file, entry + RegionDescriptor.ENTRY_OBJECT_BYTES_OFFSET, SIZE);
    InvalidRegionException e = assertRefusedUntouched(file, Problem.CORRUPT);
    assertTrue(e.getMessage().contains("directory entry 1"), e.getMessage());
  }

  @Test
  void entryBeforeTheDataAreaIsCorrupt() throws IOException {
    Path file = region("entry-in-directory");
    long entry = RegionFileEditor.entryOffset(0);
    RegionFileEditor.putLong(file, entry + RegionDescriptor.ENTRY_OBJECT_OFFSET_OFFSET, 128);
    InvalidRegionException e = assertRefusedUntouched(file, Problem.CORRUPT);
    assertTrue(e.getMessage().contains("directory entry 0"), e.getMessage());
  }

  @Test
  void entryWithAnOverlongNameOrTypeZeroOrBadUtf8IsCorrupt() throws IOException {
    long entry = RegionFileEditor.entryOffset(0);
    Path longName = region("long-name");
    RegionFileEditor.putInt(longName, entry + RegionDescriptor.ENTRY_NAME_BYTES_OFFSET, 97);
    assertRefusedUntouched(longName, Problem.CORRUPT);

    Path typeZero = region("type-zero");
    RegionFileEditor.putInt(typeZero, entry + RegionDescriptor.ENTRY_TYPE_OFFSET, 0);
    assertRefusedUntouched(typeZero, Problem.CORRUPT);

    Path badUtf8 = region("bad-utf8");
    RegionFileEditor.putBytes(
        badUtf8, entry + RegionDescriptor.ENTRY_NAME_OFFSET, new byte[] {(byte) 0xC3, 0x28});
    InvalidRegionException e = assertRefusedUntouched(badUtf8, Problem.CORRUPT);
    assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
  }

  @Test
  void overlappingEntriesAreRefusedAtOpen() throws IOException {
    // "b" moved onto "a"'s line: a write to one would be a value of the other
    Path file = region("overlap");
    long a = RegionFileEditor.entryOffset(0);
    long b = RegionFileEditor.entryOffset(1);
    long aOffset;
    try (MappedRegion region = MappedRegion.openReadOnly(file)) {
      aOffset = region.find("a").orElseThrow().offset();
    }
    RegionFileEditor.putLong(file, b + RegionDescriptor.ENTRY_OBJECT_OFFSET_OFFSET, aOffset);
    InvalidRegionException e = assertRefusedUntouched(file, Problem.CORRUPT);
    assertTrue(e.getMessage().contains("directory entry 1"), e.getMessage());
    assertTrue(e.getMessage().contains("never share bytes"), e.getMessage());

    // an object longer than the lines before the next one begins also overlaps it
    Path longer = region("longer");
    RegionFileEditor.putLong(longer, a + RegionDescriptor.ENTRY_OBJECT_BYTES_OFFSET, 65);
    assertRefusedUntouched(longer, Problem.CORRUPT);
  }

  @Test
  void countAboveTheCapacityIsCorrupt() throws IOException {
    Path file = region("count");
    RegionFileEditor.putInt(file, RegionDescriptor.ENTRY_COUNT_OFFSET, CAPACITY + 1);
    InvalidRegionException e = assertRefusedUntouched(file, Problem.CORRUPT);
    assertTrue(e.getMessage().contains("more than its capacity of " + CAPACITY), e.getMessage());
  }

  @Test
  void dataCursorOutsideTheDataAreaIsCorrupt() throws IOException {
    Path file = region("cursor");
    RegionFileEditor.putLong(file, RegionDescriptor.DATA_CURSOR_OFFSET, SIZE + 64);
    assertRefusedUntouched(file, Problem.CORRUPT);
  }

  @Test
  void refusedFileLeavesNoTemporaryFilesBehind() throws IOException {
    Path file = region("alone");
    RegionFileEditor.putInt(file, RegionDescriptor.LAYOUT_VERSION_OFFSET, 9);
    assertRefusedUntouched(file, Problem.UNSUPPORTED_VERSION);
    try (Stream<Path> files = Files.list(directory)) {
      assertEquals(List.of(file), files.toList());
    }
  }

  /** A real region with two objects ("a" and "b"), closed. */
  private Path region(String name) throws IOException {
    Path file = directory.resolve(name);
    try (MappedRegion region = MappedRegion.open(file, SIZE, CAPACITY)) {
      region.findOrCreate("a", 1, 64, object -> {});
      region.findOrCreate("b", 1, 100, object -> {});
    }
    return file;
  }

  private static InvalidRegionException assertRefusedUntouched(Path file, Problem expected)
      throws IOException {
    // An old mtime: a write during the failed open would move it to now.
    FileTime longAgo = FileTime.from(Instant.parse("2001-02-03T04:05:06Z"));
    Files.setLastModifiedTime(file, longAgo);
    byte[] before = Files.readAllBytes(file);

    InvalidRegionException e =
        assertThrows(InvalidRegionException.class, () -> MappedRegion.open(file, SIZE, CAPACITY));

    assertEquals(expected, e.problem(), e.getMessage());
    InvalidRegionException readOnly =
        assertThrows(InvalidRegionException.class, () -> MappedRegion.openReadOnly(file));
    assertEquals(e.getMessage(), readOnly.getMessage(), "a read-only open checks the same");
    assertEquals(file, e.file());
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    assertTrue(e.getMessage().endsWith(expected.advice()), e.getMessage());
    assertArrayEquals(before, Files.readAllBytes(file), "the refused file was modified");
    assertEquals(longAgo, Files.getLastModifiedTime(file), "the refused file's mtime changed");
    return e;
  }
}
