package dev.ringlock.core.memory;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.ffi.FutexFlags;
import dev.ringlock.testsupport.Child;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Threads and processes racing to create the same region and the same names share one of each. */
@Timeout(180)
class ConcurrentCreationTest {
  private static final int THREADS = 8;

  @TempDir Path directory;

  @Test
  void eightThreadsCreatingOneNameGetOneObjectInitialisedOnce() throws Exception {
    int names = 50;
    try (MappedRegion region = MappedRegion.inMemory(1 << 20, names);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS)) {
      AtomicInteger[] runs = new AtomicInteger[names];
      for (int n = 0; n < names; n++) {
        runs[n] = new AtomicInteger();
      }
      CountDownLatch start = new CountDownLatch(1);
      List<Future<List<NamedObject>>> results = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  List<NamedObject> found = new ArrayList<>();
                  for (int n = 0; n < names; n++) {
                    AtomicInteger counter = runs[n];
                    found.add(
                        region.findOrCreate(
                            "shared-" + n, 3, 64, object -> counter.incrementAndGet()));
                  }
                  return found;
                }));
      }
      start.countDown();
      List<NamedObject> first = results.getFirst().get(60, TimeUnit.SECONDS);
      for (Future<List<NamedObject>> result : results) {
        assertEquals(first, result.get(60, TimeUnit.SECONDS));
      }
      for (int n = 0; n < names; n++) {
        assertEquals(1, runs[n].get(), "initializer runs for shared-" + n);
      }
      assertEquals(first, region.objects());
    }
  }

  @Test
  void eightThreadsOpeningOneMissingFileAllMapTheSameRegion() throws Exception {
    Path file = directory.resolve("region");
    try (ExecutorService pool = Executors.newFixedThreadPool(THREADS)) {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<MappedRegion>> opened = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        opened.add(
            pool.submit(
                () -> {
                  start.await();
                  return MappedRegion.open(file, 64 * 1024, 8);
                }));
      }
      start.countDown();
      List<MappedRegion> regions = new ArrayList<>();
      for (Future<MappedRegion> region : opened) {
        regions.add(region.get(60, TimeUnit.SECONDS));
      }
      try {
        assertEquals(1, regions.stream().filter(MappedRegion::created).count());
        NamedObject object = regions.getFirst().findOrCreate("x", 1, 4, o -> o.set(JAVA_INT, 0, 9));
        for (MappedRegion region : regions) {
          assertEquals(9, region.segment().get(JAVA_INT, object.offset()));
        }
      } finally {
        regions.forEach(MappedRegion::close);
      }
      try (Stream<Path> files = Files.list(directory)) {
        assertEquals(List.of(file), files.toList(), "temporary files were left behind");
      }
    }
  }

  @Test
  void threeProcessesCreatingOneFileAndTwentyNamesAgreeOnEveryOffset() throws Exception {
    Path region = directory.resolve("raced-region");
    Path start = directory.resolve("start");
    int children = 3;
    try (FileChannel channel =
            FileChannel.open(
                start,
                StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        Arena arena = Arena.ofConfined()) {
      channel.truncate(0).write(ByteBuffer.allocate(4096));
      MemorySegment startWord = channel.map(FileChannel.MapMode.READ_WRITE, 0, 4096, arena);
      raceChildren(region, start, startWord, children);
    }
  }

  private void raceChildren(Path region, Path start, MemorySegment startWord, int children)
      throws Exception {
    List<Child> processes = new ArrayList<>();
    for (int child = 0; child < children; child++) {
      processes.add(
          Child.jvm(
                  RegionRaceChild.class,
                  region.toString(),
                  directory.resolve("ready-" + child).toString(),
                  start.toString(),
                  Integer.toString(child),
                  Integer.toString(children))
              .captureStdout()
              .start());
    }
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      for (int child = 0; child < children; child++) {
        while (!Files.exists(directory.resolve("ready-" + child))) {
          assertTrue(System.nanoTime() < deadline, "child " + child + " never started");
          Thread.sleep(5);
        }
      }
      // Every child sleeps on the word now: one wake sets them all running at once.
      startWord.set(JAVA_INT, RegionRaceChild.GO, 1);
      Futex.wake(
          FutexWord.of(startWord, RegionRaceChild.GO),
          Integer.MAX_VALUE,
          FutexFlags.BITSET_MATCH_ANY);

      List<Map<String, Long>> offsets = new ArrayList<>();
      Map<String, Integer> initialisedBy = new HashMap<>();
      int creators = 0;
      for (int child = 0; child < children; child++) {
        Child process = processes.get(child);
        int status = process.awaitExit(Duration.ofSeconds(90));
        String output = process.output();
        assertEquals(0, status, "child " + child + " failed; see target/child-processes.log");
        Map<String, Long> childOffsets = new HashMap<>();
        for (String line : output.lines().toList()) {
          String[] words = line.split(" ");
          switch (words[0]) {
            case "created" -> creators += Boolean.parseBoolean(words[1]) ? 1 : 0;
            case "init" -> {
              Integer earlier = initialisedBy.put(words[1], child);
              assertEquals(null, earlier, words[1] + " was initialised twice");
            }
            case "object" -> childOffsets.put(words[1], Long.parseLong(words[2]));
            default -> throw new AssertionError("unexpected child output: " + line);
          }
        }
        assertEquals(RegionRaceChild.NAMES, childOffsets.size(), output);
        offsets.add(childOffsets);
      }
      assertEquals(1, creators, "exactly one process creates the file");
      assertEquals(offsets.get(0), offsets.get(1));
      assertEquals(offsets.get(0), offsets.get(2));
      assertEquals(RegionRaceChild.NAMES, initialisedBy.size());
      assertEquals(RegionRaceChild.NAMES, new HashSet<>(offsets.get(0).values()).size());

      try (MappedRegion attached =
          MappedRegion.open(region, RegionRaceChild.SIZE, RegionRaceChild.CAPACITY)) {
        Set<String> seen = new HashSet<>();
        for (NamedObject object : attached.objects()) {
          assertTrue(seen.add(object.name()));
          assertEquals(offsets.get(0).get(object.name()), object.offset());
          // The first int is the number of the child whose initializer ran.
          assertEquals(
              initialisedBy.get(object.name()), attached.segment().get(JAVA_INT, object.offset()));
        }
        assertEquals(RegionRaceChild.NAMES, seen.size());
      }
      try (Stream<Path> files = Files.list(directory)) {
        assertTrue(
            files.noneMatch(path -> path.getFileName().toString().endsWith(".tmp")),
            "temporary files were left behind");
      }
    } finally {
      processes.forEach(Child::close);
    }
  }
}
