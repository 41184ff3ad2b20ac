package dev.ringlock.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.InvalidRegionException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The directory's name index: collisions, wrap-around, leftovers of dead inserters, damage. */
class DirectoryIndexTest {
  private static final int CAPACITY = 8;
  private static final int SLOTS = RegionDescriptor.indexSlots(CAPACITY); // 16
  private static final int TYPE = 7;

  private MappedRegion region;
  private MemorySegment memory;

  @BeforeEach
  void openRegion() {
    region = MappedRegion.inMemory(1 << 16, CAPACITY);
    memory = region.segment();
  }

  @AfterEach
  void closeRegion() {
    region.close();
  }

  private static int homeSlot(String name) {
    return RegionDescriptor.nameHash(name.getBytes(StandardCharsets.UTF_8)) & (SLOTS - 1);
  }

  /** {@code count} names whose probes all start at {@code slot}. */
  private static List<String> namesStartingAt(int slot, int count) {
    List<String> names = new ArrayList<>();
    for (int i = 0; names.size() < count; i++) {
      if (homeSlot("n" + i) == slot) {
        names.add("n" + i);
      }
    }
    return names;
  }

  private int slotValue(int slot) {
    return memory.get(ValueLayout.JAVA_INT, RegionDescriptor.indexOffset(CAPACITY) + 4L * slot);
  }

  private void setSlot(int slot, int value) {
    memory.set(ValueLayout.JAVA_INT, RegionDescriptor.indexOffset(CAPACITY) + 4L * slot, value);
  }

  private NamedObject create(String name) {
    return region.findOrCreate(name, TYPE, 64, object -> {});
  }

  @Test
  void namesThatCollideAreAllFoundAndAMissingOneIsNot() {
    List<String> colliding = namesStartingAt(3, 5);
    List<NamedObject> created = new ArrayList<>();
    for (String name : colliding) {
      created.add(create(name));
    }
    for (int i = 0; i < colliding.size(); i++) {
      assertEquals(created.get(i), region.find(colliding.get(i)).orElseThrow());
      assertEquals(created.get(i), create(colliding.get(i)), "found, not created twice");
      assertEquals(i + 1, slotValue(3 + i), "linear probing from the home slot");
    }
    String missing = namesStartingAt(3, 6).get(5);
    assertEquals(Optional.empty(), region.find(missing));
    assertEquals(colliding.size(), region.objects().size());
  }

  @Test
  void aChainWrapsAroundTheEndOfTheTable() {
    List<String> colliding = namesStartingAt(SLOTS - 1, 3);
    for (String name : colliding) {
      create(name);
    }
    assertEquals(1, slotValue(SLOTS - 1));
    assertEquals(2, slotValue(0));
    assertEquals(3, slotValue(1));
    for (String name : colliding) {
      assertTrue(region.find(name).isPresent(), name);
    }
  }

  @Test
  void aSlotLeftByAnInserterThatDiedIsSteppedOverThenReused() {
    create("first"); // entry 0
    String next = "second";
    int home = homeSlot(next);
    int other = (home + 1) & (SLOTS - 1);
    // A dead inserter wrote entry 1's slot in this chain and died before publishing the count.
    setSlot(home, 2);
    assertEquals(Optional.empty(), region.find(next), "an unpublished entry is not found");
    NamedObject created = create(next); // entry 1 again, under the lock
    assertEquals(2, slotValue(home), "the insert took the leftover slot");
    assertEquals(0, slotValue(other), "and no other");
    assertEquals(created, region.find(next).orElseThrow());
    assertEquals(created, region.find("second").orElseThrow());
    assertEquals(2, region.objects().size());
  }

  @Test
  void aFullTableEndsALookupAndRefusesAnInsertAsCorrupt() {
    create("a"); // entry 0
    for (int slot = 0; slot < SLOTS; slot++) {
      setSlot(slot, 1); // every slot names entry 0: a damaged table, full
    }
    assertTrue(region.find("a").isPresent());
    assertEquals(Optional.empty(), region.find("absent"), "every slot probed once, then absent");
    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> create("absent"));
    InvalidRegionException invalid = assertInstanceOf(InvalidRegionException.class, e.getCause());
    assertEquals(InvalidRegionException.Problem.CORRUPT, invalid.problem());
    assertTrue(invalid.getMessage().contains("no free slot"), invalid.getMessage());
  }

  @Test
  void aSlotNamingAnEntryBeyondTheCapacityIsCorruptNotAnIndexError() {
    String name = "m";
    for (int bad : new int[] {CAPACITY + 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
      setSlot(homeSlot(name), bad);
      UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> region.find(name));
      InvalidRegionException invalid = assertInstanceOf(InvalidRegionException.class, e.getCause());
      assertEquals(InvalidRegionException.Problem.CORRUPT, invalid.problem());
      assertTrue(invalid.getMessage().contains("corrupt name index"), invalid.getMessage());
    }
  }

  @Test
  void theDirectoryFillsToItsCapacityThroughTheIndex() {
    for (int i = 0; i < CAPACITY; i++) {
      create("object-" + i);
    }
    for (int i = 0; i < CAPACITY; i++) {
      assertTrue(region.find("object-" + i).isPresent());
    }
    assertThrows(dev.ringlock.core.RegionFullException.class, () -> create("one-too-many"));
  }
}
