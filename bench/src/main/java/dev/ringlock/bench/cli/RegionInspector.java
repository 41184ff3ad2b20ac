package dev.ringlock.bench.cli;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.ringlock.core.ProcessWatch;
import dev.ringlock.core.RingException;
import dev.ringlock.core.memory.MappedRegion;
import dev.ringlock.core.memory.NamedObject;
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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;

/*
 * Overview
 *
 * Reads the state of every named object of a region mapped read-only (MappedRegion.openReadOnly),
 * for `ringlock inspect`. It takes part in no protocol: it never writes, never takes a lock, and
 * reads every word with an acquire load, so what it shows is a snapshot that may be stale by the
 * time it is printed (a wait queue's per-process counts come from a scan of its slots without the
 * list lock, so they may disagree with its `waiting` count while a wake runs).
 *
 * Layouts come from the locks module's descriptors (MutexDescriptor, SemaphoreDescriptor and
 * HolderTable's entry codec, WaitQueueDescriptor), never re-declared here. The region's directory
 * (names, types, offsets, lengths) is checked by MappedRegion; the objects' bytes are not, so every
 * value read here is checked before it is believed: an object too short for its type, a pid out of
 * range, a count above its bound, unknown flag bits. A bad value becomes the object's `problem`
 * and is shown, never used as an index or a length (slot scans are bounded by a capacity that was
 * first checked against the object's length).
 *
 * Liveness of a pid is asked once per snapshot and pid, without an io_uring ring
 * (ProcessWatch.isAliveNow: pidfd_open and poll; a zombie counts as dead), so inspect works where
 * io_uring is blocked.
 */
/** A read-only snapshot of every object of a region, as `ringlock inspect` prints it. */
final class RegionInspector {
  private static final VarHandle INT = JAVA_INT.varHandle();
  private static final VarHandle LONG = JAVA_LONG.varHandle();

  private final IntFunction<Boolean> liveness;

  /**
   * @param liveness whether a pid names a live process; null if that cannot be told
   */
  RegionInspector(IntFunction<Boolean> liveness) {
    this.liveness = liveness;
  }

  /** An inspector that asks the kernel, once per pid and snapshot. */
  static RegionInspector probingProcesses() {
    return new RegionInspector(RegionInspector::probe);
  }

  /** One object as seen: {@code details} are its fields for JSON, {@code summary} one line. */
  record ObjectReport(
      String name, String type, String summary, Map<String, Object> details, String problem) {
    Map<String, Object> toJson() {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("name", name);
      json.put("type", type);
      json.putAll(details);
      json.put("problem", problem);
      return json;
    }
  }

  /**
   * The whole region as seen. {@code fileWarnings}: what is wrong with the file itself, not its
   * objects (an owner or mode that open refuses, processes still mapping a deleted or replaced
   * earlier file of the path).
   */
  record Snapshot(
      Path file,
      int layoutVersion,
      long size,
      int capacity,
      List<ObjectReport> objects,
      List<String> fileWarnings) {
    boolean hasProblems() {
      return objects.stream().anyMatch(o -> o.problem() != null);
    }

    Map<String, Object> toJson() {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("file", file.toString());
      json.put("layoutVersion", layoutVersion);
      json.put("sizeBytes", size);
      json.put("capacity", capacity);
      json.put("objects", objects.stream().map(ObjectReport::toJson).toList());
      json.put("fileWarnings", fileWarnings);
      return json;
    }
  }

  /**
   * Maps {@code file} read-only and reads it.
   *
   * @throws dev.ringlock.core.InvalidRegionException if it is not a region this version reads
   * @throws NoSuchFileException if there is no such file
   * @throws IOException if it cannot be read
   */
  Snapshot inspect(Path file) throws IOException {
    if (!Files.exists(file)) {
      // Checked here so the message does not depend on how the JDK words a failed open.
      throw new NoSuchFileException(file.toString(), null, "no such file");
    }
    try (MappedRegion region = MappedRegion.openReadOnly(file)) {
      return inspect(region, StaleMappings.find(file));
    }
  }

  Snapshot inspect(MappedRegion region) {
    return inspect(region, List.of());
  }

  /** {@code moreWarnings} join the region's own access warning in {@link Snapshot#fileWarnings}. */
  private Snapshot inspect(MappedRegion region, List<String> moreWarnings) {
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
    return new Snapshot(
        region.file(),
        region.layoutVersion(),
        region.size(),
        region.capacity(),
        reports,
        List.copyOf(fileWarnings));
  }

  /** Whether {@code pid} is alive: pidfd first; /proc if pidfd_open is refused (seccomp). */
  static Boolean probe(int pid) {
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
            new ObjectReport(
                object.name(),
                "unknown",
                "an object of type " + object.type() + ", which this version does not know",
                Map.of("typeCode", object.type(), "bytes", object.length()),
                null);
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
      List<Map<String, Object>> starving = new ArrayList<>();
      for (int i = 0; i < MutexDescriptor.STARVING_SLOTS; i++) {
        int pid = lvInt(base + MutexDescriptor.STARVING_OFFSET + (long) i * Integer.BYTES);
        if (pid < 0 || pid > MutexDescriptor.PID_MASK) {
          problems.add("starving slot " + i + " holds " + Integer.toUnsignedString(pid));
        } else if (pid != 0) {
          starving.add(process(pid));
        }
      }
      if (sleepers < 0) {
        problems.add("sleepers count is " + sleepers);
      }
      if (fence < 0) {
        problems.add("fence is " + Long.toUnsignedString(fence));
      }

      int owner = MutexDescriptor.ownerOf(word);
      boolean ownerDiedBit = (word & MutexDescriptor.OWNER_DIED) != 0;
      boolean notRecoverable = MutexDescriptor.notRecoverable(word);
      Boolean ownerAlive = owner == 0 ? null : alive.apply(owner);
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
      if ((flags & ~SemaphoreDescriptor.KNOWN_FLAGS) != 0) {
        problems.add("unknown flag bits 0x" + Integer.toHexString(flags));
      }
      if (sleepers < 0) {
        problems.add("sleepers count is " + sleepers);
      }
      if (undo && (total < 0 || total > SemaphoreDescriptor.MAX_UNDO_PERMITS)) {
        problems.add("total is " + Integer.toUnsignedString(total));
      }
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
          int pid = HolderTable.pidOf(entry);
          int held = HolderTable.heldOf(entry);
          if (HolderTable.isDamaged(entry)) {
            problems.add(
                "holder entry %d records pid %s holding %s"
                    .formatted(
                        slot, Integer.toUnsignedString(pid), Integer.toUnsignedString(held)));
            settled = false;
            continue;
          }
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
            "the count disagrees with the records: %d available + %d recorded by live holders != total %d"
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
      if (slotBytes != WaitQueueDescriptor.SLOT_BYTES
          || capacity < 1
          || capacity > WaitQueueDescriptor.MAX_CAPACITY
          || WaitQueueDescriptor.bytesFor(capacity) > object.length()) {
        return new ObjectReport(
            object.name(),
            type,
            "damaged",
            Map.of(),
            "its header records %s slots of %s bytes, which do not fit its %d bytes"
                .formatted(
                    Integer.toUnsignedString(capacity),
                    Integer.toUnsignedString(slotBytes),
                    object.length()));
      }
      int waiting = lvInt(base + WaitQueueDescriptor.WAITING_OFFSET);
      int occupied = lvInt(base + WaitQueueDescriptor.OCCUPIED_OFFSET);
      int lockWord = lvInt(base + WaitQueueDescriptor.LIST_LOCK_OFFSET);
      List<String> problems = new ArrayList<>();
      if (waiting < 0 || waiting > capacity) {
        problems.add("waiting count " + waiting + " outside 0.." + capacity);
      }
      if (occupied < 0 || occupied > capacity) {
        problems.add("occupied count " + occupied + " outside 0.." + capacity);
      }
      // Waiting slots per owner: capacity was checked against the object's length above.
      Map<Integer, Integer> waitingByPid = new TreeMap<>();
      int badOwners = 0;
      for (int slot = 0; slot < capacity; slot++) {
        long at = base + WaitQueueDescriptor.slotOffset(slot);
        if (lvInt(at + WaitQueueDescriptor.STATE_OFFSET) != WaitQueueDescriptor.WAITING) {
          continue;
        }
        int owner = lvInt(at + WaitQueueDescriptor.OWNER_OFFSET);
        if (owner <= 0 || owner > MutexDescriptor.PID_MASK) {
          badOwners++;
        } else {
          waitingByPid.merge(owner, 1, Integer::sum);
        }
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
      int lockHolder = MutexDescriptor.ownerOf(lockWord);

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
      if (lockHolder != 0) {
        lockHolderJson = process(lockHolder);
        summary.append("; list lock held by ").append(describe(lockHolderJson));
      }

      Map<String, Object> details = new LinkedHashMap<>();
      details.put("waiting", waiting);
      details.put("capacity", capacity);
      details.put("occupied", occupied);
      details.put("waitingByProcess", byProcess);
      details.put("listLockHolder", lockHolderJson);
      return report(object, type, summary, details, problems);
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
      return new ObjectReport(
          object.name(),
          type,
          "damaged",
          Map.of(),
          "a " + type + " of " + object.length() + " bytes; it needs " + needed);
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
