package dev.ringlock.jcstress;

import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.OWNER_DIED;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.STARVING;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.WRITE;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.newRecord;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.recordCount;
import static dev.ringlock.locks.internal.ReadWriteMutexDescriptor.writerOf;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ringlock.core.FutexScope;
import dev.ringlock.locks.ReadGuard;
import dev.ringlock.locks.ReadWriteMutex;
import dev.ringlock.locks.RegionOptions;
import dev.ringlock.locks.SharedRegion;
import dev.ringlock.locks.WriteGuard;
import dev.ringlock.locks.WriterDiedException;
import dev.ringlock.locks.internal.ObjectStatsDescriptor;
import dev.ringlock.locks.internal.ReadWriteMutexCore;
import dev.ringlock.locks.internal.ReadWriteMutexDescriptor;
import dev.ringlock.locks.internal.ReadWriteMutexWords;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/*
 * Overview
 *
 * The read-write mutex's races (issue 18). Each actor uses its own SharedRegion view of one region
 * file where it matters (its own ReadWriteMutexCore, queue and sleeper, as another process would
 * have; the pid, and so the reader record, is shared, which the protocol allows). Tests that plant
 * a state or hold a guard across the actors take a lock of their own from a Pool, and their arbiter
 * gives it back once it is free again; the others share a round-robin set, which only adds
 * contention.
 *
 *   WriterAgainstReader     a writer's two plain writes are seen by a reader both or neither
 *   ReadersShare            two tryReads of a lock nobody writes both succeed
 *   DowngradeAgainstWriter  a downgraded holder reads what it wrote: no queued writer slips in
 *   CancelledClaimAgainstRelease  a writer's claim cancelled while the reader it waits for leaves:
 *                           whatever wins, afterwards the lock is free for readers and writers
 *   DeadWriterTakeover      a writer and a reader find a dead writer's lock: the writer is told
 *                           ownerDied, no reader gets in, and the death is never lost
 *   DeadReaderDropped       two writers find a dead reader's hold: exactly one gets in, not told
 *   StarvingMarkAgainstFastPath  another process's writer marks itself starving and reads the
 *                           word, while a writer here takes the fast path: a claim the starving
 *                           writer did not see is one that saw its mark and went back (Dekker)
 *   FirstReadAgainstFastPath  a view's first read claims a record past the records' bound while
 *                           another view's writer takes the fast path, which scans only up to the
 *                           bound: the bound is raised before the claim, so a writer that missed
 *                           the read's hold is one the read saw (and backed out for)
 */
public final class ReadWriteMutexRaces {
  private ReadWriteMutexRaces() {}

  private static final int SHARED_LOCKS = 64;
  private static final SharedRegion SHARED =
      SharedLocks.openRegion("ringlock-jcstress-rw-", RegionOptions.builder());
  private static final ReadWriteMutex[] LOCKS = new ReadWriteMutex[SHARED_LOCKS];
  private static final ReadWriteMutex[] READ_ONLY = new ReadWriteMutex[SHARED_LOCKS];
  private static final AtomicInteger NEXT = new AtomicInteger();

  static {
    for (int i = 0; i < SHARED_LOCKS; i++) {
      LOCKS[i] = SHARED.readWriteMutex("jcstress-rw-" + i);
      READ_ONLY[i] = SHARED.readWriteMutex("jcstress-rw-read-only-" + i);
    }
  }

  private static ReadWriteMutex nextLock() {
    return LOCKS[Math.floorMod(NEXT.getAndIncrement(), SHARED_LOCKS)];
  }

  // ---- exclusion and sharing ----

  @JCStressTest
  @Outcome(
      id = {"0, 0", "1, 1"},
      expect = ACCEPTABLE,
      desc = "The reader saw the writer's section whole, or not at all")
  @Outcome(expect = FORBIDDEN, desc = "A reader inside a writer's section")
  @State
  public static class WriterAgainstReader {
    private final ReadWriteMutex lock = nextLock();
    private int x;
    private int y;

    @Actor
    @SuppressWarnings("try")
    public void writer() {
      try (WriteGuard guard = lock.write().join()) {
        x = 1;
        y = 1;
      }
    }

    @Actor
    @SuppressWarnings("try")
    public void reader(II_Result r) {
      try (ReadGuard guard = lock.read().join()) {
        r.r1 = x;
        r.r2 = y;
      }
    }
  }

  @JCStressTest
  @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "Both readers in")
  @Outcome(expect = FORBIDDEN, desc = "A reader kept out where no writer exists")
  @State
  public static class ReadersShare {
    private final ReadWriteMutex lock =
        READ_ONLY[Math.floorMod(NEXT.getAndIncrement(), SHARED_LOCKS)];
    private Optional<ReadGuard> first;
    private Optional<ReadGuard> second;

    @Actor
    public void first(II_Result r) {
      first = lock.tryRead();
      r.r1 = first.isPresent() ? 1 : 0;
    }

    @Actor
    public void second(II_Result r) {
      second = lock.tryRead();
      r.r2 = second.isPresent() ? 1 : 0;
    }

    @Arbiter
    public void release() {
      first.ifPresent(ReadGuard::unlock);
      second.ifPresent(ReadGuard::unlock);
    }
  }

  // ---- downgrade, cancellation ----

  @JCStressTest
  @Outcome(
      id = "1, 2",
      expect = ACCEPTABLE,
      desc = "The downgraded holder read its own write; the writer came after")
  @Outcome(expect = FORBIDDEN, desc = "A writer slipped in between the downgrade and the read")
  @State
  public static class DowngradeAgainstWriter {
    private static final Pool POOL = new Pool("downgrade");
    private final Pool.Entry entry = POOL.take();
    private final WriteGuard held = entry.first.write().join(); // free: the lock is ours alone
    private int data = 1;

    @Actor
    public void downgrader(II_Result r) {
      ReadGuard read = held.downgrade();
      r.r1 = data;
      read.unlock();
    }

    @Actor
    @SuppressWarnings("try")
    public void writer() {
      try (WriteGuard guard = entry.second.write().join()) {
        data = 2;
      }
    }

    @Arbiter
    public void after(II_Result r) {
      r.r2 = data;
      POOL.giveBackIfFree(entry);
    }
  }

  @JCStressTest
  @Outcome(
      id = {"1, 1", "0, 1"},
      expect = ACCEPTABLE,
      desc = "Cancelled, or granted first and released: either way nothing is left held")
  @Outcome(expect = FORBIDDEN, desc = "The cancelled claim kept readers or writers out")
  @State
  public static class CancelledClaimAgainstRelease {
    private static final Pool POOL = new Pool("cancel");
    private final Pool.Entry entry = POOL.take();
    private final ReadGuard reading = entry.first.read().join();
    private final CompletableFuture<WriteGuard> writer = entry.first.write(); // claims, waits

    @Actor
    public void cancel() {
      writer.cancel(false);
    }

    @Actor
    public void release() {
      reading.unlock();
    }

    @Arbiter
    public void after(II_Result r) {
      r.r1 = writer.isCancelled() ? 1 : 0;
      if (!writer.isCancelled()) {
        writer.join().unlock();
      }
      Optional<ReadGuard> read = entry.second.tryRead();
      read.ifPresent(ReadGuard::unlock);
      Optional<WriteGuard> write = entry.second.tryWrite();
      write.ifPresent(WriteGuard::unlock);
      r.r2 = read.isPresent() && write.isPresent() ? 1 : 0;
      POOL.giveBackIfFree(entry);
    }
  }

  // ---- owner death, planted: a pid that no process has ----

  @JCStressTest
  @Outcome(
      id = {"1, 0, 1", "1, 3, 1", "0, 3, 1", "0, 0, 1"},
      expect = ACCEPTABLE,
      desc = "The writer took over told ownerDied, or the death is still recorded; no reader in")
  @Outcome(expect = FORBIDDEN, desc = "A writer not told, a reader let in, or the death lost")
  @State
  public static class DeadWriterTakeover {
    private static final Pool POOL = new Pool("dead-writer");
    private final Pool.Entry entry = POOL.take();
    private Optional<WriteGuard> written = Optional.empty();
    private Optional<ReadGuard> read = Optional.empty();

    public DeadWriterTakeover() {
      entry.words.spWord(WRITE | Pool.DEAD_PID);
    }

    @Actor
    public void writer(III_Result r) {
      written = entry.first.tryWrite();
      r.r1 = written.map(guard -> guard.ownerDied() ? 1 : 2).orElse(0);
    }

    @Actor
    public void reader(III_Result r) {
      try {
        read = entry.second.tryRead();
        r.r2 = read.isPresent() ? 4 : 0;
      } catch (WriterDiedException refused) {
        r.r2 = 3;
      }
    }

    @Arbiter
    public void after(III_Result r) {
      read.ifPresent(ReadGuard::unlock);
      int v = entry.words.lvWord();
      r.r3 = written.isPresent() || (v & OWNER_DIED) != 0 || writerOf(v) == Pool.DEAD_PID ? 1 : 0;
      written.ifPresent(
          guard -> {
            guard.markConsistent();
            guard.unlock();
          });
      entry.words.spWord(0); // a death still recorded is this test's planting, not a lock's state
      POOL.giveBackIfFree(entry);
    }
  }

  @JCStressTest
  @Outcome(
      id = {"1, 0, 1", "0, 1, 1"},
      expect = ACCEPTABLE,
      desc = "One writer in, not told anything; the dead reader's record freed")
  @Outcome(expect = FORBIDDEN, desc = "Two writers, none, a writer told ownerDied, or a leak")
  @State
  public static class DeadReaderDropped {
    private static final Pool POOL = new Pool("dead-reader");
    private final Pool.Entry entry = POOL.take();
    private final int deadSlot = entry.freeRecord();
    private Optional<WriteGuard> byFirst;
    private Optional<WriteGuard> bySecond;

    public DeadReaderDropped() {
      entry.words.spRecord(deadSlot, newRecord(Pool.DEAD_PID) | 1);
    }

    @Actor
    public void first(III_Result r) {
      byFirst = entry.first.tryWrite();
      r.r1 = byFirst.map(guard -> guard.ownerDied() ? 2 : 1).orElse(0);
    }

    @Actor
    public void second(III_Result r) {
      bySecond = entry.second.tryWrite();
      r.r2 = bySecond.map(guard -> guard.ownerDied() ? 2 : 1).orElse(0);
    }

    @Arbiter
    public void after(III_Result r) {
      byFirst.ifPresent(WriteGuard::unlock);
      bySecond.ifPresent(WriteGuard::unlock);
      r.r3 = entry.words.lvRecord(deadSlot) == 0 ? 1 : 0;
      entry.words.spRecord(deadSlot, 0);
      POOL.giveBackIfFree(entry);
    }
  }

  @JCStressTest
  @Outcome(
      id = {"1, 0, 1", "0, 1, 1"},
      expect = ACCEPTABLE,
      desc = "One writer in, not told anything; both records of the dead pid freed")
  @Outcome(expect = FORBIDDEN, desc = "Two writers, none, a writer told ownerDied, or a leak")
  @State
  public static class DeadReaderWithSeveralRecords {
    private static final Pool POOL = new Pool("dead-reader-views");
    private final Pool.Entry entry = POOL.take();
    private final int firstDead = entry.freeRecord();
    private final int secondDead;
    private Optional<WriteGuard> byFirst;
    private Optional<WriteGuard> bySecond;

    public DeadReaderWithSeveralRecords() {
      // Two views of one dead process: each record holds, both must go for a writer to get in
      entry.words.spRecord(firstDead, newRecord(Pool.DEAD_PID) | 1);
      secondDead = entry.freeRecord();
      entry.words.spRecord(secondDead, newRecord(Pool.DEAD_PID) | 2);
    }

    @Actor
    public void first(III_Result r) {
      byFirst = entry.first.tryWrite();
      r.r1 = byFirst.map(guard -> guard.ownerDied() ? 2 : 1).orElse(0);
    }

    @Actor
    public void second(III_Result r) {
      bySecond = entry.second.tryWrite();
      r.r2 = bySecond.map(guard -> guard.ownerDied() ? 2 : 1).orElse(0);
    }

    @Arbiter
    public void after(III_Result r) {
      byFirst.ifPresent(WriteGuard::unlock);
      bySecond.ifPresent(WriteGuard::unlock);
      r.r3 = entry.words.lvRecord(firstDead) == 0 && entry.words.lvRecord(secondDead) == 0 ? 1 : 0;
      entry.words.spRecord(firstDead, 0);
      entry.words.spRecord(secondDead, 0);
      POOL.giveBackIfFree(entry);
    }
  }

  @JCStressTest
  @Outcome(
      id = {"1, 0, 1", "0, 1, 1"},
      expect = ACCEPTABLE,
      desc = "One unlock released the hold, the other was refused; the view's other hold stays")
  @Outcome(expect = FORBIDDEN, desc = "Released twice (the other hold lost) or never")
  @State
  public static class RacingUnlocksOfOneReadHold {
    private static final Pool POOL = new Pool("read-unlocks");
    private final Pool.Entry entry = POOL.take();
    private final ReadGuard raced = entry.first.read().join();
    private final ReadGuard other = entry.first.read().join(); // same view, same record

    private int unlock() {
      try {
        raced.unlock();
        return 1;
      } catch (IllegalStateException refused) {
        return 0;
      }
    }

    @Actor
    public void first(III_Result r) {
      r.r1 = unlock();
    }

    @Actor
    public void second(III_Result r) {
      r.r2 = unlock();
    }

    @Arbiter
    public void after(III_Result r) {
      r.r3 = entry.first.readers();
      other.unlock();
      POOL.giveBackIfFree(entry);
    }
  }

  // ---- writers of different processes ----

  @JCStressTest
  @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "The fast path saw the mark before claiming")
  @Outcome(
      id = "1, 0",
      expect = ACCEPTABLE,
      desc = "The mark came while the claim stood: given back")
  @Outcome(
      id = "1, 1",
      expect = ACCEPTABLE,
      desc = "Claimed before the mark; the starving one saw it")
  @Outcome(
      id = "0, 1",
      expect = FORBIDDEN,
      desc = "The fast path kept a claim that the starving writer, after its mark, saw as free")
  @State
  public static class StarvingMarkAgainstFastPath {
    private static final Pool POOL = new Pool("starving");
    private final Pool.Entry entry = POOL.take();
    private final int otherSlot = entry.freeRecord();
    private Optional<WriteGuard> claim = Optional.empty();

    public StarvingMarkAgainstFastPath() {
      // pid 1 is alive and never ours: the process whose writer starves, as it marks itself
      entry.words.spRecord(otherSlot, newRecord(1));
    }

    @Actor
    public void starvingWriter(II_Result r) {
      entry.words.orRecord(otherSlot, STARVING);
      r.r1 = writerOf(entry.words.lvWord()) != 0 ? 1 : 0;
    }

    @Actor
    public void fastPath(II_Result r) {
      claim = entry.first.tryWrite();
      r.r2 = claim.isPresent() ? 1 : 0;
    }

    @Arbiter
    public void after() {
      claim.ifPresent(WriteGuard::unlock);
      entry.words.spRecord(otherSlot, 0);
      POOL.giveBackIfFree(entry);
    }
  }

  @JCStressTest
  @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "The read got in; the writer saw its hold")
  @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "The writer claimed first; the read backed out")
  @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "Each saw the other and stood back")
  @Outcome(
      id = "1, 1",
      expect = FORBIDDEN,
      desc = "A writer in beside a read whose new record its scan did not reach")
  @State
  public static class FirstReadAgainstFastPath {
    private static final Pool POOL = new Pool("first-read");
    private final Pool.Entry entry = POOL.take();
    // No record yet: its first read claims the first free one, past the bound (the first view's
    // record is the only one in use)
    private final ReadWriteMutexCore view = entry.newView();
    private Optional<ReadGuard> read = Optional.empty();
    private Optional<WriteGuard> write = Optional.empty();

    @Actor
    public void firstRead(II_Result r) {
      read = view.tryRead();
      r.r1 = read.isPresent() ? 1 : 0;
    }

    @Actor
    public void fastPath(II_Result r) {
      write = entry.second.tryWrite();
      r.r2 = write.isPresent() ? 1 : 0;
    }

    @Arbiter
    public void after() {
      read.ifPresent(ReadGuard::unlock);
      write.ifPresent(WriteGuard::unlock);
      view.close();
      view.recordUnmapped();
      // The next instance's view must claim past the bound again: its record freed, the bound
      // back to the first view's record alone
      for (int i = 1; i < ReadWriteMutexDescriptor.READER_SLOTS; i++) {
        entry.words.spRecord(i, 0);
      }
      entry.words.spBound(1);
      POOL.giveBackIfFree(entry);
    }
  }

  /**
   * Locks a test instance has to itself: one region file seen through two SharedRegions (the two
   * actors' views) and a raw mapping (to plant states), {@link TwoViews}.
   */
  static final class Pool {
    private static final int MAX_OBJECTS = 16_384; // a jcstress epoch is 10,240 instances
    private static final long REGION_BYTES =
        (2L << 20)
            + (long) MAX_OBJECTS * ObjectStatsDescriptor.withStats(ReadWriteMutexDescriptor.SIZE)
            + (1L << 20);
    static final int DEAD_PID = TwoViews.deadPid();

    private final String prefix;
    private final TwoViews views;
    private final ObjectPool<Entry> entries = new ObjectPool<>(MAX_OBJECTS, Entry::new);

    Pool(String name) {
      this.prefix = "jcstress-rw-" + name + "-";
      this.views = TwoViews.open("ringlock-jcstress-rw-" + name, MAX_OBJECTS, REGION_BYTES);
    }

    Entry take() {
      return entries.take();
    }

    /** Gives the entry back if it is free and consistent with no read hold; else it is retired. */
    void giveBackIfFree(Entry entry) {
      int v = entry.words.lvWord();
      boolean anyHold = false;
      for (int i = 0; i < ReadWriteMutexDescriptor.READER_SLOTS; i++) {
        anyHold |= recordCount(entry.words.lvRecord(i)) != 0;
      }
      if ((v & ~ReadWriteMutexDescriptor.WAITERS) == 0 && !anyHold) {
        entries.giveBack(entry);
      }
    }

    final class Entry {
      final ReadWriteMutex first;
      final ReadWriteMutex second;
      final ReadWriteMutexWords words;
      final String name;
      final long offset;

      Entry(int number) {
        this.name = prefix + number;
        this.first = views.first().readWriteMutex(name);
        this.second = views.second().readWriteMutex(name);
        this.offset = views.raw().find(name).orElseThrow().offset();
        this.words = new ReadWriteMutexWords(views.object(name), 0);
        first.tryRead().orElseThrow().unlock(); // the first view's reader record, claimed now
      }

      /**
       * A view of this entry's lock of its own on the raw mapping, as a third SharedRegion of this
       * process would have (the same pid, a record of its own); closing it unmaps nothing, so its
       * user calls recordUnmapped() once no thread uses it.
       */
      ReadWriteMutexCore newView() {
        return new ReadWriteMutexCore(
            name,
            views.raw(),
            offset,
            FutexScope.SHARED,
            SharedRing.RING,
            (int) ProcessHandle.current().pid(),
            true);
      }

      /** A reader record nobody has. */
      int freeRecord() {
        for (int i = 0; ; i++) {
          if (words.lvRecord(i) == 0) {
            return i;
          }
        }
      }
    }
  }
}
