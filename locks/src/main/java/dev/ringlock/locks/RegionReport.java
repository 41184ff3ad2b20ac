package dev.ringlock.locks;

import dev.ringlock.locks.RegionSnapshot.Counters;
import dev.ringlock.locks.RegionSnapshot.Holder;
import dev.ringlock.locks.RegionSnapshot.MutexSnapshot;
import dev.ringlock.locks.RegionSnapshot.ObjectSnapshot;
import dev.ringlock.locks.RegionSnapshot.Peer;
import dev.ringlock.locks.RegionSnapshot.ReadWriteMutexSnapshot;
import dev.ringlock.locks.RegionSnapshot.SemaphoreSnapshot;
import dev.ringlock.locks.RegionSnapshot.UnreadableObject;
import dev.ringlock.locks.RegionSnapshot.WaitQueueSnapshot;
import dev.ringlock.locks.RegionSnapshot.Waiters;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.IntFunction;

/*
 * Overview
 *
 * Renders a RegionSnapshot as `ringlock inspect` shows it: one summary line per object, and the
 * object's fields as a map for a JSON writer. It reads no memory itself: every value, and every
 * problem, comes from the snapshot (which holds the one validation; see RegionSnapshot), so the
 * text, the JSON and a program using RegionSnapshot directly never disagree.
 */
/**
 * A read-only snapshot of every object of a region file, rendered as {@code ringlock inspect}
 * prints it, with every damage the library would refuse (each as the object's {@link
 * ObjectReport#problem()}). For typed access to the same values, use {@link #snapshot()} or {@link
 * RegionSnapshot#read(Path)}.
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
  private final RegionSnapshot snapshot;
  private final List<ObjectReport> objects;

  private RegionReport(RegionSnapshot snapshot) {
    this.snapshot = snapshot;
    List<ObjectReport> reports = new ArrayList<>();
    for (ObjectSnapshot object : snapshot.objects()) {
      reports.add(render(object));
    }
    this.objects = List.copyOf(reports);
  }

  /**
   * One object as seen.
   *
   * @param name its name, as stored (it may contain any character: escape it before printing)
   * @param type "mutex", "semaphore", "wait queue", "condition variable", or "unknown"
   * @param summary one line saying what it is doing, ending with "[DAMAGED: problem]" if damaged
   * @param details its fields, for JSON: strings, numbers, booleans, null, lists and maps of these
   * @param problem what is damaged, or null if every field is one the library accepts
   * @param counters its counters (totals), or null for an object too damaged to read
   */
  public record ObjectReport(
      String name,
      String type,
      String summary,
      Map<String, Object> details,
      String problem,
      Counters counters) {
    /** Copies {@code details}, keeping their order. */
    public ObjectReport {
      Objects.requireNonNull(name, "name");
      details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
    }

    /**
     * The counters as one line of text ("1,204 acquisitions, 17 contended (mean wait 1.3 ms), 0
     * takeovers"), or null if there are none.
     *
     * @return the line, or null
     */
    public String countersLine() {
      if (counters == null) {
        return null;
      }
      Counters c = counters;
      StringBuilder line =
          new StringBuilder()
              .append(count(c.acquisitions(), acquisitionsName(type)))
              .append(", ")
              .append(
                  count(
                      c.contended(),
                      type.endsWith("queue") || type.startsWith("condition")
                          ? "woken"
                          : "contended"));
      if (c.contended() > 0) {
        line.append(" (mean wait ").append(duration(c.meanWaitNanos())).append(")");
      }
      line.append(", ").append(count(c.takeovers(), "takeovers"));
      if (c.recovered() != 0) {
        line.append(", ")
            .append(
                count(
                    c.recovered(),
                    type.equals("semaphore") ? "permits recovered" : "read holds recovered"));
      }
      if (c.rescuedWaits() != 0) {
        line.append(", ").append(count(c.rescuedWaits(), "waits rescued by the re-check"));
      }
      return line.toString();
    }

    /**
     * Name, type, details and problem, in that order, for a JSON writer.
     *
     * @return the object's report as a map
     */
    public Map<String, Object> toJson() {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("name", name);
      json.put("type", type);
      json.putAll(details);
      if (counters != null) {
        json.put("counters", countersJson(counters));
      }
      json.put("problem", problem);
      return json;
    }
  }

  /** What the acquisitions of an object of {@code type} are called. */
  static String acquisitionsName(String type) {
    return type.endsWith("queue") || type.startsWith("condition") ? "waits" : "acquisitions";
  }

  /** A count as shown: grouped digits, as read (a damaged value is shown as it is). */
  static String count(long value, String what) {
    return "%,d %s".formatted(value, what);
  }

  /**
   * A duration in nanoseconds, in the unit that reads best: "850 ns", "12.5 us", "1.3 ms", "2.0 s".
   *
   * @param nanos the duration
   * @return the text
   */
  public static String duration(long nanos) {
    if (nanos < 1_000) {
      return nanos + " ns";
    } else if (nanos < 1_000_000) {
      return "%.1f us".formatted(nanos / 1e3);
    } else if (nanos < 1_000_000_000) {
      return "%.1f ms".formatted(nanos / 1e6);
    }
    return "%.1f s".formatted(nanos / 1e9);
  }

  private static Map<String, Object> countersJson(Counters c) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("acquisitions", c.acquisitions());
    json.put("contended", c.contended());
    json.put("waitNanos", c.waitNanos());
    json.put("takeovers", c.takeovers());
    json.put("recovered", c.recovered());
    json.put("rescuedWaits", c.rescuedWaits());
    return json;
  }

  /**
   * The report of a snapshot already taken.
   *
   * @param snapshot the snapshot to report
   * @return the report
   */
  public static RegionReport of(RegionSnapshot snapshot) {
    return new RegionReport(Objects.requireNonNull(snapshot, "snapshot"));
  }

  /**
   * Maps {@code file} read-only and reads it, asking the kernel whether each pid is alive.
   *
   * @param file the region file
   * @return the report
   * @throws dev.ringlock.core.InvalidRegionException if it is not a region this version reads, or
   *     its header or directory is damaged ({@link
   *     dev.ringlock.core.InvalidRegionException.Problem#CORRUPT} and others)
   * @throws NoSuchFileException if there is no such file
   * @throws IOException if it is not a regular file, or cannot be read
   */
  public static RegionReport read(Path file) throws IOException {
    return of(RegionSnapshot.read(file));
  }

  /**
   * As {@link #read(Path)}, with {@code liveness} saying whether a pid names a live process (null:
   * cannot tell). It is asked at most once per pid.
   *
   * @param file the region file
   * @param liveness whether a pid is alive: true, false, or null when it cannot tell
   * @return the report
   * @throws IOException as {@link #read(Path)}
   */
  public static RegionReport read(Path file, IntFunction<Boolean> liveness) throws IOException {
    return of(RegionSnapshot.read(file, liveness));
  }

  /**
   * The typed values this report renders.
   *
   * @return the snapshot
   */
  public RegionSnapshot snapshot() {
    return snapshot;
  }

  /**
   * The region file.
   *
   * @return the region file
   */
  public Path file() {
    return snapshot.file();
  }

  /**
   * The layout version the file's header records.
   *
   * @return the layout version
   */
  public int layoutVersion() {
    return snapshot.layoutVersion();
  }

  /**
   * The region's size in bytes.
   *
   * @return the size in bytes
   */
  public long size() {
    return snapshot.size();
  }

  /**
   * How many objects its directory holds.
   *
   * @return the directory's capacity
   */
  public int capacity() {
    return snapshot.capacity();
  }

  /**
   * Every object, in creation order.
   *
   * @return the objects
   */
  public List<ObjectReport> objects() {
    return objects;
  }

  /**
   * As {@link RegionSnapshot#fileWarnings()}: warnings, not damage.
   *
   * @return the warnings
   */
  public List<String> fileWarnings() {
    return snapshot.fileWarnings();
  }

  /**
   * Whether any object is damaged.
   *
   * @return true if some object is damaged
   */
  public boolean hasProblems() {
    return snapshot.hasProblems();
  }

  /**
   * The whole report, for a JSON writer.
   *
   * @return the report as nested maps and lists
   */
  public Map<String, Object> toJson() {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("file", file().toString());
    json.put("layoutVersion", layoutVersion());
    json.put("sizeBytes", size());
    json.put("capacity", capacity());
    json.put("objects", objects.stream().map(ObjectReport::toJson).toList());
    json.put("fileWarnings", fileWarnings());
    return json;
  }

  // ---- rendering: one summary line and a map of fields per object ----

  private static ObjectReport render(ObjectSnapshot object) {
    return switch (object) {
      case MutexSnapshot mutex -> mutex(mutex);
      case ReadWriteMutexSnapshot lock -> readWriteMutex(lock);
      case SemaphoreSnapshot semaphore -> semaphore(semaphore);
      case WaitQueueSnapshot queue -> waitQueue(queue);
      case UnreadableObject unreadable -> unreadable(unreadable);
    };
  }

  private static ObjectReport mutex(MutexSnapshot m) {
    Peer owner = m.owner();
    StringBuilder summary = new StringBuilder();
    if (m.notRecoverable()) {
      summary.append("NOT RECOVERABLE: every acquisition fails (NotRecoverableException)");
    } else if (owner == null) {
      summary.append("free");
    } else {
      summary.append("held by ").append(describe(owner));
      if (m.ownerDied()) {
        summary.append(", taken over from a dead owner and not yet marked consistent");
      }
      if (Boolean.FALSE.equals(owner.alive())) {
        summary.append(" (the next acquirer takes it over and sees ownerDied)");
      }
    }
    if (!m.notRecoverable() && owner != null) {
      summary.append(m.consistent() ? ", consistent" : ", NOT consistent");
    }
    summary.append(", last fence ").append("%,d".formatted(m.lastFence()));
    // A process killed in its wait leaves the count one too high for good; nobody sleeps for long
    // without the waiters bit (a release that clears it ends the waits), so the bit gates it.
    if (m.waitersBit() && m.sleepers() > 0) {
      summary.append(", ").append(plural(m.sleepers(), "process", "processes")).append(" sleeping");
    }
    if (m.waitersBit()) {
      summary.append(", waiters bit set");
    }
    if (!m.starving().isEmpty()) {
      List<String> described = new ArrayList<>();
      m.starving().forEach(p -> described.add(describe(p)));
      summary.append(", starving: ").append(String.join(", ", described));
    }

    Map<String, Object> details = new LinkedHashMap<>();
    details.put("state", m.state());
    details.put("ownerPid", owner == null ? null : owner.pid());
    details.put("ownerAlive", owner == null ? null : owner.alive());
    details.put("consistent", m.consistent());
    details.put("ownerDied", m.ownerDied());
    details.put("notRecoverable", m.notRecoverable());
    details.put("waitersBit", m.waitersBit());
    details.put("sleepers", m.sleepers());
    details.put("lastFence", m.lastFence());
    details.put("starving", m.starving().stream().map(RegionReport::process).toList());
    details.put("word", "0x%08x".formatted(m.word()));
    return report(m, summary, details, m.counters());
  }

  private static ObjectReport readWriteMutex(ReadWriteMutexSnapshot rw) {
    Peer writer = rw.writer();
    StringBuilder summary = new StringBuilder();
    if (rw.notRecoverable()) {
      summary.append("NOT RECOVERABLE: every acquisition fails (NotRecoverableException)");
    } else if (writer != null) {
      summary.append(rw.pending() ? "claimed by writer " : "written by ").append(describe(writer));
      if (rw.pending()) {
        summary.append(", waiting for readers to leave");
      }
      if (rw.ownerDied()) {
        summary.append(", taken over from a dead writer and not yet marked consistent");
      }
      if (Boolean.FALSE.equals(writer.alive())) {
        summary.append(
            rw.pending()
                ? " (its claim is dropped at the next look)"
                : " (the next writer takes it over and sees ownerDied)");
      }
    } else if (rw.ownerDied()) {
      summary.append("a writer DIED holding it: reads fail until a writer repairs it");
    } else {
      summary.append(rw.readHolds() > 0 ? "read" : "free");
    }
    summary.append(", ").append(plural((int) rw.readHolds(), "read hold", "read holds"));
    // Readers by pid: a process has a record per view that reads (two SharedRegions of the file,
    // two records), summed here into one entry, in the order of its first record.
    Map<Integer, List<RegionSnapshot.ReaderRecord>> byPid = new LinkedHashMap<>();
    for (RegionSnapshot.ReaderRecord reader : rw.readers()) {
      if (reader.holds() > 0 || reader.waiting() || reader.starving()) {
        byPid.computeIfAbsent(reader.process().pid(), pid -> new ArrayList<>()).add(reader);
      }
    }
    List<String> readers = new ArrayList<>();
    for (List<RegionSnapshot.ReaderRecord> records : byPid.values()) {
      readers.add(
          describe(records.getFirst().process())
              + " x"
              + records.stream().mapToLong(RegionSnapshot.ReaderRecord::holds).sum()
              + (records.size() > 1 ? " in " + records.size() + " views" : "")
              + (records.stream().anyMatch(RegionSnapshot.ReaderRecord::waiting)
                  ? " (readers waiting)"
                  : "")
              + (records.stream().anyMatch(RegionSnapshot.ReaderRecord::starving)
                  ? " (writer starving)"
                  : ""));
    }
    if (!readers.isEmpty()) {
      summary.append(": ").append(String.join(", ", readers));
    }
    summary.append(", last fence ").append("%,d".formatted(rw.lastFence()));
    if (rw.sleepers() > 0) {
      summary
          .append(", ")
          .append(plural(rw.sleepers(), "process", "processes"))
          .append(" sleeping");
    }
    if (rw.waitersBit()) {
      summary.append(", waiters bit set");
    }

    Map<String, Object> details = new LinkedHashMap<>();
    details.put("state", rw.state());
    details.put("writerPid", writer == null ? null : writer.pid());
    details.put("writerAlive", writer == null ? null : writer.alive());
    details.put("pending", rw.pending());
    details.put("ownerDied", rw.ownerDied());
    details.put("notRecoverable", rw.notRecoverable());
    details.put("readHolds", rw.readHolds());
    details.put(
        "readers",
        rw.readers().stream()
            .map(
                reader -> {
                  Map<String, Object> entry = new LinkedHashMap<>();
                  entry.put("pid", reader.process().pid());
                  entry.put("alive", reader.process().alive());
                  entry.put("holds", reader.holds());
                  entry.put("waiting", reader.waiting());
                  entry.put("starving", reader.starving());
                  return entry;
                })
            .toList());
    details.put("waitersBit", rw.waitersBit());
    details.put("sleepers", rw.sleepers());
    details.put("lastFence", rw.lastFence());
    details.put("word", "0x%08x".formatted(rw.word()));
    return report(rw, summary, details, rw.counters());
  }

  private static ObjectReport semaphore(SemaphoreSnapshot s) {
    StringBuilder summary = new StringBuilder(plural(s.permits(), "permit", "permits"));
    summary.append(" available");
    if (s.undoOnExit()) {
      summary.append(" of ").append(s.total());
    }
    if (s.waitersBit() && s.sleepers() > 0) { // gated as a mutex's count is
      summary.append(", ").append(plural(s.sleepers(), "process", "processes")).append(" sleeping");
    }
    if (s.waitersBit()) {
      summary.append(", waiters bit set");
    }
    if (s.repairing()) {
      summary.append(", being repaired by pid ").append(s.repairer());
    }
    if (!s.undoOnExit()) {
      summary.append(", no undo on exit");
    } else if (s.holders().isEmpty()) {
      summary.append(", no holders");
    } else {
      List<String> described = new ArrayList<>();
      for (Holder holder : s.holders()) {
        described.add(
            describe(holder.process())
                + " holds "
                + holder.permits()
                + (holder.busy() ? " (busy)" : ""));
      }
      summary.append(", holders: ").append(String.join(", ", described));
    }
    if (!s.countAgreesWithRecords() && !s.recordsSettled()) {
      summary.append(
          ", count and records differ by %d until the next repair"
              .formatted(s.total() - s.permits() - s.recorded()));
    }

    Map<String, Object> details = new LinkedHashMap<>();
    details.put("permits", s.permits());
    details.put("waitersBit", s.waitersBit());
    details.put("sleepers", s.sleepers());
    details.put("undoOnExit", s.undoOnExit());
    if (s.undoOnExit()) {
      details.put("total", s.total());
      details.put("recorded", s.recorded());
      details.put("repairing", s.repairing());
      details.put("repairer", s.repairer());
      details.put("countAgreesWithRecords", s.countAgreesWithRecords());
    }
    List<Map<String, Object>> holders = new ArrayList<>();
    for (Holder holder : s.holders()) {
      Map<String, Object> json = process(holder.process());
      json.put("slot", holder.slot());
      json.put("permits", holder.permits());
      json.put("busy", holder.busy());
      holders.add(json);
    }
    details.put("holders", holders);
    return report(s, summary, details, s.counters());
  }

  private static ObjectReport waitQueue(WaitQueueSnapshot q) {
    StringBuilder summary =
        new StringBuilder().append(q.waiting()).append(" waiting of ").append(q.capacity());
    if (!q.waitingByProcess().isEmpty()) {
      List<String> described = new ArrayList<>();
      for (Waiters waiters : q.waitingByProcess()) {
        described.add(describe(waiters.process()) + ": " + waiters.waiting());
      }
      summary.append("; by process: ").append(String.join(", ", described));
    }
    if (q.listLockHolder() != null) {
      summary.append("; list lock held by ").append(describe(q.listLockHolder()));
    }

    Map<String, Object> details = new LinkedHashMap<>();
    details.put("waiting", q.waiting());
    details.put("capacity", q.capacity());
    details.put("occupied", q.occupied());
    List<Map<String, Object>> byProcess = new ArrayList<>();
    for (Waiters waiters : q.waitingByProcess()) {
      Map<String, Object> json = process(waiters.process());
      json.put("waiting", waiters.waiting());
      byProcess.add(json);
    }
    details.put("waitingByProcess", byProcess);
    details.put("wokenNotTaken", q.wokenNotTaken());
    details.put("wakeSequence", q.wakeSequence());
    details.put("processesAsleep", q.processesAsleep());
    details.put("listLockHolder", q.listLockHolder() == null ? null : process(q.listLockHolder()));
    details.put("listLockWord", "0x%08x".formatted(q.listLockWord()));
    return report(q, summary, details, q.counters());
  }

  /** An object too damaged to read any further. */
  private static ObjectReport unreadable(UnreadableObject u) {
    String problem = String.join("; ", u.problems());
    Map<String, Object> details =
        u.type().equals("unknown")
            ? Map.of("typeCode", u.typeCode(), "bytes", u.bytes())
            : Map.of();
    return new ObjectReport(
        u.name(), u.type(), "[DAMAGED: " + problem + "]", details, problem, null);
  }

  private static ObjectReport report(
      ObjectSnapshot object, CharSequence summary, Map<String, Object> details, Counters counters) {
    String problem = object.problems().isEmpty() ? null : String.join("; ", object.problems());
    return new ObjectReport(
        object.name(),
        object.type(),
        problem == null ? summary.toString() : summary + " [DAMAGED: " + problem + "]",
        details,
        problem,
        counters);
  }

  private static Map<String, Object> process(Peer peer) {
    Map<String, Object> process = new LinkedHashMap<>();
    process.put("pid", peer.pid());
    process.put("alive", peer.alive());
    return process;
  }

  private static String describe(Peer peer) {
    String liveness = peer.alive() == null ? "liveness unknown" : peer.alive() ? "alive" : "DEAD";
    return "pid " + peer.pid() + " (" + liveness + ")";
  }

  static String plural(long count, String one, String many) {
    return count + " " + (count == 1 ? one : many);
  }
}
