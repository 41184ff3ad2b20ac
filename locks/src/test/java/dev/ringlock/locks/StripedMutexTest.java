package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.RegionFullException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class StripedMutexTest extends RegionTestBase {

  @Test
  void perEntityNamedMutexesFillTheRegionWhereAStripedMutexNeverDoes() throws Exception {
    try (SharedRegion small =
        SharedRegion.open(
            directory.resolve("small"), RegionOptions.builder().ring(ring).capacity(16).build())) {
      // the trap: one name per entity
      assertThrows(
          RegionFullException.class,
          () -> {
            for (int id = 0; id < 100; id++) {
              small.mutex("order-" + id);
            }
          });
    }
    try (SharedRegion small =
        SharedRegion.open(
            directory.resolve("striped"),
            RegionOptions.builder().ring(ring).capacity(16).build())) {
      StripedMutex orders = small.stripedMutex("orders", 8);
      for (long id = 0; id < 100_000; id++) {
        orders.forKey(id);
      }
      assertEquals(
          8, RegionSnapshot.read(small.file()).objects().size(), "8 names, however many keys");
      MutexGuard guard = orders.forKey(12345L).tryLock().orElseThrow();
      guard.unlock();
    }
  }

  @Test
  void aKeyMapsToTheSameStripeInEveryProcessAndKeysSpreadOverAllStripes() throws Exception {
    StripedMutex orders = region.stripedMutex("orders", 16);
    assertSame(orders.forKey(42L), orders.forKey(42L));
    assertSame(orders.forKey("order-42"), orders.forKey("order-42"));
    // the stripe is a function of the value alone: pinned, so a change of the mixer (which would
    // split processes of two versions over different stripes) fails here
    assertEquals(
        List.of(0, 12, 12, 6),
        List.of(
            orders.indexOf(0L),
            orders.indexOf(1L),
            orders.indexOf(42L),
            orders.indexOf("order-42")));
    Set<Integer> used = new HashSet<>();
    for (long id = 0; id < 200; id++) {
      used.add(orders.indexOf(id));
    }
    assertEquals(16, used.size(), "sequential ids use every stripe");
    try (SharedRegion again = SharedRegion.open(region.file(), withRing())) {
      StripedMutex seen = again.stripedMutex("orders", 16);
      MutexGuard held = orders.forKey(7L).tryLock().orElseThrow();
      assertTrue(seen.forKey(7L).isLocked(), "the other view's stripe for 7 is the same lock");
      assertTrue(seen.forKey(7L).tryLock().isEmpty());
      held.unlock();
    }
  }

  @Test
  void anotherStripeCountForTheSameNameIsRefused() throws Exception {
    region.stripedMutex("orders", 16);
    IllegalStateException refused =
        assertThrows(IllegalStateException.class, () -> region.stripedMutex("orders", 32));
    assertTrue(refused.getMessage().contains("with 16 stripes, not 32"), refused.getMessage());
    assertEquals(16, region.stripedMutex("orders", 16).stripes(), "the first count still opens");
    assertThrows(IllegalArgumentException.class, () -> region.stripedMutex("x", 0));
    assertThrows(IllegalArgumentException.class, () -> region.stripedMutex("x".repeat(95), 2));
  }

  @Test
  void forKeysGivesDistinctStripesInIndexOrder() throws Exception {
    StripedMutex orders = region.stripedMutex("orders", 4);
    List<Mutex> stripes = orders.forKeys(1, 2, 3, 4, 5, 6, 7, 8, 1);
    assertTrue(stripes.size() <= 4);
    assertEquals(new HashSet<>(stripes).size(), stripes.size(), "each stripe once");
    int previous = -1;
    for (Mutex stripe : stripes) {
      int index =
          Integer.parseInt(stripe.name().substring("orders#".length(), stripe.name().indexOf('/')));
      assertTrue(index > previous, "index order");
      previous = index;
    }
    List<MutexGuard> held = stripes.stream().map(m -> m.tryLock().orElseThrow()).toList();
    held.forEach(MutexGuard::unlock);
    assertNotSame(orders.stripe(0), orders.stripe(1));
    assertFalse(orders.stripe(0).isLocked());
  }
}
