package dev.ringlock.locks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringlock.testsupport.Child;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process that died holding a wait queue's list lock and that its parent has not reaped (a
 * zombie) is dead: the lock is taken over at once, as from any dead holder. ProcessHandle.isAlive
 * and kill(pid, 0) call a zombie alive; a lock checked that way was never taken over, and every
 * call on the queue timed out naming the zombie as a live holder.
 */
@Timeout(120)
class WaitQueueZombieHolderTest {
  @TempDir Path directory;

  @Test
  void aListLockHeldByAZombieIsTakenOver() throws Exception {
    Path file = directory.resolve("zombie-" + ProcessHandle.current().pid());
    // Far above the takeover (a re-check of 10 ms) and above the bound asserted below.
    RegionOptions options =
        RegionOptions.builder().internalLockTimeout(Duration.ofSeconds(20)).build();
    Process parent = null;
    try (SharedRegion region = SharedRegion.open(file, options)) {
      WaitQueue queue = region.waitQueue("q");
      // The JVM runs in the background of a shell that then execs sleep, which never reaps it.
      List<String> command = new ArrayList<>();
      command.addAll(List.of("sh", "-c", "\"$@\" & echo $!; exec sleep 120", "sh"));
      command.addAll(Child.jvm(ZombieListLockHolder.class, file.toString(), "q").command());
      parent = new ProcessBuilder(command).redirectErrorStream(true).start();
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8));
      int holder = Integer.parseInt(out.readLine().trim());
      String said = out.readLine();
      assertEquals("LOCKED", said, "the child did not take the list lock");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!isZombie(holder)) {
        assertTrue(System.nanoTime() < deadline, "the child did not become a zombie");
        Thread.sleep(20);
      }
      assertTrue(ProcessHandle.of(holder).map(ProcessHandle::isAlive).orElse(false));

      long start = System.nanoTime();
      CompletableFuture<Void> waiter = queue.await(0); // needs the list lock: takes it over
      assertEquals(1, queue.wake(1));
      assertNull(waiter.get(30, TimeUnit.SECONDS));
      long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(isZombie(holder), "the holder was reaped meanwhile: the test proved nothing");
      assertTrue(tookMillis < 10_000, "took " + tookMillis + " ms: waited for a live holder?");
    } finally {
      if (parent != null) {
        parent.destroyForcibly(); // the zombie's new parent (init or a subreaper) reaps it
        parent.waitFor(30, TimeUnit.SECONDS);
      }
      Files.deleteIfExists(file);
    }
  }

  private static boolean isZombie(int pid) throws Exception {
    Path stat = Path.of("/proc/" + pid + "/stat");
    if (!Files.exists(stat)) {
      return false;
    }
    String line = Files.readString(stat);
    return line.substring(line.lastIndexOf(')') + 2).startsWith("Z");
  }
}
