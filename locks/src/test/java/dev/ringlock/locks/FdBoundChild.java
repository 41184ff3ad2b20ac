package dev.ringlock.locks;

import dev.ringlock.core.FutexRing;
import dev.ringlock.core.FutexWord;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.MutexWords;
import dev.ringlock.testsupport.Child;
import dev.ringlock.testsupport.Watchdog;
import java.io.FileInputStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM, started under a low descriptor limit (ulimit -n), where one mutex is owned in turn
 * by many live processes (their pids written into its word, as their lock calls would): tryLock
 * against each, then one waiting lock() that sees every one of them own the word. Prints the pidfds
 * it then holds ({@code PIDFDS n}), then opens files as an application would ({@code OPENED n} or
 * {@code OPEN FAILED ...}), then kills the last owner and prints {@code TOOK} when the waiting
 * lock() took the word over.
 *
 * <p>Arguments: region file, peers, files to open.
 */
public final class FdBoundChild {
  private FdBoundChild() {}

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    int peerCount = Integer.parseInt(args[1]);
    int filesToOpen = Integer.parseInt(args[2]);
    Watchdog.start(90_000, () -> "stuck");
    List<Child> peers = new ArrayList<>();
    try (SharedRegion region = SharedRegion.open(file);
        MappedRegion raw =
            MappedRegion.open(
                file, RegionOptions.DEFAULT_REGION_SIZE, RegionOptions.DEFAULT_CAPACITY)) {
      Mutex mutex = region.mutex("m");
      MemorySegment object = raw.segment(raw.find("m").orElseThrow());
      FutexWord word = FutexWord.of(object, MutexDescriptor.WORD_OFFSET);
      for (int i = 0; i < peerCount; i++) {
        // stdio not piped to this JVM, so the sleepers hold none of its few descriptors
        peers.add(Child.program("sleep", "120").discardOutput().start());
      }
      for (Child peer : peers) {
        setOwner(object, peer.intPid());
        if (mutex.tryLock().isPresent()) {
          System.out.println("FAIL tryLock took a word a live process owns");
        }
      }
      setOwner(object, peers.get(0).intPid());
      CompletableFuture<MutexGuard> waiting = mutex.lock();
      for (Child peer : peers) {
        setOwner(object, peer.intPid());
        region.ring().wake(word, FutexRing.WAKE_ALL).join();
        Thread.sleep(20); // the waiter looks at the new owner and watches it
      }
      Thread.sleep(300);
      System.out.println("PIDFDS " + pidfds());
      List<FileInputStream> opened = new ArrayList<>();
      try {
        for (int i = 0; i < filesToOpen; i++) {
          opened.add(new FileInputStream("/dev/null"));
        }
        System.out.println("OPENED " + opened.size());
      } catch (Exception e) {
        System.out.println("OPEN FAILED after " + opened.size() + ": " + e);
      } finally {
        for (FileInputStream in : opened) {
          in.close();
        }
      }
      peers.getLast().kill();
      MutexGuard guard = waiting.get(30, TimeUnit.SECONDS);
      System.out.println("TOOK " + guard.ownerDied() + " PIDFDS " + pidfds());
      guard.markConsistent();
      guard.unlock();
    } finally {
      peers.forEach(Child::close);
    }
    System.exit(0);
  }

  private static void setOwner(MemorySegment object, int pid) {
    new MutexWords(object, 0).spWord(pid);
  }

  private static int pidfds() throws Exception {
    int count = 0;
    try (var fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : fds.toList()) {
        try {
          count += Files.readSymbolicLink(fd).toString().contains("pidfd") ? 1 : 0;
        } catch (java.io.IOException gone) {
          // the listing's own descriptor
        }
      }
    }
    return count;
  }
}
