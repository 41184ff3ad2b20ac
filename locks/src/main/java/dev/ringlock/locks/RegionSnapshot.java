package dev.ringlock.locks;

import dev.ringlock.core.ProcessWatch;
import dev.ringlock.core.RingException;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.NamedObject;
import dev.ringlock.core.memory.PidLock;
import dev.ringlock.core.memory.RegionDescriptor;
import dev.ringlock.locks.internal.HolderTable;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.MutexWords;
import dev.ringlock.locks.internal.ObjectStats;
import dev.ringlock.locks.internal.ObjectStatsDescriptor;
import dev.ringlock.locks.internal.ObjectType;
import dev.ringlock.locks.internal.ReadWriteMutexDescriptor;
import dev.ringlock.locks.internal.ReadWriteMutexWords;
import dev.ringlock.locks.internal.SemaphoreDescriptor;
import dev.ringlock.locks.internal.SemaphoreWords;
import dev.ringlock.locks.internal.WaitQueueDescriptor;
import dev.ringlock.locks.internal.WaitQueueWords;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.IntFunction;

/*
 * Overview
 *
 * Reads the state of every named object of a region mapped read-only (MappedRegion.openReadOnly)
 * into plain records. It takes part in no protocol: it never writes, never takes a lock, and reads
 * every field through the objects' flyweights (MutexWords, ReadWriteMutexWords, SemaphoreWords,
 * WaitQueueWords, the same
 * the primitives use) with acquire loads, so what it holds may be stale by the time it is used (a
 * wait queue's per-process counts come from a scan of its slots without the list lock, so they may
 * disagree with its `waiting` count while a wake runs).
 *
 * One validation. The region's header and directory (names, types, offsets, lengths, overlaps) are
 * checked by MappedRegion at open, exactly as SharedRegion.open checks them. Every field of every
 * object is then checked with the rules the library itself applies when it reads that field: the
 * *Descriptor validators (MutexDescriptor.wordProblem, starvingProblem, fenceProblem;
 * SemaphoreDescriptor.flagsProblem, totalProblem; HolderTable.entryProblem;
 * WaitQueueDescriptor.headerProblem, indexProblem, countProblem, stateProblem) and
 * PidLock.wordProblem for a list lock. So whatever value the library refuses as corruption is
 * recorded here as one of the object's problems(). Each of those rules holds for a single field at
 * every instant (writers only store values that pass), so a snapshot taken without any lock raises
 * no false alarm; nothing here checks relations between fields that an update in progress may
 * break for a moment (a list's links against its count).
 *
 * Counters (each object's stats line, ObjectStatsDescriptor) are read as they are and never
 * checked: they decide nothing, so no value of theirs is a problem; a writer's acquisitions are
 * its fence, added to the line's count.
 *
 * A bad value becomes a problem and is kept as read, never used as an index or a length: slot scans
 * are bounded by a capacity first checked against the object's length, and each flyweight is a
 * slice of its object, so no read can leave it.
 *
 * Liveness of a pid is asked once per snapshot and pid, without an io_uring ring
 * (ProcessWatch.isAliveNow: pidfd_open and poll; a zombie counts as dead), so it works where
 * io_uring is blocked.
 */
/**
 * A read-only snapshot of every named object of a region file: what each mutex, semaphore, wait
 * queue and condition variable is doing, which processes it names and whether they are alive, and
 * every damage the library would refuse (each object's {@link ObjectSnapshot#problems()}).
 *
 * <pre>{@code
 * RegionSnapshot snapshot = RegionSnapshot.read(Path.of("/dev/shm/orders.locks"));
 * for (RegionSnapshot.ObjectSnapshot object : snapshot.objects()) {
 *   if (object instanceof RegionSnapshot.MutexSnapshot m && m.owner() != null) {
 *     System.out.println(m.name() + " held by pid " + m.owner().pid());
 *   }
 * }
 * }</pre>
 *
 * <p>Reading never changes the file, takes no lock and needs no io_uring. Only a regular file is
 * read: a symbolic link, FIFO, device or directory at the path is refused without blocking. {@link
 * RegionReport} renders a snapshot as {@code ringlock inspect} prints it.
 *
 * @param file the region file
 * @param layoutVersion the region format's version the file records
 * @param size the region's size in bytes
 * @param capacity how many objects its directory holds
 * @param objects every object, in creation order
 * @param fileWarnings what is wrong with the file itself, not its objects: an owner or mode that
 *     {@link SharedRegion#open} refuses, processes still mapping a deleted or replaced earlier file
 *     of the path. Warnings, not damage: {@link #hasProblems()} ignores them
 */
public record RegionSnapshot(
    Path file,
    int layoutVersion,
    long size,
    int capacity,
    List<ObjectSnapshot> objects,
    List<String> fileWarnings) {
  /** Creates the snapshot; the lists are copied, so it cannot change afterwards. */
  public RegionSnapshot {
    Objects.requireNonNull(file, "file");
    objects = List.copyOf(objects);
    fileWarnings = List.copyOf(fileWarnings);
  }

  /**
   * Whether any object is damaged.
   *
   * @return true if some object has a problem
   */
  public boolean hasProblems() {
    return objects.stream().anyMatch(o -> !o.problems().isEmpty());
  }

  /**
   * A process named in shared memory (an owner, a holder, a waiter).
   *
   * @param pid its process id, as recorded
   * @param alive whether it is alive (a zombie is not), null if that could not be told
   */
  public record Peer(int pid, Boolean alive) {}

  /**
   * An object's counters: totals over every process that used it since the region file was created
   * (docs/observability.md, Counters). Each is read from the file and only shown: a damaged file
   * may hold any value, and a total wraps modulo 2^64.
   *
   * @param acquisitions acquisitions granted: a mutex's locks; a read-write mutex's writes (its
   *     fence, exact) plus its reads; a semaphore's acquires; a wait queue's waits. Locks, reads
   *     and semaphore acquires granted without queueing are counted by each process and added to
   *     the file in batches of up to 256, at its next contended grant and at its close, so they lag
   *     and are approximate (see the docs)
   * @param contended acquisitions that queued before they were granted (a wait queue's: waits ended
   *     by a wake)
   * @param waitNanos the nanoseconds the contended ones waited in total, from request to grant
   * @param takeovers owner deaths taken over (a mutex, a read-write mutex's writer); a wait
   *     queue's: dead waiters' slots reclaimed; 0 for a semaphore
   * @param recovered a semaphore's permits brought back from dead holders; a read-write mutex's
   *     read holds dropped with dead readers' records; 0 otherwise
   * @param rescuedWaits kernel waits that timed out at the 250 ms re-check and then found the word
   *     free: each one the symptom of a lost wake
   */
  public record Counters(
      long acquisitions,
      long contended,
      long waitNanos,
      long takeovers,
      long recovered,
      long rescuedWaits) {
    /**
     * The mean wait of the contended acquisitions, 0 if none (or the counts are damaged).
     *
     * @return nanoseconds
     */
    public long meanWaitNanos() {
      return contended > 0 && waitNanos >= 0 ? waitNanos / contended : 0;
    }
  }

  /** One named object as seen. */
  public sealed interface ObjectSnapshot
      permits MutexSnapshot,
          ReadWriteMutexSnapshot,
          SemaphoreSnapshot,
          WaitQueueSnapshot,
          UnreadableObject {
    /**
     * Its name, as stored (it may contain any character: escape it before printing).
     *
     * @return the name
     */
    String name();

    /**
     * "mutex", "read-write mutex", "semaphore", "wait queue", "condition variable", or "unknown".
     *
     * @return the type's name
     */
    String type();

    /**
     * Every value found that the library refuses as corruption; empty if none.
     *
     * @return the problems found
     */
    List<String> problems();
  }

  /**
   * A mutex.
   *
   * @param name its name in the region, as stored
   * @param word the lock word as read
   * @param owner the process the word names (held, or taken over and not yet marked consistent);
   *     null when free or not recoverable. A pid above any Linux pid is a problem, and its {@code
   *     alive} is null
   * @param ownerDied the holder took the mutex over from a dead owner and has not marked it
   *     consistent
   * @param notRecoverable every acquisition fails (NotRecoverableException)
   * @param waitersBit some process may be asleep on the word
   * @param sleepers processes with a kernel wait armed on the word
   * @param lastFence the fence counter: the last acquisition's fence, or one more once that
   *     acquisition was released (a release moves it on by one, which makes its guard stale)
   * @param starving processes whose oldest waiter starved
   * @param problems every value found that the library refuses as corruption; empty if none
   * @param counters its counters: acquisitions, contention, takeovers
   */
  public record MutexSnapshot(
      String name,
      int word,
      Peer owner,
      boolean ownerDied,
      boolean notRecoverable,
      boolean waitersBit,
      int sleepers,
      long lastFence,
      List<Peer> starving,
      List<String> problems,
      Counters counters)
      implements ObjectSnapshot {
    /** Creates the snapshot of one mutex; the lists are copied. */
    public MutexSnapshot {
      starving = List.copyOf(starving);
      problems = List.copyOf(problems);
    }

    @Override
    public String type() {
      return ObjectType.name(ObjectType.MUTEX);
    }

    /**
     * "free", "held" or "not-recoverable".
     *
     * @return the state
     */
    public String state() {
      return notRecoverable ? "not-recoverable" : owner == null ? "free" : "held";
    }

    /**
     * Whether the protected state is consistent: not when the mutex is not recoverable, was taken
     * over and not marked consistent, or its owner is dead (the next acquirer takes it over).
     *
     * @return false after an owner's death until repaired, or once not recoverable
     */
    public boolean consistent() {
      return !notRecoverable
          && !ownerDied
          && !(owner != null && Boolean.FALSE.equals(owner.alive()));
    }
  }

  /**
   * A read-write mutex (docs/read-write-mutex.md).
   *
   * @param name its name in the region, as stored
   * @param word the state word as read
   * @param writer the process that holds the write lock or has claimed it (see {@code pending});
   *     null when none. A pid above any Linux pid is a problem, and its {@code alive} is null
   * @param pending the writer has claimed the lock and waits for the readers to leave
   * @param ownerDied a writer died holding the lock: with a writer, it took over and has not yet
   *     marked the state consistent; without one, no writer has taken over yet (reads fail with
   *     WriterDiedException until one does)
   * @param notRecoverable every acquisition fails (NotRecoverableException)
   * @param waitersBit some process may be asleep on the word
   * @param sleepers processes with a kernel wait armed on the word
   * @param lastFence the fence of the last write acquisition
   * @param readers every process with a reader record: its read holds, and whether its readers wait
   *     for a writer to leave
   * @param problems every value found that the library refuses as corruption; empty if none
   * @param counters its counters: acquisitions, contention, takeovers
   */
  public record ReadWriteMutexSnapshot(
      String name,
      int word,
      Peer writer,
      boolean pending,
      boolean ownerDied,
      boolean notRecoverable,
      boolean waitersBit,
      int sleepers,
      long lastFence,
      List<ReaderRecord> readers,
      List<String> problems,
      Counters counters)
      implements ObjectSnapshot {
    /** Creates the snapshot of one read-write mutex; the lists are copied. */
    public ReadWriteMutexSnapshot {
      readers = List.copyOf(readers);
      problems = List.copyOf(problems);
    }

    @Override
    public String type() {
      return ObjectType.name(ObjectType.READ_WRITE_MUTEX);
    }

    /**
     * The read holds of every process.
     *
     * @return the read holds
     */
    public long readHolds() {
      return readers.stream().mapToLong(ReaderRecord::holds).sum();
    }

    /**
     * "not-recoverable", "writer-died" (reads refused until a writer repairs), "write-pending",
     * "write-locked", "read-locked" or "free".
     *
     * @return the state
     */
    public String state() {
      if (notRecoverable) {
        return "not-recoverable";
      }
      if (writer == null) {
        return ownerDied ? "writer-died" : readHolds() > 0 ? "read-locked" : "free";
      }
      return pending ? "write-pending" : "write-locked";
    }
  }

  /**
   * One reader record of a read-write mutex.
   *
   * @param slot its index in the records
   * @param process the reading process
   * @param holds its read holds
   * @param waiting its readers wait for a writer to leave; no new writer claims before they enter
   * @param starving its writer at the head of its queue has waited past the starvation threshold
   *     and lost a round: no writer of an unmarked process claims before it
   */
  public record ReaderRecord(int slot, Peer process, int holds, boolean waiting, boolean starving) {
    /**
     * A record whose process has no starving writer.
     *
     * @param slot its index in the records
     * @param process the reading process
     * @param holds its read holds
     * @param waiting its readers wait for a writer to leave
     */
    public ReaderRecord(int slot, Peer process, int holds, boolean waiting) {
      this(slot, process, holds, waiting, false);
    }
  }

  /**
   * A semaphore.
   *
   * @param name its name in the region, as stored
   * @param word the semaphore's word as read
   * @param permits the permits available
   * @param waitersBit some process may be asleep on the word
   * @param sleepers processes with a kernel wait armed on the word
   * @param undoOnExit whether a dead holder's permits come back (the holder table is kept)
   * @param total with undo on exit, the permits it was created with (0 without)
   * @param recorded with undo on exit, the permits the holder table records (0 without)
   * @param repairing with undo on exit, a process is recomputing the count from the records
   * @param repairer with undo on exit, the pid holding the repair lease, or 0
   * @param holders with undo on exit, every valid holder entry (empty without)
   * @param recordsSettled no move half done (busy), no dead holder's record and no repair: only
   *     then must {@code permits + recorded == total}, and a difference is a problem
   * @param problems every value found that the library refuses as corruption; empty if none
   * @param counters its counters: acquisitions, contention, takeovers
   */
  public record SemaphoreSnapshot(
      String name,
      int word,
      int permits,
      boolean waitersBit,
      int sleepers,
      boolean undoOnExit,
      int total,
      long recorded,
      boolean repairing,
      int repairer,
      List<Holder> holders,
      boolean recordsSettled,
      List<String> problems,
      Counters counters)
      implements ObjectSnapshot {
    /** Creates the snapshot of one semaphore; the lists are copied. */
    public SemaphoreSnapshot {
      holders = List.copyOf(holders);
      problems = List.copyOf(problems);
    }

    @Override
    public String type() {
      return ObjectType.name(ObjectType.SEMAPHORE);
    }

    /**
     * Whether the count equals the total less the records (always true without undo on exit).
     *
     * @return true if the count agrees
     */
    public boolean countAgreesWithRecords() {
      return !undoOnExit || permits + recorded == total;
    }
  }

  /**
   * One entry of a semaphore's holder table.
   *
   * @param slot its index in the table
   * @param process the holding process
   * @param permits the permits it records
   * @param busy the process is moving permits between the word and this entry
   */
  public record Holder(int slot, Peer process, int permits, boolean busy) {}

  /**
   * A wait queue or a condition variable (which is one).
   *
   * @param name its name in the region, as stored
   * @param type "wait queue" or "condition variable"
   * @param waiting slots on the list
   * @param capacity slots in all
   * @param occupied slots not free
   * @param waitingByProcess how many slots each process has waiting, by pid
   * @param wokenNotTaken slots chosen by a wake that their process's scan has not yet taken
   * @param wakeSequence the futex word every waker bumps
   * @param processesAsleep processes with a kernel wait armed on the wake sequence (a process
   *     killed while asleep stays counted: a diagnostic, not a count anything relies on)
   * @param listLockHolder the process holding the list lock, or null
   * @param listLockWord the list lock's word as read
   * @param problems every value found that the library refuses as corruption; empty if none
   * @param counters its counters: acquisitions, contention, takeovers
   */
  public record WaitQueueSnapshot(
      String name,
      String type,
      int waiting,
      int capacity,
      int occupied,
      List<Waiters> waitingByProcess,
      int wokenNotTaken,
      int wakeSequence,
      int processesAsleep,
      Peer listLockHolder,
      int listLockWord,
      List<String> problems,
      Counters counters)
      implements ObjectSnapshot {
    /** Creates the snapshot of one wait queue or condition variable; the lists are copied. */
    public WaitQueueSnapshot {
      waitingByProcess = List.copyOf(waitingByProcess);
      problems = List.copyOf(problems);
    }
  }

  /**
   * The waiters one process has in a queue.
   *
   * @param process the process
   * @param waiting its slots on the list
   */
  public record Waiters(Peer process, int waiting) {}

  /**
   * An object too damaged to read: shorter than its type needs, a queue header that does not fit
   * its bytes, or a type no ringlock of this layout version writes.
   *
   * @param type its type, as the directory records it
   * @param name its name in the region, as stored
   * @param typeCode the type recorded in the directory
   * @param bytes the object's length in the directory
   * @param problems every value found that the library refuses as corruption; empty if none
   */
  public record UnreadableObject(
      String name, String type, int typeCode, long bytes, List<String> problems)
      implements ObjectSnapshot {
    /** Creates an object that could not be read; the list is copied. */
    public UnreadableObject {
      problems = List.copyOf(problems);
    }
  }

  /**
   * Maps {@code file} read-only and reads it, asking the kernel whether each pid is alive.
   *
   * @param file the region file
   * @return the snapshot
   * @throws dev.ringlock.core.InvalidRegionException if it is not a region this version reads, or
   *     its header or directory is damaged ({@link
   *     dev.ringlock.core.InvalidRegionException.Problem#CORRUPT} and others)
   * @throws NoSuchFileException if there is no such file
   * @throws IOException if it is not a regular file, or cannot be read
   */
  public static RegionSnapshot read(Path file) throws IOException {
    return read(file, RegionSnapshot::probe);
  }

  /**
   * As {@link #read(Path)}, with {@code liveness} saying whether a pid names a live process (null:
   * cannot tell). It is asked at most once per pid.
   *
   * @param file the region file
   * @param liveness whether a pid is alive: true, false, or null when it cannot tell
   * @return the snapshot
   * @throws IOException as {@link #read(Path)}
   */
  public static RegionSnapshot read(Path file, IntFunction<Boolean> liveness) throws IOException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(liveness, "liveness");
    // The open refuses a symbolic link and anything but a regular file before reading a byte,
    // and never blocks on a FIFO (O_NOFOLLOW | O_NONBLOCK, then fstat): see MappedRegion.
    try (MappedRegion region = MappedRegion.openReadOnly(file)) {
      return read(region, liveness, StaleMappings.find(file));
    }
  }

  /** Reads an open region (any mapping, for tests and tools that map it themselves). */
  static RegionSnapshot read(MappedRegion region, IntFunction<Boolean> liveness) {
    return read(region, liveness, List.of());
  }

  /** {@code moreWarnings} join the region's own access warning in {@link #fileWarnings()}. */
  private static RegionSnapshot read(
      MappedRegion region, IntFunction<Boolean> liveness, List<String> moreWarnings) {
    Map<Integer, Boolean> alive = new HashMap<>(); // one question per pid and snapshot
    Reader reader =
        new Reader(region.segment(), pid -> alive.computeIfAbsent(pid, liveness::apply));
    List<ObjectSnapshot> objects = new ArrayList<>();
    for (NamedObject object : region.objects()) {
      objects.add(reader.read(object));
    }
    List<String> fileWarnings = new ArrayList<>();
    region.accessWarning().ifPresent(fileWarnings::add);
    fileWarnings.addAll(moreWarnings);
    return new RegionSnapshot(
        region.file(),
        region.layoutVersion(),
        region.size(),
        region.capacity(),
        objects,
        fileWarnings);
  }

  /** Whether {@code pid} is alive: pidfd first; /proc if pidfd_open is refused (seccomp). */
  private static Boolean probe(int pid) {
    try {
      return ProcessWatch.isAliveNow(pid);
    } catch (RingException e) {
      Path stat = Path.of("/proc", Integer.toString(pid), "stat");
      try {
        String line = Files.readString(stat);
        // "pid (comm) S ...": the state follows the last ')', since comm may contain anything.
        char state = line.charAt(line.lastIndexOf(')') + 2);
        return state != 'Z' && state != 'X';
      } catch (NoSuchFileException gone) {
        return false;
      } catch (IOException | RuntimeException unknown) {
        return null;
      }
    }
  }

  /** Reads objects of one snapshot. */
  private static final class Reader {
    private final MemorySegment memory;
    private final IntFunction<Boolean> alive;

    Reader(MemorySegment memory, IntFunction<Boolean> alive) {
      this.memory = memory;
      this.alive = alive;
    }

    ObjectSnapshot read(NamedObject object) {
      return switch (object.type()) {
        case ObjectType.MUTEX -> mutex(object);
        case ObjectType.READ_WRITE_MUTEX -> readWriteMutex(object);
        case ObjectType.SEMAPHORE -> semaphore(object);
        case ObjectType.WAIT_QUEUE, ObjectType.CONDITION -> waitQueue(object);
        default ->
            unreadable(
                object,
                "unknown",
                // the layout version covers the types: one this version does not know was not
                // written by a ringlock that reads this layout
                "type " + object.type() + ", which no ringlock of this layout version writes");
      };
    }

    private ObjectSnapshot mutex(NamedObject object) {
      String type = ObjectType.name(ObjectType.MUTEX);
      if (object.length() < ObjectStatsDescriptor.withStats(MutexDescriptor.SIZE)) {
        return tooShort(object, type, ObjectStatsDescriptor.withStats(MutexDescriptor.SIZE));
      }
      MutexWords words = new MutexWords(memory, object.offset());
      // acquire loads: the word's own accesses are volatile, and this reader takes part in nothing
      int word = words.lvWord();
      // The tag and the field as one state: a holder moves the field after the tag, so a field
      // read again unchanged brackets a tag that no draw moved past it (a pair read across a draw
      // would look like damage). A mutex drawing all the while is read as it is at the last try.
      long recorded = words.laFence();
      int holdTag = words.laHoldTag();
      for (int tries = 1; tries < 100 && words.laFence() != recorded; tries++) {
        recorded = words.laFence();
        holdTag = words.laHoldTag();
      }
      int sleepers = words.laSleepers();
      List<String> problems = new ArrayList<>();
      addIfAny(problems, MutexDescriptor.wordProblem(word));
      String fenceProblem = MutexDescriptor.fenceProblem(recorded);
      addIfAny(problems, fenceProblem);
      if (fenceProblem == null) {
        addIfAny(problems, MutexDescriptor.holdTagProblem(recorded, holdTag));
      }
      // The logical last fence (the field, plus the tag's lead once released); the field itself
      // when the tag is damaged, so the value shown is still the one recorded.
      long last = MutexDescriptor.lastFence(recorded, holdTag);
      long fence = last >= 0 ? last : recorded;
      List<Peer> starving = new ArrayList<>();
      for (int i = 0; i < MutexDescriptor.STARVING_SLOTS; i++) {
        int pid = words.lvStarvingPid(i);
        String problem = MutexDescriptor.starvingProblem(i, pid);
        if (problem != null) {
          problems.add(problem);
        } else if (pid != 0) {
          starving.add(peer(pid));
        }
      }
      if (sleepers < 0) {
        problems.add("sleepers count is " + sleepers);
      }
      int ownerPid = MutexDescriptor.ownerOf(word);
      // A pid no process can have is not asked about: it is the damage recorded above.
      Peer owner =
          ownerPid == 0
              ? null
              : ownerPid > RegionDescriptor.MAX_PID ? new Peer(ownerPid, null) : peer(ownerPid);
      return new MutexSnapshot(
          object.name(),
          word,
          owner,
          (word & MutexDescriptor.OWNER_DIED) != 0 && ownerPid != 0,
          MutexDescriptor.notRecoverable(word),
          (word & MutexDescriptor.WAITERS) != 0,
          sleepers,
          fence,
          starving,
          problems,
          counters(object, MutexDescriptor.SIZE, 0));
    }

    private ObjectSnapshot readWriteMutex(NamedObject object) {
      String type = ObjectType.name(ObjectType.READ_WRITE_MUTEX);
      if (object.length() < ObjectStatsDescriptor.withStats(ReadWriteMutexDescriptor.SIZE)) {
        return tooShort(
            object, type, ObjectStatsDescriptor.withStats(ReadWriteMutexDescriptor.SIZE));
      }
      ReadWriteMutexWords words = new ReadWriteMutexWords(memory, object.offset());
      int word = words.lvWord();
      long fence = words.laFence();
      int sleepers = words.laSleepers();
      List<String> problems = new ArrayList<>();
      addIfAny(problems, ReadWriteMutexDescriptor.wordProblem(word));
      addIfAny(problems, ReadWriteMutexDescriptor.fenceProblem(fence));
      if (sleepers < 0) {
        problems.add("sleepers count is " + sleepers);
      }
      List<ReaderRecord> readers = new ArrayList<>();
      long[] records = new long[ReadWriteMutexDescriptor.READER_SLOTS];
      for (int i = 0; i < records.length; i++) {
        records[i] = words.lvRecord(i);
      }
      int bound = words.lvBound(); // after the records: a claim raises it before it lands
      addIfAny(problems, ReadWriteMutexDescriptor.boundProblem(bound));
      for (int i = 0; i < records.length; i++) {
        long record = records[i];
        String problem = ReadWriteMutexDescriptor.recordProblem(i, record);
        if (problem == null) {
          problem = ReadWriteMutexDescriptor.pastBoundProblem(i, record, bound);
        }
        if (problem != null) {
          problems.add(problem);
        } else if (record != 0) {
          readers.add(
              new ReaderRecord(
                  i,
                  peer(ReadWriteMutexDescriptor.recordPid(record)),
                  ReadWriteMutexDescriptor.recordCount(record),
                  (record & ReadWriteMutexDescriptor.WAITING) != 0,
                  (record & ReadWriteMutexDescriptor.STARVING) != 0));
        }
      }
      int writerPid = ReadWriteMutexDescriptor.writerOf(word);
      Peer writer =
          writerPid == 0
              ? null
              : writerPid > RegionDescriptor.MAX_PID ? new Peer(writerPid, null) : peer(writerPid);
      return new ReadWriteMutexSnapshot(
          object.name(),
          word,
          writer,
          writer != null && (word & ReadWriteMutexDescriptor.PENDING) != 0,
          (word & ReadWriteMutexDescriptor.OWNER_DIED) != 0,
          ReadWriteMutexDescriptor.notRecoverable(word),
          (word & ReadWriteMutexDescriptor.WAITERS) != 0,
          sleepers,
          fence,
          readers,
          problems,
          counters(object, ReadWriteMutexDescriptor.SIZE, fence));
    }

    private ObjectSnapshot semaphore(NamedObject object) {
      String type = ObjectType.name(ObjectType.SEMAPHORE);
      if (object.length() < ObjectStatsDescriptor.withStats(SemaphoreDescriptor.SIZE)) {
        return tooShort(object, type, ObjectStatsDescriptor.withStats(SemaphoreDescriptor.SIZE));
      }
      SemaphoreWords words = new SemaphoreWords(memory, object.offset());
      int word = words.lvWord();
      int sleepers = words.laSleepers();
      int flags = words.lpFlags();
      int total = words.lpTotal();
      int repairer = words.lvRepairer();
      boolean undo = (flags & SemaphoreDescriptor.FLAG_NO_UNDO) == 0;
      int permits =
          word & (undo ? SemaphoreDescriptor.UNDO_PERMITS_MASK : SemaphoreDescriptor.PERMITS_MASK);
      boolean repairing = undo && (word & SemaphoreDescriptor.REPAIR) != 0;
      List<String> problems = new ArrayList<>();
      addIfAny(problems, SemaphoreDescriptor.flagsProblem(flags));
      if (sleepers < 0) {
        problems.add("sleepers count is " + sleepers);
      }
      addIfAny(problems, SemaphoreDescriptor.totalProblem(undo, total));
      if (repairer < 0 || repairer > RegionDescriptor.PID_MASK) {
        problems.add("repairer is " + Integer.toUnsignedString(repairer));
      }
      // The records are the truth (SemaphoreCore): available + the live records = total, except
      // while a move is half done (BUSY), a dead holder's records wait for the next repair, or a
      // repair runs. Outside those, a difference is damage: permits lost or made up.
      List<Holder> holders = new ArrayList<>();
      long recorded = 0;
      boolean settled = !repairing;
      if (undo) {
        for (int slot = 0; slot < SemaphoreDescriptor.HOLDER_SLOTS; slot++) {
          long entry = words.lvHolder(slot);
          if (entry == 0 || HolderTable.isParked(entry)) {
            continue; // free, or parked: a pid holding nothing, which any claim may take
          }
          String problem = HolderTable.entryProblem(slot, entry);
          if (problem != null) {
            problems.add(problem);
            settled = false;
            continue;
          }
          Holder holder =
              new Holder(
                  slot,
                  peer(HolderTable.pidOf(entry)),
                  HolderTable.heldOf(entry),
                  HolderTable.isBusy(entry));
          holders.add(holder);
          recorded += holder.permits();
          if (holder.busy() || !Boolean.TRUE.equals(holder.process().alive())) {
            settled = false;
          }
        }
      }
      if (undo && permits + recorded != total && settled) {
        problems.add(
            ("the count disagrees with the records: %d available + %d recorded by live holders"
                    + " != total %d")
                .formatted(permits, recorded, total));
      }
      return new SemaphoreSnapshot(
          object.name(),
          word,
          permits,
          word < 0,
          sleepers,
          undo,
          total,
          recorded,
          repairing,
          repairer,
          holders,
          settled,
          problems,
          counters(object, SemaphoreDescriptor.SIZE, 0));
    }

    private ObjectSnapshot waitQueue(NamedObject object) {
      String type = ObjectType.name(object.type());
      if (object.length() < WaitQueueDescriptor.HEADER_BYTES) {
        return tooShort(object, type, WaitQueueDescriptor.HEADER_BYTES);
      }
      WaitQueueWords words = new WaitQueueWords(memory, object.offset(), object.length());
      int capacity = words.lpCapacity();
      String shape =
          WaitQueueDescriptor.headerProblem(capacity, words.lpSlotBytes(), object.length());
      if (shape != null) {
        return unreadable(object, type, shape);
      }
      int waiting = words.laWaiting();
      int occupied = words.laOccupied();
      int lockWord = words.laListLock();
      List<String> problems = new ArrayList<>();
      addIfAny(problems, PidLock.wordProblem(lockWord));
      addIfAny(problems, WaitQueueDescriptor.countProblem("waiting", waiting, capacity));
      addIfAny(problems, WaitQueueDescriptor.countProblem("occupied", occupied, capacity));
      addIfAny(problems, WaitQueueDescriptor.indexProblem("head", words.laHead(), capacity));
      addIfAny(problems, WaitQueueDescriptor.indexProblem("tail", words.laTail(), capacity));
      addIfAny(
          problems, WaitQueueDescriptor.indexProblem("allocation hint", words.laHint(), capacity));
      // Per slot: its state, its links, and who waits. capacity was checked against the length.
      Map<Integer, Integer> waitingByPid = new TreeMap<>();
      int badOwners = 0;
      int badSlots = 0;
      int woken = 0;
      String firstBadSlot = null;
      for (int slot = 0; slot < capacity; slot++) {
        int state = words.laState(slot);
        String problem = WaitQueueDescriptor.stateProblem(slot, state);
        if (problem == null) {
          problem =
              WaitQueueDescriptor.indexProblem(
                  "slot " + slot + " next", words.laNext(slot), capacity);
        }
        if (problem == null) {
          problem =
              WaitQueueDescriptor.indexProblem(
                  "slot " + slot + " prev", words.laPrev(slot), capacity);
        }
        if (problem != null) {
          badSlots++;
          firstBadSlot = firstBadSlot == null ? problem : firstBadSlot;
          continue;
        }
        if (state == WaitQueueDescriptor.WOKEN_ONE || state == WaitQueueDescriptor.WOKEN_ALL) {
          woken++; // chosen by a wake, not yet taken by its process's scan
        }
        if (state != WaitQueueDescriptor.WAITING) {
          continue;
        }
        int owner = words.laOwner(slot);
        if (owner <= 0 || owner > RegionDescriptor.MAX_PID) {
          badOwners++;
        } else {
          waitingByPid.merge(owner, 1, Integer::sum);
        }
      }
      if (badSlots > 0) {
        // one example, then how many: a queue of 16 million slots must not list them all
        problems.add(
            badSlots == 1
                ? firstBadSlot
                : firstBadSlot + " (and " + (badSlots - 1) + " more damaged slots)");
      }
      if (badOwners > 0) {
        problems.add(
            badOwners
                + (badOwners == 1 ? " waiting slot" : " waiting slots")
                + " without a valid pid");
      }
      List<Waiters> byProcess = new ArrayList<>();
      waitingByPid.forEach((pid, count) -> byProcess.add(new Waiters(peer(pid), count)));
      int lockHolder = lockWord & RegionDescriptor.PID_MASK;
      return new WaitQueueSnapshot(
          object.name(),
          type,
          waiting,
          capacity,
          occupied,
          byProcess,
          woken,
          words.laWakeSequence(),
          words.laSleepers(),
          lockHolder != 0 && lockHolder <= RegionDescriptor.MAX_PID ? peer(lockHolder) : null,
          lockWord,
          problems,
          counters(object, WaitQueueDescriptor.bytesFor(capacity), 0));
    }

    /**
     * The counters on the stats line after the object's {@code ownBytes} (its length was checked to
     * hold it); {@code fenced}: the acquisitions its fence counts (a mutex's, a writer's), added.
     */
    private Counters counters(NamedObject object, long ownBytes, long fenced) {
      ObjectStats stats =
          new ObjectStats(memory, object.offset() + ObjectStatsDescriptor.statsOffset(ownBytes));
      return new Counters(
          fenced + stats.laAcquisitions(), // wraps on a damaged value: shown, never used
          stats.laContended(),
          stats.laWaitNanos(),
          stats.laTakeovers(),
          stats.laRecovered(),
          stats.laRescued());
    }

    private static void addIfAny(List<String> problems, String problem) {
      if (problem != null) {
        problems.add(problem);
      }
    }

    private Peer peer(int pid) {
      return new Peer(pid, alive.apply(pid));
    }

    private static UnreadableObject tooShort(NamedObject object, String type, int needed) {
      return unreadable(
          object, type, "a " + type + " of " + object.length() + " bytes; it needs " + needed);
    }

    private static UnreadableObject unreadable(NamedObject object, String type, String problem) {
      return new UnreadableObject(
          object.name(), type, object.type(), object.length(), List.of(problem));
    }
  }
}
