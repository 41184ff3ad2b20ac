package dev.ringlock.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * The child half of CrossProcessTest: prints "BACKEND" and its ring's backend, wakes the parent's
 * word (retrying until the kernel reports one waiter woken, so the parent's wait was queued), then
 * waits on its own word. Exits 0 when that wait is woken, 3 if it is not, 4 if it never found the
 * parent waiting.
 */
public final class CrossProcessChild {
  public static void main(String[] args) throws Exception {
    try (FileChannel channel =
            FileChannel.open(Path.of(args[0]), StandardOpenOption.READ, StandardOpenOption.WRITE);
        Arena arena = Arena.ofShared();
        FutexRing ring = FutexRing.open()) {
      System.out.println("BACKEND " + ring.backend());
      MemorySegment mapping = channel.map(FileChannel.MapMode.READ_WRITE, 0, 4096, arena);
      FutexWord parentWaits = FutexWord.of(mapping, 0, FutexScope.SHARED);
      FutexWord childWaits = FutexWord.of(mapping, 64, FutexScope.SHARED);
      var ownWait = ring.wait(childWaits, 0); // queued before the parent can learn we are here
      ring.wake(childWaits, 0).get(); // and in the kernel, since requests keep their order
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(50);
      while (ring.wake(parentWaits, 1).get() == 0) {
        if (System.nanoTime() > deadline) {
          System.exit(4);
        }
        Thread.sleep(5);
      }
      System.exit(ownWait.get(50, TimeUnit.SECONDS).isWoken() ? 0 : 3);
    }
  }
}
