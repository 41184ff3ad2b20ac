package dev.ringlock.locks;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.ringlock.core.ProcessWatch;
import dev.ringlock.core.RingException;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.NamedObject;
import dev.ringlock.core.memory.PidLock;
import dev.ringlock.locks.internal.HolderTable;
import dev.ringlock.locks.internal.MutexDescriptor;
import dev.ringlock.locks.internal.ObjectType;
import dev.ringlock.locks.internal.SemaphoreDescriptor;
import dev.ringlock.locks.internal.WaitQueueDescriptor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.IntFunction;

/*
 * Overview
 *
 * Reads the state of every named object of a region mapped read-only (MappedRegion.openReadOnly),
 * for tools such as `ringlock inspect`. It takes part in no protocol: it never writes, never takes
 * a lock, and reads every word with an acquire load, so what it shows is a snapshot that may be
 * stale by the time it is printed (a wait queue's per-process counts come from a scan of its slots
 * without the list lock, so they may disagree with its `waiting` count while a wake runs).
 *
 * One validation. The region's header and directory (names, types, offsets, lengths, overlaps) are
 * checked by MappedRegion at open, exactly as SharedRegion.open checks them. Every field of every
 * object is then checked with the rules the library itself applies when it reads that field: the
 * *Descriptor validators (MutexDescriptor.wordProblem, starvingProblem, fenceProblem;
 * SemaphoreDescriptor.flagsProblem, totalProblem; HolderTable.entryProblem; WaitQueueDescriptor.headerProblem,
 * indexProblem, countProblem, stateProblem) and PidLock.wordProblem for a list lock. So whatever
 * value the library refuses as corruption is reported here as the object's `problem`. Each of those
 * rules holds for a single field at every instant (writers only store values that pass), so a
 * snapshot taken without any lock raises no false alarm; nothing here checks relations between
 * fields that an update in progress may break for a moment (a list's links against its count).
 *
 * A bad value becomes the object's problem and is shown, never used as an index or a length: slot
 * scans are bounded by a capacity first checked against the object's length.
 *
 * Liveness of a pid is asked once per snapshot and pid, without an io_uring ring
 * (ProcessWatch.isAliveNow: pidfd_open and poll; a zombie counts as dead), so it works where
 * io_uring is blocked.
 */
/**
 * A read-only snapshot of every object of a region file, with every damage the library would refuse
 * (each as the object's {@link ObjectReport#problem()}), as {@code ringlock inspect} prints it.
 *
 * <pre>{@code
 * RegionReport report = RegionReport.read(Path.of("/dev/shm/orders.locks"));
 * if (report.hasProblems()) { ... report.objects() ... }
 * }</pre>
 *
 * <p>Reading never changes the file, takes no lock and needs no io_uring. Only a regular file is
 * read: a symbolic link, FIFO, device or directory at the path is refused without blocking.
 */
public final class RegionReport {
  private static final VarHandle INT = JAVA_INT.varHandle();
  private static final VarHandle LONG = JAVA_LONG.varHandle();

  private final Path file;
  private final int layoutVersion;
  private final long size;
  private final int capacity;
  private final List<ObjectReport> objects;
  private final List<String> fileWarnings;

  private RegionReport(
      Path file,
      int layoutVersion,
      long size,
      int capacity,
      List<ObjectReport> objects,
      List<String> fileWarnings) {
    this.file = file;
    this.layoutVersion = layoutVersion;
    this.size = size;
    this.capacity = capacity;
    this.objects = List.copyOf(objects);
    this.fileWarnings = List.copyOf(fileWarnings);
  }

  /**
   * One object as seen.
   *
   * @param name its name, as stored (it may contain any character: escape it before printing)
   * @param type "mutex", "semaphore", "wait queue", "condition variable", or "unknown"
   * @param summary one line saying what it is doing, ending with "[DAMAGED: problem]" if damaged
   * @param details its fields, for JSON: strings, numbers, booleans, null, lists and maps of these
   * @param problem what is damaged, or null if every field is one the library accepts
   */
  public record ObjectReport(
      String name, String type, String summary, Map<String, Object> details, String problem) {
    /** Copies {@code details}, keeping their order. */
    public ObjectReport {
      Objects.requireNonNull(name, "name");
      details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
    }

    /** Name, type, details and problem, in that order, for a JSON writer. */
    public Map<String, Object> toJson() {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("name", name);
      json.put("type", type);
      json.putAll(details);
      json.put("problem", problem);
      return json;
    }
  }

  /**
   * Maps {@code file} read-only and reads it, asking the kernel whether each pid is alive.
   *
   * @throws dev.ringlock.core.InvalidRegionException if it is not a region this version reads, or
   *     its header or directory is damaged ({@link
   *     dev.ringlock.core.InvalidRegionException.Problem#CORRUPT} and others)
   * @throws NoSuchFileException if there is no such file
   * @throws IOException if it is not a regular file, or cannot be read
   */
  public static RegionReport read(Path file) throws IOException {
    return read(file, RegionReport::probe);
  }

  /**
   * As {@link #read(Path)}, with {@code liveness} saying whether a pid names a live process (null:
   * cannot tell). It is asked at most once per pid.
   */
  public static RegionReport read(Path file, IntFunction<Boolean> liveness) throws IOException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(liveness, "liveness");
    // The open refuses a symbolic link and anything but a regular file before reading a byte,
    // and never blocks on a FIFO (O_NOFOLLOW | O_NONBLOCK, then fstat): see MappedRegion.
    try (MappedRegion region = MappedRegion.openReadOnly(file)) {
      return read(region, liveness, StaleMappings.find(file));
    }
  }

  /** Reads an open region (any mapping, for tests and tools that map it themselves). */
  static RegionReport read(MappedRegion region, IntFunction<Boolean> liveness) {
    return read(region, liveness, List.of());
  }

  /** {@code moreWarnings} join the region's own access warning in {@link #fileWarnings()}. */
  private static RegionReport read(
      MappedRegion region, IntFunction<Boolean> liveness, List<String> moreWarnings) {
    Map<Integer, Boolean> alive = new HashMap<>(); // one question per pid and snapshot
    Reader reader =
        new Reader(region.segment(), pid -> alive.computeIfAbsent(pid, liveness::apply));
    List<ObjectReport> reports = new ArrayList<>();
    for (NamedObject object : region.objects()) {
      reports.add(reader.read(object));
    }
    List<String> fileWarnings = new ArrayList<>();
    region.accessWarning().ifPresent(fileWarnings::add);
    fileWarnings.addAll(moreWarnings);
    return new RegionReport(
        region.file(),
        region.layoutVersion(),
        region.size(),
        region.capacity(),
        reports,
        fileWarnings);
  }

  /** The region file. */
  public Path file() {
    return file;
  }

  /** The layout version the file's header records. */
  public int layoutVersion() {
    return layoutVersion;
  }

  /** The region's size in bytes. */
  public long size() {
    return size;
  }

  /** How many objects its directory holds. */
  public int capacity() {
    return capacity;
  }

  /** Every object, in creation order. */
  public List<ObjectReport> objects() {
    return objects;
  }

  /**
   * What is wrong with the file itself, not its objects: an owner or mode that {@link
   * SharedRegion#open} refuses, processes still mapping a deleted or replaced earlier file of the
   * path. Warnings, not damage: {@link #hasProblems()} ignores them.
   */
  public List<String> fileWarnings() {
    return fileWarnings;
  }

  /** Whether any object is damaged. */
  public boolean hasProblems() {
    return objects.stream().anyMatch(o -> o.problem() != null);
  }

  /** The whole report, for a JSON writer. */
  public Map<String, Object> toJson() {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("file", file.toString());
    json.put("layoutVersion", layoutVersion);
    json.put("sizeBytes", size);
    json.put("capacity", capacity);
    json.put("objects", objects.stream().map(ObjectReport::toJson).toList());
    json.put("fileWarnings", fileWarnings);
    return json;
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

    ObjectReport read(NamedObject object) {
      return switch (object.type()) {
        case ObjectType.MUTEX -> mutex(object);
        case ObjectType.SEMAPHORE -> semaphore(object);
        case ObjectType.WAIT_QUEUE, ObjectType.CONDITION -> waitQueue(object);
        default ->
            damaged(
                object,
                "unknown",
                Map.of("typeCode", object.type(), "bytes", object.length()),
                // the layout version covers the types: one this version does not know was not
                // written by a ringlock that reads this layout
                "type " + object.type() + ", which no ringlock of this layout version writes");
      };
    }

    private ObjectReport mutex(NamedObject object) {
      String type = ObjectType.name(ObjectType.MUTEX);
      if (object.length() < MutexDescriptor.SIZE) {
        return tooShort(object, type, MutexDescriptor.SIZE);
      }
      long base = object.offset();
      int word = lvInt(base + MutexDescriptor.WORD_OFFSET);
      long fence = lvLong(base + MutexDescriptor.FENCE_OFFSET);
      int sleepers = lvInt(base + MutexDescriptor.SLEEPERS_OFFSET);
      List<String> problems = new ArrayList<>();
      addIfAny(problems, MutexDescriptor.wordProblem(word));
      addIfAny(problems, MutexDescriptor.fenceProblem(fence));
      List<Map<String, Object>> starving = new ArrayList<>();
      for (int i = 0; i < MutexDescriptor.STARVING_SLOTS; i++) {
        int pid = lvInt(base + MutexDescriptor.STARVING_OFFSET + (long) i * Integer.BYTES);
        String problem = MutexDescriptor.starvingProblem(i, pid);
        if (problem != null) {
          problems.add(problem);
        } else if (pid != 0) {
          starving.add(process(pid));
        }
      }
      if (sleepers < 0) {
        problems.add("sleepers count is " + sleepers);
      }

      int owner = MutexDescriptor.ownerOf(word);
      boolean ownerDiedBit = (word & MutexDescriptor.OWNER_DIED) != 0;
      boolean notRecoverable = MutexDescriptor.notRecoverable(word);
      // A pid no process can have is not asked about: it is the damage reported above.
      Boolean ownerAlive =
          owner == 0 || owner > MutexDescriptor.MAX_PID ? null : alive.apply(owner);
      String state;
      StringBuilder summary = new StringBuilder();
      if (notRecoverable) {
        state = "not-recoverable";
        summary.append("NOT RECOVERABLE: every acquisition fails (NotRecoverableException)");
      } else if (owner == 0) {
        state = "free";
        summary.append("free");
      } else {
        state = "held";
        summary.append("held by ").append(describe(owner, ownerAlive));
        if (ownerDiedBit) {
          summary.append(", taken over from a dead owner and not yet marked consistent");
        }
        if (Boolean.FALSE.equals(ownerAlive)) {
          summary.append(" (the next acquirer takes it over and sees ownerDied)");
        }
      }
      boolean consistent = !notRecoverable && !ownerDiedBit && !Boolean.FALSE.equals(ownerAlive);
      if (!notRecoverable && owner != 0) {
        summary.append(consistent ? ", consistent" : ", NOT consistent");
      }
      summary.append(", last fence ").append("%,d".formatted(fence));
      if (sleepers > 0) {
        summary.append(", ").append(plural(sleepers, "process", "processes")).append(" sleeping");
      }
      if ((word & MutexDescriptor.WAITERS) != 0) {
        summary.append(", waiters bit set");
      }
      if (!starving.isEmpty()) {
        summary.append(", starving: ").append(describeAll(starving));
      }

      Map<String, Object> details = new LinkedHashMap<>();
      details.put("state", state);
      details.put("ownerPid", owner == 0 ? null : owner);
      details.put("ownerAlive", ownerAlive);
      details.put("consistent", consistent);
      details.put("ownerDied", ownerDiedBit && owner != 0);
      details.put("notRecoverable", notRecoverable);
      details.put("waitersBit", (word & MutexDescriptor.WAITERS) != 0);
      details.put("sleepers", sleepers);
      details.put("lastFence", fence);
      details.put("starving", starving);
      details.put("word", "0x%08x".formatted(word));
      return report(object, type, summary, details, problems);
    }

    private ObjectReport semaphore(NamedObject object) {
      String type = ObjectType.name(ObjectType.SEMAPHORE);
      if (object.length() < SemaphoreDescriptor.SIZE) {
        return tooShort(object, type, SemaphoreDescriptor.SIZE);
      }
      long base = object.offset();
      int word = lvInt(base + SemaphoreDescriptor.WORD_OFFSET);
      int sleepers = lvInt(base + SemaphoreDescriptor.SLEEPERS_OFFSET);
      int flags = lvInt(base + SemaphoreDescriptor.FLAGS_OFFSET);
      int total = lvInt(base + SemaphoreDescriptor.TOTAL_OFFSET);
      int repairer = lvInt(base + SemaphoreDescriptor.REPAIRER_OFFSET);
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
      if (repairer < 0 || repairer > SemaphoreDescriptor.MAX_HOLDER_PID) {
        problems.add("repairer is " + Integer.toUnsignedString(repairer));
      }
      // The records are the truth (SemaphoreCore): available + the live records = total, except
      // while a move is half done (BUSY), a dead holder's records wait for the next repair, or a
      // repair runs. Outside those, a difference is damage: permits lost or made up.
      List<Map<String, Object>> holders = new ArrayList<>();
      long recorded = 0;
      boolean settled = !repairing;
      if (undo) {
        for (int slot = 0; slot < SemaphoreDescriptor.HOLDER_SLOTS; slot++) {
          long entry =
              lvLong(
                  base
                      + SemaphoreDescriptor.HOLDERS_OFFSET
                      + (long) slot * SemaphoreDescriptor.HOLDER_BYTES);
          if (entry == 0) {
            continue;
          }
          String problem = HolderTable.entryProblem(slot, entry);
          if (problem != null) {
            problems.add(problem);
            settled = false;
            continue;
          }
          int pid = HolderTable.pidOf(entry);
          int held = HolderTable.heldOf(entry);
          Map<String, Object> holder = process(pid);
          holder.put("slot", slot);
          holder.put("permits", held);
          holder.put("busy", HolderTable.isBusy(entry));
          holders.add(holder);
          recorded += held;
          if (HolderTable.isBusy(entry) || !Boolean.TRUE.equals(holder.get("alive"))) {
            settled = false;
          }
        }
      }
      boolean disagrees = undo && permits + recorded != total;
      if (disagrees && settled) {
        problems.add(
            ("the count disagrees with the records: %d available + %d recorded by live holders"
                    + " != total %d")
                .formatted(permits, recorded, total));
      }
      StringBuilder summary = new StringBuilder(plural(permits, "permit", "permits"));
      summary.append(" available");
      if (undo) {
        summary.append(" of ").append(total);
      }
      if (sleepers > 0) {
        summary.append(", ").append(plural(sleepers, "process", "processes")).append(" sleeping");
      }
      if (word < 0) {
        summary.append(", waiters bit set");
      }
      if (repairing) {
        summary.append(", being repaired by pid ").append(repairer);
      }
      if (!undo) {
        summary.append(", no undo on exit");
      } else if (holders.isEmpty()) {
        summary.append(", no holders");
      } else {
        List<String> described = new ArrayList<>();
        for (Map<String, Object> holder : holders) {
          described.add(
              describe(holder)
                  + " holds "
                  + holder.get("permits")
                  + (Boolean.TRUE.equals(holder.get("busy")) ? " (busy)" : ""));
        }
        summary.append(", holders: ").append(String.join(", ", described));
      }
      if (disagrees && !settled) {
        summary.append(
            ", count and records differ by %d until the next repair"
                .formatted(total - permits - recorded));
      }

      Map<String, Object> details = new LinkedHashMap<>();
      details.put("permits", permits);
      details.put("waitersBit", word < 0);
      details.put("sleepers", sleepers);
      details.put("undoOnExit", undo);
      if (undo) {
        details.put("total", total);
        details.put("recorded", recorded);
        details.put("repairing", repairing);
        details.put("repairer", repairer);
        details.put("countAgreesWithRecords", !disagrees);
      }
      details.put("holders", holders);
      return report(object, type, summary, details, problems);
    }

    private ObjectReport waitQueue(NamedObject object) {
      String type = ObjectType.name(object.type());
      if (object.length() < WaitQueueDescriptor.HEADER_BYTES) {
        return tooShort(object, type, WaitQueueDescriptor.HEADER_BYTES);
      }
      long base = object.offset();
      int capacity = lvInt(base + WaitQueueDescriptor.CAPACITY_OFFSET);
      int slotBytes = lvInt(base + WaitQueueDescriptor.SLOT_BYTES_OFFSET);
      String shape = WaitQueueDescriptor.headerProblem(capacity, slotBytes, object.length());
      if (shape != null) {
        return damaged(object, type, Map.of(), shape);
      }
      int waiting = lvInt(base + WaitQueueDescriptor.WAITING_OFFSET);
      int occupied = lvInt(base + WaitQueueDescriptor.OCCUPIED_OFFSET);
      int lockWord = lvInt(base + WaitQueueDescriptor.LIST_LOCK_OFFSET);
      List<String> problems = new ArrayList<>();
      addIfAny(problems, PidLock.wordProblem(lockWord));
      addIfAny(problems, WaitQueueDescriptor.countProblem("waiting", waiting, capacity));
      addIfAny(problems, WaitQueueDescriptor.countProblem("occupied", occupied, capacity));
      addIndexProblem(problems, "head", lvInt(base + WaitQueueDescriptor.HEAD_OFFSET), capacity);
      addIndexProblem(problems, "tail", lvInt(base + WaitQueueDescriptor.TAIL_OFFSET), capacity);
      addIndexProblem(
          problems, "allocation hint", lvInt(base + WaitQueueDescriptor.HINT_OFFSET), capacity);
      // Per slot: its state, its links, and who waits. capacity was checked against the length.
      Map<Integer, Integer> waitingByPid = new TreeMap<>();
      int badOwners = 0;
      int badSlots = 0;
      int woken = 0;
      String firstBadSlot = null;
      for (int slot = 0; slot < capacity; slot++) {
        long at = base + WaitQueueDescriptor.slotOffset(slot);
        int state = lvInt(at + WaitQueueDescriptor.STATE_OFFSET);
        String problem = WaitQueueDescriptor.stateProblem(slot, state);
        if (problem == null) {
          problem =
              WaitQueueDescriptor.indexProblem(
                  "slot " + slot + " next", lvInt(at + WaitQueueDescriptor.NEXT_OFFSET), capacity);
        }
        if (problem == null) {
          problem =
              WaitQueueDescriptor.indexProblem(
                  "slot " + slot + " prev", lvInt(at + WaitQueueDescriptor.PREV_OFFSET), capacity);
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
        int owner = lvInt(at + WaitQueueDescriptor.OWNER_OFFSET);
        if (owner <= 0 || owner > MutexDescriptor.MAX_PID) {
          badOwners++;
        } else {
          waitingByPid.merge(owner, 1, Integer::sum);
        }
      }
      if (badSlots > 0) {
        // one example, then how many: a queue of 16 million slots must not print them all
        problems.add(
            badSlots == 1
                ? firstBadSlot
                : firstBadSlot + " (and " + (badSlots - 1) + " more damaged slots)");
      }
      if (badOwners > 0) {
        problems.add(plural(badOwners, "waiting slot", "waiting slots") + " without a valid pid");
      }
      List<Map<String, Object>> byProcess = new ArrayList<>();
      waitingByPid.forEach(
          (pid, count) -> {
            Map<String, Object> process = process(pid);
            process.put("waiting", count);
            byProcess.add(process);
          });
      int lockHolder = lockWord & MutexDescriptor.PID_MASK;

      StringBuilder summary =
          new StringBuilder().append(waiting).append(" waiting of ").append(capacity);
      if (!byProcess.isEmpty()) {
        List<String> described = new ArrayList<>();
        for (Map<String, Object> process : byProcess) {
          described.add(describe(process) + ": " + process.get("waiting"));
        }
        summary.append("; by process: ").append(String.join(", ", described));
      }
      Map<String, Object> lockHolderJson = null;
      if (lockHolder != 0 && lockHolder <= MutexDescriptor.MAX_PID) {
        lockHolderJson = process(lockHolder);
        summary.append("; list lock held by ").append(describe(lockHolderJson));
      }

      Map<String, Object> details = new LinkedHashMap<>();
      details.put("waiting", waiting);
      details.put("capacity", capacity);
      details.put("occupied", occupied);
      details.put("waitingByProcess", byProcess);
      details.put("wokenNotTaken", woken);
      // The wake sequence every waker bumps, and the processes asleep on it (a process killed
      // while asleep stays counted: a diagnostic, not a count anything relies on).
      details.put("wakeSequence", lvInt(base + WaitQueueDescriptor.WAKE_SEQUENCE_OFFSET));
      details.put("processesAsleep", lvInt(base + WaitQueueDescriptor.SLEEPERS_OFFSET));
      details.put("listLockHolder", lockHolderJson);
      details.put("listLockWord", "0x%08x".formatted(lockWord));
      return report(object, type, summary, details, problems);
    }

    private static void addIndexProblem(
        List<String> problems, String field, int index, int capacity) {
      addIfAny(problems, WaitQueueDescriptor.indexProblem(field, index, capacity));
    }

    private static void addIfAny(List<String> problems, String problem) {
      if (problem != null) {
        problems.add(problem);
      }
    }

    private Map<String, Object> process(int pid) {
      Map<String, Object> process = new LinkedHashMap<>();
      process.put("pid", pid);
      process.put("alive", alive.apply(pid));
      return process;
    }

    private String describe(Map<String, Object> process) {
      return describe((Integer) process.get("pid"), (Boolean) process.get("alive"));
    }

    private String describeAll(List<Map<String, Object>> processes) {
      List<String> described = new ArrayList<>();
      processes.forEach(p -> described.add(describe(p)));
      return String.join(", ", described);
    }

    private static String describe(int pid, Boolean alive) {
      String liveness = alive == null ? "liveness unknown" : alive ? "alive" : "DEAD";
      return "pid " + pid + " (" + liveness + ")";
    }

    private static ObjectReport report(
        NamedObject object,
        String type,
        CharSequence summary,
        Map<String, Object> details,
        List<String> problems) {
      String problem = problems.isEmpty() ? null : String.join("; ", problems);
      return new ObjectReport(
          object.name(),
          type,
          problem == null ? summary.toString() : summary + " [DAMAGED: " + problem + "]",
          details,
          problem);
    }

    private static ObjectReport tooShort(NamedObject object, String type, int needed) {
      return damaged(
          object,
          type,
          Map.of(),
          "a " + type + " of " + object.length() + " bytes; it needs " + needed);
    }

    /** An object too damaged to read any further. */
    private static ObjectReport damaged(
        NamedObject object, String type, Map<String, Object> details, String problem) {
      return new ObjectReport(object.name(), type, "[DAMAGED: " + problem + "]", details, problem);
    }

    private int lvInt(long offset) {
      return (int) INT.getAcquire(memory, offset);
    }

    private long lvLong(long offset) {
      return (long) LONG.getAcquire(memory, offset);
    }
  }

  static String plural(long count, String one, String many) {
    return count + " " + (count == 1 ? one : many);
  }
}
