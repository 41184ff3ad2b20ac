package dev.ringlock.core.memory;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.ringlock.core.Futex;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.ffi.FutexFlags;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.channels.FileChannel.MapMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

/**
 * The child half of ConcurrentCreationTest. Arguments: region file, ready file, start file, child
 * number, number of children.
 *
 * <p>Two races, each started by a barrier in the start file: the first word is the parent's go
 * (every child sleeps on it, so one wake starts them within microseconds; spinning children would
 * outnumber the cores and start milliseconds apart), the word at 64 counts children that have
 * opened the region, and the last one wakes the others. Then every child creates the same names in
 * the same order, with an initializer slow enough (2 ms) that the others reach each name while its
 * creator still holds the directory lock.
 *
 * <p>Prints, one per line:
 *
 * <pre>
 * created true|false
 * init NAME          (when this child's initializer ran for NAME)
 * object NAME OFFSET
 * </pre>
 */
public final class RegionRaceChild {
  static final long SIZE = 256 * 1024;
  static final int CAPACITY = 64;
  static final int NAMES = 20;
  static final int TYPE = 7;
  static final long GO = 0;
  static final long OPENED = 64;

  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

  public static void main(String[] args) throws Exception {
    Path region = Path.of(args[0]);
    Path ready = Path.of(args[1]);
    Path start = Path.of(args[2]);
    int child = Integer.parseInt(args[3]);
    int children = Integer.parseInt(args[4]);
    StringBuilder out = new StringBuilder();
    try (FileChannel channel =
            FileChannel.open(start, StandardOpenOption.READ, StandardOpenOption.WRITE);
        Arena arena = Arena.ofConfined()) {
      MemorySegment words = channel.map(MapMode.READ_WRITE, 0, 4096, arena);
      FutexWord go = FutexWord.of(words, GO);
      FutexWord opened = FutexWord.of(words, OPENED);
      // Link the futex downcalls (a few hundred ms, once) before saying we are ready.
      Futex.wake(go, 0, FutexFlags.BITSET_MATCH_ANY);
      Files.createFile(ready);
      awaitAtLeast(words, go, GO, 1);

      try (MappedRegion mapped = MappedRegion.open(region, SIZE, CAPACITY)) {
        out.append("created ").append(mapped.created()).append('\n');
        if ((int) INT.getAndAdd(words, OPENED, 1) + 1 == children) {
          Futex.wake(opened, Integer.MAX_VALUE, FutexFlags.BITSET_MATCH_ANY);
        }
        awaitAtLeast(words, opened, OPENED, children);

        for (int i = 0; i < NAMES; i++) {
          String name = "name-" + i;
          NamedObject object =
              mapped.findOrCreate(
                  name,
                  TYPE,
                  100,
                  segment -> {
                    segment.set(JAVA_INT, 0, child);
                    out.append("init ").append(name).append('\n');
                    sleep(2);
                  });
          out.append("object ").append(name).append(' ').append(object.offset()).append('\n');
        }
      }
    }
    System.out.print(out);
    System.out.flush();
  }

  private static void awaitAtLeast(MemorySegment words, FutexWord word, long offset, int value)
      throws Exception {
    for (int seen; (seen = (int) INT.getVolatile(words, offset)) < value; ) {
      // Returns when woken, or at once when the word no longer holds what we saw: look again.
      Futex.await(word, seen, FutexFlags.BITSET_MATCH_ANY, Duration.ofSeconds(60));
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
